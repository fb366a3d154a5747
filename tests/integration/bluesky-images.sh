#!/bin/sh
# Images on the bluesky channel: a calendar event's ATTACH (a local file with
# its alt text, and an http(s) URL) is uploaded with uploadBlob and the post
# carries an app.bsky.embed.images embed with the alt text (the PDS checks
# the blob exists, was uploaded by this account, and has the same type and
# size); images win over a link card; an image over Bluesky's 1,000,000
# bytes holds the delivery without any request.
. "$(dirname "$0")/lib.sh"
# The peers are on loopback; the test's files are the media.
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"

printf 'app-pass-1234\n' > "$T/pw"
chmod 600 "$T/pw"
MOCK_PY="$top_srcdir/tests/peers/bluesky_mock.py"
start_mock pds --handle ogp.test --did did:plc:ogptest --app-password-file "$T/pw"
MOCK_PY="$top_srcdir/tests/peers/httpmock.py"
start_mock web
PDS=$(mock_url pds)
WEB=$(mock_url web)
CAL="$T/campaign.ics"
IMG="$T/ogw banner.png"
printf '\211PNG\r\n\032\n-not-really-an-image-' > "$IMG"
head -c 1000001 /dev/zero > "$T/huge.png"
mock_script web '[{"path": "/chart.jpg", "headers": {"Content-Type": "image/jpeg"}, "body_hex": "ffd8ffe0000a4a4649462d6368617274"}]'
"$PY" - "$CAL" "$IMG" "$WEB/chart.jpg" "$T/huge.png" <<'PYEOF'
import sys, time, datetime, urllib.parse
out, img, remote, huge = sys.argv[1:5]
t = datetime.datetime.fromtimestamp(time.time() - 30, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
def ev(uid, text, attach):
    return ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\n"
            "SUMMARY:%s\r\nDESCRIPTION:%s\r\n%sEND:VEVENT\r\n" % (uid, t, uid, text, attach))
open(out, "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n" +
    ev("two@ogw.test", "Open Gov Week starts today https://example.org/ogw",
       'ATTACH;FMTTYPE=image/png;X-CRIER-ALT="Banner: Open Gov Week, 17\u201321 May":file://%s\r\n'
       'ATTACH;X-CRIER-ALT="Chart of commitments":%s\r\n' % (urllib.parse.quote(img), remote)) +
    ev("huge@ogw.test", "Too big", "ATTACH;FMTTYPE=image/png:%s\r\n" % huge) +
    "END:VCALENDAR\r\n")
PYEOF
write_config "[channel bsky]" "type = bluesky" "service = $PDS" "handle = ogp.test" \
	"password_file = $T/pw" "link_cards = yes" \
	"[calendar camp]" "path = $CAL" "channels = bsky"
start_daemon

did() { ctl --json list | jget "[x['id'] for x in d['deliveries'] if x['uid'] == '$1'][0]"; }
wait_for '[ -n "$(did two@ogw.test)" ]' 15 || fail "the calendar was not loaded"
a=$(did two@ogw.test)
h=$(did huge@ogw.test)
wait_state "$a" sent 20
# An image Bluesky would refuse is the post's problem: held, never sent.
wait_state "$h" held 20
field "$h" 'dl["held_for"]' | grep -q "over 1000000 bytes" || fail "huge: $(field "$h" 'dl["held_for"]')"

"$PY" - "$PDS" <<'PYEOF' || fail "images"
import json, sys, urllib.request
get = lambda p: json.load(urllib.request.urlopen(sys.argv[1] + p, timeout=30))
recs, blobs = get("/_control/records"), get("/_control/blobs")
assert len(recs) == 1, recs
emb = recs[0]["record"]["embed"]
assert emb["$type"] == "app.bsky.embed.images", emb
imgs = emb["images"]
assert [i["alt"] for i in imgs] == ["Banner: Open Gov Week, 17\u201321 May", "Chart of commitments"], imgs
assert [i["image"]["mimeType"] for i in imgs] == ["image/png", "image/jpeg"], imgs
assert [i["image"]["size"] for i in imgs] == [29, 16], imgs
assert sorted(b["cid"] for b in blobs) == sorted(i["image"]["ref"]["$link"] for i in imgs), blobs
PYEOF
mock_requests pds | jget '[r for r in d if r["path"] == "/xrpc/com.atproto.repo.uploadBlob"]' > "$T/up.json"
"$PY" - "$T/up.json" <<'PYEOF' || fail "uploadBlob requests: $(cat "$T/up.json")"
import json, sys
ups = json.load(open(sys.argv[1]))
assert len(ups) == 2, len(ups)
for u in ups:
    h = {k.lower(): v for k, v in u["headers"].items()}
    assert h["authorization"].startswith("Bearer "), h
assert [{k.lower(): v for k, v in u["headers"].items()}["content-type"] for u in ups] == ["image/png", "image/jpeg"]
PYEOF
# no card was fetched for the post with images
[ "$(mock_requests web | jget 'len([r for r in d if r["path"] != "/chart.jpg"])')" = 0 ] || fail "a card fetch"
stop_daemon
echo "PASS: $TEST_NAME"
