#!/bin/sh
# The x channel with an OAuth 2.0 user token against x_mock.py, whose
# refresh tokens rotate as X's do (the one used dies at once). The first
# post refreshes from token_file's rt-0 and the new refresh token is in
# crier.db; after kill -9 and an expired access token, crierd refreshes
# with the stored token (rt-0 is dead: using it would fail) and posts; a
# refused refresh pauses the channel with X's reason; no token is logged.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/x-lib.sh"

start_x
write_config "$(x_channel xo2 oauth2)"
start_daemon

a=$(post_id --channel xo2 --text "Refreshed before posting")
wait_state "$a" sent 20
[ "$(x_tweets '[x["auth"] for x in t]')" = '["oauth2"]' ] || fail "not posted with OAuth 2.0: $(x_tweets t)"
x_get /_control/tokens > "$T/tokens.json"
[ "$(jget 'd["refreshes"]' < "$T/tokens.json")" = 1 ] || fail "refreshes: $(cat "$T/tokens.json")"
rt=$(jget 'd["refresh_token"]' < "$T/tokens.json")
at=$(jget 'd["access_tokens"][0]' < "$T/tokens.json")
[ "$rt" != rt-0 ] || fail "the peer did not rotate"
# The rotated refresh token is in the store, with the access token.
"$PY" - "$STATE/crier.db" "$rt" "$at" <<'PYEOF' || fail "tokens not in crier.db"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
kv = dict(db.execute("SELECT key, value FROM chan_kv WHERE channel = 'xo2'"))
assert kv.get("x_refresh_token") == sys.argv[2], sorted(kv)
assert kv.get("x_access_token") == sys.argv[3], sorted(kv)
PYEOF
mock_requests x | jget '[r["body"] for r in d if r["path"] == "/2/oauth2/token"]' |
	grep -q 'grant_type=refresh_token&refresh_token=rt-0&client_id=cid-ogp' || fail "token request"

# kill -9; the access token expires meanwhile. crierd must refresh with
# the stored token: token_file's rt-0 no longer works.
kill9_daemon
x_post /_control/expire-tokens '{"refresh": false}'
start_daemon
b=$(post_id --channel xo2 --text "After the crash, with an expired access token")
wait_state "$b" sent 20
[ "$(x_get /_control/tokens | jget 'd["refreshes"]')" = 2 ] || fail "no second refresh"
mock_requests x | jget '[r["body"] for r in d if r["path"] == "/2/oauth2/token"][-1]' |
	grep -q "refresh_token=$rt&" || fail "the second refresh did not use the stored token"
ctl --json show "$b" | jget '[e["event"] for e in d["delivery"]["events"]]' | grep -q reauth ||
	fail "no reauth event: $(ctl show "$b")"
[ "$(x_tweets 'len(t)')" = 2 ] || fail "posts: $(x_tweets t)"

# X refuses the refresh token: the channel pauses, saying why.
x_post /_control/expire-tokens '{"refresh": true}'
c=$(post_id --channel xo2 --text "Nobody can refresh this")
wait_for "[ \"\$(ctl --json status | jget '[c[\"paused\"] for c in d[\"channels\"] if c[\"name\"] == \"xo2\"][0]')\" = True ]" 20 ||
	fail "a refused refresh did not pause: $(ctl status)"
ctl --json status | jget '[c for c in d["channels"] if c["name"] == "xo2"][0]' > "$T/st.json"
grep -q "X refused the refresh token" "$T/st.json" || fail "status: $(cat "$T/st.json")"
grep -q "Value passed for the token was invalid." "$T/st.json" || fail "status: $(cat "$T/st.json")"
[ "$(state_of "$c")" != sent ] || fail "sent without a token"
[ "$(x_tweets 'len(t)')" = 2 ] || fail "posts: $(x_tweets t)"

for s in "$rt" "$at" $(x_get /_control/tokens | jget '" ".join(d["access_tokens"])'); do
	grep -qF -- "$s" "$LOG" && fail "a token is in the log"
done
grep -q "rt-0" "$LOG" && fail "the seed refresh token is in the log"
stop_daemon
echo "PASS: $TEST_NAME"
