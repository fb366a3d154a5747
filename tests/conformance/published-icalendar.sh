#!/bin/sh
# The published-posts calendar parsed back by Python's icalendar (a second,
# independent reader beside libical in check_published): every field of every post.
: "${top_builddir:=.}"
PY=/usr/bin/python3
if ! $PY -c 'import icalendar' 2>/dev/null; then
	echo "SKIP: $PY cannot import icalendar (python3-icalendar; scripts/install-deps.sh installs it)"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/published-icalendar.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# Hostile texts: escapes, CRLF, long CJK and emoji lines to fold, a URL with a space.
cat > "$tmp/posts.json" <<'JSON'
[
 {"delivery_id": "a1b2c3d4e5f6", "channel": "mastodon-ogp", "sent_at": 1810540800250,
  "text": "Day one of #OpenGovWeek, with commas; semicolons\\backslashes\r\nand lines.\n\n\u958b\u653e\u653f\u5e9c\u9031\u9593\u958b\u653e\u653f\u5e9c\u9031\u9593\u958b\u653e\u653f\u5e9c\u9031\u9593\u958b\u653e\u653f\u5e9c\u9031\u9593 \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66 https://opengovweek.example/day-1?lang=en&x=1",
  "remote_url": "https://mastodon.example/@ogp/112233", "calendar": "ogw",
  "source_uid": "ogw-day1@opengovweek.example", "summary": "Opening day; welcome, all"},
 {"delivery_id": "0f0e0d0c0b0a", "channel": "bluesky-ogp", "sent_at": 1810643445000,
  "text": "Caf\u00e9 \u00e0 Paris: \"quotes\" and a tab\there\rold Mac line end",
  "remote_url": "https://bsky.app/profile/ogp.example/post/3k a",
  "calendar": "ogw", "source_uid": "ogw-day2@opengovweek.example", "summary": "Day two"},
 {"delivery_id": "ad-hoc.1_x", "channel": "news, letter", "sent_at": 1810771199000,
  "text": "An ad hoc post\nsecond line"}
]
JSON
"$top_builddir/tests/conformance/published-write" "$tmp/posts.json" "$tmp/published.ics" || exit 1
$PY - "$tmp/posts.json" "$tmp/published.ics" <<'PY' || exit 1
import datetime, json, sys
import icalendar

posts = json.load(open(sys.argv[1], encoding="utf-8"))
raw = open(sys.argv[2], "rb").read()
cal = icalendar.Calendar.from_ical(raw)
bad = []

def check(what, got, want):
    if got != want:
        bad.append("%s: got %r, want %r" % (what, got, want))

check("VERSION", str(cal.get("version")), "2.0")
check("PRODID", str(cal.get("prodid")).startswith("-//crier//"), True)
events = [c for c in cal.walk("VEVENT")]
check("events", len(events), len(posts))
for p, ev in zip(posts, events):
    d = p["delivery_id"]
    text = p["text"].replace("\r\n", "\n").replace("\r", "\n")
    when = datetime.datetime.fromtimestamp(p["sent_at"] // 1000, datetime.timezone.utc)
    check(d + " UID", str(ev.get("uid")), d + "@crier.example.org")
    start = ev.decoded("dtstart")
    check(d + " DTSTART", start, when)
    check(d + " DTSTART is UTC", start.utcoffset(), datetime.timedelta(0))
    check(d + " DTSTAMP", ev.decoded("dtstamp"), when)
    check(d + " DURATION", ev.decoded("duration"), datetime.timedelta(minutes=15))
    summary = p.get("summary") or text.split("\n")[0]
    check(d + " SUMMARY", str(ev.get("summary")), p["channel"] + ": " + summary)
    check(d + " DESCRIPTION", str(ev.get("description")), text)
    url = p.get("remote_url")
    check(d + " URL", ev.get("url") and str(ev.get("url")),
          url and url.replace(" ", "%20"))
    check(d + " RELATED-TO", ev.get("related-to") and str(ev.get("related-to")),
          p.get("source_uid"))
    # icalendar before 6.2 splits CATEGORIES at escaped commas too
    # (collective/icalendar#127); check_published pins the escape with libical.
    check(d + " CATEGORIES", ",".join(str(c) for c in ev.get("categories").cats), p["channel"])
    check(d + " X-CRIER-CALENDAR", ev.get("x-crier-calendar") and str(ev.get("x-crier-calendar")),
          p.get("calendar"))
# Folded lines: at most 75 octets each, CRLF-ended, whole UTF-8.
lines = raw.split(b"\r\n")
check("ends with CRLF", lines[-1], b"")
for l in lines:
    if len(l) > 75:
        bad.append("line of %d octets: %r" % (len(l), l))
    l.decode("utf-8")
check("folded lines", sum(1 for l in lines if l.startswith(b" ")) >= 3, True)
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("ok: %d events read back by icalendar %s" % (len(events), icalendar.__version__))
PY
