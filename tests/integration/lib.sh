# Shared helpers for crier's system tests: a temp config, a private crierd,
# crierctl against it, and output matching. Sourced by each test script.
# Exit 77 means "skipped" to automake.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${CRIERD:=$top_builddir/daemon/crierd}"
: "${CRIERCTL:=$top_builddir/ctl/crierctl}"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

T=$(mktemp -d /tmp/crier-it.XXXXXX)
SOCK="$T/ctl.sock"
STATE="$T/state"
CONF="$T/crier.conf"
LOG="$T/crierd.log"
CRIERD_PID=
TEST_NAME=$(basename "$0" .sh)

# Stops what the test started and removes its files (kept on failure).
cleanup() {
	if [ -n "$CRIERD_PID" ] && kill -0 "$CRIERD_PID" 2>/dev/null; then
		kill -KILL "$CRIERD_PID" 2>/dev/null
		wait "$CRIERD_PID" 2>/dev/null
	fi
	for f in "$T"/*.pid; do
		[ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

# Fails the test with a message and the daemon's log.
fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	if [ -f "$LOG" ]; then
		echo "---- crierd log (last 40 lines) ----" >&2
		tail -n 40 "$LOG" >&2
	fi
	exit 1
}

# Skips the test with a reason.
skip() {
	echo "SKIP: $TEST_NAME: $*"
	exit 77
}

# Writes the test config: [crier] with private paths, an outbox channel, then "$@" lines.
write_config() {
	{
		echo "[crier]"
		echo "state_dir = $STATE"
		echo "socket = $SOCK"
		echo "socket_mode = 0600"
		echo "catch_up = ${CATCH_UP:-15m}"
		# Calendar-caused fetches reach public addresses only: tests
		# whose peers are on loopback say so (FETCH_ALLOW=127.0.0.1).
		[ -n "${FETCH_ALLOW:-}" ] && echo "fetch_allow = $FETCH_ALLOW"
		[ -n "${MEDIA_DIRS:-}" ] && echo "media_dirs = $MEDIA_DIRS"
		for l in "$@"; do echo "$l"; done
		if ! printf '%s\n' "$@" | grep -q '^\[channel'; then
			echo "[channel outbox]"
			echo "type = outbox"
		fi
	} > "$CONF"
}

# Starts crierd on the test config and waits until it answers.
start_daemon() {
	"$CRIERD" -c "$CONF" -f "$@" >>"$LOG" 2>&1 &
	CRIERD_PID=$!
	for _ in $(seq 1 200); do
		if "$CRIERCTL" -s "$SOCK" status >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$CRIERD_PID" 2>/dev/null || fail "crierd exited at start"
		sleep 0.05
	done
	fail "crierd did not answer within 10 s"
}

# Stops crierd with SIGTERM and checks it exits 0.
stop_daemon() {
	kill -TERM "$CRIERD_PID"
	wait "$CRIERD_PID"
	rc=$?
	CRIERD_PID=
	[ "$rc" = 0 ] || fail "crierd exited $rc on SIGTERM"
}

# Kills crierd with SIGKILL, as a crash or power cut would.
kill9_daemon() {
	kill -KILL "$CRIERD_PID"
	wait "$CRIERD_PID" 2>/dev/null
	CRIERD_PID=
}

# Runs crierctl against the test daemon.
ctl() {
	"$CRIERCTL" -s "$SOCK" "$@"
}

# Prints a value from JSON on stdin: jq-like Python expression on d.
jget() {
	"$PY" -c 'import json,sys
d=json.load(sys.stdin)
v=eval(sys.argv[1])
print(json.dumps(v) if isinstance(v,(dict,list)) else ("null" if v is None else v))' "$1"
}

# Waits up to $2 seconds (default 15) until the shell command $1 succeeds.
wait_for() {
	local i n=$(( ${2:-15} * 20 ))
	for i in $(seq 1 "$n"); do
		if eval "$1" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# Waits up to $1 seconds (default 15) until every calendar has been loaded
# and applied, or refused: crierd answers before its first loads end (they
# run on a worker thread), so a test that reads the queue waits for them.
wait_loaded() {
	wait_for "ctl --json status | \"\$PY\" -c 'import json, sys
c = json.load(sys.stdin)[\"calendars\"]
sys.exit(not c or not all((x[\"loaded_at\"] or x[\"error\"]) and
    not x[\"loading\"] and not x[\"applying\"] for x in c))'" "${1:-15}" ||
	    fail "calendars not loaded: $(ctl --json status | jget 'd["calendars"]')"
}

# Expects command "$@" to exit with status $EXPECT_RC; output in $OUT.
expect_rc() {
	local want=$1
	shift
	OUT=$("$@" 2>&1)
	rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $OUT"
}

# Checks that $OUT contains $1.
expect_out() {
	case "$OUT" in
	*"$1"*) ;;
	*) fail "expected '$1' in: $OUT" ;;
	esac
}

# The state of delivery $1.
state_of() {
	ctl --json show "$1" | jget 'd["delivery"]["state"]'
}

# Prints the UTC iCalendar time $1 seconds from now (20270517T090000Z).
ics_at() {
	date -u -d "@$(( $(date +%s) + $1 ))" +%Y%m%dT%H%M%SZ
}

# Writes calendar $1 from the VEVENTs on standard input (CRLF, replaced by
# rename as editors do).
write_ics() {
	{
		printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n'
		sed 's/$/\r/'
		printf 'END:VCALENDAR\r\n'
	} > "$1.tmp" && mv "$1.tmp" "$1"
}

# post_many CHANNEL COUNT IN [PREFIX FIRST]: COUNT posts to CHANNEL, due
# in IN ("2s", "1d"), their texts "PREFIX FIRST+i" ("post i" by default),
# pipelined on one connection; fails the test unless every one is OK.
post_many() {
	"$PY" - "$SOCK" "$1" "$2" "$3" "${4:-post}" "${5:-0}" <<'PYEOF' ||
import json, socket, sys
path, chan, n, due, prefix, first = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    sys.argv[4], sys.argv[5], int(sys.argv[6])
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall("".join(json.dumps({"v": 1, "cmd": "post", "channel": [chan],
    "text": "%s %d" % (prefix, first + i), "in": due}) + "\n" for i in range(n)).encode())
buf, got = b"", 0
while got < n:
    b = s.recv(1 << 20)
    if not b:
        sys.exit("closed after %d replies" % got)
    buf += b
    *lines, buf = buf.split(b"\n")
    for l in lines:
        if not json.loads(l).get("ok"):
            sys.exit("refused: %s" % l)
        got += 1
PYEOF
	    fail "$2 pipelined posts to $1"
}

# The id of the delivery of event uid $1 on channel $2 (instance $3,
# default 0), waited for up to 15 s: a calendar is loaded on a worker
# thread, and may come later than a post made at the same time.
delivery_of() {
	local i id
	for i in $(seq 1 150); do
		id=$(ctl --json list --limit 10000 2>/dev/null | jget "([x['id'] for x in d['deliveries'] if x['uid']=='$1' and x['channel']=='$2'] + [''] * (${3:-0} + 1))[${3:-0}]" 2>/dev/null)
		[ -n "$id" ] && break
		sleep 0.1
	done
	echo "$id"
}

# The deliveries of `show --json` for each id "$@", as one JSON list.
shows() {
	for id in "$@"; do ctl --json show "$id"; done | "$PY" -c 'import json, sys
dec, s, i, out = json.JSONDecoder(), sys.stdin.read(), 0, []
while i < len(s):
    while i < len(s) and s[i].isspace():
        i += 1
    if i < len(s):
        o, i = dec.raw_decode(s, i)
        out.append(o["delivery"])
json.dump(out, sys.stdout)'
}

# A field of delivery $1 as `show --json` gives it.
dfield() {
	ctl --json show "$1" | jget "d['delivery']['$2']"
}
