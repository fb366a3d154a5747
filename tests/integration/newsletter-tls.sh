#!/bin/sh
# The smtp channel's transport: STARTTLS (required on smtp://) with AUTH and
# a verified certificate, smtps://, no message in clear when the server
# offers no STARTTLS, and refused credentials pause the channel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"

sh "$top_srcdir/tests/peers/mkcerts.sh" "$T/certs" >/dev/null 2>&1 || fail "mkcerts"
umask 077
printf 's3cret pass\n' > "$T/pass"
printf 'wrong\n' > "$T/wrongpass"
start_smtp a --starttls "$T/certs/server-chain.pem" "$T/certs/server.key" \
	--require-starttls --auth "news:$T/pass"
start_smtp b --smtps "$T/certs/server-chain.pem" "$T/certs/server.key" \
	--auth "news:$T/pass"
start_smtp c
RC="$T/recipients.csv"
write_recipients "$RC" 3
write_newsletter_cal "$T/news.ics" 3 "Weekly" "starttls,smtps,clear,badpass"
common="from = news@example.org
recipients_file = $RC"
write_config "templates = $top_srcdir/templates" "ca_file = $T/certs/ca.pem" \
	"[calendar news]" "path = $T/news.ics" \
	"[channel starttls]" "type = smtp" "url = smtp://127.0.0.1:$(smtp_port a)" \
	"username = news" "password_file = $T/pass" "$common" \
	"[channel smtps]" "type = smtp" "url = smtps://localhost:$(smtp_port b)" \
	"username = news" "password_file = $T/pass" "$common" \
	"[channel clear]" "type = smtp" "url = smtp://127.0.0.1:$(smtp_port c)" "$common" \
	"[channel badpass]" "type = smtp" "url = smtp://127.0.0.1:$(smtp_port a)" \
	"username = news" "password_file = $T/wrongpass" "$common"
export CRIER_TEST_BACKOFF_MS=60000
start_daemon
id_of() {
	ctl --json list --channel "$1" | jget 'd["deliveries"][0]["id"]'
}
wait_for "[ \"\$(state_of \$(id_of starttls))\" = sent ]" 30 || fail "starttls: $(state_of "$(id_of starttls)")"
wait_for "[ \"\$(state_of \$(id_of smtps))\" = sent ]" 30 || fail "smtps: $(state_of "$(id_of smtps)")"
[ "$(smtp_count a)" = 3 ] || fail "starttls: $(smtp_count a) messages"
[ "$(smtp_count b)" = 3 ] || fail "smtps: $(smtp_count b) messages"
"$PY" - "$T/a.mail/index.json" "$T/b.mail/index.json" <<'PYEOF' || fail "tls/auth"
import json, sys
for f in sys.argv[1:]:
    for m in json.load(open(f)):
        assert m["tls"] and m["auth_user"] == "news", m
PYEOF

# No STARTTLS offered: nothing goes in clear; the delivery waits to retry.
C=$(id_of clear)
wait_for "[ \"\$(state_of $C)\" = retrying ]" 20 || fail "clear: $(state_of "$C")"
[ "$(smtp_count c)" = 0 ] || fail "a message went in clear"
ctl --json show "$C" | jget 'd["delivery"]["last_error"]' | grep -qi "ssl\|tls" ||
	fail "clear: error does not say why: $(ctl --json show "$C" | jget 'd["delivery"]["last_error"]')"

# Refused credentials: the channel pauses, the delivery is held.
B=$(id_of badpass)
wait_for "[ \"\$(state_of $B)\" = held ]" 20 || fail "badpass: $(state_of "$B")"
ctl --json status | jget '[c for c in d["channels"] if c["name"] == "badpass"][0]["paused"]' | grep -qx True ||
	fail "badpass: channel not paused"

# starttls = no is refused for a host that is not loopback.
write_config "[channel x]" "type = smtp" "url = smtp://mail.example.org" "starttls = no" "$common"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "starttls = no is only allowed for loopback"
stop_daemon
echo "PASS: $TEST_NAME"
