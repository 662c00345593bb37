#!/bin/sh
# sort | uniq -c: counting words, numeric and keyed sorts.
printf 'pear\napple\npear\nfig\napple\npear\n' | sort | uniq -c
printf 'pear\napple\npear\nfig\napple\npear\n' | sort | uniq -c | sort -rn | head -n 1
printf '10\n9\n100\n1\n' | sort -n
printf '10\n9\n100\n1\n' | sort
printf 'b 2\na 3\nc 1\n' | sort -k2,2n
printf 'x\nx\ny\nx\n' | uniq
printf 'x\nx\ny\nz\nz\n' | uniq -d
printf 'x\nx\ny\nz\nz\n' | uniq -u
printf 'B\na\nC\nb\n' | sort -f
seq 1 1000 | sort -rn | sort -n | md5sum
printf 'one two\nthree\nfour five six\n' | tr ' ' '\n' | sort -u | wc -l
