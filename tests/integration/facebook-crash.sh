#!/bin/sh
# kill -9 while Facebook creates the post: the peer has made it but crierd
# dies before the answer. The Graph API has no idempotency key, so sending
# again could post twice: after the restart the delivery is `uncertain`
# (never sent again), and the Page has exactly one post.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/social-lib.sh"
MOCK_PY="$top_srcdir/tests/peers/facebook_mock.py"

( umask 077
  echo "fb-tok-1" > "$T/fb.token"
  echo "fb-tok-1 1001" > "$T/peer.tokens" )
start_mock fb --token-file "$T/peer.tokens"
write_config "[channel fb]" "type = facebook" "api = $(mock_url fb)" \
    "page_id = 1001" "graph_version = v25.0" "token_file = $T/fb.token"
peer_post fb /_control/post-delay '{"seconds": 30}'
start_daemon
a=$(post_id --channel fb --text "Interrupted mid-post")
wait_for "[ \"\$(peer_posts fb 'len(s)')\" = 1 ]" 20 || fail "post not created"
[ "$(state_of "$a")" = sending ] || fail "not sending: $(state_of "$a")"
kill9_daemon

peer_post fb /_control/post-delay '{"seconds": 0}'
start_daemon
wait_state "$a" uncertain 20
sleep 2
[ "$(peer_posts fb 'len(s)')" = 1 ] || fail "posts: $(peer_posts fb 'len(s)')"
n=$(mock_requests fb | jget 'len([r for r in d if r["path"] == "/v25.0/1001/feed"])')
[ "$n" = 1 ] || fail "$n POSTs to /feed, want 1"
[ "$(peer_posts fb 's[0]["message"]')" = "Interrupted mid-post" ] || fail "text at the peer"
[ "$(peer_posts fb 's[0]["version"]')" = v25.0 ] || fail "version at the peer"
stop_daemon
echo "PASS: $TEST_NAME"
