#!/bin/sh
# The shipped example configuration and demo configuration are valid, and the
# sample campaign checks clean against the sample templates.
. "$(dirname "$0")/lib.sh"

sed -e "s|@datadir@/crier/templates|$top_srcdir/templates|" \
    -e "s|@datadir@/crier/calendars|$top_srcdir/config/calendars|" \
    -e "s|@sysconfdir@|/etc|" \
    -e "s|^state_dir = .*|state_dir = $STATE|" -e "s|^socket = .*|socket = $SOCK|" \
    -e "s|^socket_group = .*||" \
    -e "s|^;media_dirs = .*|media_dirs = $top_srcdir/config/media|" \
    "$top_srcdir/config/crier.conf.in" > "$CONF"
expect_rc 0 "$CRIERD" -c "$CONF" --check --from 2027-05-01 --to 2027-06-01
expect_out "9 occurrences checked, 0 problems"
[ -e "$STATE" ] && fail "--check created state"

# The demo configuration, run from the source tree as the README says.
cd "$top_srcdir" || fail "cd"
expect_rc 0 "$CRIERD" -c config/demo.conf --check
expect_out "0 problems"
echo "PASS: $TEST_NAME"
