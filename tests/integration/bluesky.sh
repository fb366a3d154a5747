#!/bin/sh
# The bluesky channel against tests/peers/bluesky_mock.py (a PDS that checks
# auth, field names and types, TID record keys and that every facet lands
# exactly on its text): facets in UTF-8 byte offsets after emoji and
# non-Latin scripts, a mention that does not resolve left plain, langs, a
# link card from a page's OpenGraph tags, a refused token renewed without a
# lost post, 429 with RateLimit-Reset honoured, InvalidRequest failing with
# the server's message, and a wrong app password pausing the channel.
. "$(dirname "$0")/lib.sh"
# The peers are on loopback; the test's files are the media.
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"

printf 'app-pass-1234\n' > "$T/pw"
printf 'wrong-pass\n' > "$T/badpw"
chmod 600 "$T/pw" "$T/badpw"
MOCK_PY="$top_srcdir/tests/peers/bluesky_mock.py"
start_mock pds --handle ogp.test --did did:plc:ogptest --app-password-file "$T/pw"
MOCK_PY="$top_srcdir/tests/peers/httpmock.py"
start_mock web
PDS=$(mock_url pds)
WEB=$(mock_url web)
export CRIER_TEST_BACKOFF_MS=300
write_config "[channel bsky]" "type = bluesky" "service = $PDS" "handle = ogp.test" \
	"password_file = $T/pw" "language = en, uk" \
	"[channel cards]" "type = bluesky" "service = $PDS/" "handle = @ogp.test" \
	"password_file = $T/pw" "link_cards = yes" \
	"[channel bad]" "type = bluesky" "service = $PDS" "handle = ogp.test" \
	"password_file = $T/badpw"
start_daemon

# records [FILTER]: the PDS's records as JSON.
records() {
	"$PY" -c 'import json, sys, urllib.request
print(urllib.request.urlopen(sys.argv[1] + "/_control/records", timeout=30).read().decode())' "$PDS"
}
# pds_calls NSID: how many requests for that method the PDS got.
pds_calls() {
	mock_requests pds | jget "len([r for r in d if r['path'] == '/xrpc/$1'])"
}
control() {
	"$PY" -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
    method="POST"), timeout=30).read()' "$PDS/_control/$1" "${2:-{\}}" || fail "control $1"
}

# 1. Facets after emoji (with a skin tone: 8 bytes), Cyrillic and CJK.
TEXT='Привет 👋🏽 世界！ Open Gov Week: https://example.org/ogw?day=1&x=(2) starts. #OpenGovWeek #2027 with @alice.test, @nobody.invalid and mail@bob.test 🎉'
a=$(post_id --channel bsky --text "$TEXT")
wait_state "$a" sent
records > "$T/r1.json"
"$PY" - "$T/r1.json" "$a" "$TEXT" > "$T/v1" 2>&1 <<'PYEOF' || fail "first post: $(cat "$T/v1")"
import json, re, sys
recs = json.load(open(sys.argv[1]))
text = sys.argv[3]
raw = text.encode()
assert len(recs) == 1, recs
r = recs[0]
assert r["collection"] == "app.bsky.feed.post" and r["writes"] == 1, r
assert re.match(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$", r["rkey"]), r["rkey"]
rec = r["record"]
assert rec["text"] == text, rec["text"]
assert rec["langs"] == ["en", "uk"], rec.get("langs")
assert rec["$type"] == "app.bsky.feed.post" and not r["$type_set_by_server"]
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", rec["createdAt"]), rec["createdAt"]
def span(s):
    i = raw.index(s.encode())
    return {"byteStart": i, "byteEnd": i + len(s.encode())}
want = [
    {"index": span("https://example.org/ogw?day=1&x=(2)"), "features": [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/ogw?day=1&x=(2)"}]},
    {"index": span("#OpenGovWeek"), "features": [
        {"$type": "app.bsky.richtext.facet#tag", "tag": "OpenGovWeek"}]},
    {"index": span("@alice.test"), "features": [
        {"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}]},
]
got = rec["facets"]
assert got == want, json.dumps(got, ensure_ascii=False)
# each facet's byte slice is exactly its text
for f in got:
    print(raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode())
assert "embed" not in rec, rec
PYEOF
cat "$T/v1"
[ "$(field "$a" 'dl["remote_id"]')" = "at://did:plc:ogptest/app.bsky.feed.post/$(records | jget 'd[0]["rkey"]')" ] ||
	fail "remote_id: $(field "$a" 'dl["remote_id"]')"
field "$a" 'dl["remote_url"]' | grep -q '^https://bsky.app/profile/did:plc:ogptest/post/' || fail "remote_url"
grep -q "@nobody.invalid does not resolve" "$LOG" || fail "no warning for the unresolved mention"
[ "$(pds_calls com.atproto.server.createSession)" = 1 ] || fail "createSession count"
[ "$(pds_calls com.atproto.identity.resolveHandle)" = 2 ] || fail "resolveHandle count"
# The putRecord request itself: Bearer token, JSON, TID rkey, swapRecord null.
mock_requests pds | jget '[r for r in d if r["path"] == "/xrpc/com.atproto.repo.putRecord"][0]' > "$T/put.json"
"$PY" - "$T/put.json" <<'PYEOF' || fail "putRecord request: $(cat "$T/put.json")"
import json, sys
r = json.load(open(sys.argv[1]))
h = {k.lower(): v for k, v in r["headers"].items()}
assert h["authorization"].startswith("Bearer ey"), h
assert h["content-type"] == "application/json", h
b = json.loads(r["body"])
assert b["repo"] == "did:plc:ogptest" and b["collection"] == "app.bsky.feed.post", b
assert "swapRecord" in b and b["swapRecord"] is None, b
PYEOF
grep -q "Bearer\|accessJwt\|refreshJwt\|app-pass-1234" "$LOG" && fail "a secret in the log"

# 2. Link card from the page's OpenGraph tags (entities decoded).
mock_script web '[{"path": "/page", "headers": {"Content-Type": "text/html; charset=utf-8"},
  "body": "<!doctype html><html><head><title>Fallback</title><meta charset=\"utf-8\"><meta property=\"og:title\" content=\"Open Gov Week &amp; you\"><meta content='"'"'Five days of open government — join us'"'"' property='"'"'og:description'"'"'></head><body>x</body></html>"}]'
c=$(post_id --channel cards --text "Read this: $WEB/page")
wait_state "$c" sent
records | jget '[r for r in d if r["record"]["text"].startswith("Read this")][0]["record"]' > "$T/card.json"
"$PY" - "$T/card.json" "$WEB/page" <<'PYEOF' || fail "link card: $(cat "$T/card.json")"
import json, sys
rec = json.load(open(sys.argv[1]))
assert rec["embed"] == {"$type": "app.bsky.embed.external", "external": {
    "uri": sys.argv[2], "title": "Open Gov Week & you",
    "description": "Five days of open government \u2014 join us"}}, rec["embed"]
assert "langs" not in rec
PYEOF
# A page that cannot be fetched: the post goes without a card.
mock_script web '[{"path": "/gone", "status": 404, "body": "no"}]'
c2=$(post_id --channel cards --text "Gone: $WEB/gone")
wait_state "$c2" sent
[ "$(records | jget '"embed" in [r for r in d if r["record"]["text"].startswith("Gone")][0]["record"]')" = False ] ||
	fail "a card for a missing page"
grep -q "link card: .*HTTP 404; posting without a card" "$LOG" || fail "no warning for the failed card"
# Each channel logged in once and reuses its session.
[ "$(pds_calls com.atproto.server.createSession)" = 2 ] || fail "createSession per post"

# 3. The access token expires (the server says ExpiredToken): refreshed, post not lost.
control expire-tokens
e=$(post_id --channel bsky --text "after expiry")
wait_state "$e" sent
[ "$(pds_calls com.atproto.server.refreshSession)" = 1 ] || fail "refreshSession count"
[ "$(pds_calls com.atproto.server.createSession)" = 2 ] || fail "logged in again instead of refreshing"
[ "$(field "$e" 'dl["attempts"]')" = 1 ] || fail "expiry cost an attempt"
[ "$(records | jget 'len([r for r in d if r["record"]["text"] == "after expiry"])')" = 1 ] || fail "expiry post"

# 4. 429 with RateLimit-Reset (2 s ahead): the retry waits for it.
mock_script pds '[{"path": "/xrpc/com.atproto.repo.putRecord", "status": 429}]'
l=$(post_id --channel bsky --text "rate limited")
wait_state "$l" sent 30
mock_requests pds | jget '[r["time"] for r in d if r["path"] == "/xrpc/com.atproto.repo.putRecord"][-2:]' > "$T/times"
"$PY" -c 'import json,sys; a,b = json.load(open(sys.argv[1])); assert b - a >= 1.0, (a, b)' "$T/times" ||
	fail "429: retried before RateLimit-Reset: $(cat "$T/times")"
[ "$(field "$l" 'dl["attempts"]')" = 2 ] || fail "429: attempts"
ctl --json show "$l" | grep -q "RateLimitExceeded" || fail "429: not in the history"

# 5. InvalidRequest is permanent, with the server's message.
mock_script pds '[{"path": "/xrpc/com.atproto.repo.putRecord", "status": 400, "body": {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record: something is off"}}]'
f=$(post_id --channel bsky --text "refused")
wait_state "$f" failed
field "$f" 'dl["last_error"]' | grep -q "InvalidRequest: Invalid app.bsky.feed.post record: something is off" ||
	fail "InvalidRequest message: $(field "$f" 'dl["last_error"]')"
[ "$(field "$f" 'dl["attempts"]')" = 1 ] || fail "InvalidRequest retried"

# 6. A wrong app password pauses the channel, with the reason in status.
b=$(post_id --channel bad --text "never")
wait_state "$b" held
[ "$(field "$b" 'dl["held_for"]')" = "channel paused" ] || fail "held_for"
ctl --json status | jget '[c for c in d["channels"] if c["name"] == "bad"][0]' > "$T/bad.json"
grep -q '"paused": true' "$T/bad.json" || fail "bad password: not paused: $(cat "$T/bad.json")"
grep -q "Invalid identifier or password" "$T/bad.json" || fail "bad password: reason: $(cat "$T/bad.json")"
[ "$(ctl --json status | jget '[c for c in d["channels"] if c["name"] == "bsky"][0]["paused"]')" = False ] ||
	fail "the good channel paused too"

# Every post is a record once; nothing else was written.
[ "$(records | jget 'len(d)')" = 5 ] || fail "records: $(records)"
[ "$(records | jget 'max(r["writes"] for r in d)')" = 1 ] || fail "a record written twice"
stop_daemon
echo "PASS: $TEST_NAME"
