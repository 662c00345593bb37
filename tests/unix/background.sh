#!/bin/sh
# Background jobs: several at once writing files, pipelines in the background.
for n in 1 2 3 4 5; do
    ( i=0; while [ $i -lt 200 ]; do i=$((i+1)); done; echo "$n counted $i" > bg$n.txt ) &
done
wait
cat bg1.txt bg2.txt bg3.txt bg4.txt bg5.txt
seq 1 500 | sort -rn | head -n 1 > piped.txt &
wait
cat piped.txt
{ echo group; echo in background; } > group.txt &
wait
cat group.txt
sleep 10 &
kill $!
wait $! 2>/dev/null
echo "sleep killed: $?"
