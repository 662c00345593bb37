#!/bin/sh
# find | xargs: a tree walked, names filtered and handed to commands.
mkdir -p tree/x/y tree/z
for f in tree/a.txt tree/x/b.txt tree/x/y/c.log tree/z/d.txt tree/z/e.log; do
    echo "$f" > "$f"
done
find tree -type f | sort
find tree -name '*.txt' | sort | xargs cat
find tree -type d | sort | xargs -n 1 basename
find tree -name '*.log' -print0 | xargs -0 wc -c | sort
find tree -type f | xargs -I{} sh -c 'echo "file: {}"' | sort
find tree -newer tree/a.txt -name nothing
find tree -type f -name '*.log' -exec rm {} \;
find tree -type f | wc -l
echo a b c d e f | xargs -n 2
