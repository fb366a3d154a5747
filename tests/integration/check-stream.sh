#!/bin/sh
# crierd --check --json streams a generated calendar (weekly, Mon/Wed/Fri,
# weekdays, monthly, fortnightly, daily, one-offs; EXDATEs, moved instances)
# in time order, with the occurrences python3-recurring-ical-events gives;
# two calendars come merged, the first one's row first on equal keys.
. "$(dirname "$0")/lib.sh"

/usr/bin/python3 -c 'import recurring_ical_events' 2>/dev/null ||
    skip "python3-recurring-ical-events is not installed (scripts/install-deps.sh)"
/usr/bin/python3 "$top_srcdir/tests/bench/gencal.py" check 240 "$T/cal.ics" ||
    fail "gencal.py failed"
cp "$T/cal.ics" "$T/again.ics"
write_config "channels = box" "[channel box]" "type = outbox"
"$CRIERD" -c "$CONF" --check --json --calendar "$T/cal.ics" \
    --from 2027-01-01 --to 2028-01-01 > "$T/crier.out" 2> "$T/crier.err" ||
    fail "crierd --check failed: $(tail -3 "$T/crier.err")"
/usr/bin/python3 "$top_srcdir/tests/bench/ref_expand.py" "$T/cal.ics" \
    2027-01-01 2028-01-01 > "$T/ref.out" || fail "ref_expand.py failed"
"$CRIERD" -c "$CONF" --check --json --calendar "$T/cal.ics" \
    --calendar "$T/again.ics" --from 2027-01-01 --to 2028-01-01 \
    > "$T/two.out" 2> "$T/two.err" || fail "crierd --check of two calendars failed"
"$PY" - "$T/crier.out" "$T/ref.out" "$T/two.out" <<'PYEOF' || fail "see above"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ref = [tuple(l.rstrip("\n").split("\t")) for l in open(sys.argv[2])]
def key(r):
    return (r["start"], r["uid"] or "", r["recurrence_id"] or "")
got = [(r["uid"], r["start"]) for r in rows]
bad = []
if sorted(got) != sorted(ref):
    bad.append("occurrences differ from recurring_ical_events: %d here, %d there, "
               "only here %s, only there %s" % (len(got), len(ref),
               sorted(set(got) - set(ref))[:3], sorted(set(ref) - set(got))[:3]))
if [key(r) for r in rows] != sorted(key(r) for r in rows):
    bad.append("rows are not in (start, uid, recurrence_id) order")
if len(rows) < 15000:
    bad.append("only %d rows" % len(rows))
moved = [r for r in rows if r["summary"].endswith("(moved)")]
if len(moved) != 30 or any(r["start"][11:13] == r["recurrence_id"][11:13] for r in moved):
    bad.append("%d moved instances, or one not moved" % len(moved))
for r in rows:
    if r["status"] != "scheduled" or r["problems"] or len(r["channels"]) != 1 \
            or r["channels"][0]["text"] is None or not r["channels"][0]["fits"]:
        bad.append("bad row %r" % r)
        break
two = [json.loads(l) for l in open(sys.argv[3])]
want = []
for r in rows:
    want.append(dict(r, calendar="cal"))
    want.append(dict(r, calendar="again"))
if two != want:
    n = next(i for i, (a, b) in enumerate(zip(two + [None], want)) if a != b)
    bad.append("two calendars: row %d is %r, not %r" % (n, two[n] if n < len(two) else None, want[n]))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PYEOF
echo "PASS: $(wc -l < "$T/crier.out") occurrences as recurring_ical_events gives them, in order; two calendars merged"
