#!/bin/sh
# 50 clients at once all get answers.
. "$(dirname "$0")/lib.sh"

write_config
start_daemon

pids=
i=0
while [ $i -lt 50 ]; do
	case $((i % 3)) in
	0) ( ctl --json status > "$T/c$i.out" 2>&1; echo $? > "$T/c$i.rc" ) & ;;
	1) ( ctl --json list > "$T/c$i.out" 2>&1; echo $? > "$T/c$i.rc" ) & ;;
	2) ( ctl --json post --channel outbox --text "client $i" --in 1d > "$T/c$i.out" 2>&1; echo $? > "$T/c$i.rc" ) & ;;
	esac
	pids="$pids $!"
	i=$((i + 1))
done
# Only the clients: a bare `wait` would wait for crierd too.
for p in $pids; do wait "$p"; done
i=0
while [ $i -lt 50 ]; do
	[ "$(cat "$T/c$i.rc")" = 0 ] || fail "client $i: $(cat "$T/c$i.out")"
	[ "$(jget 'd["ok"]' < "$T/c$i.out")" = True ] || fail "client $i not ok"
	i=$((i + 1))
done
# Every post was recorded: 16 of the 50 clients posted.
[ "$(ctl --json status | jget 'd["counts"]["scheduled"]')" = 16 ] || fail "posts lost"

# Many clients holding connections open do not block others.
"$PY" - "$SOCK" <<'PYEOF' || fail "idle clients blocked the daemon"
import socket, sys, json, time
def connect():
    # A full listen queue answers EAGAIN; a real client waits and tries again.
    for _ in range(500):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sys.argv[1])
            return s
        except BlockingIOError:
            s.close()
            time.sleep(0.01)
    raise SystemExit("cannot connect")
idle = []
for _ in range(100):
    s = connect()
    s.sendall(b'{"v":1,')          # half a request, never finished
    idle.append(s)
s = connect()
s.settimeout(10)
s.sendall(b'{"v":1,"cmd":"status"}\n')
assert json.loads(s.makefile().readline())["ok"]
PYEOF
expect_rc 0 ctl status
echo "PASS: $TEST_NAME"
