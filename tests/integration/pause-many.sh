#!/bin/sh
# `pause` holds a channel's scheduled and retrying deliveries in two
# statements a state, whatever their number (one by one, a pause of 100 000
# held the loop for 2.9 s and read every row into memory first): each one
# held is `held` for "channel paused" with its own `held` event, the
# counts in `status` match the rows, the pause survives a kill -9, and
# `resume` schedules them all again, but for one its calendar made
# tentative meanwhile: that one stays held, for approval.
. "$(dirname "$0")/lib.sh"

N=${PAUSE_MANY_N:-2000}
export CRIER_TEST_BACKOFF_MS=60000	# a retrying delivery stays retrying
# A port nothing listens on (taken, then let go).
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CAL="$T/camp.ics"
# cal STATUS: the calendar's one event, tomorrow, in STATUS (its summary says which).
cal() {
	write_ics "$CAL" <<EOV
BEGIN:VEVENT
UID:tent@test
DTSTAMP:20261101T000000Z
DTSTART:$(ics_at 86400)
SUMMARY:Later ($1)
DESCRIPTION:From the calendar.
STATUS:$1
END:VEVENT
EOV
}
cal CONFIRMED
write_config "[channel box]" "type = outbox" \
    "[channel hook]" "type = webhook" "url = http://127.0.0.1:$PORT/x" \
    "[calendar camp]" "path = $CAL" "channels = box"
start_daemon
cid=$(delivery_of tent@test box)
[ -n "$cid" ] || fail "the calendar's delivery did not appear"

# N posts to box, due tomorrow, pipelined on one connection.
post_many box "$N" 1d
# One to hook, whose peer is not there: it ends up retrying.
expect_rc 0 ctl --json post --channel hook --text "to nowhere"
hid=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "[ \"\$(state_of $hid)\" = retrying ]" 30 || fail "the hook post is $(state_of "$hid")"

# count STATE [CHANNEL]: status's count, and the rows list finds.
counts() {
	local c=${2:+--channel $2}
	echo "$(ctl --json status | jget "d['counts']['$1']") $(ctl --json list --state "$1" $c --limit 10000 | jget 'len(d["deliveries"])')"
}

M=$((N + 1))	# with the calendar's
expect_rc 0 ctl --json pause box
[ "$(echo "$OUT" | jget 'd["held"]')" = "$M" ] || fail "pause box: $OUT"
[ "$(counts held)" = "$M $M" ] || fail "held after pausing box: $(counts held)"
[ "$(counts scheduled)" = "0 0" ] || fail "scheduled after pausing box: $(counts scheduled)"
expect_rc 0 ctl --json pause hook
[ "$(echo "$OUT" | jget 'd["held"]')" = 1 ] || fail "pause hook: $OUT"
[ "$(counts held)" = "$((M + 1)) $((M + 1))" ] || fail "held: $(counts held)"
[ "$(counts retrying)" = "0 0" ] || fail "retrying: $(counts retrying)"

# Each is held for the pause, with its own event saying so.
id=$(ctl --json list --channel box --limit 1 | jget 'd["deliveries"][0]["id"]')
for d in "$id" "$hid"; do
	ctl --json show "$d" > "$T/show.json"
	jget 'd["delivery"]["held_for"]' < "$T/show.json" | grep -qx "channel paused" ||
	    fail "$d is held for $(jget 'd["delivery"]["held_for"]' < "$T/show.json")"
	jget '[e["detail"] for e in d["delivery"]["events"] if e["event"] == "held"]' \
	    < "$T/show.json" | grep -q 'channel paused: paused by uid' ||
	    fail "$d has no held event: $(cat "$T/show.json")"
done
n=$(ctl --json log --limit 10000 |
    jget 'sum(1 for e in d["events"] if e["event"] == "held" and e["channel"] == "box")')
[ "$n" = "$M" ] || fail "$n held events for box, not $M"

# The pause survives a kill -9.
kill9_daemon
start_daemon
[ "$(counts held)" = "$((M + 1)) $((M + 1))" ] || fail "held after kill -9: $(counts held)"
[ "$(ctl --json status | jget '[c["paused"] for c in d["channels"] if c["name"] == "box"][0]')" = True ] ||
    fail "box is not paused after kill -9"

# While paused, the calendar makes its event tentative.
cal TENTATIVE
expect_rc 0 ctl reload
wait_for "[ \"\$(dfield $cid summary)\" = 'Later (TENTATIVE)' ]" 30 ||
    fail "the calendar was not reloaded"

# resume schedules them again, the tentative one aside; the hook post too
# (its peer is still not there).
expect_rc 0 ctl --json resume box
[ "$(echo "$OUT" | jget 'd["released"]')" = "$N" ] || fail "resume box: $OUT"
[ "$(counts scheduled box)" = "$N $N" ] || fail "scheduled after resume: $(counts scheduled box)"
[ "$(state_of "$cid")" = held ] || fail "the tentative post is $(state_of "$cid") after resume"
ctl --json show "$cid" > "$T/show.json"
jget 'd["delivery"]["held_for"]' < "$T/show.json" | grep -qx approval ||
    fail "the tentative post is held for $(jget 'd["delivery"]["held_for"]' < "$T/show.json")"
grep -q 'the calendar holds it for approval' "$T/show.json" ||
    fail "no event says the calendar holds it: $(cat "$T/show.json")"
expect_rc 0 ctl resume hook
wait_for "[ \"\$(state_of $hid)\" = retrying ]" 30 || fail "the hook post is $(state_of "$hid") after resume"
[ "$(counts held)" = "1 1" ] || fail "held after resume: $(counts held)"
stop_daemon
echo "PASS: $TEST_NAME"
