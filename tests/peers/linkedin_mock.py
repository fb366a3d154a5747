#!/usr/bin/python3
"""LinkedIn Posts API test peer for crier (Python 3 stdlib only).

Run:  /usr/bin/python3 linkedin_mock.py --port-file F --token-file T
          [--versions 202510,202511] [--max-commentary 3000]
          [--rate-limit 100 --rate-window 60] [--token-lifetime 5184000]
          [--lifetime S] [--tls CERT KEY]          (the last two: httpmock)

Built on httpmock.py (MockHandler subclass, main(handler=...)): the
/_control/script, /_control/requests and /_control/reset endpoints work as
documented there, and a scripted spec whose method/path match a request
wins over the emulation below.

Doc pages read (learn.microsoft.com/en-us/linkedin/...):
  marketing/community-management/shares/posts-api          (Posts API)
  marketing/community-management/shares/little-text-format (little text)
  marketing/community-management/shares/images-api         (Images API)
  marketing/versioning                                      (LinkedIn-Version)
  shared/authentication/authorization-code-flow   (60-day access tokens)
  shared/api-guide/concepts/error-handling        (error body shape)
  shared/api-guide/concepts/rate-limits           (429)

Rules enforced
--------------
  * Authorization: Bearer TOKEN.  The token file has one line per token:
    "TOKEN URN [URN...]", the authors it may act for (w_member_social for
    its urn:li:person, w_organization_social for each urn:li:organization).
    No header: 401 {"message": "Empty oauth2_access_token",
    "serviceErrorCode": 401, "status": 401} (the error-handling page's
    sample); another scheme: 401 "Unknown authentication schema"; unknown
    token: 401 {"status": 401, "serviceErrorCode": 65600, "code":
    "INVALID_ACCESS_TOKEN", "message": "Invalid access token"}.  Tokens
    live --token-lifetime seconds (60 days, as LinkedIn's
    authorization-code tokens) from the peer's start on its clock, or until
    POST /_control/expire; then 401 {"status": 401, "serviceErrorCode":
    65602, "code": "EXPIRED_ACCESS_TOKEN", "message": "The token used in
    the request has expired"} (the subcodes are as reported in public
    threads, not in the docs: a client should key on the 401).  Acting for an author the token does not
    hold: 403 ACCESS_DENIED "Not enough permissions to access: ...".
  * Every /rest/ call needs "LinkedIn-Version: YYYYMM" (or YYYYMM.RR):
    missing -> 400 VERSION_MISSING; malformed -> 400 INVALID_VERSION; not
    an active version (default: the 12 months up to this one; --versions
    to pin a list) -> 426 NONEXISTENT_VERSION "Requested version YYYYMM01
    is not active" (LinkedIn's wording, version with its revision).  And "X-Restli-Protocol-Version: 2.0.0": missing or another
    value -> 400 (the peer is stricter than LinkedIn, which may guess).
  * POST /rest/posts (JSON): author, commentary, visibility, distribution
    and lifecycleState are required (422 "ERROR :: /field :: field is
    required but not found and has no default value"), unknown top-level
    fields are refused ("unrecognized field found but not allowed");
    author must be urn:li:person:ID or urn:li:organization:DIGITS;
    visibility PUBLIC|CONNECTIONS|LOGGED_IN|CONTAINER; distribution
    {feedDistribution: MAIN_FEED|NONE|CONTAINER_ONLY, targetEntities: [],
    thirdPartyDistributionChannels: []}; lifecycleState PUBLISHED|DRAFT;
    content.media {id: urn:li:image:..., altText <= 4086 chars, title}
    naming an image this author uploaded (PUT done).  Answer: 201, empty
    body, the post's URN in the x-restli-id header (urn:li:share:N).
  * commentary is little text.  The peer parses it as the doc's grammar
    says: "\\" escapes a reserved character (\\ | { } @ [ ] ( ) < > # * _ ~),
    @[Name](urn:li:person|organization:ID) is a mention, {hashtag|#|tag}
    (or the U+FF03 sign) and a bare #word are hashtags.  Any other
    unescaped reserved character is where LinkedIn misparses the text and
    cuts it: the post is still created (201, as LinkedIn does), but the
    peer stores what LinkedIn would show -- "shown" stops there and
    "truncated" is true, so a test can assert nothing was lost.  More than
    --max-commentary characters shown (UTF-16 units): 422.
  * Images API: POST /rest/images?action=initializeUpload with
    {"initializeUploadRequest": {"owner": URN}} -> {"value": {"uploadUrl",
    "uploadUrlExpiresAt" (ms), "image": "urn:li:image:..."}}; PUT the bytes
    to uploadUrl with the same Bearer token (PNG, JPEG or GIF, else 400)
    -> 201; GET /rest/images/{urn} -> {"id", "status": WAITING_UPLOAD|
    AVAILABLE, "owner"}.
  * Rate limit: more than --rate-limit calls per --rate-window seconds per
    token -> 429 {"status": 429, "serviceErrorCode": 101, "code":
    "TOO_MANY_REQUESTS", "message": "Resource level throttle ..."}.
  * LinkedIn has no idempotency key: a repeated POST creates another post.

Control (besides httpmock's):
  GET  /_control/posts   every post: {"id", "author", "commentary" (as
       sent), "shown", "truncated", "cut_at", "hashtags", "mentions",
       "visibility", "lifecycleState", "media", "version", "token"}
  GET  /_control/images  every image: {"id", "owner", "status", "size"}
  POST /_control/clock   {"advance": SECONDS}
  POST /_control/expire  {"token": T}: T is expired from now on
  POST /_control/post-delay {"seconds": S}: POST /rest/posts creates the
       post at once and answers S seconds later
  POST /_control/reset-all  also forgets posts, images and counters
"""

import argparse
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpmock  # noqa: E402
from peerlib import Clock  # noqa: E402

RESERVED = set("\\|{}@[]()<>#*_~")
FULLWIDTH_SIGN = "\uff03"
MAX_ALT_TEXT = 4086
AUTHOR_RE = re.compile(r"^urn:li:(person:[A-Za-z0-9_-]+|organization:\d+)$")
VERSION_RE = re.compile(r"^(\d{4})(\d{2})(\.\d{2})?$")
POST_FIELDS = {"author", "commentary", "visibility", "distribution",
               "lifecycleState", "content", "isReshareDisabledByAuthor",
               "contentLandingPage", "contentCallToActionLabel",
               "adContext", "reshareContext", "container"}
REQUIRED = ("author", "commentary", "visibility", "distribution",
            "lifecycleState")


# --- little text --------------------------------------------------------------

def _read_until(text, i, stop):
    """Plain text from TEXT[i] to an unescaped STOP: (value, next i) or None."""
    out = []
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in RESERVED:
            out.append(text[i + 1])
            i += 2
        elif c == stop:
            return "".join(out), i + 1
        elif c in RESERVED:
            return None
        else:
            out.append(c)
            i += 1
    return None


def parse_little(text):
    """What LinkedIn shows for little TEXT: (shown, cut_at, hashtags, mentions).

    cut_at is the index of the first character LinkedIn cannot parse (and
    where the shown text ends), or None."""
    out, tags, mentions = [], [], []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 < len(text) and text[i + 1] in RESERVED:
                out.append(text[i + 1])
                i += 2
                continue
        elif c == "{":
            m = re.match(r"\{hashtag\|([#\uff03])\|", text[i:])
            if m:
                r = _read_until(text, i + m.end(), "}")
                if r and r[0]:
                    out.append(m.group(1) + r[0])
                    tags.append(r[0])
                    i = r[1]
                    continue
        elif c == "@":
            if text[i + 1:i + 2] == "[":
                name = _read_until(text, i + 2, "]")
                if name and text[name[1]:name[1] + 1] == "(":
                    urn = _read_until(text, name[1] + 1, ")")
                    if urn and AUTHOR_RE.match(urn[0]):
                        out.append(name[0])
                        mentions.append({"name": name[0], "urn": urn[0]})
                        i = urn[1]
                        continue
        elif c == "#":
            m = re.match(r"#([^\s\\|{}@\[\]()<>#*_~]+)", text[i:])
            if m:
                out.append(m.group(0))
                tags.append(m.group(1))
                i += m.end()
                continue
        elif c not in RESERVED:
            out.append(c)
            i += 1
            continue
        return "".join(out), i, tags, mentions
    return "".join(out), None, tags, mentions


def utf16_len(s):
    return len(s.encode("utf-16-le")) // 2


def active_versions(now):
    """The 12 monthly versions up to the current month, as YYYYMM strings."""
    t = time.gmtime(now)
    y, m = t.tm_year, t.tm_mon
    out = []
    for _ in range(12):
        out.append("%04d%02d" % (y, m))
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out


def image_kind(data):
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


# --- state -------------------------------------------------------------------

class App:
    def __init__(self, args):
        self.args = args
        self.tokens = {}          # token -> [authors]
        with open(args.token_file) as f:
            for line in f:
                parts = line.split()
                if parts and not parts[0].startswith("#"):
                    self.tokens[parts[0]] = parts[1:]
        if not self.tokens:
            raise SystemExit("linkedin_mock: no token in %s" % args.token_file)
        self.clock = Clock()
        self.started = time.time()
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.posts = []
            self.images = {}          # urn -> dict
            self.uploads = {}         # upload key -> image urn
            self.expired = set()
            self.buckets = {}
            self.next_id = 7100000000000000000
            self.post_delay = 0.0

    def versions(self):
        if self.args.versions:
            return self.args.versions.split(",")
        return active_versions(self.clock.now())


APP = None


def li_error(status, code, message, service_code=None):
    body = {"status": status, "message": message}
    if code is not None:
        body["code"] = code
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    return {"status": status, "body": body}


def unprocessable(lines):
    return {"status": 422, "body": {
        "status": 422,
        "message": "".join("ERROR :: %s\n" % ln for ln in lines)}}


class LinkedInHandler(httpmock.MockHandler):
    server_version = "linkedin-mock/1"

    def read_body(self):
        body = super().read_body()
        self.raw_body = body
        return body

    def base(self):
        scheme = "https" if self.state.tls else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.server.server_address[1])

    # --- checks shared by every call ------------------------------------

    def token(self):
        """(token, error spec): the caller's token or why it is refused."""
        auth = self.headers.get("Authorization", "").strip()
        if auth == "" or auth == "Bearer":
            return None, li_error(401, None, "Empty oauth2_access_token",
                                  401)
        if not auth.startswith("Bearer "):
            return None, li_error(401, None, "Unknown authentication schema",
                                  401)
        tok = auth[len("Bearer "):].strip()
        if tok not in APP.tokens:
            return None, li_error(401, "INVALID_ACCESS_TOKEN",
                                  "Invalid access token", 65600)
        age = APP.clock.now() - APP.started
        if tok in APP.expired or age > APP.args.token_lifetime:
            return None, li_error(401, "EXPIRED_ACCESS_TOKEN",
                                  "The token used in the request has expired",
                                  65602)
        return tok, None

    def versioned(self):
        """The LinkedIn-Version in use, or an error spec."""
        v = self.headers.get("LinkedIn-Version")
        if v is None or v.strip() == "":
            return None, li_error(400, "VERSION_MISSING",
                                  "A version must be present. Please specify "
                                  "a version by adding the LinkedIn-Version "
                                  "header.")
        v = v.strip()
        m = VERSION_RE.match(v)
        if not m or not 1 <= int(m.group(2)) <= 12:
            return None, li_error(400, "INVALID_VERSION",
                                  "Invalid version format %s: use YYYYMM" % v)
        if v[:6] not in APP.versions():
            # LinkedIn names versions YYYYMMRR internally (RR 01 by default).
            return None, li_error(426, "NONEXISTENT_VERSION",
                                  "Requested version %s%s is not active"
                                  % (v[:6], (m.group(3) or ".01")[1:]))
        restli = self.headers.get("X-Restli-Protocol-Version")
        if restli is None or restli.strip() != "2.0.0":
            return None, li_error(400, "RESTLI_PROTOCOL_VERSION",
                                  "X-Restli-Protocol-Version must be 2.0.0, "
                                  "got %r" % restli)
        return v, None

    def throttled(self, tok):
        a = APP.args
        now = APP.clock.now()
        with APP.lock:
            b = APP.buckets.get(tok)
            if b is None or now >= b[0] + a.rate_window:
                b = APP.buckets[tok] = [now, 0]
            b[1] += 1
            return b[1] > a.rate_limit

    # --- routing -------------------------------------------------------

    def route(self, rec):
        path = rec["path"]
        if not (path.startswith("/rest/") or path.startswith("/dms-uploads/")):
            return None
        spec = self.state.take(self.command, path)
        if spec is not None:
            return spec
        tok, err = self.token()
        if err:
            return err
        if self.throttled(tok):
            return li_error(429, "TOO_MANY_REQUESTS",
                            "Resource level throttle APPLICATION DAY limit "
                            "for calls to this resource is reached.", 101)
        if path.startswith("/dms-uploads/") and self.command == "PUT":
            return self.upload(tok, path[len("/dms-uploads/"):])
        version, err = self.versioned()
        if err:
            return err
        q = urllib.parse.parse_qs(rec["query"])
        try:
            if path == "/rest/posts" and self.command == "POST":
                spec = self.create_post(tok, version)
                if APP.post_delay > 0 and spec["status"] == 201:
                    spec = dict(spec, delay=APP.post_delay)
                return spec
            if path == "/rest/images" and self.command == "POST" and \
                    q.get("action") == ["initializeUpload"]:
                return self.init_upload(tok)
            if path.startswith("/rest/images/") and self.command == "GET":
                urn = urllib.parse.unquote(path[len("/rest/images/"):])
                img = APP.images.get(urn)
                if img is None:
                    return li_error(404, "NOT_FOUND", "Image %s not found"
                                    % urn)
                return {"status": 200, "body": {
                    "id": urn, "status": img["status"], "owner": img["owner"]}}
        except ValueError as e:
            return li_error(400, "ILLEGAL_ARGUMENT",
                            "Request body could not be converted to data "
                            "map: %s" % e)
        return li_error(404, "NOT_FOUND", "No resource found for %s %s"
                        % (self.command, path))

    def json_body(self):
        ctype = self.headers.get("Content-Type", "")
        if not ctype.lower().startswith("application/json"):
            raise ValueError("Content-Type %r is not application/json"
                             % ctype)
        data = json.loads(self.raw_body.decode("utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the body is not a JSON object")
        return data

    def denied(self, what):
        return li_error(403, "ACCESS_DENIED", "Not enough permissions to "
                        "access: %s" % what, 100)

    # --- endpoints -----------------------------------------------------

    def init_upload(self, tok):
        data = self.json_body()
        req = data.get("initializeUploadRequest")
        owner = req.get("owner") if isinstance(req, dict) else None
        if not isinstance(owner, str) or not AUTHOR_RE.match(owner):
            return unprocessable(["/initializeUploadRequest/owner :: "
                                  "field is required but not found and has "
                                  "no default value" if owner is None else
                                  "/initializeUploadRequest/owner :: "
                                  "invalid URN %r" % owner])
        if owner not in APP.tokens[tok]:
            return self.denied("images.initializeUpload for %s" % owner)
        key = uuid.uuid4().hex
        urn = "urn:li:image:C4E10AQ" + key[:16]
        with APP.lock:
            APP.images[urn] = {"id": urn, "owner": owner, "size": 0,
                               "status": "WAITING_UPLOAD"}
            APP.uploads[key] = urn
        expires = int((APP.clock.now() + 86400) * 1000)
        return {"status": 200, "body": {"value": {
            "uploadUrlExpiresAt": expires,
            "uploadUrl": "%s/dms-uploads/%s" % (self.base(), key),
            "image": urn}}}

    def upload(self, tok, key):
        with APP.lock:
            urn = APP.uploads.get(key)
            img = APP.images.get(urn) if urn else None
        if img is None:
            return li_error(404, "NOT_FOUND", "Unknown upload URL")
        if img["owner"] not in APP.tokens[tok]:
            return self.denied("upload for %s" % img["owner"])
        if image_kind(self.raw_body) is None:
            return li_error(400, "BAD_REQUEST",
                            "The uploaded file is not a PNG, JPEG or GIF "
                            "image")
        with APP.lock:
            img["size"] = len(self.raw_body)
            img["status"] = "AVAILABLE"
        return {"status": 201, "body": None}

    def create_post(self, tok, version):
        data = self.json_body()
        errs = ["/%s :: field is required but not found and has no default "
                "value" % f for f in REQUIRED if f not in data]
        errs += ["/%s :: unrecognized field found but not allowed" % f
                 for f in data if f not in POST_FIELDS]
        if errs:
            return unprocessable(errs)
        author = data["author"]
        if not isinstance(author, str) or not AUTHOR_RE.match(author):
            return unprocessable(["/author :: %r is not a person or "
                                  "organization URN" % (author,)])
        if data["visibility"] not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN",
                                      "CONTAINER"):
            return unprocessable(["/visibility :: %r is not an enum symbol"
                                  % (data["visibility"],)])
        dist = data["distribution"]
        if not isinstance(dist, dict) or dist.get("feedDistribution") not in \
                ("MAIN_FEED", "NONE", "CONTAINER_ONLY"):
            return unprocessable(["/distribution/feedDistribution :: "
                                  "missing or not an enum symbol"])
        for f in ("targetEntities", "thirdPartyDistributionChannels"):
            if f in dist and not isinstance(dist[f], list):
                return unprocessable(["/distribution/%s :: not an array" % f])
        if data["lifecycleState"] not in ("PUBLISHED", "DRAFT"):
            return unprocessable(["/lifecycleState :: %r is not an enum "
                                  "symbol" % (data["lifecycleState"],)])
        commentary = data["commentary"]
        if not isinstance(commentary, str):
            return unprocessable(["/commentary :: not a string"])
        media = None
        content = data.get("content")
        if content is not None:
            media = content.get("media") if isinstance(content, dict) \
                else None
            if not isinstance(media, dict) or \
                    not isinstance(media.get("id"), str):
                return unprocessable(["/content/media/id :: field is "
                                      "required but not found and has no "
                                      "default value"])
            img = APP.images.get(media["id"])
            if img is None or img["owner"] != author or \
                    img["status"] != "AVAILABLE":
                return li_error(400, "INVALID_CONTENT",
                                "Media %s is not an available image owned "
                                "by %s" % (media["id"], author))
            alt = media.get("altText")
            if alt is not None and (not isinstance(alt, str) or
                                    len(alt) > MAX_ALT_TEXT):
                return unprocessable(["/content/media/altText :: longer "
                                      "than %d characters" % MAX_ALT_TEXT])
        if author not in APP.tokens[tok]:
            return self.denied("partnerApiPostsExternal.CREATE.%s" % version)
        shown, cut, tags, mentions = parse_little(commentary)
        if utf16_len(shown) > APP.args.max_commentary:
            return unprocessable(["/commentary :: length %d exceeds the "
                                  "maximum %d" % (utf16_len(shown),
                                                  APP.args.max_commentary)])
        with APP.lock:
            APP.next_id += 1 + int(APP.clock.now()) % 13
            urn = "urn:li:share:%d" % APP.next_id
            APP.posts.append({
                "id": urn, "author": author, "commentary": commentary,
                "shown": shown, "truncated": cut is not None,
                "cut_at": cut, "hashtags": tags, "mentions": mentions,
                "visibility": data["visibility"],
                "lifecycleState": data["lifecycleState"],
                "media": media, "version": version, "token": tok,
                "created_at": APP.clock.now()})
        return {"status": 201, "body": None,
                "headers": {"x-restli-id": urn, "x-linkedin-id": urn}}

    # --- control -------------------------------------------------------

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
        elif p == "/_control/images" and m == "GET":
            with APP.lock:
                self.respond({"status": 200,
                              "body": [dict(v) for v in APP.images.values()]})
        elif p == "/_control/clock" and m == "POST":
            self.respond({"status": 200, "body": {
                "offset": APP.clock.advance(float(arg.get("advance", 0)))}})
        elif p == "/_control/expire" and m == "POST":
            with APP.lock:
                APP.expired.add(arg.get("token"))
            self.respond({"status": 200, "body": {"ok": True}})
        elif p == "/_control/post-delay" and m == "POST":
            APP.post_delay = float(arg.get("seconds", 0))
            self.respond({"status": 200, "body": {"seconds": APP.post_delay}})
        elif p == "/_control/reset-all" and m == "POST":
            self.state.reset()
            APP.reset()
            self.respond({"status": 200, "body": {"ok": True}})
        else:
            super().control(url, body)


def parse_args(argv):
    p = argparse.ArgumentParser(description="LinkedIn Posts API test peer",
                                epilog="Other options go to httpmock.py "
                                       "(--port-file, --lifetime, --tls).")
    p.add_argument("--token-file", required=True)
    p.add_argument("--versions", default="")
    p.add_argument("--max-commentary", type=int, default=3000)
    p.add_argument("--rate-limit", type=int, default=100)
    p.add_argument("--rate-window", type=float, default=60.0)
    p.add_argument("--token-lifetime", type=float, default=60 * 86400.0)
    return p.parse_known_args(argv)


def main(argv=None):
    global APP
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    APP = App(args)
    return httpmock.main(rest, handler=LinkedInHandler)


if __name__ == "__main__":
    sys.exit(main())
