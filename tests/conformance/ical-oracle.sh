#!/bin/sh
# crier's own iCalendar cases: the expected files are what generate.py's own
# arithmetic gives, and python3-recurring-ical-events differs from them
# exactly where tests/conformance/ical-cases/README.md says.
: "${top_srcdir:=$(dirname "$0")/../..}"
PY=/usr/bin/python3
gen="$top_srcdir/tests/conformance/ical-cases/generate.py"
"$PY" "$gen" --check || { echo "FAIL: an expected file differs from generate.py"; exit 1; }
if ! "$PY" -c 'import recurring_ical_events, icalendar' 2>/dev/null; then
	echo "SKIP: python3-recurring-ical-events is not installed (scripts/install-deps.sh)"
	exit 77
fi
out=$("$PY" "$gen" --oracle) || { echo "FAIL: generate.py --oracle: $out"; exit 1; }
echo "$out"
for want in \
    "byweekno.ics: 104 expected, oracle 104, 6 only here, 6 only in the oracle" \
    "nominal-duration.ics: 13 expected, oracle 13, 6 only here, 6 only in the oracle" \
    "invalid-dates.ics: the oracle fails"; do
	case "$out" in
	*"$want"*) ;;
	*) echo "FAIL: expected '$want' (see tests/conformance/ical-cases/README.md)"; exit 1 ;;
	esac
done
# the differences are the ones the README explains, nothing else
n=$(echo "$out" | grep -c '^   only' )
m=$(echo "$out" | grep '^   only' | grep -c -e weekno20-dtstart-weekday -e '"uid": "p1d' -e '"uid": "p2w')
[ "$n" = 24 ] && [ "$m" = 24 ] || { echo "FAIL: $n differences, $m of them explained"; exit 1; }
echo "PASS: the oracle differs only where the README says"
