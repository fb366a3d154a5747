#!/bin/sh
# Every message reads as one clean sentence: no repeated prefixes, no
# self-overwritten text, whole values quoted; a calendar with a broken event
# follows one rule (that event is left out, the rest applies), said the same
# way in the log, status and --check.
. "$(dirname "$0")/lib.sh"

CAL="$T/c.ics"
RULE="an event with a problem is left out of this version (its posts stay as the last good version made them); the rest of the calendar is applied"
AT=$(ics_at 7200)
# $1: the good event's description; $2: "broken" adds a bad event.
cal() {
	{
		cat <<ICS
BEGIN:VEVENT
UID:good@t
DTSTAMP:20270101T000000Z
DTSTART:$AT
SUMMARY:Good
DESCRIPTION:$1
END:VEVENT
ICS
		[ "${2:-}" = broken ] && cat <<ICS
BEGIN:VEVENT
UID:broken@t
DTSTAMP:20270101T000000Z
DTSTART;TZID=Nowhere/Land:20270517T090000
SUMMARY:Broken
END:VEVENT
ICS
		[ "${2:-}" = badchannel ] && cat <<ICS
BEGIN:VEVENT
UID:bad@t
DTSTAMP:20270101T000000Z
DTSTART:$AT
SUMMARY:Bad
DESCRIPTION:x
X-CRIER-CHANNELS:telegraph
END:VEVENT
ICS
		true
	} | write_ics "$CAL"
}
cal "Fits."
write_config "[calendar c]" "path = $CAL" "channels = short" \
    "[channel short]" "type = outbox" "limit = 20"
start_daemon
wait_for "[ \"\$(ctl --json list | jget 'len(d[\"deliveries\"])')\" = 1 ]" 15 || fail "not loaded"
G=$(delivery_of good@t short)

# It stops fitting: the state change is said once, plainly.
cal "This description is now much too long."
wait_for "[ \"\$(state_of $G)\" = held ]" 15 || fail "not held"
grep -q "calendar c: $G scheduled -> held (held: does not fit: 38 of 20 characters)" "$LOG" ||
    fail "state change message: $(grep "$G" "$LOG")"
grep -q "in the calendar: .*in the calendar" "$LOG" && fail "a message repeats itself: $(grep 'in the calendar' "$LOG")"
ctl show "$G" | grep -q "held       held: does not fit: 38 of 20 characters" || fail "history: $(ctl show "$G")"

# A broken event: named once (file, line, uid quoted), and the one rule.
cal "Fits." broken
wait_for "grep -q 'Nowhere/Land' '$LOG'" 15 || fail "broken calendar not reported"
line=$(grep -n "UID:broken@t" "$CAL" | cut -d: -f1)
grep -q "calendar c: $CAL:$(( line - 1 )): event \"broken@t\": unknown TZID \"Nowhere/Land\"" "$LOG" ||
    fail "problem message: $(grep 'Nowhere' "$LOG")"
grep -q "event left out" "$LOG" && fail "the log contradicts the rule: $(grep 'left out' "$LOG")"
grep -q "uid broken@t$CAL" "$LOG" && fail "prefix without a space"
grep -q "calendar c: 1 problem: $RULE" "$LOG" || fail "the rule is not in the log"
err=$(ctl --json status | jget 'd["calendars"][0]["error"]')
case "$err" in
*"event \"broken@t\": unknown TZID \"Nowhere/Land\""*"(1 problem): $RULE") ;;
*) fail "status error: $err" ;;
esac
ctl status | grep -qF "$RULE" || fail "status text lacks the rule"
# The rest of that version is applied: the good event fits again.
wait_for "[ \"\$(state_of $G)\" = scheduled ]" 15 || fail "the rest of the version was not applied: $(state_of "$G")"
[ "$(ctl --json list | jget '[x for x in d["deliveries"] if x["uid"] == "broken@t"]')" = "[]" ] ||
    fail "the broken event was scheduled"
OUT=$("$CRIERD" -c "$CONF" --check 2>&1)
case "$OUT" in *"$RULE"*) ;; *) fail "--check does not state the rule: $OUT" ;; esac
echo "$OUT" | grep -q "event left out" && fail "--check says 'left out'"
echo "$OUT" | grep -q "uid broken@t$CAL" && fail "--check doubles the prefix: $OUT"

# An unknown channel is quoted whole.
cal "Fits." badchannel
wait_for "grep -q telegraph '$LOG'" 15 || fail "bad channel not reported"
grep -q "event \"bad@t\": no channel named \"telegraph\"" "$LOG" || fail "channel message: $(grep telegraph "$LOG")"
echo "PASS: $TEST_NAME"
