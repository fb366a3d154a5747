#!/usr/bin/python3
"""Expected occurrences of crier's own iCalendar cases (issue 18), two ways.

    /usr/bin/python3 generate.py            # rewrite NAME.expected.json by own arithmetic
    /usr/bin/python3 generate.py --check    # exit 1 if a file would change
    /usr/bin/python3 generate.py --oracle   # compare with python3-recurring-ical-events

The expectations are computed here with plain date arithmetic written for
these cases (RFC 5545 3.3.10 week numbering, 3.3.6 nominal durations, 3.3.4
and 3.3.12 valid dates), with only the tz database (zoneinfo) for UTC offsets.
--oracle runs Debian's python3-recurring-ical-events over the same files and
prints where it differs; README.md says where it does and why.
"""

import datetime as dt
import json
import os
import sys
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = dt.timezone.utc
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]      # Python's weekday() order
LEAP_SECOND_DAYS = {(1972, 6, 30), (1972, 12, 31), (1973, 12, 31), (1974, 12, 31),
                    (1975, 12, 31), (1976, 12, 31), (1977, 12, 31), (1978, 12, 31),
                    (1979, 12, 31), (1981, 6, 30), (1982, 6, 30), (1983, 6, 30),
                    (1985, 6, 30), (1987, 12, 31), (1989, 12, 31), (1990, 12, 31),
                    (1992, 6, 30), (1993, 6, 30), (1994, 6, 30), (1995, 12, 31),
                    (1997, 6, 30), (1998, 12, 31), (2005, 12, 31), (2008, 12, 31),
                    (2012, 6, 30), (2015, 6, 30), (2016, 12, 31)}


def unfold(text):
    """Logical lines (RFC 5545 3.1) with their first physical line number."""
    out = []
    for n, raw in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
        if raw[:1] in (" ", "\t") and out:
            out[-1][1] += raw[1:]
        elif raw:
            out.append([n, raw])
    return out


def split_prop(line):
    """'NAME;P=V:value' -> (NAME, {P: V}, value)."""
    head, _, value = line.partition(":")
    parts = head.split(";")
    params = dict(p.split("=", 1) for p in parts[1:])
    return parts[0].upper(), params, value


def month_len(y, m):
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]


def invalid(v):
    """Why value V (as written) is not a real date or date-time, or None."""
    y, m, d = int(v[0:4]), int(v[4:6]), int(v[6:8])
    if not 1 <= m <= 12:
        return "month"
    if not 1 <= d <= month_len(y, m):
        return "day"
    if len(v) >= 15:
        hh, mi, ss = int(v[9:11]), int(v[11:13]), int(v[13:15])
        if hh > 23 or mi > 59 or ss > 60:
            return "time"
        if ss == 60 and not (v.endswith("Z") and (y, m, d) in LEAP_SECOND_DAYS
                             and (hh, mi) == (23, 59)):
            return "leap second"
    return None


def parse_value(v, params):
    """A DATE (dt.date) or an aware/naive-UTC datetime from a value as written."""
    if len(v) == 8:
        return dt.date(int(v[0:4]), int(v[4:6]), int(v[6:8]))
    t = dt.datetime.strptime(v[:15], "%Y%m%dT%H%M%S")
    if v.endswith("Z"):
        return t.replace(tzinfo=UTC)
    return t.replace(tzinfo=zoneinfo.ZoneInfo(params.get("TZID", "UTC")))


def duration(v):
    """DURATION -> (nominal days, exact seconds), RFC 5545 3.3.6."""
    sign = -1 if v.startswith("-") else 1
    v = v.lstrip("+-")[1:]
    days = secs = num = 0
    in_time = False
    for ch in v:
        if ch.isdigit():
            num = num * 10 + int(ch)
            continue
        if ch == "T":
            in_time = True
        elif ch == "W":
            days += 7 * num
        elif ch == "D":
            days += num
        elif ch == "H":
            secs += 3600 * num
        elif ch == "M" and in_time:
            secs += 60 * num
        elif ch == "S":
            secs += num
        num = 0
    return sign * days, sign * secs


def week1(y, wkst):
    """First day of week 1 of year Y, weeks starting on WKST (0 = Monday):
    the first week with four or more days in Y."""
    jan1 = dt.date(y, 1, 1)
    s = jan1 - dt.timedelta(days=(jan1.weekday() - wkst) % 7)
    return s if (jan1 - s).days <= 3 else s + dt.timedelta(days=7)


def weekno_set(y, rule, start):
    """Days of week-numbering year Y that a YEARLY BYWEEKNO rule selects."""
    wkst = DAYS.index(rule.get("WKST", "MO"))
    w1, nxt = week1(y, wkst), week1(y + 1, wkst)
    nweeks = (nxt - w1).days // 7
    byday = [DAYS.index(d) for d in rule["BYDAY"].split(",")] if "BYDAY" in rule \
        else [start.weekday()]
    days = []
    for n in sorted({int(x) for x in rule["BYWEEKNO"].split(",")}):
        k = n if n > 0 else nweeks + 1 + n
        if 1 <= k <= nweeks:
            for i in range(7):
                day = w1 + dt.timedelta(days=7 * (k - 1) + i)
                if day.weekday() in byday:
                    days.append(day)
    return sorted(set(days))


def wall(v):
    """The wall-clock date and time of V (date or datetime) as a naive datetime."""
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    return dt.datetime(v.year, v.month, v.day)


def with_wall(v, w):
    """V moved to wall clock W, in V's zone."""
    if isinstance(v, dt.datetime):
        return w.replace(tzinfo=v.tzinfo, fold=0)
    return w.date()


def rule_instances(start, rule, until):
    """Instances of RRULE RULE from START, up to 2040 (the rules here need no more)."""
    count = int(rule["COUNT"]) if "COUNT" in rule else None
    out, y = [], start.year
    freq = rule["FREQ"]
    w0 = wall(start)
    step = {"DAILY": dt.timedelta(days=1), "WEEKLY": dt.timedelta(days=7)}.get(freq)
    i = 0
    while y <= 2040 and (count is None or len(out) < count):
        if freq == "YEARLY":
            cands = [dt.datetime.combine(d, w0.time()) for d in weekno_set(y, rule, w0)]
            y += 1
        else:
            cands = [w0 + step * i]
            y = cands[0].year
            i += 1
        for c in cands:
            if c < w0 or (count is not None and len(out) >= count):
                continue
            v = with_wall(start, c)
            if until is not None and instant(v) > instant(until):
                return out
            out.append(v)
    return out


def instant(v):
    """UTC instant of V (a date counts as its 00:00 UTC)."""
    if isinstance(v, dt.datetime):
        return v.astimezone(UTC)
    return dt.datetime(v.year, v.month, v.day, tzinfo=UTC)


def text(v):
    if isinstance(v, dt.datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return v.isoformat()


def end_of(v, ev):
    """End of instance V of event EV: DTEND's exact length, or DURATION with
    nominal days on V's wall clock and exact seconds."""
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        days = 1
        if "DURATION" in ev:
            days = max(1, duration(ev["DURATION"][1])[0])
        return v + dt.timedelta(days=days)
    if "DTEND" in ev:
        length = instant(parse_value(*ev["DTEND"][1:])) - \
            instant(parse_value(*ev["DTSTART"][1:]))
        return v.astimezone(UTC) + length
    if "DURATION" in ev:
        days, secs = duration(ev["DURATION"][1])
        nominal = with_wall(v, wall(v) + dt.timedelta(days=days))
        return nominal.astimezone(UTC) + dt.timedelta(seconds=secs)
    return v


def events(path):
    """The VEVENTs of PATH as {NAME: (line, value, params)} (EXDATE/RDATE: lists)."""
    evs, cur = [], None
    for n, line in unfold(open(path, encoding="utf-8").read()):
        name, params, value = split_prop(line)
        if line.upper() == "BEGIN:VEVENT":
            cur = {"_line": n}
        elif line.upper() == "END:VEVENT":
            evs.append(cur)
            cur = None
        elif cur is not None:
            if name in ("RDATE", "EXDATE"):
                cur.setdefault(name, []).extend((n, v, params) for v in value.split(","))
            else:
                cur[name] = (n, value, params)
    return evs


def bad_value(ev):
    """(line, property, value) of the first invalid date in EV, or None."""
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        if name in ev and invalid(ev[name][1]):
            return ev[name][0], name, ev[name][1]
    for name in ("RDATE", "EXDATE"):
        for n, v, _ in ev.get(name, []):
            if invalid(v.split("/")[0]):
                return n, name, v
    if "RRULE" in ev:
        rule = dict(p.split("=", 1) for p in ev["RRULE"][1].split(";"))
        if "UNTIL" in rule and invalid(rule["UNTIL"]):
            return ev["RRULE"][0], "RRULE", "UNTIL=" + rule["UNTIL"]
    return None


def expand(path, frm, to):
    """Occurrences of PATH with start in [FRM, TO), and the problems expected."""
    recs, problems = [], []
    evs = events(path)
    for ev in evs:
        bad = bad_value(ev)
        if bad:
            problems.append(bad)
            continue
        start = parse_value(ev["DTSTART"][1], ev["DTSTART"][2])
        uid, summary = ev["UID"][1], ev.get("SUMMARY", (0, None))[1]
        if "RECURRENCE-ID" in ev:
            continue        # the cases here have no valid overrides
        rule = None
        if "RRULE" in ev:
            rule = dict(p.split("=", 1) for p in ev["RRULE"][1].split(";"))
        until = parse_value(rule["UNTIL"], {}) if rule and "UNTIL" in rule else None
        inst = [start] + (rule_instances(start, rule, until) if rule else [])
        inst += [parse_value(v, p) for _, v, p in ev.get("RDATE", [])]
        ex = {text(parse_value(v, p)) for _, v, p in ev.get("EXDATE", [])}
        recurring = rule is not None or "RDATE" in ev
        seen = set()
        for v in inst:
            key = text(v)
            if key in seen or key in ex:
                continue
            seen.add(key)
            if not frm <= instant(v) < to:
                continue
            recs.append({"uid": uid, "recurrence_id": key if recurring else None,
                         "start": key, "end": text(end_of(v, ev)),
                         "summary": summary, "status": None})
    return sort(recs), problems


def sort(recs):
    def k(r):
        s = r["start"] if len(r["start"]) > 10 else r["start"] + "T00:00:00Z"
        return (s, r["uid"] or "", r["recurrence_id"] or "", r["end"], r["summary"] or "")
    return sorted(recs, key=k)


def bound(s):
    return dt.datetime.strptime(s[:10], "%Y-%m-%d").replace(tzinfo=UTC)


def oracle(path, frm, to):
    """What python3-recurring-ical-events 2 makes of PATH, in the same format."""
    import icalendar
    import recurring_ical_events
    cal = icalendar.Calendar.from_ical(open(path, "rb").read())
    recurring_uids = {str(c["UID"]) for c in cal.walk("VEVENT")
                      if "RRULE" in c or "RDATE" in c}
    out = []
    for e in recurring_ical_events.of(cal).between(frm - dt.timedelta(days=3),
                                                   to + dt.timedelta(days=3)):
        s, en = e["DTSTART"].dt, e.get("DTEND")
        en = en.dt if en is not None else (s + e["DURATION"].dt if "DURATION" in e else s)
        if not frm <= instant(s) < to:
            continue
        if not isinstance(s, dt.datetime) and en == s:
            en = s + dt.timedelta(days=1)       # RFC 5545 3.6.1: one day
        rid = e.get("RECURRENCE-ID")
        recurring = str(e["UID"]) in recurring_uids or rid is not None
        out.append({"uid": str(e["UID"]),
                    "recurrence_id": text(rid.dt) if rid is not None else
                    (text(s) if recurring else None),
                    "start": text(s), "end": text(en),
                    "summary": str(e["SUMMARY"]) if "SUMMARY" in e else None,
                    "status": None})
    return sort(out)


def main():
    manifest = json.load(open(os.path.join(HERE, "manifest.json")))
    rc = 0
    for entry in manifest["calendars"]:
        path = os.path.join(HERE, entry["file"])
        frm, to = bound(entry["from"]), bound(entry["to"])
        recs, problems = expand(path, frm, to)
        want = [{"line": n, "property": p, "value": v} for n, p, v in problems]
        if want != entry.get("problems", []):
            print("%s: manifest problems should be %s" % (entry["file"], json.dumps(want)))
            rc = 1
        exp = os.path.join(HERE, entry["file"][:-4] + ".expected.json")
        body = json.dumps(recs, indent=1, ensure_ascii=False) + "\n"
        if "--oracle" in sys.argv:
            try:
                got = oracle(path, frm, to)
            except Exception as e:          # the oracle may fail on bad input
                print("%s: the oracle fails: %s: %s" % (entry["file"], type(e).__name__, e))
                continue
            a = {json.dumps(r, sort_keys=True) for r in recs}
            b = {json.dumps(r, sort_keys=True) for r in got}
            print("%s: %d expected, oracle %d, %d only here, %d only in the oracle"
                  % (entry["file"], len(a), len(b), len(a - b), len(b - a)))
            for r in sorted(a - b):
                print("   only here:   " + r)
            for r in sorted(b - a):
                print("   only oracle: " + r)
        elif "--check" in sys.argv:
            if not os.path.exists(exp) or open(exp).read() != body:
                print("%s: would change" % exp)
                rc = 1
        else:
            open(exp, "w").write(body)
            print("%s: %d occurrences" % (exp, len(recs)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
