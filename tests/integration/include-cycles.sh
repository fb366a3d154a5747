#!/bin/sh
# No include cycles among crier's modules (issue 14): fails when the
# modules under daemon/ and common/ include each other in a loop.
#
# A module is a .c file and its .h; a header without a .c of its own
# belongs to the .c files that define the functions it declares (so the
# old crierd.h, declared for everyone and defined in main.c, counted as
# main). An edge goes from a module to every module whose header it
# includes; tsort(1) names any loop. A folder of its own under daemon/
# (daemon/calendar/) is one module: its files share a private header. Before the real tree, the check is
# run on a small tree with a known loop and must find it.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
tmp=$(mktemp -d /tmp/crier-cycles.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# The modules header $1 belongs to, one a line (run inside the tree).
owners() {
	base=${1%.h}
	if [ -f "$base.c" ]; then
		echo "$base"
		return
	fi
	sed -n -e '/^[[:space:]]*\(\/\*\|\*\|#\|typedef\)/d' \
	    -e 's/^.*[^A-Za-z0-9_]\([a-z_][a-z0-9_]*\)(.*$/\1/p' \
	    -e 's/^\([a-z_][a-z0-9_]*\)(.*$/\1/p' "$1" | sort -u |
	while read -r fn; do
		grep -l "^$fn(" $(find daemon common -name '*.c') 2>/dev/null |
		    sed 's/\.c$//'
	done | sort -u
}

# Checks the tree in $1; prints the loop and fails if there is one.
check_tree() {
	(
	cd "$1"
	files=$(find daemon common -name '*.[ch]' 2>/dev/null | sort)
	[ -n "$files" ] || { echo "no sources under $1" >&2; exit 1; }
	: >"$tmp/edges"
	for f in $files; do
		dir=$(dirname "$f")
		from=${f%.[ch]}
		case $f in *.h)
			from=$(owners "$f" | head -1)
			[ -n "$from" ] || from=${f%.h} ;;
		esac
		sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
		while read -r inc; do
			h=$(realpath -m --relative-to=. "$dir/$inc")
			[ -f "$h" ] || continue
			to=$(owners "$h")
			[ -n "$to" ] || to=${h%.h}
			for t in $to; do
				[ "$t" = "$from" ] || echo "$from $t"
			done
		done >>"$tmp/edges"
	done
	sed -E 's#daemon/(calendar)/[^ ]*#daemon/\1#g' "$tmp/edges" |
	    awk '$1 != $2' >"$tmp/edges.m"
	mv "$tmp/edges.m" "$tmp/edges"
	sort -u -o "$tmp/edges" "$tmp/edges"
	if ! tsort "$tmp/edges" >/dev/null 2>"$tmp/loop"; then
		echo "include cycle among these modules:" >&2
		grep -v 'input contains a loop' "$tmp/loop" | sed 's/^tsort: /  /' >&2
		exit 1
	fi
	echo "$(wc -l <"$tmp/edges") include edges among $(echo "$files" | wc -l) files"
	)
}

# The check must see a loop through a header that has no .c of its own.
mkdir -p "$tmp/loop-tree/daemon" "$tmp/loop-tree/common"
printf '#include "b.h"\nint\na_run(void)\n{\n\treturn b_get();\n}\n' \
    >"$tmp/loop-tree/daemon/a.c"
printf 'int a_run(void);\n' >"$tmp/loop-tree/daemon/a.h"
printf '#include "hub.h"\nint\nb_get(void)\n{\n\treturn hub_ask();\n}\n' \
    >"$tmp/loop-tree/daemon/b.c"
printf 'int b_get(void);\n' >"$tmp/loop-tree/daemon/b.h"
printf '/* declared for all, defined in main */\nint hub_ask(void);\n' \
    >"$tmp/loop-tree/daemon/hub.h"
printf '#include "a.h"\n#include "hub.h"\nint\nhub_ask(void)\n{\n\treturn 1;\n}\nint\nmain(void)\n{\n\treturn a_run();\n}\n' \
    >"$tmp/loop-tree/daemon/main.c"
if check_tree "$tmp/loop-tree" >/dev/null 2>"$tmp/self"; then
	echo "FAIL: the check missed the loop a -> b -> hub.h (main) -> a" >&2
	exit 1
fi
for m in daemon/a daemon/b daemon/main; do
	grep -qx "  $m" "$tmp/self" || {
		echo "FAIL: the loop found does not name $m:" >&2
		cat "$tmp/self" >&2
		exit 1
	}
done
echo "ok: a known loop is found ($(grep -c '^  ' "$tmp/self") modules named)"

# crier itself.
if ! out=$(check_tree "$top_srcdir"); then
	echo "FAIL: crier's modules include each other in a loop" >&2
	exit 1
fi
echo "ok: no include cycle in crier ($out)"
