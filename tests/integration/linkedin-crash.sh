#!/bin/sh
# kill -9 while LinkedIn creates the post: the peer has made it but crierd
# dies before the 201 arrives. LinkedIn's Posts API has no idempotency key,
# so sending again could post twice: after the restart the delivery is
# `uncertain` (never sent again), and LinkedIn has exactly one post.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/social-lib.sh"
MOCK_PY="$top_srcdir/tests/peers/linkedin_mock.py"

( umask 077
  echo "li-tok-1" > "$T/li.token"
  echo "li-tok-1 urn:li:organization:2414183" > "$T/peer.tokens" )
start_mock li --token-file "$T/peer.tokens"
write_config "[channel li]" "type = linkedin" "api = $(mock_url li)" \
    "author = urn:li:organization:2414183" "version = $(date -u +%Y%m)" \
    "token_file = $T/li.token"
peer_post li /_control/post-delay '{"seconds": 30}'
start_daemon
a=$(post_id --channel li --text "Interrupted (mid-post)")
wait_for "[ \"\$(peer_posts li 'len(s)')\" = 1 ]" 20 || fail "post not created"
[ "$(state_of "$a")" = sending ] || fail "not sending: $(state_of "$a")"
kill9_daemon

peer_post li /_control/post-delay '{"seconds": 0}'
start_daemon
wait_state "$a" uncertain 20
sleep 2
[ "$(peer_posts li 'len(s)')" = 1 ] || fail "posts: $(peer_posts li 'len(s)')"
n=$(mock_requests li | jget 'len([r for r in d if r["path"] == "/rest/posts"])')
[ "$n" = 1 ] || fail "$n POSTs to /rest/posts, want 1"
[ "$(peer_posts li 's[0]["shown"]')" = "Interrupted (mid-post)" ] || fail "text at the peer"
field "$a" 'dl["last_error"]' | grep -qi "may or may not\|interrupted\|uncertain" || fail "no reason: $(field "$a" dl)"
stop_daemon
echo "PASS: $TEST_NAME"
