#!/bin/sh
# Runs the iCalendar corpus (../shared/testdata/ical) through tests/ical-corpus.
: "${top_builddir:=.}"
: "${SHARED_TESTDATA:=$(dirname "$0")/../../shared/testdata}"
dir="$SHARED_TESTDATA/ical"
if [ ! -d "$dir" ]; then
	echo "SKIP: the iCalendar corpus is not at $dir"
	exit 77
fi
exec "$top_builddir/tests/ical-corpus" "$dir"
