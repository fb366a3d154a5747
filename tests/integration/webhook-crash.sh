#!/bin/sh
# kill -9 during a burst of 200 webhook deliveries (a channel that is not
# idempotent): after a restart every delivery is `sent`, received exactly
# once by the server, or `uncertain` (received at most once); none is lost,
# none is sent twice. `uncertain` moves on only by retry or cancel.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

N=200
start_mock m
P=$(mock_port m)
write_config "[channel hook]" "type = webhook" "url = http://127.0.0.1:$P/hook" "format = json" \
	"concurrency = 4"
start_daemon
# Every answer takes 50 ms, so the burst lasts a few seconds.
"$PY" -c 'import json; print(json.dumps([{"path": "/hook", "delay": 0.05}] * 400))' > "$T/script.json"
mock_script m "$(cat "$T/script.json")"

# Queue the 200 while paused (held), then release them at once.
expect_rc 0 ctl pause hook
for i in $(seq 1 $N); do
	ctl post --channel hook --text "burst $i" >/dev/null || fail "post $i"
done
[ "$(ctl --json status | jget 'd["counts"]["held"]')" = $N ] || fail "not $N held"
expect_rc 0 ctl resume hook
wait_for "[ \$(mock_count m) -ge 40 ]" 30 || fail "the burst did not start"
kill9_daemon
at_kill=$(mock_count m)
[ "$at_kill" -lt $N ] || fail "the burst ended before the kill ($at_kill)"

start_daemon
pending() {
	ctl --json status | jget 'sum(d["counts"][s] for s in ("scheduled", "sending", "retrying", "held"))'
}
wait_for "[ \"\$(pending)\" = 0 ]" 60 || fail "still pending: $(ctl --json status | jget 'd["counts"]')"
ctl --json list --limit 1000 > "$T/list.json"
mock_requests m > "$T/req.json"
"$PY" - "$T/list.json" "$T/req.json" $N > "$T/verdict" <<'PYEOF' || fail "after the crash: $(cat "$T/verdict")"
import collections, json, sys
ds = json.load(open(sys.argv[1]))["deliveries"]
reqs = json.load(open(sys.argv[2]))
n = int(sys.argv[3])
got = collections.Counter(json.loads(r["body"])["id"] for r in reqs if r["path"] == "/hook")
states = collections.Counter(d["state"] for d in ds)
assert len(ds) == n, ("deliveries", len(ds))
assert set(states) <= {"sent", "uncertain"}, states
twice = [i for i, c in got.items() if c > 1]
assert not twice, ("received more than once", twice)
for d in ds:
    if d["state"] == "sent":
        assert got[d["id"]] == 1, ("sent but received %d times" % got[d["id"]], d["id"])
        assert d["attempts"] == 1, d
    else:
        assert got[d["id"]] <= 1, d
assert set(got) <= {d["id"] for d in ds}, "a request for an unknown delivery"
unc = [d["id"] for d in ds if d["state"] == "uncertain"]
print(" ".join(unc))
sys.stderr.write("%d sent, %d uncertain (%d of them received)\n" % (
    states["sent"], len(unc), sum(1 for i in unc if got[i])))
PYEOF
unc=$(cat "$T/verdict")
echo "uncertain after kill -9: ${unc:-none}"
# Uncertain stays so (shown in status) until a person says: retry or cancel.
if [ -n "$unc" ]; then
	set -- $unc
	[ "$(ctl --json status | jget 'd["counts"]["uncertain"]')" = $# ] || fail "status: uncertain count"
	sleep 1
	[ "$(state_of "$1")" = uncertain ] || fail "uncertain moved by itself"
	expect_rc 1 ctl send-now "$1"
	expect_rc 0 ctl retry "$1"
	wait_state "$1" sent
	if [ $# -ge 2 ]; then
		expect_rc 0 ctl cancel "$2"
		[ "$(state_of "$2")" = cancelled ] || fail "cancel of uncertain"
	fi
fi
stop_daemon
echo "PASS: $TEST_NAME"
