#!/bin/sh
# A reload of a large calendar is applied in slices between loop turns
# (issue 16, point 4): control requests are answered while it applies
# ("applying" in status), a removed post due soonest is cancelled first and
# never sent, and a kill -9 in the middle of applying, then a restart,
# leaves the same rows as a fresh load of the calendar.
. "$(dirname "$0")/lib.sh"

N=${RELOAD_SLICES_N:-20000}
NEV=$(( N / 1000 ))
BASE=$(( $(date +%s) / 3600 * 3600 + 86400 ))	# tomorrow, on the hour
CAL="$T/big.ics"

# gen VERSION SOON: the calendar, its posts' text in version VERSION; with
# an event "soon" SOON seconds from now unless SOON is "-".
gen() {
	"$PY" - "$CAL" "$NEV" "$BASE" "$1" "$2" <<'PYEOF'
import datetime, os, sys, time
out, nev, base, ver, soon = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def at(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
with open(out + ".tmp", "w", newline="") as f:
    f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n")
    for k in range(nev):
        f.write("BEGIN:VEVENT\r\nUID:big-%d@test\r\nDTSTAMP:20261101T000000Z\r\n"
                "DTSTART:%s\r\nRRULE:FREQ=HOURLY;INTERVAL=8;COUNT=1000\r\n"
                "SUMMARY:Series %d\r\nDESCRIPTION:Post %d of the series\\, version %d.\r\n"
                "END:VEVENT\r\n" % (k, at(base + k * 60), k, k, ver))
    if soon != "-":
        f.write("BEGIN:VEVENT\r\nUID:soon@test\r\nDTSTAMP:20261101T000000Z\r\n"
                "DTSTART:%s\r\nSUMMARY:Soon\r\nDESCRIPTION:Due soonest.\r\n"
                "END:VEVENT\r\n" % at(int(time.time()) + int(soon)))
    f.write("END:VCALENDAR\r\n")
os.rename(out + ".tmp", out)
PYEOF
}

# When delivery $2 was last changed, and the earliest change of the others since $3 (ms), in $1.
updated() {
	"$PY" - "$1/crier.db" "$2" "$3" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
one = db.execute("SELECT updated FROM deliveries WHERE id = ?", (sys.argv[2],)).fetchone()[0]
rest = db.execute("SELECT MIN(updated), COUNT(*) FROM deliveries WHERE id != ? AND updated > ?",
                  (sys.argv[2], int(sys.argv[3]))).fetchone()
print(one, rest[0], rest[1])
PYEOF
}

# How many rows of the calendar have the text of version $2, in $1.
at_version() {
	"$PY" - "$1/crier.db" "$2" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
print(db.execute("SELECT COUNT(*) FROM deliveries WHERE text LIKE ?",
                 ("%version " + sys.argv[2] + "%",)).fetchone()[0])
PYEOF
}

# The calendar's rows as they are stored: id, due, state, what the calendar says, text.
rows() {
	"$PY" - "$1/crier.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for r in db.execute("SELECT id, due, state, cal_state, text FROM deliveries"
                    " WHERE uid LIKE 'big-%' ORDER BY id"):
    print("|".join(str(x) for x in r))
PYEOF
}

# Waits (up to $1 s, 300 by default) until the calendar is loaded and nothing
# is being applied. It asks twice a second, not twenty times: a Python per
# question would take half a core from the load it waits for.
settled() {
	local i
	for i in $(seq 1 $(( ${1:-300} * 2 ))); do
		[ "$(ctl --json status 2>/dev/null | jget 'all(c["loaded_at"] and not c["loading"] for c in d["calendars"])' 2>/dev/null)" = True ] &&
		    return 0
		sleep 0.5
	done
	return 1
}

scheduled() {
	ctl --json status | jget 'd["counts"].get("scheduled", 0)'
}

cfg() {
	write_config "horizon = 400d" "$@" "[channel outbox]" "type = outbox" \
	    "[calendar big]" "path = $CAL" "channels = outbox"
}

gen 0 3600
cfg
start_daemon
settled || fail "$N occurrences not loaded"
[ "$(scheduled)" -ge $(( N + 1 )) ] || fail "not all scheduled: $(scheduled)"
# 0. The slices wait while the WAL is copied into the database, so it
#    starts over small; without that it grew to 4 000 frames (16 MiB),
#    where a commit copies it on the loop (10-26 ms each at 100k). SQLite
#    reuses the file, so its size is the most it ever held.
wal=$(stat -c %s "$STATE/crier.db-wal")
echo "WAL after loading $N occurrences: $wal bytes, $(( wal / 4120 )) frames"
[ "$wal" -lt $(( 2500 * 4120 )) ] || fail "the WAL grew to $(( wal / 4120 )) frames while loading"

# 1. A reload of a configuration that changed (if only by a comment)
#    renders every row again; status is answered between its slices.
cfg "# edited"
before=$(ctl --json status | jget 'd["calendars"][0]["loaded_at"]')
r0=$(date +%s)
ctl reload >/dev/null || fail "reload refused"
seen=0 answers=0
for _ in $(seq 1 6000); do
	st=$(ctl --json status) || fail "status failed during the reload"
	answers=$((answers + 1))
	# applying, loading, loaded: one Python for the three
	set -- $(echo "$st" | jget '" ".join(str(c[k] is not None if k == "loaded_at" else c[k]) for c in d["calendars"][:1] for k in ("applying", "loading", "loaded_at"))') - - -
	[ "$1" = True ] && seen=$((seen + 1))
	[ "$2" = False ] && [ "$3" = True ] && break
	# list and agenda are answered too, not only status
	[ "$seen" = 1 ] && { ctl --json list --limit 5 >/dev/null || fail "list during the reload"; }
done
[ "$seen" -ge 1 ] || fail "no answer arrived while the reload was applying ($answers answers)"
R=$(( $(date +%s) - r0 ))
echo "reload: $seen of $answers status answers arrived while it was applying ($R s)"

# 2. The calendar drops "soon" and changes every other post: the
#    cancellation is applied first, and the post is never sent. It is due
#    after the change can have been read (twice the reload above), so the
#    calendar has said so in time, and on a slow machine while the other
#    changes are still being applied.
S=$(( 2 * R + 5 ))
gen 0 "$S"
due=$(( $(date +%s) + S ))
settled || fail "soon not loaded"
soon=$(ctl --json list --limit 1 | jget 'd["deliveries"][0]["id"]')
[ "$(dfield "$soon" uid)" = soon@test ] || fail "the first post is not soon@test"
t0=$(( $(date +%s%N) / 1000000 ))
gen 1 -
wait_for "[ \"\$(state_of $soon)\" = cancelled ]" 120 || fail "removed post not cancelled: $(state_of "$soon")"
settled || fail "the changes were not applied"
[ "$(date +%s)" -gt "$due" ] && echo "soon was due while the changes were being applied"
set -- $(updated "$STATE" "$soon" "$t0")
[ "${3:-0}" -ge "$N" ] || fail "only ${3:-0} of $N posts were changed"
[ "$1" -le "$2" ] || fail "the removed post due soonest was cancelled after other changes ($1 > $2)"
while [ "$(date +%s)" -le $(( due + 1 )) ]; do sleep 0.5; done
[ "$(state_of "$soon")" = cancelled ] || fail "removed post is $(state_of "$soon")"
! ls "$STATE/outbox/outbox" 2>/dev/null | grep -q "$soon" || fail "the removed post was sent"

# 3. kill -9 while a change of every row is being applied; a restart converges.
gen 2 -
wait_for "[ \"\$(at_version $STATE 2)\" -gt 0 ]" 120 ||
    fail "the change was never seen applying"
kill9_daemon
rows "$STATE" > "$T/mid.txt"
start_daemon
settled || fail "not loaded after the restart"
stop_daemon
rows "$STATE" > "$T/after.txt"
# A fresh state directory loading the same calendar is the reference.
STATE0=$STATE
STATE="$T/fresh"
cfg
start_daemon
settled || fail "fresh load failed"
stop_daemon
rows "$STATE" > "$T/fresh.txt"
[ "$(wc -l < "$T/fresh.txt")" -eq "$N" ] || fail "fresh load has $(wc -l < "$T/fresh.txt") rows, not $N"
cmp -s "$T/after.txt" "$T/fresh.txt" ||
    fail "after kill -9 and restart the rows differ from a fresh load: $(diff "$T/after.txt" "$T/fresh.txt" | head -5)"
changed=$("$PY" -c '
import sys
a = [l.split("|")[4] for l in open(sys.argv[1])]
b = [l.split("|")[4] for l in open(sys.argv[2])]
print(sum(x == y for x, y in zip(a, b)))' "$T/mid.txt" "$T/fresh.txt")
[ "$changed" -gt 0 ] && [ "$changed" -lt "$N" ] ||
    fail "the kill was not in the middle of applying ($changed of $N changed)"
echo "kill -9: $changed of $N rows had their new text when killed; all $N after the restart"
echo "PASS: $TEST_NAME"
