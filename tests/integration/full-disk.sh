#!/bin/sh
# A full disk under the state dir: crierd idles (CPU and log rate bounded),
# status answers at once and names the OS reason, changing verbs say it too;
# once space returns the due post goes out by itself, exactly once.
. "$(dirname "$0")/lib.sh"

FS="$T/fs"
mkdir -p "$FS"
mount -t tmpfs -o size=3m,mode=0700 tmpfs "$FS" 2>"$T/mount.err" ||
	skip "cannot mount a tmpfs here: $(cat "$T/mount.err")"
# Unmount after crierd is gone, before lib.sh removes $T.
finish() {
	if [ -n "$CRIERD_PID" ]; then
		kill -KILL "$CRIERD_PID" 2>/dev/null
		wait "$CRIERD_PID" 2>/dev/null
		CRIERD_PID=
	fi
	umount "$FS" 2>/dev/null
	cleanup
}
trap finish EXIT
STATE="$FS/state"
CAL="$T/campaign.ics"
# Writes the calendar with events "$@" (uids), each a day ahead, by rename.
write_cal() {
	"$PY" - "$CAL.tmp" "$@" <<'PYEOF'
import sys, datetime
t = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime("%Y%m%dT%H%M00Z")
ev = "".join("BEGIN:VEVENT\r\nUID:%s@crier.test\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\n"
             "SUMMARY:%s\r\nDESCRIPTION:%s\r\nEND:VEVENT\r\n" % (u, t, u, u) for u in sys.argv[2:])
open(sys.argv[1], "w", newline="").write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n" + ev + "END:VCALENDAR\r\n")
PYEOF
	mv "$CAL.tmp" "$CAL"
}
write_cal first
write_config "[calendar c]" "path = $CAL" "channels = outbox"
start_daemon
cal_count() { ctl --json list | jget 'len([x for x in d["deliveries"] if x["calendar"] == "c"])'; }
wait_for "[ \"\$(cal_count)\" = 1 ]" 15 || fail "the calendar was not scheduled"

expect_rc 0 ctl --json post --channel outbox --text "Sent once, whatever the disk" --in 3s
id=$(echo "$OUT" | jget 'd["ids"][0]')
# Fill the file system to the last page.
dd if=/dev/zero of="$FS/fill" bs=4k >/dev/null 2>&1
[ "$(df -k "$FS" | awk 'NR==2 {print $4}')" = 0 ] || fail "the tmpfs is not full: $(df -k "$FS")"

# The post falls due; the store cannot write.
wait_for "ctl --json status | jget 'd[\"storage\"]' | grep -q 'No space left on device'" 20 ||
	fail "status does not show the storage problem: $(ctl --json status)"
[ "$(state_of "$id")" = scheduled ] || fail "the delivery moved: $(state_of "$id")"
# A calendar edit cannot be scheduled now: it says why, and is not lost.
write_cal first second
wait_for "ctl --json status | jget 'd[\"calendars\"][0][\"error\"]' | grep -q 'No space left on device'" 20 ||
	fail "the calendar does not show the storage problem: $(ctl --json status | jget 'd["calendars"]')"

# Idle, not spinning: CPU time and log lines over 6 s.
sleep 1
ticks() { awk '{print $14 + $15}' "/proc/$CRIERD_PID/stat"; }
hz=$(getconf CLK_TCK)
c0=$(ticks)
l0=$(wc -l < "$LOG")
sleep 6
c1=$(ticks)
l1=$(wc -l < "$LOG")
cpu_ms=$(( (c1 - c0) * 1000 / hz ))
lines=$((l1 - l0))
echo "while full: ${cpu_ms} ms CPU in 6 s, $lines log lines"
[ "$cpu_ms" -le 600 ] || fail "crierd used ${cpu_ms} ms of CPU in 6 s with a full disk"
[ "$lines" -le 3 ] || fail "$lines log lines in 6 s with a full disk: $(tail -5 "$LOG")"
n=$(grep -c "No space left on device" "$LOG")
[ "$n" -ge 1 ] || fail "the log does not give the OS reason"
[ "$n" -le 4 ] || fail "the storage problem was logged $n times in a few seconds"

# status answers within a second, and says why.
t0=$(date +%s%N)
expect_rc 0 ctl status
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "status took $ms ms"
[ "$ms" -lt 1000 ] || fail "status took $ms ms"
expect_out "No space left on device"
# A changing verb answers with the reason, and nothing is half-done.
expect_rc 1 ctl post --channel outbox --text "refused while full" --in 1h
expect_out "No space left on device"
expect_rc 1 ctl cancel "$id"
expect_out "No space left on device"
[ "$(state_of "$id")" = scheduled ] || fail "the delivery moved: $(state_of "$id")"
ls "$STATE/outbox/outbox/"*.txt >/dev/null 2>&1 && fail "written to the outbox while full"
expect_rc 1 ctl pause outbox
expect_out "No space left on device"
[ "$(ctl --json status | jget 'd["channels"][0]["paused"]')" = False ] || fail "a pause that was not stored shows"

# A restart on the full disk: it starts, and says what is wrong.
kill9_daemon
start_daemon
wait_for "ctl --json status | jget 'd[\"storage\"]' | grep -q 'No space left on device'" 20 ||
	fail "after a restart, status does not show the storage problem"
[ "$(state_of "$id")" = scheduled ] || fail "the delivery moved: $(state_of "$id")"

# Space returns: the post goes out by itself, once.
rm -f "$FS/fill"
wait_for "[ \"\$(state_of $id)\" = sent ]" 90 || fail "not sent after space returned: $(state_of "$id")"
n=$(ls "$STATE/outbox/outbox/"*"$id".txt | wc -l)
[ "$n" = 1 ] || fail "$n outbox files for $id"
sent=$(ctl --json show "$id" | jget 'len([e for e in d["delivery"]["events"] if e["event"] == "sent"])')
[ "$sent" = 1 ] || fail "$sent sent events"
[ "$(ctl --json status | jget 'd["storage"]')" = null ] || fail "status still shows a storage problem"
[ "$(ctl --json list | jget 'len([x for x in d["deliveries"] if x["calendar"] is None])')" = 1 ] ||
	fail "the refused post was stored after all"
# The calendar edit is scheduled by itself too.
wait_for "[ \"\$(cal_count)\" = 2 ]" 40 || fail "the calendar edit was lost: $(ctl --json status | jget 'd["calendars"]')"
[ "$(ctl --json status | jget 'd["calendars"][0]["error"]')" = null ] || fail "the calendar still shows an error"
grep -q "writing works again" "$LOG" || fail "recovery not logged"
stop_daemon
echo "PASS: $TEST_NAME"
