#!/bin/sh
# log --follow streams each event as it happens through a pipe and into a
# file (no terminal), text and --json.
. "$(dirname "$0")/lib.sh"

write_config
start_daemon
# Through a pipe, read line by line as `... | grep` would.
ctl log --follow | while IFS= read -r line; do
	printf '%s\n' "$line" >> "$T/pipe.out"
done &
echo $! > "$T/pipe.pid"
ctl --json log --follow > "$T/file.out" &
echo $! > "$T/file.pid"
sleep 0.5
expect_rc 0 ctl --json post --channel outbox --text "Live event one" --in 1h
A=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "grep -q 'queued.*$A' '$T/pipe.out'" 10 || fail "nothing came through the pipe: $(cat "$T/pipe.out" 2>/dev/null)"
wait_for "grep -q '\"delivery\": *\"$A\"' '$T/file.out' || grep -q '\"delivery\":\"$A\"' '$T/file.out'" 10 ||
    fail "nothing reached the file: $(cat "$T/file.out")"
# And the next one, while the followers still run.
expect_rc 0 ctl cancel "$A"
wait_for "grep -q 'cancel .*$A' '$T/pipe.out'" 10 || fail "second event not streamed: $(cat "$T/pipe.out")"
wait_for "grep -c '$A' '$T/file.out' | grep -qx 2" 10 || fail "second event not in the file: $(cat "$T/file.out")"
kill "$(cat "$T/file.pid")" 2>/dev/null
echo "PASS: $TEST_NAME"
