#!/bin/sh
# Streams one line a second for ten seconds: watch it arrive in curl and in the dashboard.
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
i=1
while [ "$i" -le 10 ]; do
    printf 'line %d of 10 at %s\n' "$i" "$(date +%H:%M:%S)"
    echo "slow.sh wrote line $i" >&2
    i=$((i + 1))
    [ "$i" -le 10 ] && sleep 1
done
