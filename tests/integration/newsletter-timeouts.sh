#!/bin/sh
# The SMTP stage timeouts (RFC 5321 4.5.3.2) are configurable and kept
# whatever the stage: a server that does not answer MAIL within mail_timeout
# ends the attempt (the delivery retries, nobody is lost); one that does not
# answer the end of DATA within data_end_timeout leaves that recipient
# `uncertain` and the list goes on over a new connection; the greeting and
# the connect have theirs. A bad value is refused naming file, line and key.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

start_stall s
RC="$T/recipients.csv"
write_recipients "$RC" 3
chan="[channel newsletter]
type = smtp
url = smtp://127.0.0.1:$(smtp_port s)
starttls = no
from = news@example.org
recipients_file = $RC"

# A bad duration names the key.
write_config "$chan" "data_end_timeout = soon"
expect_rc 1 "$CRIERD" -c "$CONF" --check
expect_out "crier.conf:12: data_end_timeout: 'soon' is not a duration"

write_config "$chan" "connect_timeout = 1s" "greeting_timeout = 1s" \
	"mail_timeout = 1s" "rcpt_timeout = 1s" "data_init_timeout = 1s" \
	"data_block_timeout = 1s" "data_end_timeout = 2s" "quit_timeout = 1s"
export CRIER_TEST_BACKOFF_MS=60000
start_daemon

# elapsed_since T0: ms since T0 (date +%s%N).
elapsed_since() {
	echo $(( ($(date +%s%N) - $1) / 1000000 ))
}

# MAIL, RCPT, DATA and the greeting: the attempt ends after the timeout,
# everyone still pending, the delivery retrying with the stage named.
for case in "mail:MAIL" "rcpt:RCPT" "data:DATA" "greeting:greeting" "ehlo:EHLO"; do
	stage=${case%%:*}
	name=${case#*:}
	stall_ctl s stall "$stage" 30 >/dev/null
	ID=$(post_id --channel newsletter --text "Timeout at $stage")
	wait_stall s "$stage"
	t0=$(date +%s%N)
	wait_state "$ID" retrying 15
	ms=$(elapsed_since "$t0")
	err=$(field "$ID" 'dl["last_error"]')
	echo "$stage: retrying after $ms ms: $err"
	case $err in
	*"SMTP timeout: nothing from the server for 1 s at $name"*) ;;
	*) fail "$stage: last_error $err" ;;
	esac
	[ "$ms" -lt 3000 ] || fail "$stage: the 1 s timeout took $ms ms"
	states=$(field "$ID" '" ".join(r["state"] for r in dl["recipients"])')
	[ "$states" = "pending pending pending" ] || fail "$stage: recipients $states"
	stall_ctl s release >/dev/null
	expect_rc 0 ctl send-now "$ID"
	wait_state "$ID" sent 20
done

# End of DATA: the message may have arrived, so that recipient is
# uncertain, and the others are sent over a new connection.
stall_ctl s stall end 30 >/dev/null
ID=$(post_id --channel newsletter --text "Timeout at end")
wait_stall s end
t0=$(date +%s%N)
wait_state "$ID" sent 20
ms=$(elapsed_since "$t0")
field "$ID" 'dl["recipients"]' > "$T/r.json"
"$PY" - "$T/r.json" <<'PYEOF' || fail "end: $(cat "$T/r.json")"
import json, sys
r = {x["email"]: x for x in json.load(open(sys.argv[1]))}
assert r["r01@example.org"]["state"] == "uncertain", r
assert "SMTP timeout: nothing from the server for 2 s at end of DATA" in r["r01@example.org"]["error"], r
assert r["r02@example.org"]["state"] == "sent" and r["r03@example.org"]["state"] == "sent", r
PYEOF
[ "$ms" -lt 5000 ] || fail "end: the 2 s timeout took $ms ms"
echo "end of DATA: r01 uncertain, the others sent, $ms ms after the stall began"

# Connect: a listen queue that never answers.
stall_ctl s stall connect 30 >/dev/null
wait_stall s connect	# the listen queue is full before crierd connects
ID=$(post_id --channel newsletter --text "Timeout at connect")
wait_state "$ID" retrying 15
err=$(field "$ID" 'dl["last_error"]')
case $err in
*"SMTP timeout: nothing from the server for 1 s at connect"*) ;;
*) fail "connect: last_error $err" ;;
esac
stall_ctl s release >/dev/null
echo "connect: $err"
# The peer's listen queue drains before the next attempt's 1 s connect.
wait_for "\"$PY\" -c 'import smtplib; smtplib.SMTP(\"127.0.0.1\", $(smtp_port s), timeout=1).quit()'" 10 ||
	fail "the peer does not accept again"

# QUIT: the delivery is booked before QUIT, and a stalled QUIT is cut after
# quit_timeout: the server's end of the connection sees crierd close it.
# close_wait: connections of the peer's port in CLOSE_WAIT (/proc/net/tcp).
close_wait() {
	"$PY" - "$(smtp_port s)" <<'PYEOF'
import sys
port = "%04X" % int(sys.argv[1])
n = 0
for line in open("/proc/net/tcp").readlines()[1:]:
    f = line.split()
    if f[1].endswith(":" + port) and f[3] == "08":
        n += 1
print(n)
PYEOF
}
stall_ctl s stall quit 30 >/dev/null
before=$(close_wait)
expect_rc 0 ctl send-now "$ID"
wait_state "$ID" sent 20
wait_stall s quit
t0=$(date +%s%N)
wait_for "[ \$(close_wait) -gt $before ]" 10 || fail "quit: the connection was not closed"
ms=$(elapsed_since "$t0")
echo "QUIT: connection closed $ms ms into the stall"
[ "$ms" -lt 3000 ] || fail "quit: the 1 s timeout took $ms ms"
stall_ctl s release >/dev/null
stop_daemon
echo "PASS: $TEST_NAME"
