#!/bin/sh
# A calendar from a url: fetched, scheduled, refreshed with If-None-Match
# (304 honoured), and kept from the cached copy when the server is down,
# also across a restart.
. "$(dirname "$0")/lib.sh"

"$PY" "$top_srcdir/tests/peers/httpmock.py" --port-file "$T/port" --lifetime 300 &
echo $! > "$T/mock.pid"
wait_for "[ -s '$T/port' ]" 10 || fail "mock server did not start"
port=$(cat "$T/port")
base="http://127.0.0.1:$port"

start=$("$PY" -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(days=2)).strftime("%Y%m%dT%H%M%SZ"))')
"$PY" - "$base" "$start" <<'PYEOF' || fail "scripting the mock"
import json, sys, urllib.request
base, start = sys.argv[1], sys.argv[2]
cal = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:remote@ogw.test\r\n"
       "DTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\nSUMMARY:Remote\r\nDESCRIPTION:From the web\r\n"
       "END:VEVENT\r\nEND:VCALENDAR\r\n" % start)
script = [{"path": "/council.ics", "status": 200, "headers": {"ETag": "\"v1\"", "Content-Type": "text/calendar"}, "body": cal},
          {"path": "/council.ics", "status": 304, "headers": {"ETag": "\"v1\""}}]
req = urllib.request.Request(base + "/_control/script", data=json.dumps(script).encode(), method="POST")
urllib.request.urlopen(req).read()
PYEOF

write_config "[channel outbox]" "type = outbox" "[calendar council]" "url = $base/council.ics" \
    "refresh = 1h" "channels = outbox"
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"]')\" != null ]" 10 ||
    fail "url calendar not loaded: $(ctl --json status)"
[ "$(ctl --json list | jget '[x["uid"] for x in d["deliveries"]]')" = '["remote@ogw.test"]' ] || fail "no delivery from the url calendar"
[ -f "$STATE/calendars/council.ics" ] || fail "no cached copy in state_dir"

# A reload fetches again, conditionally; the 304 keeps what we have.
expect_rc 0 ctl reload
wait_for "[ \"\$(curl -s $base/_control/requests | jget 'len([r for r in d if r[\"path\"]==\"/council.ics\"])')\" -ge 2 ]" 10 ||
    fail "reload did not refetch"
curl -s "$base/_control/requests" | jget '[r["headers"].get("If-None-Match") for r in d if r["path"]=="/council.ics"][1]' | grep -q '"v1"' ||
    fail "second fetch without If-None-Match"
[ "$(ctl --json status | jget 'd["calendars"][0]["error"]')" = null ] || fail "304 reported as an error"

# Server down: a restart still has the calendar, and status says why it is stale.
kill "$(cat "$T/mock.pid")"
kill9_daemon
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"]')\" != null ]" 10 ||
    fail "cached copy not used after a restart without the server"
wait_for "ctl --json status | jget 'd[\"calendars\"][0][\"error\"]' | grep -q 'last good copy'" 10 ||
    fail "status does not say the fetch failed: $(ctl --json status | jget 'd["calendars"]')"
ctl --json status | jget 'd["calendars"][0]["error"]' | grep -q "127.0.0.1:$port" || fail "error does not name the url"
[ "$(ctl --json list | jget 'd["deliveries"][0]["state"]')" = scheduled ] || fail "delivery lost with the server down"
echo "PASS: $TEST_NAME"
