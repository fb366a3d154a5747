#!/bin/sh
# crierd --check (offline, every problem named), preview, agenda, post --template.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/tmpl"
printf '{{summary}}: {{description}}\n' > "$T/tmpl/daily.mustache"
printf '{{summary}} with {{vars.org}} and {{vars.who}}\n' > "$T/tmpl/hello.mustache"
printf '{{summary}} {{no_such_thing}}\n' > "$T/tmpl/strict.mustache"
CAL="$T/c.ics"
cat > "$CAL" <<'ICS'
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//crier tests//EN
BEGIN:VEVENT
UID:short@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:20270517T080000Z
SUMMARY:Day one
DESCRIPTION:Short.
END:VEVENT
BEGIN:VEVENT
UID:long@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:20270518T080000Z
SUMMARY:Day two
DESCRIPTION:This description is far too long for the forty character limit.
END:VEVENT
BEGIN:VEVENT
UID:notemplate@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:20270519T080000Z
SUMMARY:Day three
DESCRIPTION:x
X-CRIER-TEMPLATE:nope
END:VEVENT
END:VCALENDAR
ICS
write_config "timezone = Europe/London" "horizon = 400d" "templates = $T/tmpl" "[vars]" "org = OGP" \
    "[channel box]" "type = outbox" "limit = 40" \
    "[calendar ogw]" "path = $CAL" "channels = box" "template = daily"

expect_rc 1 "$CRIERD" -c "$CONF" --check --from 2027-05-01 --to 2027-06-01
expect_out "c.ics:"
expect_out "uid long@ogw.test at 2027-05-18T08:00:00Z: box: too long:"
expect_out "over the limit of 40"
expect_out "uid notemplate@ogw.test"
expect_out "no template"
expect_out "3 occurrences checked, 2 problems"
[ -e "$STATE" ] && fail "--check touched state_dir"

expect_rc 1 "$CRIERD" -c "$CONF" --check --json --from 2027-05-01 --to 2027-06-01
echo "$OUT" | "$PY" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert [r["uid"] for r in rows] == ["short@ogw.test", "long@ogw.test", "notemplate@ogw.test"], rows
r = rows[0]
for k in ("calendar", "uid", "recurrence_id", "start", "end", "summary", "status", "channels", "problems"):
    assert k in r, k
assert r["calendar"] == "ogw" and r["start"] == "2027-05-17T08:00:00Z" and r["status"] == "scheduled"
c = r["channels"][0]
assert c == {"name": "box", "type": "outbox", "text": "Day one: Short.", "length": 15, "limit": 40, "fits": True}, c
assert rows[0]["problems"] == [] and rows[1]["channels"][0]["fits"] is False and rows[1]["problems"]
' || fail "--check --json output: $OUT"

# The window: only the first event.
expect_rc 0 "$CRIERD" -c "$CONF" --check --from 2027-05-17 --to 2027-05-18
expect_out "1 occurrence checked, 0 problems"
# --calendar adds a file on top of the config.
expect_rc 1 "$CRIERD" -c "$CONF" --check --calendar "$CAL" --from 2027-05-17 --to 2027-05-18
expect_out "2 occurrences checked"
# A strict template: an unknown variable is a problem.
sed -i 's/^template = daily/template = strict/' "$CONF"
expect_rc 1 "$CRIERD" -c "$CONF" --check --from 2027-05-17 --to 2027-05-18
expect_out "no_such_thing"
sed -i 's/^template = strict/template = daily/' "$CONF"

# The independent corpus, end to end through crierd --check --json.
corpus="${SHARED_TESTDATA:-$top_srcdir/../shared/testdata}/ical"
if [ -f "$corpus/ogw-2021-campaign.expected.json" ]; then
	"$CRIERD" --check --json --calendar "$corpus/ogw-2021-campaign.ics" \
	    --from 2019-01-01 --to 2027-01-01 > "$T/ogw.json" 2>/dev/null
	"$PY" - "$T/ogw.json" "$corpus/ogw-2021-campaign.expected.json" <<'PYEOF' || fail "ogw-2021 corpus differs"
import json, sys
got = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
want = json.load(open(sys.argv[2]))
st = {None: "scheduled", "CONFIRMED": "scheduled", "TENTATIVE": "held", "CANCELLED": "cancelled"}
g = [(r["uid"], r["recurrence_id"], r["start"], r["end"], r["summary"], r["status"]) for r in got]
w = [(r["uid"], r["recurrence_id"], r["start"], r["end"], r["summary"], st.get(r["status"], "scheduled")) for r in want]
assert g == w, (g, w)
PYEOF
fi

# The running daemon: agenda, preview, post --template.
sed -i 's/^limit = 40/limit = 80/' "$CONF"
"$PY" - "$CAL" <<'PYEOF'
import sys, re
p = sys.argv[1]
s = open(p).read()
open(p, "w").write(re.sub(r"BEGIN:VEVENT\nUID:notemplate.*?END:VEVENT\n", "", s, flags=re.S))
PYEOF
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"]')\" != null ]" 10 ||
    fail "calendar not loaded: $(ctl --json status)"
expect_rc 0 ctl agenda --days 400
expect_out "Monday 17 May 2027"
expect_out "09:00"
expect_out "Day one"
expect_out "Europe/London"
id=$(ctl --json list | jget '[x["id"] for x in d["deliveries"] if x["uid"]=="short@ogw.test"][0]')
expect_rc 0 ctl preview "$id"
expect_out "Day one: Short."
expect_out "15 / 80"
expect_rc 0 ctl --json preview --calendar ogw --uid short@ogw.test
[ "$(echo "$OUT" | jget 'd["previews"][0]["text"]')" = "Day one: Short." ] || fail "preview by uid"
expect_rc 1 ctl preview --calendar ogw --uid nobody@ogw.test

expect_rc 0 ctl --json post --channel box --template hello --var who=Glasgow --var org=Glasgow\ City\ Council --in 1d
pid=$(echo "$OUT" | jget 'd["ids"][0]')
[ "$(ctl --json show "$pid" | jget 'd["delivery"]["text"]')" = " with Glasgow City Council and Glasgow" ] ||
    fail "template post text: $(ctl --json show "$pid")"
expect_rc 1 ctl post --channel box --template hello --var who="$(printf '%0100d' 0)"
expect_out "over the limit of 80"
expect_rc 1 ctl post --channel box --template missing
expect_out "missing"
expect_rc 1 ctl post --channel box --text "$(printf '%0100d' 0)"
expect_out "20 over the limit of 80"
echo "PASS: $TEST_NAME"
