#!/bin/sh
# Devices and /proc: /dev/null, /dev/zero, /dev/urandom, and procfs basics.
dd if=/dev/zero bs=512 count=4 2>/dev/null | wc -c
head -c 100 /dev/urandom | wc -c
echo discarded > /dev/null && echo "null swallows"
wc -c < /dev/null
dd if=/dev/zero of=zeros bs=1024 count=8 2>/dev/null
wc -c < zeros
od -An -tx1 -N 4 zeros
[ -d /proc/self ] && echo "proc has self"
[ "$(readlink /proc/self/exe)" = /bin/busybox ] && echo "self exe is busybox"
grep -c MemTotal /proc/meminfo
[ -r /proc/uptime ] && echo "uptime readable"
