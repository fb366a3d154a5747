#!/bin/sh
# A time in the past is refused for post --at and reschedule, with the
# send-now hint; within 60 s it counts as now. Durations read as people
# write them.
. "$(dirname "$0")/lib.sh"

CATCH_UP=2s
write_config "timezone = Europe/London"
start_daemon
box="$STATE/outbox/outbox"

expect_rc 1 ctl post --channel outbox --text "Too late" --at 2025-01-01T10:00
expect_out "in the past"
expect_out "send-now"
echo "$OUT" | grep -Eq "'2025-01-01T10:00' is [0-9]+d( [0-9]+h)? in the past" ||
    fail "the distance is not in days and hours: $OUT"
expect_rc 1 ctl --json post --channel outbox --text "Too late" --at 2025-01-01T10:00
[ "$(echo "$OUT" | jget 'd["code"]')" = bad_request ] || fail "--json: $OUT"
[ "$(ctl --json list | jget 'len(d["deliveries"])')" = 0 ] || fail "a past post was queued"

# 30 s ago is within the grace: it goes now.
NEARLY=$(TZ=Europe/London date -d "@$(( $(date +%s) - 30 ))" +%Y-%m-%dT%H:%M:%S)
expect_rc 0 ctl --json post --channel outbox --text "Just now" --at "$NEARLY"
G=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "ls $box/*$G.txt" 15 || fail "a post 30 s late was not sent: $(state_of "$G")"

# reschedule into the past: refused, nothing changes.
expect_rc 0 ctl --json post --channel outbox --text "Later" --in 2h
L=$(echo "$OUT" | jget 'd["ids"][0]')
due=$(dfield "$L" due)
PAST=$(date -u -d "@$(( $(date +%s) - 3 * 3600 - 300 ))" +%Y-%m-%dT%H:%M:%SZ)
expect_rc 1 ctl reschedule "$L" "$PAST"
expect_out "3h 5m in the past"
expect_out "send-now $L"
[ "$(dfield "$L" due)" = "$due" ] || fail "a refused reschedule moved it"
NOW=$(date -u -d "@$(( $(date +%s) - 20 ))" +%Y-%m-%dT%H:%M:%SZ)
expect_rc 0 ctl reschedule "$L" "$NOW"
wait_for "ls $box/*$L.txt" 15 || fail "rescheduled to (nearly) now: not sent"

# A post missed while crierd was down says how late in human units.
expect_rc 0 ctl --json post --channel outbox --text "Missed" --in 1s
M=$(echo "$OUT" | jget 'd["ids"][0]')
stop_daemon
sleep 4
start_daemon
[ "$(state_of "$M")" = missed ] || fail "not missed: $(state_of "$M")"
ctl show "$M" | grep -Eq "due [0-9]+s ago while crierd was down, more than catch_up \(2s\)" ||
    fail "missed detail: $(ctl show "$M")"
ctl status | grep -Eq "^crierd .* up since .* \([0-9]+s\)$" || fail "status uptime: $(ctl status | head -1)"
echo "PASS: $TEST_NAME"
