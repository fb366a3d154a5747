#!/usr/bin/python3
"""Measurements for the SMTP stall tests (standard library only).

  stall_probe.py ctl PORT WORDS...        a command to smtp_stall.py's
                                          control port; prints its reply
  stall_probe.py wait-stall PORT STAGE S  waits up to S seconds until the
                                          peer stalls at STAGE
  stall_probe.py latency SOCK N GAP       N `status` requests to crierd's
                                          control socket, GAP seconds
                                          apart; prints {"n", "max_ms",
                                          "median_ms"}
  stall_probe.py watchdog LOG FROM TO     the longest gap (ms) between
                                          WATCHDOG=1 lines of LOG (lines
                                          "TIME MESSAGE") within [FROM, TO],
                                          the window's ends included
  stall_probe.py notify SOCK LOG S        a NOTIFY_SOCKET stand-in: logs
                                          "TIME MESSAGE" lines for S seconds
"""

import json
import socket
import statistics
import sys
import time


def control(port, words):
    with socket.create_connection(("127.0.0.1", int(port)), timeout=10) as s:
        s.sendall((" ".join(words) + "\n").encode())
        return json.loads(s.makefile().readline())


def wait_stall(port, stage, seconds):
    end = time.time() + float(seconds)
    while time.time() < end:
        st = control(port, ["status"])
        if any(x["stage"] == stage for x in st["stalling"]):
            print(json.dumps(st))
            return 0
        time.sleep(0.05)
    print(json.dumps(control(port, ["status"])))
    return 1


def latency(sock, n, gap):
    times = []
    for _ in range(int(n)):
        t0 = time.monotonic()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(30)
            s.connect(sock)
            s.sendall(b'{"v":1,"cmd":"status"}\n')
            try:
                reply = s.makefile().readline()
            except socket.timeout:
                # No answer at all: that is the measurement.
                times.append((time.monotonic() - t0) * 1000)
                break
        times.append((time.monotonic() - t0) * 1000)
        if not json.loads(reply).get("ok"):
            raise SystemExit("status failed: " + reply)
        time.sleep(float(gap))
    print(json.dumps({"n": len(times), "max_ms": round(max(times), 2),
                      "median_ms": round(statistics.median(times), 2)}))
    return 0


def watchdog(log, t_from, t_to):
    t_from, t_to = float(t_from), float(t_to)
    pings = [t_from, t_to]
    with open(log) as f:
        for line in f:
            t, _, msg = line.strip().partition(" ")
            if msg == "WATCHDOG=1" and t_from <= float(t) <= t_to:
                pings.append(float(t))
    pings.sort()
    gap = max(b - a for a, b in zip(pings, pings[1:]))
    print(round(gap * 1000))
    return 0


def notify(path, log, seconds):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(1)
    end = time.time() + float(seconds)
    with open(log, "a", buffering=1) as out:
        while time.time() < end:
            try:
                msg = s.recv(4096).decode()
            except socket.timeout:
                continue
            now = time.time()
            for line in msg.split("\n"):
                if line:
                    out.write("%.3f %s\n" % (now, line))
    return 0


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "ctl":
        print(json.dumps(control(args[0], args[1:])))
        return 0
    if cmd == "wait-stall":
        return wait_stall(*args)
    if cmd == "latency":
        return latency(*args)
    if cmd == "watchdog":
        return watchdog(*args)
    if cmd == "notify":
        return notify(*args)
    raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
