# Helpers for the linkedin and facebook channels' system tests, sourced after
# lib.sh and tests/peers/mock.sh: the control endpoints of a named peer.

# peer_get NAME PATH: GET a control endpoint of peer NAME, JSON on stdout.
peer_get() {
	"$PY" - "$(mock_url "$1")$2" <<'PYEOF'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())
PYEOF
}

# peer_post NAME PATH JSON: POST to a control endpoint of peer NAME.
peer_post() {
	"$PY" - "$(mock_url "$1")$2" "$3" <<'PYEOF' >/dev/null || fail "cannot POST $2 to $1"
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
                       method="POST"), timeout=30).read()
PYEOF
}

# peer_posts NAME EXPR: a Python expression on the list s of the peer's posts.
peer_posts() {
	peer_get "$1" /_control/posts | jget "(lambda s: $2)(d)"
}

# chan_info NAME EXPR: a Python expression on channel NAME of `status --json`.
chan_info() {
	ctl --json status | jget "(lambda c: $2)([c for c in d['channels'] if c['name'] == '$1'][0])"
}

# A PNG file at $1 (a few bytes past the signature are enough for the peers).
make_png() {
	printf '\211PNG\r\n\032\n\0\0\0\rIHDRchart' > "$1"
}
