#!/bin/sh
# The threads channel keeps its long-lived token alive (Threads' tokens end
# after 60 days; GET /refresh_access_token once one is 24 hours old): a
# token less than a day old is not refreshed; once a day has passed, crierd
# refreshes it at start (and before a delivery, and hourly) in the
# background; the new token is saved before use and posts carry it; after kill -9
# the saved token is used even when token_file's is dead; a new token in
# token_file (a new authorization) is taken at reload; tokens are never
# logged. crierd's clock cannot be moved, so the test moves the peer's and
# the age crier wrote down in crier.db.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/threads-lib.sh"

command -v sqlite3 >/dev/null || skip "the sqlite3 shell is not installed (scripts/install-deps.sh)"
( umask 077 && echo "th-tok-ogp-1" > "$TH_TOKEN" &&
  printf 'th-tok-ogp-1 %s\nth-tok-ogp-2 %s\n' "$TH_USER" "$TH_USER" > "$T/threads.users" )
MOCK_PY="$top_srcdir/tests/peers/threads_mock.py" \
    start_mock th --token-file "$T/threads.users"

# bearer TEXT: the token the container for the post TEXT was made with.
bearer() {
	mock_requests th | "$PY" -c '
import json, sys, urllib.parse
reqs = [r for r in json.load(sys.stdin) if r["method"] == "POST" and r["path"].endswith("/threads")]
for r in reqs:
    if urllib.parse.parse_qs(r.get("body") or "").get("text") == [sys.argv[1]]:
        h = {k.lower(): v for k, v in r["headers"].items()}
        print(h.get("authorization", ""))
' "$1"
}
refreshes() {
	th_get /_control/refreshes | jget "$1"
}
kv() {
	sqlite3 "$STATE/crier.db" "SELECT value FROM chan_kv WHERE channel = 'th' AND key = '$1'"
}

write_config "$(th_channel th)"
start_daemon
a=$(post_id --channel th --text "Open Gov Week day one")
wait_state "$a" sent 20
[ "$(bearer "Open Gov Week day one")" = "Bearer th-tok-ogp-1" ] || fail "day one: $(bearer "Open Gov Week day one")"
since=$(kv th_since)
[ -n "$since" ] || fail "the first sight of the token was not written down"
[ "$(refreshes 'len(d)')" = 0 ] || fail "a token less than a day old was refreshed"
stop_daemon

# A day passes (25 hours): on the peer's clock, and in the age crier keeps.
th_post /_control/clock '{"advance": 90000}'
sqlite3 "$STATE/crier.db" "UPDATE chan_kv SET value = '$((since - 90000000))' WHERE channel = 'th' AND key = 'th_since'"
start_daemon
# At start, before any post.
wait_for "grep -q 'Threads access token refreshed' '$LOG'" 20 ||
	fail "not refreshed at start: $(grep 'channel th' "$LOG")"
b=$(post_id --channel th --text "Open Gov Week day two")
wait_state "$b" sent 20
[ "$(bearer "Open Gov Week day two")" = "Bearer th-ref-1" ] ||
	fail "day two: $(bearer "Open Gov Week day two")"
[ "$(refreshes 'd == [{"old": "th-tok-ogp-1", "new": "th-ref-1"}]')" = True ] ||
	fail "refreshes: $(refreshes 'd')"
[ "$(kv th_token)" = th-ref-1 ] || fail "the new token is not saved"
c=$(post_id --channel th --text "Open Gov Week day two again")
wait_state "$c" sent 20
[ "$(bearer "Open Gov Week day two again")" = "Bearer th-ref-1" ] ||
	fail "the next post: $(bearer "Open Gov Week day two again")"
# The refresh went to the unversioned path, the token in a header, not the URL.
mock_requests th | "$PY" -c '
import json, sys
r = [r for r in json.load(sys.stdin) if r["path"] == "/refresh_access_token"]
assert len(r) == 1 and r[0]["method"] == "GET", r
assert r[0]["query"] == "grant_type=th_refresh_token", r
' || fail "refresh request: $(mock_requests th)"

# kill -9; token_file's token dies: the saved one carries on.
kill9_daemon
th_post /_control/expire '{"token": "th-tok-ogp-1"}'
start_daemon
d=$(post_id --channel th --text "Open Gov Week day three")
wait_state "$d" sent 20
[ "$(bearer "Open Gov Week day three")" = "Bearer th-ref-1" ] || fail "after kill -9: $(bearer "Open Gov Week day three")"
[ "$(refreshes 'len(d)')" = 1 ] || fail "refreshed a token less than a day old: $(refreshes 'd')"

# A new authorization: token_file's new token is taken at reload.
( umask 077 && echo "th-tok-ogp-2" > "$TH_TOKEN" )
expect_rc 0 ctl reload
e=$(post_id --channel th --text "Open Gov Week day four")
wait_state "$e" sent 20
[ "$(bearer "Open Gov Week day four")" = "Bearer th-tok-ogp-2" ] || fail "new token_file: $(bearer "Open Gov Week day four")"
stop_daemon
grep -q "th-ref-1\|th-tok-ogp" "$LOG" && fail "a token is in the log"
echo "PASS: $TEST_NAME"
