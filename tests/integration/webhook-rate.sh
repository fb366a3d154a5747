#!/bin/sh
# Client-side `rate = N/period` (a token bucket that survives a restart),
# one request at a time per channel by default, `concurrency` and
# max_in_flight, all measured by the server's request times.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

start_mock m
P=$(mock_port m)
config() {
	write_config "max_in_flight = 3" \
		"[channel rated]" "type = webhook" "url = http://127.0.0.1:$P/rated" "rate = 2/4s" \
		"[channel serial]" "type = webhook" "url = http://127.0.0.1:$P/serial" \
		"[channel wide]" "type = webhook" "url = http://127.0.0.1:$P/wide" "concurrency = 8"
}
config
start_daemon

# req_times PATH: the server's request times on PATH, sorted.
req_times() {
	mock_requests m | "$PY" -c 'import json,sys
print("\n".join(str(t) for t in sorted(r["time"] for r in json.load(sys.stdin) if r["path"] == sys.argv[1])))' "$1"
}
# send_times CHANNEL: when crier marked each delivery of CHANNEL `sending`
# (its token taken), sorted: what the rate governs; the server's arrival
# times add the network's delay, which a loaded machine stretches.
send_times() {
	# shellcheck disable=SC2046
	shows $(ctl --json list --channel "$1" | jget '" ".join(x["id"] for x in d["deliveries"])') |
	    "$PY" -c 'import datetime, json, sys
t = [datetime.datetime.fromisoformat(e["at"].replace("Z", "+00:00")).timestamp()
     for d in json.load(sys.stdin) for e in d["events"] if e["event"] == "sending"]
print("\n".join(str(x) for x in sorted(t)))'
}
check() {
	awk -v a="$2" -v b="${3:-0}" "BEGIN { exit !($1) }" || fail "$4 (a=$2 b=${3:-})"
}
all_sent() {
	[ "$(ctl --json list --channel "$1" --state sent | jget 'len(d["deliveries"])')" = "$2" ]
}

# rate = 2/4s: two at once, then one every 2 s. A full bucket holds 2 and
# refills 0.5 a second, so request k (k > 2) cannot come before the first
# plus 2 * (k - 2) seconds.
for i in 1 2 3 4; do post_id --channel rated --text "rated $i" >/dev/null; done
wait_for "all_sent rated 4" 20 || fail "rated: not all sent"
set -- $(req_times /rated)
[ $# = 4 ] || fail "rated: $# requests"
check 'b - a < 1.5' "$1" "$2" "rated: the first two were not sent at once"
set -- $(send_times rated)
[ $# = 4 ] || fail "rated: $# sending marks"
# A mark is committed up to 20 ms before its request leaves (schedule.c's
# SCHED_EARLY: the fsync off the instant); the token is taken for that
# instant. The first mark's own time may be a few ms after its token's
# (6 ms under ASan in one CI run), so 50 ms are allowed in all.
check 'b - a >= 1.95' "$1" "$3" "rated: third too early"
check 'b - a >= 3.95' "$1" "$4" "rated: fourth too early"
first=$1
last=$4

# The bucket is in the store: right after a restart it is still empty.
stop_daemon
start_daemon
post_id --channel rated --text "rated after restart" >/dev/null
wait_for "all_sent rated 5" 20 || fail "rated: not sent after restart"
[ "$(req_times /rated | wc -l)" = 5 ] || fail "rated: $(req_times /rated | wc -l) requests after restart"
set -- $(send_times rated)
check 'b - a >= 5.95' "$first" "$5" "rated: fifth too early"
check 'b - a >= 1.5' "$last" "$5" "rated: the restart refilled the bucket"

# One request at a time by default: 1 s answers come one after another.
mock_script m '[{"path": "/serial", "delay": 1}, {"path": "/serial", "delay": 1}, {"path": "/serial", "delay": 1}]'
for i in 1 2 3; do post_id --channel serial --text "serial $i" >/dev/null; done
wait_for "all_sent serial 3" 20 || fail "serial: not all sent"
set -- $(req_times /serial)
check 'b - a >= 0.9' "$1" "$2" "serial: two requests at once"
check 'b - a >= 0.9' "$2" "$3" "serial: two requests at once"

# concurrency = 8 but max_in_flight = 3: three at once, then the rest.
mock_script m '[{"path": "/wide", "delay": 2}, {"path": "/wide", "delay": 2}, {"path": "/wide", "delay": 2},
	{"path": "/wide", "delay": 2}, {"path": "/wide", "delay": 2}]'
for i in 1 2 3 4 5; do post_id --channel wide --text "wide $i" >/dev/null; done
wait_for "all_sent wide 5" 20 || fail "wide: not all sent"
set -- $(req_times /wide)
check 'b - a < 1.5' "$1" "$3" "wide: the first three not at once"
check 'b - a >= 1.5' "$1" "$4" "wide: a fourth went past max_in_flight"
stop_daemon
echo "PASS: $TEST_NAME"
