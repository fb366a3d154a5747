#!/bin/sh
# split = thread on a bluesky channel: a post over 300 graphemes goes as a
# numbered reply chain; part N is written at the record key derived from
# "ID/N", and replies to part 1 (reply.root) and part N-1 (reply.parent)
# with their uri and cid. kill -9 while part 2 is written but not yet
# answered: after the restart part 1 is not written again, part 2 is found
# at its key (InvalidSwap, read back), and every record is written once.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

printf 'app-pass-1234\n' > "$T/pw"
chmod 600 "$T/pw"
MOCK_PY="$top_srcdir/tests/peers/bluesky_mock.py"
start_mock pds --handle ogp.test --did did:plc:ogptest --app-password-file "$T/pw"
PDS=$(mock_url pds)
export CRIER_TEST_BACKOFF_MS=300
URL="https://www.opengovpartnership.org/campaigns/open-gov-week/a-very-long-path-that-must-never-be-split/index.html?lang=en"
TEXT="開かれた政府週間が始まります。世界七十八か国で行事があります。Open Gov Week starts on Monday with events in 78 countries: civil society and governments present their commitments, side by side. 👩‍👩‍👧‍👦 Families welcome. Read the agenda at $URL and follow #OpenGovWeek for updates. Every session is recorded, with captions in English, Spanish and French, and the recordings go online the same day, with transcripts. Questions? Ask us anywhere, any time, in any language you like."
write_config "[channel bsky]" "type = bluesky" "service = $PDS" "handle = ogp.test" \
	"password_file = $T/pw" "split = thread" "link_cards = no"
start_daemon

records() {
	"$PY" -c 'import json, sys, urllib.request
print(urllib.request.urlopen(sys.argv[1] + "/_control/records", timeout=30).read().decode())' "$PDS"
}
control() {
	"$PY" -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + sys.argv[2], data=sys.argv[3].encode(), method="POST"), timeout=30).read()' "$PDS" "$1" "$2" ||
		fail "cannot POST $1"
}

control /_control/put-delay '{"seconds": 30, "after": 1}'
id=$(post_id --channel bsky --text "$TEXT")
n=$(ctl --json preview "$id" | jget 'len(d["previews"][0]["parts"])')
[ "$n" -ge 2 ] || fail "preview: $n parts"
wait_for '[ "$(records | jget "len(d)")" = 2 ]' 30 || fail "part 2 not written: $(records)"
wait_for "ctl --json show $id | grep -q 'part 1/$n'" 10 || fail "part 1 not recorded"
[ "$(state_of "$id")" = sending ] || fail "not sending: $(state_of "$id")"
echo "$n parts; part 2 created, unanswered: kill -9"
kill9_daemon

control /_control/put-delay '{"seconds": 0}'
start_daemon
wait_state "$id" sent 30
records > "$T/records.json"
mock_requests pds > "$T/req.json"
ctl --json show "$id" > "$T/show.json"
"$PY" - "$T/records.json" "$T/req.json" "$T/show.json" "$n" "$URL" <<'PYEOF' || fail "the thread after the crash"
import json, sys
recs = json.load(open(sys.argv[1]))
reqs = json.load(open(sys.argv[2]))
show = json.load(open(sys.argv[3]))["delivery"]
n, url = int(sys.argv[4]), sys.argv[5]
assert len(recs) == n, ("records", len(recs))
assert len(set(r["rkey"] for r in recs)) == n
texts = [r["record"]["text"] for r in recs]
for i, r in enumerate(recs):
    assert r["writes"] == 1, ("written again", r["rkey"], r["writes"])
    assert texts[i].endswith(" (%d/%d)" % (i + 1, n)), texts[i]
    rep = r["record"].get("reply")
    if i == 0:
        assert rep is None, rep
    else:
        assert rep["root"] == {"uri": recs[0]["uri"], "cid": recs[0]["cid"]}, rep
        assert rep["parent"] == {"uri": recs[i - 1]["uri"], "cid": recs[i - 1]["cid"]}, rep
assert sum(url in t for t in texts) == 1, texts
assert sum("#OpenGovWeek" in t for t in texts) == 1, texts
assert sum("👩‍👩‍👧‍👦" in t for t in texts) == 1, texts
# the link and the tag are facets of the part that carries them
for r in recs:
    for f in r["record"].get("facets", []):
        b = r["record"]["text"].encode()[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode()
        feat = f["features"][0]
        assert feat.get("uri", "") == b or "#" + feat.get("tag", "") == b, (b, feat)
puts = [json.loads(q["body"])["rkey"] for q in reqs if q["path"].endswith("putRecord")]
assert puts.count(recs[0]["rkey"]) == 1, puts
assert puts.count(recs[1]["rkey"]) == 2, puts
assert len(puts) == n + 1, puts
gets = [q for q in reqs if q["path"].endswith("getRecord")]
assert len(gets) == 1, gets
assert show["remote_id"] == recs[0]["uri"], (show["remote_id"], recs[0]["uri"])
PYEOF
stop_daemon
echo "PASS: $TEST_NAME"
