#!/bin/sh
# SIGPIPE: a writer whose reader is gone dies of it; output stays complete.
yes | head -n 3
seq 1 100000 | head -n 2
yes hello | sed 2q
cat /dev/zero | head -c 16 | od -An -tx1
sh -c 'yes | head -n 1; echo "pipeline status $?"'
seq 1 100 | { head -n 1; }
echo still here
