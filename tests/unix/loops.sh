#!/bin/sh
# Long-running loops: many iterations of arithmetic, tests and commands.
i=0
sum=0
while [ $i -lt 20000 ]; do
    i=$((i+1))
    sum=$((sum+i))
done
echo "sum 1..20000 = $sum"
n=0
for x in $(seq 1 300); do
    n=$(expr $n + $x)
done
echo "expr sum = $n"
count=0
until [ $count -ge 100 ]; do
    count=$((count + 1))
    [ $((count % 25)) -eq 0 ] && echo "at $count"
done
j=0
while true; do
    j=$((j+1))
    [ $j -eq 50 ] && break
    [ $((j % 2)) -eq 0 ] && continue
done
echo "broke at $j"
for a in 1 2 3; do for b in x y; do printf '%s%s ' $a $b; done; done
echo
