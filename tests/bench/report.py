#!/usr/bin/python3
"""Folds tests/bench/peers.sh's results (one JSON file per scenario run in
DIR) into DIR/results.json and prints one table: each point of issue 16,
crier's figure, the reference's, their ratio, the target and whether it
holds. Timing is reported, never asserted."""
import glob, json, os, sys


def load(d):
    runs = {}
    for f in sorted(glob.glob(os.path.join(d, "*.json"))):
        name = os.path.basename(f)[:-5]
        if name == "results":
            continue
        with open(f) as fp:
            runs[name] = json.load(fp)
    return runs


def by(runs, prefix):
    out = [r for k, r in runs.items() if k.startswith(prefix + "-")]
    return sorted(out, key=lambda r: r.get("q", r.get("events", 0)))


def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "ms":
        return "%.1f ms" % v if v < 100 else "%.0f ms" % v
    if unit == "s":
        return "%.2f s" % v if v < 100 else "%.0f s" % v
    if unit == "/s":
        return "%.0f/s" % v
    if unit == "MiB":
        return "%.1f MiB" % v
    return str(v)


def longest(lp):
    """The longest loop turn of a "loop" delta (peers.sh loop_delta): its
    length if it fell in the measured part, else a bound (the longest since
    the start came before)."""
    if lp["longest_ms"] is not None:
        return "%.1f ms" % lp["longest_ms"]
    return "<= %.1f ms" % lp["longest_before_ms"]


def qname(q):
    return "empty" if q == 0 else ("%dk queued" % (q // 1000) if q >= 1000 else "%d queued" % q)


def main():
    d = sys.argv[1]
    runs = load(d)
    rows = []

    def row(point, what, crier, ref, ratio, target, holds, unit):
        rows.append({"point": point, "what": what, "crier": crier, "reference": ref,
                     "ratio": ratio, "target": target, "holds": holds, "unit": unit})

    for r in by(runs, "lateness"):
        c, f = r["crier"]["p99_ms"], r["floor"]["p99_ms"]
        lp = r.get("loop")
        row(1, "lateness p99, %d posts 1 s apart, %s%s" % (
            r["posts"], qname(r["q"]),
            " (loop: %d turns busy over 5 ms, longest %s)" % (
                lp["over_5ms"], longest(lp)) if lp else ""),
            c, f, c / f if f else None, "<= floor + 1 ms", c <= f + 1, "ms")
    for r in by(runs, "webhooks"):
        n, a = r["requests"], r["crier"]["arrived_seconds"]
        c = n / a if a > 0 else None
        ref = n / r["curl_seconds"]
        row(2, "%d webhooks due at once to nginx, %s (vs curl --parallel-max 16)"
            % (n, qname(r["q"])), c, ref, c / ref if c else None, ">= 0.8x", bool(c and c / ref >= 0.8), "/s")
        # What the machine allows at best: crierd's and nginx's CPU time
        # for the burst spread perfectly over every core.
        cpu = r.get("crier_cpu_seconds", 0) + r.get("nginx_cpu_seconds", 0)
        if cpu > 0 and "cpus" in r:
            best = n / (cpu / r["cpus"])
            row(2, "  the most the CPU allows: crierd's %.2f s + nginx's %.2f s of CPU over %d cores"
                % (r["crier_cpu_seconds"], r["nginx_cpu_seconds"], r["cpus"]), best, ref,
                best / ref, "(for reference)", None, "/s")
    for r in by(runs, "newsletter"):
        n, s = r["recipients"], r["crier"]["sent_seconds"]
        c = n / s if s > 0 else None
        ref = n / r["smtp_source_d_seconds"]
        ref1 = n / r["smtp_source_seconds"]
        row(3, "newsletter to %d recipients of smtp-sink, 1 session (vs smtp-source -s 1 -d)"
            % n, c, ref, c / ref if c else None, ">= 0.5x", bool(c and c / ref >= 0.5), "/s")
        row(3, "the same vs smtp-source -s 1 (a connection per message)",
            c, ref1, c / ref1 if c else None, "(for reference)", None, "/s")
    ctl = by(runs, "ctl")
    for r in ctl:
        for v in ("status", "list", "agenda", "show"):
            p = r["verbs"][v]["p99_ms"]
            row(4, "`%s` p99, %s" % (v, qname(r["q"])), p, None, None, "<= 5 ms", p <= 5, "ms")
        for key, what in (("during_reload", "a reload of %d unchanged occurrences"),
                          ("during_changed_reload", "a reload of %d occurrences, every one changed")):
            rl = r.get(key)
            if not rl:
                continue
            for v in ("status", "list", "agenda", "show"):
                p = rl[v]["p99_ms"]
                row(4, "`%s` p99 during %s (%d samples, reload %.1f s)"
                    % (v, what % r["q"], rl[v]["n"], rl["reload_seconds"]), p, None, None,
                    "<= 5 ms", p <= 5, "ms")
            m = max(rl[v]["max_ms"] for v in ("status", "list", "agenda", "show", "status_poll"))
            row(4, "longest request during that reload%s"
                % (", %d closed unanswered" % rl["lost"] if rl.get("lost") else ""), m, None,
                None, "(for reference)", None, "ms")
            lp = rl.get("loop")
            if lp:
                # crierd's own measure of its turns (status: daemon.loop).
                row(4, "loop turns busy over 10 ms during that reload (of %d; %d over 5 ms,"
                    " longest %s)" % (lp["turns"], lp["over_5ms"], longest(lp)),
                    lp["over_10ms"], None, None, "0", lp["over_10ms"] == 0, "")
        p = r["verbs"]["post"]["p99_ms"]
        row(5, "`post` p99, %s" % qname(r["q"]), p, None, None, "<= 2 ms", p <= 2, "ms")
        pl = r["pipeline"]
        lp = pl.get("loop")
        row(5, "%d posts pipelined on one connection, %s%s" % (
            pl["n"], qname(r["q"]),
            " (loop: %d turns busy over 10 ms)" % lp["over_10ms"] if lp else ""),
            pl["seconds"], None, None, "<= 2 s for 10 000",
            pl["seconds"] <= 2 * pl["n"] / 10000, "s")
    for r in by(runs, "check"):
        c, ref = r["crier"], r["reference"]
        sp = ref["seconds"] / c["seconds"] if c["seconds"] else None
        row(6, "`--check --json`, %d events / %d occurrences, time (identical: %s)"
            % (r["events"], r["occurrences"], "yes" if r["identical"] else "NO"),
            c["seconds"], ref["seconds"], sp, ">= 20x faster", bool(sp and sp >= 20 and r["identical"]), "s")
        rr = c["max_rss_kb"] / ref["max_rss_kb"]
        row(6, "`--check --json`, %d events, peak RSS" % r["events"], c["max_rss_kb"] / 1024,
            ref["max_rss_kb"] / 1024, rr, "<= 0.25x", rr <= 0.25, "MiB")
    for r in by(runs, "rss"):
        row(7, "RSS idle on the demo", r["idle_demo_kb"] / 1024, None, None, "<= 16 MiB",
            r["idle_demo_kb"] <= 16 * 1024, "MiB")
        row(7, "RSS, %s" % qname(r["q"]), r["queued_kb"] / 1024, None, None, "<= 64 MiB",
            r["queued_kb"] <= 64 * 1024, "MiB")
        lost = sum(x.get("lost", 0) for x in r.get("reloads", []))
        row(7, "RSS, %s, after 10 reloads%s" % (qname(r["q"]),
            " (%d status requests closed unanswered)" % lost if lost else ""), r["after_reloads_kb"] / 1024,
            None, None, "<= 64 MiB", r["after_reloads_kb"] <= 64 * 1024, "MiB")
    for r in by(runs, "startup"):
        row(8, "start to socket-ready, %s (calendars loaded: %.1f s)"
            % (qname(r["q"]), r["loaded_ms"] / 1000), r["ready_ms"], None, None, "<= 300 ms",
            r["ready_ms"] <= 300, "ms")

    rows.sort(key=lambda x: x["point"])
    quick = any(r.get("quick") for r in runs.values())
    res = {"quick": quick, "cores": os.cpu_count(), "points": rows, "runs": runs}
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    print("| # | what | crier | reference | ratio | target | holds |")
    print("|---|---|---|---|---|---|---|")
    for x in rows:
        print("| %d | %s | %s | %s | %s | %s | %s |" % (
            x["point"], x["what"], fmt(x["crier"], x["unit"]), fmt(x["reference"], x["unit"]),
            "—" if x["ratio"] is None else "%.2fx" % x["ratio"], x["target"],
            "—" if x["holds"] is None else ("yes" if x["holds"] else "no")))
    if quick:
        print("\n(QUICK=1: small sizes, for development; not a baseline)")
    print("\nJSON: %s" % os.path.join(d, "results.json"))


if __name__ == "__main__":
    main()
