#!/bin/sh
# Group commit of one loop turn (issue 16, point 2): twelve webhooks released
# at once by `resume` are all marked `sending` in ONE commit, and each request
# reaches the peer only after its mark is committed: the peer reads crier.db
# through its own read-only connection (it sees committed rows only) on every
# request. Then: a delivery on a channel removed from the config fails with
# "channel is no longer configured" once due, and not before.
. "$(dirname "$0")/lib.sh"

N=12
"$PY" "$top_srcdir/tests/integration/db_peer.py" "$T/peer.port" \
    "$STATE/crier.db" "$T/peer.log" 120 >"$T/peer.err" 2>&1 &
echo $! > "$T/peer.pid"
wait_for "[ -s '$T/peer.port' ]" 15 || fail "peer did not start: $(cat "$T/peer.err")"
P=$(cat "$T/peer.port")

hook="[channel hook]
type = webhook
url = http://127.0.0.1:$P/hook
format = json
concurrency = $N"
write_config "max_in_flight = 16" "$hook" "[channel gone]" "type = outbox" \
    "[channel outbox]" "type = outbox"
start_daemon -v

expect_rc 0 ctl pause hook
for i in $(seq 1 $N); do
	expect_rc 0 ctl post --channel hook --text "turn $i"
done
expect_rc 0 ctl resume hook
wait_for "[ \$(wc -l < '$T/peer.log') -ge $N ]" 30 ||
    fail "only $(wc -l < "$T/peer.log") of $N requests arrived"
# Every request arrived with its mark committed (never scheduled/held).
bad=$(grep -v ' sending$' "$T/peer.log")
[ -z "$bad" ] || fail "a request left before its mark was committed: $bad"
[ "$(cut -d' ' -f1 "$T/peer.log" | sort -u | wc -l)" = $N ] ||
    fail "not $N distinct deliveries: $(cat "$T/peer.log")"
# One commit between the resume and the first answer: all N marks together.
commits=$(awk '/channel hook resumed/ { on = 1; next }
    on && /http: POST/ { exit } on && /store: commit/ { n++ } END { print n + 0 }' "$LOG")
[ "$commits" = 1 ] || fail "$N starts took $commits commits, not 1"
for id in $(cut -d' ' -f1 "$T/peer.log"); do
	wait_for "[ \"\$(state_of $id)\" = sent ]" 15 || fail "$id not sent"
done

# A channel dropped from the config: its due delivery fails, a later one waits.
expect_rc 0 ctl --json post --channel gone --text "soon" --in 3s
soon=$(echo "$OUT" | jget 'd["ids"][0]')
expect_rc 0 ctl --json post --channel gone --text "later" --in 1d
later=$(echo "$OUT" | jget 'd["ids"][0]')
write_config "max_in_flight = 16" "$hook" "[channel outbox]" "type = outbox"
expect_rc 0 ctl reload
wait_for "[ \"\$(state_of $soon)\" = failed ]" 20 || fail "$soon is $(state_of "$soon"), not failed"
expect_rc 0 ctl show "$soon"
expect_out "channel is no longer configured"
[ "$(state_of "$later")" = scheduled ] || fail "$later is $(state_of "$later") before it is due"
stop_daemon
