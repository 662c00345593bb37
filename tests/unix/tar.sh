#!/bin/sh
# tar round trips: create, list, extract, compress, and compare.
mkdir -p src/sub
seq 1 1000 > src/numbers
echo hello > src/sub/hello
printf 'binary\000zero\n' > src/sub/bin
tar cf archive.tar src
tar tf archive.tar | sort
mkdir out
tar xf archive.tar -C out
diff -r src out/src && echo "plain round trip equal"
tar czf archive.tgz src
mkdir outz
tar xzf archive.tgz -C outz
cmp src/numbers outz/src/numbers && echo "gzip round trip equal"
gzip -c src/numbers | gunzip -c | md5sum
bzip2 -c src/numbers | bunzip2 -c | wc -l
tar cf - src | (cd out && rm -rf src && tar xf -)
md5sum out/src/numbers out/src/sub/hello | sed 's|out/||'
tar tvf archive.tar >/dev/null && echo "verbose listing works"
