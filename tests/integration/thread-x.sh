#!/bin/sh
# split = thread on an x channel against tests/peers/x_mock.py: a post
# over X's 280 (twitter-text weights: CJK 2, a URL 23) goes as a numbered
# reply chain, each part weighing at most 280, each replying to the one
# before (reply.in_reply_to_tweet_id), the image with part 1 only. kill -9
# while part 2 is created but not yet answered: after the restart part 1
# is not posted again, part 2 (marker x_posting:ID/2) is found among the
# account's newest posts, the rest go once, and the thread is whole. A
# second thread dies before part 2 reaches X: not found, posted once.
# Without split = thread the same text is refused.
. "$(dirname "$0")/lib.sh"
FETCH_ALLOW=127.0.0.1
MEDIA_DIRS=$T
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/x-lib.sh"

start_x
IMG="$T/chart.png"
printf '\211PNG\r\n\032\nchart-bytes' > "$IMG"
URL="https://www.opengovpartnership.org/campaigns/open-gov-week/a-very-long-path-that-must-never-be-split/index.html?lang=en"
CJK=$("$PY" -c 'print("\u958b\u653e\u653f\u5e9c\u9031" * 14)')	# 70 characters weighing 140
TEXT="Open Gov Week starts on Monday with events in 78 countries. Join @OpenGovPart for the opening session, where civil society and governments present their commitments. $CJK Read the agenda at $URL and follow #OpenGovWeek for updates. Every session is recorded, with captions in English, Spanish and French, and the recordings go online the same day. Questions? Ask us anywhere, any time."
CAL="$T/cal.ics"
write_ics "$CAL" <<EOF
BEGIN:VEVENT
UID:thread@ogw.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 3)
DESCRIPTION:$TEXT
ATTACH;FMTTYPE=image/png;X-CRIER-ALT="Map of the events":$IMG
X-CRIER-CHANNELS:xthr
END:VEVENT
EOF
write_config "$(x_channel xthr oauth1 "split = thread")" "$(x_channel xone oauth1)" \
	"[calendar camp]" "path = $CAL"

# --check shows the parts, each weighing at most 280.
expect_rc 0 "$CRIERD" -c "$CONF" --check --json
echo "$OUT" | grep '"thread@ogw.test"' | jget 'd["channels"][0]' > "$T/check.json" ||
	fail "no line for the thread: $OUT"
n=$(jget 'len(d["parts"])' < "$T/check.json")
[ "$n" -ge 3 ] || fail "--check: $n parts: $(cat "$T/check.json")"
jget 'all(p["length"] <= 280 and p["limit"] == 280 for p in d["parts"]) and d["fits"]' < "$T/check.json" |
	grep -qx True || fail "--check parts: $(cat "$T/check.json")"

# Part 1 is answered at once, part 2 is created but answered 60 s later.
x_post /_control/tweet-delay '{"seconds": 60, "after": 1}'
start_daemon
# Refused where the channel does not split.
expect_rc 1 "$CRIERCTL" -s "$SOCK" post --channel xone --text "$TEXT"
expect_out "over the limit of 280"
id=$(delivery_of thread@ogw.test xthr)
wait_for "[ \"\$(x_tweets 'len(t)')\" = 2 ]" 30 || fail "part 2 not created: $(x_tweets t)"
wait_for "ctl --json show $id | grep -q 'part 1/$n'" 10 || fail "part 1 not recorded"
[ "$(state_of "$id")" = sending ] || fail "not sending: $(state_of "$id")"
echo "$n parts; part 2 created, unanswered: kill -9"
kill9_daemon
x_post /_control/tweet-delay '{"seconds": 0}'
start_daemon
wait_state "$id" sent 30
x_tweets 't' > "$T/tweets.json"
mock_requests x > "$T/req.json"
ctl --json show "$id" > "$T/show.json"
"$PY" - "$T/tweets.json" "$T/req.json" "$T/show.json" "$n" <<'PYEOF' || fail "the thread after the crash"
import json, sys
t = json.load(open(sys.argv[1]))
reqs = [r for r in json.load(open(sys.argv[2])) if r["path"] == "/2/tweets"]
show = json.load(open(sys.argv[3]))["delivery"]
n = int(sys.argv[4])
assert len(t) == n, ("posts", len(t), [x["text"] for x in t])
for i, x in enumerate(t):
    assert x["text"].endswith("(%d/%d)" % (i + 1, n)), x["text"]
    assert x["weighted_length"] <= 280, x
    assert x["reply_to"] == (t[i - 1]["id"] if i else None), (i, [(y["id"], y["reply_to"], y["text"][-6:]) for y in t])
    want = [("Map of the events", "image/png")] if i == 0 else []
    assert [(m["alt_text"], m["media_type"]) for m in x["media"]] == want, (i, x["media"])
assert any("\u958b" in x["text"] for x in t), "no CJK"
assert sum("https://www.opengovpartnership.org" in x["text"] for x in t) == 1
# one POST per part: part 2 was found after the crash, not posted again
assert len([r for r in reqs if r["method"] == "POST"]) == n, len(reqs)
assert show["remote_id"] == t[0]["id"], (show["remote_id"], t[0]["id"])
assert show["remote_url"] == "https://x.com/ogp/status/" + t[0]["id"], show["remote_url"]
ev = [e["event"] for e in show["events"]]
assert "x-resume" in ev and "x-found" in ev, ev
PYEOF
echo "thread 1: $n parts once each, chained, part 2 found after the crash"

# A second thread dies before part 2 reaches X: part 1 is answered 15 s
# after its creation, time to make the peer hang on the next POST.
TEXT2="Second call: $(echo "$TEXT" | sed 's/o/0/g')"	# no part as thread 1's
k=$(x_tweets 'len(t)')
m=$(x_tweet_requests)
x_post /_control/tweet-delay "{\"seconds\": 15, \"after\": $k}"
id2=$(post_id --channel xthr --text "$TEXT2")
wait_for "[ \"\$(x_tweets 'len(t)')\" = $((k + 1)) ]" 30 || fail "thread 2 part 1 not created"
mock_script x '[{"method": "POST", "path": "/2/tweets", "hang": 60}]'
wait_for "[ \"\$(x_tweet_requests)\" -ge $((m + 2)) ]" 40 || fail "thread 2 part 2 not sent"
ctl --json show "$id2" | grep -q "part 1/" || fail "thread 2 part 1 not recorded"
kill9_daemon
x_post /_control/tweet-delay '{"seconds": 0}'
start_daemon
wait_state "$id2" sent 30
x_tweets 't' > "$T/tweets.json"
mock_requests x > "$T/req.json"
ctl --json show "$id2" > "$T/show.json"
"$PY" - "$T/tweets.json" "$T/req.json" "$T/show.json" "$k" "$m" <<'PYEOF' || fail "thread 2 after the crash"
import json, sys
t = json.load(open(sys.argv[1]))[int(sys.argv[4]):]
reqs = [r for r in json.load(open(sys.argv[2]))[:] if r["path"] == "/2/tweets" and r["method"] == "POST"]
show = json.load(open(sys.argv[3]))["delivery"]
n = len(t)
assert n >= 3 and t[0]["text"].startswith("Second call:"), [x["text"] for x in t]
assert len(set(x["text"] for x in t)) == n, "a part twice"
for i, x in enumerate(t):
    assert x["text"].endswith("(%d/%d)" % (i + 1, n)), x["text"]
    assert x["weighted_length"] <= 280, x
    assert x["reply_to"] == (t[i - 1]["id"] if i else None), (i, [(y["id"], y["reply_to"], y["text"][-6:]) for y in t])
# part 2 was sent twice (the hung request, then after the lookup), others once
assert len(reqs) - int(sys.argv[5]) == n + 1, (len(reqs), n)
assert show["remote_id"] == t[0]["id"], show["remote_id"]
det = [e["detail"] or "" for e in show["events"]]
assert any("not among the account's newest posts" in d for d in det), det
PYEOF
echo "thread 2: part 2 lost before X: looked for, posted once"
stop_daemon
echo "PASS: $TEST_NAME"
