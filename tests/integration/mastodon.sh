#!/bin/sh
# The mastodon channel against a mock that enforces the API's contract: a
# post and a calendar event with an image (alt text, 202 then polls until
# processed) become statuses with visibility and language; show has the
# remote id and URL; the instance's character limit is learnt, cached and
# enforced by `post`; `limit =` overrides it (the instance then answers
# 422, which fails the delivery with Mastodon's text); --check works
# offline with the cached limit and requires alt text (alt_text = warn).
. "$(dirname "$0")/lib.sh"
# The peers are on loopback; the test's files are the media.
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/mastodon-lib.sh"

start_mastodon --max-chars 100 --processing-polls 2
CAL="$T/campaign.ics"
IMG="$T/ogw banner.png"
printf '\211PNG\r\n\032\n-not-really-an-image-' > "$IMG"

# write_cal ALT: one event 4 s from now with the image (and ALT as its alt
# text), and a second image by URL (served by the mock itself).
write_cal() {
	"$PY" - "$CAL" "$IMG" "$1" "http://127.0.0.1:$MP/img/logo.png?v=2" <<'PYEOF'
import sys, time, datetime, urllib.parse
out, img, alt, url = sys.argv[1:5]
t = datetime.datetime.fromtimestamp(time.time() + 4, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
altp = ';X-CRIER-ALT="%s"' % alt if alt else ""
uri = "file://" + urllib.parse.quote(img)
open(out, "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:img@ogw.test\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\n"
    "SUMMARY:Banner\r\nDESCRIPTION:Open Gov Week starts today\r\n"
    "ATTACH;FMTTYPE=image/png%s:%s\r\n"
    "ATTACH;X-CRIER-ALT=\"The OGP logo\":%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n" % (t, altp, uri, url))
PYEOF
}
write_cal "Banner: Open Gov Week, 17-21 May"
write_config "$(mast_channel masto "visibility = unlisted" "language = fr")" \
	"[calendar camp]" "path = $CAL" "channels = masto"
mock_script mast '[{"method": "GET", "path": "/img/logo.png", "body": "GIF89a-logo", "headers": {"Content-Type": "image/gif"}}]'
start_daemon

# The instance's limit is learnt at start and cached.
wait_for "[ -s '$STATE/channels/masto.json' ]" 15 || fail "no instance cache"
[ "$(jget 'd["max_characters"]' < "$STATE/channels/masto.json")" = 100 ] || fail "cache: $(cat "$STATE/channels/masto.json")"
long=$("$PY" -c 'print("x" * 150)')
expect_rc 1 ctl post --channel masto --text "$long"
expect_out "over the limit of 100"
[ "$(mast_statuses 'len(s)')" = 0 ] || fail "a refused post reached the instance"

# A plain post.
a=$(post_id --channel masto --text "Bonjour #OpenGovWeek https://www.opengovpartnership.org/ @ogp@example.org")
wait_state "$a" sent 20
[ "$(mast_statuses 'len([x for x in s if x["idempotency_key"] == "'"$a"'"])')" = 1 ] || fail "status of $a"
st="[x for x in s if x['idempotency_key'] == '$a'][0]"
[ "$(mast_statuses "$st['visibility']")" = unlisted ] || fail "visibility"
[ "$(mast_statuses "$st['language']")" = fr ] || fail "language"
[ "$(mast_statuses "$st['text']")" = "Bonjour #OpenGovWeek https://www.opengovpartnership.org/ @ogp@example.org" ] || fail "text"
[ "$(field "$a" 'dl["remote_id"]')" = "$(mast_statuses "$st['id']")" ] || fail "remote_id"
[ "$(field "$a" 'dl["remote_url"]')" = "$(mast_statuses "$st['url']")" ] || fail "remote_url"
expect_rc 0 ctl show "$a"
expect_out "$(mast_statuses "$st['url']")"
mock_requests mast > "$T/req.json"
"$PY" - "$T/req.json" "$a" <<'PYEOF' || fail "the status request"
import json, sys
# Only this post's: the calendar's may have gone out meanwhile on a slow machine.
reqs = [r for r in json.load(open(sys.argv[1])) if r["path"] == "/api/v1/statuses"
        and {k.lower(): v for k, v in r["headers"].items()}.get("idempotency-key") == sys.argv[2]]
assert len(reqs) == 1, len(reqs)
h = {k.lower(): v for k, v in reqs[0]["headers"].items()}
assert h["authorization"] == "Bearer tok-ogp-1", h
assert h["idempotency-key"] == sys.argv[2], h
assert h["content-type"].startswith("application/x-www-form-urlencoded"), h
PYEOF

# The calendar event with its image: uploaded with its alt text, polled
# until processed (202, 206, 206, 200), then attached.
c=$(ctl --json list --channel masto | jget '[x["id"] for x in d["deliveries"] if x["uid"] == "img@ogw.test"][0]')
wait_state "$c" sent 30
st="[x for x in s if x['idempotency_key'] == '$c'][0]"
[ "$(mast_statuses "$st['text']")" = "Open Gov Week starts today" ] || fail "calendar text"
[ "$(mast_statuses "len($st['media'])")" = 2 ] || fail "media: $(mast_statuses "$st")"
[ "$(mast_statuses "$st['media'][0]['description']")" = "Banner: Open Gov Week, 17-21 May" ] || fail "alt text"
[ "$(mast_statuses "$st['media'][0]['mime_type']")" = image/png ] || fail "mime type"
[ "$(mast_statuses "$st['media'][0]['size']")" = "$(wc -c < "$IMG" | tr -d ' ')" ] || fail "size"
[ "$(mast_statuses "$st['media'][0]['filename']")" = "ogw banner.png" ] || fail "file name"
[ "$(mast_statuses "$st['media'][1]['description']")" = "The OGP logo" ] || fail "URL image alt text"
[ "$(mast_statuses "$st['media'][1]['mime_type']")" = image/gif ] || fail "URL image type"
[ "$(mast_statuses "$st['media'][1]['filename']")" = logo.png ] || fail "URL image name"
polls=$(mock_requests mast | jget 'len([r for r in d if r["method"] == "GET" and r["path"].startswith("/api/v1/media/")])')
[ "$polls" -ge 6 ] || fail "media polled $polls times"
[ "$(mast_statuses 'len(s)')" = 2 ] || fail "statuses: $(mast_statuses 's')"

# --check, offline, uses the cached limit, and wants alt text.
stop_daemon
kill "$(cat "$T/mast.pid")"
write_cal ""
"$PY" -c 'print("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:long@ogw.test\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270517T080000Z\r\nDESCRIPTION:" + "y" * 150 + "\r\nX-CRIER-CHANNELS:masto\r\nEND:VEVENT\r\nEND:VCALENDAR\r", end="")' > "$T/long.ics"
expect_rc 1 "$CRIERD" -c "$CONF" --check --calendar "$T/long.ics" --from 2027-05-01 --to 2027-06-01
expect_out "limit of 100"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "no alt text"
expect_out "1 problem"
write_config "$(mast_channel masto "alt_text = warn")" "[calendar camp]" "path = $CAL" "channels = masto"
expect_rc 0 "$CRIERD" -c "$CONF" --check
expect_out "warning: masto: image"
expect_out "0 problems"
# An image that is not there is a problem.
rm -f "$IMG"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "No such file"

# limit = overrides the instance's: crier lets 150 through, the instance
# (still at 100) refuses with 422, which fails the delivery with its text.
start_mastodon --max-chars 100
write_config "$(mast_channel masto "limit = 200")"
start_daemon
b=$(post_id --channel masto --text "$long")
wait_state "$b" failed 20
field "$b" 'dl["last_error"]' | grep -q "HTTP 422: Validation failed: Text character limit of 100 exceeded" ||
	fail "422 error: $(field "$b" 'dl["last_error"]')"
[ "$(field "$b" 'dl["attempts"]')" = 1 ] || fail "422 retried"
[ "$(mast_statuses 'len(s)')" = 0 ] || fail "created despite 422"
stop_daemon
echo "PASS: $TEST_NAME"
