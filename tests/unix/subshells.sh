#!/bin/sh
# Subshells: their variables, directories and exits stay inside.
x=outer
( x=inner; echo "in subshell: $x" )
echo "after subshell: $x"
mkdir -p sub/dir
( cd sub/dir && pwd | sed 's|.*/sub|/sub|' )
pwd | sed 's|.*/||'
( exit 7 )
echo "subshell exit: $?"
( ( ( echo nested three deep ) ) )
y=$( ( echo a; echo b ) | wc -l )
echo "lines: $y"
{ z=braces; }
echo "braces keep: $z"
( set -e; false; echo not reached )
echo "set -e subshell: $?"
