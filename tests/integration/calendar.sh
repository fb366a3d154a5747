#!/bin/sh
# Calendars become deliveries; edits reconcile (moved, removed, re-added; sent
# stays sent), a file replaced by rename reloads, a broken edit keeps the old
# schedule, and all of it holds across kill -9.
. "$(dirname "$0")/lib.sh"

CAL="$T/campaign.ics"
# Writes the campaign calendar, replacing it by rename as editors do.
# $1: extra shell-style flags: moveB removeC moveA broken badchannel
write_cal() {
	"$PY" - "$CAL.tmp" "$BASE" "$@" <<'PYEOF'
import sys, datetime
out, base, flags = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def t(secs):
    return datetime.datetime.fromtimestamp(base + secs, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
ev = []
def add(uid, start, summary, extra=""):
    ev.append(f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:{t(start)}\r\n"
              f"SUMMARY:{summary}\r\n{extra}END:VEVENT\r\n")
add("a@ogw.test", 6 if "moveA" not in flags else 3600 * 5, "Day one",
    "DESCRIPTION:Day one of Open Gov Week\r\nURL:https://www.opengovpartnership.org/\r\n")
add("b@ogw.test", 5400 if "moveB" in flags else 3600, "Day two", "DESCRIPTION:Day two\r\n")
if "removeC" not in flags:
    add("c@ogw.test", 7200, "Day three", "DESCRIPTION:Day three\r\n")
add("d@ogw.test", 10800, "Needs approval", "DESCRIPTION:Tentative\r\nSTATUS:TENTATIVE\r\n")
add("e@ogw.test", 86400, "Weekly", "DESCRIPTION:Weekly post\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n")
ev.append(f"BEGIN:VEVENT\r\nUID:e@ogw.test\r\nDTSTAMP:20270101T000000Z\r\nRECURRENCE-ID:{t(86400 + 14 * 86400)}\r\n"
          f"DTSTART:{t(86400 + 14 * 86400)}\r\nSUMMARY:Weekly\r\nDESCRIPTION:x\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n")
if "broken" in flags:
    ev.append("BEGIN:VEVENT\r\nUID:broken@ogw.test\r\nDTSTAMP:20270101T000000Z\r\n"
              "DTSTART;TZID=Nowhere/Land:20270517T090000\r\nSUMMARY:Broken\r\nEND:VEVENT\r\n")
if "badchannel" in flags:
    ev.append(f"BEGIN:VEVENT\r\nUID:bad@ogw.test\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:{t(4000)}\r\n"
              "SUMMARY:Bad\r\nDESCRIPTION:x\r\nX-CRIER-CHANNELS:telegraph\r\nEND:VEVENT\r\n")
tail = "END:VCALENDAR\r\n" if "truncated" not in flags else "BEGIN:VEVENT\r\nUID:cut@ogw.test\r\nDTSTART:2027"
open(out, "w", newline="").write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n" + "".join(ev) + tail)
PYEOF
	mv "$CAL.tmp" "$CAL"
}

# The id of the delivery of event $1 (and instance $2, optional).
id_of() {
	ctl --json list --limit 1000 | jget "[x['id'] for x in d['deliveries'] if x['uid']=='$1'][${2:-0}]"
}
field() {
	ctl --json show "$1" | jget "d['delivery']['$2']"
}

BASE=$(date +%s)
write_cal
write_config "[channel outbox]" "type = outbox" "[calendar camp]" "path = $CAL" "channels = outbox"
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"]')\" != null ]" 10 || fail "calendar not loaded"
ctl --json status > "$T/status.json"
[ "$(jget 'd["calendars"][0]["name"]' < "$T/status.json")" = camp ] || fail "status calendar name"
[ "$(jget 'd["calendars"][0]["events"]' < "$T/status.json")" = 6 ] || fail "status events: $(cat "$T/status.json")"
[ "$(jget 'd["calendars"][0]["error"]' < "$T/status.json")" = null ] || fail "status error"

A=$(id_of a@ogw.test); B=$(id_of b@ogw.test); C=$(id_of c@ogw.test); D=$(id_of d@ogw.test)
E3=$(id_of e@ogw.test 2)
[ "$(field "$A" calendar)" = camp ] || fail "calendar field"
[ "$(field "$D" state)" = held ] || fail "TENTATIVE is not held"
[ "$(field "$E3" state)" = cancelled ] || fail "cancelled instance is $(field "$E3" state)"
[ "$(field "$(id_of e@ogw.test 1)" recurrence_id)" != null ] || fail "recurrence_id missing"
# A is due 6 s after start: on a slow machine it may already have gone.
ctl --json status > "$T/counts.json"
[ $(( $(jget 'd["counts"]["scheduled"]' < "$T/counts.json") + $(jget 'd["counts"].get("sent", 0)' < "$T/counts.json") )) = 5 ] ||
	fail "scheduled count: $(cat "$T/counts.json")"

box="$STATE/outbox/outbox"
wait_for "ls $box/*$A.txt" 20 || fail "calendar post A not sent"
printf 'Day one of Open Gov Week\n\nhttps://www.opengovpartnership.org/\n' > "$T/want"
cmp -s "$T/want" "$box"/*"$A".txt || fail "A's text: $(cat "$box"/*"$A".txt)"
dueB=$(field "$B" due)

# Edit by rename: B moves, C is removed, A (already sent) moves.
write_cal moveB removeC moveA
wait_for "[ \"\$(field $B due)\" != '$dueB' ]" 10 || fail "rename did not reload the calendar"
[ "$(field "$B" state)" = scheduled ] || fail "moved B not scheduled"
[ "$(field "$C" state)" = cancelled ] || fail "removed C is $(field "$C" state)"
[ "$(field "$A" state)" = sent ] || fail "sent A changed state"
ctl show "$B" | grep -q "moved in the calendar" || fail "move not in B's history"
grep -q "calendar camp: .*moved" "$LOG" || fail "move not logged"
# Re-added: scheduled again, same id.
write_cal moveB moveA
wait_for "[ \"\$(field $C state)\" = scheduled ]" 10 || fail "re-added C not scheduled"

# A broken edit: reported with file, line and reason; the old schedule stays.
dueB=$(field "$B" due)
write_cal moveB moveA broken
wait_for "ctl --json status | jget 'd[\"calendars\"][0][\"error\"]' | grep -q Nowhere" 10 ||
    fail "broken calendar not reported: $(ctl --json status)"
ctl --json status | jget 'd["calendars"][0]["error"]' | grep -q "campaign.ics:" || fail "error lacks the file"
[ "$(field "$B" due)" = "$dueB" ] && [ "$(field "$B" state)" = scheduled ] || fail "broken edit changed B"
[ "$(field "$C" state)" = scheduled ] || fail "broken edit changed C"
write_cal moveB moveA truncated
wait_for "ctl --json status | jget 'd[\"calendars\"][0][\"error\"]' | grep -q 'campaign.ics'" 10 ||
    fail "a truncated file not reported: $(ctl --json status | jget 'd["calendars"]')"
grep -q "calendar camp: .*campaign.ics" "$LOG" || fail "truncated file not logged"
[ "$(field "$B" due)" = "$dueB" ] && [ "$(field "$C" state)" = scheduled ] || fail "truncated file changed the schedule"
write_cal moveB moveA badchannel
wait_for "ctl --json status | jget 'd[\"calendars\"][0][\"error\"]' | grep -q telegraph" 10 ||
    fail "unknown channel not reported"
write_cal moveB moveA
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"error\"]')\" = null ]" 10 || fail "fixed calendar still in error"

# crierctl approve on the tentative post; a person's approval survives reloads.
expect_rc 0 ctl approve "$D"
loaded=$(ctl --json status | jget 'd["calendars"][0]["loaded_at"]')
sleep 1.1	# loaded_at has whole-second resolution
expect_rc 0 ctl reload
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"]')\" != '$loaded' ]" 10 ||
    fail "crierctl reload did not re-read the calendar"
[ "$(field "$D" state)" = scheduled ] || fail "approval undone by a reload"

# kill -9 and restart: same ids, nothing duplicated, sent stays sent.
ctl --json list --limit 1000 | jget 'sorted((x["id"], x["state"]) for x in d["deliveries"])' > "$T/before"
kill9_daemon
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"]')\" != null ]" 10 || fail "not reloaded after restart"
ctl --json list --limit 1000 | jget 'sorted((x["id"], x["state"]) for x in d["deliveries"])' > "$T/after"
cmp -s "$T/before" "$T/after" || fail "deliveries differ after restart: $(diff "$T/before" "$T/after")"
[ "$(ls "$box"/*"$A".txt | wc -l)" = 1 ] || fail "A written twice"
echo "PASS: $TEST_NAME"
