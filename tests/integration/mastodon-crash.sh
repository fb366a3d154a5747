#!/bin/sh
# kill -9 between the request and its commit: the instance has created the
# status (with an image) but crierd dies before hearing so. After a restart
# the delivery, left in `sending` on an idempotent channel, is sent again
# with the same Idempotency-Key, and the instance returns the first status:
# exactly one status for the delivery, and its id is the one recorded.
. "$(dirname "$0")/lib.sh"
# The peers are on loopback; the test's files are the media.
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/mastodon-lib.sh"

start_mastodon --processing-polls 1
IMG="$T/chart.png"
printf '\211PNG\r\n\032\nchart' > "$IMG"
CAL="$T/cal.ics"
"$PY" - "$CAL" "$IMG" <<'PYEOF'
import sys, time, datetime
t = datetime.datetime.fromtimestamp(time.time() + 3, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
open(sys.argv[1], "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:crash@ogw.test\r\n"
    "DTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\nDESCRIPTION:Results of the consultation\r\n"
    "ATTACH;FMTTYPE=image/png;X-CRIER-ALT=\"Bar chart of the results\":%s\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n" % (t, sys.argv[2]))
PYEOF
write_config "$(mast_channel masto "concurrency = 2")" "[calendar camp]" "path = $CAL" "channels = masto"
# The status is created at once but answered 30 s later.
mast_post /_control/status-delay '{"seconds": 30}'
start_daemon
wait_for "[ \"\$(ctl --json list | jget 'len(d[\"deliveries\"])')\" = 1 ]" 10 || fail "calendar not loaded"
id=$(ctl --json list | jget 'd["deliveries"][0]["id"]')
a=$(post_id --channel masto --text "An ad-hoc post, also interrupted")
wait_for "[ \"\$(mast_statuses 'len(s)')\" = 2 ]" 30 || fail "statuses not created: $(mast_statuses 's')"
[ "$(state_of "$id")" = sending ] || fail "not sending: $(state_of "$id")"
[ "$(state_of "$a")" = sending ] || fail "not sending: $(state_of "$a")"
kill9_daemon

mast_post /_control/status-delay '{"seconds": 0}'
start_daemon
wait_state "$id" sent 30
wait_state "$a" sent 30
mast_get /_control/statuses > "$T/statuses.json"
mock_requests mast > "$T/req.json"
"$PY" - "$T/statuses.json" "$T/req.json" "$id" "$a" <<'PYEOF' || fail "after the crash"
import json, sys
sts = json.load(open(sys.argv[1]))
reqs = [r for r in json.load(open(sys.argv[2])) if r["path"] == "/api/v1/statuses"]
for d in sys.argv[3:5]:
    mine = [s for s in sts if s["idempotency_key"] == d]
    assert len(mine) == 1, (d, "statuses", len(mine))
    keys = [r["headers"].get("Idempotency-Key") for r in reqs if r["headers"].get("Idempotency-Key") == d]
    assert len(keys) == 2, (d, "requests", len(keys))
assert len(sts) == 2, len(sts)
img = [s for s in sts if s["idempotency_key"] == sys.argv[3]][0]
assert [m["description"] for m in img["media"]] == ["Bar chart of the results"], img["media"]
PYEOF
for d in "$id" "$a"; do
	rid=$(field "$d" 'dl["remote_id"]')
	[ "$(mast_statuses "[x['id'] for x in s if x['idempotency_key'] == '$d'][0]")" = "$rid" ] ||
		fail "$d: remote id $rid is not the first status"
done
ctl --json show "$id" | jget '[e["event"] for e in d["delivery"]["events"]]' | grep -q recovered || fail "no recovered event"
stop_daemon
echo "PASS: $TEST_NAME"
