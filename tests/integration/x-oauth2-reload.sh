#!/bin/sh
# A reload while an X OAuth 2.0 refresh is under way: X rotates the refresh
# token the moment it answers, and the account the reload made had read the
# old pair from crier.db. When its access token is due again it must take
# the rotated pair the other account saved, not refresh with the dead one
# (X refuses that and the channel would pause).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/x-lib.sh"

# Access tokens for 62 s: crierd refreshes 60 s ahead, so each is good for
# about 2 s, and every post after that refreshes.
start_x --access-ttl 62
write_config "$(x_channel xo2 oauth2)"
start_daemon
a=$(post_id --channel xo2 --text "Open Gov Week: first")
wait_state "$a" sent 20
[ "$(x_get /_control/tokens | jget 'd["refreshes"]')" = 1 ] || fail "first refresh"
sleep 3
# The next refresh takes 3 s; the reload lands in the middle of it.
x_post /_control/token-delay '{"seconds": 3}'
b=$(post_id --channel xo2 --text "Open Gov Week: second")
wait_for "[ \"\$(mock_requests x | jget 'sum(1 for r in d if r[\"path\"] == \"/2/oauth2/token\")')\" = 2 ]" 10 ||
	fail "the second refresh did not start"
expect_rc 0 ctl reload
wait_state "$b" sent 20
[ "$(x_get /_control/tokens | jget 'd["refreshes"]')" = 2 ] || fail "second refresh"
x_post /_control/token-delay '{"seconds": 0}'
sleep 3
# The reloaded account's access token is due: it must refresh with the
# rotated token crier.db holds now.
c=$(post_id --channel xo2 --text "Open Gov Week: third")
wait_for "[ \"\$(state_of $c)\" = sent ] || [ \"\$(state_of $c)\" = held ]" 20 ||
	fail "third post: $(state_of "$c")"
[ "$(state_of "$c")" = sent ] ||
	fail "the reloaded account refreshed with a dead token: $(ctl show "$c" | tail -5) $(ctl status | grep -i xo2)"
mock_requests x | "$PY" -c '
import json, sys
reqs = [r for r in json.load(sys.stdin) if r["path"] == "/2/oauth2/token"]
bad = [r for r in reqs if r.get("auth_error")]
assert not bad, bad
' || fail "a refresh used a dead token: $(mock_requests x)"
stop_daemon
echo "PASS: $TEST_NAME"
