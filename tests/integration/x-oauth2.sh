#!/bin/sh
# The x channel with an OAuth 2.0 user token against x_mock.py, whose
# refresh tokens rotate as X's do (the one used dies at once). The first
# post refreshes from token_file's rt-0 and the new refresh token is in
# crier.db; after kill -9 and an expired access token, crierd refreshes
# with the stored token (rt-0 is dead: using it would fail) and posts; a
# refused refresh pauses the channel with X's reason; no token is logged.
# A confidential client authenticates with HTTP Basic (client_secret_file);
# a wrong client secret pauses the channel.
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

# A confidential client: HTTP Basic at the token endpoint, no client_id in
# the form; a wrong client secret (401 unauthorized_client) pauses.
( umask 077
  cat > "$T/x2-creds.json" <<'JSON'
{"consumer_key": "ck", "consumer_secret": "cs", "access_token": "at",
 "access_token_secret": "ats", "client_id": "cid-conf", "client_secret": "csec-ogp",
 "refresh_token": "rt-conf"}
JSON
  echo rt-conf > "$T/x2-rt"; echo csec-ogp > "$T/x2-secret"; echo wrong > "$T/x2-wrong" )
start_mock x2 --credentials "$T/x2-creds.json"
write_config "[channel xc]" "type = x" "api = $(mock_url x2)" "auth = oauth2" \
    "client_id = cid-conf" "token_file = $T/x2-rt" "client_secret_file = $T/x2-secret"
start_daemon
d=$(post_id --channel xc --text "From a confidential client")
wait_state "$d" sent 20
mock_requests x2 | jget '[r for r in d if r["path"] == "/2/oauth2/token"][0]' > "$T/tok.json"
[ "$(jget 'd["headers"].get("Authorization")' < "$T/tok.json")" = "Basic $(printf cid-conf:csec-ogp | base64)" ] ||
	fail "no Basic client authentication: $(cat "$T/tok.json")"
jget 'd["body"]' < "$T/tok.json" | grep -q client_id && fail "client_id in a confidential client's form"
stop_daemon
"$PY" - "$STATE/crier.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM chan_kv WHERE channel = 'xc'")
db.commit()
PYEOF
x2_post() {
	"$PY" - "$(mock_url x2)$1" "$2" <<'PYEOF' >/dev/null || fail "cannot POST $1 to x2"
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method="POST"), timeout=30).read()
PYEOF
}
x2_post /_control/reset-all '{}'
sed "s|^client_secret_file = .*|client_secret_file = $T/x2-wrong|" "$CONF" > "$CONF.new" && mv "$CONF.new" "$CONF"
start_daemon
e=$(post_id --channel xc --text "With the wrong client secret")
wait_for "[ \"\$(ctl --json status | jget '[c[\"paused\"] for c in d[\"channels\"] if c[\"name\"] == \"xc\"][0]')\" = True ]" 20 ||
	fail "a wrong client secret did not pause: $(ctl status)"
ctl status | grep -q "unauthorized_client" || fail "status: $(ctl status)"
stop_daemon
echo "PASS: $TEST_NAME"
