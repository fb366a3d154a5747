#!/usr/bin/python3
"""An HTTP sink on 127.0.0.1 for tests/bench/peers.sh: answers every POST
with 200 and appends "path id lateness_ms" per request, where lateness is the
arrival time minus the "due" (ISO 8601 UTC) of the JSON body. Stops on its
own after --lifetime seconds."""
import argparse, datetime, http.server, json, os, threading, time

MAX_BODY = 1 << 20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    out = open(a.out, "a", buffering=1)
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(min(n, MAX_BODY))
            now = time.time()
            try:
                d = json.loads(body)
                due = datetime.datetime.strptime(d["due"], "%Y-%m-%dT%H:%M:%SZ")
                due = due.replace(tzinfo=datetime.timezone.utc).timestamp()
                line = "%s %s %.3f\n" % (self.path, d.get("id"), (now - due) * 1000)
            except (ValueError, KeyError, TypeError) as e:
                line = "%s bad %s\n" % (self.path, str(e).replace(" ", "_"))
            with lock:
                out.write(line)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(a.port_file + ".tmp", a.port_file)
    threading.Timer(a.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
