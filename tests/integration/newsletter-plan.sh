#!/bin/sh
# A long newsletter list is read on a worker thread and planned a slice a
# loop turn (50 000 recipients took 86 ms in one turn, and reading their
# file 17 ms more): the `pending` rows appear slice by slice, other
# clients are answered meanwhile, and no message goes before the whole list
# is planned; a reload, a kill -9 or a stop in the middle of the reading
# or the planning loses nobody and sends nobody two copies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

N=400
start_smtp s
RC="$T/recipients.csv"
# Over 64 KiB: the file is read on a worker thread, not on the loop; 20 MB
# of comments make that take a while (a stop comes in the middle).
"$PY" -c 'import sys
print("email,name")
for i in range(1, int(sys.argv[1]) + 1):
    print("r%02d@example.org,Reader %02d of the Open Government Partnership newsletter" % (i, i))
sys.stdout.write(("# " + "-" * 97 + "\n") * 200000)' $N > "$RC"
[ "$(wc -c < "$RC")" -gt 65536 ] || fail "the recipients file is too small to be read off the loop"
write_config "[channel newsletter]" "type = smtp" \
	"url = smtp://127.0.0.1:$(smtp_port s)" "starttls = no" \
	"from = news@example.org" "recipients_file = $RC" "sessions = 4"
# Four recipients a slice: 100 slices, each its own commit, each 5 ms
# after the last at least: once a third is planned, 300 ms are left to
# act in the middle, however loaded the host (without the wait, a kill
# on a loaded host once landed after the planning, with 7 recipients
# `sending`: rightly uncertain, but not what is tested here).
export CRIER_TEST_PLAN_SLICE=4
export CRIER_TEST_PLAN_SLEEP_MS=5
export CRIER_TEST_BACKOFF_MS=300
start_daemon
export N

# watch.py DB SOCK ID_FILE: posts the newsletter, then watches the store
# (read-only) and asks status until the delivery is sent or crierd goes
# away; prints what it saw. MODE kill/term: sends crierd (PID) SIGKILL or
# SIGTERM once a third of the list is planned.
cat > "$T/watch.py" <<'PYEOF'
import json, os, signal, sqlite3, sys, time
sys.path.insert(0, os.environ["top_srcdir"] + "/tests/integration")
from ctl_lines import ask, conn
db, path, mode, text, pid = sys.argv[1:6]
n = int(os.environ["N"])
s, f = conn(path)
r = ask(s, f, {"cmd": "post", "channel": ["newsletter"], "text": text})
did = r["ids"][0]
open(os.environ["T"] + "/id", "w").write(did)
partial, answered, early, rows_seen, reloaded = 0, 0, [], set(), None
end = time.time() + 120
while time.time() < end:
    c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    rows, going = c.execute("SELECT count(*), count(*) FILTER (WHERE"
        " state != 'pending') FROM recipients WHERE delivery = ?",
        (did,)).fetchone()
    c.close()
    rows_seen.add(rows)
    if going and rows < n:
        early.append((rows, going))
    if 0 < rows < n:
        partial += 1
        try:
            if ask(s, f, {"cmd": "status"})["ok"]:
                answered += 1
        except (OSError, ValueError):
            break
        if mode == "reload" and reloaded is None and rows >= n // 3:
            reloaded = ask(s, f, {"cmd": "reload"})["ok"]
        if mode in ("kill", "term") and rows >= n // 3:
            # At once: the rest of the planning takes 100 more turns.
            os.kill(int(pid), signal.SIGKILL if mode == "kill" else signal.SIGTERM)
            print(json.dumps({"id": did, "rows": rows, "partial": partial}))
            sys.exit(0)
    if rows == n and mode in ("run", "reload"):
        try:
            st = ask(s, f, {"cmd": "show", "id": did})["delivery"]["state"]
        except (OSError, ValueError):
            break
        if st == "sent":
            break
    time.sleep(0.002)
print(json.dumps({"id": did, "partial": partial, "answered": answered,
    "early": early[:5], "distinct_counts": len(rows_seen),
    "reloaded": reloaded}))
PYEOF
export T top_srcdir

# check ID SUBJECT: one message per recipient, every one sent.
check() {
	"$PY" - "$STATE/crier.db" "$1" "$T/s.mail" "$N" "$2" <<'PYEOF'
import collections, email, email.policy, json, sqlite3, sys
db, did, maildir, n, subj = sys.argv[1:6]
n = int(n)
st = dict(sqlite3.connect(db).execute(
    "SELECT email, state FROM recipients WHERE delivery = ?", (did,)))
c = collections.Counter()
for m in json.load(open(maildir + "/index.json")):
    msg = email.message_from_bytes(open(m["file"], "rb").read(), policy=email.policy.default)
    if str(msg["Subject"]) == subj:
        c[m["rcpt_tos"][0]] += 1
twice = [e for e, v in c.items() if v > 1]
assert not twice, twice
assert len(st) == n and all(v == "sent" for v in st.values()), collections.Counter(st.values())
assert len(c) == n, len(c)
PYEOF
}

# resumed JSON SUBJECT HOW: crierd was stopped (HOW kill, or term: it must
# exit 0) before any message of the newsletter JSON names went; the next
# start sends one to each.
resumed() {
	wait "$CRIERD_PID" 2>/dev/null
	rc=$?
	CRIERD_PID=
	[ "$3" = kill ] || [ "$rc" = 0 ] || fail "crierd exited $rc on a stop: $2"
	ID=$(jget 'd["id"]' < "$1")
	[ "$(smtp_count s)" = "$before" ] || fail "messages went before the list was planned: $2"
	start_daemon
	wait_state "$ID" sent 120
	check "$ID" "$2" || fail "one message each after: $2"
}

# Planned in slices; status answered meanwhile; nothing goes out before
# the whole list is planned; then everyone gets one message.
"$PY" "$T/watch.py" "$STATE/crier.db" "$SOCK" run "Planned in slices" "$CRIERD_PID" > "$T/run.json" ||
    fail "watch: $(cat "$T/run.json")"
ID=$(jget 'd["id"]' < "$T/run.json")
[ "$(jget 'd["partial"] > 0 and d["answered"] > 0' < "$T/run.json")" = True ] ||
    fail "the list was never seen part planned with status answered: $(cat "$T/run.json")"
[ "$(jget 'd["distinct_counts"] > 3' < "$T/run.json")" = True ] ||
    fail "the pending rows did not come slice by slice: $(cat "$T/run.json")"
[ "$(jget 'd["early"]' < "$T/run.json")" = "[]" ] ||
    fail "messages went before the list was planned: $(cat "$T/run.json")"
echo "planning watched: $(cat "$T/run.json")"
wait_state "$ID" sent 120
check "$ID" "Planned in slices" || fail "one message each"
grep -q "delivery $ID: newsletter to $N recipients, $N to go" "$LOG" ||
    fail "no planning summary in the log"

# A reload in the middle of the planning (the channels are made anew):
# the post starts on the channel as it is now, everyone gets one message.
"$PY" "$T/watch.py" "$STATE/crier.db" "$SOCK" reload "Reloaded while planned" "$CRIERD_PID" > "$T/reload.json" ||
    fail "watch: $(cat "$T/reload.json")"
ID=$(jget 'd["id"]' < "$T/reload.json")
[ "$(jget 'd["reloaded"]' < "$T/reload.json")" = True ] ||
    fail "no reload during the planning: $(cat "$T/reload.json")"
wait_state "$ID" sent 120
check "$ID" "Reloaded while planned" || fail "after a reload mid-planning"

# kill -9 in the middle of the planning: the next start plans the rest
# and sends to everyone once.
before=$(smtp_count s)
"$PY" "$T/watch.py" "$STATE/crier.db" "$SOCK" kill "Killed while planned" "$CRIERD_PID" > "$T/kill.json" ||
    fail "watch: $(cat "$T/kill.json")"
resumed "$T/kill.json" "Killed while planned" kill

# A stop while the recipients file is read (on a worker thread): crierd
# waits for the read, exits 0 and frees everything; the next start sends.
before=$(smtp_count s)
"$PY" - "$SOCK" "$CRIERD_PID" > "$T/early.json" <<'PYEOF' || fail "stop while read: $(cat "$T/early.json")"
import json, os, signal, sys
sys.path.insert(0, os.environ["top_srcdir"] + "/tests/integration")
from ctl_lines import ask, conn
s, f = conn(sys.argv[1])
r = ask(s, f, {"cmd": "post", "channel": ["newsletter"], "text": "Stopped while read"})
os.kill(int(sys.argv[2]), signal.SIGTERM)
print(json.dumps({"id": r["ids"][0]}))
PYEOF
resumed "$T/early.json" "Stopped while read" term

# A stop in the middle of the planning: crierd exits 0, the next start
# finishes.
before=$(smtp_count s)
"$PY" "$T/watch.py" "$STATE/crier.db" "$SOCK" term "Stopped while planned" "$CRIERD_PID" > "$T/term.json" ||
    fail "watch: $(cat "$T/term.json")"
resumed "$T/term.json" "Stopped while planned" term
stop_daemon
echo "PASS: $TEST_NAME"
