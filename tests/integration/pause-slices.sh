#!/bin/sh
# A channel's pause and resume move its rows a slice a loop turn (one
# transaction each), not all in one turn (a pause of 100 000 held the loop
# for 1.2 s): the reply comes once every row is moved, other clients are
# answered meanwhile (they see part of the rows moved), the same
# connection's next request waits for it, a resume that comes meanwhile
# takes over, and a kill -9 in the middle of either is finished at the
# next start, each row moved once.
. "$(dirname "$0")/lib.sh"

N=${PAUSE_SLICES_N:-600}
SLICE=10
export CRIER_TEST_PAUSE_SLICE=$SLICE
write_config "[channel box]" "type = outbox"
start_daemon
post_many box "$N" 1d

# counts: "held scheduled" of box, from status.
counts() {
	ctl --json status | jget '"%d %d" % (d["counts"].get("held", 0), d["counts"].get("scheduled", 0))'
}
# turns: the loop turns crierd has made.
turns() {
	ctl --json status | jget 'd["daemon"]["loop"]["turns"]'
}
# events NAME: how many NAME events box's deliveries have.
events() {
	ctl --json log --limit 10000 |
	    jget "sum(1 for e in d['events'] if e['event'] == '$1' and e['channel'] == 'box' and e.get('delivery'))"
}

# drive.py SOCK PID VERB [kill|term]: sends VERB for box and `status` on
# one connection, while another polls status; prints JSON of what each saw.
# With kill (term), crierd gets SIGKILL (SIGTERM) once the poll sees part
# of the rows moved; with term, the reply VERB then got is printed.
cat > "$T/drive.py" <<'PYEOF'
import json, os, signal, sys
sys.path.insert(0, os.environ["top_srcdir"] + "/tests/integration")
from ctl_lines import Replies, ask, conn
path, pid, verb = sys.argv[1], int(sys.argv[2]), sys.argv[3]
kill = sys.argv[4] if len(sys.argv) > 4 else None
n = int(os.environ["N"])

a, af = conn(path)
b, bf = conn(path)
a.sendall((json.dumps({"v": 1, "cmd": verb, "channel": "box"}) + "\n" +
           json.dumps({"v": 1, "cmd": "status"}) + "\n").encode())
got = Replies(a)
seen = []
while not got.replies:
    # The poll, on its own connection, until the reply comes.
    st = ask(b, bf, {"cmd": "status"})
    moved = st["counts"].get("held" if verb == "pause" else "scheduled", 0)
    seen.append(moved)
    if kill == "kill" and 0 < moved < n:
        os.kill(pid, signal.SIGKILL)
        print(json.dumps({"killed_at": moved}))
        sys.exit(0)
    if kill == "term" and 0 < moved < n:
        os.kill(pid, signal.SIGTERM)
        got.wait(1)
        print(json.dumps({"stopped_at": moved, "reply": got.first_or_none()}))
        sys.exit(0)
    if not got.poll():
        sys.exit("closed before the reply")
if not got.wait(2):
    sys.exit("closed after %d replies" % len(got.replies))
print(json.dumps({"replies": got.replies, "seen": seen}))
PYEOF
export N top_srcdir

# The pause: answered once all are held; others are answered meanwhile.
t0=$(turns)
"$PY" "$T/drive.py" "$SOCK" "$CRIERD_PID" pause > "$T/pause.json" ||
    fail "pause: $(cat "$T/pause.json")"
t1=$(turns)
[ "$(jget 'd["replies"][0]["ok"]' < "$T/pause.json")" = True ] ||
    fail "pause refused: $(cat "$T/pause.json")"
[ "$(jget 'd["replies"][0]["held"]' < "$T/pause.json")" = "$N" ] ||
    fail "pause held $(jget 'd["replies"][0]["held"]' < "$T/pause.json"), not $N"
# The status sent behind it on the same connection came after all were held.
[ "$(jget 'd["replies"][1]["counts"].get("held")' < "$T/pause.json")" = "$N" ] ||
    fail "the request behind the pause was answered before it: $(jget 'd["replies"][1]["counts"]' < "$T/pause.json")"
jget "[m for m in d['seen'] if 0 < m < $N]" < "$T/pause.json" | grep -q '[0-9]' ||
    fail "no status answered during the pause saw part of it held: $(jget 'd["seen"]' < "$T/pause.json")"
[ $((t1 - t0)) -ge $((N / SLICE)) ] ||
    fail "the pause of $N took $((t1 - t0)) loop turns, not at least $((N / SLICE))"
[ "$(counts)" = "$N 0" ] || fail "after the pause: $(counts)"

# A resume, then a pause while it still releases: the resume answers with
# what it released so far, and the pause holds those again.
"$PY" - "$SOCK" > "$T/both.json" <<'PYEOF' || fail "resume then pause: $(cat "$T/both.json")"
import json, os, sys
sys.path.insert(0, os.environ["top_srcdir"] + "/tests/integration")
from ctl_lines import conn
n = int(os.environ["N"])
a, af = conn(sys.argv[1])
b, bf = conn(sys.argv[1])
a.sendall((json.dumps({"v": 1, "cmd": "resume", "channel": "box"}) + "\n").encode())
while True:
    b.sendall(b'{"v":1,"cmd":"status"}\n')
    if 0 < json.loads(bf.readline())["counts"].get("scheduled", 0) < n:
        break
b.sendall(b'{"v":1,"cmd":"pause","channel":"box"}\n')
print(json.dumps({"resume": json.loads(af.readline()), "pause": json.loads(bf.readline())}))
PYEOF
r=$(jget 'd["resume"]["released"]' < "$T/both.json")
p=$(jget 'd["pause"]["held"]' < "$T/both.json")
[ "$r" -gt 0 ] && [ "$r" -lt "$N" ] ||
    fail "the resume taken over released $r of $N: $(cat "$T/both.json")"
[ "$p" = "$r" ] || fail "the pause held $p, the resume had released $r"
[ "$(counts)" = "$N 0" ] || fail "after resume and pause: $(counts)"
[ $(($(events held) - $(events resumed))) = "$N" ] ||
    fail "$(events held) held and $(events resumed) resumed events for $N held"

# kill_mid VERB COUNTS: a kill -9 in the middle of VERB; the next start
# finishes it, until counts says COUNTS.
kill_mid() {
	"$PY" "$T/drive.py" "$SOCK" "$CRIERD_PID" "$1" kill > "$T/kill.json" ||
	    fail "$1: $(cat "$T/kill.json")"
	grep -q killed_at "$T/kill.json" ||
	    fail "the $1 ended before a status saw it half done: $(cat "$T/kill.json")"
	wait "$CRIERD_PID" 2>/dev/null
	CRIERD_PID=
	start_daemon
	wait_for "[ \"\$(counts)\" = '$2' ]" 30 ||
	    fail "after a kill -9 mid-$1: $(counts), not $2"
}

# A stop in the middle of a resume: its client is told (not a closed
# connection), and the next start finishes it.
"$PY" "$T/drive.py" "$SOCK" "$CRIERD_PID" resume term > "$T/term.json" ||
    fail "resume: $(cat "$T/term.json")"
grep -q stopped_at "$T/term.json" ||
    fail "the resume ended before a status saw it half done: $(cat "$T/term.json")"
[ "$(jget 'd["reply"] and d["reply"].get("code")' < "$T/term.json")" = stopping ] ||
    fail "a resume cut short by a stop got: $(cat "$T/term.json")"
wait "$CRIERD_PID"
rc=$?
CRIERD_PID=
[ "$rc" = 0 ] || fail "crierd exited $rc on a stop mid-resume"
start_daemon
wait_for "[ \"\$(counts)\" = '0 $N' ]" 30 ||
    fail "after a stop mid-resume: $(counts), not 0 $N"
ctl pause box > /dev/null || fail "pause box again"

# The next start releases what an interrupted resume left.
kill_mid resume "0 $N"
[ "$(ctl --json status | jget '[c["paused"] for c in d["channels"] if c["name"] == "box"][0]')" = False ] ||
    fail "box is paused after its resume was interrupted"
[ "$(events held)" = "$(events resumed)" ] ||
    fail "$(events held) held and $(events resumed) resumed events after the resume was finished"

# And holds what an interrupted pause left.
kill_mid pause "$N 0"
[ $(($(events held) - $(events resumed))) = "$N" ] ||
    fail "$(events held) held and $(events resumed) resumed events after the pause was finished"
id=$(ctl --json list --channel box --limit 1 | jget 'd["deliveries"][0]["id"]')
[ "$(dfield "$id" held_for)" = "channel paused" ] ||
    fail "$id is held for $(dfield "$id" held_for)"
stop_daemon
echo "PASS: $TEST_NAME"
