#!/usr/bin/env python3
"""Shows the CGI environment this request got (RFC 3875 meta-variables and HTTP_* headers)."""
import html
import os

print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html><html><head><meta charset='utf-8'><title>CGI environment</title>")
print("<link rel='stylesheet' href='/css/site.css'></head><body>")
print("<h1>CGI environment</h1><table>")
for name in sorted(os.environ):
    print(f"<tr><th>{html.escape(name)}</th><td><code>{html.escape(os.environ[name])}</code></td></tr>")
print("</table><p><a href='/'>back</a></p></body></html>")
