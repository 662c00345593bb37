#!/bin/sh
# Functions: arguments, return values, locals, recursion, redefinition.
greet() { echo "hello $1, $# arguments"; }
greet alice
greet bob carol
status() { return $1; }
status 3
echo "returned $?"
fact() {
    if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); fi
}
fact 10
counter=0
bump() { counter=$((counter+1)); }
bump; bump; bump
echo "counter $counter"
scoped() { local v=inner; echo "in: $v"; }
v=outer
scoped
echo "out: $v"
args() { for a in "$@"; do printf '[%s]' "$a"; done; echo; }
args "one two" three "" four
fib() { if [ $1 -lt 2 ]; then echo $1; else echo $(( $(fib $(($1-1))) + $(fib $(($1-2))) )); fi; }
fib 12
greet() { echo "redefined"; }
greet x
