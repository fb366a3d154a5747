#!/usr/bin/python3
"""Calendars for tests/bench/peers.sh.

  gencal.py backlog N OUT [V]  N occurrences to come (from tomorrow), in
                            events of at most 1000 each (crier's
                            max_occurrences), every 8 hours, for channel
                            "backlog"; V > 0 changes every post's text
  gencal.py check N OUT     N events of a year of campaigns (2027, Europe/
                            London): weekly, Mon/Wed/Fri, weekdays, monthly,
                            fortnightly, daily series, one-offs; EXDATEs and
                            moved instances (RECURRENCE-ID) among them
"""
import datetime, sys

VTZ = """BEGIN:VTIMEZONE\r
TZID:Europe/London\r
BEGIN:DAYLIGHT\r
TZOFFSETFROM:+0000\r
TZOFFSETTO:+0100\r
TZNAME:BST\r
DTSTART:19700329T010000\r
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r
END:DAYLIGHT\r
BEGIN:STANDARD\r
TZOFFSETFROM:+0100\r
TZOFFSETTO:+0000\r
TZNAME:GMT\r
DTSTART:19701025T020000\r
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r
END:STANDARD\r
END:VTIMEZONE\r
"""

HEAD = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier bench//EN\r\n"


def ev(uid, dtstart, summary, desc, extra=""):
    return ("BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261101T000000Z\r\n%s\r\n"
            "SUMMARY:%s\r\nDESCRIPTION:%s\r\n%sEND:VEVENT\r\n"
            % (uid, dtstart, summary, desc, extra))


def backlog(n, out, version=0):
    start = datetime.datetime.now(datetime.timezone.utc).replace(
        minute=0, second=0, microsecond=0) + datetime.timedelta(days=1)
    nev = (n + 999) // 1000
    with open(out, "w", newline="") as f:
        f.write(HEAD)
        left = n
        for k in range(nev):
            c = min(1000, left)
            left -= c
            t = start + datetime.timedelta(seconds=k * 8 * 3600 // nev)
            f.write(ev("backlog-%d@bench.crier" % k,
                       "DTSTART:" + t.strftime("%Y%m%dT%H%M%SZ"),
                       "Queued post %d" % k,
                       "A post in the queue\\, number %d of the backlog%s." %
                       (k, " (version %d)" % version if version else ""),
                       "RRULE:FREQ=HOURLY;INTERVAL=8;COUNT=%d\r\n"
                       "X-CRIER-CHANNELS:backlog\r\n" % c))
        f.write("END:VCALENDAR\r\n")


# (rule, extra lines) by kind; DTSTART is in the first weeks of 2027.
KINDS = [
    ("FREQ=WEEKLY;BYDAY=TU", "weekly"),
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20270730T235959Z", "mwf"),
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20270924T235959Z", "weekdays"),
    ("FREQ=MONTHLY;BYDAY=1TH", "monthly"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", "fortnightly"),
    ("FREQ=DAILY;COUNT=190", "daily"),
    (None, "once"),
    ("FREQ=WEEKLY;BYDAY=SA;COUNT=30", "saturdays"),
]


def check(n, out):
    with open(out, "w", newline="") as f:
        f.write(HEAD + VTZ)
        for i in range(n):
            rule, kind = KINDS[i % len(KINDS)]
            d = datetime.datetime(2027, 1, 4 + (i * 7) % 21, 8 + i % 10, (i * 15) % 60)
            if kind == "once":
                d = datetime.datetime(2027, 1 + i % 12, 1 + i % 28, 9 + i % 8, 30)
            uid = "%s-%d@bench.crier" % (kind, i)
            dt = "DTSTART;TZID=Europe/London:" + d.strftime("%Y%m%dT%H%M%S")
            extra = ""
            if rule:
                extra += "RRULE:%s\r\n" % rule
            if kind == "mwf":
                # Two sessions dropped.
                for w in (3, 5):
                    x = d + datetime.timedelta(weeks=w)
                    extra += "EXDATE;TZID=Europe/London:%s\r\n" % x.strftime("%Y%m%dT%H%M%S")
            extra += "CATEGORIES:OpenGovWeek,BreakTheRoles\r\nURL:https://example.org/c/%d\r\n" % i
            f.write(ev(uid, dt, "Campaign %s %d" % (kind, i),
                       "Open government news\\, item %d: what members did this week." % i,
                       extra))
            if kind == "weekly":
                # The third instance moved an hour later, with its own text.
                r = d + datetime.timedelta(weeks=2)
                f.write(ev(uid, "DTSTART;TZID=Europe/London:" +
                           (r + datetime.timedelta(hours=1)).strftime("%Y%m%dT%H%M%S"),
                           "Campaign weekly %d (moved)" % i, "Moved this week.",
                           "RECURRENCE-ID;TZID=Europe/London:%s\r\n" % r.strftime("%Y%m%dT%H%M%S")))
        f.write("END:VCALENDAR\r\n")


if __name__ == "__main__":
    if sys.argv[1] == "backlog":
        backlog(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 0)
    else:
        check(int(sys.argv[2]), sys.argv[3])
