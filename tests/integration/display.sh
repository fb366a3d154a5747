#!/bin/sh
# list shows the configured time zone (--utc for UTC), whole seconds, a
# stable channel order and the remote URL of sent posts; suppressions;
# an unknown verb gets one line with a suggestion; --json usage errors are
# JSON; agenda with nothing in the window says when the next post is.
. "$(dirname "$0")/lib.sh"

write_config "timezone = Europe/London" "[channel zeta]" "type = outbox" \
    "[channel alpha]" "type = outbox" "[channel mid]" "type = outbox"
start_daemon

# 2027-07-01 10:00 in London is 09:00 UTC (summer time).
expect_rc 0 ctl --json post --channel zeta,alpha,mid --text "Summer post" --at 2027-07-01T10:00
expect_rc 0 ctl --json post --channel mid,zeta,alpha --text "Same time" --at 2027-07-01T10:00
expect_rc 0 ctl list
expect_out "2027-07-01 10:00:00"
expect_out "(times in Europe/London)"
echo "$OUT" | grep -q "09:00:00" && fail "list shows UTC by default: $OUT"
echo "$OUT" | grep -q "2027-07-01T09:00:00.000Z" && fail "fractions of seconds: $OUT"
[ "$(echo "$OUT" | awk '/2027-07-01/ {print $5}' | tr '\n' ' ')" = "alpha alpha mid mid zeta zeta " ] ||
    fail "channel order: $(echo "$OUT" | awk '/2027-07-01/ {print $5}' | tr '\n' ' ')"
expect_rc 0 ctl list --utc
expect_out "2027-07-01 09:00:00"
expect_out "(times in UTC)"
ctl --json list | jget '[x["channel"] for x in d["deliveries"]]' | grep -q '"alpha", "alpha", "mid", "mid", "zeta", "zeta"' ||
    fail "--json order: $(ctl --json list)"

# Sent posts show where they went.
expect_rc 0 ctl --json post --channel alpha --text "Out now" --in 1s
S=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "[ \"\$(state_of $S)\" = sent ]" 15 || fail "not sent"
url=$(dfield "$S" remote_url)
[ "$url" != null ] || fail "no remote url"
ctl list --state sent | grep "$S" | grep -qF "$url" || fail "list does not show the remote URL: $(ctl list --state sent)"

# The suppression list.
expect_rc 0 ctl unsubscribe Zed@Example.org
expect_rc 0 ctl unsubscribe amy@example.org
expect_rc 0 ctl suppressions
[ "$(echo "$OUT" | awk '{print $1}' | tr '\n' ' ')" = "amy@example.org zed@example.org " ] ||
    fail "suppressions: $OUT"
expect_rc 0 ctl --json suppressions
[ "$(echo "$OUT" | jget '[s["email"] for s in d["suppressions"]]')" = '["amy@example.org", "zed@example.org"]' ] ||
    fail "suppressions --json: $OUT"

# A typo: one line, a suggestion, exit 2.
expect_rc 2 ctl stauts
[ "$(echo "$OUT" | wc -l)" = 1 ] || fail "a typo prints $(echo "$OUT" | wc -l) lines: $OUT"
expect_out "did you mean 'status'?"
expect_rc 2 ctl re
expect_out "ambiguous"
[ "$(echo "$OUT" | wc -l)" = 1 ] || fail "ambiguous prints several lines"
# --json usage errors are JSON, wherever --json is.
for args in "--json stauts" "list --json --limit x" "--json show" "--json post --bogus"; do
	OUT=$(ctl $args 2>/dev/null)
	rc=$?
	[ "$rc" = 2 ] || fail "$args exited $rc"
	[ "$(echo "$OUT" | jget '[d["ok"], d["code"]]')" = '[false, "usage"]' ] ||
	    fail "$args: not a JSON usage error: $OUT"
done

# agenda: nothing in the next 7 days, but it says when the next post is.
expect_rc 0 ctl agenda --days 7
expect_out "nothing in the next 7 days; the next post is on Thursday 1 July 2027 at 10:00 (Europe/London)"
expect_out "crierctl agenda --days"
expect_rc 0 ctl --json agenda
[ "$(echo "$OUT" | jget 'd["next"]["due"]')" = 2027-07-01T09:00:00Z ] || fail "agenda --json next: $OUT"
days=$(echo "$OUT" | jget 'd["next"]["days"]')
expect_rc 0 ctl agenda --days "$days"
expect_out "Thursday 1 July 2027"
if echo "$OUT" | grep -q "and more in these"; then fail "agenda says more with nothing left out"; fi

# agenda --limit: the posts past the limit are never cut silently.
for i in 1 2 3 4 5; do
	ctl post --channel alpha --text "limit $i" --in "$((i + 1))h" >/dev/null || fail "post $i"
done
expect_rc 0 ctl --json agenda --limit 3
[ "$(echo "$OUT" | jget '[d["limit"], d["more"], sum(len(x["items"]) for x in d["days"])]')" = "[3, true, 3]" ] ||
	fail "agenda --limit 3: $OUT"
expect_rc 0 ctl agenda --limit 3
expect_out "and more in these 7 days than the 3 shown (crierctl agenda --limit N shows more"
expect_rc 0 ctl --json agenda --limit 5
[ "$(echo "$OUT" | jget '[d["more"], sum(len(x["items"]) for x in d["days"])]')" = "[false, 5]" ] ||
	fail "agenda --limit 5: $OUT"
expect_rc 1 ctl agenda --limit 0
expect_out "--limit: a number from 1 to 10000"
echo "PASS: $TEST_NAME"
