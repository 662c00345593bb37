#!/bin/sh
# File operations: create, copy, move, link, remove, list, test, permissions.
mkdir -p a/b/c
echo content > a/b/c/file
cp a/b/c/file a/copy
mv a/copy a/moved
ln -s moved a/link
ln a/moved a/hard
cat a/link
ls a | sort
[ -L a/link ] && echo "link is a symlink"
[ -f a/hard ] && echo "hard is a file"
readlink a/link
chmod 700 a/moved
[ -x a/moved ] && echo "moved is executable"
stat -c '%s %A %n' a/moved
touch a/empty
[ -s a/empty ] || echo "empty is empty"
rm a/hard
[ -e a/hard ] || echo "hard removed"
rmdir a/b 2>/dev/null || echo "rmdir of a full directory fails"
rm -r a/b
ls a | sort | tr '\n' ' '
echo
cp -r a b
diff -r a b && echo "copies are equal"
mkdir d1 && mv d1 d2 && ls -d d2
echo 12345 > trunc && truncate -s 2 trunc && cat trunc && echo
du -s a > /dev/null && echo du works
