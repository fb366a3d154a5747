#!/bin/sh
# The service's hardening: systemd-analyze's exposure must be 2.0 or lower.
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 || skip "systemd-analyze is not installed"
unit="$top_builddir/systemd/crierd.service"
out=$(systemd-analyze security --offline=true "$unit" 2>&1) || skip "systemd-analyze cannot run here: $(echo "$out" | tail -1)"
level=$(echo "$out" | sed -n 's/.*Overall exposure level for crierd.service: \([0-9.]*\).*/\1/p')
[ -n "$level" ] || fail "no exposure level in: $(echo "$out" | tail -3)"
"$PY" -c "import sys; sys.exit(0 if float('$level') <= 2.0 else 1)" || fail "exposure $level is above 2.0"
systemd-analyze verify "$unit" "$top_srcdir/systemd/crierd.socket" 2>&1 | grep -v "crierd: .*No such file\|Command .* is not executable\|is not executable" | grep -i "error\|invalid" && fail "unit files do not verify"
echo "exposure $level"
echo "PASS: $TEST_NAME"
