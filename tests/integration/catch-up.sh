#!/bin/sh
# Due while crierd was down: sent if late by less than catch_up, else missed.
. "$(dirname "$0")/lib.sh"

in_secs() {
	"$PY" -c 'import datetime,sys; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(seconds=int(sys.argv[1]))).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$1"
}

CATCH_UP=1h write_config
start_daemon
expect_rc 0 ctl --json post --channel outbox --text "late but in time" --at "$(in_secs 2)"
ok=$(echo "$OUT" | jget 'd["ids"][0]')
stop_daemon
sleep 4
start_daemon
wait_for "[ \"\$(state_of $ok)\" = sent ]" 15 || fail "post due while down (within catch_up) not sent"
stop_daemon

CATCH_UP=1s write_config
start_daemon
expect_rc 0 ctl --json post --channel outbox --text "too late" --at "$(in_secs 2)"
late=$(echo "$OUT" | jget 'd["ids"][0]')
kill9_daemon
sleep 5
start_daemon
[ "$(state_of "$late")" = missed ] || fail "post due while down (beyond catch_up) is $(state_of "$late")"
ls "$STATE/outbox/outbox/"*"$late".* >/dev/null 2>&1 && fail "missed post was written"
expect_rc 0 ctl show "$late"
expect_out "catch_up"
echo "PASS: $TEST_NAME"
