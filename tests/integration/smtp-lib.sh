# Helpers for the newsletter (smtp channel) tests; sourced after lib.sh.

# start_smtp NAME [smtp_peer options...]: starts the SMTP peer storing into
# $T/NAME.mail and waits for its port ($T/NAME.port).
start_smtp() {
	local name=$1
	shift
	/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null ||
		skip "python3-aiosmtpd is not installed"
	/usr/bin/python3 "$top_srcdir/tests/peers/smtp_peer.py" \
	    --port-file "$T/$name.port" --maildir "$T/$name.mail" \
	    --lifetime 300 "$@" >"$T/$name.peer.log" 2>&1 &
	echo $! > "$T/$name.pid"
	wait_for "[ -s '$T/$name.port' ]" 15 || fail "smtp peer $name did not start"
}

# The port of SMTP peer $1.
smtp_port() {
	cat "$T/$1.port"
}

# The number of messages SMTP peer $1 has stored.
smtp_count() {
	ls "$T/$1.mail" 2>/dev/null | grep -c '\.eml$'
}

# Writes N recipients r01@example.org... to $1 (CSV with a header line).
write_recipients() {
	local f=$1 n=$2 i
	echo "email,name" > "$f"
	for i in $(seq 1 "$n"); do
		printf 'r%02d@example.org,Reader %02d\n' "$i" "$i" >> "$f"
	done
}

# Writes a calendar $1 with one newsletter event due in $2 seconds, summary
# $3, for channels $4 (default: newsletter).
write_newsletter_cal() {
	"$PY" - "$1" "$2" "$3" "${4:-newsletter}" <<'PYEOF'
import sys, datetime
out, secs, summary, chans = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = (datetime.datetime.now(datetime.timezone.utc) +
     datetime.timedelta(seconds=secs)).strftime("%Y%m%dT%H%M%SZ")
open(out, "w", newline="").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:news@crier.test\r\nDTSTAMP:20270101T000000Z\r\n"
    f"DTSTART:{t}\r\nSUMMARY:{summary}\r\n"
    "DESCRIPTION:This week in open government: news from members.\r\n"
    "URL:https://www.opengovpartnership.org/newsletter/\r\n"
    f"X-CRIER-CHANNELS:{chans}\r\nX-CRIER-TEMPLATE:newsletter\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n")
PYEOF
}

# The id of the only delivery of channel newsletter.
newsletter_id() {
	ctl --json list --channel newsletter | jget 'd["deliveries"][0]["id"]'
}

PROBE="$top_srcdir/tests/integration/stall_probe.py"

# start_stall NAME [smtp_stall options...]: starts the stalling SMTP peer
# storing into $T/NAME.mail; its ports are in $T/NAME.port and $T/NAME.cport.
start_stall() {
	local name=$1
	shift
	/usr/bin/python3 "$top_srcdir/tests/peers/smtp_stall.py" \
	    --port-file "$T/$name.port" --control-port-file "$T/$name.cport" \
	    --maildir "$T/$name.mail" --lifetime 600 "$@" >"$T/$name.peer.log" 2>&1 &
	echo $! > "$T/$name.pid"
	wait_for "[ -s '$T/$name.port' ]" 15 || fail "stall peer $name did not start"
}

# stall_ctl NAME WORDS...: a control command to stall peer NAME (JSON reply).
stall_ctl() {
	local name=$1
	shift
	/usr/bin/python3 "$PROBE" ctl "$(cat "$T/$name.cport")" "$@"
}

# wait_stall NAME STAGE [SECONDS]: waits until peer NAME stalls at STAGE.
wait_stall() {
	/usr/bin/python3 "$PROBE" wait-stall "$(cat "$T/$1.cport")" "$2" "${3:-20}" >"$T/stall.status" ||
		fail "peer $1 did not stall at $2: $(cat "$T/stall.status")"
}

# start_notify: a NOTIFY_SOCKET stand-in at $T/notify.sock logging to $T/notify.log.
start_notify() {
	/usr/bin/python3 "$PROBE" notify "$T/notify.sock" "$T/notify.log" 600 &
	echo $! > "$T/notify.pid"
	wait_for "[ -S '$T/notify.sock' ]" 5 || fail "notify socket"
}
