#!/bin/sh
# The campaign report (issue 17 point 1) through crierd: posts queued,
# sent, failed, held and too long on the Mastodon peer and the outbox;
# `crierctl report --html FILE` writes a self-contained page that headless
# Chromium loads with no console messages (screenshots taken) and whose
# DOM holds every post of the range (each delivery's text, state word,
# problems, length against the limit, remote link) and nothing outside
# it; the text mode has one table row per delivery; bad and too-wide
# ranges are refused with the option named.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/mastodon-lib.sh"
tmp="$T/chromium"
mkdir -p "$tmp"
. "$top_srcdir/tests/conformance/chromium-lib.sh"

start_mastodon --max-chars 100
CAL="$T/ogw.ics"
long=$("$PY" -c 'print("Too long for the instance " + "x" * 120)')
write_ics "$CAL" <<EOC
BEGIN:VEVENT
UID:today@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 8)
SUMMARY:Opening
DESCRIPTION:Open Gov Week starts today <b>not bold</b> & more
END:VEVENT
BEGIN:VEVENT
UID:tomorrow@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 86400)
SUMMARY:Day two
DESCRIPTION:Day two: panels
END:VEVENT
BEGIN:VEVENT
UID:long@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 172800)
SUMMARY:Long one
DESCRIPTION:$long
END:VEVENT
BEGIN:VEVENT
UID:later@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 1728000)
SUMMARY:Outside the range
DESCRIPTION:Twenty days on
END:VEVENT
EOC
write_config "timezone = Europe/London" "horizon = 60d" \
	"templates = $top_srcdir/templates" \
	"$(mast_channel masto)" \
	"[calendar ogw]" "path = $CAL" "channels = masto, outbox" \
	"[channel outbox]" "type = outbox"
start_daemon

# An ad hoc post the instance refuses (failed, with its message), one
# held for approval.
mock_script mast '[{"method": "POST", "path": "/api/v1/statuses", "status": 422, "body": {"error": "Validation failed: Text looks like spam"}}]'
bad=$(post_id --channel masto --text "Buy now")
wait_state "$bad" failed 20
held=$(post_id --channel outbox --text "Waiting for approval" --hold)
wait_for "[ -n \"\$(delivery_of today@ogw.test masto)\" ]" 15 || fail "no calendar deliveries"
for c in masto outbox; do
	wait_state "$(delivery_of today@ogw.test $c)" sent 30
done
later=$(delivery_of later@ogw.test outbox)
[ -n "$later" ] || fail "no delivery 20 days on"

from=$(TZ=Europe/London date +%Y-%m-%d)
to=$(TZ=Europe/London date -d '+6 days' +%Y-%m-%d)
ctl --json list --from "$from" --to "$(TZ=Europe/London date -d '+7 days' +%Y-%m-%d)" --limit 1000 > "$T/list.json"
ids=$(jget '" ".join(x["id"] for x in d["deliveries"])' < "$T/list.json")
# shellcheck disable=SC2086
shows $ids > "$T/in-range.json"
[ "$(jget 'len(d)' < "$T/in-range.json")" = 8 ] || fail "8 deliveries expected in range: $(ctl list)"

# (a missing directory: the error names the file, nothing is left behind)
expect_rc 1 ctl report --from "$from" --to "$to" --html "$T/nodir/report.html"
expect_out "$T/nodir/report.html"
expect_rc 0 ctl report --from "$from" --to "$to" --html "$T/report.html"
expect_out "wrote $T/report.html: 5 posts (8 deliveries)"
[ "$(ls "$T" | grep -c 'report.html.tmp')" = 0 ] || fail "a temporary file is left"
# --json prints crierd's answer and still writes the page.
ctl --json report --from "$from" --to "$to" --html "$T/report-j.html" > "$T/report-j.json" ||
	fail "--json report --html"
[ "$(jget 'd["deliveries"]' < "$T/report-j.json")" = 8 ] || fail "--json report: $(head -c 300 "$T/report-j.json")"
grep -q "<html" "$T/report-j.html" || fail "--json report --html wrote no page"
# Each sent channel says when it went out (local time) on its card.
"$PY" - "$T/report-j.html" "$T/in-range.json" <<'PYEOF' || fail "sent_time"
import datetime, sys, zoneinfo
page = open(sys.argv[1]).read()
n = 0
for d in __import__("json").load(open(sys.argv[2])):
    k = page.find('id="d-%s"' % d["id"])
    if k < 0:
        continue
    h4 = page[k:page.index("</h4>", k)]
    if d["state"] != "sent":
        assert 'class="sent"' not in h4, h4
        continue
    at = datetime.datetime.fromisoformat(d["sent_at"].replace("Z", "+00:00"))
    want = at.astimezone(zoneinfo.ZoneInfo("Europe/London")).strftime("%H:%M:%S")
    assert ('class="sent">at ' in h4 and h4.rstrip().endswith(want + "</small>")), (h4, want)
    n += 1
assert n >= 2, n
PYEOF
expect_rc 1 ctl --json report --from "$from" --to "$to" --html "$T/nodir/report.html"
ctl report --from "$from" --to "$to" > "$T/report.txt" || fail "text report"

chrome_page "file://$T/report.html"
chrome_quiet
"$PY" - "$T/in-range.json" "$tmp" "$T/report.txt" "$later" "$T/report.html" <<'PYEOF' || fail "the report does not show the posts"
import html.parser, json, os, sys
from PIL import Image

sent = json.load(open(sys.argv[1]))
tmp, txt, later = sys.argv[2], open(sys.argv[3]).read(), sys.argv[4]
page = open(sys.argv[5], encoding="utf-8").read()
bad = []

def check(what, ok):
    if not ok:
        bad.append(what)

class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.tags, self.byid, self.text = [], {}, {}, {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if "id" in a:
            self.byid[a["id"]] = (tag, a.get("class", ""))
        if tag not in ("meta", "br", "hr", "img", "link", "input"):
            self.stack.append((tag, a))
    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break
    def handle_data(self, data):
        owner = next((a["id"] for _, a in reversed(self.stack) if "id" in a), None)
        cls = next((a["class"] for _, a in reversed(self.stack) if "class" in a), "")
        if owner is not None:
            k = owner + "/" + cls
            self.text[k] = self.text.get(k, "") + data

dom = Dom()
dom.feed(open(os.path.join(tmp, "dom.html"), encoding="utf-8").read())
check("self-contained: no script, img, link, iframe",
      not any(t in dom.tags for t in ("script", "img", "link", "iframe", "object")))
check("no http(s) fetch in the page source (only links)",
      "src=" not in page and "@import" not in page and "url(" not in page)
occ = {(d["calendar"], d["uid"]) if d["calendar"] else d["id"] for d in sent}
check("%d cards for %d posts" % (dom.tags.get("article", 0), len(occ)),
      dom.tags.get("article", 0) == len(occ))
check("the delivery 20 days on is not in the page", ("d-" + later) not in dom.byid)
for d in sent:
    did = "d-" + d["id"]
    check("delivery %s (%s on %s) in the DOM" % (d["id"], d["summary"], d["channel"]), did in dom.byid)
    check("delivery %s: its text exactly" % did, dom.text.get(did + "/text") == d["text"])
    check("delivery %s: its state word %s" % (did, d["state"]),
          d["state"] in dom.text.get(did + "/badge s-" + d["state"], ""))
    if d["channel"] == "masto":
        n = len(d["text"]) if "http" not in d["text"] else None
        if n is not None:
            cls = "len over" if n > 100 else "len"
            check("delivery %s: length %d/100 (%r)" % (did, n, dom.text.get(did + "/" + cls)),
                  "%d/100" % n in dom.text.get(did + "/" + cls, ""))
    if d["state"] == "failed":
        check("delivery %s: the instance's message as a problem" % did,
              "Text looks like spam" in dom.text.get(did + "/problems", ""))
    if d["problem"]:
        check("delivery %s: problem %r" % (did, d["problem"]),
              d["problem"] in dom.text.get(did + "/problems", ""))
    if d["state"] == "sent" and d["remote_url"].startswith("http"):
        check("delivery %s: remote link" % did, d["remote_url"] in dom.text.get(did + "/remote", ""))
    rows = [l for l in txt.splitlines() if l.startswith("| ") and "| %s | %s |" % (d["state"], d["channel"]) in l
            and (d["summary"] or "") in l]
    check("text: a row for %s on %s" % (d["summary"], d["channel"]), len(rows) >= 1)
rows = [l for l in txt.splitlines() if l.startswith("| ") and not l.startswith("| Day ") and "| no posts |" not in l]
check("text: %d delivery rows for %d deliveries" % (len(rows), len(sent)), len(rows) == len(sent))
for name, size in (("wide", (1400, 1600)), ("phone", (390, 2400))):
    img = Image.open(os.path.join(tmp, name + ".png")).convert("RGB")
    check("%s screenshot is %s" % (name, size), img.size == size)
    check("%s screenshot shows a page (%d colours)" % (name, len(img.getcolors(1 << 20) or [])),
          len(img.getcolors(1 << 20) or []) > 50)
    if name == "wide":
        px = dict((c, n) for n, c in img.getcolors(1 << 20))
        check("the sent badge's green is on screen", px.get((0x1a, 0x7f, 0x37), 0) >= 50)
        check("the failed badge's red is on screen", px.get((0xcf, 0x22, 0x2e), 0) >= 50)
if bad:
    print("\n".join("FAIL: " + b for b in bad))
    sys.exit(1)
print("ok: %d deliveries in %d cards in the DOM and the text table" % (len(sent), len(occ)))
PYEOF

# Ranges: named errors, bounded.
expect_rc 1 ctl report --from 2027-01-01 --to 2028-06-01
expect_out "at most 366"
expect_rc 1 ctl report --from yesterday-ish
expect_out "--from: 'yesterday-ish'"
expect_rc 1 ctl report --from 2027-05-20 --to 2027-05-10
expect_out "--to must come after --from"
stop_daemon
echo "ok: report of 8 deliveries in Chromium and as text"
