#!/bin/sh
# The campaign report (templates/report.html.mustache, rendered by crier's
# Mustache engine from tests/conformance/report-context.json) in headless
# Chromium: no console messages (the page's CSP turns any script or fetch
# into one), a wide and a phone screenshot showing every state's colour, a
# PDF print, and a DOM holding every post, channel text and problem.
# The text template renders the same posts as table rows.
: "${top_builddir:=.}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
PY=/usr/bin/python3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/report-chromium.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
ctx="$top_srcdir/tests/conformance/report-context.json"
render="$top_builddir/tests/conformance/report-render"

"$render" "$top_srcdir/templates" "$ctx" html > "$tmp/report.html" || exit 1
"$render" "$top_srcdir/templates" "$ctx" txt > "$tmp/report.txt" || exit 1

. "$top_srcdir/tests/conformance/chromium-lib.sh"
url="file://$tmp/report.html"
chrome_page "$url"
chrome --no-pdf-header-footer --print-to-pdf="$tmp/report.pdf" "$url" \
    >/dev/null 2>"$tmp/pdf.log" || { echo "FAIL: chromium (pdf)"; cat "$tmp/pdf.log"; exit 1; }
chrome_quiet

$PY - "$ctx" "$tmp" <<'PY' || exit 1
import html.parser, json, os, sys
from PIL import Image

ctx = json.load(open(sys.argv[1], encoding="utf-8"))
tmp = sys.argv[2]
bad = []

def check(what, ok):
    if not ok:
        bad.append(what)

posts = [(d, p) for w in ctx["weeks"] for d in w["days"] for p in d["posts"]]
chans = [(p, c) for _, p in posts for c in p["channels"]]

class Dom(html.parser.HTMLParser):
    """Element ids, classes and text, with the text inside each id'd element."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []          # (tag, attrs)
        self.tags = {}
        self.byid = {}           # id -> (tag, class)
        self.text = {}           # "id/class" -> text of that element within id'd ancestor
        self.meta = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag == "meta":
            self.meta.append(a)
        if "id" in a:
            self.byid[a["id"]] = (tag, a.get("class", ""), a)
        for k in a:
            if k in ("src", "srcset", "background") or k.startswith("on"):
                bad.append("attribute %s on <%s>" % (k, tag))
        if tag not in ("meta", "br", "hr", "img", "link", "input"):
            self.stack.append((tag, a))
    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break
    def handle_data(self, data):
        owner = next((a["id"] for _, a in reversed(self.stack) if "id" in a), None)
        cls = next((a["class"] for _, a in reversed(self.stack) if "class" in a), "")
        if owner is not None:
            key = owner + "/" + cls
            self.text[key] = self.text.get(key, "") + data

dom = Dom()
dom.feed(open(os.path.join(tmp, "dom.html"), encoding="utf-8").read())
check("no <script>, <img>, <iframe>, <object>, <link> in the DOM",
      not any(t in dom.tags for t in ("script", "img", "iframe", "object", "embed", "link")))
csp = [m.get("content", "") for m in dom.meta if m.get("http-equiv", "").lower() == "content-security-policy"]
check("a CSP forbidding fetches and scripts", csp and csp[0].startswith("default-src 'none'"))
check("a phone viewport", any(m.get("name") == "viewport" for m in dom.meta))
check("one card per post: %d articles for %d posts" % (dom.tags.get("article", 0), len(posts)),
      dom.tags.get("article", 0) == len(posts))
for d, p in posts:
    aid = "post-" + p["anchor"]
    tag, cls, _ = dom.byid.get(aid, (None, "", {}))
    check("card %s is an article of state %s (got %s %r)" % (aid, p["state"], tag, cls),
          tag == "article" and ("st-" + p["state"]) in cls.split())
    check("card %s shows its state as a word" % aid,
          p["state_label"] in dom.text.get(aid + "/badge s-" + p["state"], ""))
    check("card %s shows its summary" % aid,
          dom.text.get(aid + "/summary", "") == p["summary"])
    check("card %s shows its time" % aid, p["time"] in dom.text.get(aid + "/head", ""))
    for prob in p["problems"]:
        check("card %s shows problem %r" % (aid, prob), prob in dom.text.get(aid + "/problems", ""))
for p, c in chans:
    did = "d-" + c["id"]
    check("delivery %s is in the DOM" % did, did in dom.byid)
    check("delivery %s: its text exactly" % did, dom.text.get(did + "/text") == c["text"])
    check("delivery %s: its state word" % did,
          c["state_label"] in dom.text.get(did + "/badge s-" + c["state"], ""))
    for prob in c["problems"]:
        check("delivery %s: problem %r" % (did, prob), prob in dom.text.get(did + "/problems", ""))
    if c["limit"] is not None:
        cls = "len over" if c["over"] else "len"
        check("delivery %s: length %d/%d" % (did, c["length"], c["limit"]),
              "%d/%d" % (c["length"], c["limit"]) in dom.text.get(did + "/" + cls, ""))
    if c["remote_url"]:
        check("delivery %s: remote link" % did, c["remote_url"] in dom.text.get(did + "/remote", ""))
    if c["engagement"]:
        e = c["engagement"]
        check("delivery %s: engagement" % did,
              "%d likes" % e["likes"] in dom.text.get(did + "/eng", "") and
              "%d reposts" % e["reposts"] in dom.text.get(did + "/eng", ""))

# Screenshots: the window's size, many colours, and every state's badge colour.
colours = {"scheduled": (0x05, 0x50, 0xae), "sending": (0x66, 0x39, 0xba),
           "sent": (0x1a, 0x7f, 0x37), "retrying": (0x9a, 0x46, 0x00),
           "failed": (0xcf, 0x22, 0x2e), "held": (0x7d, 0x4e, 0x00),
           "cancelled": (0x59, 0x63, 0x6e), "missed": (0x82, 0x07, 0x1e),
           "uncertain": (0xa0, 0x33, 0x6b)}
for name, size in (("wide", (1400, 1600)), ("phone", (390, 2400))):
    img = Image.open(os.path.join(tmp, name + ".png")).convert("RGB")
    check("%s screenshot is %s (got %s)" % (name, size, img.size), img.size == size)
    hist = {}
    for rgb in img.getdata():
        hist[rgb] = hist.get(rgb, 0) + 1
    check("%s screenshot has %d colours, want > 100" % (name, len(hist)), len(hist) > 100)
    if name == "wide":
        for s in ctx["legend"]:
            n = hist.get(colours[s["state"]], 0)
            check("wide screenshot: %d pixels of the %s colour, want >= 100" % (n, s["state"]),
                  n >= 100)
pdf = open(os.path.join(tmp, "report.pdf"), "rb").read()
check("the PDF print is a PDF of some size", pdf.startswith(b"%PDF-") and len(pdf) > 10000)

# Text mode: one table row per delivery, each problem listed.
txt = open(os.path.join(tmp, "report.txt"), encoding="utf-8").read()
rows = [l for l in txt.splitlines() if l.startswith("| ") and not l.startswith("| Day ")]
real = [l for l in rows if "| no posts |" not in l]
check("text: %d delivery rows for %d deliveries" % (len(real), len(chans)), len(real) == len(chans))
for p, c in chans:
    check("text: a row for %s on %s" % (p["summary"], c["name"]),
          any(("| %s | %s |" % (c["state_label"], c["name"])) in l and p["summary"] in l for l in real))
    for prob in c["problems"]:
        check("text: problem %r" % prob, prob in txt)
if bad:
    print("\n".join("FAIL: " + b for b in bad))
    sys.exit(1)
print("ok: %d posts, %d deliveries in the DOM and the text table; screenshots and PDF checked"
      % (len(posts), len(chans)))
PY
