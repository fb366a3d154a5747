#!/usr/bin/python3
"""An SMTP server for crier's tests that stalls at any stage on demand.

Run with /usr/bin/python3 (standard library only; Python >= 3.11 for
StreamWriter.start_tls):

  smtp_stall.py --port-file F --control-port-file C [--maildir DIR]
                [--starttls CERT KEY] [--auth USER:PASSFILE]
                [--stall STAGE:SECONDS[:COUNT]]... [--lifetime S]

It listens on 127.0.0.1 (port 0: the kernel picks one) and writes the port
to --port-file; a line-based control port on 127.0.0.1 is written to
--control-port-file. It stops by itself after --lifetime seconds (default
300) or on SIGTERM/SIGINT.

SMTP (RFC 5321): EHLO/HELO, STARTTLS (RFC 3207, with --starttls, then
required before MAIL), AUTH PLAIN and LOGIN (RFC 4954, with --auth, then
required before MAIL; offered only after STARTTLS when TLS is configured),
MAIL, RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT. Every accepted message
is stored as DIR/NNNN.eml with DIR/NNNN.json and DIR/index.json like
smtp_peer.py ({"id", "mail_from", "rcpt_tos", "size", "time", "tls",
"auth_user", "peer_port", "file"}).

Stalls. STAGE is one of
  connect   new TCP connections are not accepted (the listen queue, of
            length 1, is filled, so the client's SYNs go unanswered); in
            force once `status` lists it as stalling
  greeting  the 220 greeting is held back
  ehlo, starttls, auth, mail, rcpt, data, quit
            the reply to that command is held back
  block     after 354, the message is not read
  end       the message is read and stored (so it has arrived), then the
            reply to the final "." is held back
A stall lasts SECONDS (0: until released) and applies to the next COUNT
times the stage is reached (default 1).

Control port: one command per line, one JSON reply per line:
  stall STAGE SECONDS [COUNT]   arm a stall
  release                       end every stall now and disarm them all
  status                        {"stalling": [{"stage", "since"}],
                                 "stalls": {stage: times begun},
                                 "armed": {stage: count left},
                                 "sessions": n, "messages": n}
"""

import argparse
import asyncio
import base64
import json
import os
import signal
import socket
import ssl
import sys
import time

STAGES = ("connect", "greeting", "ehlo", "starttls", "auth", "mail", "rcpt",
          "data", "block", "end", "quit")
MAX_LINE = 4096
MAX_MESSAGE = 32 * 1024 * 1024


def write_atomic(path, data):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(data)
    os.rename(tmp, path)


def log(msg):
    sys.stderr.write("smtp_stall: %.3f %s\n" % (time.time(), msg))
    sys.stderr.flush()


class Stalls:
    def __init__(self):
        self.armed = {}       # stage -> [seconds, count]
        self.active = {}      # id -> (stage, since, event)
        self.begun = {}
        self.next_id = 0
        self.accepting = asyncio.Event()
        self.accepting.set()

    def arm(self, stage, seconds, count=1):
        if stage not in STAGES:
            raise ValueError("unknown stage %r" % stage)
        self.armed[stage] = [float(seconds), int(count)]
        if stage == "connect":
            self.accepting.clear()

    def release(self):
        self.armed.clear()
        for _, _, ev in self.active.values():
            ev.set()
        self.accepting.set()

    async def point(self, stage):
        """Stalls here if a stall of STAGE is armed."""
        a = self.armed.get(stage)
        if not a or a[1] <= 0:
            return
        seconds = a[0]
        a[1] -= 1
        if a[1] <= 0:
            del self.armed[stage]
        ev = asyncio.Event()
        self.next_id += 1
        sid = self.next_id
        self.active[sid] = (stage, time.time(), ev)
        self.begun[stage] = self.begun.get(stage, 0) + 1
        log("stall at %s for %s s" % (stage, seconds or "ever"))
        try:
            if seconds > 0:
                try:
                    await asyncio.wait_for(ev.wait(), seconds)
                except asyncio.TimeoutError:
                    pass
            else:
                await ev.wait()
        finally:
            del self.active[sid]
            log("stall at %s over" % stage)

    def status(self, server):
        return {"stalling": [{"stage": s, "since": t}
                             for s, t, _ in self.active.values()],
                "stalls": dict(self.begun),
                "armed": {k: v[1] for k, v in self.armed.items()},
                "sessions": server.sessions, "messages": server.count}


class Server:
    def __init__(self, args, stalls):
        self.args = args
        self.stalls = stalls
        self.count = 0
        self.sessions = 0
        self.index = []
        self.tls_ctx = None
        if args.starttls:
            self.tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_ctx.load_cert_chain(*args.starttls)
        self.user = self.password = None
        if args.auth:
            self.user, _, passfile = args.auth.partition(":")
            with open(passfile) as f:
                self.password = f.read()
            if self.password.endswith("\n"):
                self.password = self.password[:-1]
        os.makedirs(args.maildir, exist_ok=True)
        self.index_path = os.path.join(args.maildir, "index.json")
        write_atomic(self.index_path, "[]\n")

    def store(self, mail_from, rcpts, data, tls, user, peer_port):
        self.count += 1
        n = self.count
        base = os.path.join(self.args.maildir, "%04d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        os.rename(base + ".eml.tmp", base + ".eml")
        meta = {"id": n, "mail_from": mail_from, "rcpt_tos": rcpts,
                "size": len(data), "time": time.time(), "tls": tls,
                "auth_user": user, "peer_port": peer_port,
                "file": base + ".eml"}
        write_atomic(base + ".json", json.dumps(meta, indent=1) + "\n")
        self.index.append(meta)
        write_atomic(self.index_path, json.dumps(self.index, indent=1) + "\n")
        log("stored #%d for %s" % (n, rcpts))
        return n

    async def session(self, reader, writer):
        self.sessions += 1
        peer = writer.get_extra_info("peername")
        peer_port = peer[1] if peer else None
        tls = False
        user = None
        mail_from = None
        rcpts = []

        async def reply(line):
            writer.write((line + "\r\n").encode())
            await writer.drain()

        async def readline():
            line = await reader.readline()
            if not line:
                raise ConnectionError("closed")
            if len(line) > MAX_LINE:
                raise ConnectionError("line too long")
            return line.decode("utf-8", "replace").rstrip("\r\n")

        try:
            await self.stalls.point("greeting")
            await reply("220 localhost ESMTP crier smtp_stall")
            while True:
                line = await readline()
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb in ("EHLO", "HELO"):
                    await self.stalls.point("ehlo")
                    if verb == "HELO":
                        await reply("250 localhost")
                        continue
                    ext = ["localhost", "8BITMIME", "SIZE %d" % MAX_MESSAGE]
                    if self.tls_ctx and not tls:
                        ext.append("STARTTLS")
                    if self.user and (tls or not self.tls_ctx):
                        ext.append("AUTH PLAIN LOGIN")
                    for e in ext[:-1]:
                        writer.write(("250-%s\r\n" % e).encode())
                    await reply("250 " + ext[-1])
                elif verb == "STARTTLS" and self.tls_ctx and not tls:
                    await self.stalls.point("starttls")
                    await reply("220 2.0.0 Ready to start TLS")
                    await writer.start_tls(self.tls_ctx)
                    tls = True
                    mail_from, rcpts, user = None, [], None
                elif verb == "AUTH" and self.user:
                    await self.stalls.point("auth")
                    mech, _, initial = arg.partition(" ")
                    mech = mech.upper()
                    if self.tls_ctx and not tls:
                        await reply("538 5.7.11 Encryption required")
                        continue
                    if mech == "PLAIN":
                        if not initial:
                            await reply("334 ")
                            initial = await readline()
                        try:
                            parts = base64.b64decode(initial).split(b"\0")
                            u, p = parts[1].decode(), parts[2].decode()
                        except Exception:
                            await reply("501 5.5.2 Bad PLAIN")
                            continue
                    elif mech == "LOGIN":
                        try:
                            if initial:
                                u = base64.b64decode(initial).decode()
                            else:
                                await reply("334 VXNlcm5hbWU6")
                                u = base64.b64decode(await readline()).decode()
                            await reply("334 UGFzc3dvcmQ6")
                            p = base64.b64decode(await readline()).decode()
                        except Exception:
                            await reply("501 5.5.2 Bad LOGIN")
                            continue
                    else:
                        await reply("504 5.5.4 Unrecognized mechanism")
                        continue
                    if u == self.user and p == self.password:
                        user = u
                        await reply("235 2.7.0 Authentication successful")
                    else:
                        await reply("535 5.7.8 Authentication credentials "
                                    "invalid")
                elif verb == "MAIL":
                    await self.stalls.point("mail")
                    if self.tls_ctx and not tls:
                        await reply("530 5.7.0 Must issue a STARTTLS "
                                    "command first")
                    elif self.user and not user:
                        await reply("530 5.7.0 Authentication required")
                    elif not arg.upper().startswith("FROM:"):
                        await reply("501 5.5.4 Syntax: MAIL FROM:<address>")
                    else:
                        mail_from = arg[5:].split(" ")[0].strip("<>")
                        rcpts = []
                        await reply("250 2.1.0 OK")
                elif verb == "RCPT":
                    await self.stalls.point("rcpt")
                    if mail_from is None:
                        await reply("503 5.5.1 MAIL first")
                    else:
                        rcpts.append(arg[3:].split(" ")[0].strip("<>"))
                        await reply("250 2.1.5 OK")
                elif verb == "DATA":
                    await self.stalls.point("data")
                    if not rcpts:
                        await reply("503 5.5.1 RCPT first")
                        continue
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    await self.stalls.point("block")
                    chunks, size = [], 0
                    while True:
                        raw = await reader.readline()
                        if not raw:
                            raise ConnectionError("closed in DATA")
                        if raw in (b".\r\n", b".\n"):
                            break
                        if raw.startswith(b"."):
                            raw = raw[1:]
                        size += len(raw)
                        if size > MAX_MESSAGE:
                            raise ConnectionError("message too large")
                        chunks.append(raw)
                    n = self.store(mail_from, rcpts, b"".join(chunks), tls,
                                   user, peer_port)
                    await self.stalls.point("end")
                    mail_from, rcpts = None, []
                    await reply("250 2.0.0 OK: queued as %04d" % n)
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    await reply("250 2.0.0 OK")
                elif verb == "NOOP":
                    await reply("250 2.0.0 OK")
                elif verb == "QUIT":
                    await self.stalls.point("quit")
                    await reply("221 2.0.0 Bye")
                    break
                else:
                    await reply("502 5.5.2 Command not recognized")
        except (ConnectionError, ssl.SSLError, OSError) as e:
            log("session ended: %s" % e)
        finally:
            try:
                writer.close()
            except Exception:
                pass


async def accept_loop(lsock, server, stalls):
    loop = asyncio.get_running_loop()
    filler_ports = set()
    while True:
        if not stalls.accepting.is_set():
            await stall_connect(lsock, stalls, filler_ports)
            continue
        accept = asyncio.ensure_future(loop.sock_accept(lsock))
        gate = asyncio.ensure_future(_cleared(stalls))
        done, _ = await asyncio.wait({accept, gate},
                                     return_when=asyncio.FIRST_COMPLETED)
        gate.cancel()
        if accept not in done:
            accept.cancel()
            try:
                await accept
            except (asyncio.CancelledError, OSError):
                pass
            if not accept.cancelled() and accept.exception() is None:
                accept.result()[0].close()
            continue
        conn, addr = accept.result()
        if addr[1] in filler_ports:
            conn.close()
            continue
        conn.setblocking(False)
        # A server-side stream (client_connected_cb), so start_tls acts
        # as the TLS server.
        reader = asyncio.StreamReader(limit=1024 * 1024)
        proto = asyncio.StreamReaderProtocol(
            reader, lambda r, w: asyncio.ensure_future(server.session(r, w)))
        await loop.connect_accepted_socket(lambda: proto, sock=conn)


async def stall_connect(lsock, stalls, filler_ports):
    """Fills the listen queue (length 1 with backlog 0) so that further
    SYNs are dropped and a client's connect() hangs, until released."""
    fillers = []
    for _ in range(2):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(lsock.getsockname())
        except BlockingIOError:
            pass
        filler_ports.add(f.getsockname()[1])
        fillers.append(f)
    a = stalls.armed.get("connect")
    seconds = a[0] if a else 0
    stalls.begun["connect"] = stalls.begun.get("connect", 0) + 1
    stalls.active[-1] = ("connect", time.time(), asyncio.Event())
    log("stall at connect for %s s" % (seconds or "ever"))
    try:
        if seconds > 0:
            try:
                await asyncio.wait_for(stalls.accepting.wait(), seconds)
            except asyncio.TimeoutError:
                pass
        else:
            await stalls.accepting.wait()
    finally:
        del stalls.active[-1]
        stalls.armed.pop("connect", None)
        stalls.accepting.set()
        log("stall at connect over")
    # The fillers are accepted (and closed) by the accept loop.
    await asyncio.sleep(0.2)
    for f in fillers:
        f.close()


async def _cleared(stalls):
    while stalls.accepting.is_set():
        await asyncio.sleep(0.02)


async def control(reader, writer, server, stalls):
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            words = line.decode().split()
            try:
                if not words:
                    raise ValueError("empty command")
                if words[0] == "stall" and len(words) in (3, 4):
                    stalls.arm(words[1], float(words[2]),
                               int(words[3]) if len(words) == 4 else 1)
                    out = {"ok": True}
                elif words[0] == "release":
                    stalls.release()
                    out = {"ok": True}
                elif words[0] == "status":
                    out = dict(stalls.status(server), ok=True)
                else:
                    raise ValueError("unknown command %r" % words[0])
            except ValueError as e:
                out = {"ok": False, "error": str(e)}
            writer.write((json.dumps(out) + "\n").encode())
            await writer.drain()
    finally:
        writer.close()


def parse_args(argv):
    p = argparse.ArgumentParser(description="SMTP peer that stalls")
    p.add_argument("--port-file", required=True)
    p.add_argument("--control-port-file", required=True)
    p.add_argument("--maildir", required=True)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", metavar="USER:PASSFILE")
    p.add_argument("--stall", action="append", default=[],
                   metavar="STAGE:SECONDS[:COUNT]")
    p.add_argument("--lifetime", type=float, default=300.0)
    return p.parse_args(argv)


async def serve(args):
    stalls = Stalls()
    for spec in args.stall:
        parts = spec.split(":")
        stalls.arm(parts[0], float(parts[1]),
                   int(parts[2]) if len(parts) > 2 else 1)
    server = Server(args, stalls)
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    lsock.setblocking(False)
    ctl = await asyncio.start_server(
        lambda r, w: control(r, w, server, stalls), "127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(args.lifetime, stop.set)
    acc = asyncio.ensure_future(accept_loop(lsock, server, stalls))
    write_atomic(args.control_port_file,
                 "%d\n" % ctl.sockets[0].getsockname()[1])
    write_atomic(args.port_file, "%d\n" % lsock.getsockname()[1])
    await stop.wait()
    acc.cancel()
    ctl.close()
    lsock.close()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
