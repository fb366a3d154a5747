#!/bin/sh
# The listmonk channel against tests/peers/listmonk_mock.py: a newsletter
# occurrence becomes one campaign (the newsletter templates rendered once,
# listmonk's subscriber fields in place of the recipient, a literal "{{"
# defused for listmonk's Go templates), tagged with the delivery id and
# scheduled with send_at; `show` reports the campaign's state as listmonk
# has it, then again once listmonk runs it; a 429 waits for Retry-After;
# a wrong token (403) pauses the channel with listmonk's message; a 400
# fails the delivery with listmonk's message in `show`.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/listmonk-lib.sh"

start_listmonk
SUBJECT='Weekly {{digest}} — ünïcödé'
write_lm_cal "$T/news.ics" 3 "$SUBJECT"
( umask 077 && echo "wrong-token" > "$T/bad.token" )
write_config "templates = $top_srcdir/templates" \
	"[vars]" "org = Open Government Partnership" \
	"[calendar news]" "path = $T/news.ics" \
	"$(lm_channel newsletter "content_type = html" "template_id = 3")" \
	"$(LM_LISTS=99 lm_channel badlist)" \
	"$(LM_TOKEN_FILE=$T/bad.token lm_channel badtoken)"
expect_rc 0 "$CRIERD" -c "$CONF" --check
start_daemon
wait_for "[ \"\$(ctl --json list --channel newsletter | jget 'd[\"deliveries\"][0][\"state\"]')\" = sent ]" 30 ||
	fail "newsletter not sent: $(ctl --json list --channel newsletter)"
ID=$(ctl --json list --channel newsletter | jget 'd["deliveries"][0]["id"]')
lm_get /_control/campaigns > "$T/c.json"
"$PY" - "$T/c.json" "$ID" <<'PYEOF' || fail "the campaign: $(cat "$T/c.json")"
import json, sys, datetime
cs = json.load(open(sys.argv[1]))
assert len(cs) == 1, cs
c = cs[0]
assert c["tags"] == ["crier-" + sys.argv[2]], c["tags"]
assert c["status"] == "scheduled", c["status"]
assert [l["id"] for l in c["lists"]] == [1, 2], c["lists"]
assert c["content_type"] == "html" and c["template_id"] == 3 and c["type"] == "regular", c
assert c["created_by"] == "crier"
assert c["subject"] == 'Open Government Partnership: Weekly {{"{{"}}digest}} — ünïcödé', c["subject"]
assert "Hello {{ .Subscriber.Name }}," in c["body"], c["body"]
assert "<h1" in c["body"] and "This week in open government" in c["body"], c["body"]
assert "This week in open government" in c["altbody"] and "<h1" not in c["altbody"], c["altbody"]
t = datetime.datetime.fromisoformat(c["send_at"].replace("Z", "+00:00"))
assert t.tzinfo is not None
PYEOF
[ "$(field "$ID" 'dl["remote_id"]')" = "$(lm_campaigns 'c[0]["id"]')" ] || fail "remote id"
field "$ID" 'dl["remote_url"]' | grep -q "/admin/campaigns/1$" || fail "remote url"
grep -q "lm-tok-ogp-1" "$LOG" && fail "the token is in the log"

# show asks listmonk in the background and reports the campaign's state.
wait_for "ctl show $ID | grep -q 'remote now  scheduled, 0 of 100 sent'" 15 ||
	fail "show: $(ctl show "$ID")"
lm_post /_control/clock '{"advance": 75}'
wait_for "ctl show $ID | grep -q 'remote now  running'" 20 || fail "show after send_at: $(ctl show "$ID")"
ctl --json show "$ID" | jget 'd["delivery"]["remote_state"]' | grep -q "^running" || fail "show --json"
lm_post /_control/clock '{"advance": -75}'

# 429 with Retry-After: waits, then one campaign.
mock_script lm '[{"method": "POST", "path": "/api/campaigns", "status": 429, "headers": {"Retry-After": "2"}, "body": {"message": "Too many requests"}}]'
a=$(post_id --channel newsletter --text "Rate limited")
wait_state "$a" retrying 15
wait_state "$a" sent 20
[ "$(lm_campaigns "len([x for x in c if x['tags'] == ['crier-$a']])")" = 1 ] || fail "429: campaigns"
mock_requests lm > "$T/req.json"
"$PY" - "$T/req.json" <<'PYEOF' || fail "429 retry timing"
import json, sys
ts = [r["time"] for r in json.load(open(sys.argv[1])) if r["method"] == "POST" and r["path"] == "/api/campaigns"]
assert len(ts) == 3, ts
assert ts[2] - ts[1] >= 1.0, ts[2] - ts[1]
PYEOF

# 400: listmonk's message in show; nothing made.
b=$(post_id --channel badlist --text "To a list that is not there")
wait_state "$b" failed 15
ctl show "$b" | grep -q "last error  create campaign: HTTP 400: Invalid list IDs." || fail "400: $(ctl show "$b")"

# 403: the channel pauses with listmonk's message.
c=$(post_id --channel badtoken --text "With a wrong token")
wait_state "$c" held 15
chan() {
	ctl --json status | jget "[c for c in d['channels'] if c['name'] == 'badtoken'][0]$1"
}
[ "$(chan '["paused"]')" = True ] || fail "403 did not pause"
chan '["reason"]' | grep -q "invalid API credentials" || fail "reason: $(chan '["reason"]')"
[ "$(lm_campaigns 'len(c)')" = 2 ] || fail "campaigns: $(lm_campaigns 'c')"
stop_daemon
echo "PASS: $TEST_NAME"
