#!/bin/sh
# Tracked links in newsletters (utm = on an smtp channel or its calendar):
# each recipient's message has the links of its text part and the href
# links of its HTML part tagged (the calendar's utm wins over the
# channel's; "&amp;" in HTML), a link tagged already and the recipient's
# unsubscribe link (body and List-Unsubscribe) stay as they are; an ad-hoc
# post gets the channel's utm; a bad utm is a --check problem; `preview`
# shows the message as it goes out (for a placeholder reader).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

start_smtp s
P=$(smtp_port s)
RC="$T/recipients.csv"
write_recipients "$RC" 3
"$PY" - "$T/news.ics" <<'PYEOF'
import sys, datetime
t = (datetime.datetime.now(datetime.timezone.utc) +
     datetime.timedelta(seconds=3)).strftime("%Y%m%dT%H%M%SZ")
open(sys.argv[1], "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:news@crier.test\r\nDTSTAMP:20270101T000000Z\r\n"
    f"DTSTART:{t}\r\nSUMMARY:Open Gov Week digest\r\n"
    "DESCRIPTION:The report: https://ogp.example/report?y=2026. Kept: "
    "https://ogp.example/k?utm_source=partner\r\n"
    "URL:https://www.opengovpartnership.org/newsletter/\r\n"
    "X-CRIER-CHANNELS:newsletter\r\nX-CRIER-TEMPLATE:newsletter\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n")
PYEOF
conf() {
	write_config "templates = $top_srcdir/templates" \
	    "[calendar news]" "path = $T/news.ics" \
	    "utm = $1" \
	    "[channel newsletter]" "type = smtp" "url = smtp://127.0.0.1:$P" \
	    "starttls = no" "from = news@example.org" "recipients_file = $RC" \
	    "unsubscribe_url = https://example.org/u?e={{recipient.email_urlencoded}}&l=weekly" \
	    "utm = $2"
}

conf "source=newsletter&sauce=x" "source=channel&medium=email"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "sauce"
conf "source=newsletter&medium=email&campaign={{calendar}}" "source=channel&medium=email"
expect_rc 0 "$CRIERD" -c "$CONF" --check
expect_out "1 occurrence"
start_daemon
wait_for "[ \$(smtp_count s) -ge 3 ]" 30 || fail "the newsletter did not go: $(smtp_count s)"
a=$(post_id --channel newsletter --text "Ad hoc: https://ogp.example/adhoc")
wait_state "$a" sent 30
"$PY" - "$T/s.mail" <<'PYEOF' || fail "tagged links"
import email, email.policy, glob, html, sys
cal = "utm_source=newsletter&utm_medium=email&utm_campaign=news"
seen = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    rcpt = m["To"].addresses[0].addr_spec
    unsub = "https://example.org/u?e=%s&l=weekly" % rcpt
    text = m.get_body(("plain",)).get_content()
    page = m.get_body(("html",)).get_content()
    assert m["List-Unsubscribe"].startswith("<" + unsub + ">"), m["List-Unsubscribe"]
    if "Ad hoc" in text:
        assert "https://ogp.example/adhoc?utm_source=channel&utm_medium=email" in text, text
        continue
    seen += 1
    assert "https://www.opengovpartnership.org/newsletter/?" + cal in text, text
    assert "https://ogp.example/report?y=2026&" + cal + "." in text, text
    assert "https://ogp.example/k?utm_source=partner" in text and "partner&" not in text, text
    assert unsub in text and unsub + "&utm" not in text, text
    assert 'href="https://www.opengovpartnership.org/newsletter/?%s"' % html.escape(cal) in page, page
    assert 'href="%s"' % html.escape(unsub) in page, page
    assert "utm_source=channel" not in text + page, (text, page)
assert seen == 3, seen
PYEOF

# preview shows the message as it goes out: rendered for a placeholder
# reader, it is r01's message but for the recipient, tags and all.
cid=$(ctl --json list --channel newsletter | jget '[x["id"] for x in d["deliveries"] if x.get("calendar")][0]')
ctl --json preview "$cid" > "$T/preview.json" || fail "preview $cid"
"$PY" - "$T/s.mail" "$T/preview.json" <<'PYEOF' || fail "preview: $(head -c 1500 "$T/preview.json")"
import email, email.policy, glob, json, sys
pv = json.load(open(sys.argv[2]))["previews"][0]
e = pv["email"]
assert e["recipient"] == "reader@example.org", e
assert "utm_medium" not in pv["text"], pv["text"]	# the stored text: untagged
def as_r01(s):
    return (s.replace("reader%40example.org", "r01%40example.org")
            .replace("reader@example.org", "r01@example.org")
            .replace("A. Reader", "Reader 01"))
for path in glob.glob(sys.argv[1] + "/*.eml"):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    if m["To"].addresses[0].addr_spec == "r01@example.org" and "Ad hoc" not in str(m["Subject"]):
        break
else:
    sys.exit("no message to r01")
assert as_r01(e["subject"]) == str(m["Subject"]), (e["subject"], str(m["Subject"]))
assert as_r01(e["text"]).strip() == m.get_body(("plain",)).get_content().strip(), (e["text"], m.get_body(("plain",)).get_content())
assert as_r01(e["html"]).strip() == m.get_body(("html",)).get_content().strip(), "html differs"
assert e["unsubscribe_url"] == "https://example.org/u?e=reader@example.org&l=weekly", e
PYEOF
ctl preview "$cid" > "$T/preview.txt" || fail "preview $cid (text)"
grep -qF "the message to reader@example.org, as it goes out" "$T/preview.txt" &&
    grep -qF "https://ogp.example/report?y=2026&utm_source=newsletter&utm_medium=email&utm_campaign=news" "$T/preview.txt" ||
    fail "preview's text: $(cat "$T/preview.txt")"
stop_daemon
echo "PASS: $TEST_NAME"
