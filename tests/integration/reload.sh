#!/bin/sh
# SIGHUP and `crierctl reload` load a new config; a bad one is reported and the old kept.
. "$(dirname "$0")/lib.sh"

write_config
start_daemon
expect_rc 1 ctl post --channel extra --text "x"

write_config "[channel outbox]" "type = outbox" "[channel extra]" "type = outbox"
kill -HUP "$CRIERD_PID"
wait_for "ctl post --channel extra --text 'after reload' --in 1d" 10 || fail "SIGHUP did not load the new channel"

# A broken config: reported with file and line, the old one stays in force.
write_config "[channel outbox]" "type = outbox" "[channel extra]" "type = outbox" "bogus_key = 1"
kill -HUP "$CRIERD_PID"
wait_for "grep -q 'reload failed' '$LOG'" 10 || fail "bad reload not logged"
grep "reload failed" "$LOG" | grep -q "crier.conf:10" || fail "reload error lacks file:line: $(grep 'reload failed' "$LOG")"
kill -0 "$CRIERD_PID" || fail "crierd died on a bad reload"
expect_rc 0 ctl post --channel extra --text "still here" --in 1d
expect_rc 1 ctl reload
expect_out "crier.conf:10"
expect_out "bogus_key"

write_config
expect_rc 0 ctl reload
expect_rc 1 ctl post --channel extra --text "gone now"
expect_rc 0 ctl log
expect_out "reload"
echo "PASS: $TEST_NAME"
