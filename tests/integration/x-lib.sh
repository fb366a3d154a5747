# Helpers for the x channel's system tests, sourced after lib.sh and
# tests/peers/mock.sh: tests/peers/x_mock.py named "x", its credentials
# (OAuth 1.0a keys and an OAuth 2.0 client with refresh token rt-0), the
# matching 0600 secret files, and its /_control/ endpoints.

MOCK_PY="$top_srcdir/tests/peers/x_mock.py"
XCREDS="$T/x-creds.json"
XKEYS="$T/x-keys"
XRT="$T/x-refresh"

# start_x [x_mock options...]
start_x() {
	( umask 077
	  cat > "$XCREDS" <<'JSON'
{"consumer_key": "ck-ogp", "consumer_secret": "cs/ogp+1=",
 "access_token": "1500000000000000001-at", "access_token_secret": "ats&ogp~",
 "client_id": "cid-ogp", "refresh_token": "rt-0", "username": "ogp"}
JSON
	  printf 'consumer_key = ck-ogp\nconsumer_secret = cs/ogp+1=\naccess_token = 1500000000000000001-at\naccess_token_secret = ats&ogp~\n' > "$XKEYS"
	  echo rt-0 > "$XRT" )
	start_mock x --credentials "$XCREDS" "$@"
	XP=$(mock_port x)
}

# x_get PATH: GET a control endpoint of the peer, JSON on stdout.
x_get() {
	"$PY" - "$(mock_url x)$1" <<'PYEOF'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())
PYEOF
}

# x_post PATH JSON: POST to a control endpoint of the peer.
x_post() {
	"$PY" - "$(mock_url x)$1" "$2" <<'PYEOF' >/dev/null || fail "cannot POST $1 to the peer"
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
                       method="POST"), timeout=30).read()
PYEOF
}

# x_tweets EXPR: a Python expression on the list t of posts the peer holds.
x_tweets() {
	x_get /_control/tweets | jget "(lambda t: $1)(d)"
}

# x_channel NAME oauth1|oauth2 [lines...]: a channel on the peer.
x_channel() {
	local name=$1 auth=$2
	shift 2
	echo "[channel $name]"
	echo "type = x"
	echo "api = http://127.0.0.1:$XP"
	echo "auth = $auth"
	if [ "$auth" = oauth1 ]; then
		echo "keys_file = $XKEYS"
	else
		echo "client_id = cid-ogp"
		echo "token_file = $XRT"
	fi
	for l in "$@"; do echo "$l"; done
}

# The POST /2/tweets requests the peer got, as a count.
x_tweet_requests() {
	mock_requests x | jget 'len([r for r in d if r["method"] == "POST" and r["path"] == "/2/tweets"])'
}
