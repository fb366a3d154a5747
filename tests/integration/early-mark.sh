#!/bin/sh
# A delivery is marked `sending` and committed ahead of its due instant (the
# fsync off the instant: issue 16, point 1), yet its request never leaves
# before that instant. CRIER_TEST_EARLY_MS widens the lead from 20 ms to 3 s
# so that the window can be watched: the mark shows in `show` before the due
# time while the peer has seen nothing; the request arrives at or after the
# due time. A pause, and a stop, in that window put the delivery back where
# it was (it never left): held by the pause, or scheduled again after the
# restart, not `uncertain`, and it goes out exactly once.
. "$(dirname "$0")/lib.sh"

"$PY" "$top_srcdir/tests/integration/db_peer.py" "$T/peer.port" \
    "$STATE/crier.db" "$T/peer.log" 150 >"$T/peer.err" 2>&1 &
echo $! > "$T/peer.pid"
wait_for "[ -s '$T/peer.port' ]" 15 || fail "peer did not start: $(cat "$T/peer.err")"
P=$(cat "$T/peer.port")

write_config "[channel hook]" "type = webhook" "url = http://127.0.0.1:$P/hook" \
    "format = json"
CRIER_TEST_EARLY_MS=3000
export CRIER_TEST_EARLY_MS
start_daemon -v

# Posts a webhook due in 6 s; its id into $ID.
post_soon() {
	expect_rc 0 ctl --json post --channel hook --text "$1" --in 6s
	ID=$(echo "$OUT" | jget 'd["ids"][0]')
}

# Waits until $ID is marked `sending`, and checks that it is before its due time.
wait_marked() {
	wait_for "[ \"\$(state_of $ID)\" = sending ]" 10 ||
	    fail "$ID is $(state_of "$ID"), never sending"
	due=$(due_of "$ID")
	now=$(( $(date +%s%N) / 1000000 ))
	[ "$now" -lt "$due" ] || fail "$ID marked only at $now, due $due"
	grep -q "^$ID " "$T/peer.log" && fail "$ID reached the peer before its due time"
	return 0
}

# The due time of delivery $1 in ms, as the store has it.
due_of() {
	"$PY" -c 'import sqlite3,sys
c=sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=5)
print(c.execute("SELECT due FROM deliveries WHERE id = ?", (sys.argv[2],)).fetchone()[0])' \
	    "$STATE/crier.db" "$1"
}

# 1. Marked ahead, sent on time, never before.
post_soon "early mark"
wait_marked
wait_for "grep -q '^$ID ' '$T/peer.log'" 15 || fail "$ID never reached the peer"
read -r _ at due st <<EOF
$(grep "^$ID " "$T/peer.log")
EOF
[ "$at" -ge "$due" ] || fail "$ID arrived at $at, before its due time $due"
[ "$st" = sending ] || fail "$ID arrived while the store said $st"
wait_for "[ \"\$(state_of $ID)\" = sent ]" 10 || fail "$ID is $(state_of "$ID"), not sent"

# 2. Paused in the window: back, and held by the pause; nothing left.
post_soon "paused in the window"
wait_marked
expect_rc 0 ctl pause hook
wait_for "[ \"\$(state_of $ID)\" = held ]" 10 || fail "$ID is $(state_of "$ID"), not held"
sleep 4		# past its due time
grep -q "^$ID " "$T/peer.log" && fail "$ID went out on a paused channel"
expect_rc 0 ctl show "$ID"
expect_out "not started"
expect_rc 0 ctl resume hook
wait_for "[ \"\$(state_of $ID)\" = sent ]" 15 || fail "$ID is $(state_of "$ID") after resume"
[ "$(grep -c "^$ID " "$T/peer.log")" = 1 ] || fail "$ID reached the peer $(grep -c "^$ID " "$T/peer.log") times"

# 3. Stopped in the window: scheduled again after the restart, sent once.
post_soon "stopped in the window"
wait_marked
stop_daemon
grep -q "^$ID " "$T/peer.log" && fail "$ID left although crierd stopped first"
start_daemon -v
st=$(state_of "$ID")
[ "$st" = scheduled ] || [ "$st" = sending ] || [ "$st" = sent ] ||
    fail "$ID is $st after the restart, not scheduled"
expect_rc 0 ctl show "$ID"
expect_out "crierd stopped before its due instant"
wait_for "[ \"\$(state_of $ID)\" = sent ]" 15 || fail "$ID is $(state_of "$ID"), not sent after the restart"
[ "$(grep -c "^$ID " "$T/peer.log")" = 1 ] || fail "$ID reached the peer $(grep -c "^$ID " "$T/peer.log") times"
read -r _ at due st <<EOF
$(grep "^$ID " "$T/peer.log")
EOF
[ "$at" -ge "$due" ] || fail "$ID arrived at $at, before its due time $due"
stop_daemon
