#!/bin/sh
# What crierctl acknowledged survives kill -9: posts, holds, cancels.
. "$(dirname "$0")/lib.sh"

write_config
start_daemon

expect_rc 0 ctl --json post --channel outbox --text "An hour from now" --in 1h
later=$(echo "$OUT" | jget 'd["ids"][0]')
due=$(ctl --json show "$later" | jget 'd["delivery"]["due"]')
expect_rc 0 ctl --json post --channel outbox --text "Held for approval" --in 2h --hold
held=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 ctl --json post --channel outbox --text "Cancelled" --in 3h
gone=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 ctl cancel "$gone"
kill9_daemon

start_daemon
[ "$(state_of "$later")" = scheduled ] || fail "scheduled post lost after kill -9"
[ "$(ctl --json show "$later" | jget 'd["delivery"]["due"]')" = "$due" ] || fail "due time changed"
[ "$(state_of "$held")" = held ] || fail "hold lost after kill -9"
[ "$(state_of "$gone")" = cancelled ] || fail "cancel lost after kill -9"
[ "$(ctl --json status | jget 'd["counts"]["scheduled"]')" = 1 ] || fail "status counts"

# Post, kill -9 the moment it is acknowledged: it is still there.
for i in 1 2 3 4 5; do
	expect_rc 0 ctl --json post --channel outbox --text "burst $i" --in 1d
	echo "$OUT" | jget 'd["ids"][0]' >> "$T/burst"
done
kill9_daemon
start_daemon
while read -r id; do
	[ "$(state_of "$id")" = scheduled ] || fail "burst post $id lost"
done < "$T/burst"
echo "PASS: $TEST_NAME"
