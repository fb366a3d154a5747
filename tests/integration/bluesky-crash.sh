#!/bin/sh
# kill -9 between the request and its commit on the bluesky channel: the PDS
# has written the record but crierd dies before booking it. After a restart
# the delivery (left in `sending`; the channel is idempotent) goes again,
# finds its record key taken (putRecord with swapRecord null), reads the
# record back and is `sent` with its URI: one post, written once. Also: an
# access token that lives a few seconds is refreshed before it expires.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

printf 'app-pass-1234\n' > "$T/pw"
chmod 600 "$T/pw"
MOCK_PY="$top_srcdir/tests/peers/bluesky_mock.py"
start_mock pds --handle ogp.test --did did:plc:ogptest --app-password-file "$T/pw" --access-ttl 20
PDS=$(mock_url pds)
export CRIER_TEST_BACKOFF_MS=300
write_config "[channel bsky]" "type = bluesky" "service = $PDS" "handle = ogp.test" \
	"password_file = $T/pw"
start_daemon

records() {
	"$PY" -c 'import json, sys, urllib.request
print(urllib.request.urlopen(sys.argv[1] + "/_control/records", timeout=30).read().decode())' "$PDS"
}
puts() {
	mock_requests pds | jget 'len([r for r in d if r["path"] == "/xrpc/com.atproto.repo.putRecord"])'
}

# crierd's putRecord hangs (no answer); meanwhile the PDS "processes" it: the
# test replays that very request to the PDS, then kills crierd.
mock_script pds '[{"path": "/xrpc/com.atproto.repo.putRecord", "hang": 60}]'
a=$(post_id --channel bsky --text "Crash test: one post only #crier")
wait_for '[ "$(puts)" = 1 ]' 30 || fail "no putRecord"
[ "$(state_of "$a")" = sending ] || fail "not sending: $(state_of "$a")"
mock_requests pds | jget '[r for r in d if r["path"] == "/xrpc/com.atproto.repo.putRecord"][0]' > "$T/put.json"
"$PY" - "$T/put.json" "$PDS" <<'PYEOF' || fail "replaying putRecord"
import json, sys, urllib.request
r = json.load(open(sys.argv[1]))
h = {k: v for k, v in r["headers"].items() if k.lower() in ("authorization", "content-type")}
req = urllib.request.Request(sys.argv[2] + r["path"], data=r["body"].encode(), headers=h, method="POST")
print(urllib.request.urlopen(req, timeout=30).read().decode())
PYEOF
kill9_daemon
[ "$(records | jget 'len(d)')" = 1 ] || fail "the replay wrote no record"
uri=$(records | jget 'd[0]["uri"]')

start_daemon
wait_state "$a" sent 30
[ "$(field "$a" 'dl["remote_id"]')" = "$uri" ] || fail "remote_id $(field "$a" 'dl["remote_id"]'), not $uri"
[ "$(records | jget 'len(d)')" = 1 ] || fail "a second record: $(records)"
[ "$(records | jget 'd[0]["writes"]')" = 1 ] || fail "the record was written again"
[ "$(puts)" = 3 ] || fail "putRecord requests: $(puts)"
[ "$(mock_requests pds | jget 'len([r for r in d if r["path"] == "/xrpc/com.atproto.repo.getRecord"])')" = 1 ] ||
	fail "no getRecord"
grep -q "exists already" "$LOG" || fail "not logged"

# Token lifetime 20 s: refreshed a tenth before exp (about 2 s), so a post
# 19 s later uses a refreshed token without any ExpiredToken answer.
b=$(post_id --channel bsky --text "before refresh")
wait_state "$b" sent
sleep 19
c=$(post_id --channel bsky --text "after refresh")
wait_state "$c" sent
mock_requests pds > "$T/req.json"
"$PY" - "$T/req.json" <<'PYEOF' || fail "refresh before expiry"
import json, sys
reqs = json.load(open(sys.argv[1]))
paths = [r["path"].rsplit("/", 1)[-1] for r in reqs]
assert paths.count("com.atproto.server.refreshSession") >= 1, paths
last = max(i for i, p in enumerate(paths) if p == "com.atproto.repo.putRecord")
prev = [p for p in paths[:last] if p.startswith("com.atproto.server.")][-1]
assert prev == "com.atproto.server.refreshSession", paths
PYEOF
[ "$(records | jget 'len(d)')" = 3 ] || fail "records: $(records)"
grep -q "ExpiredToken" "$LOG" && fail "waited for ExpiredToken instead of refreshing first"
stop_daemon
echo "PASS: $TEST_NAME"
