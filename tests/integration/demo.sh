#!/bin/sh
# The demo: sample posts hold only what should be published; the Bluesky
# stand-in renders and measures like Bluesky; the newsletter goes over SMTP
# to a local folder of .eml files, as scripts/demo.sh runs it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"

cd "$top_srcdir" || fail "cd"
"$CRIERD" -c config/demo.conf --check --json --from 2027-05-01 --to 2027-06-01 > "$T/check.json" ||
    fail "demo --check: $(cat "$T/check.json")"
"$PY" - "$T/check.json" <<'PYEOF' || fail "demo posts"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
texts = [c["text"] for r in rows if r["status"] != "cancelled" for c in r["channels"]]
assert len(texts) >= 15, len(texts)
for t in texts:
    for label in ("awaiting approval", "daily post", "(awaiting"):
        assert label not in t.lower(), (label, t)
sky = [c for r in rows for c in r["channels"] if c["name"] == "bluesky-ogp"]
assert sky and all(c["limit"] == 300 for c in sky), sky
# The Bluesky template: no "Theme:" line of the generic one, no description.
assert all("Theme:" not in c["text"] and "📅" in c["text"] for c in sky), sky
masto = [c for r in rows if r["status"] != "cancelled" for c in r["channels"] if c["name"] == "mastodon-ogp"]
assert masto and all(c["limit"] == 500 and "🔗" in c["text"] for c in masto)
PYEOF

# The demo as scripts/demo.sh runs it, with state under $T.
start_smtp news
sed -e "s|^url = smtp://127.0.0.1:.*|url = smtp://127.0.0.1:$(smtp_port news)|" \
    -e "s|^state_dir = .*|state_dir = $STATE|" -e "s|^socket = .*|socket = $SOCK|" \
    config/demo.conf > "$CONF"
start_daemon
wait_for "[ \"\$(ctl --json list --channel newsletter --limit 1 | jget 'len(d[\"deliveries\"])')\" = 1 ]" 20 ||
    fail "no newsletter scheduled: $(ctl --json status)"
N=$(ctl --json list --channel newsletter --state scheduled --limit 1 | jget 'd["deliveries"][0]["id"]')
expect_rc 0 ctl send-now "$N"
wait_for "[ \"\$(smtp_count news)\" = 3 ]" 20 || fail "newsletter: $(smtp_count news) messages"
grep -l "^To: .*ana.lima@example.org" "$T/news.mail/"*.eml >/dev/null || fail "no message for Ana"
grep -q "Hello Ana Lima" "$T/news.mail/"*.eml || fail "not personal"
[ "$(state_of "$N")" = sent ] || fail "newsletter $(state_of "$N")"
# Preview of the Bluesky stand-in: the real Bluesky text and limit.
expect_rc 0 ctl preview --calendar ogw --uid ogw2027-daily@opengovpartnership.org
expect_out "bluesky-ogp"
expect_out "/ 300"
echo "PASS: $TEST_NAME"
