#!/bin/sh
# The mastodon channel's error answers: 429 waits until X-RateLimit-Reset
# and then sends; 401 (a wrong token) pauses the channel with the reason in
# status, holds what falls due, and after the token is fixed (reload) resume
# sends it all; a media upload the instance refuses fails the delivery.
. "$(dirname "$0")/lib.sh"
# The peers are on loopback; the test's files are the media.
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/mastodon-lib.sh"

start_mastodon --processing-polls 0
write_config "$(mast_channel masto)"
start_daemon

# 429: the mock adds X-RateLimit-Reset 2 s ahead (ISO 8601).
mock_script mast '[{"method": "POST", "path": "/api/v1/statuses", "status": 429}]'
a=$(post_id --channel masto --text "rate limited first")
wait_state "$a" retrying 15
field "$a" 'dl["last_error"]' | grep -q "HTTP 429: Too many requests" || fail "429 error: $(field "$a" 'dl["last_error"]')"
wait_state "$a" sent 20
[ "$(field "$a" 'dl["attempts"]')" = 2 ] || fail "429: attempts"
mock_requests mast > "$T/req.json"
"$PY" - "$T/req.json" <<'PYEOF' || fail "429 retry timing"
import json, sys
ts = [r["time"] for r in json.load(open(sys.argv[1])) if r["path"] == "/api/v1/statuses"]
assert len(ts) == 2, ts
# Reset is 2 s after the 429 (whole seconds): at least 1 s later, not a fast backoff.
assert ts[1] - ts[0] >= 1.0, ts[1] - ts[0]
PYEOF
[ "$(mast_statuses 'len(s)')" = 1 ] || fail "429: statuses"

# 401: a wrong token pauses the channel.
stop_daemon
( umask 077 && echo "revoked-token" > "$T/bad.token" )
write_config "$(mast_channel masto | sed "s|^token_file = .*|token_file = $T/bad.token|")"
start_daemon
chan() {
	ctl --json status | jget "[c for c in d['channels'] if c['name'] == 'masto'][0]$1"
}
b=$(post_id --channel masto --text "with a revoked token")
wait_state "$b" held 15
[ "$(chan '["paused"]')" = True ] || fail "401 did not pause"
chan '["reason"]' | grep -q "HTTP 401: The access token is invalid" || fail "reason: $(chan '["reason"]')"
expect_rc 0 ctl status
expect_out "The access token is invalid"
c=$(post_id --channel masto --text "while paused")
wait_state "$c" held 15
# The token is fixed; reload reads it, resume releases both.
cp "$TOKEN" "$T/bad.token"
expect_rc 0 ctl reload
expect_rc 0 ctl resume masto
wait_state "$b" sent 20
wait_state "$c" sent 20
[ "$(chan '["paused"]')" = False ] || fail "still paused"
[ "$(mast_statuses 'len(s)')" = 3 ] || fail "statuses after resume: $(mast_statuses 'len(s)')"

# A file that is no image or video (by its content, whatever FMTTYPE says)
# is refused before any upload: the post is held with the reason.
CAL="$T/cal.ics"
printf 'not an image' > "$T/notes.txt"
"$PY" - "$CAL" "$T/notes.txt" <<'PYEOF'
import sys, time, datetime
t = datetime.datetime.fromtimestamp(time.time() + 2, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
open(sys.argv[1], "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:txt@ogw.test\r\n"
    "DTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\nDESCRIPTION:with a text file\r\n"
    "ATTACH;FMTTYPE=text/plain;X-CRIER-ALT=notes:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n" % (t, sys.argv[2]))
PYEOF
stop_daemon
write_config "$(mast_channel masto)" "[calendar camp]" "path = $CAL" "channels = masto"
start_daemon
wait_for "[ -n \"\$(ctl --json list | jget '[x[\"id\"] for x in d[\"deliveries\"] if x[\"uid\"] == \"txt@ogw.test\"]' | tr -d '[]')\" ]" 10 ||
	fail "calendar not loaded"
m=$(ctl --json list | jget '[x["id"] for x in d["deliveries"] if x["uid"] == "txt@ogw.test"][0]')
wait_state "$m" held 20
field "$m" 'dl["last_error"]' | grep -q "not a PNG, JPEG, GIF or WebP image, nor an MP4 video (by its content)" ||
	fail "text file: $(field "$m" 'dl["last_error"]')"
sleep 3
[ "$(mast_statuses 'len(s)')" = 3 ] || fail "a status despite the refused media"
stop_daemon
echo "PASS: $TEST_NAME"
