#!/usr/bin/python3
"""Mastodon API test peer for crier (Python 3 stdlib only).

Run:  /usr/bin/python3 mastodon_mock.py --port-file F --token-file T
          [--max-chars 500] [--processing-polls 2] [--username ogp]
          [--rate-limit 300 --rate-window 300] [--lenient-language]
          [--lifetime S] [--tls CERT KEY]          (the last two: httpmock)

Built on httpmock.py (subclass of MockHandler, main(handler=...)), so the
/_control/script, /_control/requests and /_control/reset endpoints work
as documented there.  A scripted spec whose method/path match a request
wins over the API emulation below (so tests can inject a 429, a 500, a
hang or a reset on any endpoint); a scripted 429 without X-RateLimit-*
headers gets them added (Reset 2 s ahead, ISO 8601).

Documented rules enforced, and where they come from
---------------------------------------------------
docs.joinmastodon.org/methods/statuses/ ("Post a new status"):
  * Authorization: Bearer <token> required; a missing or unknown token
    gets 401 {"error": "The access token is invalid"}.  The token file
    holds one token per line: the first is @USERNAME (default "ogp"),
    others are accounts user2, user3... (media belong to one token).
  * POST /api/v1/statuses takes form data (application/x-www-form-
    urlencoded or multipart/form-data, arrays as media_ids[]) and, as
    Rails does, a JSON body.  `status` is required unless media_ids is
    given: 422 {"error": "Validation failed: Text can't be blank"}.
  * `visibility` one of public, unlisted, private, direct (else 422).
  * `language`: ISO 639-1 code.  Mastodon itself silently falls back
    to the account default for an unknown code (ISO_639.find(...)&.alpha2
    in PostStatusService); this peer is stricter and answers 422 so that
    a bad code from crier is caught -- --lenient-language restores
    Mastodon's behaviour (language null).
  * Idempotency-Key: "Idempotency keys are stored for up to 1 hour": a
    repeated key (same token) within 3600 s returns the FIRST status
    (same id, 200) without validating or creating anything -- Mastodon
    checks idempotency before anything else.  Failed attempts store no
    key.  Concurrent requests with one key are serialised.
  * Status entity fields (docs.joinmastodon.org/entities/Status): id
    (string), created_at, content (HTML), visibility, language, uri, url
    http://127.0.0.1:PORT/@USERNAME/ID, spoiler_text, sensitive,
    media_attachments, account, mentions, tags, emojis, card, poll.
Length (crier SPEC §5; Mastodon app/validators/status_length_validator.rb):
  * counted over spoiler_text + text, in grapheme clusters (peerlib's
    UAX #29 approximation), after replacing every URL with 23 chars
    (characters_reserved_per_url) and every @user@domain with @user;
    entities are found as Mastodon does (twitter-text URL extraction with
    a protocol only -- approximated: http(s)://, a domain whose last label
    has >= 2 letters, optional port and path, trailing punctuation
    trimmed, parentheses kept when balanced; Account::MENTION_RE for
    mentions); overlapping entities are dropped, first wins.
  * over the limit: 422 {"error": "Validation failed: Text character limit
    of N exceeded"} (N = --max-chars, default 500).
docs.joinmastodon.org/methods/instance/ and entities/Instance:
  * GET /api/v2/instance (and v1) without auth: configuration.statuses
    {max_characters: N, max_media_attachments: 4,
    characters_reserved_per_url: 23}, media_attachments limits.
docs.joinmastodon.org/methods/media/:
  * POST /api/v2/media: multipart/form-data with `file` (must carry an
    image/, video/ or audio/ MIME type, else 422 "Validation failed: File
    content type is invalid, File is invalid"; missing: 422 "Validation
    failed: File can't be blank") and optional `description` (<= 1500
    chars, Mastodon's MAX_DESCRIPTION_LENGTH).  Answers 202 with url null
    (ProcessingMediaAttachment) when --processing-polls N > 0, else 200.
  * GET /api/v1/media/:id: 206 (attachment, url null) for the first N
    polls, then 200 with url; 404 {"error": "Record not found"} for
    another token's media.  PUT /api/v1/media/:id updates description.
  * media_ids[] on a status must be this token's, unattached, processed
    media: unprocessed -> 422 {"error": "Cannot attach files that have
    not finished processing. Try again in a moment!"}; unknown or already
    attached -> 422; more than 4 -> 422.
docs.joinmastodon.org/api/rate-limits/:
  * Every /api/ answer carries X-RateLimit-Limit, X-RateLimit-Remaining
    and X-RateLimit-Reset (ISO 8601 timestamp).  Past --rate-limit
    requests per --rate-window seconds per token (default 300 per 5 min,
    the documented account bucket): 429 {"error": "Too many requests"}.

Extra endpoints: GET /api/v1/accounts/verify_credentials,
GET /api/v1/statuses/:id, GET /@USERNAME/:id (a tiny HTML page).

Control (besides httpmock's):
  GET  /_control/statuses  every created status: {"id", "text",
       "spoiler_text", "visibility", "language", "sensitive",
       "idempotency_key", "token_index", "username", "url", "created_at",
       "length" (Mastodon-counted), "in_reply_to_id" (in_reply_to_id of
       an existing status, else 404), "media": [{"id", "description",
       "filename", "mime_type", "size"}]}
  GET  /_control/media     every uploaded attachment
  POST /_control/clock     {"advance": SECONDS} moves the mock's clock
       (idempotency expiry, rate-limit windows)
  POST /_control/status-delay  {"seconds": S, "after": N}: POST
       /api/v1/statuses creates (or finds) the status at once but, past
       the first N statuses (default 0), answers S seconds later (0: at
       once) -- a client killed meanwhile never hears of it
  POST /_control/reset-all as /_control/reset, and forgets statuses,
       media, idempotency keys and rate-limit counters
  POST /_control/counts  {"id": ID, "favourites_count": N,
       "reblogs_count": N, "replies_count": N}: sets the engagement
       counters GET /api/v1/statuses/:id reports (each optional, >= 0);
       404 for an unknown status
"""

import argparse
import email.parser
import email.policy
import html
import json
import os
import re
import sys
import threading
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpmock  # noqa: E402
from peerlib import Clock, graphemes, iso_utc  # noqa: E402

URL_CHARS = 23
IDEMPOTENCY_TTL = 3600
MAX_MEDIA = 4
MAX_DESCRIPTION = 1500
VISIBILITIES = ("public", "unlisted", "private", "direct")

ISO_639_1 = set("""
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch
co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga
gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja
jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv
mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or
os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr
ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi
vo wa wo xh yi yo za zh zu""".split())


# --- Mastodon length counting ------------------------------------------------

# twitter-text: a URL must not follow [A-Za-z0-9@$#] (valid_url_preceding_chars).
_URL_RE = re.compile(
    r"(?<![A-Za-z0-9@\uFF20$#\uFF03])"
    r"(https?://"
    r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+"          # subdomains / domain labels
    r"(?:[^\W\d_]{2,}|xn--[a-z0-9-]+)"         # TLD-ish last label
    r"(?::\d{1,5})?"                           # port
    r"(?:[/?#][^\s<>\"{}|\\^`]*)?)",           # path, query, fragment
    re.IGNORECASE)
_URL_TRAILING = ".,;:!?'\"*\u2019\u201d)]}>"

# Mastodon Account::MENTION_RE (USERNAME_RE = [a-z0-9_]+([.-]+[a-z0-9_]+)*).
_MENTION_RE = re.compile(
    r"(?<![=/\w])@(([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)"
    r"(?:@\w+(?:[.-]+\w+)*)?)", re.IGNORECASE)
_END_MENTION_RE = re.compile(r"^(?:[@\uFF20\u00C0-\u024F]|://)")


def _trim_url(url):
    while url and url[-1] in _URL_TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def entities(text):
    """(start, end, replacement) for URLs and mentions, Mastodon's way."""
    found = []
    for m in _URL_RE.finditer(text):
        url = _trim_url(m.group(1))
        if "://" in url and len(url) > url.index("://") + 3:
            found.append((m.start(1), m.start(1) + len(url), "x" * URL_CHARS))
    for m in _MENTION_RE.finditer(text):
        if _END_MENTION_RE.match(text[m.end():]):
            continue
        found.append((m.start(1) - 1, m.end(1), "@" + m.group(2)))
    found.sort(key=lambda e: e[0])
    kept = []
    for e in found:
        if kept and e[0] < kept[-1][1]:
            continue
        kept.append(e)
    return kept


def countable_text(text):
    out, last = [], 0
    for start, end, repl in entities(text):
        out.append(text[last:start])
        out.append(repl)
        last = end
    out.append(text[last:])
    return "".join(out)


def mastodon_length(text, spoiler_text=""):
    return graphemes((spoiler_text or "") + countable_text(text or ""))


# --- request body parsing ----------------------------------------------------

def parse_multipart(content_type, body):
    """Returns {name: [value...]}; files as dicts {filename, type, data}."""
    head = ("Content-Type: %s\r\nMIME-Version: 1.0\r\n\r\n"
            % content_type).encode("latin-1", "replace")
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        head + body)
    out = {}
    if not msg.is_multipart():
        raise ValueError("malformed multipart body")
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        data = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            # A file part, as Rails sees it (an UploadedFile); its MIME
            # type is the part's Content-Type, None when absent.
            value = {"filename": filename,
                     "type": part.get_content_type()
                     if part.get("Content-Type") else None,
                     "data": data}
        else:
            value = data.decode("utf-8", "replace")
        out.setdefault(name, []).append(value)
    return out


def parse_params(headers, query, body):
    """Rails-like params: {name: [values]} (name without "[]")."""
    params = {}

    def add(name, value):
        if name.endswith("[]"):
            name = name[:-2]
        params.setdefault(name, []).append(value)

    for name, values in urllib.parse.parse_qs(query,
                                              keep_blank_values=True).items():
        for v in values:
            add(name, v)
    ctype = headers.get("Content-Type", "")
    low = ctype.lower()
    if low.startswith("application/json"):
        data = json.loads(body.decode("utf-8") or "{}")
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        for name, value in data.items():
            params.pop(name, None)
            if isinstance(value, list):
                params[name] = list(value)
            else:
                params[name] = [value]
    elif low.startswith("multipart/form-data"):
        for name, values in parse_multipart(ctype, body).items():
            for v in values:
                add(name, v)
    elif body:
        for name, values in urllib.parse.parse_qs(
                body.decode("utf-8"), keep_blank_values=True,
                strict_parsing=False).items():
            for v in values:
                add(name, v)
    return params


def first(params, name, default=None):
    v = params.get(name)
    if not v:
        return default
    return v[0]


def truthy(v):
    if isinstance(v, bool):
        return v
    return str(v).lower() in ("1", "true", "t", "on", "yes")


# --- state -------------------------------------------------------------------

class App:
    def __init__(self, args):
        self.args = args
        self.tokens = []
        with open(args.token_file) as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    self.tokens.append(line)
        if not self.tokens:
            raise SystemExit("mastodon_mock: no token in %s" % args.token_file)
        self.clock = Clock()
        self.lock = threading.RLock()
        self.idem_locks = {}
        self.reset()

    def reset(self):
        with self.lock:
            self.statuses = []        # control records
            self.status_objs = {}     # id -> Status entity
            self.media = {}           # id -> dict
            self.idem = {}            # (token index, key) -> (id, time)
            self.buckets = {}         # token index -> [window start, count]
            self.next_id = 110000000000000000
            self.status_delay = 0.0   # s before answering POST /statuses
            self.delay_after = 0      # statuses answered at once first

    def new_id(self):
        with self.lock:
            self.next_id += 1 + int(self.clock.now() * 10) % 7
            return str(self.next_id)

    def username(self, idx):
        return self.args.username if idx == 0 else "user%d" % (idx + 1)


APP = None


class MastodonHandler(httpmock.MockHandler):
    server_version = "mastodon-mock/1"

    # Keep the raw body: multipart uploads are binary.
    def read_body(self):
        body = super().read_body()
        self.raw_body = body
        return body

    # --- helpers -------------------------------------------------------

    def base(self):
        scheme = "https" if self.state.tls else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.server.server_address[1])

    def err(self, status, message, headers=None):
        return {"status": status, "body": {"error": message},
                "headers": headers or {}}

    def token_index(self):
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return None
        tok = auth[len("Bearer "):].strip()
        try:
            return APP.tokens.index(tok)
        except ValueError:
            return None

    def rate_headers(self, idx, count_it=True):
        """Counts this request; returns (headers, over_limit)."""
        a = APP.args
        now = APP.clock.now()
        key = idx if idx is not None else "ip"
        with APP.lock:
            b = APP.buckets.get(key)
            if b is None or now >= b[0] + a.rate_window:
                # Windows are aligned on multiples of the period, as
                # rack-attack does.
                start = now - (now % a.rate_window)
                b = APP.buckets[key] = [start, 0]
            if count_it:
                b[1] += 1
            remaining = max(0, a.rate_limit - b[1])
            over = b[1] > a.rate_limit
            reset = b[0] + a.rate_window
        return ({"X-RateLimit-Limit": str(a.rate_limit),
                 "X-RateLimit-Remaining": str(remaining),
                 "X-RateLimit-Reset": iso_utc(reset)}, over)

    def media_json(self, m, processed=None):
        if processed is None:
            processed = m["processed"]
        base = self.base()
        mtype = (m["mime_type"] or "").split("/")[0]
        mtype = {"image": "image", "video": "video",
                 "audio": "audio"}.get(mtype, "unknown")
        if mtype == "image" and m["mime_type"] == "image/gif":
            mtype = "gifv"
        return {
            "id": m["id"],
            "type": mtype,
            "url": ("%s/system/media/%s/original/%s" %
                    (base, m["id"], m["filename"])) if processed else None,
            "preview_url": "%s/system/media/%s/small/%s" %
                           (base, m["id"], m["filename"]),
            "remote_url": None,
            "text_url": None,
            "meta": {},
            "description": m["description"],
            "blurhash": None,
        }

    # --- routing -------------------------------------------------------

    def route(self, rec):
        path = rec["path"]
        if not (path.startswith("/api/") or path.startswith("/@")):
            return None
        spec = self.state.take(self.command, path)
        if spec is not None:
            if int(spec.get("status", 200)) == 429:
                hdrs = dict(spec.get("headers") or {})
                if not any(h.lower() == "x-ratelimit-reset" for h in hdrs):
                    hdrs.update({
                        "X-RateLimit-Limit": str(APP.args.rate_limit),
                        "X-RateLimit-Remaining": "0",
                        "X-RateLimit-Reset": iso_utc(APP.clock.now() + 2)})
                spec = dict(spec, headers=hdrs)
                if "body" not in spec:
                    spec["body"] = {"error": "Too many requests"}
            return spec
        try:
            return self.api(rec)
        except (ValueError, UnicodeDecodeError) as e:
            return self.err(400, "mock: unparseable request: %s" % e)

    def api(self, rec):
        path, method = rec["path"], self.command
        if path.startswith("/@"):
            return self.status_page(path)
        if method == "GET" and path in ("/api/v2/instance", "/api/v1/instance"):
            hdrs, _ = self.rate_headers(None)
            return {"status": 200, "body": self.instance(path), "headers": hdrs}
        idx = self.token_index()
        if idx is None:
            return self.err(401, "The access token is invalid")
        hdrs, over = self.rate_headers(idx)
        if over:
            return self.err(429, "Too many requests", hdrs)
        if method == "POST" and path == "/api/v1/statuses":
            spec = self.post_status(idx, rec)
            if APP.status_delay > 0 and len(APP.statuses) > APP.delay_after:
                # Created (or found) first, answered late: a client may
                # die in between, as after a real request.
                spec = dict(spec, delay=APP.status_delay)
        elif method == "GET" and path.startswith("/api/v1/statuses/"):
            st = APP.status_objs.get(path.rsplit("/", 1)[1])
            spec = ({"status": 200, "body": st} if st else
                    self.err(404, "Record not found"))
        elif method == "POST" and path in ("/api/v2/media", "/api/v1/media"):
            spec = self.post_media(idx, rec, v2=path.startswith("/api/v2"))
        elif path.startswith("/api/v1/media/") and method in ("GET", "PUT"):
            spec = self.get_media(idx, path.rsplit("/", 1)[1], rec,
                                  update=(method == "PUT"))
        elif method == "GET" and path == "/api/v1/accounts/verify_credentials":
            spec = {"status": 200, "body": self.account(idx)}
        else:
            spec = self.err(404, "Not Found")
        spec.setdefault("headers", {}).update(hdrs)
        return spec

    # --- endpoints -----------------------------------------------------

    def instance(self, path):
        conf = {
            "statuses": {"max_characters": APP.args.max_chars,
                         "max_media_attachments": MAX_MEDIA,
                         "characters_reserved_per_url": URL_CHARS},
            "media_attachments": {
                "supported_mime_types": ["image/jpeg", "image/png",
                                         "image/gif", "image/webp",
                                         "video/mp4", "audio/mpeg"],
                "description_limit": MAX_DESCRIPTION,
                "image_size_limit": 16777216,
                "image_matrix_limit": 33177600,
                "video_size_limit": 103809024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8294400},
            "polls": {"max_options": 4, "max_characters_per_option": 50,
                      "min_expiration": 300, "max_expiration": 2629746},
        }
        host = "127.0.0.1:%d" % self.server.server_address[1]
        if path == "/api/v1/instance":
            return {"uri": host, "title": "crier test instance",
                    "version": "4.3.0", "configuration": conf,
                    "languages": ["en"], "registrations": False}
        return {"domain": host, "title": "crier test instance",
                "version": "4.3.0", "source_url": None,
                "description": "mastodon_mock.py", "languages": ["en"],
                "configuration": dict(conf, urls={"streaming": None}),
                "registrations": {"enabled": False, "approval_required": False,
                                  "message": None},
                "api_versions": {"mastodon": 2}}

    def account(self, idx):
        name = APP.username(idx)
        return {"id": str(idx + 1), "username": name, "acct": name,
                "display_name": name, "locked": False, "bot": True,
                "url": "%s/@%s" % (self.base(), name), "note": "",
                "created_at": "2021-01-01T00:00:00.000Z",
                "followers_count": 0, "following_count": 0,
                "statuses_count": sum(1 for s in APP.statuses
                                      if s["token_index"] == idx),
                "emojis": [], "fields": []}

    def post_status(self, idx, rec):
        key = self.headers.get("Idempotency-Key")
        if key is None or key == "":
            return self.create_status(idx, rec, None)
        with APP.lock:
            lk = APP.idem_locks.setdefault((idx, key), threading.Lock())
        with lk:
            now = APP.clock.now()
            with APP.lock:
                hit = APP.idem.get((idx, key))
                if hit and now - hit[1] < IDEMPOTENCY_TTL:
                    return {"status": 200,
                            "body": APP.status_objs[hit[0]]}
            spec = self.create_status(idx, rec, key)
            if spec.get("status") == 200:
                with APP.lock:
                    APP.idem[(idx, key)] = (spec["body"]["id"], now)
            return spec

    def create_status(self, idx, rec, key):
        params = parse_params(self.headers, rec["query"], self.raw_body)
        text = first(params, "status", "")
        if not isinstance(text, str):
            text = str(text)
        spoiler = first(params, "spoiler_text", "") or ""
        media_ids = [str(m) for m in params.get("media_ids", []) if m != ""]
        visibility = first(params, "visibility") or "public"
        language = first(params, "language")
        sensitive = truthy(first(params, "sensitive", False))
        reply_to = first(params, "in_reply_to_id")
        parent = None
        if reply_to not in (None, ""):
            parent = APP.status_objs.get(str(reply_to))
            if parent is None:
                # docs.joinmastodon.org/methods/statuses/#create: 404
                return self.err(404, "Record not found")

        if len(media_ids) > MAX_MEDIA:
            return self.err(422, "Cannot attach more than %d files."
                            % MAX_MEDIA)
        attach = []
        with APP.lock:
            for mid in media_ids:
                m = APP.media.get(mid)
                if m is None or m["token_index"] != idx or m["status_id"]:
                    return self.err(422, "Media %s not found or already "
                                    "attached to another post" % mid)
                if not m["processed"]:
                    return self.err(422, "Cannot attach files that have not "
                                    "finished processing. Try again in a "
                                    "moment!")
                attach.append(m)
        if not text.strip() and not attach:
            return self.err(422, "Validation failed: Text can't be blank")
        if visibility not in VISIBILITIES:
            return self.err(422, "Validation failed: Visibility is not "
                            "included in the list")
        if language is not None and language != "":
            if language not in ISO_639_1:
                if not APP.args.lenient_language:
                    return self.err(422, "Validation failed: Language %r is "
                                    "not an ISO 639-1 code" % language)
                language = None
        else:
            language = None
        length = mastodon_length(text, spoiler)
        if length > APP.args.max_chars:
            return self.err(422, "Validation failed: Text character limit "
                            "of %d exceeded" % APP.args.max_chars)

        sid = APP.new_id()
        now = APP.clock.now()
        name = APP.username(idx)
        url = "%s/@%s/%s" % (self.base(), name, sid)
        with APP.lock:
            for m in attach:
                m["status_id"] = sid
        content = "".join("<p>%s</p>" % html.escape(p).replace("\n", "<br />")
                          for p in text.split("\n\n")) if text else ""
        status = {
            "id": sid, "created_at": iso_utc(now),
            "in_reply_to_id": parent["id"] if parent else None,
            "in_reply_to_account_id":
                parent["account"]["id"] if parent else None,
            "sensitive": sensitive or bool(spoiler), "spoiler_text": spoiler,
            "visibility": visibility, "language": language,
            "uri": "%s/users/%s/statuses/%s" % (self.base(), name, sid),
            "url": url, "replies_count": 0, "reblogs_count": 0,
            "favourites_count": 0, "edited_at": None, "content": content,
            "reblog": None,
            "application": {"name": "crier", "website": None},
            "account": self.account(idx),
            "media_attachments": [self.media_json(m) for m in attach],
            "mentions": [], "tags": [], "emojis": [], "card": None,
            "poll": None,
        }
        with APP.lock:
            APP.status_objs[sid] = status
            APP.statuses.append({
                "id": sid, "text": text, "spoiler_text": spoiler,
                "visibility": visibility, "language": language,
                "sensitive": status["sensitive"], "idempotency_key": key,
                "token_index": idx, "username": name, "url": url,
                "created_at": status["created_at"], "length": length,
                "in_reply_to_id": status["in_reply_to_id"],
                "media": [{"id": m["id"], "description": m["description"],
                           "filename": m["filename"],
                           "mime_type": m["mime_type"], "size": m["size"]}
                          for m in attach]})
        return {"status": 200, "body": status}

    def post_media(self, idx, rec, v2):
        ctype = self.headers.get("Content-Type", "")
        if not ctype.lower().startswith("multipart/form-data"):
            return self.err(422, "Validation failed: File can't be blank")
        form = parse_multipart(ctype, self.raw_body)
        files = [v for v in form.get("file", []) if isinstance(v, dict)]
        if not files or not files[0]["data"]:
            return self.err(422, "Validation failed: File can't be blank")
        f = files[0]
        mime = f["type"] or ""
        if mime.split("/")[0] not in ("image", "video", "audio"):
            return self.err(422, "Validation failed: File content type is "
                            "invalid, File is invalid")
        desc = form.get("description", [None])[0]
        if isinstance(desc, dict):
            desc = desc["data"].decode("utf-8", "replace")
        if desc is not None and len(desc) > MAX_DESCRIPTION:
            return self.err(422, "Validation failed: Description is too long "
                            "(maximum is %d characters)" % MAX_DESCRIPTION)
        polls = APP.args.processing_polls if v2 else 0
        mid = APP.new_id()
        m = {"id": mid, "token_index": idx, "filename": f["filename"] or "file",
             "mime_type": mime, "size": len(f["data"]),
             "description": desc or None, "processed": polls <= 0,
             "polls_left": polls, "status_id": None,
             "created_at": iso_utc(APP.clock.now())}
        with APP.lock:
            APP.media[mid] = m
        return {"status": 200 if m["processed"] else 202,
                "body": self.media_json(m)}

    def get_media(self, idx, mid, rec, update=False):
        with APP.lock:
            m = APP.media.get(mid)
            if m is None or m["token_index"] != idx:
                return self.err(404, "Record not found")
            if update:
                params = parse_params(self.headers, rec["query"],
                                      self.raw_body)
                desc = first(params, "description")
                if desc is not None:
                    if len(desc) > MAX_DESCRIPTION:
                        return self.err(422, "Validation failed: Description "
                                        "is too long (maximum is %d "
                                        "characters)" % MAX_DESCRIPTION)
                    m["description"] = desc or None
                return {"status": 200, "body": self.media_json(m)}
            if not m["processed"]:
                if m["polls_left"] > 0:
                    m["polls_left"] -= 1
                    return {"status": 206,
                            "body": self.media_json(m, processed=False)}
                m["processed"] = True
            return {"status": 200, "body": self.media_json(m)}

    def status_page(self, path):
        sid = path.rstrip("/").rsplit("/", 1)[-1]
        st = APP.status_objs.get(sid)
        if st is None:
            return {"status": 404, "body": "not found\n"}
        return {"status": 200, "headers": {"Content-Type": "text/html"},
                "body": "<!doctype html><title>%s</title>%s\n"
                        % (sid, st["content"])}

    # --- control -------------------------------------------------------

    def control(self, url, body):
        p, m = url.path, self.command
        if p == "/_control/statuses" and m == "GET":
            with APP.lock:
                data = list(APP.statuses)
            self.respond({"status": 200, "body": data})
        elif p == "/_control/media" and m == "GET":
            with APP.lock:
                data = [dict(v) for v in APP.media.values()]
            self.respond({"status": 200, "body": data})
        elif p == "/_control/clock" and m == "POST":
            try:
                adv = float(json.loads(body or b"{}").get("advance", 0))
            except (ValueError, AttributeError) as e:
                self.respond({"status": 400, "body": {"error": str(e)}})
                return
            self.respond({"status": 200,
                          "body": {"offset": APP.clock.advance(adv)}})
        elif p == "/_control/status-delay" and m == "POST":
            try:
                APP.status_delay = float(
                    json.loads(body or b"{}").get("seconds", 0))
                APP.delay_after = int(
                    json.loads(body or b"{}").get("after", 0))
            except (ValueError, AttributeError) as e:
                self.respond({"status": 400, "body": {"error": str(e)}})
                return
            self.respond({"status": 200,
                          "body": {"seconds": APP.status_delay}})
        elif p == "/_control/counts" and m == "POST":
            try:
                req = json.loads(body or b"{}")
                keys = ("favourites_count", "reblogs_count", "replies_count")
                vals = {k: int(req[k]) for k in keys if k in req}
                if any(v < 0 for v in vals.values()):
                    raise ValueError("counts are >= 0")
            except (ValueError, AttributeError, TypeError) as e:
                self.respond({"status": 400, "body": {"error": str(e)}})
                return
            with APP.lock:
                st = APP.status_objs.get(str(req.get("id")))
                if st is not None:
                    st.update(vals)
            self.respond({"status": 200, "body": st} if st is not None else
                         {"status": 404, "body": {"error": "no such status"}})
        elif p == "/_control/reset-all" and m == "POST":
            self.state.reset()
            APP.reset()
            self.respond({"status": 200, "body": {"ok": True}})
        else:
            super().control(url, body)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Mastodon API test peer",
                                epilog="Other options go to httpmock.py "
                                       "(--port-file, --lifetime, --tls).")
    p.add_argument("--token-file", required=True)
    p.add_argument("--max-chars", type=int, default=500)
    p.add_argument("--processing-polls", type=int, default=2)
    p.add_argument("--username", default="ogp")
    p.add_argument("--rate-limit", type=int, default=300)
    p.add_argument("--rate-window", type=float, default=300.0)
    p.add_argument("--lenient-language", action="store_true")
    return p.parse_known_args(argv)


def main(argv=None):
    global APP
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    APP = App(args)
    return httpmock.main(rest, handler=MastodonHandler)


if __name__ == "__main__":
    sys.exit(main())
