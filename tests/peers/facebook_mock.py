#!/usr/bin/python3
"""Facebook Pages (Graph API) test peer for crier (Python 3 stdlib only).

Run:  /usr/bin/python3 facebook_mock.py --port-file F --token-file T
          [--versions v24.0,v25.0,v26.0] [--rate-limit 200 --rate-window 3600]
          [--lifetime S] [--tls CERT KEY]          (the last two: httpmock)

Built on httpmock.py (MockHandler subclass, main(handler=...)): the
/_control/script, /_control/requests and /_control/reset endpoints work as
documented there, and a scripted spec whose method/path match a request
wins over the emulation below.

Doc pages read (developers.facebook.com/docs/...):
  pages-api/posts                       (POST /{page-id}/feed)
  graph-api/reference/page/photos       (POST /{page-id}/photos)
  graph-api/reference/photo             (alt_text_custom)
  graph-api/guides/versioning           (/vXX.X/ in the path)
  graph-api/guides/error-handling       (error object, codes 4/17/32/190/613)
  graph-api/overview/rate-limiting      (X-App-Usage, X-Page-Usage,
                                         X-Business-Use-Case-Usage,
                                         estimated_time_to_regain_access)
  pages/access-tokens                   (page access tokens)

Rules enforced
--------------
  * Paths are /vXX.X/{page-id}/feed and /vXX.X/{page-id}/photos.  A
    version not in --versions (default v24.0, v25.0, v26.0) gets 400 code 2500
    "Unknown path components"; an unversioned path (Graph would silently
    use the app's default version) gets 400 code 2500 too: the peer wants
    the version pinned.
  * The page access token comes as access_token (query or form) or
    "Authorization: Bearer".  The token file has "TOKEN PAGE-ID" lines.
    Missing: 400 {"error": {"message": "An active access token must be
    used to query information about the current user.", "type":
    "OAuthException", "code": 2500}}; unknown: 400 code 190 "Invalid OAuth
    access token - Cannot parse access token"; expired (POST
    /_control/expire): 400 code 190, error_subcode 463 "Error validating
    access token: Session has expired ..."; a token of another page: 403
    code 200 "(#200) ... pages_manage_posts ...".  Every error has "type",
    "code", "message" and "fbtrace_id".
  * POST /feed: message and/or link (neither: 400 code 100 "(#100)
    Missing message or attachment"); link must be http(s).  Answer
    {"id": "PAGEID_POSTID"}.
  * POST /photos: url (fetched by Facebook: must be http(s)) or source
    (multipart file, PNG/JPEG/GIF), not both, not neither (400 code 324
    "(#324) Requires upload file"); message or caption is the text;
    alt_text_custom the alt text.  Answer {"id": PHOTOID, "post_id":
    "PAGEID_POSTID"}.
  * Rate limits: every answer carries X-App-Usage {"call_count",
    "total_cputime", "total_time"} (percent), X-Page-Usage (the same plus
    "estimated_time_to_regain_access", minutes) and
    X-Business-Use-Case-Usage {PAGEID: [{"type": "pages", "call_count",
    "total_cputime", "total_time", "estimated_time_to_regain_access"}]}.
    More than --rate-limit calls per --rate-window per page: 400 code 32
    "(#32) Page request limit reached" with usage 100 and the minutes to
    regain access.  POST /_control/throttle {"code": 4|17|32|613,
    "minutes": M, "count": N} makes the next N calls fail with that code
    and those headers (4 application, 17 user, 32 page, 613 "Calls to this
    api have exceeded the rate limit.").
  * No idempotency: a repeated POST makes another post.

Control (besides httpmock's):
  GET  /_control/posts   every post: {"id", "page", "kind" (feed|photo),
       "message", "link", "url", "source_size", "alt_text", "version"}
  POST /_control/expire  {"token": T}
  POST /_control/throttle  as above
  POST /_control/clock   {"advance": SECONDS}
  POST /_control/post-delay {"seconds": S}: POST /feed and /photos create
       the post at once and answer S seconds later (a client killed
       meanwhile never learns the post exists)
  POST /_control/reset-all  also forgets posts and counters
"""

import argparse
import json
import math
import os
import re
import sys
import threading
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpmock  # noqa: E402
from mastodon_mock import parse_params  # noqa: E402
from peerlib import Clock  # noqa: E402

PATH_RE = re.compile(r"^(?:/(v\d+\.\d+))?/(\d+)/(feed|photos)$")
THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


def image_kind(data):
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


class App:
    def __init__(self, args):
        self.args = args
        self.tokens = {}            # token -> page id
        with open(args.token_file) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and not parts[0].startswith("#"):
                    self.tokens[parts[0]] = parts[1]
        if not self.tokens:
            raise SystemExit("facebook_mock: no token in %s" % args.token_file)
        self.clock = Clock()
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.posts = []
            self.expired = set()
            self.buckets = {}       # page -> [window start, count]
            self.throttle = None    # {"code", "minutes", "count"}
            self.post_delay = 0.0
            self.next_id = 122100000000000000


APP = None


def fb_error(status, code, message, etype="OAuthException", subcode=None,
             headers=None):
    err = {"message": message, "type": etype, "code": code,
           "fbtrace_id": "A" + uuid.uuid4().hex[:22]}
    if subcode is not None:
        err["error_subcode"] = subcode
    return {"status": status, "body": {"error": err},
            "headers": dict(headers or {})}


class FacebookHandler(httpmock.MockHandler):
    server_version = "facebook-mock/1"

    def read_body(self):
        body = super().read_body()
        self.raw_body = body
        return body

    def usage(self, page, pct, minutes):
        pct = min(100, int(pct))
        calls = {"call_count": pct, "total_cputime": max(1, pct // 4),
                 "total_time": max(1, pct // 3)}
        return {
            "X-App-Usage": json.dumps(calls),
            "X-Page-Usage": json.dumps(dict(
                calls, estimated_time_to_regain_access=minutes)),
            "X-Business-Use-Case-Usage": json.dumps({page: [dict(
                calls, type="pages",
                estimated_time_to_regain_access=minutes)]}),
        }

    def count(self, page):
        """Counts this call: (usage headers, minutes blocked or 0)."""
        a = APP.args
        now = APP.clock.now()
        with APP.lock:
            b = APP.buckets.get(page)
            if b is None or now >= b[0] + a.rate_window:
                b = APP.buckets[page] = [now, 0]
            b[1] += 1
            minutes = 0
            if b[1] > a.rate_limit:
                minutes = max(1, math.ceil((b[0] + a.rate_window - now) / 60))
            pct = 100 * b[1] / a.rate_limit
        return self.usage(page, pct, minutes), minutes

    def route(self, rec):
        path = rec["path"]
        m = PATH_RE.match(path)
        if not m:
            return None
        spec = self.state.take(self.command, path)
        if spec is not None:
            return spec
        version, page, edge = m.groups()
        if version is None or version not in APP.args.versions.split(","):
            return fb_error(400, 2500, "Unknown path components: %s (pin one "
                            "of the Graph API versions %s)"
                            % (path, APP.args.versions))
        if self.command != "POST":
            return fb_error(400, 100, "(#100) Unsupported %s request"
                            % self.command, "GraphMethodException")
        try:
            params = parse_params(self.headers, rec["query"], self.raw_body)
        except (ValueError, UnicodeDecodeError) as e:
            return fb_error(400, 100, "(#100) Cannot parse the request: %s"
                            % e)
        tok = self.token(params)
        if tok is None:
            return fb_error(400, 2500, "An active access token must be used "
                            "to query information about the current user.")
        if tok not in APP.tokens:
            return fb_error(400, 190, "Invalid OAuth access token - Cannot "
                            "parse access token")
        if tok in APP.expired:
            return fb_error(400, 190, "Error validating access token: "
                            "Session has expired on a date in the past.",
                            subcode=463)
        if APP.tokens[tok] != page:
            return fb_error(403, 200, "(#200) If posting to a page, requires "
                            "both pages_read_engagement and "
                            "pages_manage_posts as an admin with sufficient "
                            "administrative permission")
        with APP.lock:
            th = APP.throttle
            if th and th["count"] > 0:
                th["count"] -= 1
                return fb_error(400, th["code"], THROTTLE_MESSAGES.get(
                    th["code"], "(#%d) Rate limited" % th["code"]),
                    headers=self.usage(page, 100, th["minutes"]))
        hdrs, blocked = self.count(page)
        if blocked:
            return fb_error(400, 32, THROTTLE_MESSAGES[32], headers=hdrs)
        spec = self.feed(page, version, params) if edge == "feed" else \
            self.photos(page, version, params)
        spec.setdefault("headers", {}).update(hdrs)
        if APP.post_delay > 0 and spec.get("status") == 200:
            spec["delay"] = APP.post_delay
        return spec

    def token(self, params):
        v = params.get("access_token")
        if v:
            return str(v[0])
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") or auth.startswith("OAuth "):
            return auth.split(" ", 1)[1].strip()
        return None

    def new_id(self):
        with APP.lock:
            APP.next_id += 1 + int(APP.clock.now()) % 11
            return str(APP.next_id)

    def feed(self, page, version, params):
        message = params.get("message", [None])[0]
        link = params.get("link", [None])[0]
        if not message and not link:
            return fb_error(400, 100, "(#100) Missing message or attachment")
        if link and not re.match(r"^https?://[^\s/]+", str(link)):
            return fb_error(400, 100, "(#100) The parameter link must be a "
                            "valid URL")
        pid = "%s_%s" % (page, self.new_id())
        with APP.lock:
            APP.posts.append({"id": pid, "page": page, "kind": "feed",
                              "message": message, "link": link, "url": None,
                              "source_size": None, "alt_text": None,
                              "version": version})
        return {"status": 200, "body": {"id": pid}}

    def photos(self, page, version, params):
        url = params.get("url", [None])[0]
        source = params.get("source", [None])[0]
        if isinstance(source, dict):
            data = source.get("data") or b""
            if image_kind(data) is None:
                return fb_error(400, 324, "(#324) Missing or invalid image "
                                "file")
        elif source is not None:
            return fb_error(400, 324, "(#324) Requires upload file: source "
                            "must be a multipart file")
        if url and source is not None:
            return fb_error(400, 100, "(#100) Only one of url and source may "
                            "be given")
        if not url and source is None:
            return fb_error(400, 324, "(#324) Requires upload file")
        if url and not re.match(r"^https?://[^\s/]+", str(url)):
            return fb_error(400, 100, "(#100) url should represent a valid "
                            "URL")
        message = params.get("message", params.get("caption", [None]))[0]
        alt = params.get("alt_text_custom", [None])[0]
        photo = self.new_id()
        pid = "%s_%s" % (page, self.new_id())
        with APP.lock:
            APP.posts.append({"id": pid, "photo_id": photo, "page": page,
                              "kind": "photo", "message": message,
                              "link": None, "url": url,
                              "source_size": len(source["data"])
                              if isinstance(source, dict) else None,
                              "alt_text": alt, "version": version})
        return {"status": 200, "body": {"id": photo, "post_id": pid}}

    def control(self, url, body):
        p, m = url.path, self.command
        try:
            arg = json.loads(body or b"{}") if m == "POST" else {}
        except ValueError as e:
            self.respond({"status": 400, "body": {"error": str(e)}})
            return
        if p == "/_control/posts" and m == "GET":
            with APP.lock:
                self.respond({"status": 200, "body": list(APP.posts)})
        elif p == "/_control/expire" and m == "POST":
            with APP.lock:
                APP.expired.add(arg.get("token"))
            self.respond({"status": 200, "body": {"ok": True}})
        elif p == "/_control/throttle" and m == "POST":
            with APP.lock:
                APP.throttle = {"code": int(arg.get("code", 32)),
                                "minutes": int(arg.get("minutes", 1)),
                                "count": int(arg.get("count", 1))}
            self.respond({"status": 200, "body": APP.throttle})
        elif p == "/_control/post-delay" and m == "POST":
            APP.post_delay = float(arg.get("seconds", 0))
            self.respond({"status": 200, "body": {"seconds": APP.post_delay}})
        elif p == "/_control/clock" and m == "POST":
            self.respond({"status": 200, "body": {
                "offset": APP.clock.advance(float(arg.get("advance", 0)))}})
        elif p == "/_control/reset-all" and m == "POST":
            self.state.reset()
            APP.reset()
            self.respond({"status": 200, "body": {"ok": True}})
        else:
            super().control(url, body)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Facebook Pages test peer",
                                epilog="Other options go to httpmock.py "
                                       "(--port-file, --lifetime, --tls).")
    p.add_argument("--token-file", required=True)
    p.add_argument("--versions", default="v24.0,v25.0,v26.0")
    p.add_argument("--rate-limit", type=int, default=200)
    p.add_argument("--rate-window", type=float, default=3600.0)
    return p.parse_known_args(argv)


def main(argv=None):
    global APP
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    APP = App(args)
    return httpmock.main(rest, handler=FacebookHandler)


if __name__ == "__main__":
    sys.exit(main())
