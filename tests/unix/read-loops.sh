#!/bin/sh
# read loops: line by line, fields split by IFS, from pipes and files.
printf 'root:x:0\ndaemon:x:1\nuser:x:1000\n' > users
while IFS=: read -r name pw id; do
    echo "$id $name"
done < users
n=0
seq 1 50 | while read -r line; do n=$((n+line)); [ $line -eq 50 ] && echo "sum in pipe $n"; done
total=0
while read -r value; do total=$((total + value)); done <<END
3
4
5
END
echo "total $total"
printf 'a b c d\n' | { read -r first rest; echo "first=$first rest=$rest"; }
printf 'no newline at end' | { read -r l; echo "status $? line=$l"; }
printf '  spaced  \n' | { read -r l; echo "[$l]"; }
printf '  spaced  \n' | { IFS= read -r l; echo "[$l]"; }
printf 'back\\slash\n' | { read l; echo "$l"; }
printf 'x\ny\nz\n' | while read -r c; do printf '%s-' "$c"; done
echo
