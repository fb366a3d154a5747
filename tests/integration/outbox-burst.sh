#!/bin/sh
# A burst of posts to the outbox never holds the loop (issue 16): the
# scheduler takes up the rest of a batch a turn later (a 0 ms timer
# restarted from its own callback ran again in the same pass of libuv's
# timers: 20 000 posts went out in one turn of 33 s, no request answered
# meanwhile) and the files are written on the thread pool. Control
# requests are answered during the burst; every post is written once, as
# two files, also across a kill -9 and a stop in the middle of a burst.
. "$(dirname "$0")/lib.sh"

N=${OUTBOX_BURST_N:-1500}
write_config "[channel box]" "type = outbox"
start_daemon
BOX="$STATE/outbox/box"

# burst FIRST COUNT: COUNT posts (texts "burst FIRST+i") pipelined on one
# connection, due in 2 s on the paused channel box; waits until all are held.
burst() {
	ctl pause box >/dev/null || fail "pause"
	post_many box "$2" 2s burst "$1"
	wait_for "[ \"\$(ctl --json status | jget 'd[\"counts\"][\"held\"]')\" = $2 ]" 60 ||
	    fail "the $2 posts were not held on the paused channel"
}

# count STATE: deliveries in STATE.
count() {
	ctl --json status | jget "d['counts']['$1']"
}

# files_ok TOTAL: TOTAL posts written, each once as NAME.txt and NAME.json
# with its own text, no temporary file left.
files_ok() {
	"$PY" - "$BOX" "$1" <<'PYEOF' || fail "outbox files"
import glob, os, sys
box, total = sys.argv[1], int(sys.argv[2])
txt = sorted(glob.glob(os.path.join(box, "*.txt")))
js = glob.glob(os.path.join(box, "*.json"))
tmp = [f for f in os.listdir(box) if f.endswith(".tmp")]
texts = [open(f).read() for f in txt]
if len(txt) != total or len(js) != total:
    sys.exit("%d .txt and %d .json files, not %d each" % (len(txt), len(js), total))
if tmp:
    sys.exit("temporary files left: %s" % tmp[:3])
if len(set(texts)) != total or set(texts) != {"burst %d\n" % i for i in range(total)}:
    sys.exit("the texts are not burst 0..%d once each" % (total - 1))
PYEOF
}

# 1. Requests are answered while the burst runs: a client asking `status`
# over and over from before the `resume` sees some but not all posts sent
# (before, it saw none, then all, after a wait as long as the burst).
burst 0 "$N"
turns0=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
"$PY" - "$SOCK" "$N" > "$T/polls" <<'PYEOF' &
import json, socket, sys, time
path, n = sys.argv[1], int(sys.argv[2])
seen, worst, until = [], 0.0, time.monotonic() + 120
while time.monotonic() < until:
    t = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'{"v":1,"cmd":"status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(1 << 20)
        if not b:
            sys.exit("status: connection closed")
        buf += b
    s.close()
    worst = max(worst, time.monotonic() - t)
    seen.append(json.loads(buf)["counts"]["sent"])
    if seen[-1] == n:
        break
    time.sleep(0.005)
print(len(seen), sum(1 for x in seen if 0 < x < n), seen[-1], "%.1f" % (worst * 1000))
PYEOF
poller=$!
sleep 0.2
ctl resume box >/dev/null || fail "resume"
wait "$poller" || fail "the status poller failed"
read -r polls between last worst < "$T/polls"
[ "$last" = "$N" ] || fail "not all $N posts were sent ($last)"
[ "$between" -gt 0 ] ||
    fail "no status answered during the burst ($polls asked, the slowest in $worst ms)"
turns=$(( $(ctl --json status | jget 'd["daemon"]["loop"]["turns"]') - turns0 ))
# Each write's end is a turn of its own; in one pass there were a handful.
[ "$turns" -ge $(( N / 16 )) ] ||
    fail "the burst of $N took $turns loop turns"
files_ok "$N"

# 2. kill -9 in the middle of a burst: after a restart each post is written once.
M=600
burst "$N" "$M"
ctl resume box >/dev/null || fail "resume"
wait_for "[ \"\$(count sent)\" -gt $N ]" 60 || fail "the second burst did not start"
kill9_daemon
start_daemon
wait_for "[ \"\$(count sent)\" = $(( N + M )) ]" 120 ||
    fail "not all posts were sent after the kill -9"
files_ok $(( N + M ))

# 3. A stop (SIGTERM) in the middle of a burst: writes under way end as
# interrupted, crierd exits 0, and a restart writes the rest.
burst $(( N + M )) "$M"
ctl resume box >/dev/null || fail "resume"
wait_for "[ \"\$(count sent)\" -gt $(( N + M )) ]" 60 || fail "the third burst did not start"
stop_daemon
start_daemon
wait_for "[ \"\$(count sent)\" = $(( N + 2 * M )) ]" 120 ||
    fail "not all posts were sent after the stop"
files_ok $(( N + 2 * M ))
[ "$(count sending)" = 0 ] || fail "deliveries left sending"
stop_daemon
echo "PASS: $TEST_NAME"
