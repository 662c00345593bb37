#!/bin/sh
# wait: for one job, for all, and the statuses of jobs that exit or die.
(sleep 0.2; exit 3) &
p1=$!
(exit 5) &
p2=$!
wait $p1
echo "first: $?"
wait $p2
echo "second: $?"
for i in 1 2 3; do
    (sleep 0.1; echo "job $i" > job$i.txt) &
done
wait
cat job1.txt job2.txt job3.txt
sh -c 'kill -9 $$' &
wait $!
echo "killed: $?"
wait
echo "nothing left: $?"
