#!/bin/sh
# oauth1.c against an independent verifier: tests/integration/x-sign signs
# requests with oauth1_header() and curl sends them to tests/peers/x_mock.py,
# which recomputes the HMAC-SHA1 signature its own way (Python). A JSON post,
# a signed query, a signed form body, the peer's base string equal to ours,
# and a wrong secret, a replayed nonce and an unsigned form refused (401).
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
MOCK_PY="$top_srcdir/tests/peers/x_mock.py"
SIGN="$top_builddir/tests/integration/x-sign"
command -v curl >/dev/null 2>&1 || skip "curl is not installed"
[ -x "$SIGN" ] || fail "$SIGN is not built"

CREDS="$T/x-creds.json"
KEYS="$T/x-keys"
( umask 077
  cat > "$CREDS" <<'JSON'
{"consumer_key": "ck ogp", "consumer_secret": "cs/ogp+1=",
 "access_token": "1500000000000000001-at", "access_token_secret": "ats&ogp~",
 "client_id": "cid", "refresh_token": "rt-0"}
JSON
  printf 'consumer_key=ck ogp\nconsumer_secret=cs/ogp+1=\naccess_token=1500000000000000001-at\naccess_token_secret=ats&ogp~\n' > "$KEYS" )
start_mock x --credentials "$CREDS"
B=$(mock_url x)

# send METHOD URL AUTH [CURL ARGS...]: prints the HTTP status.
send() {
	local m="$1" u="$2" a="$3"
	shift 3
	curl -s -o "$T/body" -w '%{http_code}' -X "$m" -H "Authorization: $a" "$@" "$u"
}

h=$("$SIGN" "$KEYS" POST "$B/2/tweets") || fail "x-sign failed"
st=$(send POST "$B/2/tweets" "$h" -H 'Content-Type: application/json' \
    --data-binary '{"text":"Signed by oauth1.c"}')
[ "$st" = 201 ] || fail "signed JSON post: $st $(cat "$T/body")"
st=$(send POST "$B/2/tweets" "$h" -H 'Content-Type: application/json' \
    --data-binary '{"text":"Replayed"}')
[ "$st" = 401 ] || fail "a replayed header was accepted: $st"

q='user.fields=id%2Cname&x=a+b%21'
h=$("$SIGN" "$KEYS" GET "$B/2/users/me?$q")
st=$(send GET "$B/2/users/me?$q" "$h")
[ "$st" = 200 ] || fail "signed query: $st $(cat "$T/body")"

form='text=Form+body%2C+signed%21&lang=en'
h=$("$SIGN" "$KEYS" POST "$B/2/tweets" "$form")
st=$(send POST "$B/2/tweets" "$h" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "$form")
# Authenticated (the signature covers the form), then refused: X wants JSON.
[ "$st" = 400 ] || fail "signed form body: $st $(cat "$T/body")"
h=$("$SIGN" "$KEYS" POST "$B/2/tweets")
st=$(send POST "$B/2/tweets" "$h" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "$form")
[ "$st" = 401 ] || fail "form body left out of the signature: $st"

# The peer's base string is ours, byte for byte.
nonce=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
out=$(X_SIGN_NONCE=$nonce X_SIGN_TS=$(date +%s) "$SIGN" "$KEYS" GET "$B/2/users/me?$q")
h=$(echo "$out" | sed -n 1p)
ours=$(echo "$out" | sed -n 2p)
st=$(send GET "$B/2/users/me?$q" "$h")
[ "$st" = 200 ] || fail "given nonce: $st"
theirs=$(mock_requests x | jget '[r for r in d if r.get("oauth1_base_string")][-1]["oauth1_base_string"]')
[ "$ours" = "$theirs" ] || fail "base strings differ: ours $ours, the peer's $theirs"

sed 's/^consumer_secret=.*/consumer_secret=wrong/' "$KEYS" > "$T/x-bad"
h=$("$SIGN" "$T/x-bad" POST "$B/2/tweets")
st=$(send POST "$B/2/tweets" "$h" -H 'Content-Type: application/json' \
    --data-binary '{"text":"Wrong secret"}')
[ "$st" = 401 ] || fail "wrong consumer secret: $st"
grep -q '"detail": "Unauthorized"' "$T/body" || fail "401 body: $(cat "$T/body")"

n=$(mock_requests x | jget 'len([r for r in d if r.get("auth") == "oauth1"])')
[ "$n" = 4 ] || fail "$n requests authenticated, want 4"
echo "PASS: oauth1.c's signatures verify at x_mock.py (4 accepted, 3 refused)"
