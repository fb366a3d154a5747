#!/usr/bin/python3
"""SMTP test peer for crier, on Debian's python3-aiosmtpd.

Run with /usr/bin/python3 (which sees Debian's packages):

  smtp_peer.py --port-file F [--maildir DIR] [--index FILE]
               [--reject-rcpt ADDR]... [--tempfail-rcpt ADDR]...
               [--slow SECONDS] [--starttls CERT KEY [--require-starttls]]
               [--smtps CERT KEY] [--auth USER:PASSFILE]
               [--fail-data N] [--lifetime S]

It listens on 127.0.0.1, port 0 (the kernel picks one), and writes the
chosen port and a newline to --port-file (atomically, once it accepts
connections).  It stops by itself after --lifetime seconds (default 120)
or on SIGTERM/SIGINT.

Messages: each accepted DATA is stored as DIR/NNNN.eml (the raw data as
received, dot-unstuffed, CRLF line ends) and DIR/NNNN.json ({"id",
"mail_from", "rcpt_tos", "mail_options", "rcpt_options", "size", "time",
"tls", "auth_user", "peer_port", "file"}); --index FILE (default
DIR/index.json when --maildir is given) holds the JSON list of all of
them, rewritten atomically after each message.  With neither option the
messages are only counted (and logged with SMTP_PEER_VERBOSE=1).

Behaviour (RFC 5321 replies; RFC 3207 STARTTLS; RFC 4954 AUTH):
  --reject-rcpt ADDR   RCPT TO:<ADDR> -> 550 5.1.1 (permanent); the other
                       recipients of the same transaction are accepted
                       (case-insensitive match; may be repeated)
  --tempfail-rcpt ADDR RCPT TO:<ADDR> -> 450 4.2.1 (temporary)
  --slow SECONDS       wait this long before answering each DATA
  --fail-data N        the first N DATA commands get 451 4.3.0 (temporary,
                       nothing stored)
  --starttls CERT KEY  offer STARTTLS (EHLO lists it)
  --require-starttls   refuse everything but EHLO/HELO/NOOP/QUIT/STARTTLS
                       with 530 5.7.0 "Must issue a STARTTLS command first"
                       until TLS is up (so MAIL before TLS is refused)
  --smtps CERT KEY     implicit TLS on connect (smtps://) instead
  --auth USER:PASSFILE AUTH PLAIN and LOGIN offered and required before
                       MAIL (530 5.7.0 Authentication required); 535 on a
                       bad login.  The password is the file's content, one
                       trailing newline removed.  With TLS configured, AUTH
                       is only offered after STARTTLS (538 before); without
                       TLS it is allowed in clear (loopback tests only).
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import ssl
import sys
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def write_atomic(path, data):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(data)
    os.rename(tmp, path)


class Handler:
    def __init__(self, args):
        self.args = args
        self.reject = {a.lower() for a in args.reject_rcpt}
        self.tempfail = {a.lower() for a in args.tempfail_rcpt}
        self.fail_data_left = args.fail_data
        self.count = 0
        self.index = []
        self.index_path = args.index
        if args.maildir:
            os.makedirs(args.maildir, exist_ok=True)
            if not self.index_path:
                self.index_path = os.path.join(args.maildir, "index.json")
        if self.index_path:
            write_atomic(self.index_path, "[]\n")

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        low = address.lower()
        if low in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: User " \
                   "unknown" % address
        if low in self.tempfail:
            return "450 4.2.1 <%s>: Recipient address temporarily " \
                   "rejected" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.slow:
            await asyncio.sleep(self.args.slow)
        if self.fail_data_left > 0:
            self.fail_data_left -= 1
            return "451 4.3.0 Temporary failure, try again later"
        self.count += 1
        n = self.count
        data = envelope.original_content or b""
        auth = session.auth_data
        if isinstance(auth, LoginPassword):
            auth = auth.login.decode("utf-8", "replace")
        meta = {
            "id": n,
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "size": len(data),
            "time": time.time(),
            "tls": server._tls_protocol is not None or bool(self.args.smtps),
            "auth_user": auth if session.authenticated else None,
            "peer_port": session.peer[1] if session.peer else None,
            "file": None,
        }
        if self.args.maildir:
            base = os.path.join(self.args.maildir, "%04d" % n)
            with open(base + ".eml.tmp", "wb") as f:
                f.write(data)
            os.rename(base + ".eml.tmp", base + ".eml")
            meta["file"] = base + ".eml"
            write_atomic(base + ".json", json.dumps(meta, indent=1) + "\n")
        if self.index_path:
            self.index.append(meta)
            write_atomic(self.index_path, json.dumps(self.index, indent=1)
                         + "\n")
        if os.environ.get("SMTP_PEER_VERBOSE"):
            sys.stderr.write("smtp_peer: #%d from %s to %s (%d bytes)\n" %
                             (n, envelope.mail_from, envelope.rcpt_tos,
                              len(data)))
        return "250 2.0.0 OK: queued as %04d" % n


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if mechanism not in ("LOGIN", "PLAIN"):
            return AuthResult(success=False, handled=False)
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = (auth_data.login.decode("utf-8", "replace") == user and
              auth_data.password.decode("utf-8", "replace") == password)
        return AuthResult(success=ok, handled=False,
                          auth_data=auth_data if ok else None)
    return authenticator


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def parse_args(argv):
    p = argparse.ArgumentParser(description="SMTP test peer (aiosmtpd)")
    p.add_argument("--port-file", required=True)
    p.add_argument("--maildir")
    p.add_argument("--index")
    p.add_argument("--reject-rcpt", action="append", default=[])
    p.add_argument("--tempfail-rcpt", action="append", default=[])
    p.add_argument("--slow", type=float, default=0.0)
    p.add_argument("--fail-data", type=int, default=0)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--smtps", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--auth", metavar="USER:PASSFILE")
    p.add_argument("--lifetime", type=float, default=120.0)
    args = p.parse_args(argv)
    if args.require_starttls and not args.starttls:
        p.error("--require-starttls needs --starttls CERT KEY")
    if args.starttls and args.smtps:
        p.error("--starttls and --smtps exclude each other")
    return args


async def serve(args):
    handler = Handler(args)
    kwargs = {"hostname": "localhost", "ident": "crier smtp_peer",
              "data_size_limit": 64 * 1024 * 1024}
    if args.starttls:
        kwargs["tls_context"] = server_context(*args.starttls)
        kwargs["require_starttls"] = args.require_starttls
    if args.auth:
        user, _, passfile = args.auth.partition(":")
        with open(passfile) as f:
            password = f.read()
        if password.endswith("\n"):
            password = password[:-1]
        kwargs["authenticator"] = make_authenticator(user, password)
        kwargs["auth_required"] = True
        # AUTH in clear only when no TLS at all is configured (loopback).
        kwargs["auth_require_tls"] = bool(args.starttls)
    loop = asyncio.get_running_loop()
    tls = server_context(*args.smtps) if args.smtps else None

    def factory():
        return SMTP(handler, loop=loop, **kwargs)

    server = await loop.create_server(factory, host="127.0.0.1", port=0,
                                      ssl=tls)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.call_later(args.lifetime, stop.set)
    write_atomic(args.port_file, "%d\n" % port)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(
        logging.INFO if os.environ.get("SMTP_PEER_VERBOSE") else
        logging.CRITICAL)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
