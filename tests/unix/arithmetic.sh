#!/bin/sh
# Arithmetic: operators, precedence, bases, comparisons, expr, bc-free math.
echo $((1 + 2 * 3))
echo $(( (1 + 2) * 3 ))
echo $((17 / 5)) $((17 % 5)) $((-17 / 5)) $((-17 % 5))
echo $((2 ** 10)) 2>/dev/null || echo no-power
echo $((0x1f)) $((010)) $((1 << 10)) $((1024 >> 3))
echo $((5 & 3)) $((5 | 3)) $((5 ^ 3)) $((~0))
echo $((3 > 2)) $((3 < 2)) $((3 == 3)) $((3 != 3)) $((!0))
echo $((1 && 0)) $((1 || 0))
x=5
echo $((x += 3)) $x
echo $((x > 7 ? 100 : 200))
echo $((9223372036854775807 + 0))
expr 6 \* 7
expr 100 / 7
expr length hello
expr 3 \< 5
printf '%d %x %o %05d\n' 255 255 255 42
seq -s + 1 10 | sed 's/+/ + /g'
echo $(( $(seq -s + 1 100) ))
