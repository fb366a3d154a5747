#!/bin/sh
# Tracked links: `utm =` on a channel, and on a calendar (which wins), is
# rendered with {{channel}}, {{calendar}} and the event's fields, and its
# parameters are appended to each http(s) link of the post: after an
# existing query, before a fragment, "/" added to a bare host; links that
# carry utm_* already and punctuation after a link are left alone. Tagging
# comes before measuring: --check shows the tagged length, and a post that
# fits only untagged is a problem.
. "$(dirname "$0")/lib.sh"

CAL="$T/cal.ics"
AT=$(ics_at 2)
write_ics "$CAL" <<ICS
BEGIN:VEVENT
UID:utm@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$AT
SUMMARY:Day one
DESCRIPTION:Agenda https://ogp.example/agenda?day=1#am and https://ogp.example
END:VEVENT
ICS
write_config "[channel box]" "type = outbox" "like = bluesky" \
	"utm = source={{channel}}&medium=social" \
	"[channel short]" "type = outbox" "like = bluesky" "limit = 80" \
	"[calendar ogw]" "path = $CAL" "channels = box" \
	"utm = source={{channel}}&medium=social&campaign={{calendar}}&content={{summary}}"
start_daemon

# An ad-hoc post: the channel's utm (no calendar: campaign would be empty).
TEXT="Read https://ogp.example/report (and https://ogp.example/search?q=open+gov&lang=en#results), not https://ogp.example/x?utm_source=news. See https://ogp.example#top."
id=$(ctl --json post --channel box --text "$TEXT" | jget 'd["ids"][0]')
box="$STATE/outbox/box"
wait_for "ls $box/*$id.txt" 15 || fail "no file in the outbox"
got=$(cat "$box"/*"$id".txt)
want="Read https://ogp.example/report?utm_source=box&utm_medium=social (and https://ogp.example/search?q=open+gov&lang=en&utm_source=box&utm_medium=social#results), not https://ogp.example/x?utm_source=news. See https://ogp.example/?utm_source=box&utm_medium=social#top."
[ "$got" = "$want" ] || fail "outbox text:
 got: $got
want: $want"
[ "$(dfield "$id" text)" = "$want" ] || fail "show text: $(dfield "$id" text)"

# The calendar's occurrence: the calendar's utm, with campaign and content.
cid=$(delivery_of utm@ogw.test box)
wait_for "ls $box/*$cid.txt" 30 || fail "occurrence not sent"
got=$(cat "$box"/*"$cid".txt)
want="Agenda https://ogp.example/agenda?day=1&utm_source=box&utm_medium=social&utm_campaign=ogw&utm_content=Day%20one#am and https://ogp.example/?utm_source=box&utm_medium=social&utm_campaign=ogw&utm_content=Day%20one"
[ "$got" = "$want" ] || fail "calendar outbox text:
 got: $got
want: $want"
stop_daemon

# --check measures the tagged text: Bluesky counts every character of it.
expect_rc 0 "$CRIERD" -c "$CONF" --check --json --from "$(date -u +%Y-%m-%d)" \
	--to "$(date -u -d "+3 days" +%Y-%m-%d)"
"$PY" - "$OUT" "$want" <<'PYEOF' || fail "--check length: $OUT"
import json, sys
row = json.loads(sys.argv[1].splitlines()[0])
ch = row["channels"][0]
assert ch["text"] == sys.argv[2], ch["text"]
assert ch["length"] == len(sys.argv[2]), (ch["length"], len(sys.argv[2]))
PYEOF
# Untagged, the event fits in 80; tagged, it does not: a problem.
sed -i 's/^channels = box$/channels = short/' "$CONF"
expect_rc 1 "$CRIERD" -c "$CONF" --check --from "$(date -u +%Y-%m-%d)" \
	--to "$(date -u -d "+3 days" +%Y-%m-%d)"
expect_out "too long"
# A utm that renders an unknown name: a problem of the post, named.
sed -i 's/^utm = source={{channel}}&medium=social&campaign={{calendar}}&content={{summary}}$/utm = bogus={{channel}}/' "$CONF"
sed -i 's/^channels = short$/channels = box/' "$CONF"
expect_rc 1 "$CRIERD" -c "$CONF" --check --from "$(date -u +%Y-%m-%d)" \
	--to "$(date -u -d "+3 days" +%Y-%m-%d)"
expect_out 'box: utm: unknown parameter "bogus"'
# A bad utm names the file, line and key.
printf '[channel bad]\ntype = outbox\nutm = source={{#x}\n' >> "$CONF"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "crier.conf:$(grep -n '^utm = source={{#x}' "$CONF" | cut -d: -f1): utm:"
echo "PASS: $TEST_NAME"
