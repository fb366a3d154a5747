#!/bin/sh
# restore undoes cancel (held if its time has passed); edit changes a queued
# ad-hoc post, re-rendered and re-measured, and refuses calendar posts;
# post --dry-run renders and measures per channel and queues nothing;
# --var sets summary, description and url.
. "$(dirname "$0")/lib.sh"

CAL="$T/c.ics"
mkdir "$T/tpl"
printf '{{summary}}: {{description}} {{url}} ({{vars.tag}})' > "$T/tpl/card.mustache"
write_ics "$CAL" <<ICS
BEGIN:VEVENT
UID:k@t
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 7200)
SUMMARY:K
DESCRIPTION:K text
END:VEVENT
BEGIN:VEVENT
UID:gone@t
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 7200)
STATUS:CANCELLED
SUMMARY:Gone
DESCRIPTION:Gone
END:VEVENT
ICS
write_config "templates = $T/tpl" "[calendar c]" "path = $CAL" "channels = box" \
    "[channel box]" "type = outbox" "[channel tiny]" "type = outbox" "limit = 30" \
    "[channel sky]" "type = outbox" "like = bluesky"
start_daemon
wait_for "[ \"\$(ctl --json list | jget 'len(d[\"deliveries\"])')\" = 2 ]" 15 || fail "calendar not loaded"
K=$(delivery_of k@t box); GONE=$(delivery_of gone@t box)

# cancel, then restore: back to scheduled, and it survives a reload.
expect_rc 0 ctl cancel "$K"
expect_rc 0 ctl restore "$K"
expect_out "$K scheduled"
[ "$(state_of "$K")" = scheduled ] || fail "restore: $(state_of "$K")"
expect_rc 0 ctl reload
sleep 1
[ "$(state_of "$K")" = scheduled ] || fail "restore undone by a reload"
expect_rc 1 ctl restore "$K"
expect_out "only a cancelled delivery"
expect_rc 1 ctl restore "$GONE"
expect_out "restore the event in the calendar"
# A cancelled post whose time has passed comes back held.
expect_rc 0 ctl --json post --channel box --text "Soon" --in 2s
S=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 ctl cancel "$S"
sleep 3
expect_rc 0 ctl --json restore "$S"
[ "$(echo "$OUT" | jget 'd["state"]')" = held ] || fail "late restore: $OUT"
ls "$STATE/outbox/box/"*"$S".txt >/dev/null 2>&1 && fail "a late restore was sent without asking"

# edit: an ad-hoc post gets a new text, measured; too long is refused.
expect_rc 0 ctl --json post --channel tiny --text "First draft" --in 1h
E=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 ctl edit "$E" --text "Second draft"
[ "$(dfield "$E" text)" = "Second draft" ] || fail "edit: $(dfield "$E" text)"
[ "$(dfield "$E" summary)" = "Second draft" ] || fail "edit summary"
ctl show "$E" | grep -q "edited .*new text, 12 of 30 characters" || fail "edit history: $(ctl show "$E")"
expect_rc 1 ctl edit "$E" --text "This text is far too long for the tiny channel"
expect_out "46 characters, 16 over the limit of 30 for tiny"
[ "$(dfield "$E" text)" = "Second draft" ] || fail "a refused edit changed the text"
expect_rc 0 ctl --json edit "$E" --template card --var summary=Hi --var description=there --var tag=x
[ "$(echo "$OUT" | jget 'd["text"]')" = "Hi: there  (x)" ] || fail "edit --template: $OUT"
expect_rc 1 ctl edit "$K" --text "not here"
expect_out "edit the event in the calendar"
expect_rc 1 ctl edit "$E"
expect_out "edit needs --text T or --template T"

# post --dry-run: per channel text and length; nothing queued.
n=$(ctl --json list | jget 'len(d["deliveries"])')
expect_rc 0 ctl post --dry-run --channel tiny,sky --template card \
    --var summary="Open Gov Week" --var description="starts today" \
    --var url=https://www.opengovpartnership.org/ --var tag=ogw
expect_out "Open Gov Week: starts today https://www.opengovpartnership.org/ (ogw)"
expect_out "DOES NOT FIT"
expect_out "/ 300"
expect_out "dry run: nothing was queued"
expect_rc 0 ctl --json post --dry-run --channel tiny,sky --text "Short"
[ "$(echo "$OUT" | jget '[(p["channel"], p["length"], p["limit"], p["fits"]) for p in d["previews"]]')" = \
    '[["tiny", 5, 30, true], ["sky", 5, 300, true]]' ] || fail "dry-run --json: $OUT"
[ "$(ctl --json list | jget 'len(d["deliveries"])')" = "$n" ] || fail "dry run queued something"
echo "PASS: $TEST_NAME"
