#!/bin/sh
# Stopping crierd while a mail server stalls: SIGTERM ends the daemon within
# 2 s at every stage, and kill -9 loses nothing. The recipient whose message
# was under way when the server held the reply to its final "." is
# `uncertain` (recorded at once on SIGTERM, found `sending` after a kill)
# and never sent again; one whose transaction had not reached DATA is sent
# after the restart; nobody gets two copies. A kill -9 in the middle of a
# fast list leaves every recipient booked `sent` with exactly one copy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/smtp-lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

start_stall s
RC="$T/recipients.csv"
write_recipients "$RC" 3
write_config "[channel newsletter]" "type = smtp" "url = smtp://127.0.0.1:$(smtp_port s)" \
	"starttls = no" "from = news@example.org" "recipients_file = $RC"
export CRIER_TEST_BACKOFF_MS=300

# rcpt_states ID: "email=state ..." from the database (crierd is down).
rcpt_states() {
	"$PY" - "$STATE/crier.db" "$1" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
rows = db.execute("SELECT email, state FROM recipients WHERE delivery = ? "
                  "ORDER BY email", (sys.argv[2],)).fetchall()
print(" ".join("%s=%s" % (e.split("@")[0], s) for e, s in rows))
PYEOF
}

# copies SUBJECT: "rNN:count ..." of the messages stored with that subject.
copies() {
	"$PY" - "$T/s.mail" "$1" <<'PYEOF'
import collections, email, email.policy, json, sys
meta = json.load(open(sys.argv[1] + "/index.json"))
c = collections.Counter()
for m in meta:
    msg = email.message_from_bytes(open(m["file"], "rb").read(), policy=email.policy.default)
    if str(msg["Subject"]) == sys.argv[2]:
        c[m["rcpt_tos"][0].split("@")[0]] += 1
print(" ".join("%s:%d" % kv for kv in sorted(c.items())))
PYEOF
}

start_daemon
for stage in connect greeting mail rcpt data end quit; do
	stall_ctl s stall "$stage" 0 >/dev/null
	# The listen queue must be full before crierd connects.
	[ "$stage" != connect ] || wait_stall s connect
	ID=$(post_id --channel newsletter --text "Stop at $stage")
	wait_stall s "$stage"
	# The connect stall holds the listen queue from the start: let crierd
	# reach it.
	[ "$stage" != connect ] || sleep 0.5
	t0=$(date +%s%N)
	kill -TERM "$CRIERD_PID"
	wait "$CRIERD_PID"
	rc=$?
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	CRIERD_PID=
	[ "$rc" = 0 ] || fail "$stage: crierd exited $rc on SIGTERM"
	[ "$ms" -lt 2000 ] || fail "$stage: SIGTERM took $ms ms"
	st=$(rcpt_states "$ID")
	echo "$stage: SIGTERM ended crierd in $ms ms; recipients: $st"
	case $stage in
	end) want="r01=uncertain r02=pending r03=pending" ;;
	quit) want="r01=sent r02=sent r03=sent" ;;
	*) want="r01=pending r02=pending r03=pending" ;;
	esac
	[ "$st" = "$want" ] || fail "$stage: recipients $st, expected $want"
	stall_ctl s release >/dev/null
	start_daemon
	wait_state "$ID" sent 30
	got=$(copies "Stop at $stage")
	[ "$got" = "r01:1 r02:1 r03:1" ] || fail "$stage: copies $got"
	[ "$stage" != end ] || ctl --json show "$ID" | jget '[r["state"] for r in d["delivery"]["recipients"]]' |
		grep -qx '\["uncertain", "sent", "sent"\]' || fail "$stage: $(ctl --json show "$ID")"
done

# kill -9 while the server holds the reply to the end of DATA, then while it
# holds the reply to MAIL.
for stage in end mail; do
	stall_ctl s stall "$stage" 0 >/dev/null
	ID=$(post_id --channel newsletter --text "Kill at $stage")
	wait_stall s "$stage"
	kill9_daemon
	st=$(rcpt_states "$ID")
	case $stage in
	# The first batch of `sending` marks is one recipient (then 2, 4...),
	# committed before MAIL: a kill before DATA leaves r01 uncertain too.
	*) want="r01=sending r02=pending r03=pending" ;;
	esac
	[ "$st" = "$want" ] || fail "kill at $stage: recipients $st, expected $want"
	stall_ctl s release >/dev/null
	start_daemon
	wait_state "$ID" sent 30
	got=$(copies "Kill at $stage")
	case $stage in
	end) [ "$got" = "r01:1 r02:1 r03:1" ] || fail "kill at $stage: copies $got" ;;
	*) [ "$got" = "r02:1 r03:1" ] || fail "kill at $stage: copies $got" ;;
	esac
	states=$(ctl --json show "$ID" | jget '" ".join(r["state"] for r in d["delivery"]["recipients"])')
	[ "$states" = "uncertain sent sent" ] || fail "kill at $stage: $states"
	echo "kill -9 at $stage: recipients $st, then $states; copies $got"
done
stop_daemon

# kill -9 in the middle of a fast list (no rate): every recipient the
# database calls sent has exactly one copy, those of the batch marked
# `sending` are uncertain (at most one copy each), and the rest go after the restart, once each.
N=300
write_recipients "$RC" $N
start_daemon
ID=$(post_id --channel newsletter --text "Kill mid-list")
base=$(smtp_count s)
wait_for "[ \$(smtp_count s) -ge $((base + 100)) ]" 60 || fail "fast list did not start"
kill9_daemon
start_daemon
wait_state "$ID" sent 60
stop_daemon
"$PY" - "$STATE/crier.db" "$ID" "$T/s.mail" $N <<'PYEOF' || fail "kill mid-list"
import collections, email, email.policy, json, sqlite3, sys
db, did, maildir, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
st = dict(sqlite3.connect(db).execute(
    "SELECT email, state FROM recipients WHERE delivery = ?", (did,)))
c = collections.Counter()
for m in json.load(open(maildir + "/index.json")):
    msg = email.message_from_bytes(open(m["file"], "rb").read(), policy=email.policy.default)
    if str(msg["Subject"]) == "Kill mid-list":
        c[m["rcpt_tos"][0]] += 1
assert len(st) == n, len(st)
unc = [e for e, s in st.items() if s == "uncertain"]
# At most one batch of `sending` marks (32) was out when crierd died.
assert len(unc) <= 32, unc
for e, s in st.items():
    if s == "sent":
        assert c[e] == 1, (e, c[e])
    else:
        assert s == "uncertain" and c[e] <= 1, (e, s, c[e])
assert n - len(unc) <= sum(c.values()) <= n, sum(c.values())
print("kill -9 mid-list: %d sent, %d uncertain, %d messages" % (
    sum(1 for s in st.values() if s == "sent"), len(unc), sum(c.values())))
PYEOF
echo "PASS: $TEST_NAME"
