#!/bin/sh
# A url calendar fetched again while its last load is still being parsed
# (a reload loads the cached copy and fetches at once): the newer body
# waits for its own load, and only a body that parsed becomes the cached
# copy. Before, the load under way parsed a buffer the fetch had replaced
# (freed under the worker) and then cached the broken newer body as good.
. "$(dirname "$0")/lib.sh"

"$PY" "$top_srcdir/tests/peers/httpmock.py" --port-file "$T/port" --lifetime 300 &
echo $! > "$T/mock.pid"
wait_for "[ -s '$T/port' ]" 10 || fail "mock server did not start"
base="http://127.0.0.1:$(cat "$T/port")"
# A good calendar that takes a while to parse and expand (3 000 events),
# and a broken one that is fetched in a moment.
"$PY" - "$T/good.ics" "$T/broken.ics" <<'PYEOF'
import datetime, sys
t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
ev = "".join("BEGIN:VEVENT\r\nUID:e%d@ogw.test\r\nDTSTAMP:20270101T000000Z\r\n"
             "DTSTART:%s\r\nRRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:Event %d\r\n"
             "DESCRIPTION:Open Gov Week item %d\r\nEND:VEVENT\r\n"
             % (i, (t + datetime.timedelta(minutes=i)).strftime("%Y%m%dT%H%M%SZ"), i, i)
             for i in range(3000))
open(sys.argv[1], "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + ev + "END:VCALENDAR\r\n")
open(sys.argv[2], "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
    "UID:new@ogw.test\r\nDTSTART:2027")
PYEOF
# serve FILE: the next GET of /cal.ics answers FILE's bytes.
serve() {
	"$PY" - "$base" "$1" <<'PYEOF' || fail "scripting the mock"
import json, sys, urllib.request
body = open(sys.argv[2], encoding="utf-8", newline="").read()
spec = [{"path": "/cal.ics", "status": 200, "body": body,
         "headers": {"Content-Type": "text/calendar"}}]
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_control/script",
                       data=json.dumps(spec).encode(), method="POST")).read()
PYEOF
}
idle() {
	[ "$(ctl --json status | jget 'd["calendars"][0]["loading"]')" = False ]
}
serve "$T/good.ics"
write_config "horizon = 60d" "max_occurrences = 100000" "[calendar web]" \
    "url = $base/cal.ics" "refresh = 1h" "channels = outbox"
start_daemon
wait_for "cmp -s '$STATE/calendars/web.ics' '$T/good.ics'" 60 ||
	fail "the good body was not cached: $(ctl --json status)"
n=$(ctl --json status | jget 'd["calendars"][0]["events"]')
[ "$n" = 3000 ] || fail "events: $n"
for i in 1 2 3; do
	serve "$T/broken.ics"
	expect_rc 0 ctl reload
	wait_for "ctl --json status | jget 'd[\"calendars\"][0][\"error\"] or \"\"' | grep -q 'never ended'" 60 ||
		fail "round $i: the broken body was not reported: $(ctl --json status)"
	wait_for idle 60 || fail "round $i: the loads did not end"
	cmp -s "$STATE/calendars/web.ics" "$T/good.ics" ||
		fail "round $i: the broken body replaced the cached copy"
	[ "$(ctl --json status | jget 'd["calendars"][0]["events"]')" = 3000 ] ||
		fail "round $i: events $(ctl --json status | jget 'd["calendars"][0]["events"]')"
done
stop_daemon
# A restart loads the cached copy: still the good one.
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"events\"]')\" = 3000 ]" 60 ||
	fail "after a restart: $(ctl --json status)"
stop_daemon
echo "PASS: $TEST_NAME"
