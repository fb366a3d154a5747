#!/usr/bin/python3
"""The reference for crierd --check --json in tests/bench/peers.sh: expands
FILE.ics between FROM and TO with python3-recurring-ical-events and prints
one "uid<TAB>start" line per occurrence (UTC, as crier prints it), sorted by
start then uid."""
import datetime, sys

import icalendar
import recurring_ical_events


def iso(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=datetime.timezone.utc)
        return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return v.isoformat()


def day(s):
    return datetime.datetime.strptime(s, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc)


def main():
    path, frm, to = sys.argv[1], day(sys.argv[2]), day(sys.argv[3])
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    rows = []
    for ev in recurring_ical_events.of(cal).between(frm, to):
        rows.append((iso(ev["DTSTART"].dt), str(ev["UID"])))
    rows.sort()
    out = sys.stdout
    for start, uid in rows:
        out.write("%s\t%s\n" % (uid, start))


if __name__ == "__main__":
    main()
