#!/bin/sh
# Command substitution: $(...), backquotes, nesting, trailing newlines.
a=$(echo hello)
echo "a=$a"
b=`echo back quoted`
echo "b=$b"
c=$(echo $(echo $(echo nested)))
echo "c=$c"
d=$(printf 'x\n\n\n')
echo "d=[$d]"
e=$(exit 3)
echo "status of \$(exit 3): $?"
f=$(seq 1 5 | tr '\n' ' ')
echo "f=$f"
echo "count: $(ls / >/dev/null; echo $(( $(echo 20) + 22 )))"
x=$(echo)
echo "empty: [$x]"
for i in 1 2 3 4 5 6 7 8 9 10; do v=$(echo $i); done
echo "last: $v"
