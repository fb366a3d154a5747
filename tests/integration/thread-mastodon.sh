#!/bin/sh
# split = thread on a mastodon channel: a post over the limit goes as a
# numbered reply chain, each part measured by Mastodon's rule (URL 23) and
# never cut inside a URL, hashtag, mention or emoji; each part replies to
# the one before (in_reply_to_id). kill -9 while part 2 is created but not
# yet answered: after the restart part 1 is not posted again, part 2 is
# found by its own Idempotency-Key (ID/2), and the thread is whole, once.
# Without split = thread the same text is refused. preview and --check
# show the parts.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/mastodon-lib.sh"

start_mastodon
URL="https://www.opengovpartnership.org/campaigns/open-gov-week/a-very-long-path-that-must-never-be-split/index.html?lang=en#agenda"
TEXT="Open Gov Week starts on Monday with events in 78 countries. Join @ogp@mastodon.social for the opening session, where civil society and governments present their commitments. 👩‍👩‍👧‍👦 Families welcome. Read the agenda at $URL and follow #OpenGovWeek for updates. Second paragraph: every session is recorded, with captions in English, Spanish and French, and the recordings go online the same day. Questions? Ask us anywhere."
write_config "$(mast_channel thr "limit = 120" "split = thread")" \
	"$(mast_channel one "limit = 120")"
start_daemon

# Refused where the channel does not split.
expect_rc 1 "$CRIERCTL" -s "$SOCK" post --channel one --text "$TEXT"
expect_out "over the limit of 120"

# post --dry-run shows the parts too, and queues nothing.
ctl --json post --dry-run --channel thr --text "$TEXT" |
	jget 'len(d["previews"][0]["parts"])' | grep -q '^[4-9]$' || fail "dry run without parts"
ctl post --dry-run --channel thr --text "$TEXT" | grep -q "as a thread of" || fail "human dry run without parts"

# The thread: part 2 is created at once but answered 30 s later.
mast_post /_control/status-delay '{"seconds": 30, "after": 1}'
id=$(post_id --channel thr --text "$TEXT")
ctl --json preview "$id" > "$T/preview.json"
n=$(jget 'len(d["previews"][0]["parts"])' < "$T/preview.json")
[ "$n" -ge 4 ] || fail "preview: $n parts: $(cat "$T/preview.json")"
"$PY" - "$T/preview.json" "$URL" <<'PYEOF' || fail "preview parts"
import json, sys
p = json.load(open(sys.argv[1]))["previews"][0]
parts, url = p["parts"], sys.argv[2]
assert p["fits"] is True, p
n = len(parts)
for i, x in enumerate(parts):
    assert x["text"].endswith(" (%d/%d)" % (i + 1, n)), x
    assert x["length"] <= 120 and x["limit"] == 120, x
joined = " ".join(x["text"].rsplit(" (", 1)[0] for x in parts)
for whole in (url, "@ogp@mastodon.social", "#OpenGovWeek", "👩‍👩‍👧‍👦"):
    assert sum(whole in x["text"] for x in parts) == 1, (whole, parts)
PYEOF
ctl preview "$id" | grep -q "(1/$n)" || fail "human preview without parts: $(ctl preview "$id")"

wait_for "[ \"\$(mast_statuses 'len(s)')\" = 2 ]" 30 || fail "part 2 not created: $(mast_statuses 's')"
wait_for "ctl --json show $id | grep -q 'part 1/$n'" 10 || fail "part 1 not recorded"
[ "$(state_of "$id")" = sending ] || fail "not sending: $(state_of "$id")"
echo "$n parts; part 2 created, unanswered: kill -9"
kill9_daemon

mast_post /_control/status-delay '{"seconds": 0}'
start_daemon
wait_state "$id" sent 30
mast_get /_control/statuses > "$T/statuses.json"
mock_requests mast > "$T/req.json"
ctl --json show "$id" > "$T/show.json"
"$PY" - "$T/statuses.json" "$T/req.json" "$T/show.json" "$id" "$n" <<'PYEOF' || fail "the thread after the crash"
import json, sys
sts = json.load(open(sys.argv[1]))
reqs = [r for r in json.load(open(sys.argv[2])) if r["path"] == "/api/v1/statuses"]
show = json.load(open(sys.argv[3]))["delivery"]
d, n = sys.argv[4], int(sys.argv[5])
assert len(sts) == n, ("statuses", len(sts), [s["text"] for s in sts])
for i, s in enumerate(sts):
    assert s["idempotency_key"] == "%s/%d" % (d, i + 1), s
    assert s["text"].endswith("(%d/%d)" % (i + 1, n)), s["text"]
    assert s["length"] <= 120, s
    want = sts[i - 1]["id"] if i else None
    assert s["in_reply_to_id"] == want, (i, s["in_reply_to_id"], want)
keys = [r["headers"].get("Idempotency-Key") for r in reqs]
# part 1 once; part 2 twice (before and after the crash, same key); others once
assert keys.count(d + "/1") == 1, keys
assert keys.count(d + "/2") == 2, keys
assert len(keys) == n + 1, keys
assert show["remote_id"] == sts[0]["id"], (show["remote_id"], sts[0]["id"])
assert show["remote_url"] == sts[0]["url"], show["remote_url"]
PYEOF

# --check shows the parts of a calendar post too long for one status.
CAL="$T/cal.ics"
write_ics "$CAL" <<ICS
BEGIN:VEVENT
UID:thread@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:20270517T090000Z
DESCRIPTION:$TEXT
X-CRIER-CHANNELS:thr
END:VEVENT
ICS
expect_rc 0 "$CRIERD" -c "$CONF" --check --json --calendar "$CAL" --from 2027-05-17 --to 2027-05-18
echo "$OUT" | jget 'len(d["channels"][0]["parts"])' | grep -qx "$n" || fail "--check parts: $OUT"
echo "$OUT" | jget 'd["channels"][0]["fits"]' | grep -qx True || fail "--check fits: $OUT"
stop_daemon
echo "PASS: $TEST_NAME"
