#!/usr/bin/python3
"""Scriptable local HTTP(S) server for crier's tests (Python 3 stdlib only).

Run:  /usr/bin/python3 httpmock.py --port-file F [--lifetime S]
                                   [--tls CERT KEY] [--hmac-secret-file F]

It binds 127.0.0.1 on a port of its own choosing and writes that port
(then a newline) to the --port-file, atomically, once it accepts
connections.  It stops by itself after --lifetime seconds (default 120),
or on SIGTERM/SIGINT.

Control endpoints (never scripted, never recorded):
  POST /_control/script    body: JSON list of response specs, used in
                           order by the next requests; replaces the
                           queue, or appends with ?append=1
  GET  /_control/requests  JSON list of the requests recorded so far
  POST /_control/reset     clears the recorded requests and the script

A response spec is a JSON object; every key is optional:
  status       HTTP status (default 200)
  headers      {"Name": "value"} added to the response
  body         object/list: sent as JSON; string: sent as-is (UTF-8)
  body_size    send this many bytes of filler as the body instead
  body_hex     send these bytes (hex) as the body
  chunked      true: send the body with chunked encoding (no length)
  interim      [{"status": 103, "headers": {...}}] 1xx responses first
  delay        seconds to wait before answering
  hang         seconds to wait, then close without answering unless
               "status" is also given
  reset        true: close the connection with a TCP RST, no answer
  garbage      true (binary junk) or a string: sent instead of HTTP,
               then the connection is closed
  close        true: "Connection: close" and close after answering
  path         only requests with this path (exact, or prefix if it
               ends in "*") take this spec; others skip over it
  method       only requests with this method take this spec
With an empty script the default answer is 200 {"ok": true}.

Every other request is recorded as {"method", "path", "query", "headers"
(name -> value, names as sent, repeated names joined by ", "), "body"
(text, undecodable bytes replaced), "body_len", "time" (float, Unix),
"client_port", "tls", "verified" (HMAC result, or null without
--hmac-secret-file)}.

With --hmac-secret-file, requests must carry "X-Crier-Signature:
sha256=<hex>", the HMAC-SHA256 (key: the file's content, one trailing
newline removed) of "<X-Crier-Timestamp>.<body>" when the request has an
X-Crier-Timestamp header, else of the body alone; a missing or wrong
signature gets 401 {"error": "bad signature"} instead of the script.

Other mocks (the Mastodon, Bluesky... APIs) import this module: subclass
MockHandler and override route(), which may return a response spec for
a request before the script is consulted, then call main(handler=...).
"""

import argparse
import hashlib
import hmac
import http.server
import json
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

CONTROL = "/_control/"


class MockState:
    """What the handlers share: the script, the log and the options."""

    def __init__(self, hmac_secret=None, tls=False):
        self.lock = threading.Lock()
        self.script = []
        self.requests = []
        self.hmac_secret = hmac_secret
        self.tls = tls
        self.stopping = threading.Event()

    def set_script(self, specs, append=False):
        with self.lock:
            if append:
                self.script.extend(specs)
            else:
                self.script = list(specs)

    def take(self, method, path):
        """Removes and returns the first spec matching METHOD and PATH."""
        with self.lock:
            for i, spec in enumerate(self.script):
                if not spec_matches(spec, method, path):
                    continue
                return self.script.pop(i)
        return None

    def record(self, rec):
        with self.lock:
            self.requests.append(rec)

    def recorded(self):
        with self.lock:
            return list(self.requests)

    def reset(self):
        with self.lock:
            self.requests = []
            self.script = []


def spec_matches(spec, method, path):
    want = spec.get("method")
    if want is not None and want.upper() != method:
        return False
    want = spec.get("path")
    if want is None:
        return True
    if want.endswith("*"):
        return path.startswith(want[:-1])
    return path == want


def sign(secret, body, timestamp=None):
    """Returns the hex HMAC-SHA256 the server expects for BODY."""
    msg = body if timestamp is None else timestamp.encode() + b"." + body
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


class MockHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "httpmock/1"
    state = None  # set by main()

    def log_message(self, fmt, *args):
        if os.environ.get("HTTPMOCK_VERBOSE"):
            sys.stderr.write("httpmock: " + (fmt % args) + "\n")

    def setup(self):
        # The TLS handshake runs here, in this connection's thread, so a
        # stalled or rejecting client cannot block the accept loop.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(30)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    # --- hooks for other mocks ------------------------------------------

    def route(self, rec):
        """Returns a response spec for REC, or None to use the script."""
        return None

    def default_response(self, rec):
        return {"status": 200, "body": {"ok": True}}

    # --- request handling -----------------------------------------------

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers, up to the empty line.
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n",
                                                             b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline(65537)
        n = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(n) if n > 0 else b""

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith(CONTROL):
            self.control(url, body)
            return
        headers = {}
        for name, value in self.headers.items():
            if name in headers:
                headers[name] += ", " + value
            else:
                headers[name] = value
        rec = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "body_len": len(body),
            "time": time.time(),
            "client_port": self.client_address[1],
            "tls": self.state.tls,
            "verified": None,
        }
        spec = None
        if self.state.hmac_secret is not None:
            rec["verified"] = self.verify(body)
            if not rec["verified"]:
                spec = {"status": 401, "body": {"error": "bad signature"}}
        self.state.record(rec)
        if spec is None:
            spec = self.route(rec)
        if spec is None:
            spec = self.state.take(self.command, url.path)
        if spec is None:
            spec = self.default_response(rec)
        self.respond(spec)

    def verify(self, body):
        got = self.headers.get("X-Crier-Signature", "")
        if not got.startswith("sha256="):
            return False
        want = sign(self.state.hmac_secret, body,
                    self.headers.get("X-Crier-Timestamp"))
        return hmac.compare_digest(got[len("sha256="):].strip().lower(), want)

    def control(self, url, body):
        if url.path == CONTROL + "script" and self.command == "POST":
            try:
                specs = json.loads(body or b"[]")
                if isinstance(specs, dict):
                    specs = [specs]
                if not isinstance(specs, list) or \
                        not all(isinstance(s, dict) for s in specs):
                    raise ValueError("want a list of objects")
            except ValueError as e:
                self.respond({"status": 400, "body": {"error": str(e)}})
                return
            append = urllib.parse.parse_qs(url.query).get("append") == ["1"]
            self.state.set_script(specs, append)
            self.respond({"status": 200, "body": {"ok": True,
                                                  "queued": len(specs)}})
        elif url.path == CONTROL + "requests" and self.command == "GET":
            self.respond({"status": 200, "body": self.state.recorded()})
        elif url.path == CONTROL + "reset" and self.command == "POST":
            self.state.reset()
            self.respond({"status": 200, "body": {"ok": True}})
        else:
            self.respond({"status": 404, "body": {"error": "no such control"}})

    def abort(self, rst):
        """Closes the connection at once, with a TCP RST if RST."""
        self.close_connection = True
        try:
            if rst:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            # The file objects hold references: close them all so the
            # descriptor really closes now.
            self.wfile.close()
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass

    def respond(self, spec):
        if spec.get("delay"):
            self.state.stopping.wait(float(spec["delay"]))
        if spec.get("hang") is not None:
            self.state.stopping.wait(float(spec["hang"]))
            if "status" not in spec:
                self.abort(False)
                return
        if spec.get("reset"):
            self.abort(True)
            return
        if spec.get("garbage"):
            junk = spec["garbage"]
            if isinstance(junk, str):
                junk = junk.encode()
            else:
                junk = b"\x00\xff\xfe garbage \x01\x02" * 8 + b"\r\n\r\n"
            try:
                self.wfile.write(junk)
                self.wfile.flush()
            except OSError:
                pass
            self.abort(False)
            return

        status = int(spec.get("status", 200))
        headers = dict(spec.get("headers") or {})
        if "body_size" in spec:
            body = b"x" * int(spec["body_size"])
            headers.setdefault("Content-Type", "application/octet-stream")
        elif "body_hex" in spec:
            body = bytes.fromhex(spec["body_hex"])
            headers.setdefault("Content-Type", "application/octet-stream")
        elif "body" in spec and spec["body"] is not None:
            body = spec["body"]
            if isinstance(body, str):
                body = body.encode()
                headers.setdefault("Content-Type", "text/plain; charset=utf-8")
            else:
                body = json.dumps(body).encode()
                headers.setdefault("Content-Type", "application/json")
        else:
            body = b""
        try:
            for interim in spec.get("interim") or []:
                self.send_response_only(int(interim.get("status", 100)))
                for name, value in (interim.get("headers") or {}).items():
                    self.send_header(name, str(value))
                self.end_headers()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, str(value))
            chunked = bool(spec.get("chunked"))
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(body)))
            if spec.get("close"):
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD" or status in (204, 304):
                pass
            elif chunked:
                step = 65536
                for i in range(0, len(body), step):
                    part = body[i:i + step]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            # The client went away (a timeout or a size limit on its side).
            self.close_connection = True


class MockServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Clients hanging up or refusing our certificate are test cases.
        exc = sys.exc_info()[1]
        if isinstance(exc, (OSError, ssl.SSLError, ValueError)):
            return
        super().handle_error(request, client_address)


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="scriptable HTTP test server")
    p.add_argument("--port-file", required=True)
    p.add_argument("--lifetime", type=float, default=120.0)
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--hmac-secret-file")
    return p.parse_args(argv)


def main(argv=None, handler=MockHandler):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    secret = None
    if args.hmac_secret_file:
        with open(args.hmac_secret_file, "rb") as f:
            secret = f.read()
        if secret.endswith(b"\n"):
            secret = secret[:-1]
        if secret.endswith(b"\r"):
            secret = secret[:-1]
    state = MockState(hmac_secret=secret, tls=bool(args.tls))
    handler_class = type(handler.__name__, (handler,), {"state": state})
    server = MockServer(("127.0.0.1", 0), handler_class)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)

    def stop(*_):
        state.stopping.set()
        # shutdown() waits for serve_forever(): never call it from there.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    timer = threading.Timer(args.lifetime, stop)
    timer.daemon = True
    timer.start()
    write_port_file(args.port_file, server.server_address[1])
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        state.stopping.set()
        timer.cancel()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
