#!/bin/sh
# What the running configuration does not use is not set up. Outside systemd
# (no NOTIFY_SOCKET, LISTEN_FDS or WATCHDOG_USEC) libsystemd is not even
# mapped (systemd.sh shows it loaded and speaking when they are set). And
# libcurl and OpenSSL are set up by the first network transfer, not at start:
# crierd loads a calendar, sends to an outbox and takes a post without
# reading OpenSSL's configuration (OPENSSL_CONF is a FIFO here: opening it
# blocks until a writer comes, so a reader on it shows OpenSSL starting),
# and a webhook due in an hour does not set them up either; one due within
# 30 s does, ahead of its instant; the first webhook then goes out over
# verified TLS, signed.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

command -v openssl >/dev/null 2>&1 || skip "no openssl command"
command -v mkfifo >/dev/null 2>&1 || skip "no mkfifo"
sh "$top_srcdir/tests/peers/mkcerts.sh" "$T/certs" >/dev/null 2>&1 || fail "mkcerts"
printf 'hook-secret-0123\n' > "$T/secret"
chmod 600 "$T/secret"
start_mock m --tls "$T/certs/server-chain.pem" "$T/certs/server.key" \
    --hmac-secret-file "$T/secret"
P=$(mock_port m)
mkfifo "$T/openssl.cnf" || fail "mkfifo"

# Whether a process has the FIFO open for reading (OpenSSL loading it).
fifo_reader() {
	"$PY" - "$T/openssl.cnf" <<'PYEOF'
import errno, os, sys
try:
    os.close(os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK))
except OSError as e:
    sys.exit(1 if e.errno == errno.ENXIO else 2)
PYEOF
}

CAL="$T/camp.ics"
write_ics "$CAL" <<EOF
BEGIN:VEVENT
UID:soon@lazy.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 2)
SUMMARY:Soon
DESCRIPTION:An outbox post from the calendar
END:VEVENT
BEGIN:VEVENT
UID:later@lazy.test
DTSTAMP:20270101T000000Z
DTSTART:$(ics_at 86400)
SUMMARY:Later
DESCRIPTION:Tomorrow
RRULE:FREQ=DAILY;COUNT=3
END:VEVENT
EOF
write_config "ca_file = $T/certs/ca.pem" \
	"[channel outbox]" "type = outbox" \
	"[channel hook]" "type = webhook" "url = https://127.0.0.1:$P/hook" \
	"format = json" "secret_file = $T/secret" \
	"[calendar camp]" "path = $CAL" "channels = outbox"
# Only crierd reads the FIFO (the mock and the test's own https use OpenSSL).
printf '#!/bin/sh\nOPENSSL_CONF="%s" exec "%s" "$@"\n' "$T/openssl.cnf" "$CRIERD" > "$T/crierd"
chmod +x "$T/crierd"
CRIERD="$T/crierd"
unset NOTIFY_SOCKET LISTEN_FDS LISTEN_PID WATCHDOG_USEC WATCHDOG_PID
start_daemon
wait_for "[ \"\$(ctl --json status | jget 'd[\"calendars\"][0][\"loaded_at\"]')\" != null ]" 20 ||
	fail "calendar not loaded (a thread blocked on OpenSSL's configuration?)"

# Delivery ids are the first 12 hex digits of SHA-256 over the NUL-separated
# calendar, uid, recurrence id and channel, as before nettle computed them.
soon=$(delivery_of soon@lazy.test outbox)
want=$("$PY" -c 'import hashlib; print(hashlib.sha256(b"camp\0soon@lazy.test\0\0outbox\0").hexdigest()[:12])')
[ "$soon" = "$want" ] || fail "delivery id $soon, SHA-256 gives $want"
[ "$(ctl --json list --limit 100 | jget 'len(d["deliveries"])')" = 4 ] ||
	fail "deliveries: $(ctl --json list --limit 100)"
wait_for "[ \"\$(state_of $soon)\" = sent ]" 20 || fail "calendar post not sent: $(state_of "$soon")"
OUT=$(timeout 20 "$CRIERCTL" -s "$SOCK" --json post --channel outbox --text "no TLS needed") ||
	fail "post to the outbox: $OUT"
o=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "[ \"\$(state_of $o)\" = sent ]" 20 || fail "outbox post not sent: $(state_of "$o")"
# A webhook due in an hour is not set up for yet (the demo's newsletter
# waits days): crierd sets libcurl up 30 s before a network delivery is due.
later=$(post_id --channel hook --text "in an hour" --in 1h)
[ "$(state_of "$later")" = scheduled ] || fail "post in an hour: $(state_of "$later")"
sleep 1
fifo_reader && fail "OpenSSL read its configuration before any network transfer"
grep -q 'libsystemd\.so' "/proc/$CRIERD_PID/maps" && fail "libsystemd mapped outside systemd"
grep -q "http: libcurl .* set up" "$LOG" && fail "libcurl set up before any network transfer"

# The first webhook: its request (on the loop) makes OpenSSL open its
# configuration; serve it until the test ends, counting the reads.
"$PY" - "$T/openssl.cnf" "$T/served" <<'PYEOF' &
import errno, os, sys, time
n = 0
end = time.time() + 120
while time.time() < end:
    try:
        fd = os.open(sys.argv[1], os.O_WRONLY | os.O_NONBLOCK)
    except OSError as e:
        if e.errno != errno.ENXIO:
            raise
        time.sleep(0.02)
        continue
    os.write(fd, b"# crier test: OpenSSL's defaults\n")
    os.close(fd)
    n += 1
    open(sys.argv[2], "w").write("%d\n" % n)
    time.sleep(0.2)	# the reader sees EOF before the FIFO is opened again
PYEOF
echo $! > "$T/fifo.pid"
# One due in 20 s: libcurl and OpenSSL are set up now, ahead of its instant.
soon=$(post_id --channel hook --text "in 20 seconds" --in 20s)
wait_for "grep -q 'http: libcurl .* set up' '$LOG'" 10 ||
	fail "libcurl not set up ahead of a webhook due in 20 s"
[ -s "$T/served" ] || fail "OpenSSL did not read its configuration ahead"
[ "$(state_of "$soon")" = scheduled ] || fail "due in 20 s: $(state_of "$soon")"
ctl cancel "$soon" >/dev/null || fail "cancel $soon"
OUT=$(timeout 30 "$CRIERCTL" -s "$SOCK" --json post --channel hook --text "first over TLS") ||
	fail "post to the webhook: $OUT"
h=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "[ \"\$(state_of $h)\" = sent ]" 30 ||
	fail "webhook not sent: $(state_of "$h"): $(field "$h" 'dl["last_error"]')"
[ -s "$T/served" ] || fail "OpenSSL never read its configuration"
[ "$(mock_requests m | jget '[(r["path"], r["tls"], r["verified"]) for r in d]')" = '[["/hook", true, true]]' ] ||
	fail "requests: $(mock_requests m)"
[ "$(grep -c "http: libcurl .* set up for the first transfer" "$LOG")" = 1 ] ||
	fail "libcurl set-up not logged once"
# A second one reuses what is set up.
h2=$(post_id --channel hook --text "second")
wait_state "$h2" sent
[ "$(grep -c "http: libcurl .* set up" "$LOG")" = 1 ] || fail "libcurl set up twice"
stop_daemon
exit 0
