# Helpers for the mastodon channel's system tests, sourced after lib.sh and
# tests/peers/mock.sh: a Mastodon mock (tests/peers/mastodon_mock.py) named
# "mast" with a 0600 token file, and access to its /_control/ endpoints.

MOCK_PY="$top_srcdir/tests/peers/mastodon_mock.py"
TOKEN="$T/mastodon.token"

# start_mastodon [mastodon_mock options...]: the mock, with token tok-ogp-1.
start_mastodon() {
	( umask 077 && echo "tok-ogp-1" > "$TOKEN" )
	start_mock mast --token-file "$TOKEN" "$@"
	MP=$(mock_port mast)
}

# mast_get PATH: GET a control endpoint of the mock, JSON on stdout.
mast_get() {
	"$PY" - "$(mock_url mast)$1" <<'PYEOF'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())
PYEOF
}

# mast_post PATH JSON: POST to a control endpoint of the mock.
mast_post() {
	"$PY" - "$(mock_url mast)$1" "$2" <<'PYEOF' >/dev/null || fail "cannot POST $1 to the mock"
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
                       method="POST"), timeout=30).read()
PYEOF
}

# mast_statuses EXPR: a Python expression on the list s of created statuses.
mast_statuses() {
	mast_get /_control/statuses | jget "(lambda s: $1)(d)"
}

# The config lines of a mastodon channel NAME on the mock, then "$@" lines.
mast_channel() {
	local name=$1
	shift
	echo "[channel $name]"
	echo "type = mastodon"
	echo "instance = http://127.0.0.1:$MP/"
	echo "token_file = $TOKEN"
	for l in "$@"; do echo "$l"; done
}
