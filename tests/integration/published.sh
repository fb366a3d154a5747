#!/bin/sh
# The published-posts calendar (issue 17 point 2) after real sends through
# crierd to the Mastodon and Bluesky peers and the outbox: state_dir/
# published.ics holds one VEVENT per post that went out (not the held
# one), at the time it went out, with channel, remote URL, text and the
# source event's UID in RELATED-TO; `crierctl published` prints the same
# bytes; libical (tests/integration/ics-dump) and Python's icalendar both
# read every field back; the file is rewritten after a kill -9.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/mastodon-lib.sh"
DUMP="$top_builddir/tests/integration/ics-dump"
$PY -c 'import icalendar' 2>/dev/null ||
	skip "$PY cannot import icalendar (python3-icalendar; scripts/install-deps.sh installs it)"

start_mastodon
printf 'app-pass-1234\n' > "$T/pw"
chmod 600 "$T/pw"
MOCK_PY="$top_srcdir/tests/peers/bluesky_mock.py"
start_mock pds --handle ogp.test --did did:plc:ogptest --app-password-file "$T/pw"
PDS=$(mock_url pds)
CAL="$T/ogw.ics"
# Commas, semicolons, a backslash, a line break, CJK and a ZWJ emoji: all
# need escaping or folding.
write_ics "$CAL" <<EOC
BEGIN:VEVENT
UID:day1@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 2)
SUMMARY:Day one; welcome, all
DESCRIPTION:Open Gov Week starts: commas, semicolons; a back\\\\slash\\n開放政府週間 👩‍👩‍👧 https://ogw.example/day-1?x=1&y=2
END:VEVENT
BEGIN:VEVENT
UID:day2@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 3)
SUMMARY:Day two
DESCRIPTION:Second day of #OGW
X-CRIER-CHANNELS:masto
END:VEVENT
EOC
write_config "timezone = Europe/London" \
	"$(mast_channel masto)" \
	"[channel bsky]" "type = bluesky" "service = $PDS" "handle = ogp.test" \
	"password_file = $T/pw" \
	"[calendar ogw]" "path = $CAL" "channels = masto, bsky" \
	"[channel outbox]" "type = outbox"
start_daemon

wait_for "[ -n \"\$(delivery_of day2@ogw.test masto)\" ]" 15 || fail "no deliveries: $(ctl list)"
d1m=$(delivery_of day1@ogw.test masto)
d1b=$(delivery_of day1@ogw.test bsky)
d2m=$(delivery_of day2@ogw.test masto)
ad=$(post_id --channel outbox --text "An ad hoc post, sent")
held=$(post_id --channel outbox --text "A held post" --hold)
for id in $d1m $d1b $d2m $ad; do
	wait_state "$id" sent 30
done
ICS="$STATE/published.ics"
wait_for "grep -q 'UID:$d2m@crier' '$ICS' && grep -q 'UID:$ad@crier' '$ICS' && grep -q 'UID:$d1m@crier' '$ICS' && grep -q 'UID:$d1b@crier' '$ICS'" 15 ||
	fail "published.ics lacks a post: $(cat "$ICS" 2>&1)"
[ "$(stat -c %a "$ICS")" = 644 ] || fail "mode $(stat -c %a "$ICS")"
ls "$STATE" | grep -v -e '^crier\.db' -e '^published\.ics$' -e '^outbox$' -e '^media$' -e '^channels$' &&
	fail "a temporary file is left in the state directory"
ctl published > "$T/ctl.ics" || fail "crierctl published"
cmp -s "$ICS" "$T/ctl.ics" || fail "crierctl published differs from the file: $(diff "$ICS" "$T/ctl.ics")"

# What the store says of each sent post, for both readers to compare with.
for id in $d1m $d1b $d2m $ad; do
	ctl --json show "$id"
done | "$PY" -c 'import json, sys
dec = json.JSONDecoder()
s = sys.stdin.read()
out, i = [], 0
while i < len(s):
    while i < len(s) and s[i].isspace():
        i += 1
    if i >= len(s):
        break
    o, i = dec.raw_decode(s, i)
    out.append(o["delivery"])
json.dump(out, sys.stdout)' > "$T/sent.json"

"$DUMP" "$ICS" > "$T/libical.jsonl" 2> "$T/libical.err" || fail "libical: $(cat "$T/libical.err")"
"$PY" - "$T/sent.json" "$T/libical.jsonl" "$ICS" "$held" <<'PYEOF' || fail "the calendar read back does not match the store"
import datetime, json, sys
import icalendar

sent = json.load(open(sys.argv[1]))
lib = {e["uid"]: e for e in map(json.loads, open(sys.argv[2]))}
raw = open(sys.argv[3], "rb").read()
held = sys.argv[4]
cal = icalendar.Calendar.from_ical(raw)
py = {str(e.get("uid")): e for e in cal.walk("VEVENT")}
bad = []

def check(what, got, want):
    if got != want:
        bad.append("%s: got %r, want %r" % (what, got, want))

check("libical events", len(lib), len(sent))
check("icalendar events", len(py), len(sent))
check("the held post is absent", any(held in u for u in list(lib) + list(py)), False)
for d in sent:
    uid = d["id"] + "@crier"
    when = datetime.datetime.strptime(d["sent_at"][:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    summary = "%s: %s" % (d["channel"], d["summary"])
    text = d["text"]
    for who, ev in (("libical", lib.get(uid)), ("icalendar", py.get(uid))):
        if ev is None:
            bad.append("%s: no event %s" % (who, uid))
            continue
        if who == "libical":
            check(uid + " libical DTSTART", ev["dtstart"], int(when.timestamp()))
            check(uid + " libical UTC", ev["utc"], True)
            check(uid + " libical SUMMARY", ev["summary"], summary)
            check(uid + " libical DESCRIPTION", ev["description"], text)
            check(uid + " libical URL", ev["url"], d["remote_url"])
            check(uid + " libical RELATED-TO", ev["related_to"], d["uid"])
            check(uid + " libical CATEGORIES", ev["categories"], [d["channel"]])
        else:
            check(uid + " icalendar DTSTART", ev.decoded("dtstart"), when)
            check(uid + " icalendar SUMMARY", str(ev.get("summary")), summary)
            check(uid + " icalendar DESCRIPTION", str(ev.get("description")), text)
            check(uid + " icalendar URL", str(ev.get("url")), d["remote_url"])
            check(uid + " icalendar RELATED-TO", str(ev.get("related-to")), d["uid"])
            check(uid + " icalendar X-CRIER-CALENDAR", ev.get("x-crier-calendar") and
                  str(ev.get("x-crier-calendar")), d["calendar"])
for d in sent:
    if d["channel"] in ("masto", "bsky"):
        check(d["id"] + " remote URL is the network's", d["remote_url"].startswith("http"), True)
lines = raw.split(b"\r\n")
check("CRLF line ends", lines[-1], b"")
check("no line over 75 octets", [l for l in lines if len(l) > 75], [])
check("folded lines", any(l.startswith(b" ") for l in lines), True)
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("ok: %d events read back by libical and icalendar %s" % (len(sent), icalendar.__version__))
PYEOF

# After kill -9 the file is rebuilt at start from the store.
kill9_daemon
rm -f "$ICS"
start_daemon
wait_for "[ -s '$ICS' ]" 15 || fail "published.ics not rewritten after a restart"
cmp -s "$ICS" "$T/ctl.ics" || fail "published.ics after the restart differs: $(diff "$T/ctl.ics" "$ICS")"
stop_daemon
echo "ok: published.ics of 4 sent posts, read back by libical and icalendar"
