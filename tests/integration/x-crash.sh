#!/bin/sh
# kill -9 mid-post on the x channel. X has no idempotency key, so crierd
# notes each post in crier.db before sending it; after a restart a
# delivery that finds its note looks for its post among the account's
# newest. (1) X created the post but crierd died before the answer: found,
# recorded as sent with X's id, never posted again. (2) The same, but X
# will not list the account's posts (403): crierd posts again and X's
# duplicate-content refusal proves the first went out: sent, one post.
# (3) crierd died before X created anything: not found, posted once. (4)
# As (1), the post shown as X shows it (t.co links, &amp;), found.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/x-lib.sh"

start_x
write_config "$(x_channel xogp oauth1)"

# crash TEXT: posts TEXT, waits until X holds it (or, with HANG, until the
# request is under way), kills crierd; the delivery id is in $ID.
crash() {
	local id
	id=$(post_id --channel xogp --text "$1")
	if [ -n "${HANG:-}" ]; then
		wait_for "[ \"\$(x_tweet_requests)\" -ge $HANG ]" 20 || fail "no request for $1"
	else
		wait_for "[ \"\$(x_tweets 'len([x for x in t if x[\"text\"] == \"$1\"])')\" = 1 ]" 20 ||
			fail "not created: $1"
	fi
	[ "$(state_of "$id")" = sending ] || fail "$1: $(state_of "$id")"
	kill9_daemon
	ID=$id
}

# posts_of TEXT: how many posts X holds with TEXT.
posts_of() {
	x_tweets "len([x for x in t if x['text'] == '$1'])"
}

# (1) Created, answer lost: found by the lookup.
start_daemon
x_post /_control/tweet-delay '{"seconds": 60}'
crash "Found after the crash"
a=$ID
x_post /_control/tweet-delay '{"seconds": 0}'
n=$(x_tweet_requests)
start_daemon
wait_state "$a" sent 30
[ "$(posts_of "Found after the crash")" = 1 ] || fail "(1) posts: $(x_tweets t)"
[ "$(x_tweet_requests)" = "$n" ] || fail "(1) posted again"
tid=$(x_tweets '[x["id"] for x in t if x["text"] == "Found after the crash"][0]')
[ "$(dfield "$a" remote_id)" = "$tid" ] || fail "(1) remote id $(dfield "$a" remote_id), post $tid"
[ "$(dfield "$a" remote_url)" = "https://x.com/ogp/status/$tid" ] || fail "(1) url"
ctl --json show "$a" | jget '[e["event"] for e in d["delivery"]["events"]]' > "$T/ev"
grep -q recovered "$T/ev" && grep -q x-found "$T/ev" || fail "(1) events: $(cat "$T/ev")"
mock_requests x | jget '[r["query"] for r in d if r["path"].endswith("/tweets") and r["method"] == "GET"]' |
	grep -q "max_results=20" || fail "(1) no lookup"

# (2) Created, answer lost, and X will not list the account's posts.
x_post /_control/tweet-delay '{"seconds": 60}'
crash "Refused as a duplicate after the crash"
b=$ID
x_post /_control/tweet-delay '{"seconds": 0}'
mock_script x '[{"method": "GET", "path": "/2/users/1500000000000000001/tweets", "status": 403, "body": {"title": "Client Forbidden", "detail": "This request must be made using an approved developer account.", "type": "https://api.twitter.com/2/problems/client-forbidden", "status": 403}}]'
start_daemon
wait_state "$b" sent 30
[ "$(posts_of "Refused as a duplicate after the crash")" = 1 ] || fail "(2) posts: $(x_tweets t)"
ctl --json show "$b" | jget '[e["event"] for e in d["delivery"]["events"]]' > "$T/ev"
grep -q x-duplicate "$T/ev" && grep -q x-lookup "$T/ev" || fail "(2) events: $(cat "$T/ev")"
ctl show "$b" | grep -q "approved developer account" || fail "(2) show does not tell the lookup's error"

# (3) crierd dies before X creates anything: not found, posted once.
mock_script x '[{"method": "POST", "path": "/2/tweets", "hang": 60}]'
n=$(x_tweet_requests)
HANG=$((n + 1))
crash "Never reached X before the crash"
c=$ID
HANG=
start_daemon
wait_state "$c" sent 30
[ "$(posts_of "Never reached X before the crash")" = 1 ] || fail "(3) posts: $(x_tweets t)"
ctl --json show "$c" | jget '[e["detail"] for e in d["delivery"]["events"]]' |
	grep -q "not among the account's newest posts" || fail "(3) $(ctl show "$c")"
[ "$(x_tweets 'len(t)')" = 3 ] || fail "posts: $(x_tweets t)"

# (4) As (1), with the post as X's API shows it: links made t.co links,
# & as &amp;. The post older than the attempt with the same text is not it.
stop_daemon
start_daemon
x_post /_control/tweet-delay '{"seconds": 60}'
crash "Fish & chips at https://example.org/a"
d=$ID
x_post /_control/tweet-delay '{"seconds": 0}'
old=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S.000Z)
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
mock_script x '[{"method": "GET", "path": "/2/users/1500000000000000001/tweets", "status": 200, "body": {"data": [
  {"id": "1999000000000000001", "text": "Fish &amp; chips at https://t.co/AbCdE", "created_at": "'"$now"'", "edit_history_tweet_ids": ["1999000000000000001"]},
  {"id": "1999000000000000000", "text": "Fish &amp; chips at https://t.co/OlDer", "created_at": "'"$old"'", "edit_history_tweet_ids": ["1999000000000000000"]}],
  "meta": {"result_count": 2}}}]'
n=$(x_tweet_requests)
start_daemon
wait_state "$d" sent 30
[ "$(dfield "$d" remote_id)" = 1999000000000000001 ] || fail "(4) remote id $(dfield "$d" remote_id)"
[ "$(x_tweet_requests)" = "$n" ] || fail "(4) posted again"
stop_daemon
echo "PASS: $TEST_NAME"
