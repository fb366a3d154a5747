#!/bin/sh
# `show` of a newsletter lists its recipients a slice a loop turn, on a
# snapshot of their own (10 000 of them held the loop 21 ms in one turn):
# every recipient once, by email, with the counts of the states listed;
# other clients are answered meanwhile, the same connection's next request
# after it; a client that goes away, or a stop, in the middle ends it
# cleanly. A delivery without recipients shows none, as before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

N=300
SLICE=1
start_smtp s
RC="$T/recipients.csv"
write_recipients "$RC" $N
write_config "[channel newsletter]" "type = smtp" \
	"url = smtp://127.0.0.1:$(smtp_port s)" "starttls = no" \
	"from = news@example.org" "recipients_file = $RC" "sessions = 4" \
	"[channel box]" "type = outbox"
export CRIER_TEST_LIST_SLICE=$SLICE
# A ms before each slice: the other client's requests surely come while
# the reply is made, however loaded the host.
export CRIER_TEST_SLICE_SLEEP_MS=1
start_daemon
expect_rc 0 ctl unsubscribe r07@example.org
expect_rc 0 ctl unsubscribe r150@example.org
ID=$(post_id --channel newsletter --text "Sliced")
wait_state "$ID" sent 120
BOX=$(post_id --channel box --text "No recipients here")
export N ID top_srcdir

# Every recipient once, in the store's order, counted as listed; the rest
# of the delivery as before.
t0=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
ctl --json show "$ID" > "$T/show.json" || fail "show"
t1=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
"$PY" - "$STATE/crier.db" "$T/show.json" <<'PYEOF' || fail "the sliced show is wrong"
import collections, json, os, sqlite3, sys
n, did = int(os.environ["N"]), os.environ["ID"]
r = json.load(open(sys.argv[2]))
d = r["delivery"]
want = list(sqlite3.connect(sys.argv[1]).execute(
    "SELECT email, state, message_id FROM recipients WHERE delivery = ?"
    " ORDER BY email", (did,)))
got = [(x["email"], x["state"], x["message_id"]) for x in d["recipients"]]
if len(want) != n or got != want:
    sys.exit("%d recipients, not the store's %d in order" % (len(got), len(want)))
c = dict(collections.Counter(x["state"] for x in d["recipients"]))
if d["recipient_counts"] != c or c != {"sent": n - 2, "suppressed": 2}:
    sys.exit("counts %s, listed %s" % (d["recipient_counts"], c))
for k in ("id", "state", "channel", "text", "events", "overrides"):
    if k not in d:
        sys.exit("no %s in the delivery" % k)
if not r["ok"] or r["v"] != 1 or d["state"] != "sent" or not d["events"]:
    sys.exit("reply: ok %s v %s state %s" % (r["ok"], r.get("v"), d["state"]))
PYEOF
[ $((t1 - t0)) -ge $((N / SLICE)) ] ||
    fail "the show of $N recipients took $((t1 - t0)) loop turns, not at least $((N / SLICE))"
expect_rc 0 ctl show "$ID"
expect_out "recipients  $N:"
expect_out "$((N - 2)) sent"
expect_out "2 suppressed"
expect_out "r150@example.org"
# Not a newsletter: no recipients at all, answered at once.
[ "$(ctl --json show "$BOX" | jget '"recipients" in d["delivery"] or "recipient_counts" in d["delivery"]')" = False ] ||
    fail "a post to the outbox shows recipients"

# drive.py SOCK MODE: connection A asks for show and then status; B polls
# status meanwhile. MODE close: A goes away after its request; term:
# crierd gets SIGTERM once B has been answered during the show.
cat > "$T/drive.py" <<'PYEOF'
import json, os, signal, sys
sys.path.insert(0, os.environ["top_srcdir"] + "/tests/integration")
from ctl_lines import Replies, ask, conn, left_midway, send
path, mode, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
did = os.environ["ID"]

a, af = conn(path)
b, bf = conn(path)
send(a, {"cmd": "show", "id": did}, {"cmd": "status"})
if mode == "close":
    left_midway(a, b, bf)
got = Replies(a)
seen = 0
while not got.replies:
    ask(b, bf, {"cmd": "status"})
    seen += 1
    if mode == "term":
        os.kill(pid, signal.SIGTERM)
        got.wait(1)
        print(json.dumps({"reply": got.first_or_none()}))
        sys.exit(0)
    if not got.poll():
        sys.exit("closed before the reply")
if not got.wait(2):
    sys.exit("closed after %d replies" % len(got.replies))
print(json.dumps({"seen": seen, "first": list(got.replies[0]),
    "recipients": len(got.replies[0]["delivery"]["recipients"]),
    "second": "counts" in got.replies[1]}))
PYEOF

"$PY" "$T/drive.py" "$SOCK" run "$CRIERD_PID" > "$T/run.json" ||
    fail "show beside status: $(cat "$T/run.json")"
[ "$(jget 'd["seen"] > 0' < "$T/run.json")" = True ] ||
    fail "no other request was answered during the show: $(cat "$T/run.json")"
[ "$(jget 'd["recipients"] == int(__import__("os").environ["N"]) and d["second"]' < "$T/run.json")" = True ] ||
    fail "the show and the status behind it: $(cat "$T/run.json")"

# A client that goes away in the middle: crierd goes on.
"$PY" "$T/drive.py" "$SOCK" close "$CRIERD_PID" > "$T/close.json" ||
    fail "close mid-show: $(cat "$T/close.json")"
[ "$(jget 'd["status"]' < "$T/close.json")" = True ] || fail "status after a close mid-show"
ctl status > /dev/null || fail "crierd is gone after a client left mid-show"

# A stop in the middle: the client is told.
"$PY" "$T/drive.py" "$SOCK" term "$CRIERD_PID" > "$T/term.json" ||
    fail "stop mid-show: $(cat "$T/term.json")"
[ "$(jget 'd["reply"] and d["reply"].get("code")' < "$T/term.json")" = stopping ] ||
    fail "a show cut short by a stop got: $(jget 'd["reply"] and list(d["reply"])' < "$T/term.json")"
wait "$CRIERD_PID"
rc=$?
CRIERD_PID=
[ "$rc" = 0 ] || fail "crierd exited $rc on a stop mid-show"
echo "PASS: $TEST_NAME"
