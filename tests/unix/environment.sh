#!/bin/sh
# The environment: export, inheritance by children, unset, positional parameters.
export GREETING=hi
sh -c 'echo "child sees $GREETING"'
LOCAL_ONLY=1
sh -c 'echo "child sees [${LOCAL_ONLY}]"'
ONE_SHOT=yes sh -c 'echo "one shot $ONE_SHOT"'
echo "after one shot [${ONE_SHOT}]"
unset GREETING
sh -c 'echo "after unset [${GREETING}]"'
set -- a "b c" d
echo "$# args: $1|$2|$3"
shift
echo "after shift: $*"
echo "${UNSET_VAR:-default} ${UNSET_VAR:=assigned} $UNSET_VAR"
s=abcdef
echo "${#s} ${s#ab} ${s%ef} ${s##*c} ${s%%d*}"
env -i /bin/sh -c 'echo "empty env: [$GREETING]"'
id -u
id -un
