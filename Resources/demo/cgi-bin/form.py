#!/usr/bin/env python3
"""A form that echoes back what was posted (urlencoded fields, or the raw body for anything else)."""
import html
import os
import sys
from urllib.parse import parse_qsl

method = os.environ.get("REQUEST_METHOD", "GET")
length = int(os.environ.get("CONTENT_LENGTH") or 0)
body = sys.stdin.buffer.read(length) if length else b""
kind = os.environ.get("CONTENT_TYPE", "")

print("Content-Type: text/html; charset=utf-8")
print()
print("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Form echo</title>")
print("<link rel='stylesheet' href='/css/site.css'></head><body><h1>Form echo</h1>")
print("<form method='post'><p><label>Name <input name='name'></label></p>")
print("<p><label>Message <textarea name='message'></textarea></label></p>")
print("<p><button>Send</button></p></form>")
if method == "POST":
    print(f"<h2>You posted {len(body)} bytes ({html.escape(kind or 'no type')})</h2>")
    if kind.startswith("application/x-www-form-urlencoded"):
        print("<table>")
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            print(f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>")
        print("</table>")
    else:
        print(f"<pre>{html.escape(body.decode('utf-8', 'replace'))}</pre>")
print("<p><a href='/'>back</a></p></body></html>")
