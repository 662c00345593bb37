#!/bin/sh
# Redirections: >, >>, <, 2>&1, here-strings through files, exec on fds.
echo first > out.txt
echo second >> out.txt
cat < out.txt
wc -l < out.txt
{ echo to-stdout; echo to-stderr >&2; } 2>&1 | sort
{ echo kept; echo dropped >&2; } 2>/dev/null
ls no-such-file > err.txt 2>&1
echo "ls status: $?"
grep -c 'No such file' err.txt
exec 3> fd3.txt
echo via-fd3 >&3
echo again >&3
exec 3>&-
cat fd3.txt
exec 4< out.txt
read -r line <&4
echo "read from fd 4: $line"
exec 4<&-
: > empty.txt
wc -c < empty.txt
cat out.txt nonexistent 2>/dev/null
echo "cat status: $?"
