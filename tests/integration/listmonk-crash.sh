#!/bin/sh
# kill -9 while listmonk creates the campaign: listmonk has made the draft
# but crierd dies before the answer. listmonk has no idempotency key, so the
# channel looks its tag (crier-DELIVERYID) up before creating: after the
# restart it finds the draft and schedules it. One campaign, scheduled.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/listmonk-lib.sh"

start_listmonk
write_lm_cal "$T/news.ics" 2 "Interrupted newsletter"
write_config "templates = $top_srcdir/templates" \
	"[calendar news]" "path = $T/news.ics" "$(lm_channel newsletter)"
lm_post /_control/create-delay '{"seconds": 30}'
start_daemon
wait_for "[ \"\$(lm_campaigns 'len(c)')\" = 1 ]" 20 || fail "no campaign made"
ID=$(ctl --json list --channel newsletter | jget 'd["deliveries"][0]["id"]')
[ "$(state_of "$ID")" = sending ] || fail "not sending: $(state_of "$ID")"
[ "$(lm_campaigns 'c[0]["status"]')" = draft ] || fail "not a draft"
kill9_daemon

lm_post /_control/create-delay '{"seconds": 0}'
start_daemon
wait_state "$ID" sent 30
[ "$(lm_campaigns 'len(c)')" = 1 ] || fail "a second campaign: $(lm_campaigns 'c')"
[ "$(lm_campaigns 'c[0]["status"]')" = scheduled ] || fail "not scheduled: $(lm_campaigns 'c')"
[ "$(field "$ID" 'dl["remote_id"]')" = "$(lm_campaigns 'c[0]["id"]')" ] || fail "remote id"
mock_requests lm > "$T/req.json"
"$PY" - "$T/req.json" <<'PYEOF' || fail "requests after the crash"
import json, sys
reqs = [(r["method"], r["path"], r.get("query", "")) for r in json.load(open(sys.argv[1]))
        if r["path"].startswith("/api/")]
assert sum(1 for r in reqs if r[0] == "POST") == 1, reqs
looks = [r for r in reqs if r[0] == "GET" and r[1] == "/api/campaigns"]
assert len(looks) == 2 and all("tag=crier-" in r[2] for r in looks), reqs
puts = [i for i, r in enumerate(reqs) if r[0] == "PUT"]
assert len(puts) == 1 and reqs[puts[0]][1].endswith("/status"), reqs
assert puts[0] > reqs.index(looks[1]), reqs
PYEOF
stop_daemon
echo "PASS: $TEST_NAME"
