#!/bin/sh
# Bad input gets a clear error and the daemon stays up; exit codes as SPEC §7.
. "$(dirname "$0")/lib.sh"

# A bad config stops crierd before it touches any state.
write_config "horizon = tomorrow"
expect_rc 1 "$CRIERD" -c "$CONF"
expect_out "crier.conf:6:"
expect_out "horizon"
[ -e "$STATE" ] && fail "state_dir created despite a bad config"
expect_rc 1 "$CRIERD" -c "$T/nonexistent.conf"
expect_out "nonexistent.conf"

write_config
start_daemon

expect_rc 1 ctl post --channel nowhere --text "hello"
expect_out "no channel named 'nowhere'"
expect_rc 1 ctl post --channel outbox --text "hello" --in soon
expect_out "--in"
expect_rc 1 ctl post --channel outbox
expect_out "--text"
expect_rc 1 ctl show 000000000000
expect_out "no delivery"
expect_rc 1 ctl list --state bogus
expect_out "unknown state"
expect_rc 2 ctl frobnicate
expect_rc 2 ctl show
expect_rc 2 ctl list --colour red
expect_rc 2 ctl post --channel
# Unique prefixes of verbs work; ambiguous ones do not.
expect_rc 0 ctl statu
expect_rc 2 ctl sta
expect_out "status, stats"
expect_rc 2 ctl re
expect_rc 3 "$CRIERCTL" -s "$T/nobody-here.sock" status

# Raw protocol: oversized, malformed, wrong version; the daemon answers each
# with an error and keeps serving.
"$PY" - "$SOCK" > "$T/raw.out" <<'PYEOF' || fail "raw protocol checks: $(cat "$T/raw.out")"
import json, socket, sys

def ask(payload):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    try:
        s.sendall(payload)
    except BrokenPipeError:
        pass
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)

big = b'{"v":1,"cmd":"status","pad":"' + b"x" * (100 * 1024) + b'"}\n'
r = ask(big)
assert r["ok"] is False and r["code"] == "too_large", r
r = ask(b'{"v":1,"cmd":\n')
assert r["ok"] is False and r["code"] == "bad_request", r
r = ask(b'[1,2,3]\n')
assert r["ok"] is False and r["code"] == "bad_request", r
r = ask(b'{"v":99,"cmd":"status"}\n')
assert r["ok"] is False and r["code"] == "version" and "99" in r["error"] and "1" in r["error"], r
r = ask(b'{"v":1,"cmd":"explode"}\n')
assert r["ok"] is False and r["code"] == "unknown_verb", r
r = ask(b'{"v":1,"cmd":"status"}\n')
assert r["ok"] is True and r["v"] == 1, r
# Two requests on one connection get two replies in order.
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"v":1,"cmd":"status"}\n{"v":1,"cmd":"list"}\n')
buf = b""
while buf.count(b"\n") < 2:
    buf += s.recv(65536)
a, b = [json.loads(l) for l in buf.split(b"\n")[:2]]
assert "counts" in a and "deliveries" in b, (a, b)
print("raw ok")
PYEOF
expect_rc 0 ctl status
expect_out "deliveries"
kill -0 "$CRIERD_PID" || fail "crierd died"
grep -q "request over 65536 bytes refused" "$LOG" || fail "oversized request not logged"
echo "PASS: $TEST_NAME"
