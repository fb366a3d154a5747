#!/bin/sh
# A post with a problem (does not fit, unknown template) is held with the
# problem as held_for; approve, send-now and retry refuse it naming the
# problem; fixing the calendar or template releases it by itself; and the
# last look before sending measures again.
. "$(dirname "$0")/lib.sh"

CAL="$T/c.ics"
AT=$(ics_at 7200)
LONG=$(printf 'x%.0s' $(seq 1 80))
mkdir "$T/tpl"
printf '{{description}}' > "$T/tpl/plain.mustache"
# The campaign: P on short (limit 50) and wide; Q with template $2.
cal() {
	write_ics "$CAL" <<ICS
BEGIN:VEVENT
UID:p@t
DTSTAMP:20270101T000000Z
DTSTART:$AT
SUMMARY:P
DESCRIPTION:$1
X-CRIER-CHANNELS:short,wide
X-CRIER-TEMPLATE:plain
END:VEVENT
BEGIN:VEVENT
UID:q@t
DTSTAMP:20270101T000000Z
DTSTART:$AT
SUMMARY:Q
DESCRIPTION:Q text
X-CRIER-CHANNELS:wide
X-CRIER-TEMPLATE:$2
END:VEVENT
BEGIN:VEVENT
UID:r@t
DTSTAMP:20270101T000000Z
DTSTART:$AT
STATUS:TENTATIVE
SUMMARY:R
DESCRIPTION:$1
X-CRIER-CHANNELS:short
X-CRIER-TEMPLATE:plain
END:VEVENT
ICS
}
conf() {
	write_config "templates = $T/tpl" "[calendar c]" "path = $CAL" \
	    "[channel short]" "type = outbox" "like = mastodon" "limit = $1" \
	    "[channel wide]" "type = outbox" "like = bluesky"
}
cal "$LONG" nosuch
conf 50
start_daemon
wait_for "[ \"\$(ctl --json list | jget 'len(d[\"deliveries\"])')\" = 4 ]" 15 ||
    fail "calendar not loaded: $(ctl --json status)"
PS=$(delivery_of p@t short); PW=$(delivery_of p@t wide); Q=$(delivery_of q@t wide)
R=$(delivery_of r@t short)

[ "$(state_of "$PS")" = held ] || fail "too long post is $(state_of "$PS")"
[ "$(dfield "$PS" held_for)" = "does not fit: 80 of 50 characters" ] ||
    fail "held_for: $(dfield "$PS" held_for)"
[ "$(state_of "$PW")" = scheduled ] || fail "the fitting channel is $(state_of "$PW")"
# Tentative and too long: the problem comes first.
[ "$(dfield "$R" held_for)" = "does not fit: 80 of 50 characters" ] ||
    fail "tentative too long: held_for $(dfield "$R" held_for)"
case "$(dfield "$Q" held_for)" in
"cannot render: template nosuch"*) ;;
*) fail "unknown template: held_for $(dfield "$Q" held_for)" ;;
esac
ctl show "$PS" | grep -q "^held for    does not fit: 80 of 50 characters" ||
    fail "show does not say why: $(ctl show "$PS")"

# Nobody can push it out as it is.
for verb in approve send-now retry; do
	expect_rc 1 ctl $verb "$PS"
	expect_out "does not fit: 80 of 50 characters"
	expect_rc 1 ctl --json $verb "$PS"
	[ "$(echo "$OUT" | jget 'd["code"]')" = problem ] || fail "$verb --json: $OUT"
done
expect_rc 1 ctl approve --only "$Q"
expect_out "cannot render: template nosuch"
[ "$(state_of "$PS")" = held ] || fail "a refused verb changed the state"

# Fixing the calendar re-renders and releases it.
cal "Short enough now." nosuch
wait_for "[ \"\$(state_of $PS)\" = scheduled ]" 15 || fail "fixed post still $(state_of "$PS")"
[ "$(dfield "$PS" held_for)" = null ] || fail "held_for after the fix"
[ "$(dfield "$PS" last_error)" = null ] || fail "last_error after the fix: $(dfield "$PS" last_error)"
[ "$(dfield "$PS" text)" = "Short enough now." ] || fail "not re-rendered"
ctl show "$PS" | grep -q "the problem is fixed" || fail "the release is not in the history"
# A tentative post that did not fit now waits for approval, and says so.
[ "$(dfield "$R" held_for)" = approval ] || fail "fixed tentative post: held_for $(dfield "$R" held_for)"
expect_rc 0 ctl approve "$R"
# Fixing the template (and reloading) releases Q.
printf 'Q: {{description}}' > "$T/tpl/nosuch.mustache"
expect_rc 0 ctl reload
wait_for "[ \"\$(state_of $Q)\" = scheduled ]" 15 || fail "template fix: Q is $(state_of "$Q")"
[ "$(dfield "$Q" text)" = "Q: Q text" ] || fail "Q text: $(dfield "$Q" text)"

# The last look: a post that fitted when queued but not when due is held.
TEXT40=$(printf 'y%.0s' $(seq 1 40))
expect_rc 0 ctl --json post --channel short --text "$TEXT40" --in 4s
A=$(echo "$OUT" | jget 'd["ids"][0]')
conf 20
expect_rc 0 ctl reload
wait_for "[ \"\$(state_of $A)\" = held ]" 20 || fail "over-long post is $(state_of "$A")"
[ "$(dfield "$A" held_for)" = "does not fit: 40 of 20 characters" ] ||
    fail "last look held_for: $(dfield "$A" held_for)"
ls "$STATE/outbox/short/"*"$A".txt >/dev/null 2>&1 && fail "the over-long post was written"
expect_rc 1 ctl send-now "$A"
expect_out "does not fit: 40 of 20 characters"
# Editing it to fit releases it, and it goes.
expect_rc 0 ctl edit "$A" --text "fits now"
wait_for "ls $STATE/outbox/short/*$A.txt" 15 || fail "edited post not sent ($(state_of "$A"))"
[ "$(cat "$STATE"/outbox/short/*"$A".txt)" = "fits now" ] || fail "sent text"
echo "PASS: $TEST_NAME"
