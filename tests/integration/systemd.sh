#!/bin/sh
# crierd under systemd's protocols: sd_notify (READY, RELOADING, STOPPING,
# STATUS, WATCHDOG), socket activation (LISTEN_FDS), journald priorities.
. "$(dirname "$0")/lib.sh"

"$CRIERD" --version | grep -q "crierd" || fail "crierd --version"
write_config

# A datagram socket standing in for systemd's NOTIFY_SOCKET.
"$PY" - "$T/notify.sock" "$T/notify.log" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "a", buffering=1) as log:
    end = time.time() + 60
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        for line in msg.split("\n"):
            if line:
                log.write(line + "\n")
PYEOF
echo $! > "$T/notify.pid"
wait_for "[ -S '$T/notify.sock' ]" 5 || fail "notify socket"
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 start_daemon
wait_for "grep -q '^READY=1' '$T/notify.log'" 10 || fail "no READY=1"
wait_for "[ \$(grep -c '^WATCHDOG=1' '$T/notify.log') -ge 3 ]" 10 || fail "no watchdog pings"
grep -q '^STATUS=.*scheduled' "$T/notify.log" || fail "no STATUS line"
kill -HUP "$CRIERD_PID"
wait_for "grep -q '^RELOADING=1' '$T/notify.log'" 10 || fail "no RELOADING=1"
wait_for "[ \$(grep -c '^READY=1' '$T/notify.log') -ge 2 ]" 10 || fail "no READY=1 after reload"
stop_daemon
grep -q '^STOPPING=1' "$T/notify.log" || fail "no STOPPING=1"

# Socket activation: the listening socket is passed as fd 3.
rm -f "$SOCK"
"$PY" - "$T/act.sock" "$CRIERD" "$CONF" "$LOG" <<'PYEOF' &
import os, socket, sys
path, crierd, conf, log = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
pid = os.fork()
if pid == 0:
    os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 2)
    os.execve(crierd, [crierd, "-c", conf], env)
print(pid, flush=True)
os.waitpid(pid, 0)
PYEOF
wrapper=$!
echo "$wrapper" > "$T/wrapper.pid"
wait_for "\"$CRIERCTL\" -s '$T/act.sock' status" 10 || fail "socket activation: no answer on the passed socket"
[ -e "$SOCK" ] && fail "crierd bound its own socket despite LISTEN_FDS"
CRIERD_PID=$(pgrep -P "$wrapper" | head -n1)
"$CRIERCTL" -s "$T/act.sock" post --channel outbox --text "activated" --in 1d >/dev/null || fail "post over the passed socket"
kill -TERM "$CRIERD_PID"
wait "$wrapper"
CRIERD_PID=
[ -S "$T/act.sock" ] || fail "crierd removed the socket systemd owns"

# journald: "<N>" priority prefixes when stderr is the journal stream.
: > "$T/journal.log"
"$PY" - "$CRIERD" "$CONF" "$T/journal.log" <<'PYEOF' &
import os, sys
crierd, conf, log = sys.argv[1:4]
fd = os.open(log, os.O_WRONLY | os.O_APPEND)
st = os.fstat(fd)
os.dup2(fd, 2)
env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
env.pop("NOTIFY_SOCKET", None)
os.execve(crierd, [crierd, "-c", conf], env)
PYEOF
CRIERD_PID=$!
wait_for "ctl status" 10 || fail "crierd under JOURNAL_STREAM did not start"
stop_daemon
grep -q '^<6>crierd .* ready' "$T/journal.log" || fail "no <6> info line: $(head -3 "$T/journal.log")"
grep -v '^<[0-7]>' "$T/journal.log" | grep -q . && fail "a line without priority: $(grep -v '^<[0-7]>' "$T/journal.log" | head -2)"
echo "PASS: $TEST_NAME"
