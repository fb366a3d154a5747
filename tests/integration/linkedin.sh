#!/bin/sh
# The linkedin channel through crierd against tests/peers/linkedin_mock.py:
# the configuration refused without a version, with a malformed one or a
# wrong URN; a text post whose reserved characters reach LinkedIn escaped
# (shown whole, not cut), with the pinned headers and the URN from
# x-restli-id; an image through the Images API with its alt text; --check
# counting UTF-16 units against 3000; 429 retried; 401 (expired token), 403
# (an author the token may not act for) and 426 (a retired version) pause
# the channel with the reason; the token's expiry warned in status.
. "$(dirname "$0")/lib.sh"
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/social-lib.sh"
MOCK_PY="$top_srcdir/tests/peers/linkedin_mock.py"
export CRIER_TEST_BACKOFF_MS=300

VER=$(date -u +%Y%m)
ORG=urn:li:organization:2414183
( umask 077
  echo "li-tok-1" > "$T/li.token"
  echo "li-tok-2" > "$T/li2.token"
  printf 'li-tok-1 %s urn:li:person:abc-123\nli-tok-2 urn:li:person:abc-123\n' "$ORG" > "$T/peer.tokens" )
start_mock li --token-file "$T/peer.tokens"
API=$(mock_url li)

# li_channel NAME [lines...]: a linkedin channel on the peer; a "key = value"
# line replaces the default of that key.
li_channel() {
	local name=$1 l
	shift
	echo "[channel $name]"
	echo "type = linkedin"
	for l in "api = $API" "author = $ORG" "version = $VER" "token_file = $T/li.token"; do
		printf '%s\n' "$@" | grep -q "^${l%% =*} =" || echo "$l"
	done
	printf '%s\n' "$@"
}

# Configuration mistakes are refused at --check, naming line and key.
write_config "[channel li]" "type = linkedin" "api = $API" "author = $ORG" \
    "token_file = $T/li.token"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "missing key 'version'"
write_config "$(li_channel li | sed 's/^author = .*/author = urn:li:company:2414183/')"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "author: 'urn:li:company:2414183' is not a person or organization URN"
write_config "$(li_channel li | sed 's/^author = .*/author = 2414183/')"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "is not a person or organization URN"
write_config "$(li_channel li | sed 's/^version = .*/version = 2025-10/')"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "version: '2025-10' is not a LinkedIn-Version (YYYYMM"
write_config "$(li_channel li "token_expires = soon")"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "token_expires: 'soon' is not a date"

# --check: 1600 emoji are 1600 characters but 3200 UTF-16 units: too long.
CAL="$T/cal.ics"
"$PY" - "$CAL" "$T/chart.png" <<'PYEOF'
import sys
emoji = "\U0001F600" * 1600
ok = "\U0001F600" * 1500
ev = lambda uid, d, extra="": ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20270101T000000Z\r\n"
    "DTSTART:20270517T080000Z\r\nSUMMARY:s\r\nDESCRIPTION:%s\r\n%sEND:VEVENT\r\n" % (uid, d, extra))
open(sys.argv[1], "w", newline="", encoding="utf-8").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + ev("long@ogw.test", emoji) +
    ev("fits@ogw.test", ok) +
    ev("noalt@ogw.test", "chart", "ATTACH;FMTTYPE=image/png:%s\r\n" % sys.argv[2]) +
    "END:VCALENDAR\r\n")
PYEOF
make_png "$T/chart.png"
write_config "$(li_channel li)" "[calendar c]" "path = $CAL" "channels = li"
expect_rc 1 "$CRIERD" -c "$CONF" --check --json --from 2027-05-01 --to 2027-06-01
echo "$OUT" | "$PY" -c '
import json, sys
rows = {r["uid"]: r for r in (json.loads(l) for l in sys.stdin if l.startswith("{"))}
c = rows["long@ogw.test"]["channels"][0]
assert (c["length"], c["limit"], c["fits"]) == (3200, 3000, False), c
c = rows["fits@ogw.test"]["channels"][0]
assert (c["length"], c["fits"]) == (3000, True), c
assert any("no alt text" in p for p in rows["noalt@ogw.test"]["problems"]), rows["noalt@ogw.test"]
' || fail "--check --json: $OUT"

# A text post with LinkedIn's reserved characters, and an image with alt text.
TXT='Open Gov Week (pilot) with @OGP_Team: #OpenGov2026 [draft_1] C# <b> *x* ~y~ \ {z} | see https://ogp.example/x?a=1&b_c=2'
"$PY" - "$CAL" "$T/chart.png" <<'PYEOF'
import sys, time, datetime
t = datetime.datetime.fromtimestamp(time.time() + 2, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
open(sys.argv[1], "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:img@ogw.test\r\n"
    "DTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\nSUMMARY:s\r\nDESCRIPTION:Results (final)\r\n"
    "ATTACH;FMTTYPE=image/png;X-CRIER-ALT=\"Bar chart of the results\":%s\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n" % (t, sys.argv[2]))
PYEOF
write_config "$(li_channel li "hashtags = yes")" "$(li_channel li2 "author = urn:li:organization:99" \
    "token_file = $T/li2.token")" "[calendar c]" "path = $CAL" "channels = li"
start_daemon
a=$(post_id --channel li --text "$TXT")
wait_state "$a" sent 20
img=$(delivery_of img@ogw.test li)
wait_state "$img" sent 20
peer_get li /_control/posts > "$T/posts.json"
mock_requests li > "$T/req.json"
"$PY" - "$T/posts.json" "$T/req.json" "$TXT" "$ORG" "$VER" <<'PYEOF' || fail "posts at the peer"
import json, sys
posts, reqs = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
txt, org, ver = sys.argv[3], sys.argv[4], sys.argv[5]
assert len(posts) == 2, posts
p = [x for x in posts if x["media"] is None][0]
assert p["shown"] == txt and not p["truncated"], p
assert p["hashtags"] == ["OpenGov2026"], p["hashtags"]
assert p["author"] == org and p["visibility"] == "PUBLIC" and p["lifecycleState"] == "PUBLISHED", p
q = [x for x in posts if x["media"] is not None][0]
assert q["shown"] == "Results (final)" and not q["truncated"], q
assert q["media"]["altText"] == "Bar chart of the results", q["media"]
rest = [r for r in reqs if r["path"].startswith("/rest/")]
assert [r["path"] for r in rest].count("/rest/images") == 1, [r["path"] for r in rest]
for r in rest:
    assert r["headers"].get("LinkedIn-Version") == ver, r["headers"]
    assert r["headers"].get("X-Restli-Protocol-Version") == "2.0.0", r["headers"]
puts = [r for r in reqs if r["method"] == "PUT"]
assert len(puts) == 1 and puts[0]["body_len"] > 8, puts
PYEOF
[ "$(peer_get li /_control/images | jget '[i["status"] for i in d]')" = '["AVAILABLE"]' ] || fail "image not uploaded"
rid=$(field "$a" 'dl["remote_id"]')
[ "$(peer_posts li "[x['id'] for x in s if x['media'] is None][0]")" = "$rid" ] || fail "remote id $rid is not x-restli-id"
field "$a" 'dl["remote_url"]' | grep -q "^https://www.linkedin.com/feed/update/$rid/" || fail "url: $(field "$a" 'dl')"

# 429: retried after a backoff, then sent.
mock_script li '[{"method": "POST", "path": "/rest/posts", "status": 429, "body": {"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS", "message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}}]'
b=$(post_id --channel li --text "throttled first")
wait_state "$b" sent 20
[ "$(field "$b" 'dl["attempts"]')" = 2 ] || fail "429: attempts $(field "$b" 'dl["attempts"]')"
ctl --json show "$b" | grep -q "HTTP 429: Resource level throttle APPLICATION DAY limit" || fail "429 not in show"

# 403: li2's token may not act for organization 99: paused with the reason.
c=$(post_id --channel li2 --text "not ours to post")
wait_state "$c" held 20
[ "$(chan_info li2 'c["paused"]')" = True ] || fail "403 did not pause"
chan_info li2 'c["reason"]' | grep -q "HTTP 403: Not enough permissions to access" || fail "403 reason: $(chan_info li2 'c')"
field "$c" 'dl["last_error"]' | grep -q "partnerApiPostsExternal.CREATE" || fail "403 body not in show"

# 401: the token expires at LinkedIn: paused, and status says why.
peer_post li /_control/expire '{"token": "li-tok-1"}'
d=$(post_id --channel li --text "after expiry")
wait_state "$d" held 20
[ "$(chan_info li 'c["paused"]')" = True ] || fail "401 did not pause"
expect_rc 0 ctl status
expect_out "HTTP 401: The token used in the request has expired"
[ "$(peer_posts li 'len(s)')" = 3 ] || fail "posts after errors: $(peer_posts li 'len(s)')"
stop_daemon

# 426: a retired version pauses, naming the key; token expiry warnings.
( umask 077 && echo "li-tok-2" > "$T/old.token" && echo "li-tok-2" > "$T/new.token" )
touch -d "@$(( $(date +%s) - 50 * 86400 ))" "$T/old.token"
soon=$(date -u -d "@$(( $(date +%s) + 10 * 86400 ))" +%Y-%m-%d)
far=$(date -u -d "@$(( $(date +%s) + 40 * 86400 ))" +%Y-%m-%d)
P=urn:li:person:abc-123
N="token_file = $T/new.token"
write_config "$(li_channel old "author = $P" "token_file = $T/old.token")" \
    "$(li_channel soon "author = $P" "$N" "token_expires = $soon")" \
    "$(li_channel far "author = $P" "$N" "token_expires = $far")" \
    "$(li_channel fresh "author = $P" "$N")" \
    "$(li_channel retired "author = $P" "$N" "version = 202001")"
start_daemon
expect_rc 0 ctl status
expect_out "warning: the access token expires at ${soon}T00:00:00Z (in 10 days)"
chan_info old 'c["warning"]' | grep -q "in 10 days, 60 days after the token file was written" || fail "old: $(chan_info old c)"
[ "$(chan_info far 'c["warning"]')" = null ] || fail "far: $(chan_info far c)"
[ "$(chan_info fresh 'c["warning"]')" = null ] || fail "fresh: $(chan_info fresh c)"
e=$(post_id --channel retired --text "on an old version")
wait_state "$e" held 20
chan_info retired 'c["reason"]' | grep -q "HTTP 426: Requested version 20200101 is not active (set .version. to an active" ||
	fail "426: $(chan_info retired c)"
f=$(post_id --channel fresh --text "on the current version")
wait_state "$f" sent 20
stop_daemon
grep -q "li-tok-" "$LOG" && fail "a token in the log"
echo "PASS: $TEST_NAME"
