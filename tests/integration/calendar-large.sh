#!/bin/sh
# Parsing runs off the loop thread: status keeps answering while a large
# calendar (40,000 events) is re-read.
. "$(dirname "$0")/lib.sh"

CAL="$T/big.ics"
"$PY" - "$CAL" <<'PYEOF'
import sys
with open(sys.argv[1], "w", newline="") as f:
    f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n")
    for i in range(40000):
        # Years of past posts (outside the window) and one still to come.
        f.write("BEGIN:VEVENT\r\nUID:e%d@big.test\r\nDTSTAMP:20200101T000000Z\r\n"
                "DTSTART:2020%02d%02dT%02d%02d00Z\r\nSUMMARY:Archive post %d\r\n"
                "DESCRIPTION:An old post kept in the campaign calendar\\, number %d.\r\n"
                "END:VEVENT\r\n" % (i, 1 + i % 12, 1 + i % 28, i % 24, i % 60, i, i))
    f.write("BEGIN:VEVENT\r\nUID:next@big.test\r\nDTSTAMP:20200101T000000Z\r\n"
            "DTSTART:20990101T090000Z\r\nSUMMARY:Next\r\nDESCRIPTION:x\r\nEND:VEVENT\r\n")
    f.write("END:VCALENDAR\r\n")
PYEOF
write_config "horizon = 36500d" "[channel outbox]" "type = outbox" "[calendar big]" "path = $CAL" "channels = outbox"
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"]')\" != null ]" 120 ||
    fail "big calendar not loaded: $(ctl --json status | jget 'd["calendars"]')"
[ "$(ctl --json status | jget 'd["calendars"][0]["events"]')" = 40001 ] || fail "events"

# Re-read it, and ask for status all the while.
"$PY" - "$SOCK" "$CRIERD_PID" <<'PYEOF' || fail "status did not keep answering during the reload"
import json, os, signal, socket, sys, time
sock, pid = sys.argv[1], int(sys.argv[2])
def status():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock)
    s.sendall(b'{"v":1,"cmd":"status"}\n')
    r = json.loads(s.makefile().readline())
    s.close()
    return r["calendars"][0]
os.kill(pid, signal.SIGHUP)
seen_loading = answers = 0
slowest = 0.0
end = time.time() + 120
while time.time() < end:
    t = time.time()
    c = status()
    slowest = max(slowest, time.time() - t)
    answers += 1
    if c["loading"]:
        seen_loading += 1
    elif seen_loading:
        break
    time.sleep(0.01)
print("answers %d, %d while loading, slowest %.3f s" % (answers, seen_loading, slowest))
# Answers came while the calendar was being parsed, none of them slow.
assert seen_loading >= 2, "never saw the load in progress"
assert slowest < 1.0, slowest
PYEOF
echo "PASS: $TEST_NAME"
