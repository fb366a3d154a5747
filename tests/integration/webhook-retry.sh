#!/bin/sh
# Transient failures and their spacing, measured at the server: 503s back
# off exponentially; Retry-After in seconds and as an HTTP-date is honoured;
# a hang past the timeout is retried; retries end after the attempts bound
# and after the age bound, in `failed` with the last error.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

start_mock m
P=$(mock_port m)
chan() {
	printf '%s\n' "[channel $1]" "type = webhook" "url = http://127.0.0.1:$P/$1" "format = json" "${2:-}"
}
write_config "$(chan backoff)" "$(chan ra)" "$(chan date)" "$(chan slow 'timeout = 1s')" "$(chan old)"
# Backoff from 1 s (instead of 30 s); retries end 6 s after due (not 24 h).
CRIER_TEST_BACKOFF_MS=1000 CRIER_TEST_RETRY_MAX_AGE_MS=6000 start_daemon

# req_times PATH: the server's request times on PATH, one a line.
req_times() {
	mock_requests m | "$PY" -c 'import json,sys
for r in json.load(sys.stdin):
    if r["path"] == sys.argv[1]: print(r["time"])' "$1"
}
# gaps PATH: the intervals between requests on PATH.
gaps() {
	req_times "$1" | awk 'NR > 1 { printf "%.3f\n", $1 - p } { p = $1 }'
}
# check EXPR VALUE...: awk comparison on the numbers, or fail.
check() {
	awk -v a="$2" -v b="${3:-0}" "BEGIN { exit !($1) }" || fail "$4 (a=$2 b=${3:-})"
}

mock_script m '[{"path": "/backoff", "status": 503, "body": "busy"},
	{"path": "/backoff", "status": 503, "body": "busy"},
	{"path": "/ra", "status": 429, "headers": {"Retry-After": "2"}, "body": {"error": "slow down"}},
	{"path": "/slow", "hang": 5},
	{"path": "/old", "status": 503, "headers": {"Retry-After": "4"}},
	{"path": "/old", "status": 503, "headers": {"Retry-After": "4"}, "body": {"message": "still down"}}]'
date_at=$("$PY" -c 'import time; print(int(time.time()) + 4)')
date=$("$PY" -c 'import email.utils,sys; print(email.utils.formatdate(int(sys.argv[1]), usegmt=True))' "$date_at")
mock_script m "[{\"path\": \"/date\", \"status\": 503, \"headers\": {\"Retry-After\": \"$date\"}}]" 1

b=$(post_id --channel backoff --text "backoff")
r=$(post_id --channel ra --text "retry-after seconds")
dt=$(post_id --channel date --text "retry-after date")
s=$(post_id --channel slow --text "hangs")
o=$(post_id --channel old --text "too old")

# 503, 503, 200: attempt gaps ~1 s then ~2 s (+-20%).
wait_state "$b" sent 20
[ "$(field "$b" 'dl["attempts"]')" = 3 ] || fail "backoff: attempts $(field "$b" 'dl["attempts"]')"
set -- $(gaps /backoff)
[ $# = 2 ] || fail "backoff: $# gaps"
check 'a >= 0.75 && a <= 5' "$1" "" "backoff: first gap"
check 'a >= 1.5 && a <= 8' "$2" "" "backoff: second gap"
check 'b > a' "$1" "$2" "backoff: the second gap is not longer"

# 429 with Retry-After: 2.
wait_state "$r" sent 20
[ "$(field "$r" 'dl["attempts"]')" = 2 ] || fail "429: attempts"
set -- $(gaps /ra)
check 'a >= 1.9 && a <= 6' "$1" "" "429: Retry-After 2 not honoured"
# Retry-After as an HTTP-date, 4 s ahead when scripted: not retried before.
wait_state "$dt" sent 20
set -- $(req_times /date)
[ $# = 2 ] || fail "HTTP-date: $# requests"
check 'b >= a - 0.05 && b <= a + 5' "$date_at" "$2" "HTTP-date Retry-After not honoured"

# A hang past the 1 s timeout: transient, then sent.
wait_state "$s" sent 20
[ "$(field "$s" 'dl["attempts"]')" = 2 ] || fail "hang: attempts"
ctl --json show "$s" | grep -q "Timeout was reached" || fail "hang: no timeout in the history"

# Age: Retry-After 4 twice; the second would retry 8 s after due, past 6 s.
wait_state "$o" failed 20
[ "$(field "$o" 'dl["attempts"]')" = 2 ] || fail "age: attempts $(field "$o" 'dl["attempts"]')"
field "$o" 'dl["last_error"]' | grep -q "HTTP 503: still down" || fail "age: last_error"
ctl --json show "$o" | grep -q "gave up after 2 attempts" || fail "age: no 'gave up'"
[ "$(req_times /old | wc -l)" = 2 ] || fail "age: requests"
stop_daemon

# Attempts: 8 at most (backoff from 50 ms to keep it short).
mock_script m '[{"path": "/backoff", "status": 503}, {"path": "/backoff", "status": 503},
	{"path": "/backoff", "status": 503}, {"path": "/backoff", "status": 502},
	{"path": "/backoff", "status": 503}, {"path": "/backoff", "status": 500},
	{"path": "/backoff", "status": 503}, {"path": "/backoff", "status": 504, "body": {"error": "gateway"}},
	{"path": "/backoff", "status": 200}]'
before=$(req_times /backoff | wc -l)
CRIER_TEST_BACKOFF_MS=50 start_daemon
d=$(post_id --channel backoff --text "never works")
wait_state "$d" failed 30
[ "$(field "$d" 'dl["attempts"]')" = 8 ] || fail "bound: attempts $(field "$d" 'dl["attempts"]')"
field "$d" 'dl["last_error"]' | grep -q "HTTP 504: gateway" || fail "bound: last_error"
ctl --json show "$d" | grep -q "gave up after 8 attempts" || fail "bound: no 'gave up'"
sleep 1
[ $(( $(req_times /backoff | wc -l) - before )) = 8 ] || fail "bound: not 8 requests"
stop_daemon
echo "PASS: $TEST_NAME"
