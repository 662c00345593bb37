#!/bin/sh
# Here-documents: expanded, quoted, with tabs stripped, into pipelines.
name=world
cat <<END
hello $name
sum $((2 + 3))
cmd $(echo substituted)
END
cat <<'END'
not expanded: $name $(echo no)
END
cat <<-END
	tabs stripped
		one left
	END
tr a-z A-Z <<END | rev
shout $name
END
while read -r a b; do echo "$b $a"; done <<END
1 one
2 two
END
big=$(cat <<END
$(seq 1 200)
END
)
echo "$big" | wc -l
