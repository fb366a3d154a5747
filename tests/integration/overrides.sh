#!/bin/sh
# Operator decisions (reschedule, hold, cancel, approve, send-now) survive
# calendar reloads and restarts; a reload changes an overridden occurrence
# only when the calendar itself changed it (time, SEQUENCE, content), and
# then the log and show say so.
. "$(dirname "$0")/lib.sh"

CAL="$T/c.ics"
AX=$(ics_at 7200); AY=$(ics_at 10800); AZ=$(ics_at 14400); AW=$(ics_at 18000)
# The campaign; $1 = x: X moved, y: Y's text changed, z: Z's SEQUENCE bumped.
cal() {
	dx=$AX; ty="Y text"; sz=0
	case "${1:-}" in *x*) dx=$(ics_at 21600) ;; esac
	case "${1:-}" in *y*) ty="Y text, edited" ;; esac
	case "${1:-}" in *z*) sz=1 ;; esac
	write_ics "$CAL" <<ICS
BEGIN:VEVENT
UID:x@t
DTSTAMP:20270101T000000Z
DTSTART:$dx
SUMMARY:X
DESCRIPTION:X text
END:VEVENT
BEGIN:VEVENT
UID:y@t
DTSTAMP:20270101T000000Z
DTSTART:$AY
SUMMARY:Y
DESCRIPTION:$ty
END:VEVENT
BEGIN:VEVENT
UID:z@t
DTSTAMP:20270101T000000Z
DTSTART:$AZ
SEQUENCE:$sz
STATUS:TENTATIVE
SUMMARY:Z
DESCRIPTION:Z text
END:VEVENT
BEGIN:VEVENT
UID:w@t
DTSTAMP:20270101T000000Z
DTSTART:$AW
SUMMARY:W
DESCRIPTION:W text
END:VEVENT
ICS
}
cal
write_config "timezone = Europe/London" "[calendar c]" "path = $CAL" "channels = a,b" \
    "[channel a]" "type = outbox" "[channel b]" "type = outbox"
start_daemon
wait_for "[ \"\$(ctl --json list | jget 'len(d[\"deliveries\"])')\" = 8 ]" 15 ||
    fail "calendar not loaded: $(ctl --json status)"
XA=$(delivery_of x@t a); YA=$(delivery_of y@t a); YB=$(delivery_of y@t b)
ZA=$(delivery_of z@t a); ZB=$(delivery_of z@t b); WA=$(delivery_of w@t a)
XB=$(delivery_of x@t b)

# The decisions, as a person types them (a local time for reschedule).
LATER=$(TZ=Europe/London date -d "@$(( $(date +%s) + 86400 ))" +%Y-%m-%dT%H:%M)
LATER_Z=$(TZ=Europe/London "$PY" -c 'import sys,datetime,zoneinfo
t=datetime.datetime.strptime(sys.argv[1],"%Y-%m-%dT%H:%M").replace(tzinfo=zoneinfo.ZoneInfo("Europe/London"))
print(t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$LATER")
expect_rc 0 ctl reschedule "$XA" "$LATER"
expect_rc 0 ctl --json hold "$YA"
[ "$(echo "$OUT" | jget 'd["state"]')" = held ] || fail "hold --json: $OUT"
expect_rc 0 ctl cancel "$YB"
expect_rc 0 ctl approve --only "$ZA"
expect_rc 0 ctl send-now "$WA"
wait_for "[ \"\$(state_of $WA)\" = sent ]" 15 || fail "send-now: $(state_of "$WA")"
[ "$(dfield "$XA" due)" = "$LATER_Z" ] || fail "reschedule: due $(dfield "$XA" due), want $LATER_Z"
[ "$(ctl --json show "$XA" | jget 'd["delivery"]["overrides"][0]["verb"]')" = reschedule ] ||
    fail "show --json has no override: $(ctl --json show "$XA")"
ctl show "$XA" | grep -q "^override    reschedule to $LATER_Z by uid $(id -u)" ||
    fail "show does not name the override: $(ctl show "$XA")"

# A reload of an unchanged calendar (touched, and crierctl reload) undoes nothing.
check_all() {
	[ "$(dfield "$XA" due)" = "$LATER_Z" ] || fail "$1: reschedule undone: $(dfield "$XA" due)"
	[ "$(state_of "$YA")" = held ] || fail "$1: hold undone: $(state_of "$YA")"
	[ "$(state_of "$YB")" = cancelled ] || fail "$1: cancel undone: $(state_of "$YB")"
	[ "$(state_of "$ZA")" = scheduled ] || fail "$1: approve undone: $(state_of "$ZA")"
	[ "$(state_of "$ZB")" = held ] || fail "$1: approve --only spread: $(state_of "$ZB")"
	[ "$(state_of "$WA")" = sent ] || fail "$1: send-now: $(state_of "$WA")"
}
n0=$(grep -c "loaded 4 events" "$LOG")
touch "$CAL"
wait_for "[ \$(grep -c 'loaded 4 events' '$LOG') -gt $n0 ]" 15 || fail "touch did not reload"
expect_rc 0 ctl reload
wait_for "[ \$(grep -c 'loaded 4 events' '$LOG') -gt $(( n0 + 1 )) ]" 15 || fail "reload did not reload"
check_all "after touch and reload"
grep -q "$XA moved" "$LOG" && fail "a reload claims the calendar moved X: $(grep "$XA moved" "$LOG")"
ctl show "$XA" | grep -q "moved in the calendar" && fail "show claims a calendar move"
ls "$STATE/outbox/a/"*"$WA".txt | wc -l | grep -qx 1 || fail "W sent more than once"

# A restart changes nothing either.
stop_daemon
start_daemon
wait_for "[ \$(grep -c 'loaded 4 events' '$LOG') -gt $(( n0 + 2 )) ]" 15 || fail "no load after restart"
check_all "after restart"

# The calendar changes X's time, Y's text and Z's SEQUENCE: the calendar's
# version applies to those, and the log and show say so.
cal xyz
wait_for "[ \"\$(state_of $YA)\" = scheduled ]" 15 || fail "Y's hold stands after the calendar changed Y"
wait_for "[ \"\$(dfield $XA due)\" != '$LATER_Z' ]" 15 || fail "X kept the override"
[ "$(dfield "$XA" due)" = "$(dfield "$XB" due)" ] || fail "X on a is not at the calendar's new time"
[ "$(state_of "$YB")" = scheduled ] || fail "Y's cancel stands: $(state_of "$YB")"
[ "$(state_of "$ZA")" = held ] || fail "Z's approval stands after a new SEQUENCE: $(state_of "$ZA")"
ctl show "$XA" | grep -q "the calendar changed this occurrence after uid $(id -u)'s reschedule" ||
    fail "show does not say the override ended: $(ctl show "$XA")"
ctl show "$YB" | grep -q "after uid $(id -u)'s cancel" || fail "show YB: $(ctl show "$YB")"
grep -q "calendar c: $ZA: the calendar changed this occurrence after uid $(id -u)'s approve" "$LOG" ||
    fail "the log does not say the approval ended"
[ "$(ctl --json show "$XA" | jget 'len(d["delivery"]["overrides"])')" = 0 ] || fail "override kept"
[ "$(state_of "$WA")" = sent ] || fail "sent W touched"
echo "PASS: $TEST_NAME"
