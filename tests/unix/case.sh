#!/bin/sh
# case: literal words, globs, alternatives, character classes, fallthrough to *.
classify() {
    case "$1" in
        "") echo "empty" ;;
        start|begin) echo "$1: a start" ;;
        *.txt) echo "$1: text file" ;;
        [0-9]|[0-9][0-9]) echo "$1: small number" ;;
        [!a-z]*) echo "$1: starts with no lower-case letter" ;;
        ?) echo "$1: one character" ;;
        *) echo "$1: something else" ;;
    esac
}
for w in "" start begin notes.txt 7 42 123 x Zebra hello; do
    classify "$w"
done
case abc in a*c) echo glob matched ;; esac
case "a b" in "a b") echo quoted space matched ;; esac
pat='*.sh'
case run.sh in $pat) echo pattern from a variable ;; esac
