#!/bin/sh
# The webhook channel end to end against tests/peers/httpmock.py: slack,
# discord and json bodies, HMAC signatures checked by the server, 200/201,
# 400 with an error body, garbage, a reset; retry, send-now, log --follow.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

printf 'hook-secret-0123\n' > "$T/secret"
chmod 600 "$T/secret"
start_mock m --hmac-secret-file "$T/secret"
P=$(mock_port m)
write_config \
	"[channel slack]" "type = webhook" "url = http://127.0.0.1:$P/slack" \
	"format = slack" "secret_file = $T/secret" \
	"[channel discord]" "type = webhook" "url = http://127.0.0.1:$P/discord" \
	"format = discord" "secret_file = $T/secret" \
	"[channel js]" "type = webhook" "url = http://127.0.0.1:$P/json" \
	"secret_file = $T/secret" "format = json" \
	"[channel bad]" "type = webhook" "url = http://127.0.0.1:$P/bad" \
	"secret_file = $T/secret"
# Retries far off, so `retrying` can be seen and `retry` is what moves it.
CRIER_TEST_BACKOFF_MS=600000 start_daemon

# Events stream as they happen.
ctl --json log --follow > "$T/follow.out" 2>&1 &
echo $! > "$T/follow.pid"
wait_for "grep -q following $T/follow.out" 5 || fail "log --follow did not answer"

# slack: {"text": ...}, signed.
s=$(post_id --channel slack --text "Open Gov Week starts today")
wait_state "$s" sent
# discord: {"content": ...}; a 201 with an id and url is recorded.
mock_script m '[{"path": "/discord", "status": 201, "body": {"id": "98765", "url": "https://discord.example/m/98765"}}]'
dc=$(post_id --channel discord --text "Break the Roles: day 2")
wait_state "$dc" sent
[ "$(field "$dc" 'dl["remote_url"]')" = "https://discord.example/m/98765" ] || fail "discord remote_url not kept"
[ "$(field "$dc" 'dl["remote_id"]')" = 98765 ] || fail "discord remote_id not kept"
# json: the whole delivery.
j=$(post_id --channel js --text "Newsletter #12 is out")
wait_state "$j" sent

mock_requests m > "$T/req.json"
"$PY" - "$T/req.json" "$s" "$dc" "$j" <<'PYEOF' || fail "requests as received differ"
import json, sys
reqs = json.load(open(sys.argv[1]))
s, dc, j = sys.argv[2:5]
by = {}
for r in reqs:
    by.setdefault(r["path"], []).append(r)
def one(path):
    assert len(by.get(path, [])) == 1, (path, len(by.get(path, [])))
    r = by[path][0]
    assert r["method"] == "POST", r
    assert r["verified"] is True, ("signature", r["headers"])
    assert r["headers"]["X-Crier-Signature"].startswith("sha256="), r
    assert r["headers"]["X-Crier-Timestamp"].isdigit(), r
    assert r["headers"]["Content-Type"] == "application/json", r
    return r, json.loads(r["body"])
r, b = one("/slack")
assert b == {"text": "Open Gov Week starts today"}, b
assert r["headers"]["X-Crier-Delivery"] == s
r, b = one("/discord")
assert b == {"content": "Break the Roles: day 2"}, b
r, b = one("/json")
assert b["id"] == j and b["channel"] == "js" and b["text"] == "Newsletter #12 is out", b
assert b["attempt"] == 1 and b["due"].endswith("Z"), b
PYEOF
[ "$(field "$s" 'dl["attempts"]')" = 1 ] || fail "slack: attempts != 1"

# A wrong signature is refused by the server (401): the channel pauses (see
# webhook-auth.sh); here, a 400 with an error body fails at once with the
# API's message, after one attempt.
mock_script m '[{"path": "/bad", "status": 400, "body": {"error": "text too long for this hook"}}]'
b=$(post_id --channel bad --text "too long, says the server")
wait_state "$b" failed
[ "$(field "$b" 'dl["attempts"]')" = 1 ] || fail "400: attempts != 1"
field "$b" 'dl["last_error"]' | grep -q "HTTP 400: text too long for this hook" ||
	fail "400: last_error is '$(field "$b" 'dl["last_error"]')'"

# Garbage instead of HTTP is transient: retrying, with curl's reason.
mock_script m '[{"path": "/bad", "garbage": true}]'
g=$(post_id --channel bad --text "garbage answer")
wait_state "$g" retrying
[ "$(field "$g" 'dl["attempts"]')" = 1 ] || fail "garbage: attempts != 1"
[ "$(field "$g" 'dl["next_attempt"] is not None')" = True ] || fail "garbage: no next_attempt"
# A connection reset is transient too.
mock_script m '[{"path": "/bad", "reset": true}]'
rs=$(post_id --channel bad --text "reset answer")
wait_state "$rs" retrying
field "$rs" 'dl["last_error"]' | grep -qi "recv\|reset\|empty\|connection" ||
	fail "reset: last_error is '$(field "$rs" 'dl["last_error"]')'"
# The status shows the channel's latest error.
ctl --json status > "$T/status.json"
"$PY" -c 'import json,sys
d=json.load(open(sys.argv[1]))
c=[c for c in d["channels"] if c["name"]=="bad"][0]
assert c["paused"] is False and c["last_error"], c
assert d["counts"]["retrying"] == 2, d["counts"]' "$T/status.json" || fail "status: $(cat "$T/status.json")"

# retry: goes now (the server answers 200 this time).
expect_rc 0 ctl retry "$g"
expect_out "$g scheduled"
wait_state "$g" sent
[ "$(field "$g" 'dl["last_error"]')" = null ] || fail "retry: last_error kept after success"
expect_rc 0 ctl cancel "$rs"
# retry of something sent is refused.
expect_rc 1 ctl retry "$s"
expect_out "cannot retry"

# send-now: a post due in an hour goes now.
later=$(post_id --channel slack --text "Due in an hour" --in 1h)
[ "$(state_of "$later")" = scheduled ] || fail "not scheduled"
expect_rc 0 ctl send-now "$later"
wait_state "$later" sent
expect_rc 1 ctl send-now "$later"

# Every event went out on the follow stream, one JSON line each.
wait_for "grep -q '\"delivery\": *\"$later\".*\"event\": *\"sent\"\\|\"event\": *\"sent\".*\"delivery\": *\"$later\"' $T/follow.out" 5 ||
	fail "log --follow: no sent event for $later: $(tail -n 5 "$T/follow.out")"
"$PY" - "$T/follow.out" "$s" "$dc" "$j" "$b" "$g" <<'PYEOF' || fail "log --follow stream"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
first = json.loads(lines[0])
assert first["ok"] and first["following"], first
evs = [json.loads(l)["event"] for l in lines[1:]]
seqs = [e["seq"] for e in evs]
assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
got = {(e["delivery"], e["event"]) for e in evs}
for i in sys.argv[2:5]:
    assert (i, "queued") in got and (i, "sending") in got and (i, "sent") in got, i
assert (sys.argv[5], "failed") in got
assert (sys.argv[6], "retrying") in got and (sys.argv[6], "retry") in got
PYEOF
kill "$(cat "$T/follow.pid")" 2>/dev/null

stop_daemon
echo "PASS: $TEST_NAME"
