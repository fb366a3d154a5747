"""A webhook peer that reads crier.db on every request (turn-commit.sh,
early-mark.sh): for each POST it appends "ID ARRIVAL_MS DUE_MS STATE" to
LOG, with the delivery's due time and state as committed in the store
(read through a read-only connection of its own, which sees committed rows
only), then answers 200 "{}". It listens on 127.0.0.1 on a port of the
kernel's choice, written to PORT_FILE, and stops after SECONDS (150).

Usage: db_peer.py PORT_FILE DB LOG [SECONDS]
"""
import http.server
import json
import os
import sqlite3
import sys
import threading
import time

port_file, db, out = sys.argv[1:4]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 150
log = open(out, "a", buffering=1)
lock = threading.Lock()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        at = int(time.time() * 1000)
        n = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
        did = json.loads(self.rfile.read(n))["id"]
        c = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
        row = c.execute("SELECT due, state FROM deliveries WHERE id = ?",
                        (did,)).fetchone()
        c.close()
        with lock:
            log.write("%s %d %s %s\n" % (did, at, row[0] if row else "none",
                                         row[1] if row else "none"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
open(port_file + ".tmp", "w").write("%d\n" % srv.server_address[1])
os.rename(port_file + ".tmp", port_file)
threading.Timer(seconds, srv.shutdown).start()
srv.serve_forever()
