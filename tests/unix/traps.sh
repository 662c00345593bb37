#!/bin/sh
# Traps: EXIT, signals sent to the shell itself, reset and ignore.
trap 'echo exit trap runs' EXIT
trap 'echo got USR1' USR1
kill -USR1 $$
echo after USR1
trap 'echo got TERM' TERM
kill -TERM $$
echo after TERM
trap '' USR2
kill -USR2 $$
echo USR2 ignored
trap - USR1
( trap 'echo subshell exit trap' EXIT; echo in subshell )
sh -c 'trap "echo child got INT; exit 5" INT; kill -INT $$; echo not reached'
echo "child status: $?"
exit 4
