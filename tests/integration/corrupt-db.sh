#!/bin/sh
# A damaged, foreign or unwritable database stops crierd at start with the
# path, the reason and how to recover, instead of running with nothing.
. "$(dirname "$0")/lib.sh"

write_config
start_daemon
i=0
while [ $i -lt 60 ]; do
	ctl post --channel outbox --text "post $i $(printf '%0200d' $i)" --in 1d >/dev/null || fail "post $i"
	i=$((i + 1))
done
stop_daemon
cp "$STATE/crier.db" "$T/good.db"
pages=$(( $(stat -c %s "$T/good.db") / 4096 ))
[ "$pages" -ge 6 ] || fail "database too small to damage ($pages pages)"

# Runs crierd expecting it to stop at start; its output in $OUT.
refused() {
	"$@" > "$T/start.log" 2>&1 &
	pid=$!
	wait_for "! kill -0 $pid" 15 || { kill -KILL "$pid"; fail "crierd kept running: $(cat "$T/start.log")"; }
	wait "$pid" && fail "crierd exited 0: $(cat "$T/start.log")"
	OUT=$(cat "$T/start.log")
	grep -q "ready" "$T/start.log" && fail "crierd said ready: $OUT"
	expect_out "$STATE/crier.db"
}

# Pages of the deliveries table overwritten.
dd if=/dev/urandom of="$STATE/crier.db" bs=4096 seek=$((pages / 2)) count=2 conv=notrunc 2>/dev/null
refused "$CRIERD" -c "$CONF"
echo "$OUT" | grep -qi "integrity check failed\|malformed\|not a database" || fail "no reason given: $OUT"
expect_out "WAL"
expect_out "backup"

# Not a database at all.
head -c 65536 /dev/urandom > "$STATE/crier.db"
refused "$CRIERD" -c "$CONF"
expect_out "not a database"

# Healthy again.
cp "$T/good.db" "$STATE/crier.db"
start_daemon
[ "$(ctl --json status | jget 'd["counts"]["scheduled"]')" = 60 ] || fail "the restored database lost posts"
stop_daemon

# Writable by nobody but root while crierd runs as another user: the reason, not just "unable to open".
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 0711 "$T"
	chmod -R go+rX "$STATE"
	refused setpriv --reuid 65534 --regid 65534 --clear-groups "$CRIERD" -c "$CONF"
	expect_out "Permission denied"
	expect_out "mode 0644"
fi
echo "PASS: $TEST_NAME"
