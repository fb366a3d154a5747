#!/bin/sh
# Builds crier in DIR (default: build/) from this checkout; extra args go to
# configure. A checkout already configured in place is built in place.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
[ $# -gt 0 ] && shift
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi >/dev/null 2>&1
fi
if [ -f config.status ]; then
	# Configured in place (autotools allow no second, out-of-tree build).
	make -s -j"$(nproc)" >/dev/null
	[ "$dir" = . ] || { mkdir -p "$dir"; for p in daemon/crierd ctl/crierctl; do
		mkdir -p "$dir/$(dirname "$p")"; ln -sf "$top/$p" "$dir/$p"; done; }
	exit 0
fi
mkdir -p "$dir"
cd "$dir"
[ -f Makefile ] || "$top/configure" -q "$@"
make -s -j"$(nproc)" >/dev/null
