#!/bin/sh
# Sets its own status: 418, which python's CGI handler could never send (it always sent 200 first).
printf 'Status: 418 I'"'"'m a teapot\r\n'
printf 'Content-Type: text/plain; charset=utf-8\r\n'
printf '\r\n'
printf 'I am a teapot. Short and stout.\n'
