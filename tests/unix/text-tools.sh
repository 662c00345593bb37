#!/bin/sh
# Text tools in pipelines: sed, awk, grep, cut, tr, head, tail, paste.
seq 1 10 > nums
sed -n '3,5p' nums | tr '\n' ' '
echo
sed 's/1/one/g' nums | head -n 3
awk '{ s += $1 } END { print "awk sum", s }' nums
awk -F: '{ print $2 "-" $1 }' <<END
a:b
c:d
END
grep -E '^(2|4|6)$' nums | paste -s -d ,
grep -c . nums
echo "alpha beta gamma" | cut -d ' ' -f 2
echo "abcdef" | cut -c 2-4
tail -n 2 nums | tr '\n' ' '
echo
printf 'x y\n' | awk '{ printf "%s|%s|%d\n", $2, $1, NF }'
echo hello world | sed -e 's/\(hello\) \(world\)/\2 \1/'
printf 'MiXeD\n' | tr 'A-Z' 'a-z'
printf 'a\tb\n' | expand -t 4 | od -c | head -n 1
