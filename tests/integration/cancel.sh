#!/bin/sh
# cancel before due means no file; hold and approve; reschedule.
. "$(dirname "$0")/lib.sh"

write_config
start_daemon
box="$STATE/outbox/outbox"

expect_rc 0 ctl --json post --channel outbox --text "Never sent" --in 2s
c=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 ctl cancel "$c"
expect_out "cancelled"
# A control post due after it proves the scheduler ran past its due time.
expect_rc 0 ctl --json post --channel outbox --text "control" --in 3s
ctrl=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "ls $box/*$ctrl.txt" 15 || fail "control post not sent"
ls "$box"/*"$c".* >/dev/null 2>&1 && fail "cancelled post was written"
[ "$(state_of "$c")" = cancelled ] || fail "not cancelled"
expect_rc 1 ctl cancel "$c"
expect_out "cancelled"
expect_rc 1 ctl cancel "$ctrl"
expect_out "sent"

# Held: not sent when due; approve sends it.
expect_rc 0 ctl --json post --channel outbox --text "Needs approval" --in 1s --hold
h=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 ctl --json post --channel outbox --text "control 2" --in 2s
ctrl=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "ls $box/*$ctrl.txt" 15 || fail "control post 2 not sent"
ls "$box"/*"$h".* >/dev/null 2>&1 && fail "held post was sent"
[ "$(state_of "$h")" = held ] || fail "not held"
expect_rc 0 ctl approve "$h"
wait_for "ls $box/*$h.txt" 15 || fail "approved post not sent"

# hold then approve before due keeps the due time.
expect_rc 0 ctl --json post --channel outbox --text "Hold me" --in 1h
x=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 ctl hold "$x"
[ "$(state_of "$x")" = held ] || fail "hold"
expect_rc 0 ctl approve "$x"
[ "$(state_of "$x")" = scheduled ] || fail "approve"

# Reschedule from an hour ahead to two seconds from now.
soon=$("$PY" -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
expect_rc 0 ctl reschedule "$x" "$soon"
wait_for "ls $box/*$x.txt" 15 || fail "rescheduled post not sent"
expect_rc 2 ctl reschedule "$x"
expect_rc 1 ctl reschedule "$x" "not-a-time"
echo "PASS: $TEST_NAME"
