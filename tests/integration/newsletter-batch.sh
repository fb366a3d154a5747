#!/bin/sh
# A newsletter over 4 SMTP sessions (sessions = 4) with the `sending` marks
# committed a batch at a time: every one of 200 recipients gets exactly one
# message and the counts in `show` match the peer's; a kill -9 in the
# middle of a second list sends nobody two copies, leaves every recipient
# sent or uncertain (at most one batch, 32, plus 3 in flight) and the rest go
# after the restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

N=200
start_smtp s
RC="$T/recipients.csv"
write_recipients "$RC" $N
write_config "[channel newsletter]" "type = smtp" \
	"url = smtp://127.0.0.1:$(smtp_port s)" "starttls = no" \
	"from = news@example.org" "recipients_file = $RC" "sessions = 4"
export CRIER_TEST_BACKOFF_MS=300
start_daemon

# check SUBJECT ID: the copies per recipient and the states in the store.
check() {
	"$PY" - "$STATE/crier.db" "$2" "$T/s.mail" $N "$1" "$3" <<'PYEOF'
import collections, email, email.policy, json, sqlite3, sys
db, did, maildir, n, subj, full = sys.argv[1:7]
n = int(n)
st = dict(sqlite3.connect(db).execute(
    "SELECT email, state FROM recipients WHERE delivery = ?", (did,)))
c = collections.Counter()
conns = collections.Counter()
for m in json.load(open(maildir + "/index.json")):
    msg = email.message_from_bytes(open(m["file"], "rb").read(), policy=email.policy.default)
    if str(msg["Subject"]) == subj:
        c[m["rcpt_tos"][0]] += 1
        conns[m["peer_port"]] += 1
assert len(st) == n, len(st)
assert all(v == 1 for v in c.values()), [e for e, v in c.items() if v > 1]
unc = [e for e, s in st.items() if s == "uncertain"]
for e, s in st.items():
    assert s in ("sent", "uncertain"), (e, s)
    if s == "sent":
        assert c[e] == 1, (e, c[e])
if full == "all":
    assert not unc and len(c) == n, (len(unc), len(c))
    # Four sessions, each reused for many messages.
    assert len(conns) == 4 and min(conns.values()) > 10, conns
else:
    # One batch (32) plus the 3 other sessions' messages in flight.
    assert len(unc) <= 32 + 3, len(unc)
print("%s: %d sent, %d uncertain, %d messages over %d connections %s" % (
    subj, sum(1 for s in st.values() if s == "sent"), len(unc),
    sum(c.values()), len(conns), sorted(conns.values())))
PYEOF
}

# Whole list: one message each, show agrees with the peer.
ID=$(post_id --channel newsletter --text "Batch one")
wait_state "$ID" sent 120
counts=$(ctl --json show "$ID" | jget 'json.dumps(d["delivery"]["recipient_counts"], sort_keys=True)')
[ "$counts" = "{\"sent\": $N}" ] || fail "show counts: $counts"
stop_daemon
check "Batch one" "$ID" all || fail "batch one"
[ "$(smtp_count s)" = $N ] || fail "peer has $(smtp_count s) messages, want $N"

# kill -9 mid-list.
start_daemon
ID=$(post_id --channel newsletter --text "Batch two")
wait_for "[ \$(smtp_count s) -ge $((N + 60)) ]" 60 || fail "second list did not start"
kill9_daemon
start_daemon
wait_state "$ID" sent 60
stop_daemon
check "Batch two" "$ID" some || fail "kill -9 mid-list"
echo "PASS: $TEST_NAME"
