#!/bin/sh
# Engagement (issue 17 point 4) against the Mastodon and Bluesky peers'
# counters: nothing is fetched before the 1 h checkpoint; after it, and
# at 24 h and 7 d (an hour made CRIER_TEST_ENGAGE_HOUR_MS long), the
# figures the peers report are stored and shown by show, list --state
# sent, report and stats; a 429 with Retry-After is waited out and the
# figures still arrive; after 7 d nothing more is asked.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/mastodon-lib.sh"

start_mastodon
printf 'app-pass-1234\n' > "$T/pw"
chmod 600 "$T/pw"
MOCK_PY="$top_srcdir/tests/peers/bluesky_mock.py"
start_mock pds --handle ogp.test --did did:plc:ogptest --app-password-file "$T/pw"
PDS=$(mock_url pds)
CAL="$T/ogw.ics"
write_ics "$CAL" <<EOC
BEGIN:VEVENT
UID:day1@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 2)
SUMMARY:Day one
DESCRIPTION:Open Gov Week starts today #OGW
END:VEVENT
EOC
write_config "timezone = UTC" "templates = $top_srcdir/templates" \
	"$(mast_channel masto)" \
	"[channel bsky]" "type = bluesky" "service = $PDS" "handle = ogp.test" \
	"password_file = $T/pw" \
	"[calendar ogw]" "path = $CAL" "channels = masto, bsky" \
	"[channel outbox]" "type = outbox"
start_daemon -v

# bsky_counts URI JSON / mast_counts ID JSON: set a peer's counters.
bsky_counts() {
	"$PY" -c 'import json, sys, urllib.request
b = dict(json.loads(sys.argv[3]), uri=sys.argv[2])
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_control/counts",
    data=json.dumps(b).encode(), method="POST"), timeout=30).read()' "$PDS" "$1" "$2" ||
		fail "cannot set the counts of $1"
}
mast_counts() {
	mast_post /_control/counts "$("$PY" -c 'import json, sys
print(json.dumps(dict(json.loads(sys.argv[2]), id=sys.argv[1])))' "$1" "$2")"
}
# gets NAME PATH-PREFIX: how many GETs of that path the peer NAME answered.
gets() {
	mock_requests "$1" | jget "len([r for r in d if r['method'] == 'GET' and r['path'].startswith('$2')])"
}
# eng ID: the engagement of ID as "likes reposts replies as_of".
eng() {
	field "$1" '"%s %s %s %s" % (dl["engagement"]["likes"], dl["engagement"]["reposts"], dl["engagement"]["replies"], dl["engagement"]["as_of"]) if dl["engagement"] else "none"'
}

wait_for "[ -n \"\$(delivery_of day1@ogw.test masto)\" ]" 15 || fail "no delivery for masto"
m=$(delivery_of day1@ogw.test masto)
b=$(delivery_of day1@ogw.test bsky)
wait_state "$m" sent 30
wait_state "$b" sent 30
mid=$(field "$m" 'dl["remote_id"]')
buri=$(field "$b" 'dl["remote_id"]')
ad=$(post_id --channel outbox --text "An outbox post has no engagement")
wait_state "$ad" sent 15

# The peers' counters before the first checkpoint.
mast_counts "$mid" '{"favourites_count": 3, "reblogs_count": 1, "replies_count": 0}'
bsky_counts "$buri" '{"likeCount": 4, "repostCount": 2, "replyCount": 1}'

# 1. With real hours, nothing is asked in the first hour.
sleep 1
[ "$(gets mast /api/v1/statuses/)" = 0 ] || fail "the status was fetched before 1 h"
[ "$(gets pds /xrpc/app.bsky.feed.getPosts)" = 0 ] || fail "getPosts before 1 h"
[ "$(eng "$m")" = none ] || fail "engagement before 1 h: $(eng "$m")"
stop_daemon

# 2. An hour of 300 ms: 1 h has passed, 24 h comes after 7.2 s, 7 d after
# 50 s. Mastodon first answers 429 with Retry-After: 2.
mock_script mast '[{"method": "GET", "path": "/api/v1/statuses/'"$mid"'", "status": 429, "headers": {"Retry-After": "2"}, "body": {"error": "Too many requests"}}]'
export CRIER_TEST_ENGAGE_HOUR_MS=300
start_daemon -v
wait_for "[ \"\$(eng $b | cut -d' ' -f1-3)\" = '4 2 1' ]" 20 ||
	fail "bluesky figures after 1 h: $(eng "$b")"
wait_for "[ \"\$(eng $m | cut -d' ' -f1-3)\" = '3 1 0' ]" 20 ||
	fail "mastodon figures after the 429: $(eng "$m")"
n429=$(mock_requests mast | jget "[r['time'] for r in d if r['method'] == 'GET' and r['path'] == '/api/v1/statuses/$mid']")
"$PY" - "$n429" <<'PYEOF' || fail "the 429's Retry-After was not honoured: $n429"
import json, sys
t = json.loads(sys.argv[1])
assert len(t) >= 2, t
assert t[1] - t[0] >= 1.9, t
PYEOF
grep -q "engagement of $m on masto: HTTP 429" "$LOG" || fail "the 429 is not in the debug log"
ctl --json list --state sent > "$T/list.json"
[ "$(jget "[x['engagement']['likes'] for x in d['deliveries'] if x['id'] == '$b'][0]" < "$T/list.json")" = 4 ] ||
	fail "list --state sent: $(cat "$T/list.json")"
[ "$(jget "[x['engagement'] for x in d['deliveries'] if x['id'] == '$ad'][0]" < "$T/list.json")" = null ] ||
	fail "an outbox post got engagement"
expect_rc 0 ctl list --state sent
expect_out "4 likes, 2 reposts, 1 replies after"
expect_rc 0 ctl show "$m"
expect_out "engagement  3 likes, 1 reposts, 0 replies after"

# 3. New figures before the 7 d checkpoint: that is what stays.
mast_counts "$mid" '{"favourites_count": 12, "reblogs_count": 5, "replies_count": 2}'
bsky_counts "$buri" '{"likeCount": 7, "repostCount": 3, "replyCount": 4}'
wait_for "[ \"\$(eng $m)\" = '12 5 2 7 d' ] && [ \"\$(eng $b)\" = '7 3 4 7 d' ]" 90 ||
	fail "7 d figures: masto $(eng "$m"), bsky $(eng "$b")"
mg=$(gets mast /api/v1/statuses/)
bg=$(gets pds /xrpc/app.bsky.feed.getPosts)
# One GET per checkpoint (Mastodon's 429 one more); none after 7 d.
[ "$bg" -ge 2 ] && [ "$bg" -le 3 ] || fail "$bg getPosts for 3 checkpoints"
[ "$mg" -ge 3 ] && [ "$mg" -le 4 ] || fail "$mg status GETs for 3 checkpoints and a 429"
sleep 2
[ "$(gets mast /api/v1/statuses/)" = "$mg" ] || fail "asked again after 7 d"
[ "$(gets pds /xrpc/app.bsky.feed.getPosts)" = "$bg" ] || fail "getPosts again after 7 d"

# 4. stats sums per campaign and channel; the report shows the figures.
ctl --json stats > "$T/stats.json"
"$PY" - "$T/stats.json" <<'PYEOF' || fail "stats: $(cat "$T/stats.json")"
import json, sys
d = json.load(open(sys.argv[1]))
rows = {(r["calendar"], r["channel"]): r for r in d["stats"]}
m, b, o = rows[("ogw", "masto")], rows[("ogw", "bsky")], rows[(None, "outbox")]
assert (m["posts"], m["measured"], m["likes"], m["reposts"], m["replies"]) == (1, 1, 12, 5, 2), m
assert (b["posts"], b["measured"], b["likes"], b["reposts"], b["replies"]) == (1, 1, 7, 3, 4), b
assert (o["posts"], o["measured"], o["likes"]) == (1, 0, 0), o
t = d["total"]
assert (t["posts"], t["likes"], t["reposts"], t["replies"]) == (3, 19, 8, 6), t
PYEOF
expect_rc 0 ctl stats --calendar ogw
expect_out "masto"
case "$OUT" in *outbox*) fail "stats --calendar ogw shows the ad-hoc post: $OUT" ;; esac
expect_out "total"
expect_rc 0 ctl report
expect_out "12 likes, 5 reposts, 2 replies after 7 d"
expect_out "7 likes, 3 reposts, 4 replies after 7 d"
# The figures survive a restart (they are in the store).
kill9_daemon
unset CRIER_TEST_ENGAGE_HOUR_MS
start_daemon
[ "$(eng "$m")" = "12 5 2 7 d" ] || fail "after kill -9: $(eng "$m")"
stop_daemon
echo "ok: engagement at 1 h, 24 h and 7 d from both peers; 429 honoured; stats summed"
