# Helpers for the threads channel's system tests, sourced after lib.sh and
# tests/peers/mock.sh: a Threads peer (tests/peers/threads_mock.py) named
# "th" with a 0600 token file, and its /_control/ endpoints.

TH_TOKEN="$T/threads.token"
TH_USER=17841400000000001

# start_threads [threads_mock options...]: the peer, token th-tok-ogp-1.
start_threads() {
	( umask 077 && echo "th-tok-ogp-1" > "$TH_TOKEN" &&
	  echo "th-tok-ogp-1 $TH_USER" > "$T/threads.users" )
	MOCK_PY="$top_srcdir/tests/peers/threads_mock.py" \
	    start_mock th --token-file "$T/threads.users" "$@"
}

# th_get PATH: GET a control endpoint of the peer, JSON on stdout.
th_get() {
	"$PY" - "$(mock_url th)$1" <<'PYEOF'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())
PYEOF
}

# th_post PATH JSON: POST to a control endpoint of the peer.
th_post() {
	"$PY" - "$(mock_url th)$1" "$2" <<'PYEOF' >/dev/null || fail "cannot POST $1 to the peer"
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
                       method="POST"), timeout=30).read()
PYEOF
}

# th_posts EXPR: a Python expression on the list p of published posts.
th_posts() {
	th_get /_control/posts | jget "(lambda p: $1)(d)"
}

# The config lines of a threads channel NAME on the peer, then "$@" lines.
th_channel() {
	local name=$1
	shift
	echo "[channel $name]"
	echo "type = threads"
	echo "user_id = $TH_USER"
	echo "token_file = $TH_TOKEN"
	echo "api = $(mock_url th)"
	for l in "$@"; do echo "$l"; done
}
