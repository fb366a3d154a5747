#!/bin/sh
# Sign-off is about the content: approve ID approves every held delivery of
# the occurrence (--only: that one); hold, cancel and reschedule take --event
# for all its channels. Text and --json.
. "$(dirname "$0")/lib.sh"

CAL="$T/c.ics"
AT=$(ics_at 7200)
write_ics "$CAL" <<ICS
BEGIN:VEVENT
UID:m@t
DTSTAMP:20270101T000000Z
DTSTART:$AT
STATUS:TENTATIVE
SUMMARY:Ministerial statement
DESCRIPTION:Ministers commit to open contracting.
END:VEVENT
BEGIN:VEVENT
UID:n@t
DTSTAMP:20270101T000000Z
DTSTART:$AT
STATUS:TENTATIVE
SUMMARY:N
DESCRIPTION:N text
END:VEVENT
BEGIN:VEVENT
UID:e@t
DTSTAMP:20270101T000000Z
DTSTART:$AT
RRULE:FREQ=DAILY;COUNT=2
SUMMARY:E
DESCRIPTION:E text
END:VEVENT
ICS
write_config "[calendar c]" "path = $CAL" "channels = a,b,c" \
    "[channel a]" "type = outbox" "[channel b]" "type = outbox" "[channel c]" "type = outbox"
start_daemon
wait_for "[ \"\$(ctl --json list | jget 'len(d[\"deliveries\"])')\" = 12 ]" 15 ||
    fail "calendar not loaded: $(ctl --json status)"
MA=$(delivery_of m@t a); MB=$(delivery_of m@t b); MC=$(delivery_of m@t c)

# approve one id: all three channels, listed in the reply.
expect_rc 0 ctl approve "$MB"
for id in $MA $MB $MC; do
	expect_out "$id scheduled"
	[ "$(state_of "$id")" = scheduled ] || fail "$id not approved"
done
[ "$(echo "$OUT" | wc -l)" = 3 ] || fail "approve reply: $OUT"

# --only: just that one; --json lists it.
NA=$(delivery_of n@t a); NB=$(delivery_of n@t b)
expect_rc 0 ctl --json approve --only "$NA"
[ "$(echo "$OUT" | jget '[x["id"] for x in d["deliveries"]]')" = "[\"$NA\"]" ] || fail "--only: $OUT"
[ "$(state_of "$NB")" = held ] || fail "--only approved $NB too"
expect_rc 0 ctl --json approve "$NB"
[ "$(echo "$OUT" | jget 'len(d["deliveries"])')" = 2 ] || fail "approve rest: $OUT"
expect_rc 1 ctl approve "$NA"
expect_out "cannot approve"

# hold --event, reschedule --event, cancel --event: every channel of that
# instance, and only that instance.
E0A=$(delivery_of e@t a 0); E0B=$(delivery_of e@t b 0); E0C=$(delivery_of e@t c 0)
E1A=$(delivery_of e@t a 1)
expect_rc 0 ctl hold --event "$E0C"
for id in $E0A $E0B $E0C; do
	[ "$(state_of "$id")" = held ] || fail "hold --event: $id is $(state_of "$id")"
done
[ "$(state_of "$E1A")" = scheduled ] || fail "hold --event reached the next instance"
expect_rc 0 ctl hold "$E1A"
[ "$(state_of "$(delivery_of e@t b 1)")" = scheduled ] || fail "hold without --event spread"
NEW=$(date -u -d "@$(( $(date +%s) + 3 * 86400 ))" +%Y-%m-%dT%H:%M:00Z)
expect_rc 0 ctl --json reschedule --event "$E0A" "$NEW"
[ "$(echo "$OUT" | jget 'len(d["deliveries"])')" = 3 ] || fail "reschedule --event: $OUT"
for id in $E0A $E0B $E0C; do
	[ "$(dfield "$id" due)" = "$NEW" ] || fail "reschedule --event: $id due $(dfield "$id" due)"
	[ "$(state_of "$id")" = held ] || fail "reschedule --event released a hold"
done
expect_rc 0 ctl cancel --event "$E0B"
for id in $E0A $E0B $E0C; do
	[ "$(state_of "$id")" = cancelled ] || fail "cancel --event: $id"
done

# Ad-hoc posts to several channels are one occurrence too.
expect_rc 0 ctl --json post --channel a,b --text "Livestream soon" --in 1h --hold
P1=$(echo "$OUT" | jget 'd["ids"][0]'); P2=$(echo "$OUT" | jget 'd["ids"][1]')
expect_rc 0 ctl approve "$P1"
[ "$(state_of "$P2")" = scheduled ] || fail "ad-hoc approve did not cover both"
expect_rc 0 ctl cancel --event "$P2"
[ "$(state_of "$P1")" = cancelled ] || fail "ad-hoc cancel --event"
grep -q "approve $MA -> scheduled (same occurrence)" "$LOG" || fail "not logged per delivery"
echo "PASS: $TEST_NAME"
