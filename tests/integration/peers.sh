#!/bin/sh
# Who asks: a member of socket_group (as a supplementary group, with no
# passwd entry) may use changing verbs and the audit log shows their real
# uid; when crierd runs in a user namespace that cannot map its peers (what
# PrivateUsers= did), it says so at start, in status, and in the refusal.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to act as other users"
command -v setpriv >/dev/null 2>&1 || skip "setpriv (util-linux) is not installed"
grp=users
gid=$(getent group "$grp" | cut -d: -f3)
[ -n "$gid" ] || skip "no group '$grp' to stand in for crier"
getent passwd 4242 >/dev/null && skip "uid 4242 exists here"
chmod 0711 "$T"

# As uid 4242 with supplementary group $grp only.
member() {
	setpriv --reuid 4242 --regid 4242 --groups "$gid" "$CRIERCTL" -s "$SOCK" "$@"
}

write_config "socket_group = $grp"
sed -i 's/^socket_mode = 0600/socket_mode = 0660/' "$CONF"
start_daemon
[ "$(stat -c %G "$SOCK")" = "$grp" ] || fail "the socket's group is not $grp"
expect_rc 0 member --json post --channel outbox --text "from a group member" --in 1d
id=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 member hold "$id"
actors=$(ctl --json log | jget 'sorted(set(e["actor"] for e in d["events"] if e["delivery"] == "'"$id"'"))')
[ "$actors" = "[4242]" ] || fail "the audit log shows $actors, not uid 4242"
grep -q "ctl: uid 4242: post $id" "$LOG" || fail "the log does not name uid 4242"
# Without the group, not even the socket opens.
expect_rc 3 setpriv --reuid 4243 --regid 4243 --clear-groups "$CRIERCTL" -s "$SOCK" status
stop_daemon

# crierd in a user namespace mapping root only: peers from outside are unmappable.
unshare --user --map-root-user true 2>/dev/null || skip "cannot make a user namespace here"
write_config
sed -i 's/^socket_mode = 0600/socket_mode = 0666/' "$CONF"
unshare --user --map-root-user "$CRIERD" -c "$CONF" >> "$LOG" 2>&1 &
CRIERD_PID=$!
wait_for "ctl status" 10 || fail "crierd in a user namespace did not start"
grep -q "user namespace that does not map every uid" "$LOG" || fail "no warning at start"
ctl --json status | jget 'd["daemon"]["peers"]' | grep -q "PrivateUsers" || fail "status does not say it"
expect_rc 0 ctl status
expect_out "user namespace"
expect_rc 1 member post --channel outbox --text "refused" --in 1d
expect_out "uid 65534"
expect_out "PrivateUsers"
# Root is mapped (as root), and still may.
expect_rc 0 ctl post --channel outbox --text "root is mapped" --in 1d
kill -TERM "$CRIERD_PID"
wait "$CRIERD_PID"
CRIERD_PID=

# The shipped unit no longer asks for a private user namespace.
grep -q '^PrivateUsers=yes' "$top_srcdir/systemd/crierd.service.in" && fail "the unit sets PrivateUsers=yes"
echo "PASS: $TEST_NAME"
