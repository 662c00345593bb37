#!/bin/sh
# kill: signals by name and number, kill -0, and how children die of them.
sleep 30 &
pid=$!
kill -0 $pid && echo "alive"
kill $pid
wait $pid
echo "TERM: $?"
sleep 30 &
kill -KILL $!
wait $!
echo "KILL: $?"
sleep 30 &
kill -s INT $!
wait $!
echo "INT: $?"
sh -c 'trap "echo trapped HUP" HUP; kill -HUP $$; echo "after HUP"'
kill -l 15
kill -l TERM
kill -0 999999 2>/dev/null
echo "no such process: $?"
