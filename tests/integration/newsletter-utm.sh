#!/bin/sh
# Tracked links in newsletters (utm = on an smtp channel or its calendar):
# each recipient's message has the links of its text part and the href
# links of its HTML part tagged (the calendar's utm wins over the
# channel's; "&amp;" in HTML), a link tagged already and the recipient's
# unsubscribe link (body and List-Unsubscribe) stay as they are; an ad-hoc
# post gets the channel's utm; a bad utm is a --check problem.
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
stop_daemon
echo "PASS: $TEST_NAME"
