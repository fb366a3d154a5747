#!/bin/sh
# DURATION days and weeks are nominal (RFC 5545 3.3.6): across the next DST
# change in Europe/London, America/New_York and Australia/Sydney, --check
# --json ends and the running daemon's agenda agree with the wall clock.
. "$(dirname "$0")/lib.sh"

"$PY" -c 'import zoneinfo; zoneinfo.ZoneInfo("Australia/Sydney")' 2>/dev/null ||
    skip "python3 zoneinfo with tzdata is needed"

# The calendar and the expected ends, computed here from the tz database:
# for each zone the next change at least two days ahead, an event at 12:00
# local the day before it with P1D, PT24H, P1DT2H, and P1W from four days before.
CAL="$T/dst.ics"
"$PY" - "$CAL" "$T/expected.json" <<'PY'
import datetime as dt, json, sys, zoneinfo
UTC = dt.timezone.utc
now = dt.datetime.now(UTC)
ics, exp = [], {}
ics += ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//crier tests//EN"]
for zname in ("Europe/London", "America/New_York", "Australia/Sydney"):
    z = zoneinfo.ZoneInfo(zname)
    t = (now + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    off = t.astimezone(z).utcoffset()
    while t.astimezone(z).utcoffset() == off:
        t += dt.timedelta(hours=1)
    change = t.astimezone(z).date()          # the local day of the change
    day = change - dt.timedelta(days=1)
    key = zname.split("/")[1].lower()
    for uid, start_day, dur, days, hours in (
            ("p1d", day, "P1D", 1, 0), ("pt24h", day, "PT24H", 0, 24),
            ("p1dt2h", day, "P1DT2H", 1, 2),
            ("p1w", change - dt.timedelta(days=4), "P1W", 7, 0)):
        local = dt.datetime.combine(start_day, dt.time(12, 0), z)
        start = local.astimezone(UTC)
        # nominal days on the wall clock, then exact hours
        end = (dt.datetime.combine(start_day + dt.timedelta(days=days),
               dt.time(12, 0), z).astimezone(UTC) + dt.timedelta(hours=hours))
        u = "%s-%s@dst.test" % (uid, key)
        exp[u] = {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "until": end.astimezone(zoneinfo.ZoneInfo("Europe/London"))
                           .strftime("%a %Y-%m-%d %H:%M"),
                  "exact": (end - start).total_seconds() != days * 86400 + hours * 3600}
        ics += ["BEGIN:VEVENT", "UID:" + u, "DTSTAMP:20260101T000000Z",
                "DTSTART;TZID=%s:%s" % (zname, local.strftime("%Y%m%dT%H%M%S")),
                "DURATION:" + dur, "SUMMARY:%s %s" % (dur, zname),
                "DESCRIPTION:%s across the change in %s" % (dur, zname),
                "END:VEVENT"]
ics.append("END:VCALENDAR")
open(sys.argv[1], "w").write("\r\n".join(ics) + "\r\n")
json.dump(exp, open(sys.argv[2], "w"))
# the nominal and the exact ends must differ for P1D: else nothing is tested
assert all(exp[u]["exact"] for u in exp if not u.startswith("pt24h")), exp
PY
[ $? = 0 ] || fail "could not write the calendar"

write_config "timezone = Europe/London" "horizon = 400d" \
    "[calendar dst]" "path = $CAL" "channels = outbox"

FROM=$(date -u +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d '+400 days' +%Y-%m-%dT%H:%M:%SZ)
expect_rc 0 "$CRIERD" -c "$CONF" --check --json --from "$FROM" --to "$TO"
echo "$OUT" > "$T/check.jsonl"
"$PY" - "$T/check.jsonl" "$T/expected.json" <<'PY' || fail "--check --json ends"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
exp = json.load(open(sys.argv[2]))
got = {r["uid"]: r for r in rows}
assert sorted(got) == sorted(exp), (sorted(got), sorted(exp))
for u, e in exp.items():
    assert got[u]["start"] == e["start"], (u, got[u]["start"], e)
    assert got[u]["end"] == e["end"], (u, got[u]["end"], e)
print("check: %d ends as the wall clock says" % len(exp))
PY

start_daemon
wait_loaded
expect_rc 0 ctl --json agenda --days 400
echo "$OUT" > "$T/agenda.json"
"$PY" - "$T/agenda.json" "$T/expected.json" <<'PY' || fail "agenda ends"
import json, sys
a = json.load(open(sys.argv[1]))
exp = json.load(open(sys.argv[2]))
items = {i["uid"]: i for d in a["days"] for i in d["items"]}
assert sorted(items) == sorted(exp), (sorted(items), sorted(exp))
for u, e in exp.items():
    assert items[u]["due"] == e["start"], (u, items[u]["due"], e)
    assert items[u]["end"] == e["end"], (u, items[u]["end"], e)
    assert items[u]["until"] == e["until"], (u, items[u]["until"], e)
print("agenda: %d ends agree with --check" % len(exp))
PY
expect_rc 0 ctl agenda --days 400
U=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["p1d-london@dst.test"]["until"])' "$T/expected.json")
expect_out "P1D Europe/London (until $U)"
stop_daemon
echo "PASS: $TEST_NAME"
