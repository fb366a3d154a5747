#!/bin/sh
# A reload reads an smtp channel's recipients file on the thread pool, not
# on the loop: the reload is answered and other requests are served while
# the file is read and parsed; its bad lines are still logged, each with
# its line number, once that is done (a missing file too). At the start
# and with --check they are reported as before, before crierd is ready.
# CRIER_TEST_RCHECK_MS makes the thread pool's reading 4 s slower: on the
# loop, the reload would answer only after it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"

RC="$T/recipients.csv"
write_recipients "$RC" 3
echo "not-an-address,Nobody" >> "$RC"	# line 5
write_config "[channel newsletter]" "type = smtp" "url = smtp://127.0.0.1:9" \
	"starttls = no" "from = OGP News <news@example.org>" \
	"recipients_file = $RC"

export CRIER_TEST_RCHECK_MS=4000
start_daemon
grep -qF "recipients.csv:5: 'not-an-address' is not an email address" "$LOG" ||
    fail "the start did not report line 5: $(cat "$LOG")"

# A new bad line, then a reload: answered before the file is read.
echo "also bad,Nobody" >> "$RC"	# line 6
expect_rc 0 ctl reload
grep -qF "recipients.csv:6:" "$LOG" &&
    fail "line 6 was reported before the reload was answered (read on the loop)"
expect_rc 0 ctl status
grep -qF "recipients.csv:6:" "$LOG" &&
    fail "line 6 was reported before status was answered (read on the loop)"
wait_for "grep -qF \"recipients.csv:6: 'also bad' is not an email address\" '$LOG'" 20 ||
    fail "line 6 never reported: $(tail -20 "$LOG")"
[ "$(grep -cF "recipients.csv:5: 'not-an-address'" "$LOG")" = 2 ] ||
    fail "line 5 not reported again by the reload: $(grep -F 'recipients.csv:5' "$LOG")"

# A file that is gone: a warning, after the reload's answer; still running.
mv "$RC" "$RC.gone"
expect_rc 0 ctl reload
wait_for "grep -qF 'recipients_file $RC: No such file or directory' '$LOG'" 20 ||
    fail "the missing file was not reported: $(tail -20 "$LOG")"
expect_rc 0 ctl status

# A stop while a file is being read: crierd still exits 0, nothing left behind.
mv "$RC.gone" "$RC"
expect_rc 0 ctl reload
stop_daemon

# --check reads it in place and names the lines.
unset CRIER_TEST_RCHECK_MS
"$CRIERD" -c "$CONF" --check > "$T/check.out" 2>&1
grep -qF "recipients.csv:6: 'also bad' is not an email address" "$T/check.out" ||
    fail "--check: $(cat "$T/check.out")"
echo "PASS: $TEST_NAME"
