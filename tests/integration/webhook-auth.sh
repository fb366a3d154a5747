#!/bin/sh
# 401/403 pause the channel, with the reason in status; what falls due on a
# paused channel is held; resume sends it. pause/resume by hand, --all.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

start_mock m
P=$(mock_port m)
write_config "[channel hook]" "type = webhook" "url = http://127.0.0.1:$P/hook" "format = slack" \
	"[channel other]" "type = webhook" "url = http://127.0.0.1:$P/other" "format = discord" \
	"[channel outbox]" "type = outbox"
start_daemon

chan_status() {
	ctl --json status | jget "[c for c in d['channels'] if c['name'] == '$1'][0]$2"
}

mock_script m '[{"path": "/hook", "status": 401, "body": {"error": "invalid token"}}]'
a=$(post_id --channel hook --text "first")
wait_state "$a" held
[ "$(field "$a" 'dl["held_for"]')" = "channel paused" ] || fail "held_for: $(field "$a" 'dl["held_for"]')"
[ "$(field "$a" 'dl["attempts"]')" = 1 ] || fail "401: attempts"
[ "$(chan_status hook '["paused"]')" = True ] || fail "401 did not pause the channel"
chan_status hook '["reason"]' | grep -q "HTTP 401: invalid token" || fail "status reason: $(chan_status hook '["reason"]')"
[ "$(chan_status other '["paused"]')" = False ] || fail "other channel paused too"
expect_rc 0 ctl status
expect_out "paused: credentials refused: HTTP 401: invalid token"

# More posts wait, held, without a request; the other channel still sends.
b=$(post_id --channel hook --text "second")
wait_state "$b" held
o=$(post_id --channel other --text "elsewhere")
wait_state "$o" sent
sleep 0.5
[ "$(mock_requests m | jget 'len([r for r in d if r["path"] == "/hook"])')" = 1 ] || fail "requests while paused"
expect_rc 1 ctl send-now "$b"
expect_out "paused"
[ "$(ctl --json status | jget 'd["counts"]["held"]')" = 2 ] || fail "held count"

# resume: both go, the first on its second attempt.
expect_rc 0 ctl resume hook
expect_out "2 deliveries released"
wait_state "$a" sent
wait_state "$b" sent
[ "$(field "$a" 'dl["attempts"]')" = 2 ] || fail "resumed: attempts"
[ "$(chan_status hook '["paused"]')" = False ] || fail "still paused"
[ "$(chan_status hook '["last_error"]')" = null ] || fail "last_error not cleared"

# 403 too.
mock_script m '[{"path": "/other", "status": 403, "body": {"message": "forbidden here"}}]'
f=$(post_id --channel other --text "forbidden")
wait_state "$f" held
chan_status other '["reason"]' | grep -q "HTTP 403: forbidden here" || fail "403 reason"
expect_rc 0 ctl resume other
wait_state "$f" sent

# By hand: pause --all holds everything (local channels too), and a tentative
# hold (approval) is not released by resume.
expect_rc 1 ctl pause
expect_out "needs a channel or --all"
expect_rc 1 ctl pause nosuch
expect_rc 0 ctl pause --all
expect_out "hook paused"
expect_out "outbox paused"
later=$(post_id --channel hook --text "later" --in 1h)
[ "$(state_of "$later")" = held ] || fail "scheduled post on paused channel not held"
x=$(post_id --channel outbox --text "local")
h=$(post_id --channel hook --text "awaiting approval" --hold)
wait_state "$x" held
expect_rc 0 ctl resume --all
wait_state "$x" sent
[ "$(state_of "$later")" = scheduled ] || fail "resume: later not scheduled"
[ "$(state_of "$h")" = held ] || fail "resume released an approval hold"
[ "$(field "$h" 'dl["held_for"]')" = approval ] || fail "held_for approval"
expect_rc 0 ctl log --limit 200
expect_out "paused"
expect_out "resumed"

# The pause survives a restart.
expect_rc 0 ctl pause hook
stop_daemon
start_daemon
[ "$(chan_status hook '["paused"]')" = True ] || fail "pause lost on restart"
expect_rc 0 ctl resume hook
stop_daemon
echo "PASS: $TEST_NAME"
