#!/bin/sh
# The smtp channel: a newsletter occurrence goes to each of 50 recipients as
# one personal message (strict RFC 5322/MIME, both parts, List-Unsubscribe,
# a non-ASCII subject), a 550 for one recipient leaves the others sent, an
# unsubscribed address gets nothing, and bad lines of the recipients file
# are reported with their line numbers while the good ones still go.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"

start_smtp s --reject-rcpt r07@example.org
P=$(smtp_port s)
RC="$T/recipients.csv"
write_recipients "$RC" 50
# A name that needs quoting, one not ASCII; then three bad lines.
sed -i 's/^r10@example.org,.*/r10@example.org,"Doe, Jane ""JD"""/' "$RC"
sed -i 's/^r11@example.org,.*/r11@example.org,Zoë Ünal-Søndergaard/' "$RC"
{
	echo "not-an-address,Nobody"
	echo "R05@Example.org,Reader 05 again"
	echo "bad@exa mple.org,Space"
} >> "$RC"
SUBJECT='Café society — naïve ✓ weekly: ünïcödé and a rather long subject line that needs folding'
write_newsletter_cal "$T/news.ics" 4 "$SUBJECT"
write_config "templates = $top_srcdir/templates" \
	"[vars]" "org = Open Government Partnership" \
	"[calendar news]" "path = $T/news.ics" \
	"[channel newsletter]" "type = smtp" "url = smtp://127.0.0.1:$P" \
	"starttls = no" "from = OGP News <news@example.org>" \
	"recipients_file = $RC" "reply_to = Comms Team <comms@example.org>" \
	"unsubscribe_url = https://example.org/unsub?e={{recipient.email_urlencoded}}&l=weekly" \
	"unsubscribe_mailto = unsubscribe@example.org" \
	"list_id = OGP weekly <weekly.example.org>"

# --check names each bad line of the recipients file and its number.
"$CRIERD" -c "$CONF" --check >"$T/check.out" 2>&1
for want in "recipients.csv:52: 'not-an-address' is not an email address" \
    "recipients.csv:53: duplicate of line 6 (R05@Example.org)" \
    "recipients.csv:54: 'bad@exa mple.org' is not an email address"; do
	grep -qF "$want" "$T/check.out" || fail "--check: no '$want' in: $(cat "$T/check.out")"
done

start_daemon
grep -q "recipients.csv:52" "$LOG" || fail "log: no problem of line 52"
expect_rc 0 ctl unsubscribe R20@example.ORG
expect_out "r20@example.org unsubscribed"
expect_rc 0 ctl unsubscribe r21@example.org
expect_rc 0 ctl subscribe r21@example.org
expect_out "subscribed"
expect_rc 2 ctl unsubscribe
expect_rc 1 ctl unsubscribe "not an address"

wait_for "[ \"\$(ctl --json list --channel newsletter | jget 'd[\"deliveries\"][0][\"state\"]')\" = sent ]" 40 ||
	fail "newsletter not sent: $(ctl --json list --channel newsletter)"
ID=$(newsletter_id)
[ "$(smtp_count s)" = 48 ] || fail "expected 48 messages, got $(smtp_count s)"

cat > "$T/expect.json" <<JSON
{"subject": "Open Government Partnership: $SUBJECT",
 "absent": ["r07@example.org", "r20@example.org"],
 "list_id": "<weekly.example.org>", "reply_to": "comms@example.org",
 "from": "news@example.org", "unsub_mailto": "unsubscribe@example.org",
 "unsub_prefix": "https://example.org/unsub?e="}
JSON
/usr/bin/python3 "$top_srcdir/tests/integration/newsletter_check.py" \
    "$T/s.mail" "$RC" "$T/expect.json" >"$T/verdict" 2>&1 || fail "messages: $(cat "$T/verdict")"

# show: per recipient.
ctl --json show "$ID" > "$T/show.json"
"$PY" - "$T/show.json" <<'PYEOF' || fail "show: $(cat "$T/show.json" | head -c 2000)"
import json, sys
d = json.load(open(sys.argv[1]))["delivery"]
st = {r["email"]: r for r in d["recipients"]}
assert len(st) == 50, len(st)
assert st["r07@example.org"]["state"] == "failed", st["r07@example.org"]
assert "550" in st["r07@example.org"]["error"], st["r07@example.org"]
assert st["r20@example.org"]["state"] == "suppressed", st["r20@example.org"]
assert d["recipient_counts"] == {"sent": 48, "failed": 1, "suppressed": 1}, d["recipient_counts"]
assert all(r["message_id"] for r in st.values() if r["state"] == "sent")
PYEOF
OUT=$(ctl show "$ID")
expect_out "recipients  50: 48 sent, 1 failed, 1 suppressed"
expect_out "r07@example.org"
OUT=$(ctl log)
expect_out "unsubscribed"
expect_out "48 sent, 1 failed"


# An ad-hoc post to the channel: its text, to everyone not suppressed.
expect_rc 0 ctl post --channel newsletter --text "Extra: <b>&</b> the livestream starts soon"
wait_for "[ \$(smtp_count s) = 96 ]" 30 || fail "ad-hoc post: $(smtp_count s) messages"
"$PY" - "$T/s.mail" <<'PYEOF' || fail "ad-hoc message"
import email, email.policy, json, sys
meta = json.load(open(sys.argv[1] + "/index.json"))
msg = email.message_from_bytes(open(meta[-1]["file"], "rb").read(), policy=email.policy.strict)
assert str(msg["Subject"]) == "Extra: <b>&</b> the livestream starts soon", str(msg["Subject"])
parts = {p.get_content_type(): p.get_content() for p in msg.iter_parts()}
assert "&lt;b&gt;&amp;&lt;/b&gt;" in parts["text/html"], parts
assert parts["text/plain"].startswith("Extra: <b>&</b>"), parts
PYEOF
stop_daemon
echo "PASS: $TEST_NAME"
