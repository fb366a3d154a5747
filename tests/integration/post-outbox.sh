#!/bin/sh
# A post queued with --in 3s is written to the outbox when due, and list
# says sent; one due soon after later ones are queued goes too.
. "$(dirname "$0")/lib.sh"

write_config
start_daemon

before=$(date +%s)
expect_rc 0 ctl --json post --channel outbox --text "Open Gov Week starts today: #OpenGovWeek" --in 2s
id=$(echo "$OUT" | jget 'd["ids"][0]')
[ ${#id} = 12 ] || fail "bad id '$id'"
box="$STATE/outbox/outbox"
# Only meaningful while the due time is still ahead (a loaded machine may be slow).
if [ $(( $(date +%s) - before )) -lt 2 ]; then
	[ "$(state_of "$id")" = scheduled ] || fail "not scheduled right after post"
	ls "$box"/*"$id".txt >/dev/null 2>&1 && fail "written before it was due"
fi

wait_for "ls $box/*$id.txt" 15 || fail "no file in the outbox"
after=$(date +%s)
[ $((after - before)) -ge 1 ] || fail "sent too early ($((after - before)) s after posting)"
txt=$(ls "$box"/*"$id".txt)
[ "$(cat "$txt")" = "Open Gov Week starts today: #OpenGovWeek" ] || fail "text differs: $(cat "$txt")"
side=${txt%.txt}.json
[ "$(jget 'd["id"]' < "$side")" = "$id" ] || fail "sidecar id"
[ "$(jget 'd["channel"]' < "$side")" = outbox ] || fail "sidecar channel"
due=$(jget 'd["due"]' < "$side")
sent=$(jget 'd["sent"]' < "$side")
[ -n "$due" ] && [ -n "$sent" ] || fail "sidecar lacks due/sent"
# Sent at or after due (ISO 8601 UTC strings compare as text).
[ "$(printf '%s\n%s\n' "$due" "$sent" | sort | head -n1)" = "$due" ] || fail "sent $sent before due $due"
ls "$box"/.*.tmp >/dev/null 2>&1 && fail "temporary file left behind"

wait_for "[ \"\$(ctl --json list | jget 'd[\"deliveries\"][0][\"state\"]')\" = sent ]" 5 || fail "list does not say sent"
ctl --json list > "$T/list.json"
for f in id state channel due calendar uid recurrence_id summary attempts last_error remote_url; do
	jget "d['deliveries'][0]['$f']" < "$T/list.json" >/dev/null || fail "list lacks field $f"
done
[ "$(jget 'd["deliveries"][0]["attempts"]' < "$T/list.json")" = 1 ] || fail "attempts != 1"

# A unique prefix works as an id; show has the text and the history.
prefix=$(echo "$id" | cut -c1-6)
expect_rc 0 ctl show "$prefix"
expect_out "Open Gov Week starts today"
expect_out "sent"
expect_rc 0 ctl log
expect_out "queued"
expect_out "$id"
# Human list.
expect_rc 0 ctl list
expect_out "$id"
expect_out "sent"

# A post due in 2 s, made while the scheduler sleeps until posts a week
# and a month ahead, wakes it (it sleeps up to 5 minutes at a time).
expect_rc 0 ctl --json post --channel outbox --text "next week" --in 7d
expect_rc 0 ctl --json post --channel outbox --text "next month" --in 30d
expect_rc 0 ctl --json post --channel outbox --text "soon after them" --in 2s
soon=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "ls $box/*$soon.txt" 15 || fail "a post due in 2 s after later ones was not sent: $(state_of "$soon")"

stop_daemon
[ -e "$SOCK" ] && fail "socket left behind after SIGTERM"
echo "PASS: $TEST_NAME"
