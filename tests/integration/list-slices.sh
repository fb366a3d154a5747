#!/bin/sh
# A list (or log, with --follow too) longer than a slice is read a slice a loop turn on a
# cursor of its own (one list --limit 10000 held the loop 100-160 ms): it has every
# row once, in order, as the database has them when it began; other
# clients are answered meanwhile, and their changes do not show in it; the
# same connection's next request is answered after it; a client that goes
# away, or a stop, in the middle ends it cleanly.
. "$(dirname "$0")/lib.sh"

N=${LIST_SLICES_N:-600}
SLICE=1
export CRIER_TEST_LIST_SLICE=$SLICE
# A ms between slices: a list of N takes N ms at least, so that the other
# client's requests surely come while it is made, however loaded the host.
export CRIER_TEST_SLICE_SLEEP_MS=1
write_config "[channel box]" "type = outbox"
start_daemon
post_many box "$N" 1d
export N top_srcdir

# Every row once, in the database's order, the fields the small list has.
ctl --json list --limit "$N" > "$T/all.json" || fail "list --limit $N"
ctl --json list --limit 5 > "$T/five.json" || fail "list --limit 5"
"$PY" - "$STATE/crier.db" "$T/all.json" "$T/five.json" <<'PYEOF' || fail "the sliced list is wrong"
import json, os, sqlite3, sys
n = int(os.environ["N"])
rows = json.load(open(sys.argv[2]))["deliveries"]
ids = [r["id"] for r in rows]
want = [r[0] for r in sqlite3.connect(sys.argv[1]).execute(
    "SELECT id FROM deliveries ORDER BY due, channel, id")]
if len(ids) != n or len(set(ids)) != n:
    sys.exit("%d rows, %d ids, not %d" % (len(ids), len(set(ids)), n))
if ids != want:
    sys.exit("not in the database's order")
five = json.load(open(sys.argv[3]))["deliveries"]
if rows[:5] != five:
    sys.exit("the first rows differ from list --limit 5: %s / %s" % (rows[0], five[0]))
PYEOF

# log too: the newest events in order, the same as the short log's, over
# at least a turn a slice.
t0=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
ctl --json log --limit 500 > "$T/log.json" || fail "log --limit 500"
t1=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
ctl --json log --limit 5 > "$T/log5.json" || fail "log --limit 5"
"$PY" - "$STATE/crier.db" "$T/log.json" "$T/log5.json" <<'PYEOF' || fail "the sliced log is wrong"
import json, sqlite3, sys
ev = json.load(open(sys.argv[2]))["events"]
want = [r[0] for r in sqlite3.connect(sys.argv[1]).execute(
    "SELECT seq FROM events ORDER BY seq DESC LIMIT 500")][::-1]
if [e["seq"] for e in ev] != want:
    sys.exit("%d events, not the newest 500 in order" % len(ev))
if ev[-5:] != json.load(open(sys.argv[3]))["events"]:
    sys.exit("the last events differ from log --limit 5")
PYEOF
[ $((t1 - t0)) -ge $((500 / SLICE)) ] ||
    fail "the log of 500 took $((t1 - t0)) loop turns, not at least $((500 / SLICE))"

# drive.py SOCK MODE: connection A asks for the list and then status;
# connection B meanwhile posts one due before all, cancels the last row,
# and polls status. MODE close: A goes away after its request; term:
# crierd gets SIGTERM once B has been answered during the list.
cat > "$T/drive.py" <<'PYEOF'
import json, os, signal, sys
sys.path.insert(0, os.environ["top_srcdir"] + "/tests/integration")
from ctl_lines import Replies, ask, conn, left_midway, send
path, mode, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = int(os.environ["N"])

a, af = conn(path)
b, bf = conn(path)
last = ask(b, bf, {"cmd": "list", "limit": n})["deliveries"][-1]["id"]
turns0 = ask(b, bf, {"cmd": "status"})["daemon"]["loop"]["turns"]
send(a, {"cmd": "list", "limit": n}, {"cmd": "status"})
if mode == "close":
    left_midway(a, b, bf)
got = Replies(a)
seen, changed, early_ids = 0, False, []
while not got.replies:
    if not changed:
        # A's list was read before this status: it has begun, and these
        # must not show in it.
        ask(b, bf, {"cmd": "status"})
        changed = True
        early = ask(b, bf, {"cmd": "post", "channel": ["box"], "text": "early", "in": "1h"})
        cancel = ask(b, bf, {"cmd": "cancel", "id": last})
        early_ids = early.get("ids", [])
        if not early["ok"] or not cancel["ok"] or not early_ids:
            sys.exit("post/cancel: %s %s" % (early, cancel))
        if mode == "term":
            os.kill(pid, signal.SIGTERM)
            got.wait(1)
            print(json.dumps({"reply": got.first_or_none()}))
            sys.exit(0)
    ask(b, bf, {"cmd": "status"})
    seen += 1
    if not got.poll():
        sys.exit("closed before the reply")
if not got.wait(2):
    sys.exit("closed after %d replies" % len(got.replies))
turns1 = ask(b, bf, {"cmd": "status"})["daemon"]["loop"]["turns"]
rows = got.replies[0]["deliveries"]
print(json.dumps({"ok": got.replies[0]["ok"], "rows": len(rows), "changed": changed,
    "seen": seen, "turns": turns1 - turns0,
    "early_in": [r["id"] for r in rows if r["id"] in early_ids],
    "last_state": [r["state"] for r in rows if r["id"] == last],
    "status_after": got.replies[1]["counts"]}))
PYEOF

"$PY" "$T/drive.py" "$SOCK" run "$CRIERD_PID" > "$T/run.json" ||
    fail "list during changes: $(cat "$T/run.json")"
[ "$(jget 'd["ok"] and d["changed"]' < "$T/run.json")" = True ] ||
    fail "the list was answered before another client could change anything: $(cat "$T/run.json")"
[ "$(jget 'd["rows"]' < "$T/run.json")" = "$N" ] ||
    fail "the list had $(jget 'd["rows"]' < "$T/run.json") rows, not the $N there were when it began"
[ "$(jget 'd["last_state"]' < "$T/run.json")" = '["scheduled"]' ] ||
    fail "a row cancelled during the list shows as $(jget 'd["last_state"]' < "$T/run.json")"
[ "$(jget 'd["early_in"]' < "$T/run.json")" = "[]" ] ||
    fail "a post made during the list shows in it"
[ "$(jget 'd["turns"]' < "$T/run.json")" -ge $((N / SLICE)) ] ||
    fail "the list of $N took $(jget 'd["turns"]' < "$T/run.json") loop turns, not at least $((N / SLICE))"
# The status behind it on the same connection saw the changes: it came after.
[ "$(jget 'd["status_after"].get("cancelled")' < "$T/run.json")" = 1 ] ||
    fail "the request behind the list was answered before it: $(cat "$T/run.json")"
# A list made after them has them: one more row, the new post first.
ctl --json list --limit "$((N + 1))" > "$T/after.json"
[ "$(jget 'len(d["deliveries"])' < "$T/after.json")" = "$((N + 1))" ] ||
    fail "after: $(jget 'len(d["deliveries"])' < "$T/after.json") rows, not $((N + 1))"
[ "$(jget 'd["deliveries"][-1]["state"]' < "$T/after.json")" = cancelled ] ||
    fail "after: the last row is $(jget 'd["deliveries"][-1]["state"]' < "$T/after.json"), not cancelled"

# A client that goes away in the middle: crierd goes on.
"$PY" "$T/drive.py" "$SOCK" close "$CRIERD_PID" > "$T/close.json" ||
    fail "close mid-list: $(cat "$T/close.json")"
[ "$(jget 'd["status"]' < "$T/close.json")" = True ] || fail "status after a close mid-list"
ctl status > /dev/null || fail "crierd is gone after a client left mid-list"

# agenda too, with its posts grouped by day across slices: 30 more posts
# a day later make a second day (with the N, the early one and the one
# cancelled, N + 31 in the window).
post_many box 30 2d later
t0=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
ctl --json agenda --days 3 --limit $((N + 31)) > "$T/agenda.json" || fail "agenda"
t1=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
ctl --json agenda --days 3 --limit $((N + 30)) > "$T/agenda-less.json" || fail "agenda"
ctl --json agenda --days 3 --limit 5 > "$T/agenda5.json" || fail "agenda --limit 5"
"$PY" - "$STATE/crier.db" "$T/agenda.json" "$T/agenda-less.json" "$T/agenda5.json" <<'PYEOF' || fail "the sliced agenda is wrong"
import json, os, sqlite3, sys
n = int(os.environ["N"]) + 31
a, less, five = (json.load(open(f)) for f in sys.argv[2:5])
items = [it for d in a["days"] for it in d["items"]]
want = [r[0] for r in sqlite3.connect(sys.argv[1]).execute(
    "SELECT id FROM deliveries ORDER BY due, channel, id")]
if [it["id"] for it in items] != want or len(want) != n:
    sys.exit("%d items, not the %d of the window in order" % (len(items), n))
if len(a["days"]) < 2 or len(set(d["date"] for d in a["days"])) != len(a["days"]):
    sys.exit("days: %s" % [(d["date"], len(d["items"])) for d in a["days"]])
if a["more"] or not less["more"] or not five["more"]:
    sys.exit("more: %s %s %s" % (a["more"], less["more"], five["more"]))
if sum(len(d["items"]) for d in less["days"]) != n - 1:
    sys.exit("limit %d showed %d" % (n - 1, sum(len(d["items"]) for d in less["days"])))
if five["days"][0]["items"] != a["days"][0]["items"][:5] or \
        {k: v for k, v in five["days"][0].items() if k != "items"} != \
        {k: v for k, v in a["days"][0].items() if k != "items"}:
    sys.exit("the first items differ from agenda --limit 5")
PYEOF
[ $((t1 - t0)) -ge $((N / SLICE)) ] ||
    fail "the agenda of $((N + 31)) took $((t1 - t0)) loop turns, not at least $((N / SLICE))"

# log --follow too: its 500 a slice a turn; what is logged meanwhile (a
# post) is streamed after the reply, once, and the reply has none of it.
t0=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
ctl --json log --follow --limit 500 > "$T/follow.out" 2>&1 &
FOLLOW=$!
sleep 0.1
ctl --json post --channel box --text "logged while the log is made" --in 2d > "$T/mid.json" ||
    fail "post during log --follow"
MID=$(jget 'd["ids"][0]' < "$T/mid.json")
wait_for "grep -q '$MID' '$T/follow.out'" 30 || fail "log --follow: no event of $MID: $(head -c 300 "$T/follow.out")"
t1=$(ctl --json status | jget 'd["daemon"]["loop"]["turns"]')
kill "$FOLLOW" 2>/dev/null
wait "$FOLLOW" 2>/dev/null
"$PY" - "$STATE/crier.db" "$T/follow.out" "$MID" <<'PYEOF' || fail "log --follow: $(head -c 600 "$T/follow.out")"
import json, sqlite3, sys
lines = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
first, rest = lines[0], lines[1:]
if not (first.get("ok") and first.get("following")):
    sys.exit("the first line is not the reply: %s" % str(first)[:200])
ev = first["events"]
if len(ev) != 500 or any(e["delivery"] == sys.argv[3] for e in ev):
    sys.exit("the reply: %d events, or one of the post made after it began" % len(ev))
streamed = [l["event"] for l in rest]
if not streamed or any("event" not in l for l in rest):
    sys.exit("the stream: %s" % rest[:3])
seqs = [e["seq"] for e in ev] + [e["seq"] for e in streamed]
db = [r[0] for r in sqlite3.connect(sys.argv[1]).execute(
    "SELECT seq FROM events WHERE seq >= ? ORDER BY seq", (seqs[0],))]
if seqs != db[:len(seqs)]:
    sys.exit("reply + stream are not the database's events, each once, in order")
if not any(e["delivery"] == sys.argv[3] for e in streamed):
    sys.exit("the post's event was not streamed")
PYEOF
[ $((t1 - t0)) -ge $((500 / SLICE)) ] ||
    fail "log --follow of 500 took $((t1 - t0)) loop turns, not at least $((500 / SLICE))"

# A stop in the middle: the client is told.
"$PY" "$T/drive.py" "$SOCK" term "$CRIERD_PID" > "$T/term.json" ||
    fail "stop mid-list: $(cat "$T/term.json")"
[ "$(jget 'd["reply"] and d["reply"].get("code")' < "$T/term.json")" = stopping ] ||
    fail "a list cut short by a stop got: $(jget 'd["reply"] and dict((k, v if k != "deliveries" else "%d rows" % len(v)) for k, v in d["reply"].items())' < "$T/term.json")"
wait "$CRIERD_PID"
rc=$?
CRIERD_PID=
[ "$rc" = 0 ] || fail "crierd exited $rc on a stop mid-list"
echo "PASS: $TEST_NAME"
