#!/usr/bin/python3
"""Threads API test peer for crier (Python 3 stdlib only).

Run:  /usr/bin/python3 threads_mock.py --port-file F --token-file T
          [--processing-polls 1] [--max-chars 500] [--post-quota 250]
          [--rate-limit 48000 --rate-window 86400] [--no-fetch]
          [--lifetime S] [--tls CERT KEY]          (the last two: httpmock)

Built on httpmock.py (MockHandler subclass, main(handler=...)): the
/_control/script, /_control/requests and /_control/reset endpoints work as
documented there, and a scripted spec whose method/path match a request
wins over the emulation below.

Doc pages read (developers.facebook.com/docs/threads/...):
  posts                           (two-step publishing, limits, parameters)
  posts/accessibility             (alt_text)
  create-posts/text-attachments   (the 5-link limit, Dec 2025)
  troubleshooting                 (container status and error_message)
  overview#rate-limiting          (250 API-published posts per 24 hours,
                                   threads_publishing_limit)
  get-started/get-access-tokens-and-permissions (threads_basic,
                                   threads_content_publish, 60-day tokens)

Rules enforced
--------------
  * Paths are /v1.0/...; another or no version: 400 code 2500 "Unknown
    path components".  The token comes as access_token (query or form) or
    "Authorization: Bearer"; the token file has "TOKEN USER-ID" lines.
    Missing, unknown or expired (POST /_control/expire) token: 400
    OAuthException code 190 (expired: error_subcode 463); a token of
    another user: 400 code 10 "(#10) Application does not have permission
    for this action".
  * POST /v1.0/{user-id}/threads: media_type TEXT (text required), IMAGE
    (image_url required) or VIDEO (video_url required); CAROUSEL needs
    children and is refused for a single post.  text: at most --max-chars
    (500) characters counted as the doc says: grapheme clusters (peerlib's
    UAX #29 approximation) but an emoji cluster counts its UTF-8 bytes;
    over: 400 code 100 "Param text must be at most 500 characters long."
    More than 5 distinct links in text: 400 THREADS_API__LINK_LIMIT_EXCEEDED.
    alt_text only on IMAGE and VIDEO ("isn't available for text-only
    posts", posts/accessibility), capped by the peer at 1000 characters
    (the page names no limit).  Answer {"id": CONTAINER-ID}.
  * Threads fetches image_url/video_url itself: the peer GETs it (loopback
    URLs only; --no-fetch to skip) and a failed or non-image download
    makes the container ERROR with error_message "FAILED_DOWNLOADING_MEDIA".
  * GET /v1.0/{container-id}?fields=status,error_message: IMAGE and VIDEO
    containers are IN_PROGRESS for --processing-polls polls, then
    FINISHED; TEXT is FINISHED at once; after 24 hours EXPIRED; after
    publishing PUBLISHED.
  * POST /v1.0/{user-id}/threads_publish with creation_id: unknown or
    another user's container: 400 code 100; not FINISHED: 400 code 24
    error_subcode 4279009 "The media is not ready for publishing, please
    wait for a moment"; ERROR, EXPIRED or already PUBLISHED: 400 code 24.
    Answer {"id": MEDIA-ID}.  A container publishes at most once, so a
    client that lost the answer looks at the container's status.
  * More than --post-quota publishes per 24 hours: 400 code 9 subcode
    2207042; GET /v1.0/{user-id}/threads_publishing_limit?fields=
    quota_usage,config reports {"data": [{"quota_usage", "config":
    {"quota_total", "quota_duration": 86400}}]}.  More than --rate-limit
    calls per --rate-window (default 4800 x the minimum 10 impressions a
    day, as the overview computes it): 400 code 4 with X-App-Usage at 100;
    POST /_control/throttle {"code", "count"} forces the next errors.

Control (besides httpmock's):
  GET  /_control/containers  every container: {"id", "user", "media_type",
       "text", "image_url", "video_url", "alt_text", "status", "length",
       "fetched" (bytes downloaded or null), "media_id"}
  GET  /_control/posts       every published post: {"id", "container",
       "user", "text", "media_type", "alt_text"}
  * GET /refresh_access_token?grant_type=th_refresh_token (no version, as
    get-started/long-lived-tokens shows it) with a token: grant_type must
    be th_refresh_token (400 code 100); a missing, unknown or expired token
    is code 190; a token less than 24 hours old (by the peer's clock: the
    token file's at start, a refreshed one when it was made) is refused
    with code 190 "... must be at least 24 hours old" (the page: "can be
    refreshed as long as they are at least 24 hours old but have not
    expired"). Answer {"access_token": NEW, "token_type": "bearer",
    "expires_in": 5184000}; NEW is "th-ref-N" for the same user, and the
    old token stays valid (the page does not say it ends).
  GET  /_control/refreshes  [{"old", "new"}] in order
  POST /_control/expire  {"token": T};  POST /_control/clock {"advance": S}
  POST /_control/publish-delay {"seconds": S}: threads_publish publishes
       at once and answers S seconds later
  POST /_control/reset-all  also forgets containers, posts and counters
"""

import argparse
import ipaddress
import json
import os
import re
import sys
import threading
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpmock  # noqa: E402
from mastodon_mock import parse_params  # noqa: E402
from peerlib import Clock, _pictographic, grapheme_clusters  # noqa: E402

VERSION = "v1.0"
CONTAINER_TTL = 86400
MAX_ALT = 1000
MAX_LINKS = 5
MAX_FETCH = 8 * 1024 * 1024
URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)


def threads_length(text):
    """Characters as Threads counts them: emoji clusters by UTF-8 bytes."""
    n = 0
    for g in grapheme_clusters(text):
        emoji = any(_pictographic(ord(c)) or 0x1F1E6 <= ord(c) <= 0x1F1FF
                    for c in g)
        n += len(g.encode("utf-8")) if emoji else 1
    return n


def image_kind(data):
    return (data.startswith(b"\x89PNG\r\n\x1a\n") or
            data.startswith(b"\xff\xd8\xff") or data[:6] in (b"GIF87a",
                                                              b"GIF89a"))


def th_error(code, message, subcode=None, etype="THApiException",
             headers=None):
    err = {"message": message, "type": etype, "code": code,
           "fbtrace_id": "A" + uuid.uuid4().hex[:22]}
    if subcode is not None:
        err["error_subcode"] = subcode
    return {"status": 400, "body": {"error": err},
            "headers": dict(headers or {})}


class App:
    def __init__(self, args):
        self.args = args
        self.tokens = {}
        with open(args.token_file) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and not parts[0].startswith("#"):
                    self.tokens[parts[0]] = parts[1]
        if not self.tokens:
            raise SystemExit("threads_mock: no token in %s" % args.token_file)
        self.clock = Clock()
        self.lock = threading.RLock()
        self.issued = {t: self.clock.now() for t in self.tokens}
        self.refreshes = []
        self.reset()

    def reset(self):
        with self.lock:
            self.containers = {}
            self.posts = []
            self.expired = set()
            self.calls = {}            # user -> [window start, count]
            self.publishes = {}        # user -> [times]
            self.throttle = None
            self.next_id = 17840000000000000
            self.publish_delay = 0.0

    def new_id(self):
        with self.lock:
            self.next_id += 1 + int(self.clock.now()) % 7
            return str(self.next_id)


APP = None


class ThreadsHandler(httpmock.MockHandler):
    server_version = "threads-mock/1"

    def read_body(self):
        body = super().read_body()
        self.raw_body = body
        return body

    def route(self, rec):
        path = rec["path"]
        if path.startswith("/_"):
            return None
        spec = self.state.take(self.command, path)
        if spec is not None:
            return spec
        parts = path.strip("/").split("/")
        if parts == ["refresh_access_token"] and self.command == "GET":
            return self.refresh(rec)
        if not parts or parts[0] != VERSION:
            return th_error(2500, "Unknown path components: %s (use /%s/)"
                            % (path, VERSION), etype="OAuthException")
        params, tok, err = self.authorized(rec)
        if err is not None:
            return err
        user = APP.tokens[tok]
        limited = self.count(user)
        if limited:
            return limited
        p1 = parts[1] if len(parts) > 1 else ""
        edge = parts[2] if len(parts) > 2 else None
        if edge is not None and p1 != user:
            return th_error(10, "(#10) Application does not have permission "
                            "for this action")
        if self.command == "POST" and edge == "threads":
            return self.create(user, params)
        if self.command == "POST" and edge == "threads_publish":
            spec = self.publish(user, params)
            if APP.publish_delay > 0 and spec["status"] == 200:
                spec = dict(spec, delay=APP.publish_delay)
            return spec
        if self.command == "GET" and edge == "threads_publishing_limit":
            return {"status": 200, "body": {"data": [{
                "quota_usage": len(self.recent(user)),
                "config": {"quota_total": APP.args.post_quota,
                           "quota_duration": 86400}}]}}
        if self.command == "GET" and edge is None and p1:
            return self.status(user, p1)
        return th_error(100, "Unsupported %s request to %s"
                        % (self.command, path), etype="GraphMethodException")

    def authorized(self, rec):
        """(params, token, None), or an error spec: unparsable, unknown or
        expired token (access_token, or Authorization: Bearer)."""
        try:
            params = parse_params(self.headers, rec["query"], self.raw_body)
        except (ValueError, UnicodeDecodeError) as e:
            return None, None, th_error(100, "Cannot parse the request: %s"
                                        % e)
        tok = params.get("access_token", [None])[0]
        auth = self.headers.get("Authorization", "")
        if tok is None and auth.startswith("Bearer "):
            tok = auth[len("Bearer "):].strip()
        with APP.lock:
            if tok not in APP.tokens:
                return None, None, th_error(
                    190, "Invalid OAuth access token - Cannot parse access "
                    "token", etype="OAuthException")
            if tok in APP.expired:
                return None, None, th_error(
                    190, "Error validating access token: Session has "
                    "expired.", 463, "OAuthException")
        return params, tok, None

    def refresh(self, rec):
        params, tok, err = self.authorized(rec)
        if err is not None:
            return err
        if params.get("grant_type", [None])[0] != "th_refresh_token":
            return th_error(100, "(#100) grant_type must be th_refresh_token")
        with APP.lock:
            if APP.clock.now() - APP.issued.get(tok, 0) < 86400:
                return th_error(190, "The access token must be at least 24 "
                                "hours old to be refreshed",
                                etype="OAuthException")
            new = "th-ref-%d" % (len(APP.refreshes) + 1)
            APP.tokens[new] = APP.tokens[tok]
            APP.issued[new] = APP.clock.now()
            APP.refreshes.append({"old": tok, "new": new})
        return {"status": 200, "body": {"access_token": new,
                                        "token_type": "bearer",
                                        "expires_in": 5184000}}

    def count(self, user):
        a = APP.args
        now = APP.clock.now()
        with APP.lock:
            th = APP.throttle
            if th and th["count"] > 0:
                th["count"] -= 1
                return th_error(th["code"], "(#%d) Application request limit "
                                "reached" % th["code"], headers={
                                    "X-App-Usage": json.dumps({
                                        "call_count": 100, "total_cputime": 5,
                                        "total_time": 5})})
            b = APP.calls.get(user)
            if b is None or now >= b[0] + a.rate_window:
                b = APP.calls[user] = [now, 0]
            b[1] += 1
            if b[1] > a.rate_limit:
                return th_error(4, "(#4) Application request limit reached",
                                headers={"X-App-Usage": json.dumps({
                                    "call_count": 100, "total_cputime": 5,
                                    "total_time": 5})})
        return None

    def recent(self, user):
        now = APP.clock.now()
        with APP.lock:
            times = [t for t in APP.publishes.get(user, []) if now - t < 86400]
            APP.publishes[user] = times
            return times

    def fetch(self, url):
        """Downloads URL as Threads would: bytes, or None on failure."""
        if APP.args.no_fetch:
            return b""
        try:
            host = urllib.parse.urlsplit(url).hostname or ""
            if host != "localhost" and \
                    not ipaddress.ip_address(host).is_loopback:
                return None
            opener = urllib.request.build_opener(
                urllib.request.ProxyHandler({}))
            with opener.open(url, timeout=10) as r:
                return r.read(MAX_FETCH + 1)
        except (ValueError, OSError):
            return None

    def create(self, user, params):
        g = lambda n: params.get(n, [None])[0]  # noqa: E731
        mtype, text = g("media_type"), g("text")
        if mtype is None:
            return th_error(100, "(#100) The parameter media_type is required")
        if mtype == "CAROUSEL" and not params.get("children"):
            return th_error(100, "(#100) CAROUSEL is not available for "
                            "single thread posts: children required")
        if mtype not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            return th_error(100, "(#100) Invalid media_type %r" % mtype)
        if mtype == "TEXT" and not text:
            return th_error(100, "(#100) The parameter text is required for "
                            "media_type TEXT")
        url = g("image_url") if mtype == "IMAGE" else g("video_url")
        if mtype in ("IMAGE", "VIDEO") and not url:
            return th_error(100, "(#100) The parameter %s is required for "
                            "media_type %s" % ("image_url" if mtype == "IMAGE"
                                               else "video_url", mtype))
        length = threads_length(text or "")
        if length > APP.args.max_chars:
            return th_error(100, "Param text must be at most %d characters "
                            "long." % APP.args.max_chars, 2207050)
        links = set(m.group(0).rstrip(".,;:!?)") for m in
                    URL_RE.finditer(text or ""))
        if len(links) > MAX_LINKS:
            return th_error(100, "THREADS_API__LINK_LIMIT_EXCEEDED: more than "
                            "%d links" % MAX_LINKS)
        alt = g("alt_text")
        if alt is not None and mtype == "TEXT":
            return th_error(100, "(#100) alt_text is not available for "
                            "text-only posts")
        if alt is not None and len(alt) > MAX_ALT:
            return th_error(100, "(#100) alt_text is longer than %d "
                            "characters" % MAX_ALT)
        c = {"id": APP.new_id(), "user": user, "media_type": mtype,
             "text": text, "image_url": g("image_url"),
             "video_url": g("video_url"), "alt_text": alt,
             "status": "FINISHED", "error_message": None, "length": length,
             "fetched": None, "polls": 0, "media_id": None,
             "created": APP.clock.now()}
        if url:
            data = self.fetch(url)
            if data is None or len(data) > MAX_FETCH or \
                    (mtype == "IMAGE" and data and not image_kind(data)):
                c["status"], c["error_message"] = "ERROR", \
                    "FAILED_DOWNLOADING_MEDIA"
            else:
                c["fetched"] = len(data)
                if APP.args.processing_polls > 0:
                    c["status"] = "IN_PROGRESS"
        with APP.lock:
            APP.containers[c["id"]] = c
        return {"status": 200, "body": {"id": c["id"]}}

    def current(self, c):
        """The container's status now (IN_PROGRESS ages into FINISHED)."""
        if c["status"] in ("FINISHED", "IN_PROGRESS") and \
                APP.clock.now() - c["created"] > CONTAINER_TTL:
            c["status"] = "EXPIRED"
        return c["status"]

    def status(self, user, cid):
        with APP.lock:
            c = APP.containers.get(cid)
            if c is None or c["user"] != user:
                return th_error(100, "Unsupported get request. Object with "
                                "ID '%s' does not exist" % cid,
                                33, "GraphMethodException")
            st = self.current(c)
            if st == "IN_PROGRESS":
                c["polls"] += 1
                if c["polls"] >= APP.args.processing_polls:
                    c["status"] = "FINISHED"
            body = {"id": cid, "status": st}
            if c["error_message"]:
                body["error_message"] = c["error_message"]
        return {"status": 200, "body": body}

    def publish(self, user, params):
        cid = params.get("creation_id", [None])[0]
        with APP.lock:
            c = APP.containers.get(str(cid)) if cid is not None else None
            if c is None or c["user"] != user:
                return th_error(100, "(#100) Param creation_id %r is not a "
                                "container of this user" % (cid,))
            st = self.current(c)
            if st == "IN_PROGRESS":
                return th_error(24, "The media is not ready for publishing, "
                                "please wait for a moment", 4279009)
            if st != "FINISHED":
                return th_error(24, "The container is %s and cannot be "
                                "published" % st, 4279008)
            if len(self.recent(user)) >= APP.args.post_quota:
                return th_error(9, "You reached maximum number of posts that "
                                "is allowed to be published", 2207042)
            c["status"] = "PUBLISHED"
            c["media_id"] = APP.new_id()
            APP.publishes.setdefault(user, []).append(APP.clock.now())
            APP.posts.append({"id": c["media_id"], "container": c["id"],
                              "user": user, "text": c["text"],
                              "media_type": c["media_type"],
                              "alt_text": c["alt_text"]})
            return {"status": 200, "body": {"id": c["media_id"]}}

    def control(self, url, body):
        p, m = url.path, self.command
        try:
            arg = json.loads(body or b"{}") if m == "POST" else {}
        except ValueError as e:
            self.respond({"status": 400, "body": {"error": str(e)}})
            return
        if p == "/_control/containers" and m == "GET":
            with APP.lock:
                self.respond({"status": 200, "body": [
                    {k: v for k, v in c.items() if k not in ("polls",
                                                              "created")}
                    for c in APP.containers.values()]})
        elif p == "/_control/posts" and m == "GET":
            with APP.lock:
                self.respond({"status": 200, "body": list(APP.posts)})
        elif p == "/_control/refreshes" and m == "GET":
            with APP.lock:
                self.respond({"status": 200, "body": list(APP.refreshes)})
        elif p == "/_control/expire" and m == "POST":
            with APP.lock:
                APP.expired.add(arg.get("token"))
            self.respond({"status": 200, "body": {"ok": True}})
        elif p == "/_control/throttle" and m == "POST":
            with APP.lock:
                APP.throttle = {"code": int(arg.get("code", 4)),
                                "count": int(arg.get("count", 1))}
            self.respond({"status": 200, "body": APP.throttle})
        elif p == "/_control/clock" and m == "POST":
            self.respond({"status": 200, "body": {
                "offset": APP.clock.advance(float(arg.get("advance", 0)))}})
        elif p == "/_control/publish-delay" and m == "POST":
            APP.publish_delay = float(arg.get("seconds", 0))
            self.respond({"status": 200,
                          "body": {"seconds": APP.publish_delay}})
        elif p == "/_control/reset-all" and m == "POST":
            self.state.reset()
            APP.reset()
            self.respond({"status": 200, "body": {"ok": True}})
        else:
            super().control(url, body)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Threads API test peer",
                                epilog="Other options go to httpmock.py "
                                       "(--port-file, --lifetime, --tls).")
    p.add_argument("--token-file", required=True)
    p.add_argument("--processing-polls", type=int, default=1)
    p.add_argument("--max-chars", type=int, default=500)
    p.add_argument("--post-quota", type=int, default=250)
    p.add_argument("--rate-limit", type=int, default=48000)
    p.add_argument("--rate-window", type=float, default=86400.0)
    p.add_argument("--no-fetch", action="store_true")
    return p.parse_known_args(argv)


def main(argv=None):
    global APP
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    APP = App(args)
    return httpmock.main(rest, handler=ThreadsHandler)


if __name__ == "__main__":
    sys.exit(main())
