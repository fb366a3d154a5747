"""crierd's control protocol spoken directly, for tests that pipeline
requests on one connection while another polls (standard library only).

  conn(PATH)            a connection and its reader
  ask(S, F, REQ)        REQ (the version added) on S; F's next reply
  send(S, *REQS)        REQS (the version added) on S at once, unanswered
  left_midway(A, B, BF) closes A, whose reply is being made, and prints
                        whether B still gets status answered (then exits)
  Replies(S)            what comes back on S, a whole line at a time:
    .poll()             reads what is there without waiting; False if S
                        was closed
    .wait(N)            waits until N replies came; False if S closed first
    .first_or_none()    after a poll or wait: the first reply, or None
"""

import json
import socket
import sys


def conn(path):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s, s.makefile("rb")


def ask(s, f, req):
    s.sendall((json.dumps(dict(req, v=1)) + "\n").encode())
    return json.loads(f.readline())


def send(s, *reqs):
    s.sendall("".join(json.dumps(dict(r, v=1)) + "\n" for r in reqs).encode())


def left_midway(a, b, bf):
    a.close()
    print(json.dumps({"status": ask(b, bf, {"cmd": "status"})["ok"]}))
    sys.exit(0)


class Replies:
    def __init__(self, s):
        self.s, self.buf, self.replies = s, b"", []

    def _take(self, got):
        self.buf += got
        *lines, self.buf = self.buf.split(b"\n")
        self.replies += [json.loads(l) for l in lines]

    def poll(self):
        self.s.setblocking(False)
        try:
            got = self.s.recv(1 << 20)
        except BlockingIOError:
            return True
        finally:
            self.s.setblocking(True)
        if not got:
            return False
        self._take(got)
        return True

    def wait(self, n):
        while len(self.replies) < n:
            got = self.s.recv(1 << 20)
            if not got:
                return False
            self._take(got)
        return True

    def first_or_none(self):
        return self.replies[0] if self.replies else None
