#!/bin/sh
# A real Postfix as the submission server (STARTTLS, verified certificate),
# with an end-of-DATA policy service that takes 4 s per message, the way a
# content filter does: while Postfix holds the reply to the final ".",
# `status` answers within 50 ms, a webhook post due meanwhile goes out on
# time and the watchdog keeps being pinged; the list goes out over one
# connection (one TLS session, Postfix's own log says so) and each person
# gets one copy (Postfix relays them to a local peer). Needs Debian's
# postfix package and root (Postfix's master runs as root); skipped without.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

DELAY=7	# long enough for the measurements on a loaded machine
[ -x /usr/sbin/postfix ] && [ -x /usr/lib/postfix/sbin/master ] ||
	skip "Postfix is not installed (Debian package postfix)"
[ "$(id -u)" = 0 ] || skip "running Postfix needs root"
id postfix >/dev/null 2>&1 || skip "no postfix user"

sh "$top_srcdir/tests/peers/mkcerts.sh" "$T/certs" >/dev/null 2>&1 || fail "mkcerts"
start_smtp relay
# Postfix's daemons run as user postfix: they must reach their queue.
chmod 711 "$T"
PF="$T/postfix"
mkdir -p "$PF/etc" "$PF/queue" "$PF/data"
chown postfix "$PF/data"
ports=$("$PY" -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
SMTPD=${ports% *}
POLICY=${ports#* }

# The policy service: holds each end-of-message check for $DELAY seconds.
"$PY" - "$POLICY" "$DELAY" "$T/policy.log" <<'PYEOF' &
import socketserver, sys, threading, time
port, delay, log = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
class H(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            attrs = {}
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                line = line.decode().strip()
                if not line:
                    break
                k, _, v = line.partition("=")
                attrs[k] = v
            if attrs.get("protocol_state") == "END-OF-MESSAGE":
                with open(log, "a") as f:
                    f.write("%.3f hold %s\n" % (time.time(), attrs.get("recipient")))
                time.sleep(delay)
            self.wfile.write(b"action=DUNNO\n\n")
socketserver.ThreadingTCPServer.allow_reuse_address = True
srv = socketserver.ThreadingTCPServer(("127.0.0.1", port), H)
srv.daemon_threads = True
threading.Timer(300, srv.shutdown).start()
srv.serve_forever()
PYEOF
echo $! > "$T/policy.pid"

cat > "$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/queue
data_directory = $PF/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.crier.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:$POLICY
relayhost = [127.0.0.1]:$(smtp_port relay)
smtp_tls_security_level = none
smtpd_tls_security_level = may
smtpd_tls_chain_files = $T/certs/server.key, $T/certs/server-chain.pem
maillog_file = $PF/maillog
maillog_file_prefixes = $T
alias_maps =
alias_database =
local_recipient_maps =
EOF
cat > "$PF/etc/master.cf" <<EOF
127.0.0.1:$SMTPD inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
postfix -c "$PF/etc" start >"$T/postfix.out" 2>&1 ||
	skip "Postfix does not start here: $(tail -3 "$PF/maillog" 2>/dev/null) $(cat "$T/postfix.out")"
wait_for "[ -s '$PF/queue/pid/master.pid' ]" 10 || skip "Postfix did not start: $(tail -3 "$PF/maillog")"
tr -d ' ' < "$PF/queue/pid/master.pid" > "$T/postfix.pid"
stop_postfix() {
	postfix -c "$PF/etc" stop >/dev/null 2>&1
}
wait_for "\"$PY\" -c 'import socket; socket.create_connection((\"127.0.0.1\", $SMTPD), 1)'" 10 ||
	{ stop_postfix; skip "Postfix does not listen on 127.0.0.1:$SMTPD"; }

start_mock hook
RC="$T/recipients.csv"
write_recipients "$RC" 3
write_config "ca_file = $T/certs/ca.pem" \
	"[channel newsletter]" "type = smtp" "url = smtp://localhost:$SMTPD" \
	"from = news@example.org" "recipients_file = $RC" \
	"[channel hook]" "type = webhook" "url = $(mock_url hook)/hook"
start_notify
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=200000 start_daemon

ID=$(post_id --channel newsletter --text "Through Postfix")
wait_for "[ -s '$T/policy.log' ]" 20 || { stop_postfix; fail "Postfix never asked the policy service"; }
t0=$("$PY" -c 'import time; print(time.time())')
H=$(post_id --channel hook --text "due while Postfix holds the end of DATA" --in 1s)
lat=$(/usr/bin/python3 "$PROBE" latency "$SOCK" 12 0.1) || fail "latency probe"
max=$(echo "$lat" | jget 'd["max_ms"]')
wait_for "[ \$(mock_count hook) -ge 1 ]" 10 || fail "webhook not sent"
mock_requests hook > "$T/hook.json"
late=$(ctl --json show "$H" | "$PY" -c '
import datetime, json, sys
d = json.load(sys.stdin)["delivery"]
due = datetime.datetime.fromisoformat(d["due"].replace("Z", "+00:00")).timestamp()
print(round((json.load(open(sys.argv[1]))[-1]["time"] - due) * 1000))' "$T/hook.json")
t1=$("$PY" -c 'import time; print(time.time())')
gap=$(/usr/bin/python3 "$PROBE" watchdog "$T/notify.log" "$t0" "$t1")
holds=$(wc -l < "$T/policy.log")
[ "$holds" = 1 ] || fail "the measurements outlasted the first hold ($holds holds)"
echo "during Postfix's end-of-DATA hold: status max $max ms, webhook $late ms late, watchdog gap $gap ms"
"$PY" -c "import sys; sys.exit(0 if $max < 50 else 1)" || { stop_postfix; fail "status took $max ms: $lat"; }
[ "$late" -lt 1000 ] || { stop_postfix; fail "the webhook post was $late ms late"; }
[ "$gap" -lt 1000 ] || { stop_postfix; fail "no watchdog ping for $gap ms"; }

wait_state "$ID" sent 60
wait_for "[ \$(smtp_count relay) -ge 3 ]" 30 || { stop_postfix; fail "Postfix relayed $(smtp_count relay) messages"; }
stop_daemon
# One session for the whole list, over TLS: Postfix's own account of it.
grep "disconnect from localhost.* mail=" "$PF/maillog" > "$T/sessions" || true
stop_postfix
"$PY" - "$T/relay.mail/index.json" <<'PYEOF' || fail "relayed copies"
import collections, json, sys
got = collections.Counter(m["rcpt_tos"][0] for m in json.load(open(sys.argv[1])))
assert got == {"r01@example.org": 1, "r02@example.org": 1, "r03@example.org": 1}, got
PYEOF
[ "$(wc -l < "$T/sessions")" = 1 ] || fail "sessions: $(cat "$T/sessions")"
grep -q "starttls=1 mail=3 rcpt=3 data=3 quit=1" "$T/sessions" || fail "session: $(cat "$T/sessions")"
echo "Postfix: $(sed 's/.*disconnect from //' "$T/sessions")"
echo "PASS: $TEST_NAME"
