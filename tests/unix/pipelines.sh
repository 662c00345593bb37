#!/bin/sh
# Pipelines: data through several processes, the status of the last, `!`.
echo "one two three" | tr ' ' '\n' | sort | tr '\n' ','
echo
printf 'a\nb\nc\nd\n' | grep -v b | wc -l
seq 1 100 | grep 7 | head -n 5 | tail -n 2
echo hello | cat | cat | cat | rev
false | true
echo "status of false | true: $?"
true | false
echo "status of true | false: $?"
! false
echo "status of ! false: $?"
seq 1 2000 | sort -rn | head -n 3
echo done
