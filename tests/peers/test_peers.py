#!/usr/bin/python3
"""Self-test for crier's test peers: mastodon_mock.py, bluesky_mock.py,
smtp_peer.py and x_mock.py.  Starts each peer on 127.0.0.1 and exercises its
rules with urllib and smtplib.

Run:  /usr/bin/python3 tests/peers/test_peers.py [-v] [mastodon|bluesky|smtp|x]...
Exit status 0 when every check passes; the last line is "N passed, N failed".
"""

import json
import os
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
VERBOSE = "-v" in sys.argv
sys.path.insert(0, HERE)
from peerlib import make_tid  # noqa: E402
from test_peers_nets import NETS  # noqa: E402
from test_peers_x import test_x as _test_x  # noqa: E402

PASSED = 0
FAILED = 0


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        if VERBOSE:
            print("ok   " + name)
    else:
        FAILED += 1
        detail = str(detail)
        if len(detail) > 600 and not VERBOSE:
            detail = detail[:600] + "..."
        print("FAIL " + name + ("  -- " + detail if detail else ""))
    return cond


# --- process and HTTP helpers --------------------------------------------------

class Peer:
    def __init__(self, script, args, tmp):
        self.port_file = os.path.join(tmp, "%s.%s.port" %
                                      (script, uuid.uuid4().hex[:6]))
        self.log = open(self.port_file + ".log", "w")
        self.proc = subprocess.Popen(
            [PY, os.path.join(HERE, script), "--port-file", self.port_file,
             "--lifetime", "120"] + args,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                with open(self.port_file + ".log") as f:
                    raise RuntimeError("%s did not start: %s"
                                       % (script, f.read()))
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read().strip())
        self.base = "http://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Resp:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw.decode() or "null")
        except ValueError:
            self.json = None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.raw[:300])


SSL_CTX = None


def http(method, url, body=None, headers=None, js=None, form=None):
    headers = dict(headers or {})
    if js is not None:
        body = json.dumps(js).encode()
        headers.setdefault("Content-Type", "application/json")
    elif form is not None:
        body = urllib.parse.urlencode(form, doseq=True).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    req = urllib.request.Request(url, data=body, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20, context=SSL_CTX) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())


def multipart(fields, files):
    boundary = "----crier" + uuid.uuid4().hex
    out = b""
    for name, value in fields:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                % (boundary, name)).encode() + value.encode() + b"\r\n"
    for name, filename, ctype, data in files:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n"
                % (boundary, name, filename, ctype)).encode() + data + b"\r\n"
    out += ("--%s--\r\n" % boundary).encode()
    return out, "multipart/form-data; boundary=" + boundary


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01"
       b"\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f"
       b"\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


# --- Mastodon ------------------------------------------------------------------

def test_mastodon(tmp):
    tok = os.path.join(tmp, "mastodon.token")
    with open(tok, "w") as f:
        f.write("tok-ogp\ntok-other\n")
    p = Peer("mastodon_mock.py", ["--token-file", tok, "--processing-polls",
                                  "2"], tmp)
    try:
        B = p.base
        auth = {"Authorization": "Bearer tok-ogp"}
        other = {"Authorization": "Bearer tok-other"}

        r = http("GET", B + "/api/v2/instance")
        st = (r.json or {}).get("configuration", {}).get("statuses", {})
        check("mastodon: instance without auth 200", r.status == 200, r)
        check("mastodon: instance max_characters 500",
              st.get("max_characters") == 500, st)
        check("mastodon: instance characters_reserved_per_url 23",
              st.get("characters_reserved_per_url") == 23, st)

        r = http("POST", B + "/api/v1/statuses", form={"status": "hi"})
        check("mastodon: no token -> 401 documented body",
              r.status == 401 and
              r.json == {"error": "The access token is invalid"}, r)
        r = http("POST", B + "/api/v1/statuses", form={"status": "hi"},
                 headers={"Authorization": "Bearer nope"})
        check("mastodon: bad token -> 401", r.status == 401, r)

        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "Open Gov Week starts today",
                       "visibility": "unlisted", "language": "en"})
        ok = check("mastodon: form-encoded status 200", r.status == 200, r)
        if ok:
            check("mastodon: status url http://127.0.0.1:PORT/@ogp/ID",
                  r.json["url"] == "%s/@ogp/%s" % (B, r.json["id"]),
                  r.json["url"])
            check("mastodon: visibility/language echoed",
                  r.json["visibility"] == "unlisted" and
                  r.json["language"] == "en", r.json)
            reset = r.headers.get("X-RateLimit-Reset", "")
            check("mastodon: X-RateLimit-* headers (ISO 8601 reset)",
                  r.headers.get("X-RateLimit-Limit") == "300" and
                  len(reset) >= 20 and reset[10] == "T" and
                  reset.endswith("Z"), dict(r.headers))

        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 js={"status": "JSON body works", "visibility": "public"})
        check("mastodon: JSON body accepted", r.status == 200, r)

        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "  "})
        check("mastodon: blank status -> 422 Text can't be blank",
              r.status == 422 and "can't be blank" in r.json["error"], r)

        # Length: graphemes, URLs 23, @user@domain as @user.
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "a" * 500})
        check("mastodon: 500 chars accepted", r.status == 200, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "a" * 501})
        check("mastodon: 501 chars -> 422 documented message",
              r.status == 422 and r.json == {
                  "error": "Validation failed: Text character limit of 500 "
                           "exceeded"}, r)
        url = "https://www.opengovpartnership.org/" + "p" * 200
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "a" * 476 + " " + url})
        check("mastodon: long URL counts 23 (476+1+23=500 ok)",
              r.status == 200, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "a" * 477 + " " + url})
        check("mastodon: 477+1+23=501 -> 422", r.status == 422, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "a" * 473 + " (" + url + ")."})
        check("mastodon: URL in parentheses + '.': 473+2+23+2=500 ok",
              r.status == 200, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "a" * 474 + " (" + url + ")."})
        check("mastodon: ')' and '.' after a URL are not part of it (501)",
              r.status == 422, r)
        m = "@alice@social.example.org "
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": m + "b" * 493})
        check("mastodon: @user@domain counts as @user (7+493=500 ok)",
              r.status == 200, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": m + "b" * 494})
        check("mastodon: @user@domain 7+494=501 -> 422", r.status == 422, r)
        fam = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": fam * 500})
        check("mastodon: 500 ZWJ-family emoji = 500 graphemes ok",
              r.status == 200, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": fam * 500 + "e\u0301"})
        check("mastodon: 501 graphemes (combining accent) -> 422",
              r.status == 422, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "a" * 490, "spoiler_text": "CW: 12 chars"})
        check("mastodon: spoiler_text counts too (490+12 -> 422)",
              r.status == 422, r)

        # Enums.
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "x", "visibility": "everyone"})
        check("mastodon: bad visibility -> 422", r.status == 422, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "x", "language": "en_GB"})
        check("mastodon: bad language -> 422", r.status == 422, r)

        # Idempotency.
        key = "crier-" + uuid.uuid4().hex[:12]
        h = dict(auth, **{"Idempotency-Key": key})
        r1 = http("POST", B + "/api/v1/statuses", headers=h,
                  form={"status": "once"})
        r2 = http("POST", B + "/api/v1/statuses", headers=h,
                  form={"status": "once (retry, even if changed)"})
        check("mastodon: repeated Idempotency-Key returns the same id",
              r1.status == 200 and r2.status == 200 and
              r1.json["id"] == r2.json["id"], (r1, r2))
        r3 = http("POST", B + "/api/v1/statuses",
                  headers=dict(auth, **{"Idempotency-Key": key + "x"}),
                  form={"status": "once"})
        check("mastodon: other key -> new status",
              r3.status == 200 and r3.json["id"] != r1.json["id"], r3)
        r4 = http("POST", B + "/api/v1/statuses",
                  headers=dict(other, **{"Idempotency-Key": key}),
                  form={"status": "once"})
        check("mastodon: same key, other account -> new status",
              r4.status == 200 and r4.json["id"] != r1.json["id"], r4)
        sts = http("GET", B + "/_control/statuses").json
        check("mastodon: control lists one status for the key",
              len([s for s in sts if s["idempotency_key"] == key and
                   s["token_index"] == 0]) == 1, sts)
        http("POST", B + "/_control/clock", js={"advance": 3601})
        r5 = http("POST", B + "/api/v1/statuses", headers=h,
                  form={"status": "once"})
        check("mastodon: key expired after 1 h -> new status",
              r5.status == 200 and r5.json["id"] != r1.json["id"], r5)

        # Media: 202 -> 206 -> 200.
        body, ctype = multipart([("description", "OGP logo, blue on white")],
                                [("file", "logo.png", "image/png", PNG)])
        r = http("POST", B + "/api/v2/media", body=body,
                 headers=dict(auth, **{"Content-Type": ctype}))
        check("mastodon: POST /api/v2/media -> 202 url null",
              r.status == 202 and r.json["url"] is None and
              r.json["description"] == "OGP logo, blue on white", r)
        mid = (r.json or {}).get("id")
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "with media", "media_ids[]": [mid]})
        check("mastodon: unprocessed media -> 422", r.status == 422 and
              "finished processing" in r.json["error"], r)
        polls = [http("GET", B + "/api/v1/media/" + mid, headers=auth)
                 for _ in range(3)]
        check("mastodon: GET media 206, 206, then 200 with url",
              [x.status for x in polls] == [206, 206, 200] and
              polls[2].json["url"], polls)
        r = http("GET", B + "/api/v1/media/" + mid, headers=other)
        check("mastodon: other token's media -> 404", r.status == 404, r)
        r = http("POST", B + "/api/v1/statuses", headers=other,
                 form={"status": "steal", "media_ids[]": [mid]})
        check("mastodon: other token cannot attach the media",
              r.status == 422, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"media_ids[]": [mid]})
        check("mastodon: media without text accepted",
              r.status == 200 and
              r.json["media_attachments"][0]["id"] == mid, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "again", "media_ids[]": [mid]})
        check("mastodon: attached media cannot be reused", r.status == 422, r)
        sts = http("GET", B + "/_control/statuses").json
        check("mastodon: control records media description",
              sts[-1]["media"] and sts[-1]["media"][0]["description"] ==
              "OGP logo, blue on white", sts[-1])
        body, ctype = multipart([], [("file", "x.txt", "text/plain", b"hi")])
        r = http("POST", B + "/api/v2/media", body=body,
                 headers=dict(auth, **{"Content-Type": ctype}))
        check("mastodon: text/plain upload -> 422", r.status == 422, r)

        # Several media, order kept.
        ids = []
        for i in range(2):
            body, ctype = multipart([("description", "alt %d" % i)],
                                    [("file", "p%d.png" % i, "image/png",
                                      PNG)])
            ids.append(http("POST", B + "/api/v1/media", body=body,
                            headers=dict(auth, **{"Content-Type": ctype}))
                       .json["id"])
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 js={"status": "two images", "media_ids": ids})
        check("mastodon: v1 media is processed at once; JSON media_ids",
              r.status == 200 and [m["id"] for m in
                                   r.json["media_attachments"]] == ids, r)

        # Scripted 429.
        http("POST", B + "/_control/script", js=[
            {"method": "POST", "path": "/api/v1/statuses", "status": 429}])
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "rate limited"})
        check("mastodon: scripted 429 carries X-RateLimit-Reset",
              r.status == 429 and r.headers.get("X-RateLimit-Reset") and
              r.json == {"error": "Too many requests"}, r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "after the 429"})
        check("mastodon: next request served normally", r.status == 200, r)

        # Engagement counters: set by control, read on the status entity.
        sid = r.json["id"]
        r = http("GET", B + "/api/v1/statuses/" + sid, headers=auth)
        check("mastodon: a new status has 0 favourites/reblogs/replies",
              r.status == 200 and (r.json["favourites_count"],
                                   r.json["reblogs_count"],
                                   r.json["replies_count"]) == (0, 0, 0), r)
        r = http("POST", B + "/_control/counts",
                 js={"id": sid, "favourites_count": 7, "reblogs_count": 2,
                     "replies_count": 1})
        check("mastodon: /_control/counts sets the counters", r.status == 200, r)
        r = http("GET", B + "/api/v1/statuses/" + sid, headers=auth)
        check("mastodon: GET /api/v1/statuses/:id reports them",
              (r.json["favourites_count"], r.json["reblogs_count"],
               r.json["replies_count"]) == (7, 2, 1), r)
        r = http("POST", B + "/_control/counts",
                 js={"id": "999", "favourites_count": 1})
        check("mastodon: counts of an unknown status -> 404", r.status == 404, r)
        r = http("POST", B + "/_control/counts",
                 js={"id": sid, "favourites_count": -1})
        check("mastodon: negative counts -> 400", r.status == 400, r)
        # Replies (threads): in_reply_to_id of an existing status, else 404.
        head = http("POST", B + "/api/v1/statuses", headers=auth,
                    form={"status": "part 1 (1/2)"}).json
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "part 2 (2/2)", "in_reply_to_id":
                       head["id"]})
        check("mastodon: in_reply_to_id echoed with the account",
              r.status == 200 and r.json["in_reply_to_id"] == head["id"] and
              r.json["in_reply_to_account_id"] == head["account"]["id"], r)
        r = http("POST", B + "/api/v1/statuses", headers=auth,
                 form={"status": "orphan", "in_reply_to_id": "999"})
        check("mastodon: reply to an unknown status -> 404",
              r.status == 404 and r.json == {"error": "Record not found"}, r)
        sts = http("GET", B + "/_control/statuses").json
        check("mastodon: control lists in_reply_to_id",
              sts[-1]["in_reply_to_id"] == head["id"] and
              sts[-2]["in_reply_to_id"] is None, sts[-2:])
        # status-delay "after": only once N statuses exist.
        n = len(sts)
        http("POST", B + "/_control/status-delay",
             js={"seconds": 1.5, "after": n + 1})
        t0 = time.time()
        http("POST", B + "/api/v1/statuses", headers=auth,
             form={"status": "answered at once"})
        t1 = time.time()
        http("POST", B + "/api/v1/statuses", headers=auth,
             form={"status": "answered late"})
        t2 = time.time()
        http("POST", B + "/_control/status-delay", js={"seconds": 0})
        check("mastodon: status-delay after N: created, answered late",
              t2 - t1 >= 1.4 and
              len(http("GET", B + "/_control/statuses").json) == n + 2,
              (t1 - t0, t2 - t1))
        check("mastodon: status-delay after N: the first N at once",
              http("GET", B + "/_control/statuses").json[n]["text"] ==
              "answered at once", n)
    finally:
        p.stop()


# --- Bluesky -------------------------------------------------------------------

def facet(text, sub, feature, occurrence=0):
    raw = text.encode()
    b = sub.encode()
    start = -1
    for _ in range(occurrence + 1):
        start = raw.index(b, start + 1)
    return {"index": {"byteStart": start, "byteEnd": start + len(b)},
            "features": [feature]}


def tls_certs(tmp):
    certs = os.path.join(tmp, "certs")
    if not os.path.exists(os.path.join(certs, "ca.pem")):
        subprocess.run(["sh", os.path.join(HERE, "mkcerts.sh"), certs],
                       check=True)
    return certs


def test_bluesky(tmp):
    global SSL_CTX
    certs = tls_certs(tmp)
    SSL_CTX = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
    pw = os.path.join(tmp, "bsky.pw")
    with open(pw, "w") as f:
        f.write("abcd-efgh-ijkl-mnop\n")
    p = Peer("bluesky_mock.py", ["--handle", "ogp.test",
                                 "--did", "did:plc:ogp",
                                 "--app-password-file", pw], tmp)
    try:
        X = p.base + "/xrpc/"
        r = http("POST", X + "com.atproto.server.createSession",
                 js={"identifier": "ogp.test", "password": "wrong"})
        check("bluesky: bad password -> 401 AuthenticationRequired",
              r.status == 401 and r.json["error"] == "AuthenticationRequired",
              r)
        r = http("POST", X + "com.atproto.server.createSession",
                 js={"identifier": "ogp.test",
                     "password": "abcd-efgh-ijkl-mnop"})
        ok = check("bluesky: createSession", r.status == 200 and
                   r.json["did"] == "did:plc:ogp" and r.json["accessJwt"] and
                   r.json["refreshJwt"], r)
        if not ok:
            return
        sess = r.json
        A = {"Authorization": "Bearer " + sess["accessJwt"]}

        def post(rec, rkey=None, method="createRecord", headers=A,
                 extra=None):
            body = {"repo": "did:plc:ogp", "collection": "app.bsky.feed.post",
                    "record": rec}
            if rkey is not None:
                body["rkey"] = rkey
            body.update(extra or {})
            return http("POST", X + "com.atproto.repo." + method,
                        headers=headers, js=body)

        def rec(text, **kw):
            d = {"$type": "app.bsky.feed.post", "text": text,
                 "createdAt": "2021-05-17T08:00:00.000Z", "langs": ["en"]}
            d.update(kw)
            return d

        r = post(rec("no auth"), headers={})
        check("bluesky: no auth -> 401", r.status == 401, r)

        tid = make_tid()
        r = post(rec("Open Gov Week starts today"), tid)
        check("bluesky: createRecord with TID rkey",
              r.status == 200 and r.json["uri"] ==
              "at://did:plc:ogp/app.bsky.feed.post/" + tid, r)
        r = post(rec("Open Gov Week starts today (retry)"), tid)
        check("bluesky: createRecord same rkey -> 500, no second post",
              r.status == 500 and r.json["error"] == "InternalServerError", r)
        r = post(rec("Open Gov Week starts today (put)"), tid, "putRecord")
        check("bluesky: putRecord same rkey -> 200 (replace)",
              r.status == 200, r)
        recs = http("GET", p.base + "/_control/records").json
        mine = [x for x in recs if x["rkey"] == tid]
        check("bluesky: still exactly one record at the rkey",
              len(mine) == 1 and mine[0]["writes"] == 2, recs)
        r = post(rec("x"), make_tid(), "putRecord",
                 extra={"swapRecord": None})
        check("bluesky: putRecord swapRecord=null creates", r.status == 200,
              r)
        r = post(rec("x"), tid, "putRecord", extra={"swapRecord": None})
        check("bluesky: putRecord swapRecord=null on existing -> InvalidSwap",
              r.status == 400 and r.json["error"] == "InvalidSwap", r)
        r = http("GET", X + "com.atproto.repo.getRecord?" +
                 urllib.parse.urlencode({"repo": "did:plc:ogp",
                                         "collection": "app.bsky.feed.post",
                                         "rkey": tid}))
        check("bluesky: getRecord finds it", r.status == 200 and
              r.json["value"]["text"].endswith("(put)"), r)

        for bad_key in ("not-a-tid", "1zzzzzzzzzzzz", "kaaaaaaaaaaaa",
                        "3jzfcijpj2z2", "3JZFCIJPJ2Z2A"):
            r = post(rec("bad key"), bad_key)
            check("bluesky: rkey %r rejected (400 InvalidRequest)" % bad_key,
                  r.status == 400 and r.json["error"] == "InvalidRequest", r)

        # Record validation.
        r = post(rec("x" * 301))
        check("bluesky: 301 graphemes -> 400", r.status == 400 and
              "graphemes" in r.json["message"], r)
        flags = "\U0001F1EA\U0001F1FA" * 300
        r = post(rec(flags))
        check("bluesky: 300 flag emoji (2400 bytes) accepted",
              r.status == 200, r)
        fam = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"
        r = post(rec(fam * 121))
        check("bluesky: 121 graphemes but 3025 bytes -> 400",
              r.status == 400 and "3000" in r.json["message"], r)
        r = post(rec("bad date", createdAt="2021-05-17 08:00:00"))
        check("bluesky: createdAt not atproto datetime -> 400",
              r.status == 400, r)
        r = post(rec("bad lang", langs=["en", "fr", "de", "es"]))
        check("bluesky: 4 langs -> 400", r.status == 400, r)
        r = post({"text": "no createdAt"})
        check("bluesky: missing createdAt -> 400", r.status == 400, r)
        r = post(dict(rec("wrong type"), **{"$type": "app.bsky.feed.like"}))
        check("bluesky: wrong $type -> 400", r.status == 400, r)

        # Facets over UTF-8 with emoji and non-Latin text before the link.
        link = "https://www.opengovpartnership.org/ogw"
        text = ("Открытое правительство 🇪🇺👩🏽‍💻 — semaine: " + link +
                " #OpenGovWeek with @alice.test")
        good = [facet(text, link, {"$type": "app.bsky.richtext.facet#link",
                                   "uri": link}),
                facet(text, "#OpenGovWeek",
                      {"$type": "app.bsky.richtext.facet#tag",
                       "tag": "OpenGovWeek"}),
                facet(text, "@alice.test",
                      {"$type": "app.bsky.richtext.facet#mention",
                       "did": "did:plc:alice"})]
        r = post(rec(text, facets=good), make_tid())
        check("bluesky: facets with emoji + Cyrillic before link accepted",
              r.status == 200, r)
        # Same facets with code-point (not byte) offsets: must be refused.
        cp = text.index(link)
        wrong = [{"index": {"byteStart": cp, "byteEnd": cp + len(link)},
                  "features": [{"$type": "app.bsky.richtext.facet#link",
                                "uri": link}]}]
        r = post(rec(text, facets=wrong), make_tid())
        check("bluesky: code-point offsets instead of bytes -> 400",
              r.status == 400 and r.json["error"] == "InvalidRequest", r)
        b = len(text.encode())
        r = post(rec(text, facets=[{"index": {"byteStart": b - 3,
                                              "byteEnd": b + 5},
                                    "features": good[0]["features"]}]))
        check("bluesky: byteSlice past the end -> 400", r.status == 400, r)
        short = dict(good[0], index=dict(good[0]["index"]))
        short["index"]["byteEnd"] -= 4
        r = post(rec(text, facets=[short]))
        check("bluesky: link slice cut short -> 400", r.status == 400, r)
        r = post(rec(text, facets=[good[0], good[0]]))
        check("bluesky: overlapping facets -> 400", r.status == 400, r)
        badtag = facet(text, "#OpenGovWeek",
                       {"$type": "app.bsky.richtext.facet#tag",
                        "tag": "OpenGov"})
        r = post(rec(text, facets=[badtag]))
        check("bluesky: tag facet != '#'+tag -> 400", r.status == 400, r)
        badm = facet(text, "@alice.test",
                     {"$type": "app.bsky.richtext.facet#mention",
                      "did": "did:plc:nobody"})
        r = post(rec(text, facets=[badm]))
        check("bluesky: mention of unresolvable DID -> 400",
              r.status == 400, r)
        t2 = "Read more: opengovpartnership.org/ogw"
        r = post(rec(t2, facets=[facet(
            t2, "opengovpartnership.org/ogw",
            {"$type": "app.bsky.richtext.facet#link",
             "uri": "https://opengovpartnership.org/ogw"})]))
        check("bluesky: link text without scheme accepted", r.status == 200,
              r)

        # Blobs and image embeds.
        r = http("POST", X + "com.atproto.repo.uploadBlob", body=PNG,
                 headers=dict(A, **{"Content-Type": "image/png"}))
        ok = check("bluesky: uploadBlob returns a blob ref",
                   r.status == 200 and r.json["blob"]["$type"] == "blob" and
                   r.json["blob"]["ref"]["$link"].startswith("bafkrei") and
                   r.json["blob"]["size"] == len(PNG), r)
        blob = r.json["blob"] if ok else {}
        emb = {"$type": "app.bsky.embed.images",
               "images": [{"image": blob, "alt": ""}]}
        r = post(rec("image, empty alt", embed=emb), make_tid())
        check("bluesky: image embed with empty alt accepted",
              r.status == 200, r)
        r = post(rec("image, no alt", embed={
            "$type": "app.bsky.embed.images", "images": [{"image": blob}]}))
        check("bluesky: image without alt -> 400", r.status == 400, r)
        fake = dict(blob, ref={"$link": "bafkreiaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                         "aaaaaaaaaaaaaaaaaaaaaaa"})
        r = post(rec("unknown blob", embed={
            "$type": "app.bsky.embed.images",
            "images": [{"image": fake, "alt": "x"}]}))
        check("bluesky: unknown blob -> 400 BlobNotFound",
              r.status == 400 and r.json["error"] == "BlobNotFound", r)
        r = post(rec("external", embed={
            "$type": "app.bsky.embed.external",
            "external": {"uri": link, "title": "OGW",
                         "description": "Open Gov Week", "thumb": blob}}))
        check("bluesky: external embed with thumb accepted",
              r.status == 200, r)

        # Handles.
        r = http("GET", X + "com.atproto.identity.resolveHandle?handle="
                 "alice.test")
        check("bluesky: resolveHandle alice.test",
              r.status == 200 and r.json["did"] == "did:plc:alice", r)
        r = http("GET", X + "com.atproto.identity.resolveHandle?handle="
                 "nobody.test")
        check("bluesky: unknown handle -> 400", r.status == 400, r)

        # Expiry and refresh.
        http("POST", p.base + "/_control/clock", js={"advance": 7201})
        r = post(rec("after two hours"), make_tid())
        check("bluesky: expired accessJwt -> 400 ExpiredToken",
              r.status == 400 and r.json["error"] == "ExpiredToken", r)
        r = http("POST", X + "com.atproto.server.refreshSession", headers=A)
        check("bluesky: refreshSession with accessJwt refused",
              r.status == 400, r)
        R = {"Authorization": "Bearer " + sess["refreshJwt"]}
        r = http("POST", X + "com.atproto.server.refreshSession", headers=R)
        ok = check("bluesky: refreshSession with refreshJwt", r.status == 200
                   and r.json["accessJwt"] != sess["accessJwt"], r)
        if ok:
            A2 = {"Authorization": "Bearer " + r.json["accessJwt"]}
            r2 = post(rec("after refresh"), make_tid(), headers=A2)
            check("bluesky: new accessJwt works", r2.status == 200, r2)
            r3 = http("POST", X + "com.atproto.server.refreshSession",
                      headers=R)
            check("bluesky: used refreshJwt no longer works",
                  r3.status == 400, r3)

        # Scripted 429.
        http("POST", p.base + "/_control/script", js=[
            {"path": "/xrpc/com.atproto.repo.createRecord", "status": 429}])
        r = post(rec("rate"), make_tid(), headers=A2 if ok else A)
        check("bluesky: scripted 429 with RateLimitExceeded + ratelimit-reset",
              r.status == 429 and r.json["error"] == "RateLimitExceeded" and
              r.headers.get("RateLimit-Reset", "").isdigit(), r)
    finally:
        p.stop()

    # A second instance: real access-ttl expiry, the createSession limit,
    # TLS (httpmock's --tls) and the handle as repo.
    p = Peer("bluesky_mock.py", ["--handle", "ogp.test",
                                 "--app-password-file", pw,
                                 "--access-ttl", "1",
                                 "--session-limit", "2/300",
                                 "--tls", os.path.join(certs, "server.pem"),
                                 os.path.join(certs, "server.key")], tmp)
    try:
        X = "https://127.0.0.1:%d/xrpc/" % p.port
        login = {"identifier": "ogp.test", "password": "abcd-efgh-ijkl-mnop"}
        r = http("POST", X + "com.atproto.server.createSession", js=login)
        did = r.json["did"]
        A = {"Authorization": "Bearer " + r.json["accessJwt"]}
        body = {"repo": "ogp.test", "collection": "app.bsky.feed.post",
                "rkey": make_tid(),
                "record": {"text": "t", "createdAt": "2021-05-17T08:00:00Z"}}
        r = http("POST", X + "com.atproto.repo.createRecord", headers=A,
                 js=body)
        check("bluesky: over TLS, repo given as handle, $type filled in",
              r.status == 200 and r.json["uri"].startswith("at://" + did) and
              http("GET", "https://127.0.0.1:%d/_control/records"
                   % p.port).json[0]["$type_set_by_server"], r)
        time.sleep(1.2)
        body["rkey"] = make_tid()
        r = http("POST", X + "com.atproto.repo.createRecord", headers=A,
                 js=body)
        check("bluesky: --access-ttl 1 expires after 1 s",
              r.status == 400 and r.json["error"] == "ExpiredToken", r)
        http("POST", X + "com.atproto.server.createSession", js=login)
        r = http("POST", X + "com.atproto.server.createSession", js=login)
        check("bluesky: createSession rate limit -> 429 with RateLimit-Reset",
              r.status == 429 and r.json["error"] == "RateLimitExceeded" and
              r.headers.get("RateLimit-Reset"), r)
    finally:
        p.stop()
    test_bluesky_counts(tmp, pw)


def test_bluesky_counts(tmp, pw):
    """app.bsky.feed.getPosts: auth, post views with the counters set by control."""
    p = Peer("bluesky_mock.py", ["--handle", "ogp.test",
                                 "--app-password-file", pw], tmp)
    try:
        X = p.base + "/xrpc/"
        login = {"identifier": "ogp.test", "password": "abcd-efgh-ijkl-mnop"}
        r = http("POST", X + "com.atproto.server.createSession", js=login)
        A = {"Authorization": "Bearer " + r.json["accessJwt"]}
        body = {"repo": "ogp.test", "collection": "app.bsky.feed.post",
                "rkey": make_tid(),
                "record": {"text": "t", "createdAt": "2021-05-17T08:00:00Z"}}
        uri = http("POST", X + "com.atproto.repo.createRecord", headers=A,
                   js=body).json["uri"]
        q = "app.bsky.feed.getPosts?uris=" + urllib.parse.quote(uri, safe="")
        r = http("GET", X + q)
        check("bluesky: getPosts without a token -> 401", r.status == 401, r)
        r = http("GET", X + q, headers=A)
        v = (r.json or {}).get("posts", [{}])[0]
        check("bluesky: getPosts: a post view with zero counts",
              r.status == 200 and v.get("uri") == uri and
              (v["likeCount"], v["repostCount"], v["replyCount"]) == (0, 0, 0), r)
        r = http("POST", p.base + "/_control/counts",
                 js={"uri": uri, "likeCount": 5, "repostCount": 3,
                     "replyCount": 2})
        check("bluesky: /_control/counts sets the counters", r.status == 200, r)
        r = http("GET", X + q + "&uris=" + urllib.parse.quote(
            "at://did:plc:nobody/app.bsky.feed.post/3k", safe=""), headers=A)
        v = r.json["posts"]
        check("bluesky: getPosts reports them, leaves out unknown posts",
              len(v) == 1 and (v[0]["likeCount"], v[0]["repostCount"],
                               v[0]["replyCount"]) == (5, 3, 2), r)
        r = http("GET", X + "app.bsky.feed.getPosts?uris=nope", headers=A)
        check("bluesky: getPosts of a non-at:// uri -> 400",
              r.status == 400 and r.json["error"] == "InvalidRequest", r)
    finally:
        p.stop()


def test_bluesky_thread(tmp):
    """Reply refs and put-delay, on a peer of its own (long-lived tokens)."""
    pw = os.path.join(tmp, "bsky-thread.pw")
    with open(pw, "w") as f:
        f.write("abcd-efgh-ijkl-mnop\n")
    os.chmod(pw, 0o600)
    p = Peer("bluesky_mock.py", ["--handle", "ogp.test",
                                 "--app-password-file", pw], tmp)
    try:
        X, C = p.base + "/xrpc/", p.base + "/_control/"
        r = http("POST", X + "com.atproto.server.createSession",
                 js={"identifier": "ogp.test",
                     "password": "abcd-efgh-ijkl-mnop"})
        A = {"Authorization": "Bearer " + r.json["accessJwt"]}
        rec = {"text": "part 1 (1/2)", "createdAt": "2021-05-17T08:00:00Z"}
        head = http("POST", X + "com.atproto.repo.putRecord", headers=A,
                    js={"repo": "ogp.test", "collection":
                        "app.bsky.feed.post", "rkey": make_tid(),
                        "record": rec}).json
        ref = {"uri": head["uri"], "cid": head["cid"]}
        http("POST", C + "put-delay", js={"seconds": 1.5, "after": 1})
        t0 = time.time()
        r = http("POST", X + "com.atproto.repo.putRecord", headers=A,
                 js={"repo": "ogp.test", "collection": "app.bsky.feed.post",
                     "rkey": make_tid(), "record": dict(
                         rec, text="part 2 (2/2)",
                         reply={"root": ref, "parent": ref})})
        late = time.time() - t0
        http("POST", C + "put-delay", js={"seconds": 0})
        recs = http("GET", C + "records").json
        check("bluesky: put-delay after 1: written, answered late",
              r.status == 200 and late >= 1.4 and len(recs) == 2 and
              recs[1]["record"]["reply"]["parent"] == ref, (r, late))
        r = http("POST", X + "com.atproto.repo.putRecord", headers=A,
                 js={"repo": "ogp.test", "collection": "app.bsky.feed.post",
                     "rkey": make_tid(), "record": dict(
                         rec, reply={"root": {"uri": head["uri"]},
                                     "parent": ref})})
        check("bluesky: a reply ref without cid -> 400 InvalidRecord",
              r.status == 400, r)
    finally:
        p.stop()


# --- SMTP ----------------------------------------------------------------------

MSG = (b"From: crier <news@ogp.test>\r\nTo: list@ogp.test\r\n"
       b"Subject: Open Gov Week\r\n\r\nHello.\r\n.leading dot line\r\n")


def read_index(path):
    with open(path) as f:
        return json.load(f)


def test_smtp(tmp):
    md = os.path.join(tmp, "mail1")
    p = Peer("smtp_peer.py", ["--maildir", md,
                              "--reject-rcpt", "gone@example.org",
                              "--tempfail-rcpt", "later@example.org"], tmp)
    try:
        s = smtplib.SMTP("127.0.0.1", p.port, timeout=20)
        s.ehlo("crier.test")
        refused = s.sendmail("news@ogp.test",
                             ["a@example.org", "gone@example.org",
                              "b@example.org"], MSG)
        check("smtp: 550 for the rejected rcpt only",
              list(refused) == ["gone@example.org"] and
              refused["gone@example.org"][0] == 550, refused)
        idx = read_index(os.path.join(md, "index.json"))
        check("smtp: message stored for the other rcpts",
              len(idx) == 1 and idx[0]["rcpt_tos"] ==
              ["a@example.org", "b@example.org"] and
              idx[0]["mail_from"] == "news@ogp.test", idx)
        with open(idx[0]["file"], "rb") as f:
            data = f.read()
        check("smtp: raw data kept (dot-unstuffed)",
              b"Subject: Open Gov Week" in data and
              b"\r\n.leading dot line" in data, data)
        s.mail("news@ogp.test")
        code, _ = s.rcpt("later@example.org")
        check("smtp: tempfail rcpt -> 450", code == 450, code)
        s.rset()
        try:
            s.sendmail("news@ogp.test", ["gone@example.org"], MSG)
            check("smtp: all rcpts refused raises", False)
        except smtplib.SMTPRecipientsRefused:
            check("smtp: all rcpts refused raises", True)
        s.quit()
    finally:
        p.stop()

    certs = tls_certs(tmp)
    pwf = os.path.join(tmp, "smtp.pw")
    with open(pwf, "w") as f:
        f.write("s3cret\n")
    md = os.path.join(tmp, "mail2")
    p = Peer("smtp_peer.py", [
        "--maildir", md, "--slow", "0.4",
        "--starttls", os.path.join(certs, "server.pem"),
        os.path.join(certs, "server.key"), "--require-starttls",
        "--auth", "crier:" + pwf], tmp)
    try:
        ctx = ssl.create_default_context(cafile=os.path.join(certs, "ca.pem"))
        s = smtplib.SMTP("127.0.0.1", p.port, timeout=20)
        s.ehlo("crier.test")
        check("smtp: STARTTLS offered", s.has_extn("starttls"))
        code, _ = s.mail("news@ogp.test")
        check("smtp: MAIL before STARTTLS -> 530", code == 530, code)
        s.quit()

        s = smtplib.SMTP("127.0.0.1", p.port, timeout=20)
        s.starttls(context=ctx)
        s.ehlo("crier.test")
        check("smtp: AUTH offered after STARTTLS", s.has_extn("auth"))
        code, _ = s.mail("news@ogp.test")
        check("smtp: MAIL before AUTH -> 530", code == 530, code)
        s.rset()
        try:
            s.login("crier", "wrong")
            check("smtp: bad password -> 535", False)
        except smtplib.SMTPAuthenticationError as e:
            check("smtp: bad password -> 535", e.smtp_code == 535, e)
        s.login("crier", "s3cret")
        t0 = time.time()
        s.sendmail("news@ogp.test", ["a@example.org"], MSG)
        check("smtp: --slow delays DATA", time.time() - t0 >= 0.35,
              time.time() - t0)
        s.quit()
        idx = read_index(os.path.join(md, "index.json"))
        check("smtp: message over TLS with auth user recorded",
              len(idx) == 1 and idx[0]["tls"] and
              idx[0]["auth_user"] == "crier", idx)
    finally:
        p.stop()

    # Implicit TLS (smtps://) and a temporary DATA failure.
    md = os.path.join(tmp, "mail3")
    p = Peer("smtp_peer.py", [
        "--maildir", md, "--fail-data", "1",
        "--smtps", os.path.join(certs, "server-chain.pem"),
        os.path.join(certs, "server.key")], tmp)
    try:
        s = smtplib.SMTP_SSL("127.0.0.1", p.port, timeout=20, context=ctx)
        s.ehlo("crier.test")
        try:
            s.sendmail("news@ogp.test", ["a@example.org"], MSG)
            check("smtp: --fail-data 1 -> first DATA 451", False)
        except smtplib.SMTPDataError as e:
            check("smtp: --fail-data 1 -> first DATA 451", e.smtp_code == 451,
                  e)
        s.sendmail("news@ogp.test", ["a@example.org"], MSG)
        s.quit()
        idx = read_index(os.path.join(md, "index.json"))
        check("smtp: smtps message stored once, tls true",
              len(idx) == 1 and idx[0]["tls"], idx)
    finally:
        p.stop()


# --- main ----------------------------------------------------------------------

def main():
    which = [a for a in sys.argv[1:] if not a.startswith("-")] or \
        ["mastodon", "bluesky", "bluesky_thread", "smtp", "x"] + list(NETS)
    tmp = tempfile.mkdtemp(prefix="crier-peers-")
    try:
        for name in which:
            try:
                if name in NETS:
                    NETS[name](sys.modules[__name__], tmp)
                elif name == "x":
                    _test_x(sys.modules[__name__], tmp)
                else:
                    globals()["test_" + name](tmp)
            except Exception:
                check("%s: ran without exception" % name, False,
                      traceback.format_exc())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (PASSED, FAILED))
    return 0 if FAILED == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
