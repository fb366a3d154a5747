#!/bin/sh
# Under the shipped unit's sandbox (its hardening settings, through
# systemd-run), a member of socket_group may use changing verbs and the
# audit log shows the member's real uid. Needs a running systemd.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root"
[ -d /run/systemd/system ] || skip "systemd is not running here (PID 1 is $(cat /proc/1/comm)): systemd-run cannot start the sandboxed crierd; peers.sh covers the rest"
command -v systemd-run >/dev/null 2>&1 || skip "systemd-run is not installed"
command -v setpriv >/dev/null 2>&1 || skip "setpriv is not installed"
grp=users
gid=$(getent group "$grp" | cut -d: -f3)
[ -n "$gid" ] || skip "no group '$grp'"
unit="$top_builddir/systemd/crierd.service"
[ -f "$unit" ] || fail "no built unit $unit"

chmod 0711 "$T"
write_config "socket_group = $grp"
sed -i 's/^socket_mode = 0600/socket_mode = 0660/' "$CONF"
# The unit's hardening, as properties; the test's files must stay reachable.
props=$(sed -n '/^# Hardening/,/^\[Install\]/p' "$unit" | grep -v '^#' | grep '=' |
	grep -v '^PrivateTmp=\|^ProtectHome=\|^IPAddressDeny=' | sed 's/^/-p /')
name="crier-test-$$"
# shellcheck disable=SC2086
systemd-run --quiet --unit="$name" --collect -p Type=notify -p NotifyAccess=main \
    -p "ReadWritePaths=$T" $props "$CRIERD" -c "$CONF" ||
	fail "systemd-run could not start crierd under the unit's settings"
trap 'systemctl stop "$name" 2>/dev/null; cleanup' EXIT
wait_for "ctl status" 20 || fail "crierd under systemd-run does not answer: $(journalctl -u "$name" -n 20 --no-pager)"
expect_rc 0 setpriv --reuid 4242 --regid 4242 --groups "$gid" "$CRIERCTL" -s "$SOCK" \
    --json post --channel outbox --text "member under the sandbox" --in 1d
id=$(echo "$OUT" | jget 'd["ids"][0]')
actors=$(ctl --json log | jget 'sorted(set(e["actor"] for e in d["events"] if e["delivery"] == "'"$id"'"))')
[ "$actors" = "[4242]" ] || fail "the audit log shows $actors, not uid 4242"
[ "$(ctl --json status | jget 'd["daemon"]["peers"]')" = null ] || fail "crierd reports unmappable peers under the unit"
systemctl stop "$name"
echo "PASS: $TEST_NAME"
