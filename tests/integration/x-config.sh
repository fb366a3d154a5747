#!/bin/sh
# The x channel's configuration errors, caught by crierd --check (offline)
# and named by file, line and key, never showing a secret; and --check's
# image rules for X (alt text required, or a warning with alt_text = warn;
# at most 4 images; alt text at most 1000 characters).
. "$(dirname "$0")/lib.sh"
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/x-lib.sh"

XP=9	# no peer: --check sends nothing
( umask 077
  printf 'consumer_key = ck-1\nconsumer_sekret = s3cr3t-value\naccess_token = at\naccess_token_secret = ats\n' > "$T/keys-typo"
  printf 'consumer_key = ck-1\nconsumer_secret = s3cr3t-value\n' > "$T/keys-short"
  printf 'rt-1 rt-2\n' > "$T/rt-two"
  printf 'consumer_key = a\nconsumer_secret = b\naccess_token = c\naccess_token_secret = d\n' > "$XKEYS"
  echo rt-0 > "$XRT" )
printf 'consumer_key = a\nconsumer_secret = b\naccess_token = c\naccess_token_secret = d\n' > "$T/keys-open"
chmod 644 "$T/keys-open"

# bad WANT LINES...: --check exits 1 and says WANT (and no secret).
bad() {
	local want=$1
	shift
	write_config "$@"
	expect_rc 1 "$CRIERD" -c "$CONF" --check
	expect_out "$want"
	case "$OUT" in *s3cr3t*) fail "a secret in: $OUT" ;; esac
}

bad "crier.conf:7: [channel xb]: $T/keys-typo: line 2: unknown name 'consumer_sekret'" \
    "[channel xb]" "type = x" "auth = oauth1" "keys_file = $T/keys-typo"
bad "$T/keys-short: wants consumer_key, consumer_secret, access_token and access_token_secret" \
    "[channel xb]" "type = x" "auth = oauth1" "keys_file = $T/keys-short"
bad "keys_file: secret file $T/keys-open is accessible by group or others" "[channel xb]" "type = x" "auth = oauth1" "keys_file = $T/keys-open"
bad "missing key 'client_id' (auth = oauth2)" \
    "[channel xb]" "type = x" "auth = oauth2" "token_file = $XRT"
bad "token_file, client_id and client_secret_file go with auth = oauth2" \
    "[channel xb]" "type = x" "auth = oauth1" "keys_file = $XKEYS" "token_file = $XRT"
bad "keys_file goes with auth = oauth1" \
    "[channel xb]" "type = x" "auth = oauth2" "client_id = c" "token_file = $XRT" "keys_file = $XKEYS"
bad "$T/rt-two: want the refresh token alone on one line" \
    "[channel xb]" "type = x" "auth = oauth2" "client_id = c" "token_file = $T/rt-two"
bad "missing key 'keys_file' (or 'credential')" "[channel xb]" "type = x" "auth = oauth1"
bad "auth: 'oauth3' is not one of oauth1|oauth2" "[channel xb]" "type = x" "auth = oauth3" "keys_file = $XKEYS"
bad "missing key 'auth'" "[channel xb]" "type = x" "keys_file = $XKEYS"
bad "api: " "[channel xb]" "type = x" "auth = oauth1" "keys_file = $XKEYS" "api = http://x.example.org"
mkdir -p "$T/creds" && cp "$XKEYS" "$T/creds/xkeys"
CREDENTIALS_DIRECTORY=$T/creds
export CREDENTIALS_DIRECTORY
bad "give keys_file or credential, not both" \
    "[channel xb]" "type = x" "auth = oauth1" "keys_file = $XKEYS" "credential = xkeys"
write_config "[channel xb]" "type = x" "auth = oauth1" "credential = xkeys"
expect_rc 0 "$CRIERD" -c "$CONF" --check

# Images: alt text, how many, how long.
printf '\211PNG\r\n\032\nimg' > "$T/a.png"
alt=$("$PY" -c 'print("\u00e9" * 1001)')
CAL="$T/cal.ics"
write_ics "$CAL" <<EOF
BEGIN:VEVENT
UID:noalt@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 7200)
DESCRIPTION:An image without alt text
ATTACH;FMTTYPE=image/png:$T/a.png
END:VEVENT
BEGIN:VEVENT
UID:longalt@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 7300)
DESCRIPTION:An image with 1001 characters of alt text
ATTACH;FMTTYPE=image/png;X-CRIER-ALT="$alt":$T/a.png
END:VEVENT
BEGIN:VEVENT
UID:five@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 7400)
DESCRIPTION:Five images
ATTACH;FMTTYPE=image/png;X-CRIER-ALT="one":$T/a.png
ATTACH;FMTTYPE=image/png;X-CRIER-ALT="two":$T/a.png
ATTACH;FMTTYPE=image/png;X-CRIER-ALT="three":$T/a.png
ATTACH;FMTTYPE=image/png;X-CRIER-ALT="four":$T/a.png
ATTACH;FMTTYPE=image/png;X-CRIER-ALT="five":$T/a.png
END:VEVENT
EOF
write_config "$(x_channel xogp oauth1)" "[calendar camp]" "path = $CAL" "channels = xogp"
expect_rc 1 "$CRIERD" -c "$CONF" --check --json
echo "$OUT" | grep '"noalt@ogw.test"' | grep -q "has no alt text" || fail "no alt: $OUT"
echo "$OUT" | grep '"longalt@ogw.test"' | grep -q "alt text of 1001 characters, X takes at most 1000" ||
	fail "long alt: $OUT"
echo "$OUT" | grep '"five@ogw.test"' | grep -q "5 images, X takes at most 4" || fail "five: $OUT"
write_config "$(x_channel xogp oauth1 "alt_text = warn")" "[calendar camp]" "path = $CAL" "channels = xogp"
expect_rc 1 "$CRIERD" -c "$CONF" --check --json
echo "$OUT" | grep '"noalt@ogw.test"' | jget 'd["problems"]' | grep -qx '\[\]' ||
	fail "alt_text = warn still a problem: $OUT"
echo "$OUT" | grep -q "has no alt text" || fail "no warning: $OUT"
echo "PASS: $TEST_NAME"
