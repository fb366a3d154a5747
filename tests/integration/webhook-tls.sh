#!/bin/sh
# TLS is always verified: a server whose certificate comes from a private CA
# is refused without ca_file and accepted with it.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

command -v openssl >/dev/null 2>&1 || skip "no openssl command"
sh "$top_srcdir/tests/peers/mkcerts.sh" "$T/certs" || fail "mkcerts"
start_mock m --tls "$T/certs/server-chain.pem" "$T/certs/server.key"
P=$(mock_port m)
hook="[channel hook]
type = webhook
url = https://127.0.0.1:$P/hook
format = slack"

write_config "$hook"
start_daemon
d=$(post_id --channel hook --text "over TLS")
wait_state "$d" retrying
field "$d" 'dl["last_error"]' | grep -qi "certificate\|SSL" ||
	fail "no certificate error: $(field "$d" 'dl["last_error"]')"
[ "$(mock_count m)" = 0 ] || fail "a request got through an unverified TLS connection"
stop_daemon

write_config "ca_file = $T/certs/ca.pem" "$hook"
start_daemon
expect_rc 0 ctl retry "$d"
wait_state "$d" sent
[ "$(mock_requests m | jget 'd[0]["tls"] and d[0]["path"] == "/hook"')" = True ] || fail "not received over TLS"
[ "$(mock_count m)" = 1 ] || fail "requests: $(mock_count m)"
stop_daemon
echo "PASS: $TEST_NAME"
