#!/bin/sh
# A tampered state dir: another user's, group-writable, or holding planted
# symbolic links (crier.db -> a file, outbox/outbox -> a directory) is
# refused at start, naming path, owner and mode; nothing is written through
# the links. A link planted later for an outbox temporary file is not
# followed either.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to give files to another user"
write_config
echo "precious" > "$T/victim"
mkdir "$T/elsewhere"

# Runs crierd expecting a refusal that mentions "$@".
refused() {
	: > "$T/start.log"
	"$CRIERD" -c "$CONF" -f > "$T/start.log" 2>&1 &
	pid=$!
	wait_for "! kill -0 $pid" 10 || { kill -KILL "$pid"; fail "crierd started anyway"; }
	wait "$pid" && fail "crierd exited 0"
	for w in "$@"; do
		grep -qF -- "$w" "$T/start.log" || fail "the refusal does not say '$w': $(cat "$T/start.log")"
	done
	ctl status >/dev/null 2>&1 && fail "something answers on the socket"
	return 0
}

# Another (non-root) user's state dir.
mkdir -m 0750 "$STATE"
chown 65534:65534 "$STATE"
refused "$STATE" "uid 65534" "0750"
[ -e "$STATE/crier.db" ] && fail "crier.db was created in a foreign state dir"
chown 0:0 "$STATE"

# Group-writable.
chmod 0770 "$STATE"
refused "$STATE" "0770" "writable"
chmod 0750 "$STATE"

# A planted link for the database.
ln -s "$T/victim" "$STATE/crier.db"
refused "$STATE/crier.db" "symbolic link" "$T/victim"
[ "$(cat "$T/victim")" = precious ] || fail "written through the crier.db link"
rm "$STATE/crier.db"

# A planted link for the outbox directory.
mkdir -p "$STATE/outbox"
ln -s "$T/elsewhere" "$STATE/outbox/outbox"
refused "$STATE/outbox/outbox" "symbolic link"
rm "$STATE/outbox/outbox"

# A file in it owned by another user.
start_daemon
stop_daemon
chown 65534 "$STATE/crier.db"
refused "$STATE/crier.db" "uid 65534"
chown 0 "$STATE/crier.db"

# A world-writable file in it.
chmod 0666 "$STATE/crier.db"
refused "$STATE/crier.db" "0666"
chmod 0640 "$STATE/crier.db"

# Healthy again: it starts; a link planted for the next temporary file is not followed.
start_daemon
expect_rc 0 ctl --json post --channel outbox --text "through no link" --in 3s
id=$(echo "$OUT" | jget 'd["ids"][0]')
due=$(ctl --json show "$id" | jget 'd["delivery"]["due"]')
stamp=$(echo "$due" | sed 's/\.[0-9]*Z$/Z/' | tr -d ':-')
box="$STATE/outbox/outbox"
ln -s "$T/victim" "$box/.$stamp-$id.txt.tmp"
ln -s "$T/victim" "$box/.$stamp-$id.json.tmp"
wait_for "[ \"\$(state_of $id)\" = sent ]" 30 || fail "not sent: $(state_of "$id")"
[ "$(cat "$T/victim")" = precious ] || fail "written through a planted temporary link"
[ "$(cat "$box/$stamp-$id.txt")" = "through no link" ] || fail "the outbox file: $(ls -la "$box")"
[ -z "$(ls -A "$T/elsewhere")" ] || fail "written into the linked directory"
stop_daemon
echo "PASS: $TEST_NAME"
