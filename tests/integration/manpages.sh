#!/bin/sh
# The man pages render with man -l without warnings.
. "$(dirname "$0")/lib.sh"

command -v man >/dev/null 2>&1 && command -v groff >/dev/null 2>&1 || skip "man/groff not installed"
for page in daemon/crierd.8 ctl/crierctl.1 config/crier.conf.5 config/crier-calendar.5; do
	f="$top_srcdir/$page"
	[ -f "$f" ] || fail "$page missing"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$f" 2>&1 >/dev/null)
	[ -z "$out" ] || fail "$page: $out"
	LC_ALL=C.UTF-8 MANWIDTH=80 man -E UTF-8 -l "$f" 2>/dev/null | grep -q "EXAMPLES" || fail "$page has no EXAMPLES"
done
echo "PASS: $TEST_NAME"
