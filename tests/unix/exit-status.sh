#!/bin/sh
# Exit statuses: of commands, of a missing command, of set -e, and the script's own.
true; echo "true $?"
false; echo "false $?"
no-such-command 2>/dev/null; echo "missing command $?"
sh -c 'exit 42'; echo "sh -c exit 42: $?"
sh -c 'kill -TERM $$'; echo "died of TERM: $?"
test 1 -eq 2; echo "test $?"
grep -q nothing /dev/null; echo "grep no match $?"
if false; then :; else echo "else branch"; fi
false || echo "or runs"
true && echo "and runs"
sh -c 'set -e; true; false; echo not reached'; echo "set -e: $?"
echo "about to exit 3"
exit 3
