#!/bin/sh
# The x channel through crierd against tests/peers/x_mock.py (which checks
# every OAuth 1.0a signature its own way): a text post and its URL, an
# image uploaded then given its alt text then posted by media id, an
# over-limit text refused by --check and by post (twitter-text weighting),
# a repeated text refused by X as duplicate content -> failed with X's
# words (not a pause), the rate-limit headers honoured (a spent window
# holds the next post until its reset; a 429 retries after it), and a
# bad signature (wrong consumer secret) pausing the channel with the reason.
. "$(dirname "$0")/lib.sh"
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/x-lib.sh"

start_x
IMG="$T/chart.png"
printf '\211PNG\r\n\032\nchart-bytes' > "$IMG"
CAL="$T/cal.ics"
long=$("$PY" -c 'print("\u958b" * 141)')	# 141 CJK characters weigh 282
write_ics "$CAL" <<EOF
BEGIN:VEVENT
UID:img@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 2)
DESCRIPTION:Results of the consultation
ATTACH;FMTTYPE=image/png;X-CRIER-ALT="Bar chart of the results":$IMG
END:VEVENT
BEGIN:VEVENT
UID:long@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 7200)
DESCRIPTION:$long
END:VEVENT
EOF
write_config "$(x_channel xogp oauth1)" "[calendar camp]" "path = $CAL" "channels = xogp"

# --check measures with twitter-text's weights: 141 CJK characters are 282.
expect_rc 1 "$CRIERD" -c "$CONF" --check --json
echo "$OUT" | grep '"long@ogw.test"' | jget 'd["channels"][0]' > "$T/long.json" ||
	fail "no line for the long event: $OUT"
[ "$(jget '[d["length"], d["limit"], d["fits"]]' < "$T/long.json")" = '[282, 280, false]' ] ||
	fail "long event measured as $(cat "$T/long.json")"
echo "$OUT" | grep '"img@ogw.test"' | jget '[d["channels"][0]["fits"], d["problems"]]' |
	grep -qx '\[true, \[\]\]' || fail "image event: $OUT"

start_daemon
id=$(delivery_of img@ogw.test xogp)
wait_state "$id" sent 30
x_tweets 't' > "$T/tweets.json"
"$PY" - "$T/tweets.json" "$(mock_requests x | jget '[(r["method"], r["path"]) for r in d if r["path"].startswith("/2/")]')" <<'PYEOF' || fail "image post"
import json, sys
t = json.load(open(sys.argv[1]))
assert len(t) == 1 and t[0]["text"] == "Results of the consultation", t
m = t[0]["media"]
assert len(m) == 1 and m[0]["alt_text"] == "Bar chart of the results", m
assert m[0]["media_type"] == "image/png" and m[0]["category"] == "tweet_image", m
assert t[0]["auth"] == "oauth1", t[0]["auth"]
calls = [tuple(c) for c in json.loads(sys.argv[2])]
want = [("GET", "/2/users/me"), ("POST", "/2/media/upload"),
        ("POST", "/2/media/metadata"), ("POST", "/2/tweets")]
assert calls == want, calls
PYEOF
tid=$(x_tweets 't[0]["id"]')
[ "$(dfield "$id" remote_url)" = "https://x.com/ogp/status/$tid" ] ||
	fail "remote url $(dfield "$id" remote_url), post $tid"
[ "$(dfield "$id" remote_id)" = "$tid" ] || fail "remote id"

# A text post; then the same text again: X's 403 duplicate -> failed, not paused.
a=$(post_id --channel xogp --text "Open Gov Week starts today: https://www.opengovweek.org/")
wait_state "$a" sent 20
b=$(post_id --channel xogp --text "Open Gov Week starts today: https://www.opengovweek.org/")
wait_state "$b" failed 20
case "$(dfield "$b" last_error)" in
*"You are not allowed to create a Tweet with duplicate content."*) ;;
*) fail "duplicate: $(dfield "$b" last_error)" ;;
esac
[ "$(ctl --json status | jget '[c["paused"] for c in d["channels"] if c["name"] == "xogp"][0]')" = False ] ||
	fail "a duplicate paused the channel"
ctl show "$b" | grep -q "duplicate content" || fail "show does not say why: $(ctl show "$b")"

# crierctl post refuses what does not fit.
expect_rc 1 ctl post --channel xogp --text "$long"
expect_out "282"

# Rate limit: a window of 2 posts per 5 s. The second post spends it
# (x-rate-limit-remaining: 0), so the third waits for the reset instead
# of meeting a 429; then a scripted 429 is retried after its reset.
x_post /_control/rate-limit '{"path": "/2/tweets", "limit": 2, "window": 5}'
before=$(x_tweet_requests)
c1=$(post_id --channel xogp --text "Rate one")
wait_state "$c1" sent 20
c2=$(post_id --channel xogp --text "Rate two")
wait_state "$c2" sent 20
c3=$(post_id --channel xogp --text "Rate three")
wait_state "$c3" sent 30
mock_requests x > "$T/req.json"
"$PY" - "$T/req.json" "$before" <<'PYEOF' || fail "rate limit not honoured"
import json, sys
r = [x for x in json.load(open(sys.argv[1])) if x["method"] == "POST" and x["path"] == "/2/tweets"]
r = r[int(sys.argv[2]):]
assert len(r) == 3, ("POST /2/tweets after the limit was set", len(r))
gap = r[2]["time"] - r[0]["time"]
assert gap >= 4.0, ("the third post went %.1f s after the first, inside the window" % gap)
PYEOF
mock_script x '[{"method": "POST", "path": "/2/tweets", "status": 429}]'
x_post /_control/rate-limit '{"path": "/2/tweets", "limit": 100, "window": 900}'
c4=$(post_id --channel xogp --text "Rate four")
wait_for "[ \"\$(dfield $c4 attempts)\" = 1 ]" 20 || fail "429 not booked: $(state_of "$c4")"
case "$(dfield "$c4" last_error)" in *"HTTP 429"*"Too Many Requests"*) ;;
*) fail "429: $(dfield "$c4" last_error)" ;; esac
wait_state "$c4" sent 30

# A wrong consumer secret: the peer's signature check fails -> 401 -> paused, with the reason.
stop_daemon
sed 's/^consumer_secret = .*/consumer_secret = wrong/' "$XKEYS" > "$T/x-bad"
chmod 600 "$T/x-bad"
sed "s|^keys_file = .*|keys_file = $T/x-bad|" "$CONF" > "$CONF.new" && mv "$CONF.new" "$CONF"
start_daemon
n=$(x_tweets 'len(t)')
e=$(post_id --channel xogp --text "Signed with the wrong secret")
wait_for "[ \"\$(ctl --json status | jget '[c[\"paused\"] for c in d[\"channels\"] if c[\"name\"] == \"xogp\"][0]')\" = True ]" 20 ||
	fail "a bad signature did not pause the channel: $(ctl status)"
ctl status | grep -q "X refused the credentials (401 Unauthorized)" || fail "status: $(ctl status)"
mock_requests x | jget '[r.get("auth_error") for r in d]' | grep -q "bad signature" ||
	fail "the peer did not see a bad signature"
[ "$(x_tweets 'len(t)')" = "$n" ] || fail "posted with a bad signature"
[ "$(state_of "$e")" != sent ] || fail "sent"
grep -q "cs/ogp\|ats&ogp\|wrong" "$LOG" && fail "a secret is in the log"
stop_daemon
echo "PASS: $TEST_NAME"
