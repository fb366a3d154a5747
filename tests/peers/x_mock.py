#!/usr/bin/python3
"""X API v2 test peer for crier (Python 3 stdlib only).

Run:  /usr/bin/python3 x_mock.py --port-file F --credentials FILE
          [--max-weighted 280] [--tweet-limit 100] [--media-limit 500]
          [--rate-window 900] [--access-ttl 7200] [--processing-polls 2]
          [--lifetime S] [--tls CERT KEY]          (the last two: httpmock)

The credentials FILE is JSON: {"consumer_key", "consumer_secret",
"access_token", "access_token_secret"} (OAuth 1.0a user context) and
{"client_id", "refresh_token"} with optional "client_secret" (a confidential
client: the token endpoint then wants HTTP Basic) and "oauth2_access_token"
(OAuth 2.0 user context); optional "user_id", "username".

Built on httpmock.py (MockHandler subclass, main(handler=...)): the
/_control/script, /_control/requests and /_control/reset endpoints work as
documented there, and a scripted spec matching a request wins over the API
below (force a 500, a hang, a reset, a 401 on any endpoint).  A scripted 429
without x-rate-limit-* headers gets them (reset 2 s ahead) and X's body.

Documented rules enforced, and where they come from
---------------------------------------------------
docs.x.com/fundamentals/authentication/oauth-1-0a/authorizing-a-request,
.../creating-a-signature, .../percent-encoding-parameters, RFC 5849 3.4:
  * "Authorization: OAuth ..." with oauth_consumer_key, oauth_nonce,
    oauth_signature, oauth_signature_method=HMAC-SHA1, oauth_timestamp,
    oauth_token, oauth_version=1.0.  The peer recomputes the signature from
    the request it got (method; scheme, Host header and path; query and,
    for application/x-www-form-urlencoded bodies, form parameters; the
    oauth_* parameters) with the consumer secret and token secret and
    compares.  A wrong key, token, signature or method, a timestamp more
    than 300 s off the peer's clock, or a nonce seen before gets X's v2
    401: {"title": "Unauthorized", "type": "about:blank", "status": 401,
    "detail": "Unauthorized"}; /_control/requests says why ("auth_error").
docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code and
.../user-access-token (OAuth 2.0 Authorization Code Flow with PKCE):
  * "Authorization: Bearer <user access token>"; a token lives
    --access-ttl s (2 hours without offline.access, as the page says);
    expired or unknown: the same 401.
  * POST /2/oauth2/token, application/x-www-form-urlencoded,
    grant_type=refresh_token, refresh_token, and client_id (public client)
    or HTTP Basic client_id:client_secret (confidential client) -> 200
    {"token_type": "bearer", "expires_in": 7200, "access_token",
    "scope": "tweet.write tweet.read users.read offline.access
    media.write", "refresh_token"}.  Refresh tokens rotate: the one used
    stops working at once, so a client that loses the new one is locked
    out (as on X).  A used or unknown refresh token: 400 {"error":
    "invalid_request", "error_description": "Value passed for the token
    was invalid."}; a bad Basic header: 401 {"error":
    "unauthorized_client", ...}.  The authorization-code grant itself is
    not emulated: tests start from the configured tokens.
docs.x.com/x-api/posts/create-post (POST /2/tweets):
  * JSON body; fields text, media.media_ids (1-4 strings of digits),
    reply.in_reply_to_tweet_id (and, accepted and ignored, quote_tweet_id,
    reply_settings, for_super_followers_only, geo, poll, nullcast); any
    other field -> 400 (stricter than X: catches typos in what crier
    sends).  Created: 201 {"data": {"id", "text",
    "edit_history_tweet_ids": [id]}}.
  * Neither text nor media -> 400; over-length text (weighted, xtext.py,
    limit --max-weighted) -> 400 with X's message "Your Tweet text is too
    long. For more information on how Twitter determines text length see
    https://github.com/twitter/twitter-text." (status and message as
    clients report them; the problem JSON around it is X's invalid-request
    shape: {"errors": [{"message"}], "title": "Invalid Request", "detail":
    "One or more parameters to your request was invalid.", "type":
    "https://api.twitter.com/2/problems/invalid-request"}).
  * The same text again from the same account -> 403 {"detail": "You are
    not allowed to create a Tweet with duplicate content.", "type":
    "about:blank", "title": "Forbidden", "status": 403}.
  * media_ids must be this account's, uploaded, finalized, processed and
    not expired (expires_after_secs); an unknown in_reply_to_tweet_id is
    refused (400).
docs.x.com/x-api/media/upload-media, .../initialize-media-upload,
.../append-media-upload, .../finalize-media-upload, .../get-media-upload-
status, .../quickstart/media-upload-chunked, .../quickstart/best-practices:
  * POST /2/media/upload (simple upload, images): multipart/form-data with
    "media" (the bytes) and "media_category" (tweet_image, tweet_gif,
    dm_image, subtitles...; required), "media_type" optional; images
    <= 5 MB, GIFs <= 15 MB; the bytes must be the image media_type says
    (PNG, JPEG, GIF, WebP, BMP, TIFF sniffed).  200 {"data": {"id",
    "media_key", "size", "expires_after_secs": 86400}}.
  * Chunked: POST /2/media/upload/initialize (JSON {media_type,
    total_bytes, media_category}) -> {"data": {"id", "media_key",
    "expires_after_secs"}}; POST /2/media/upload/{id}/append (multipart
    "media", "segment_index" 0-999); POST /2/media/upload/{id}/finalize:
    the segments must add up to total_bytes.  tweet_video and tweet_gif
    get processing_info {"state": "pending", "check_after_secs": 1}; GET
    /2/media/upload?command=STATUS&media_id=ID answers in_progress
    --processing-polls times, then succeeded.
docs.x.com/x-api/media/create-media-metadata (POST /2/media/metadata):
  * JSON {"id": MEDIA_ID, "metadata": {"alt_text": {"text": ...}}}; alt
    text <= 1000 characters; another account's or unknown media -> 400.
    200 {"data": {"id", "associated_metadata": {"alt_text": {"text"}}}}.
docs.x.com/x-api/fundamentals/rate-limits:
  * the answers of POST /2/tweets and of the media endpoints carry
    x-rate-limit-limit, x-rate-limit-remaining and x-rate-limit-reset
    (Unix seconds; the lookups below do not count); per endpoint,
    --tweet-limit POST /2/tweets and --media-limit media calls per
    --rate-window s (default 100 and 500 per 15 minutes); past that: 429
    {"title": "Too Many Requests", "detail": "Too Many Requests", "type":
    "about:blank", "status": 429}.
Also: GET /2/users/me, GET /2/tweets/:id, GET /2/users/:id/tweets (newest
first, max_results 5-100), so a client can look for a post it may have made
before a crash.

Control (besides httpmock's):
  GET  /_control/tweets   every post: {"id", "text", "media": [{"id",
       "alt_text", "media_type", "category", "size"}], "reply_to", "auth"
       ("oauth1" or "oauth2"), "weighted_length", "created_at"}
  GET  /_control/media    every upload
  GET  /_control/tokens   {"access_tokens": [valid ones], "refresh_token",
       "refreshes"}
  POST /_control/expire-tokens  {"refresh": false}: OAuth 2.0 access tokens
       expire now (and the refresh token too with "refresh": true)
  POST /_control/clock    {"advance": S}
  POST /_control/rate-limit  {"path": "/2/tweets" or "media", "limit": N,
       "window": S}: new limits, counters reset
  POST /_control/tweet-delay {"seconds": S, "after": N}: POST /2/tweets
       creates the post at once and answers S s later (a client killed
       meanwhile never knows), once the peer holds more than N posts
  POST /_control/token-delay {"seconds": S}: POST /2/oauth2/token rotates
       the tokens at once and answers S s later (a client reloaded meanwhile)
  POST /_control/reset-all  forgets posts, media, nonces, counters; tokens
       back to the configured ones
"""

import argparse
import base64
import email.parser
import email.policy
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpmock  # noqa: E402
import xtext  # noqa: E402
from peerlib import Clock, iso_utc  # noqa: E402

SCOPE = "tweet.write tweet.read users.read offline.access media.write"
TIMESTAMP_SKEW = 300
MEDIA_TTL = 86400
MAX_MEDIA = 4
MAX_ALT_TEXT = 1000
MAX_IMAGE = 5 * 1024 * 1024
MAX_GIF = 15 * 1024 * 1024
MAX_VIDEO = 512 * 1024 * 1024
MAX_SEGMENT = 5 * 1024 * 1024
MAX_JSON = 64 * 1024
ONE_SHOT_CATEGORIES = ("tweet_image", "tweet_gif", "dm_image", "dm_gif",
                       "subtitles")
CHUNK_CATEGORIES = ONE_SHOT_CATEGORIES + ("tweet_video", "dm_video",
                                          "amplify_video")
POST_FIELDS = ("text", "media", "reply", "quote_tweet_id", "reply_settings",
               "for_super_followers_only", "geo", "poll", "nullcast",
               "direct_message_deep_link")
TOO_LONG = ("Your Tweet text is too long. For more information on how "
            "Twitter determines text length see "
            "https://github.com/twitter/twitter-text.")
DUPLICATE = "You are not allowed to create a Tweet with duplicate content."
BAD_REFRESH = "Value passed for the token was invalid."
OWN_CONTROLS = ("/_control/tweets", "/_control/media", "/_control/tokens",
                "/_control/expire-tokens", "/_control/clock",
                "/_control/rate-limit", "/_control/tweet-delay",
                "/_control/token-delay",
                "/_control/reset-all")

UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank",
                "status": 401, "detail": "Unauthorized"}
TOO_MANY = {"title": "Too Many Requests", "detail": "Too Many Requests",
            "type": "about:blank", "status": 429}


def invalid(message):
    return {"status": 400, "body": {
        "errors": [{"message": message}], "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request"}}


def pct(s):
    """RFC 3986 percent-encoding, as X's "Percent encoding parameters"."""
    return urllib.parse.quote(s, safe="-._~")


def sniff(data):
    """The image MIME type of DATA by its magic bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM":
        return "image/bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    return None


def parse_multipart(content_type, body):
    """{name: bytes} of a multipart/form-data BODY (first value wins)."""
    head = ("Content-Type: %s\r\nMIME-Version: 1.0\r\n\r\n"
            % content_type).encode("latin-1", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        head + body)
    if not msg.is_multipart():
        raise ValueError("malformed multipart body")
    out = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is not None and name not in out:
            out[name] = part.get_payload(decode=True) or b""
    return out


# --- state -------------------------------------------------------------------

class App:
    def __init__(self, args):
        self.args = args
        with open(args.credentials) as f:
            self.creds = json.load(f)
        for k in ("consumer_key", "consumer_secret", "access_token",
                  "access_token_secret", "client_id", "refresh_token"):
            if not isinstance(self.creds.get(k), str) or not self.creds[k]:
                raise SystemExit("x_mock: %s missing in %s"
                                 % (k, args.credentials))
        self.user_id = str(self.creds.get("user_id", "1500000000000000001"))
        self.username = self.creds.get("username", "ogp")
        self.clock = Clock()
        self.lock = threading.RLock()
        self.limits = {"tweets": args.tweet_limit, "media": args.media_limit}
        self.window = args.rate_window
        self.reset()

    def reset(self):
        with self.lock:
            self.tweets = []          # control records, in order
            self.by_id = {}           # id -> record
            self.media = {}           # id -> dict
            self.nonces = {}          # nonce -> timestamp
            self.buckets = {}         # (who, key) -> [start, count]
            self.next_id = 1860000000000000000
            self.tweet_delay = 0.0
            self.delay_after = 0      # posts answered at once first
            self.token_delay = 0.0
            self.refreshes = 0
            now = self.clock.now()
            self.access = {}          # token -> expiry
            tok = self.creds.get("oauth2_access_token")
            if tok:
                self.access[tok] = now + self.args.access_ttl
            self.refresh = self.creds["refresh_token"]

    def new_id(self):
        with self.lock:
            self.next_id += 4096 + secrets.randbelow(4096)
            return str(self.next_id)


APP = None


class XHandler(httpmock.MockHandler):
    server_version = "x-mock/1"

    def read_body(self):
        body = super().read_body()
        self.raw_body = body
        return body

    # --- auth ------------------------------------------------------------

    def base_url(self):
        scheme = "https" if self.state.tls else "http"
        host = (self.headers.get("Host") or "").lower()
        if scheme == "http" and host.endswith(":80"):
            host = host[:-3]
        elif scheme == "https" and host.endswith(":443"):
            host = host[:-4]
        return "%s://%s%s" % (scheme, host,
                              urllib.parse.urlsplit(self.path).path)

    def oauth1(self, auth, rec):
        """None if the OAuth 1.0a header verifies, else why not."""
        c = APP.creds
        params = {}
        for k, v in re.findall(r'([A-Za-z0-9_.~%-]+)="([^"]*)"', auth[6:]):
            k, v = urllib.parse.unquote(k), urllib.parse.unquote(v)
            if k in params:
                return "duplicate %s" % k
            params[k] = v
        for k in ("oauth_consumer_key", "oauth_nonce", "oauth_signature",
                  "oauth_signature_method", "oauth_timestamp",
                  "oauth_token"):
            if k not in params:
                return "no %s" % k
        if params["oauth_consumer_key"] != c["consumer_key"]:
            return "unknown consumer key"
        if params["oauth_token"] != c["access_token"]:
            return "unknown token"
        if params["oauth_signature_method"] != "HMAC-SHA1":
            return "signature method is not HMAC-SHA1"
        if params.get("oauth_version", "1.0") != "1.0":
            return "oauth_version is not 1.0"
        try:
            ts = int(params["oauth_timestamp"])
        except ValueError:
            return "bad timestamp"
        if abs(ts - APP.clock.now()) > TIMESTAMP_SKEW:
            return "timestamp more than %d s off" % TIMESTAMP_SKEW
        pairs = urllib.parse.parse_qsl(rec["query"], keep_blank_values=True)
        ctype = self.headers.get("Content-Type", "").lower()
        if ctype.startswith("application/x-www-form-urlencoded"):
            pairs += urllib.parse.parse_qsl(
                self.raw_body.decode("utf-8", "replace"),
                keep_blank_values=True)
        pairs += [(k, v) for k, v in params.items()
                  if k not in ("oauth_signature", "realm")]
        enc = sorted((pct(k), pct(v)) for k, v in pairs)
        pstr = "&".join("%s=%s" % kv for kv in enc)
        base = "&".join((self.command.upper(), pct(self.base_url()),
                         pct(pstr)))
        key = "%s&%s" % (pct(c["consumer_secret"]),
                         pct(c["access_token_secret"]))
        want = base64.b64encode(hmac.new(key.encode(), base.encode(),
                                         hashlib.sha1).digest()).decode()
        rec["oauth1_base_string"] = base
        if not hmac.compare_digest(want, params["oauth_signature"]):
            return "bad signature"
        with APP.lock:
            if params["oauth_nonce"] in APP.nonces:
                return "nonce used before"
            APP.nonces[params["oauth_nonce"]] = ts
        return None

    def authenticate(self, rec):
        """("oauth1"|"oauth2", None) or (None, reason)."""
        auth = self.headers.get("Authorization", "")
        if auth.startswith("OAuth "):
            why = self.oauth1(auth, rec)
            return ("oauth1", None) if why is None else (None, why)
        if auth.startswith("Bearer "):
            tok = auth[7:].strip()
            with APP.lock:
                exp = APP.access.get(tok)
            if exp is None:
                return None, "unknown bearer token"
            if APP.clock.now() >= exp:
                return None, "expired bearer token"
            return "oauth2", None
        return None, "no Authorization header"

    # --- rate limits -----------------------------------------------------

    def rate(self, key):
        """Counts this request in bucket KEY: (headers, over_limit)."""
        now = APP.clock.now()
        with APP.lock:
            limit = APP.limits[key]
            b = APP.buckets.get(key)
            if b is None or now >= b[0] + APP.window:
                b = APP.buckets[key] = [now, 0]
            b[1] += 1
            over = b[1] > limit
            hdrs = {"x-rate-limit-limit": str(limit),
                    "x-rate-limit-remaining": str(max(0, limit - b[1])),
                    "x-rate-limit-reset": str(int(b[0] + APP.window))}
        return hdrs, over

    # --- routing ---------------------------------------------------------

    def route(self, rec):
        path = rec["path"]
        if not path.startswith("/2/"):
            return None
        spec = self.state.take(self.command, path)
        if spec is not None:
            if int(spec.get("status", 200)) == 429:
                hdrs = dict(spec.get("headers") or {})
                if not any(h.lower() == "x-rate-limit-reset" for h in hdrs):
                    hdrs.update({
                        "x-rate-limit-limit": "1",
                        "x-rate-limit-remaining": "0",
                        "x-rate-limit-reset": str(int(APP.clock.now() + 2))})
                spec = dict(spec, headers=hdrs)
                if "body" not in spec:
                    spec["body"] = TOO_MANY
            return spec
        try:
            return self.api(rec)
        except (ValueError, UnicodeDecodeError) as e:
            return invalid("unparseable request: %s" % e)

    def api(self, rec):
        path, method = rec["path"], self.command
        if path == "/2/oauth2/token":
            if method != "POST":
                return {"status": 405, "body": {"error": "method not allowed"}}
            spec = self.token(rec)
            if APP.token_delay > 0:
                spec = dict(spec, delay=APP.token_delay)
            return spec
        how, why = self.authenticate(rec)
        if how is None:
            rec["auth_error"] = why
            return {"status": 401, "body": UNAUTHORIZED}
        rec["auth"] = how
        key = "tweets" if path == "/2/tweets" and method == "POST" else \
            "media" if path.startswith("/2/media") else None
        hdrs = {}
        if key is not None:
            hdrs, over = self.rate(key)
            if over:
                return {"status": 429, "body": TOO_MANY, "headers": hdrs}
        if method == "POST" and path == "/2/tweets":
            spec = self.create_tweet(how)
            if APP.tweet_delay > 0 and len(APP.tweets) > APP.delay_after:
                spec = dict(spec, delay=APP.tweet_delay)
        elif method == "GET" and path.startswith("/2/tweets/"):
            spec = self.get_tweet(path.rsplit("/", 1)[1])
        elif method == "GET" and path == "/2/users/me":
            spec = {"status": 200, "body": {"data": {
                "id": APP.user_id, "name": APP.username,
                "username": APP.username}}}
        elif method == "GET" and re.match(r"^/2/users/\d+/tweets$", path):
            spec = self.user_tweets(path.split("/")[3], rec["query"])
        elif path == "/2/media/upload" and method == "POST":
            spec = self.upload_simple()
        elif path == "/2/media/upload" and method == "GET":
            spec = self.upload_status(rec["query"])
        elif path == "/2/media/upload/initialize" and method == "POST":
            spec = self.upload_init()
        elif re.match(r"^/2/media/upload/\d+/(append|finalize)$", path) \
                and method == "POST":
            _, _, _, _, mid, step = path.split("/")
            spec = self.upload_append(mid) if step == "append" else \
                self.upload_finalize(mid)
        elif path == "/2/media/metadata" and method == "POST":
            spec = self.metadata()
        else:
            spec = {"status": 404, "body": {
                "errors": [{"message": "The requested resource could not "
                            "be found."}], "title": "Not Found Error",
                "type": "https://api.twitter.com/2/problems/"
                        "resource-not-found"}}
        spec.setdefault("headers", {}).update(hdrs)
        return spec

    def json_body(self):
        if not self.headers.get("Content-Type", "").lower().startswith(
                "application/json"):
            raise ValueError("Content-Type must be application/json")
        if len(self.raw_body) > MAX_JSON:
            raise ValueError("body over %d bytes" % MAX_JSON)
        data = json.loads(self.raw_body.decode("utf-8") or "null")
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return data

    # --- OAuth 2.0 -------------------------------------------------------

    def token(self, rec):
        c = APP.creds
        if not self.headers.get("Content-Type", "").lower().startswith(
                "application/x-www-form-urlencoded"):
            return {"status": 400, "body": {
                "error": "invalid_request",
                "error_description": "Content-Type must be "
                                     "application/x-www-form-urlencoded"}}
        form = dict(urllib.parse.parse_qsl(
            self.raw_body.decode("utf-8", "replace"), keep_blank_values=True))
        if c.get("client_secret"):
            auth = self.headers.get("Authorization", "")
            want = "Basic " + base64.b64encode(
                ("%s:%s" % (c["client_id"], c["client_secret"])).encode()
            ).decode()
            if not hmac.compare_digest(auth, want):
                rec["auth_error"] = "bad Basic client credentials"
                return {"status": 401, "body": {
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization "
                                         "header"}}
        elif form.get("client_id") != c["client_id"]:
            return {"status": 400, "body": {
                "error": "invalid_request",
                "error_description": "Missing required parameter "
                                     "[client_id]."}}
        if form.get("grant_type") != "refresh_token":
            return {"status": 400, "body": {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be refresh_token "
                                     "here"}}
        with APP.lock:
            if not form.get("refresh_token") or \
                    not hmac.compare_digest(form["refresh_token"],
                                            APP.refresh or ""):
                rec["auth_error"] = "stale or unknown refresh token"
                return {"status": 400, "body": {
                    "error": "invalid_request",
                    "error_description": BAD_REFRESH}}
            access = secrets.token_urlsafe(48)
            APP.refresh = secrets.token_urlsafe(48)
            APP.access[access] = APP.clock.now() + APP.args.access_ttl
            APP.refreshes += 1
            refresh = APP.refresh
        return {"status": 200, "body": {
            "token_type": "bearer", "expires_in": int(APP.args.access_ttl),
            "access_token": access, "scope": SCOPE,
            "refresh_token": refresh}}

    # --- posts -----------------------------------------------------------

    def create_tweet(self, how):
        data = self.json_body()
        for k in data:
            if k not in POST_FIELDS:
                return invalid("The `%s` field is not allowed" % k)
        text = data.get("text")
        if text is not None and not isinstance(text, str):
            return invalid("`text` must be a string")
        media_ids = []
        if "media" in data:
            m = data["media"]
            if not isinstance(m, dict) or not isinstance(
                    m.get("media_ids"), list) or not m["media_ids"]:
                return invalid("`media.media_ids` must be a non-empty "
                               "array")
            media_ids = m["media_ids"]
            if len(media_ids) > MAX_MEDIA:
                return invalid("`media.media_ids` has more than %d items"
                               % MAX_MEDIA)
            if not all(isinstance(i, str) and i.isdigit()
                       for i in media_ids):
                return invalid("`media.media_ids` must be strings of "
                               "digits")
        reply_to = None
        if "reply" in data:
            r = data["reply"]
            if not isinstance(r, dict) or not isinstance(
                    r.get("in_reply_to_tweet_id"), str):
                return invalid("`reply.in_reply_to_tweet_id` is required")
            reply_to = r["in_reply_to_tweet_id"]
            if reply_to not in APP.by_id:
                return invalid("The Tweet you are replying to (%s) does "
                               "not exist" % reply_to)
        if not text and not media_ids:
            return invalid("`text` or `media` is required")
        length, valid = xtext.parse(text or "", APP.args.max_weighted)
        if text and not valid:
            if length > APP.args.max_weighted:
                return invalid(TOO_LONG)
            return invalid("The `text` field holds a character X refuses")
        now = APP.clock.now()
        with APP.lock:
            attach = []
            for mid in media_ids:
                m = APP.media.get(mid)
                if m is None or now >= m["expires"]:
                    return invalid("Your media IDs are invalid.")
                if m["state"] != "succeeded":
                    return invalid("Media %s is not ready: finalize it and "
                                   "wait for processing" % mid)
                attach.append(m)
            if text and any(t["text"] == text for t in APP.tweets):
                return {"status": 403, "body": {
                    "detail": DUPLICATE, "type": "about:blank",
                    "title": "Forbidden", "status": 403}}
            tid = APP.new_id()
            rec = {"id": tid, "text": text or "", "reply_to": reply_to,
                   "auth": how, "weighted_length": length,
                   "created_at": iso_utc(now),
                   "media": [{"id": m["id"], "alt_text": m["alt_text"],
                              "media_type": m["media_type"],
                              "category": m["category"],
                              "size": m["size"]} for m in attach]}
            APP.tweets.append(rec)
            APP.by_id[tid] = rec
        return {"status": 201, "body": {"data": {
            "id": tid, "text": text or "", "edit_history_tweet_ids": [tid]}}}

    def tweet_json(self, t):
        return {"id": t["id"], "text": t["text"], "author_id": APP.user_id,
                "created_at": t["created_at"],
                "edit_history_tweet_ids": [t["id"]]}

    def get_tweet(self, tid):
        t = APP.by_id.get(tid)
        if t is None:
            # X answers 200 with an errors array for a missing post.
            return {"status": 200, "body": {"errors": [{
                "value": tid, "detail": "Could not find tweet with id: "
                "[%s]." % tid, "title": "Not Found Error",
                "resource_type": "tweet", "parameter": "id",
                "resource_id": tid,
                "type": "https://api.twitter.com/2/problems/"
                        "resource-not-found"}]}}
        return {"status": 200, "body": {"data": self.tweet_json(t)}}

    def user_tweets(self, uid, query):
        q = dict(urllib.parse.parse_qsl(query))
        try:
            n = int(q.get("max_results", "10"))
        except ValueError:
            n = 0
        if not 5 <= n <= 100:
            return invalid("The `max_results` query parameter value [%s] "
                           "is not between 5 and 100"
                           % q.get("max_results"))
        if uid != APP.user_id:
            return {"status": 200, "body": {"meta": {"result_count": 0}}}
        with APP.lock:
            recent = [self.tweet_json(t) for t in reversed(APP.tweets)][:n]
        body = {"meta": {"result_count": len(recent)}}
        if recent:
            body["data"] = recent
            body["meta"].update(newest_id=recent[0]["id"],
                                oldest_id=recent[-1]["id"])
        return {"status": 200, "body": body}

    # --- media -----------------------------------------------------------

    def new_media(self, media_type, category, total):
        mid = APP.new_id()
        prefix = "7" if "video" in category else \
            "16" if "gif" in category else "3"
        m = {"id": mid, "media_key": "%s_%s" % (prefix, mid),
             "media_type": media_type, "category": category,
             "total_bytes": total, "segments": {}, "size": 0,
             "state": "uploading", "polls_left": 0, "alt_text": None,
             "expires": APP.clock.now() + MEDIA_TTL}
        with APP.lock:
            APP.media[mid] = m
        return m

    @staticmethod
    def size_limit(media_type, category):
        if "video" in category:
            return MAX_VIDEO
        if media_type == "image/gif" or "gif" in category:
            return MAX_GIF
        return MAX_IMAGE

    def upload_simple(self):
        ctype = self.headers.get("Content-Type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            return invalid("The request must be multipart/form-data")
        form = parse_multipart(ctype, self.raw_body)
        data = form.get("media")
        if not data:
            return invalid("The `media` field is required")
        category = form.get("media_category", b"").decode("utf-8", "replace")
        if category not in ONE_SHOT_CATEGORIES:
            return invalid("`media_category` must be one of %s"
                           % ", ".join(ONE_SHOT_CATEGORIES))
        media_type = form.get("media_type", b"").decode("utf-8", "replace")
        kind = sniff(data)
        if category != "subtitles":
            if kind is None:
                return invalid("The media is not an image X accepts")
            if media_type and media_type.replace("pjpeg", "jpeg") != kind:
                return invalid("`media_type` %s does not match the bytes "
                               "(%s)" % (media_type, kind))
            media_type = kind
        if len(data) > self.size_limit(media_type, category):
            return invalid("File size exceeds %d bytes."
                           % self.size_limit(media_type, category))
        m = self.new_media(media_type, category, len(data))
        m.update(size=len(data), state="succeeded",
                 sha256=hashlib.sha256(data).hexdigest())
        return {"status": 200, "body": {"data": {
            "id": m["id"], "media_key": m["media_key"], "size": m["size"],
            "expires_after_secs": MEDIA_TTL}}}

    def upload_init(self):
        data = self.json_body()
        mtype, total = data.get("media_type"), data.get("total_bytes")
        category = data.get("media_category") or (
            "tweet_gif" if mtype == "image/gif" else
            "tweet_video" if str(mtype).startswith("video/") else
            "tweet_image")
        if not isinstance(mtype, str) or "/" not in mtype:
            return invalid("`media_type` is required")
        if not isinstance(total, int) or isinstance(total, bool) or \
                total <= 0:
            return invalid("`total_bytes` must be a positive integer")
        if category not in CHUNK_CATEGORIES:
            return invalid("`media_category` %s is not valid" % category)
        if total > self.size_limit(mtype, category):
            return invalid("File size exceeds %d bytes."
                           % self.size_limit(mtype, category))
        m = self.new_media(mtype, category, total)
        return {"status": 200, "body": {"data": {
            "id": m["id"], "media_key": m["media_key"],
            "expires_after_secs": MEDIA_TTL}}}

    def uploading(self, mid):
        m = APP.media.get(mid)
        if m is None or APP.clock.now() >= m["expires"]:
            return None, invalid("Your media IDs are invalid.")
        if m["state"] != "uploading":
            return None, invalid("Media %s is already finalized" % mid)
        return m, None

    def upload_append(self, mid):
        m, err = self.uploading(mid)
        if err:
            return err
        ctype = self.headers.get("Content-Type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            return invalid("The request must be multipart/form-data")
        form = parse_multipart(ctype, self.raw_body)
        chunk = form.get("media")
        try:
            seg = int(form.get("segment_index", b"").decode())
        except ValueError:
            return invalid("`segment_index` is required")
        if not 0 <= seg <= 999:
            return invalid("`segment_index` must be between 0 and 999")
        if not chunk or len(chunk) > MAX_SEGMENT:
            return invalid("A segment must hold 1 to %d bytes"
                           % MAX_SEGMENT)
        with APP.lock:
            m["segments"][seg] = chunk
        return {"status": 200, "body": {"data": {
            "expires_at": int(m["expires"])}}}

    def upload_finalize(self, mid):
        m, err = self.uploading(mid)
        if err:
            return err
        with APP.lock:
            segs = m["segments"]
            if sorted(segs) != list(range(len(segs))) or not segs:
                return invalid("Segments are missing: %s"
                               % sorted(segs))
            data = b"".join(segs[i] for i in range(len(segs)))
            if len(data) != m["total_bytes"]:
                return invalid("File size %d does not match total_bytes %d"
                               % (len(data), m["total_bytes"]))
            if m["media_type"].startswith("image/") and \
                    sniff(data) != m["media_type"].replace("pjpeg", "jpeg"):
                return invalid("The media is not the %s it claims to be"
                               % m["media_type"])
            m.update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
            m["segments"] = {}
            body = {"id": m["id"], "media_key": m["media_key"],
                    "size": m["size"], "expires_after_secs": MEDIA_TTL}
            if "video" in m["category"] or "gif" in m["category"]:
                m["state"] = "pending"
                m["polls_left"] = APP.args.processing_polls
                body["processing_info"] = {"state": "pending",
                                           "check_after_secs": 1}
            else:
                m["state"] = "succeeded"
        return {"status": 200, "body": {"data": body}}

    def upload_status(self, query):
        q = dict(urllib.parse.parse_qsl(query))
        if q.get("command") != "STATUS":
            return invalid("`command` must be STATUS")
        with APP.lock:
            m = APP.media.get(q.get("media_id", ""))
            if m is None:
                return invalid("Your media IDs are invalid.")
            if m["state"] in ("pending", "in_progress"):
                if m["polls_left"] > 0:
                    m["polls_left"] -= 1
                    m["state"] = "in_progress"
                else:
                    m["state"] = "succeeded"
            info = {"state": m["state"]}
            if m["state"] == "in_progress":
                info.update(check_after_secs=1, progress_percent=50)
            elif m["state"] == "succeeded":
                info["progress_percent"] = 100
        return {"status": 200, "body": {"data": {
            "id": m["id"], "media_key": m["media_key"],
            "processing_info": info}}}

    def metadata(self):
        data = self.json_body()
        mid = data.get("id")
        md = data.get("metadata")
        alt = md.get("alt_text") if isinstance(md, dict) else None
        if not isinstance(mid, str) or not isinstance(alt, dict) or \
                not isinstance(alt.get("text"), str):
            return invalid("`id` and `metadata.alt_text.text` are required")
        if len(alt["text"]) > MAX_ALT_TEXT:
            return invalid("`metadata.alt_text.text` is longer than %d "
                           "characters" % MAX_ALT_TEXT)
        with APP.lock:
            m = APP.media.get(mid)
            if m is None or APP.clock.now() >= m["expires"]:
                return invalid("Your media IDs are invalid.")
            m["alt_text"] = alt["text"]
        return {"status": 200, "body": {"data": {
            "id": mid, "associated_metadata": {
                "alt_text": {"text": alt["text"]}}}}}

    # --- control ---------------------------------------------------------

    def control(self, url, body):
        p, m = url.path, self.command
        if p not in OWN_CONTROLS:
            super().control(url, body)
            return
        try:
            data = json.loads(body or b"{}") if m == "POST" else {}
            if not isinstance(data, dict):
                raise ValueError("want an object")
        except ValueError as e:
            self.respond({"status": 400, "body": {"error": str(e)}})
            return
        try:
            self.own_control(p, m, data)
        except (ValueError, TypeError) as e:
            self.respond({"status": 400, "body": {"error": str(e)}})

    def own_control(self, p, m, data):
        """Answers this peer's own control endpoints."""
        if p == "/_control/tweets" and m == "GET":
            with APP.lock:
                out = [dict(t) for t in APP.tweets]
            self.respond({"status": 200, "body": out})
        elif p == "/_control/media" and m == "GET":
            with APP.lock:
                out = [{k: v for k, v in x.items() if k != "segments"}
                       for x in APP.media.values()]
            self.respond({"status": 200, "body": out})
        elif p == "/_control/tokens" and m == "GET":
            now = APP.clock.now()
            with APP.lock:
                out = {"access_tokens": [t for t, e in APP.access.items()
                                         if e > now],
                       "refresh_token": APP.refresh,
                       "refreshes": APP.refreshes}
            self.respond({"status": 200, "body": out})
        elif p == "/_control/expire-tokens" and m == "POST":
            now = APP.clock.now()
            with APP.lock:
                for t in APP.access:
                    APP.access[t] = min(APP.access[t], now)
                if data.get("refresh"):
                    APP.refresh = None
            self.respond({"status": 200, "body": {"ok": True}})
        elif p == "/_control/clock" and m == "POST":
            self.respond({"status": 200, "body": {
                "offset": APP.clock.advance(float(data.get("advance", 0)))}})
        elif p == "/_control/rate-limit" and m == "POST":
            key = "tweets" if data.get("path") == "/2/tweets" else "media"
            with APP.lock:
                APP.limits[key] = int(data.get("limit", APP.limits[key]))
                APP.window = float(data.get("window", APP.window))
                APP.buckets = {}
            self.respond({"status": 200, "body": {"limits": APP.limits,
                                                  "window": APP.window}})
        elif p == "/_control/tweet-delay" and m == "POST":
            APP.tweet_delay = float(data.get("seconds", 0))
            APP.delay_after = int(data.get("after", 0))
            self.respond({"status": 200,
                          "body": {"seconds": APP.tweet_delay}})
        elif p == "/_control/token-delay" and m == "POST":
            APP.token_delay = float(data.get("seconds", 0))
            self.respond({"status": 200,
                          "body": {"seconds": APP.token_delay}})
        elif p == "/_control/reset-all" and m == "POST":
            self.state.reset()
            APP.reset()
            self.respond({"status": 200, "body": {"ok": True}})
        else:
            self.respond({"status": 404, "body": {"error": "no such control"}})


def parse_args(argv):
    p = argparse.ArgumentParser(description="X API v2 test peer",
                                epilog="Other options go to httpmock.py "
                                       "(--port-file, --lifetime, --tls).")
    p.add_argument("--credentials", required=True)
    p.add_argument("--max-weighted", type=int, default=xtext.MAX_WEIGHTED)
    p.add_argument("--tweet-limit", type=int, default=100)
    p.add_argument("--media-limit", type=int, default=500)
    p.add_argument("--rate-window", type=float, default=900.0)
    p.add_argument("--access-ttl", type=float, default=7200.0)
    p.add_argument("--processing-polls", type=int, default=2)
    return p.parse_known_args(argv)


def main(argv=None):
    global APP
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    APP = App(args)
    return httpmock.main(rest, handler=XHandler)


if __name__ == "__main__":
    sys.exit(main())
