#!/bin/sh
# Control characters in what crierctl prints for a person (an ESC sequence
# in a SUMMARY, a C1 CSI, a bidi override) are shown escaped, never sent
# to the terminal; --json output carries them JSON-escaped.
. "$(dirname "$0")/lib.sh"

CAL="$T/esc.ics"
"$PY" - "$CAL" <<'PYEOF'
import sys, datetime
t = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y%m%dT%H%M00Z")
open(sys.argv[1], "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:esc@crier.test\r\n"
    "DTSTAMP:20270101T000000Z\r\nDTSTART:" + t + "\r\n"
    "SUMMARY:Launch \x1b]0;owned\x07\x1b[2J\x1b[31mday\r\nDESCRIPTION:The launch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
PYEOF
write_config "[calendar esc]" "path = $CAL" "channels = outbox"
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"] or d[\"calendars\"][0][\"error\"]')\" != None ]" 15 ||
	fail "the calendar was neither loaded nor refused"
esc=$(printf '\033')
csi=$(printf '\302\233')
rlo=$(printf '\342\200\256')
expect_rc 0 ctl post --channel outbox --text "$(printf 'Post \033[8mhidden\033[0m \302\2331;31m and \342\200\256reversed')" --in 2d
id=$(ctl --json list | jget '[x["id"] for x in d["deliveries"] if x["calendar"] is None][0]')

# Fails if output $1 (of "$2") has a raw control sequence.
clean() {
	case "$1" in
	*"$esc"*|*"$csi"*|*"$rlo"*) fail "$2 printed a raw control character: $(printf '%s' "$1" | od -c | head -5)" ;;
	esac
}
for verb in "status" "list" "agenda --days 7" "show $id" "log"; do
	# shellcheck disable=SC2086
	out=$(ctl $verb 2>&1) || fail "crierctl $verb failed: $out"
	clean "$out" "crierctl $verb"
done
out=$(ctl list)
case "$out" in *'Post \x1b[8mhidden\x1b[0m \u009b1;31m and \u202ereversed'*) ;;
*) fail "the post's summary is not shown escaped: $out" ;; esac
# A calendar's control characters are removed when it is read (a calendar
# is untrusted input), and reported; what is left is shown as it is.
case "$out" in *'Launch ]0;owned[2J[31mday'*) ;;
*) fail "the calendar's summary is not shown without its control characters: $out" ;; esac
grep -q "esc.ics:4: 4 control characters removed from SUMMARY" "$LOG" || fail "removal not reported"

# --json: the same text, JSON-escaped, exactly as stored.
json=$(ctl --json list)
case "$json" in *"$esc"*) fail "--json list printed a raw ESC" ;; esac
[ "$(echo "$json" | jget '[x["summary"] for x in d["deliveries"] if x["id"] == "'"$id"'"][0]')" = \
  "$(printf 'Post \033[8mhidden\033[0m \302\2331;31m and \342\200\256reversed')" ] || fail "--json does not carry the text as stored"
# An error message from the daemon is escaped too.
out=$(ctl show "$(printf 'ab\033[2Jcd')" 2>&1)
clean "$out" "an error message"
stop_daemon
echo "PASS: $TEST_NAME"
