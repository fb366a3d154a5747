#!/bin/sh
# Runs the iCalendar corpus (../shared/testdata/ical) and crier's own cases
# (tests/conformance/ical-cases) through tests/conformance/ical-corpus.
: "${top_builddir:=.}"
: "${top_srcdir:=$(dirname "$0")/../..}"
: "${SHARED_TESTDATA:=$(dirname "$0")/../../../shared/testdata}"
dir="$SHARED_TESTDATA/ical"
rc=0
if [ -d "$dir" ]; then
	"$top_builddir/tests/conformance/ical-corpus" "$dir" || rc=1
else
	echo "the public iCalendar corpus is not at $dir: only crier's own cases"
fi
"$top_builddir/tests/conformance/ical-corpus" "$top_srcdir/tests/conformance/ical-cases" || rc=1
exit $rc
