#!/bin/sh
# Credentials in a calendar URL never show (status, log, parse and fetch
# errors, --check); username + password_file keep them out of the URL; a
# fetched body that does not parse never replaces the last good cached
# copy, which a restart without the server still schedules from.
. "$(dirname "$0")/lib.sh"

"$PY" "$top_srcdir/tests/peers/httpmock.py" --port-file "$T/port" --lifetime 300 &
echo $! > "$T/mock.pid"
wait_for "[ -s '$T/port' ]" 10 || fail "mock server did not start"
port=$(cat "$T/port")
base="http://127.0.0.1:$port"
PW=S3cretPW4242
TOK=T0kenXYZ9
start=$("$PY" -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(days=2)).strftime("%Y%m%dT%H%M%SZ"))')
good="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:good@ogw.test\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:$start\r\nSUMMARY:Good\r\nDESCRIPTION:From the web\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
broken="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:new@ogw.test\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:$start\r\nSUMMARY:New\r\nDTSTART:2027"
# Queues responses: "$@" are status:body-variable pairs such as 200:good.
serve() {
	"$PY" - "$base" "$@" <<PYEOF || fail "scripting the mock"
import json, sys, urllib.request
bodies = {"good": "$good", "broken": "$broken", "none": ""}
script = []
for a in sys.argv[2:]:
    st, b = a.split(":")
    script.append({"path": "/cal.ics", "status": int(st), "headers": {"ETag": '"' + b + '"',
                   "Content-Type": "text/calendar"}, "body": bodies[b]})
req = urllib.request.Request(sys.argv[1] + "/_control/script", data=json.dumps(script).encode(), method="POST")
urllib.request.urlopen(req).read()
PYEOF
}
# Fails if a secret shows in "$@" (files) or in status.
no_secrets() {
	ctl --json status > "$T/status.json"
	for f in "$T/status.json" "$@"; do
		grep -l -e "$PW" -e "$TOK" "$f" && fail "a secret shows in $f: $(grep -e "$PW" -e "$TOK" "$f" | head -3)"
	done
	return 0
}
loaded() { [ "$(ctl --json status | jget 'd["calendars"][0]["loaded_at"]')" != null ]; }

serve 200:good
write_config "[calendar web]" "url = http://alice:$PW@127.0.0.1:$port/cal.ics?token=$TOK&x=1" \
    "refresh = 1h" "channels = outbox"
start_daemon -v		# debug lines name each request's URL
wait_for loaded 10 || fail "url calendar not loaded: $(ctl --json status)"
grep -q "http: GET http://alice:\*\*\*@127.0.0.1:$port/cal.ics?token=\*\*\*" "$LOG" ||
	fail "the debug log does not show the redacted URL"
src=$(ctl --json status | jget 'd["calendars"][0]["source"]')
[ "$src" = "http://alice:***@127.0.0.1:$port/cal.ics?token=***&x=***" ] || fail "source shown as $src"
# The server did get the credentials (curl sends the userinfo as Basic).
curl -s "$base/_control/requests" > "$T/reqs.json"
auth=$(jget 'd[-1]["headers"].get("Authorization")' < "$T/reqs.json")
[ "$auth" = "Basic $(printf 'alice:%s' "$PW" | base64)" ] || fail "Authorization sent: $auth"
jget 'd[-1]["query"]' < "$T/reqs.json" | grep -q "$TOK" || fail "the token did not reach the server"
no_secrets "$LOG"

# A body that does not parse: reported (without secrets), never cached.
# (first the cached copy must be the good body, byte for byte as served)
printf '%b' "$good" > "$T/good.ics"
wait_for "cmp -s '$STATE/calendars/web.ics' '$T/good.ics'" 20 ||
	fail "the good body was not cached as served"
serve 200:broken
expect_rc 0 ctl reload
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"error\"]')\" != null ]" 10 ||
	fail "the broken body was not reported"
ctl --json status | jget 'd["calendars"][0]["error"]' | grep -q "alice:\*\*\*@" ||
	fail "the error does not name the (redacted) url: $(ctl --json status | jget 'd["calendars"][0]["error"]')"
# (once that load is over, not while its result may still be applied)
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loading\"]')\" = False ]" 20 ||
	fail "the reload did not end"
cmp -s "$STATE/calendars/web.ics" "$T/good.ics" || fail "the unparseable body replaced the cached copy"
grep -q "new@ogw.test" "$STATE/calendars/"*.ics && fail "the broken body is on disk"
# A fetch error.
serve 500:none
expect_rc 0 ctl reload
wait_for "ctl --json status | jget 'd[\"calendars\"][0][\"error\"]' | grep -q 'HTTP 500'" 10 ||
	fail "fetch error not shown"
no_secrets "$LOG"
# --check (offline: the cached copy) shows no secret either.
"$CRIERD" -c "$CONF" --check --json > "$T/check.out" 2>&1
grep -q "good@ogw.test" "$T/check.out" || fail "--check did not read the cached copy: $(cat "$T/check.out")"
no_secrets "$T/check.out"

# Restart without the server: the last good copy is scheduled from.
kill "$(cat "$T/mock.pid")"
kill9_daemon
start_daemon
wait_for loaded 10 || fail "the cached copy was not used after a restart"
[ "$(ctl --json status | jget 'd["calendars"][0]["events"]')" = 1 ] || fail "events after restart"
[ "$(ctl --json list | jget '[x["uid"] for x in d["deliveries"] if x["state"] == "scheduled"]')" = '["good@ogw.test"]' ] ||
	fail "not scheduled from the last good copy: $(ctl --json list)"
no_secrets "$LOG"
stop_daemon

# username + password_file: nothing secret in the URL at all.
"$PY" "$top_srcdir/tests/peers/httpmock.py" --port-file "$T/port2" --lifetime 300 &
echo $! > "$T/mock2.pid"
wait_for "[ -s '$T/port2' ]" 10 || fail "mock server did not start"
port=$(cat "$T/port2")
base="http://127.0.0.1:$port"
serve 200:good
printf '%s\n' "$PW" > "$T/pw"
chmod 600 "$T/pw"
write_config "[calendar web]" "url = $base/cal.ics" "username = alice" "password_file = $T/pw" \
    "refresh = 1h" "channels = outbox"
start_daemon
wait_for loaded 10 || fail "url calendar with username/password_file not loaded"
auth=$(curl -s "$base/_control/requests" | jget 'd[-1]["headers"].get("Authorization")')
[ "$auth" = "Basic $(printf 'alice:%s' "$PW" | base64)" ] || fail "Authorization sent: $auth"
no_secrets "$LOG"
stop_daemon

# Mistakes are named with file, line and key.
chmod 644 "$T/pw"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "password_file"
expect_out "crier.conf:"
chmod 600 "$T/pw"
write_config "[calendar web]" "path = $T/good.ics" "username = alice" "channels = outbox"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "for url calendars"
write_config "[calendar web]" "url = http://bob:x@127.0.0.1:$port/c.ics" "username = alice" \
    "password_file = $T/pw" "channels = outbox"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "both in the url and in username"
echo "PASS: $TEST_NAME"
