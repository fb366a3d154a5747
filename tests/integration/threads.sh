#!/bin/sh
# The threads channel against tests/peers/threads_mock.py: --check measures
# with Threads' rule (an emoji counts its UTF-8 bytes) and refuses a local
# image (Threads fetches image_url itself); a text post and an https-style
# image with alt text go container -> (status polled until FINISHED) ->
# publish; more than 5 distinct links (THREADS_API__LINK_LIMIT_EXCEEDED) are
# found by --check, refused by `post` and held from a calendar, never sent;
# publish; a call-rate error (code 4) waits instead of retrying at once; an
# expired token (code 190) pauses the channel with Threads' message.
. "$(dirname "$0")/lib.sh"
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/threads-lib.sh"

start_threads --processing-polls 2
start_mock web
WEB=$(mock_url web)
IMG="$T/local.png"
printf '\211PNG\r\n\032\nlocal' > "$IMG"

# --check, offline: 497 letters and a thumbs-up are 501 of 500; a local
# file cannot reach Threads; an image without alt text is a problem.
CAL="$T/check.ics"
"$PY" - "$CAL" "$IMG" "$WEB" <<'PYEOF'
import sys
def ev(uid, desc, extra=""):
    return ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270517T080000Z\r\n"
            "DESCRIPTION:%s\r\n%sEND:VEVENT\r\n" % (uid, desc, extra))
open(sys.argv[1], "w", newline="", encoding="utf-8").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" +
    ev("fits@ogw.test", "a" * 496 + "\U0001F44D") +
    ev("long@ogw.test", "a" * 497 + "\U0001F44D") +
    ev("local@ogw.test", "With a local image",
       "ATTACH;FMTTYPE=image/png;X-CRIER-ALT=Chart:%s\r\n" % sys.argv[2]) +
    ev("noalt@ogw.test", "Without alt text", "ATTACH;FMTTYPE=image/png:%s/chart.png\r\n" % sys.argv[3]) +
    ev("sixlinks@ogw.test", " ".join("https://ogw.example/%d" % i for i in range(5)) + " www.opengovweek.example") +
    ev("fivelinks@ogw.test", " ".join("https://ogw.example/%d" % i for i in range(5)) + " again https://ogw.example/0") +
    "END:VCALENDAR\r\n")
PYEOF
write_config "$(th_channel th)" "[calendar camp]" "path = $CAL" "channels = th"
expect_rc 1 "$CRIERD" -c "$CONF" --check --from 2027-05-01 --to 2027-06-01
expect_out "uid long@ogw.test"
expect_out "501"
expect_out "over the limit of 500"
expect_out "Threads fetches images from a public https URL"
expect_out "has no alt text"
expect_out "uid sixlinks@ogw.test"
expect_out "6 distinct links, 1 over the limit of 5"
expect_out "6 occurrences checked, 4 problems"
case "$OUT" in *"uid fits@ogw.test"*) fail "500 counted as over: $OUT" ;; esac
case "$OUT" in *"uid fivelinks@ogw.test"*) fail "a repeated link counted twice: $OUT" ;; esac
expect_rc 1 "$CRIERD" -c "$CONF" --check --json --from 2027-05-01 --to 2027-06-01
echo "$OUT" | "$PY" -c '
import json, sys
occ = [json.loads(l) for l in sys.stdin if l.strip()]
six = [c for o in occ if o["uid"] == "sixlinks@ogw.test" for c in o["channels"]]
assert six and six[0]["links"] == 6 and six[0]["link_limit"] == 5 and six[0]["fits"] is False, six
assert "th: too many links: 6 distinct links, 1 over the limit of 5" in [p for o in occ for p in o["problems"]], occ
' || fail "--check --json links: $OUT"

# The daemon: a text post, then a calendar image with alt text.
mock_script web '[{"path": "/chart.png", "headers": {"Content-Type": "image/png"}, "body_hex": "89504e470d0a1a0a6368617274"}]'
CAL="$T/cal.ics"
"$PY" - "$CAL" "$WEB" <<'PYEOF'
import sys, time, datetime
t = datetime.datetime.fromtimestamp(time.time() + 4, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
open(sys.argv[1], "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:img@ogw.test\r\n"
    "DTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\nDESCRIPTION:Results of the consultation\r\n"
    "ATTACH;FMTTYPE=image/png;X-CRIER-ALT=\"Bar chart of the results\":%s/chart.png\r\n"
    "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:links@ogw.test\r\n"
    "DTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\nDESCRIPTION:%s\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n" % (t, sys.argv[2], t,
    " ".join("https://ogw.example/%d" % i for i in range(6))))
PYEOF
write_config "$(th_channel th)" "[calendar camp]" "path = $CAL" "channels = th"
start_daemon
a=$(post_id --channel th --text "Open Gov Week starts today 👍 & more")
wait_state "$a" sent 20
[ "$(th_posts 'p[0]["text"]')" = "Open Gov Week starts today 👍 & more" ] || fail "text: $(th_posts 'p')"
[ "$(th_posts 'p[0]["media_type"]')" = TEXT ] || fail "media type: $(th_posts 'p')"
[ "$(field "$a" 'dl["remote_id"]')" = "$(th_posts 'p[0]["id"]')" ] || fail "remote id is not the media id"
wait_for "[ \"\$(ctl --json list | jget 'len(d[\"deliveries\"])')\" = 3 ]" 10 || fail "calendar not loaded"
links=$(delivery_of links@ogw.test th)
wait_state "$links" held 10
field "$links" 'dl["last_error"]' | grep -q "does not fit: 6 of 5 distinct links" ||
	fail "six links: $(ctl show "$links")"
expect_rc 1 ctl post --channel th --text "$(seq -f 'https://ogw.example/%g' 1 6 | tr '\n' ' ')"
expect_out "6 distinct links, 1 over the limit of 5"
ctl post --dry-run --channel th --text "$(seq -f 'https://ogw.example/%g' 1 6 | tr '\n' ' ')" > "$T/dry.txt"
grep -q "6 of 5 links  DOES NOT FIT" "$T/dry.txt" || fail "dry run: $(cat "$T/dry.txt")"
img=$(delivery_of img@ogw.test th)
wait_state "$img" sent 30
th_get /_control/containers > "$T/containers.json"
mock_requests th > "$T/req.json"
"$PY" - "$T/containers.json" "$T/req.json" "$WEB" <<'PYEOF' || fail "image post"
import json, sys
cs = json.load(open(sys.argv[1]))
im = [c for c in cs if c["media_type"] == "IMAGE"]
assert len(im) == 1, cs
c = im[0]
assert c["status"] == "PUBLISHED" and c["alt_text"] == "Bar chart of the results", c
assert c["image_url"] == sys.argv[3] + "/chart.png" and c["fetched"] == 13, c
reqs = [(r["method"], r["path"]) for r in json.load(open(sys.argv[2])) if not r["path"].startswith("/_")]
i = reqs.index(("POST", "/v1.0/17841400000000001/threads"), 1)
# Created, polled until FINISHED (two polls IN_PROGRESS), then published once.
st = [r for r in reqs[i + 1:] if r[1] == "/v1.0/" + c["id"]]
assert len(st) >= 2, reqs
assert reqs[-1] == ("POST", "/v1.0/17841400000000001/threads_publish"), reqs
assert sum(1 for r in reqs if r[1].endswith("/threads_publish")) == 2, reqs
assert not any("ogw.example/5" in (c["text"] or "") for c in cs), cs
for r in json.load(open(sys.argv[2])):
    assert "th-tok-ogp-1" not in r["path"] and "th-tok-ogp-1" not in r.get("query", ""), r
PYEOF
grep -q "th-tok-ogp-1" "$LOG" && fail "the token is in the log"

# Code 4: the call rate is spent; the delivery waits (backoff), no hammering.
th_post /_control/throttle '{"code": 4, "count": 1}'
b=$(post_id --channel th --text "rate limited")
wait_state "$b" retrying 15
field "$b" 'dl["last_error"]' | grep -q "Application request limit reached (code 4)" ||
	fail "rate error: $(field "$b" 'dl["last_error"]')"
nx=$(ctl --json show "$b" | jget 'd["delivery"]["next_attempt"]')
"$PY" -c 'import sys, datetime
t = datetime.datetime.fromisoformat(sys.argv[1].replace("Z", "+00:00")).timestamp()
import time; sys.exit(0 if t - time.time() >= 10 else 1)' "$nx" || fail "next attempt too soon: $nx"
sleep 2
[ "$(th_posts 'len(p)')" = 2 ] || fail "rate: posted anyway"
expect_rc 0 ctl retry "$b"
wait_state "$b" sent 20
[ "$(th_posts 'len(p)')" = 3 ] || fail "rate: not posted after retry"

# Code 190 (expired token): the channel pauses with Threads' message.
th_post /_control/expire '{"token": "th-tok-ogp-1"}'
c=$(post_id --channel th --text "with an expired token")
wait_state "$c" held 15
chan() {
	ctl --json status | jget "[c for c in d['channels'] if c['name'] == 'th'][0]$1"
}
[ "$(chan '["paused"]')" = True ] || fail "190 did not pause"
chan '["reason"]' | grep -q "Session has expired" || fail "reason: $(chan '["reason"]')"
ctl show "$c" > "$T/show.txt"
grep -q "Session has expired" "$T/show.txt" || fail "show: $(cat "$T/show.txt")"
stop_daemon
echo "PASS: $TEST_NAME"
