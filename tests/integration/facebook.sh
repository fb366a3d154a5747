#!/bin/sh
# The facebook channel through crierd against tests/peers/facebook_mock.py:
# the configuration refused without a pinned Graph version; a text post to
# /vNN.N/{page}/feed with its link; an image to /photos with its alt text;
# --check against 63206 characters; Graph errors by code: 32 retried after
# the estimated_time_to_regain_access of the usage headers (a minute), 4
# with X-App-Usage alone at 100% an hour later, 190 (expired token) and 200
# (permission) pause the channel, 100 fails with Facebook's message.
. "$(dirname "$0")/lib.sh"
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/social-lib.sh"
MOCK_PY="$top_srcdir/tests/peers/facebook_mock.py"

( umask 077
  for t in 1 x 3; do echo "fb-tok-$t" > "$T/fb$t.token"; done
  printf 'fb-tok-1 1001\nfb-tok-x 1001\nfb-tok-3 3003\n' > "$T/peer.tokens" )
start_mock fb --token-file "$T/peer.tokens"
API=$(mock_url fb)

# fb_channel NAME [lines...]: a facebook channel on the peer; a "key = value"
# line replaces the default of that key.
fb_channel() {
	local name=$1 l
	shift
	echo "[channel $name]"
	echo "type = facebook"
	for l in "api = $API" "page_id = 1001" "graph_version = v24.0" "token_file = $T/fb1.token"; do
		printf '%s\n' "$@" | grep -q "^${l%% =*} =" || echo "$l"
	done
	printf '%s\n' "$@"
}

# Unpinned or malformed versions are refused at --check.
write_config "$(fb_channel fb | grep -v '^graph_version')"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "missing key 'graph_version'"
for v in 24.0 v24 latest; do
	write_config "$(fb_channel fb "graph_version = $v")"
	expect_rc 1 "$CRIERD" -c "$CONF" --check
	expect_out "graph_version: '$v' is not a pinned Graph API version"
done
write_config "$(fb_channel fb "page_id = ogp-page")"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "page_id: 'ogp-page' is not a Page id"

# --check: 63206 characters fit, 63207 do not.
CAL="$T/cal.ics"
make_png "$T/chart.png"
"$PY" - "$CAL" "$T/chart.png" <<'PYEOF'
import sys, time, datetime
ev = lambda uid, t, d, extra="": ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20270101T000000Z\r\n"
    "DTSTART:%s\r\nSUMMARY:s\r\nDESCRIPTION:%s\r\n%sEND:VEVENT\r\n" % (uid, t, d, extra))
soon = datetime.datetime.fromtimestamp(time.time() + 2, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
open(sys.argv[1], "w", newline="", encoding="utf-8").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" +
    ev("long@ogw.test", "20270517T080000Z", "a" * 63207) +
    ev("fits@ogw.test", "20270518T080000Z", "\u00e9" * 63206) +
    ev("img@ogw.test", soon, "Results (final)",
       "ATTACH;FMTTYPE=image/png;X-CRIER-ALT=\"Bar chart of the results\":%s\r\n" % sys.argv[2]) +
    "END:VCALENDAR\r\n")
PYEOF
write_config "$(fb_channel fb)" "[calendar c]" "path = $CAL" "channels = fb"
expect_rc 1 "$CRIERD" -c "$CONF" --check --json --from 2027-05-01 --to 2027-06-01
echo "$OUT" | "$PY" -c '
import json, sys
rows = {r["uid"]: r for r in (json.loads(l) for l in sys.stdin if l.startswith("{"))}
c = rows["long@ogw.test"]["channels"][0]
assert (c["length"], c["limit"], c["fits"]) == (63207, 63206, False), c
c = rows["fits@ogw.test"]["channels"][0]
assert (c["length"], c["fits"]) == (63206, True), c
' || fail "--check --json: $(echo "$OUT" | cut -c1-300)"

# A text post with a link, and the calendar's image with alt text.
write_config "$(fb_channel fb)" "$(fb_channel fbx "token_file = $T/fbx.token")" \
    "$(fb_channel fbo "page_id = 2002")" \
    "$(fb_channel fbp "page_id = 3003" "token_file = $T/fb3.token")" \
    "[calendar c]" "path = $CAL" "channels = fb"
start_daemon
TXT='Open Gov Week: the results are in https://ogp.example/results?y=2026. Read them!'
a=$(post_id --channel fb --text "$TXT")
wait_state "$a" sent 20
img=$(delivery_of img@ogw.test fb)
wait_state "$img" sent 20
peer_get fb /_control/posts > "$T/posts.json"
"$PY" - "$T/posts.json" "$TXT" "$T/chart.png" <<'PYEOF' || fail "posts at the peer: $(cat "$T/posts.json")"
import json, os, sys
posts, txt = json.load(open(sys.argv[1])), sys.argv[2]
assert len(posts) == 2, posts
f = [p for p in posts if p["kind"] == "feed"][0]
assert f["message"] == txt and f["link"] == "https://ogp.example/results?y=2026", f
assert f["version"] == "v24.0" and f["page"] == "1001", f
p = [p for p in posts if p["kind"] == "photo"][0]
assert p["message"] == "Results (final)" and p["alt_text"] == "Bar chart of the results", p
assert p["source_size"] == os.path.getsize(sys.argv[3]) and p["url"] is None, p
PYEOF
[ "$(field "$a" 'dl["remote_id"]')" = "$(peer_posts fb "[p['id'] for p in s if p['kind'] == 'feed'][0]")" ] ||
	fail "remote id: $(field "$a" dl)"
[ "$(field "$img" 'dl["remote_id"]')" = "$(peer_posts fb "[p['id'] for p in s if p['kind'] == 'photo'][0]")" ] ||
	fail "photo: remote id is not post_id: $(field "$img" dl)"
mock_requests fb | grep -q "fb-tok-1" || fail "token not sent"

# Code 32 (page limit): retried when the usage headers say, a minute later.
peer_post fb /_control/throttle '{"code": 32, "minutes": 1, "count": 1}'
t0=$(date +%s)
r=$(post_id --channel fb --text "throttled")
wait_state "$r" retrying 20
field "$r" 'dl["last_error"]' | grep -q "Graph error 32: (#32) Page request limit reached" ||
	fail "32: $(field "$r" 'dl["last_error"]')"
ctl --json show "$r" | "$PY" -c '
import json, sys, datetime
d = json.load(sys.stdin)["delivery"]
na = datetime.datetime.fromisoformat(d["next_attempt"].replace("Z", "+00:00")).timestamp()
import time
left = na - time.time()
assert 45 <= left <= 62, left
' || fail "32: next attempt not a minute ahead: $(field "$r" 'dl["next_attempt"]')"

# Code 100: failed with Facebook's message, shown.
mock_script fb '[{"method": "POST", "path": "/v24.0/3003/feed", "status": 400, "body": {"error": {"message": "(#100) Param message must be a string", "type": "OAuthException", "code": 100, "error_subcode": 1349125, "fbtrace_id": "Abad"}}}]'
k=$(post_id --channel fbp --text "refused")
wait_state "$k" failed 20
field "$k" 'dl["last_error"]' | grep -q "Graph error 100/1349125: (#100) Param message must be a string (fbtrace_id Abad)" ||
	fail "100: $(field "$k" 'dl["last_error"]')"

# Code 4 with X-App-Usage alone at 100%: the next hour.
mock_script fb '[{"method": "POST", "path": "/v24.0/3003/feed", "status": 400, "headers": {"X-App-Usage": "{\"call_count\": 100, \"total_cputime\": 20, \"total_time\": 30}"}, "body": {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4, "fbtrace_id": "Aapp"}}}]'
h=$(post_id --channel fbp --text "app limit")
wait_state "$h" retrying 20
ctl --json show "$h" | "$PY" -c '
import json, sys, time, datetime
d = json.load(sys.stdin)["delivery"]
left = datetime.datetime.fromisoformat(d["next_attempt"].replace("Z", "+00:00")).timestamp() - time.time()
assert 3500 <= left <= 3601, left
' || fail "4: next attempt not an hour ahead: $(field "$h" 'dl["next_attempt"]')"
expect_rc 0 ctl cancel "$h"
# ... and the channel waits too: nothing more goes to it meanwhile.
w=$(post_id --channel fbp --text "behind the app limit")
sleep 2
[ "$(state_of "$w")" = scheduled ] || fail "fbp sent while its limit was spent: $(state_of "$w")"

# Code 200: a token of another Page: paused with the reason.
o=$(post_id --channel fbo --text "not our page")
wait_state "$o" held 20
[ "$(chan_info fbo 'c["paused"]')" = True ] || fail "200 did not pause"
chan_info fbo 'c["reason"]' | grep -q "Graph error 200: (#200) If posting to a page" || fail "200: $(chan_info fbo c)"

# Code 190: the token expired: paused, status says why.
peer_post fb /_control/expire '{"token": "fb-tok-x"}'
x=$(post_id --channel fbx --text "expired token")
wait_state "$x" held 20
[ "$(chan_info fbx 'c["paused"]')" = True ] || fail "190 did not pause"
expect_rc 0 ctl status
expect_out "Graph error 190/463: Error validating access token: Session has expired"

# The throttled post goes once its minute is over, on the channel's second try.
wait_state "$r" sent 90
mock_requests fb > "$T/req.json"
"$PY" - "$T/req.json" <<'PYEOF' || fail "32: retry timing"
import json, sys
ts = [r["time"] for r in json.load(open(sys.argv[1]))
      if r["path"] == "/v24.0/1001/feed" and "throttled" in r["body"]]
assert len(ts) == 2, ts
assert ts[1] - ts[0] >= 55, ts[1] - ts[0]
PYEOF
[ "$(field "$r" 'dl["attempts"]')" = 2 ] || fail "32: attempts"
[ "$(peer_posts fb 'len(s)')" = 3 ] || fail "posts: $(peer_posts fb 'len(s)')"
stop_daemon
grep -q "fb-tok-" "$LOG" && fail "a token in the log"
echo "PASS: $TEST_NAME"
