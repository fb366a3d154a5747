#!/usr/bin/python3
"""Bluesky / atproto PDS test peer for crier (Python 3 stdlib only).

Run:  /usr/bin/python3 bluesky_mock.py --port-file F
          --handle ogp.test --app-password-file P [--did did:plc:...]
          [--access-ttl 7200] [--refresh-ttl 7776000] [--handles FILE]
          [--create-conflict 500|400] [--session-limit 30/300]
          [--lifetime S] [--tls CERT KEY]          (the last two: httpmock)

Built on httpmock.py (MockHandler subclass, main(handler=...)): the
/_control/script, /_control/requests and /_control/reset endpoints work
as documented there.  A scripted spec matching a request wins over the
PDS emulation below (inject 429/500/hangs on any /xrpc/ method); a
scripted 429 without rate-limit headers gets RateLimit-Limit/-Remaining/
-Reset (Unix seconds, 2 s ahead)/-Policy and, without a body,
{"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}.

Documented rules enforced, and where they come from
---------------------------------------------------
atproto.com/specs/xrpc (HTTP API):
  * every error is JSON {"error": "<Name>", "message": "..."}; 400 for
    invalid requests (InvalidRequest), 401 AuthenticationRequired when
    auth is missing, 429 on rate limits, 500 InternalServerError.
  * legacy Bearer auth: createSession gives accessJwt + refreshJwt;
    refreshSession is called with "Authorization: Bearer <refreshJwt>"
    (not the access token).  Tokens are real-looking JWTs (typ at+jwt /
    refresh+jwt, sub = DID, exp), but checked by table lookup.
lexicons/com/atproto/server/createSession.json, refreshSession.json:
  * createSession {identifier (handle or DID), password} -> {accessJwt,
    refreshJwt, handle, did, active}; wrong credentials: 401
    AuthenticationRequired "Invalid identifier or password".
  * accessJwt lives --access-ttl s (default 7200, the PDS's 2 h); after
    that any call with it gets 400 {"error": "ExpiredToken", "message":
    "Token has expired"} (the PDS's answer, as clients see it).  An
    unknown token: 400 InvalidToken; a refresh token where an access
    token is wanted or vice versa: 400 InvalidToken "Invalid token type".
  * refreshSession rotates: it returns a new pair and the refreshJwt it
    was called with stops working (stricter than the PDS's 2 h grace,
    so a client that does not store the new refreshJwt is caught).
docs.bsky.app/docs/advanced-guides/rate-limits:
  * createSession: 30 per 5 minutes per account (--session-limit N/S):
    429 RateLimitExceeded with RateLimit-* headers -- a client must reuse
    and refresh its session, not log in for every post.
lexicons/com/atproto/repo/createRecord.json, putRecord.json, getRecord,
deleteRecord; atproto.com/specs/record-key; atproto.com/specs/tid:
  * repo must be the session's DID (or handle), else 401; collection an
    NSID; rkey, when given, record-key syntax ([A-Za-z0-9.-_:~]{1,512},
    not "." or "..") -> 400 InvalidRequest otherwise.
  * app.bsky.feed.post declares "key": "tid": its rkey must be a TID
    (13 chars, ^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$).
    The reference PDS only checks generic record-key syntax today (a
    @TODO in its prepare.ts); this peer enforces the lexicon.
  * createRecord with an rkey that already exists: the production PDS
    answers 500 {"error":"InternalServerError"} (bluesky-social/atproto
    issues #3718; PR #4728 to make it an explicit error is open), and
    nothing is written: a retry cannot create a second post.  Default
    here: that 500; --create-conflict 400 answers 400 InvalidRequest
    "Record already exists" instead.
  * putRecord creates or replaces the record at rkey ("ensure the
    post-condition of the record existing", atproto PR #690): repeating
    it never makes a second record.  swapRecord: null means "must not
    exist", a CID means "must currently be that CID", else 400
    InvalidSwap.
  * validate=false is refused for app.bsky.feed.post (400): the peer is
    here to check the records crier writes.
  * getRecord: 400 RecordNotFound "Could not locate record: <uri>".
  * Record $type: set to the collection when absent (PDS
    setCollectionName), 400 "Invalid $type: expected X, got Y" when
    different.  Records report "$type_set_by_server" in /_control/records.
lexicons/app/bsky/feed/post.json (+ richtext/facet.json, embed/*.json):
  * text required, <= 300 graphemes (peerlib's UAX #29 approximation) and
    <= 3000 UTF-8 bytes; createdAt required, atproto datetime (RFC 3339,
    upper-case T, seconds, timezone Z or +hh:mm, not -00:00); langs: array
    of <= 3 BCP-47 tags; tags: <= 8 strings of <= 64 graphemes/640 bytes.
  * facets (docs.bsky.app/docs/advanced-guides/post-richtext): index
    {byteStart, byteEnd} are UTF-8 byte offsets, start inclusive, end
    exclusive; features of $type app.bsky.richtext.facet#link {uri},
    #mention {did}, #tag {tag}; "Facets can not overlap".  The PDS does
    not check facets against the text; this peer does (400
    InvalidRequest with a message naming the facet):
      - 0 <= byteStart < byteEnd <= len(utf8(text)), both on character
        boundaries, no overlap;
      - #link: uri is an absolute URI and the text slice is the URI, the
        URI without its http(s):// scheme, or a shortened form of either
        ending in "..." or "\u2026" (the lexicon: "the text URL may have been
        simplified or truncated");
      - #tag: slice == "#" + tag, tag without leading "#", <= 64
        graphemes and 640 bytes;
      - #mention: did has DID syntax and resolves (the session DID or one
        in the handle table); the slice is "@" + a handle of that DID.
  * embed app.bsky.embed.images: 1..4 images, each {image: blob, alt:
    string (required, may be empty), aspectRatio?}; app.bsky.embed.external:
    external {uri, title, description, thumb?: blob}; app.bsky.embed.record:
    record {uri, cid}.  A blob is {"$type": "blob", "ref": {"$link": CID},
    "mimeType", "size"}: the CID must be a blob uploaded by this account
    (else 400 BlobNotFound "Could not find blob: CID"), mimeType must match
    the upload and be image/*, size <= 1000000 bytes.
lexicons/com/atproto/repo/uploadBlob.json, specs/xrpc "Blob Upload":
  * raw body with a Content-Type header -> {"blob": {"$type": "blob",
    "ref": {"$link": "bafkrei..."}, "mimeType", "size"}} (CIDv1 raw
    sha2-256); empty body or no Content-Type: 400 InvalidRequest; over
    50 MB (the PDS limit): 413 PayloadTooLarge.
lexicons/com/atproto/identity/resolveHandle.json:
  * GET ?handle=H -> {"did"} for the session handle, built-ins
    (alice.test -> did:plc:alice, bob.test -> did:plc:bob,
    carol.example.com -> did:plc:carol) and --handles FILE (JSON object
    {handle: did} or lines "handle did"); else 400 InvalidRequest
    "Unable to resolve handle".

Post URLs are at://DID/app.bsky.feed.post/RKEY (the createRecord "uri").

Control (besides httpmock's):
  GET  /_control/records   [{"collection", "rkey", "uri", "cid",
       "record", "action" ("create"/"update"), "writes" (how many times
       written), "created_at", "updated_at", "$type_set_by_server"}]
       (deleted records are listed with "deleted": true)
  GET  /_control/blobs     [{"cid", "mimeType", "size"}]
  GET  /_control/sessions  [{"access", "refresh", "access_exp", "valid"}]
  POST /_control/clock     {"advance": SECONDS}: token expiry uses this
       clock, so tests can expire an accessJwt without sleeping
  POST /_control/expire-tokens   every current accessJwt expires now
  POST /_control/put-delay {"seconds": S, "after": N}: once N records
       exist, putRecord writes the record at once but answers S seconds
       later (0: at once) -- a client killed meanwhile never hears of it
  POST /_control/reset-all as /_control/reset, and forgets records,
       blobs, sessions and counters
  POST /_control/counts    {"uri": AT_URI, "likeCount": N, "repostCount":
       N, "replyCount": N}: the engagement app.bsky.feed.getPosts reports
       for a post (each optional, >= 0); 404 for an unknown post

lexicons/app/bsky/feed/getPosts.json (answered here as a PDS proxying to
the AppView does):
  * GET ?uris=AT_URI (repeatable, 1..25) with a Bearer accessJwt ->
    {"posts": [postView]}: uri, cid, author {did, handle}, record,
    likeCount, repostCount, replyCount, quoteCount, indexedAt; posts not
    found are left out; more than 25 uris or a non-at:// one: 400
    InvalidRequest.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
import urllib.parse
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpmock  # noqa: E402
from peerlib import (CID_RE, Clock, cid_json, cid_raw, graphemes,  # noqa: E402
                     iso_utc, is_tid, make_tid)

POST = "app.bsky.feed.post"
MAX_BLOB = 50 * 1024 * 1024
MAX_IMAGE = 1000000
BUILTIN_HANDLES = {
    "alice.test": "did:plc:alice",
    "bob.test": "did:plc:bob",
    "carol.example.com": "did:plc:carol",
}

RKEY_RE = re.compile(r"^[A-Za-z0-9._:~-]{1,512}$")
NSID_RE = re.compile(r"^[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]"
                     r"([a-zA-Z0-9-]{0,62})?)+\.[a-zA-Z]{1,63}$")
DID_RE = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
HANDLE_RE = re.compile(r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
                       r"[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$")
DATETIME_RE = re.compile(r"^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6]"
                         r"[0-9]:[0-6][0-9](\.[0-9]{1,20})?"
                         r"(Z|[+-][0-2][0-9]:[0-5][0-9])$")
LANG_RE = re.compile(r"^(i-[a-z]{1,8}|[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*)$")
URI_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")


class XrpcError(Exception):
    def __init__(self, status, error, message=None, headers=None):
        super().__init__(message or error)
        self.status, self.error, self.message = status, error, message
        self.headers = headers or {}

    def spec(self):
        body = {"error": self.error}
        if self.message is not None:
            body["message"] = self.message
        return {"status": self.status, "body": body,
                "headers": dict(self.headers)}


def bad(message, error="InvalidRequest"):
    return XrpcError(400, error, message)


def invalid_post(message):
    return bad("Invalid app.bsky.feed.post record: " + message)


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --- state -------------------------------------------------------------------

class App:
    def __init__(self, args):
        self.args = args
        with open(args.app_password_file) as f:
            pw = f.read()
        self.password = pw[:-1] if pw.endswith("\n") else pw
        self.handle = args.handle
        self.did = args.did or ("did:plc:" + hashlib.sha256(
            args.handle.encode()).hexdigest()[:24])
        self.handles = dict(BUILTIN_HANDLES)
        if args.handles:
            with open(args.handles) as f:
                text = f.read()
            try:
                self.handles.update(json.loads(text))
            except ValueError:
                for line in text.splitlines():
                    parts = line.split()
                    if len(parts) == 2 and not line.startswith("#"):
                        self.handles[parts[0]] = parts[1]
        self.handles[self.handle] = self.did
        n, _, w = args.session_limit.partition("/")
        self.session_limit, self.session_window = int(n), float(w or 300)
        self.secret = secrets.token_bytes(32)
        self.clock = Clock()
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.tokens = {}      # jwt -> {"typ", "exp", "valid", "pair"}
            self.records = {}     # (collection, rkey) -> dict
            self.order = []       # keys in creation order
            self.blobs = {}       # cid -> {"mimeType", "size"}
            self.session_times = []
            self.counts = {}      # post uri -> {"likeCount", ...}
            self.put_delay = (0.0, 0)   # (seconds, after N records)

    def jwt(self, typ, ttl):
        now = self.clock.now()
        head = b64url(json.dumps({"typ": typ, "alg": "HS256"}).encode())
        body = b64url(json.dumps({
            "scope": "com.atproto.appPass" if typ == "at+jwt"
            else "com.atproto.refresh",
            "sub": self.did, "aud": "did:web:127.0.0.1",
            "iat": int(now), "exp": int(now + ttl),
            "jti": secrets.token_hex(8)}).encode())
        sig = b64url(hmac.new(self.secret, (head + "." + body).encode(),
                              hashlib.sha256).digest())
        tok = head + "." + body + "." + sig
        self.tokens[tok] = {"typ": typ, "exp": now + ttl, "valid": True}
        return tok

    def new_session(self):
        with self.lock:
            access = self.jwt("at+jwt", self.args.access_ttl)
            refresh = self.jwt("refresh+jwt", self.args.refresh_ttl)
            self.tokens[refresh]["access"] = access
        return {"accessJwt": access, "refreshJwt": refresh,
                "handle": self.handle, "did": self.did,
                "didDoc": {"id": self.did, "alsoKnownAs":
                           ["at://" + self.handle]},
                "email": "crier@example.test", "emailConfirmed": True,
                "active": True}

    def resolve(self, did):
        return did == self.did or did in self.handles.values()


APP = None


class BlueskyHandler(httpmock.MockHandler):
    server_version = "bluesky-mock/1"

    def read_body(self):
        body = super().read_body()
        self.raw_body = body
        return body

    # --- auth ----------------------------------------------------------

    def auth(self, want="at+jwt"):
        h = self.headers.get("Authorization", "")
        if not h:
            raise XrpcError(401, "AuthenticationRequired",
                            "Authentication Required",
                            {"WWW-Authenticate": 'Bearer realm="pds"'})
        if not h.startswith("Bearer "):
            raise bad("Unexpected authorization type", "InvalidToken")
        tok = h[len("Bearer "):].strip()
        with APP.lock:
            info = APP.tokens.get(tok)
        if info is None or not info["valid"]:
            if info is not None and info["typ"] == "refresh+jwt":
                raise bad("Token has been revoked", "ExpiredToken")
            raise bad("Token could not be verified", "InvalidToken")
        if info["typ"] != want:
            raise bad("Invalid token type", "InvalidToken")
        if APP.clock.now() >= info["exp"]:
            raise bad("Token has expired", "ExpiredToken")
        return tok

    # --- routing -------------------------------------------------------

    def route(self, rec):
        path = rec["path"]
        if not path.startswith("/xrpc/"):
            return None
        spec = self.state.take(self.command, path)
        if spec is not None:
            if int(spec.get("status", 200)) == 429:
                hdrs = dict(spec.get("headers") or {})
                if not any(h.lower() == "ratelimit-reset" for h in hdrs):
                    hdrs.update({"RateLimit-Limit": "30",
                                 "RateLimit-Remaining": "0",
                                 "RateLimit-Reset":
                                     str(int(APP.clock.now()) + 2),
                                 "RateLimit-Policy": "30;w=300"})
                spec = dict(spec, headers=hdrs)
                if "body" not in spec:
                    spec["body"] = {"error": "RateLimitExceeded",
                                    "message": "Rate Limit Exceeded"}
            return spec
        nsid = path[len("/xrpc/"):]
        query = {k: v[0] for k, v in
                 urllib.parse.parse_qs(rec["query"]).items()}
        try:
            method = self.METHODS.get(nsid)
            if method is None:
                raise XrpcError(501, "MethodNotImplemented",
                                "Method Not Implemented")
            verb, fn = method
            if self.command != verb:
                raise bad("Incorrect HTTP method (%s) expected %s"
                          % (self.command, verb))
            body = {"status": 200, "body": fn(self, query)}
            if getattr(self, "late", 0):
                body["delay"], self.late = self.late, 0
            return body
        except XrpcError as e:
            return e.spec()

    def json_body(self):
        ctype = self.headers.get("Content-Type", "")
        if not ctype.lower().startswith("application/json"):
            raise bad("Wrong request encoding (Content-Type): %s" %
                      (ctype or "none"))
        try:
            data = json.loads(self.raw_body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            raise bad("Request body is not valid JSON: %s" % e)
        if not isinstance(data, dict):
            raise bad("Input must be an object")
        return data

    @staticmethod
    def need(data, *names):
        for n in names:
            if n not in data:
                raise bad('Input must have the property "%s"' % n)

    # --- server.* ------------------------------------------------------

    def create_session(self, q):
        data = self.json_body()
        self.need(data, "identifier", "password")
        now = APP.clock.now()
        with APP.lock:
            APP.session_times = [t for t in APP.session_times
                                 if now - t < APP.session_window]
            if len(APP.session_times) >= APP.session_limit:
                reset = int(min(APP.session_times) + APP.session_window)
                raise XrpcError(429, "RateLimitExceeded",
                                "Rate Limit Exceeded", {
                                    "RateLimit-Limit": str(APP.session_limit),
                                    "RateLimit-Remaining": "0",
                                    "RateLimit-Reset": str(reset),
                                    "RateLimit-Policy": "%d;w=%d" % (
                                        APP.session_limit,
                                        APP.session_window)})
            APP.session_times.append(now)
        ident = str(data["identifier"]).lower().lstrip("@")
        if ident not in (APP.handle.lower(), APP.did) or \
                data["password"] != APP.password:
            raise XrpcError(401, "AuthenticationRequired",
                            "Invalid identifier or password")
        return APP.new_session()

    def refresh_session(self, q):
        tok = self.auth("refresh+jwt")
        with APP.lock:
            old = APP.tokens[tok]
            old["valid"] = False
        return APP.new_session()

    def get_session(self, q):
        self.auth()
        return {"handle": APP.handle, "did": APP.did, "active": True,
                "email": "crier@example.test", "emailConfirmed": True}

    def delete_session(self, q):
        tok = self.auth("refresh+jwt")
        with APP.lock:
            APP.tokens[tok]["valid"] = False
            acc = APP.tokens[tok].get("access")
            if acc in APP.tokens:
                APP.tokens[acc]["valid"] = False
        return {}

    def resolve_handle(self, q):
        h = q.get("handle")
        if not h:
            raise bad('Params must have the property "handle"')
        h = h.lower()
        if not HANDLE_RE.match(h):
            raise bad("handle must be a valid handle")
        did = APP.handles.get(h)
        if did is None:
            raise bad("Unable to resolve handle")
        return {"did": did}

    # --- repo.* --------------------------------------------------------

    def upload_blob(self, q):
        self.auth()
        ctype = self.headers.get("Content-Type")
        if not ctype:
            raise bad("Request encoding (Content-Type) required but not "
                      "provided")
        data = self.raw_body
        if not data:
            raise bad("Request body is empty")
        if len(data) > MAX_BLOB:
            raise XrpcError(413, "PayloadTooLarge", "request entity too large")
        cid = cid_raw(data)
        mime = ctype.split(";")[0].strip().lower()
        with APP.lock:
            APP.blobs[cid] = {"mimeType": mime, "size": len(data)}
        return {"blob": {"$type": "blob", "ref": {"$link": cid},
                         "mimeType": mime, "size": len(data)}}

    def check_repo(self, data):
        self.need(data, "repo", "collection")
        repo = data["repo"]
        if repo not in (APP.did, APP.handle):
            if not (isinstance(repo, str) and
                    (DID_RE.match(repo) or HANDLE_RE.match(repo))):
                raise bad("Input/repo must be a valid did or a handle")
            raise XrpcError(401, "AuthenticationRequired",
                            "repo %s is not the authenticated account %s"
                            % (repo, APP.did))
        coll = data["collection"]
        if not isinstance(coll, str) or not NSID_RE.match(coll):
            raise bad("Input/collection must be a valid nsid")
        return coll

    @staticmethod
    def check_rkey(coll, rkey):
        if not isinstance(rkey, str) or not RKEY_RE.match(rkey) or \
                rkey in (".", ".."):
            raise bad("Invalid record key: %r" % (rkey,))
        if coll == POST and not is_tid(rkey):
            raise bad("Invalid record key for %s: %r is not a TID (the "
                      "lexicon's key type is \"tid\": 13 characters of "
                      "234567abcdefghijklmnopqrstuvwxyz, the first one in "
                      "2-7a-j)" % (POST, rkey))

    def prepare(self, coll, data):
        record = data.get("record")
        if not isinstance(record, dict):
            raise bad("Input/record must be an object")
        record = json.loads(json.dumps(record))
        set_by_server = False
        if "$type" not in record:
            record["$type"] = coll
            set_by_server = True
        if record["$type"] != coll:
            raise bad("Invalid $type: expected %s, got %s"
                      % (coll, record["$type"]))
        if coll == POST:
            if data.get("validate") is False:
                raise bad("mock: validate=false is not accepted for %s"
                          % POST)
            self.validate_post(record)
        return record, set_by_server

    def write(self, coll, rkey, record, set_by_server, action):
        uri = "at://%s/%s/%s" % (APP.did, coll, rkey)
        cid = cid_json(record)
        now = iso_utc(APP.clock.now())
        with APP.lock:
            cur = APP.records.get((coll, rkey))
            if cur is None or cur.get("deleted"):
                if cur is None:
                    APP.order.append((coll, rkey))
                APP.records[(coll, rkey)] = {
                    "collection": coll, "rkey": rkey, "uri": uri, "cid": cid,
                    "record": record, "action": "create", "writes": 1,
                    "created_at": now, "updated_at": now,
                    "$type_set_by_server": set_by_server}
            else:
                cur.update({"cid": cid, "record": record, "action": "update",
                            "writes": cur["writes"] + 1, "updated_at": now,
                            "$type_set_by_server": set_by_server})
        rev = make_tid()
        return {"uri": uri, "cid": cid,
                "commit": {"cid": cid_json({"rev": rev}), "rev": rev},
                "validationStatus": "valid" if coll == POST else "unknown"}

    def create_record(self, q):
        self.auth()
        data = self.json_body()
        self.need(data, "record")
        coll = self.check_repo(data)
        rkey = data.get("rkey")
        if rkey is not None:
            self.check_rkey(coll, rkey)
        record, by_server = self.prepare(coll, data)
        with APP.lock:
            if rkey is None:
                rkey = make_tid()
            cur = APP.records.get((coll, rkey))
            if cur is not None and not cur.get("deleted"):
                if APP.args.create_conflict == 400:
                    raise bad("Record already exists: at://%s/%s/%s"
                              % (APP.did, coll, rkey))
                raise XrpcError(500, "InternalServerError",
                                "Internal Server Error")
            return self.write(coll, rkey, record, by_server, "create")

    def put_record(self, q):
        self.auth()
        data = self.json_body()
        self.need(data, "rkey", "record")
        coll = self.check_repo(data)
        rkey = data["rkey"]
        self.check_rkey(coll, rkey)
        record, by_server = self.prepare(coll, data)
        with APP.lock:
            cur = APP.records.get((coll, rkey))
            exists = cur is not None and not cur.get("deleted")
            if "swapRecord" in data:
                want = data["swapRecord"]
                if want is None and exists:
                    raise bad("Record was at %s" % cur["cid"], "InvalidSwap")
                if want is not None and (not exists or cur["cid"] != want):
                    raise bad("Record was at %s" %
                              (cur["cid"] if exists else "null"),
                              "InvalidSwap")
            delay, after = APP.put_delay
            if delay > 0 and len(APP.order) >= after:
                # Written first, answered late: a client may die between.
                self.late = delay
            return self.write(coll, rkey, record, by_server,
                              "update" if exists else "create")

    def get_record(self, q):
        for n in ("repo", "collection", "rkey"):
            if n not in q:
                raise bad('Params must have the property "%s"' % n)
        if q["repo"] not in (APP.did, APP.handle):
            raise bad("Could not find repo: %s" % q["repo"])
        with APP.lock:
            cur = APP.records.get((q["collection"], q["rkey"]))
        if cur is None or cur.get("deleted"):
            raise bad("Could not locate record: at://%s/%s/%s"
                      % (APP.did, q["collection"], q["rkey"]),
                      "RecordNotFound")
        return {"uri": cur["uri"], "cid": cur["cid"], "value": cur["record"]}

    def get_posts(self, q):
        self.auth()
        uris = urllib.parse.parse_qs(
            urllib.parse.urlsplit(self.path).query).get("uris", [])
        if not uris:
            raise bad('Params must have the property "uris"')
        if len(uris) > 25:
            raise bad("uris must not have more than 25 elements")
        out = []
        for u in uris:
            if not u.startswith("at://"):
                raise bad("uris/0 must be a valid at-uri")
            with APP.lock:
                cur = next((r for r in APP.records.values()
                            if r["uri"] == u and not r.get("deleted")), None)
                counts = dict(APP.counts.get(u, {}))
            if cur is None:
                continue
            view = {"uri": u, "cid": cur["cid"],
                    "author": {"did": APP.did, "handle": APP.handle},
                    "record": cur["record"], "likeCount": 0,
                    "repostCount": 0, "replyCount": 0, "quoteCount": 0,
                    "indexedAt": cur["created_at"]}
            view.update(counts)
            out.append(view)
        return {"posts": out}

    def delete_record(self, q):
        self.auth()
        data = self.json_body()
        self.need(data, "rkey")
        coll = self.check_repo(data)
        with APP.lock:
            cur = APP.records.get((coll, data["rkey"]))
            if cur is not None:
                cur["deleted"] = True
        return {}

    def describe_server(self, q):
        return {"did": "did:web:127.0.0.1", "availableUserDomains": [".test"],
                "inviteCodeRequired": True}

    METHODS = {
        "com.atproto.server.createSession": ("POST", create_session),
        "com.atproto.server.refreshSession": ("POST", refresh_session),
        "com.atproto.server.getSession": ("GET", get_session),
        "com.atproto.server.deleteSession": ("POST", delete_session),
        "com.atproto.server.describeServer": ("GET", describe_server),
        "com.atproto.identity.resolveHandle": ("GET", resolve_handle),
        "com.atproto.repo.uploadBlob": ("POST", upload_blob),
        "com.atproto.repo.createRecord": ("POST", create_record),
        "com.atproto.repo.putRecord": ("POST", put_record),
        "com.atproto.repo.getRecord": ("GET", get_record),
        "com.atproto.repo.deleteRecord": ("POST", delete_record),
        "app.bsky.feed.getPosts": ("GET", get_posts),
    }

    # --- app.bsky.feed.post validation ---------------------------------

    def validate_post(self, r):
        if "text" not in r:
            raise invalid_post('Record must have the property "text"')
        if "createdAt" not in r:
            raise invalid_post('Record must have the property "createdAt"')
        text = r["text"]
        if not isinstance(text, str):
            raise invalid_post("Record/text must be a string")
        raw = text.encode("utf-8")
        if len(raw) > 3000:
            raise invalid_post("Record/text must not be longer than 3000 "
                               "characters (UTF-8 bytes: %d)" % len(raw))
        g = graphemes(text)
        if g > 300:
            raise invalid_post("Record/text must not be longer than 300 "
                               "graphemes (got %d)" % g)
        check_datetime("Record/createdAt", r["createdAt"])
        if "langs" in r:
            langs = r["langs"]
            if not isinstance(langs, list):
                raise invalid_post("Record/langs must be an array")
            if len(langs) > 3:
                raise invalid_post("Record/langs must not have more than 3 "
                                   "elements")
            for i, lang in enumerate(langs):
                if not isinstance(lang, str) or not LANG_RE.match(lang):
                    raise invalid_post("Record/langs/%d must be a well-formed "
                                       "BCP 47 language tag" % i)
        if "tags" in r:
            tags = r["tags"]
            if not isinstance(tags, list) or len(tags) > 8:
                raise invalid_post("Record/tags must be an array of at most "
                                   "8 elements")
            for i, t in enumerate(tags):
                check_tag("Record/tags/%d" % i, t)
        if "facets" in r:
            self.validate_facets(text, raw, r["facets"])
        if "embed" in r:
            self.validate_embed(r["embed"])
        if "reply" in r:
            rep = r["reply"]
            if not isinstance(rep, dict):
                raise invalid_post("Record/reply must be an object")
            for k in ("root", "parent"):
                check_strong_ref("Record/reply/" + k, rep.get(k))

    def validate_facets(self, text, raw, facets):
        if not isinstance(facets, list):
            raise invalid_post("Record/facets must be an array")
        spans = []
        for i, f in enumerate(facets):
            where = "Record/facets/%d" % i
            if not isinstance(f, dict):
                raise invalid_post(where + " must be an object")
            idx = f.get("index")
            if not isinstance(idx, dict):
                raise invalid_post(where + ' must have the property "index"')
            s, e = idx.get("byteStart"), idx.get("byteEnd")
            if not isinstance(s, int) or not isinstance(e, int) or \
                    isinstance(s, bool) or isinstance(e, bool):
                raise invalid_post(where + "/index must have integer "
                                   "byteStart and byteEnd")
            if s < 0 or e < 0:
                raise invalid_post(where + "/index byteStart/byteEnd must "
                                   "be >= 0")
            if not s < e <= len(raw):
                raise invalid_post("%s: byteSlice [%d, %d) is outside the "
                                   "text (%d UTF-8 bytes) or empty"
                                   % (where, s, e, len(raw)))
            try:
                piece = raw[s:e].decode("utf-8")
            except UnicodeDecodeError:
                raise invalid_post("%s: byteSlice [%d, %d) does not fall "
                                   "on UTF-8 character boundaries"
                                   % (where, s, e))
            if (s < len(raw) and (raw[s] & 0xC0) == 0x80) or \
                    (e < len(raw) and (raw[e] & 0xC0) == 0x80):
                raise invalid_post("%s: byteSlice [%d, %d) does not fall "
                                   "on UTF-8 character boundaries"
                                   % (where, s, e))
            feats = f.get("features")
            if not isinstance(feats, list) or not feats:
                raise invalid_post(where + ' must have a non-empty '
                                   '"features" array')
            for j, feat in enumerate(feats):
                self.check_feature("%s/features/%d" % (where, j), feat,
                                   piece, s, e)
            spans.append((s, e, i))
        spans.sort()
        for a, b in zip(spans, spans[1:]):
            if b[0] < a[1]:
                raise invalid_post("Record/facets/%d and Record/facets/%d "
                                   "overlap ([%d, %d) and [%d, %d))"
                                   % (a[2], b[2], a[0], a[1], b[0], b[1]))

    def check_feature(self, where, feat, piece, s, e):
        if not isinstance(feat, dict):
            raise invalid_post(where + " must be an object")
        t = feat.get("$type")
        shown = "text[%d:%d] = %r" % (s, e, piece)
        if t == "app.bsky.richtext.facet#link":
            uri = feat.get("uri")
            if not isinstance(uri, str) or not URI_RE.match(uri):
                raise invalid_post(where + "/uri must be a valid uri")
            if not link_text_ok(piece, uri):
                raise invalid_post("%s: link facet does not land on its link "
                                   "text: %s, uri %r" % (where, shown, uri))
        elif t == "app.bsky.richtext.facet#tag":
            tag = feat.get("tag")
            check_tag(where + "/tag", tag)
            if piece not in ("#" + tag, "\uff03" + tag):
                raise invalid_post("%s: tag facet does not land on \"#%s\": "
                                   "%s" % (where, tag, shown))
        elif t == "app.bsky.richtext.facet#mention":
            did = feat.get("did")
            if not isinstance(did, str) or not DID_RE.match(did):
                raise invalid_post(where + "/did must be a valid did")
            if not APP.resolve(did):
                raise invalid_post("%s: mention of %s, which does not "
                                   "resolve" % (where, did))
            handles = [h for h, d in APP.handles.items() if d == did]
            if not piece.startswith("@") or \
                    piece[1:].lower() not in handles:
                raise invalid_post("%s: mention facet does not land on "
                                   "@handle of %s (%s): %s"
                                   % (where, did, ", ".join(handles), shown))
        else:
            raise invalid_post("%s/$type must be one of app.bsky.richtext."
                               "facet#link, #mention, #tag (got %r)"
                               % (where, t))

    def check_blob(self, where, blob):
        if not isinstance(blob, dict) or blob.get("$type") != "blob":
            raise invalid_post(where + ' must be a blob ({"$type": "blob", '
                               '"ref": {"$link": CID}, "mimeType", "size"})')
        ref = blob.get("ref")
        cid = ref.get("$link") if isinstance(ref, dict) else None
        if not isinstance(cid, str) or not CID_RE.match(cid):
            raise invalid_post(where + "/ref must be a CID link "
                               '{"$link": "b..."}')
        if not isinstance(blob.get("mimeType"), str) or \
                not isinstance(blob.get("size"), int):
            raise invalid_post(where + " must have mimeType (string) and "
                               "size (integer)")
        with APP.lock:
            stored = APP.blobs.get(cid)
        if stored is None:
            raise bad("Could not find blob: %s" % cid, "BlobNotFound")
        if blob["mimeType"] != stored["mimeType"]:
            raise bad("Referenced Mimetype does not match stored blob. "
                      "Expected: %s, Got: %s"
                      % (stored["mimeType"], blob["mimeType"]))
        if not stored["mimeType"].startswith("image/"):
            raise invalid_post("%s mimeType (%s) is not accepted (image/*)"
                               % (where, stored["mimeType"]))
        if stored["size"] > MAX_IMAGE:
            raise invalid_post("%s file is too big (%d bytes, max %d)"
                               % (where, stored["size"], MAX_IMAGE))

    def validate_embed(self, emb):
        if not isinstance(emb, dict):
            raise invalid_post("Record/embed must be an object")
        t = emb.get("$type")
        if t == "app.bsky.embed.images":
            imgs = emb.get("images")
            if not isinstance(imgs, list) or not imgs:
                raise invalid_post('Record/embed must have a non-empty '
                                   '"images" array')
            if len(imgs) > 4:
                raise invalid_post("Record/embed/images must not have more "
                                   "than 4 elements")
            for i, img in enumerate(imgs):
                where = "Record/embed/images/%d" % i
                if not isinstance(img, dict):
                    raise invalid_post(where + " must be an object")
                if "alt" not in img:
                    raise invalid_post(where + ' must have the property "alt"')
                if not isinstance(img["alt"], str):
                    raise invalid_post(where + "/alt must be a string")
                if "image" not in img:
                    raise invalid_post(where + ' must have the property '
                                       '"image"')
                self.check_blob(where + "/image", img["image"])
                ar = img.get("aspectRatio")
                if ar is not None and not (
                        isinstance(ar, dict) and
                        isinstance(ar.get("width"), int) and
                        isinstance(ar.get("height"), int) and
                        ar["width"] >= 1 and ar["height"] >= 1):
                    raise invalid_post(where + "/aspectRatio must have "
                                       "integer width and height >= 1")
        elif t == "app.bsky.embed.external":
            ext = emb.get("external")
            if not isinstance(ext, dict):
                raise invalid_post('Record/embed must have the property '
                                   '"external"')
            for k in ("uri", "title", "description"):
                if not isinstance(ext.get(k), str):
                    raise invalid_post('Record/embed/external must have the '
                                       'string property "%s"' % k)
            if not URI_RE.match(ext["uri"]):
                raise invalid_post("Record/embed/external/uri must be a "
                                   "valid uri")
            if "thumb" in ext:
                self.check_blob("Record/embed/external/thumb", ext["thumb"])
        elif t == "app.bsky.embed.record":
            check_strong_ref("Record/embed/record", emb.get("record"))
        else:
            raise invalid_post("Record/embed/$type %r is not supported by "
                               "this peer (images, external, record)" % (t,))

    # --- control -------------------------------------------------------

    def control(self, url, body):
        p, m = url.path, self.command
        if p == "/_control/records" and m == "GET":
            with APP.lock:
                data = [dict(APP.records[k]) for k in APP.order]
            self.respond({"status": 200, "body": data})
        elif p == "/_control/blobs" and m == "GET":
            with APP.lock:
                data = [dict(v, cid=k) for k, v in APP.blobs.items()]
            self.respond({"status": 200, "body": data})
        elif p == "/_control/sessions" and m == "GET":
            with APP.lock:
                data = [{"token": k[:16] + "...", "typ": v["typ"],
                         "exp": v["exp"], "valid": v["valid"]}
                        for k, v in APP.tokens.items()]
            self.respond({"status": 200, "body": data})
        elif p == "/_control/clock" and m == "POST":
            try:
                adv = float(json.loads(body or b"{}").get("advance", 0))
            except (ValueError, AttributeError) as e:
                self.respond({"status": 400, "body": {"error": str(e)}})
                return
            self.respond({"status": 200,
                          "body": {"offset": APP.clock.advance(adv)}})
        elif p == "/_control/put-delay" and m == "POST":
            try:
                d = json.loads(body or b"{}")
                APP.put_delay = (float(d.get("seconds", 0)),
                                 int(d.get("after", 0)))
            except (ValueError, AttributeError) as e:
                self.respond({"status": 400, "body": {"error": str(e)}})
                return
            self.respond({"status": 200, "body": {"seconds":
                                                  APP.put_delay[0]}})
        elif p == "/_control/expire-tokens" and m == "POST":
            now = APP.clock.now()
            with APP.lock:
                for v in APP.tokens.values():
                    if v["typ"] == "at+jwt":
                        v["exp"] = min(v["exp"], now)
            self.respond({"status": 200, "body": {"ok": True}})
        elif p == "/_control/counts" and m == "POST":
            try:
                req = json.loads(body or b"{}")
                keys = ("likeCount", "repostCount", "replyCount")
                vals = {k: int(req[k]) for k in keys if k in req}
                if any(v < 0 for v in vals.values()):
                    raise ValueError("counts are >= 0")
                uri = str(req["uri"])
            except (ValueError, AttributeError, TypeError, KeyError) as e:
                self.respond({"status": 400, "body": {"error": str(e)}})
                return
            with APP.lock:
                known = any(r["uri"] == uri for r in APP.records.values())
                if known:
                    APP.counts.setdefault(uri, {}).update(vals)
            self.respond({"status": 200, "body": {"uri": uri}} if known else
                         {"status": 404, "body": {"error": "no such post"}})
        elif p == "/_control/reset-all" and m == "POST":
            self.state.reset()
            APP.reset()
            self.respond({"status": 200, "body": {"ok": True}})
        else:
            super().control(url, body)


# --- field checks ---------------------------------------------------------------

def check_datetime(where, v):
    ok = isinstance(v, str) and DATETIME_RE.match(v) and \
        not v.endswith("-00:00")
    if ok:
        try:
            datetime.fromisoformat(re.sub(r"\.(\d{1,6})\d*", r".\1",
                                          v.replace("Z", "+00:00")))
        except ValueError:
            ok = False
    if not ok:
        raise invalid_post("%s must be an valid atproto datetime (both "
                           "RFC-3339 and ISO-8601): %r" % (where, v))


def check_tag(where, t):
    if not isinstance(t, str) or not t:
        raise invalid_post(where + " must be a non-empty string")
    if len(t.encode()) > 640 or graphemes(t) > 64:
        raise invalid_post(where + " must not be longer than 64 graphemes "
                           "(640 bytes)")


def check_strong_ref(where, ref):
    if not isinstance(ref, dict) or not isinstance(ref.get("uri"), str) or \
            not ref["uri"].startswith("at://") or \
            not isinstance(ref.get("cid"), str):
        raise invalid_post(where + " must be a strongRef {uri: at://..., "
                           "cid}")


def link_text_ok(piece, uri):
    if piece == uri:
        return True
    bare = re.sub(r"^https?://", "", uri, flags=re.IGNORECASE)
    if piece == bare:
        return True
    for ell in ("...", "\u2026"):
        if piece.endswith(ell) and len(piece) > len(ell) + 3:
            stem = piece[:-len(ell)]
            if uri.startswith(stem) or bare.startswith(stem):
                return True
    return False


def parse_args(argv):
    p = argparse.ArgumentParser(description="atproto PDS test peer",
                                epilog="Other options go to httpmock.py "
                                       "(--port-file, --lifetime, --tls).")
    p.add_argument("--handle", default="ogp.test")
    p.add_argument("--did")
    p.add_argument("--app-password-file", required=True)
    p.add_argument("--access-ttl", type=float, default=7200.0)
    p.add_argument("--refresh-ttl", type=float, default=90 * 86400.0)
    p.add_argument("--handles")
    p.add_argument("--create-conflict", type=int, choices=(500, 400),
                   default=500)
    p.add_argument("--session-limit", default="30/300")
    return p.parse_known_args(argv)


def main(argv=None):
    global APP
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    APP = App(args)
    return httpmock.main(rest, handler=BlueskyHandler)


if __name__ == "__main__":
    sys.exit(main())
