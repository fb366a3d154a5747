#!/bin/sh
# `pause` holds a channel's scheduled and retrying deliveries in two
# statements a state, whatever their number (one by one, a pause of 100 000
# held the loop for 2.9 s and read every row into memory first): each one
# held is `held` for "channel paused" with its own `held` event, the
# counts in `status` match the rows, the pause survives a kill -9, and
# `resume` schedules them all again.
. "$(dirname "$0")/lib.sh"

N=${PAUSE_MANY_N:-2000}
export CRIER_TEST_BACKOFF_MS=60000	# a retrying delivery stays retrying
# A port nothing listens on (taken, then let go).
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_config "[channel box]" "type = outbox" \
    "[channel hook]" "type = webhook" "url = http://127.0.0.1:$PORT/x"
start_daemon

# N posts to box, due tomorrow, pipelined on one connection.
"$PY" - "$SOCK" "$N" <<'PYEOF' || fail "pipelined posts"
import json, socket, sys
path, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall("".join(json.dumps({"v": 1, "cmd": "post", "channel": ["box"],
    "text": "post %d" % i, "in": "1d"}) + "\n" for i in range(n)).encode())
buf, got = b"", 0
while got < n:
    b = s.recv(1 << 20)
    if not b:
        sys.exit("closed after %d replies" % got)
    buf += b
    *lines, buf = buf.split(b"\n")
    for l in lines:
        if not json.loads(l).get("ok"):
            sys.exit("refused: %s" % l)
        got += 1
PYEOF
# One to hook, whose peer is not there: it ends up retrying.
expect_rc 0 ctl --json post --channel hook --text "to nowhere"
hid=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "[ \"\$(state_of $hid)\" = retrying ]" 30 || fail "the hook post is $(state_of "$hid")"

# count STATE [CHANNEL]: status's count, and the rows list finds.
counts() {
	local c=${2:+--channel $2}
	echo "$(ctl --json status | jget "d['counts']['$1']") $(ctl --json list --state "$1" $c --limit 10000 | jget 'len(d["deliveries"])')"
}

expect_rc 0 ctl --json pause box
[ "$(echo "$OUT" | jget 'd["held"]')" = "$N" ] || fail "pause box: $OUT"
[ "$(counts held)" = "$N $N" ] || fail "held after pausing box: $(counts held)"
[ "$(counts scheduled)" = "0 0" ] || fail "scheduled after pausing box: $(counts scheduled)"
expect_rc 0 ctl --json pause hook
[ "$(echo "$OUT" | jget 'd["held"]')" = 1 ] || fail "pause hook: $OUT"
[ "$(counts held)" = "$((N + 1)) $((N + 1))" ] || fail "held: $(counts held)"
[ "$(counts retrying)" = "0 0" ] || fail "retrying: $(counts retrying)"

# Each is held for the pause, with its own event saying so.
id=$(ctl --json list --channel box --limit 1 | jget 'd["deliveries"][0]["id"]')
for d in "$id" "$hid"; do
	ctl --json show "$d" > "$T/show.json"
	jget 'd["delivery"]["held_for"]' < "$T/show.json" | grep -qx "channel paused" ||
	    fail "$d is held for $(jget 'd["delivery"]["held_for"]' < "$T/show.json")"
	jget '[e["detail"] for e in d["delivery"]["events"] if e["event"] == "held"]' \
	    < "$T/show.json" | grep -q 'channel paused: paused by uid' ||
	    fail "$d has no held event: $(cat "$T/show.json")"
done
n=$(ctl --json log --limit 10000 |
    jget 'sum(1 for e in d["events"] if e["event"] == "held" and e["channel"] == "box")')
[ "$n" = "$N" ] || fail "$n held events for box, not $N"

# The pause survives a kill -9.
kill9_daemon
start_daemon
[ "$(counts held)" = "$((N + 1)) $((N + 1))" ] || fail "held after kill -9: $(counts held)"
[ "$(ctl --json status | jget '[c["paused"] for c in d["channels"] if c["name"] == "box"][0]')" = True ] ||
    fail "box is not paused after kill -9"

# resume schedules them again; the hook post too (its peer is still not there).
expect_rc 0 ctl --json resume box
[ "$(echo "$OUT" | jget 'd["released"]')" = "$N" ] || fail "resume box: $OUT"
[ "$(counts scheduled box)" = "$N $N" ] || fail "scheduled after resume: $(counts scheduled box)"
expect_rc 0 ctl resume hook
wait_for "[ \"\$(state_of $hid)\" = retrying ]" 30 || fail "the hook post is $(state_of "$hid") after resume"
[ "$(counts held)" = "0 0" ] || fail "held after resume: $(counts held)"
stop_daemon
echo "PASS: $TEST_NAME"
