"""Self-test cases for the LinkedIn, Facebook Pages, Threads and listmonk
peers; run by test_peers.py, whose helpers (check, http, Peer, multipart,
PNG) arrive as the module argument T of each function in NETS.
"""

import base64
import datetime
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request


def _write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def _control(T, p, path, js=None):
    return T.http("POST" if js is not None else "GET", p.base + path, js=js)


def _soon(cond, seconds=10):
    """Whether COND() becomes true within SECONDS (a loaded machine is slow)."""
    deadline = time.time() + seconds
    while not cond():
        if time.time() > deadline:
            return False
        time.sleep(0.1)
    return True


def _gives_up(url, body, headers, timeout=0.5):
    """Whether a POST of BODY to URL times out: the client hears nothing."""
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers=headers)
    try:
        urllib.request.urlopen(req, timeout=timeout).read()
    except (socket.timeout, TimeoutError):
        return True
    except urllib.error.URLError as e:
        return isinstance(e.reason, (socket.timeout, TimeoutError))
    return False


# --- LinkedIn -----------------------------------------------------------------

def test_linkedin(T, tmp):
    tok = _write(tmp, "li.tokens", "tok-ogp urn:li:person:abc123 "
                 "urn:li:organization:2414183\ntok-other urn:li:person:zz9\n")
    version = time.strftime("%Y%m", time.gmtime())
    p = T.Peer("linkedin_mock.py", ["--token-file", tok, "--rate-limit",
                                    "40"], tmp)
    c = T.check
    try:
        B = p.base

        def hdrs(t="tok-ogp", v=version, restli="2.0.0"):
            h = {"Authorization": "Bearer " + t}
            if v is not None:
                h["LinkedIn-Version"] = v
            if restli is not None:
                h["X-Restli-Protocol-Version"] = restli
            return h

        def post(body, **kw):
            return T.http("POST", B + "/rest/posts", js=body, headers=hdrs(**kw))

        def good(commentary, author="urn:li:organization:2414183", **extra):
            return dict({"author": author, "commentary": commentary,
                         "visibility": "PUBLIC",
                         "distribution": {"feedDistribution": "MAIN_FEED",
                                          "targetEntities": [],
                                          "thirdPartyDistributionChannels":
                                          []},
                         "lifecycleState": "PUBLISHED",
                         "isReshareDisabledByAuthor": False}, **extra)

        r = post(good("x"), t="nope")
        c("linkedin: unknown token -> 401 INVALID_ACCESS_TOKEN 65600",
          r.status == 401 and (r.json or {}).get("serviceErrorCode") == 65600,
          r)
        r = post(good("x"), v=None)
        c("linkedin: no LinkedIn-Version -> 400 VERSION_MISSING",
          r.status == 400 and (r.json or {}).get("code") == "VERSION_MISSING",
          r)
        r = post(good("x"), v="202001")
        c("linkedin: inactive version -> 426 NONEXISTENT_VERSION",
          r.status == 426 and r.json["message"] ==
          "Requested version 20200101 is not active", r)
        r = T.http("POST", B + "/rest/posts", js=good("x"), headers={
            "LinkedIn-Version": version, "X-Restli-Protocol-Version": "2.0.0"})
        c("linkedin: no Authorization -> 401 Empty oauth2_access_token",
          r.status == 401 and r.json["message"] ==
          "Empty oauth2_access_token", r)
        r = post(good("x"), v="2025-01")
        c("linkedin: malformed version -> 400", r.status == 400 and
          r.json["code"] == "INVALID_VERSION", r)
        r = post(good("x"), restli=None)
        c("linkedin: no X-Restli-Protocol-Version -> 400", r.status == 400, r)
        r = post({"author": "urn:li:person:abc123", "commentary": "x"})
        c("linkedin: missing fields -> 422 naming each", r.status == 422 and
          "/lifecycleState :: field is required" in r.json["message"] and
          "/visibility :: field is required" in r.json["message"], r)
        r = post(good("x", colour="red"))
        c("linkedin: unknown field -> 422", r.status == 422 and
          "/colour :: unrecognized field" in r.json["message"], r)
        r = post(good("x", author="urn:li:company:1"))
        c("linkedin: wrong URN kind -> 422 on /author", r.status == 422 and
          "/author" in r.json["message"], r)
        r = post(good("x"), t="tok-other")
        c("linkedin: organization the token lacks -> 403 ACCESS_DENIED",
          r.status == 403 and r.json["code"] == "ACCESS_DENIED", r)

        lt = ("Budget vote \\(2026\\) with \\@press\\_office "
              "{hashtag|#|OpenGov} @[Acme Corp](urn:li:organization:1234)")
        r = post(good(lt))
        urn = r.headers.get("x-restli-id") or ""
        c("linkedin: post -> 201, empty body, id in x-restli-id",
          r.status == 201 and r.raw == b"" and urn.startswith("urn:li:share:"),
          (r, urn))
        posts = _control(T, p, "/_control/posts").json
        last = posts[-1] if posts else {}
        c("linkedin: escaped commentary shown in full",
          last.get("shown") == "Budget vote (2026) with @press_office "
          "#OpenGov Acme Corp" and last.get("truncated") is False and
          last.get("hashtags") == ["OpenGov"] and last.get("id") == urn and
          last.get("version") == version, last)
        r = post(good("Budget vote (2026) is today"))
        last = _control(T, p, "/_control/posts").json[-1]
        c("linkedin: unescaped ( -> created but shown cut there",
          r.status == 201 and last["truncated"] and
          last["shown"] == "Budget vote " and last["cut_at"] == 12, last)
        r = post(good("a_b ~ c"))
        last = _control(T, p, "/_control/posts").json[-1]
        c("linkedin: unescaped _ cuts too", last["shown"] == "a", last)
        r = post(good("é" * 3001))
        c("linkedin: commentary over 3000 -> 422", r.status == 422 and
          "/commentary" in r.json["message"], r)
        n = len(_control(T, p, "/_control/posts").json)
        post(good("same"))
        post(good("same"))
        c("linkedin: no idempotency, a repeat is a second post",
          len(_control(T, p, "/_control/posts").json) == n + 2)

        # Images API: initializeUpload, PUT, then the post.
        init = {"initializeUploadRequest": {"owner":
                                            "urn:li:organization:2414183"}}
        r = T.http("POST", B + "/rest/images?action=initializeUpload",
                   js=init, headers=hdrs())
        v = (r.json or {}).get("value", {})
        c("linkedin: initializeUpload -> uploadUrl and image URN",
          r.status == 200 and v.get("image", "").startswith("urn:li:image:")
          and v.get("uploadUrl", "").startswith(B) and
          v.get("uploadUrlExpiresAt", 0) > time.time() * 1000, r)
        img = v.get("image", "")
        media = {"content": {"media": {"id": img, "altText": "A chart"}}}
        r = post(good("chart", **media))
        c("linkedin: image not uploaded yet -> 400", r.status == 400, r)
        r = T.http("PUT", v.get("uploadUrl", B + "/x"), body=b"not an image",
                   headers={"Authorization": "Bearer tok-ogp"})
        c("linkedin: PUT of a non-image -> 400", r.status == 400, r)
        r = T.http("PUT", v.get("uploadUrl", B + "/x"), body=T.PNG,
                   headers={"Authorization": "Bearer tok-ogp"})
        c("linkedin: PUT of the PNG -> 201", r.status == 201, r)
        r = T.http("GET", B + "/rest/images/" + img.replace(":", "%3A"),
                   headers=hdrs())
        c("linkedin: image AVAILABLE", (r.json or {}).get("status") ==
          "AVAILABLE", r)
        r = post(good("chart", author="urn:li:person:abc123", **media))
        c("linkedin: another author's image -> 400", r.status == 400, r)
        bad = {"content": {"media": {"id": img, "altText": "x" * 4087}}}
        r = post(good("chart", **bad))
        c("linkedin: altText over 4086 -> 422", r.status == 422, r)
        r = post(good("chart", **media))
        last = _control(T, p, "/_control/posts").json[-1]
        c("linkedin: image post with alt text", r.status == 201 and
          last["media"] == {"id": img, "altText": "A chart"}, last)

        n = len(_control(T, p, "/_control/posts").json)
        _control(T, p, "/_control/post-delay", {"seconds": 3})
        c("linkedin: post-delay -> created, the client hears nothing",
          _gives_up(B + "/rest/posts", json.dumps(good("slow")).encode(),
                    dict(hdrs(), **{"Content-Type": "application/json"})) and
          _soon(lambda: len(_control(T, p, "/_control/posts").json) ==
                n + 1))
        _control(T, p, "/_control/post-delay", {"seconds": 0})
        _control(T, p, "/_control/expire", {"token": "tok-other"})
        r = post(good("x", author="urn:li:person:zz9"), t="tok-other")
        c("linkedin: expired token -> 401 EXPIRED_ACCESS_TOKEN",
          r.status == 401 and r.json["code"] == "EXPIRED_ACCESS_TOKEN", r)
        _control(T, p, "/_control/clock", {"advance": 61 * 86400})
        r = post(good("x"))
        c("linkedin: 61 days later the token has expired", r.status == 401 and
          r.json["serviceErrorCode"] == 65602, r)
    finally:
        p.stop()

    p = T.Peer("linkedin_mock.py", ["--token-file", tok, "--rate-limit", "2",
                                    "--versions", "202401"], tmp)
    try:
        h = {"Authorization": "Bearer tok-ogp", "LinkedIn-Version": "202401",
             "X-Restli-Protocol-Version": "2.0.0"}
        got = [T.http("POST", p.base + "/rest/posts", js={}, headers=h).status
               for _ in range(3)]
        c("linkedin: --versions pins 202401; third call -> 429",
          got == [422, 422, 429], got)
    finally:
        p.stop()


# --- Facebook Pages -------------------------------------------------------------

def test_facebook(T, tmp):
    tok = _write(tmp, "fb.tokens", "pagetok 1001\nothertok 2002\n")
    p = T.Peer("facebook_mock.py", ["--token-file", tok, "--rate-limit",
                                    "30"], tmp)
    c = T.check
    try:
        B = p.base + "/v26.0/1001"

        def err(r):
            return (r.json or {}).get("error", {})

        r = T.http("POST", B + "/feed", form={"message": "hi"})
        c("facebook: no token -> error", r.status == 400 and
          err(r).get("type") == "OAuthException", r)
        r = T.http("POST", B + "/feed", form={"message": "hi",
                                              "access_token": "junk"})
        c("facebook: invalid token -> 190 OAuthException",
          r.status == 400 and err(r).get("code") == 190 and
          err(r).get("fbtrace_id"), r)
        r = T.http("POST", B + "/feed", form={"message": "hi",
                                              "access_token": "othertok"})
        c("facebook: another page's token -> 403 code 200",
          r.status == 403 and err(r).get("code") == 200, r)
        for path in ("/1001/feed", "/v2.0/1001/feed"):
            r = T.http("POST", p.base + path, form={
                "message": "hi", "access_token": "pagetok"})
            c("facebook: unpinned or unknown version %s -> 2500" % path,
              r.status == 400 and err(r).get("code") == 2500, r)
        r = T.http("POST", B + "/feed", form={
            "message": "Budget (2026)", "link": "https://gov.example/b",
            "access_token": "pagetok"})
        bucu = json.loads(r.headers.get("X-Business-Use-Case-Usage") or "{}")
        c("facebook: feed post -> PAGE_POST id and usage headers",
          r.status == 200 and r.json["id"].startswith("1001_") and
          "call_count" in json.loads(r.headers.get("X-App-Usage") or "{}")
          and "estimated_time_to_regain_access" in
          json.loads(r.headers.get("X-Page-Usage") or "{}") and
          bucu.get("1001", [{}])[0].get("type") == "pages", (r, r.headers))
        r = T.http("POST", B + "/feed", form={"access_token": "pagetok"},
                   headers={})
        c("facebook: neither message nor link -> code 100",
          r.status == 400 and err(r).get("code") == 100, r)
        r = T.http("POST", B + "/feed", form={"message": "bearer"},
                   headers={"Authorization": "Bearer pagetok"})
        c("facebook: token as Bearer header", r.status == 200, r)
        r = T.http("POST", B + "/photos", form={
            "url": "https://gov.example/chart.png", "message": "Chart",
            "alt_text_custom": "Bars", "access_token": "pagetok"})
        posts = _control(T, p, "/_control/posts").json
        c("facebook: photo by url -> id and post_id, alt text kept",
          r.status == 200 and r.json.get("post_id", "").startswith("1001_")
          and posts[-1]["alt_text"] == "Bars" and
          posts[-1]["message"] == "Chart", (r, posts[-1:]))
        body, ctype = T.multipart([("access_token", "pagetok"),
                                   ("caption", "Up")],
                                  [("source", "c.png", "image/png", T.PNG)])
        r = T.http("POST", B + "/photos", body=body,
                   headers={"Content-Type": ctype})
        posts = _control(T, p, "/_control/posts").json
        c("facebook: photo upload by source", r.status == 200 and
          posts[-1]["source_size"] == len(T.PNG) and
          posts[-1]["message"] == "Up", (r, posts[-1:]))
        body, ctype = T.multipart([("access_token", "pagetok")],
                                  [("source", "c.png", "image/png", b"nope")])
        r = T.http("POST", B + "/photos", body=body,
                   headers={"Content-Type": ctype})
        c("facebook: source not an image -> 324", err(r).get("code") == 324,
          r)
        r = T.http("POST", B + "/photos", form={"access_token": "pagetok"})
        c("facebook: photo without url or source -> 324",
          err(r).get("code") == 324, r)
        for code in (4, 17, 32, 613):
            _control(T, p, "/_control/throttle",
                     {"code": code, "minutes": 7, "count": 1})
            r = T.http("POST", B + "/feed", form={
                "message": "t", "access_token": "pagetok"})
            bucu = json.loads(r.headers.get("X-Business-Use-Case-Usage") or
                              "{}")
            c("facebook: throttle code %d with time to regain access" % code,
              err(r).get("code") == code and
              bucu["1001"][0]["estimated_time_to_regain_access"] == 7 and
              json.loads(r.headers["X-App-Usage"])["call_count"] == 100,
              (r, r.headers))
        r = T.http("POST", B + "/feed", form={"message": "after",
                                              "access_token": "pagetok"})
        c("facebook: the throttle passes", r.status == 200, r)
        n = len(_control(T, p, "/_control/posts").json)
        _control(T, p, "/_control/post-delay", {"seconds": 3})
        c("facebook: post-delay -> created, the client hears nothing",
          _gives_up(B + "/feed", b"message=slow&access_token=pagetok",
                    {"Content-Type": "application/x-www-form-urlencoded"})
          and _soon(lambda: len(_control(T, p, "/_control/posts").json) ==
                    n + 1))
        _control(T, p, "/_control/post-delay", {"seconds": 0})
        _control(T, p, "/_control/expire", {"token": "pagetok"})
        r = T.http("POST", B + "/feed", form={"message": "x",
                                              "access_token": "pagetok"})
        c("facebook: expired -> 190 subcode 463", err(r).get("code") == 190
          and err(r).get("error_subcode") == 463, r)
    finally:
        p.stop()

    p = T.Peer("facebook_mock.py", ["--token-file", tok, "--rate-limit", "2",
                                    "--versions", "v21.0"], tmp)
    try:
        got = []
        for _ in range(3):
            r = T.http("POST", p.base + "/v21.0/1001/feed", form={
                "message": "m", "access_token": "pagetok"})
            got.append((r.status, (r.json or {}).get("error", {}).get("code")))
        pu = json.loads(r.headers.get("X-Page-Usage") or "{}")
        c("facebook: over the page limit -> code 32 with minutes to wait",
          got == [(200, None), (200, None), (400, 32)] and
          pu.get("estimated_time_to_regain_access", 0) >= 1 and
          pu.get("call_count") == 100, (got, pu))
    finally:
        p.stop()


# --- Threads ------------------------------------------------------------------

def test_threads(T, tmp):
    tok = _write(tmp, "th.tokens", "ttok 5551\nother 6662\n")
    p = T.Peer("threads_mock.py", ["--token-file", tok,
                                   "--processing-polls", "2"], tmp)
    img = T.Peer("httpmock.py", [], tmp)
    c = T.check
    try:
        B = p.base + "/v1.0/5551"

        def err(r):
            return (r.json or {}).get("error", {})

        def create(**form):
            form.setdefault("access_token", "ttok")
            return T.http("POST", B + "/threads", form=form)

        def status(cid):
            return T.http("GET", p.base + "/v1.0/%s?fields=status,"
                          "error_message&access_token=ttok" % cid).json

        def publish(cid):
            return T.http("POST", B + "/threads_publish", form={
                "creation_id": cid, "access_token": "ttok"})

        r = create(media_type="TEXT", text="hi", access_token="bad")
        c("threads: bad token -> 190", err(r).get("code") == 190, r)
        # Long-lived tokens: refreshed only once 24 hours old, unversioned.
        R = p.base + "/refresh_access_token?grant_type=th_refresh_token"
        r = T.http("GET", R, headers={"Authorization": "Bearer ttok"})
        c("threads: refresh of a new token -> 190", err(r).get("code") == 190
          and "24 hours" in err(r).get("message", ""), r)
        _control(T, p, "/_control/clock", {"advance": 86400 + 60})
        r = T.http("GET", p.base + "/refresh_access_token?grant_type=x&"
                   "access_token=ttok")
        c("threads: refresh with another grant_type -> 100",
          err(r).get("code") == 100, r)
        r = T.http("GET", R, headers={"Authorization": "Bearer ttok"})
        new = (r.json or {}).get("access_token")
        c("threads: refresh a day later -> a new token for 60 days",
          r.status == 200 and new and new != "ttok" and
          r.json.get("expires_in") == 5184000, r)
        r = create(media_type="TEXT", text="hi", access_token=new)
        c("threads: the refreshed token works", r.status == 200, r)
        r = T.http("POST", p.base + "/5551/threads", form={
            "media_type": "TEXT", "text": "hi", "access_token": "ttok"})
        c("threads: unversioned path -> 2500", err(r).get("code") == 2500, r)
        r = T.http("POST", p.base + "/v1.0/6662/threads", form={
            "media_type": "TEXT", "text": "hi", "access_token": "ttok"})
        c("threads: another user's id -> code 10", err(r).get("code") == 10, r)
        r = create(text="hi")
        c("threads: media_type required", err(r).get("code") == 100, r)
        r = create(media_type="TEXT", text="Budget (2026) #OpenGov")
        cid = (r.json or {}).get("id")
        c("threads: TEXT container FINISHED at once", r.status == 200 and
          status(cid)["status"] == "FINISHED", r)
        r = publish(cid)
        mid = (r.json or {}).get("id")
        c("threads: publish -> media id", r.status == 200 and mid and
          mid != cid and status(cid)["status"] == "PUBLISHED", r)
        r = publish(cid)
        c("threads: a container publishes once", err(r).get("code") == 24, r)
        for text, ok, what in (("a" * 500, True, "500 ASCII"),
                               ("a" * 501, False, "501 ASCII"),
                               ("é" * 500, True, "500 é (not bytes)"),
                               ("\U0001F44D" * 125, True,
                                "125 emoji = 500 bytes"),
                               ("\U0001F44D" * 125 + "a", False,
                                "125 emoji + 1")):
            r = create(media_type="TEXT", text=text)
            c("threads: length %s -> %s" % (what, "ok" if ok else "refused"),
              (r.status == 200) == ok and
              (ok or "500 characters" in err(r).get("message", "")), r)
        r = create(media_type="TEXT", text="hi", alt_text="no image")
        c("threads: alt_text on a text-only post refused",
          err(r).get("code") == 100, r)
        r = create(media_type="TEXT", text=" ".join(
            "https://e%d.example/" % i for i in range(6)))
        c("threads: 6 links refused", "LINK_LIMIT" in err(r).get("message",
                                                             ""), r)

        T.http("POST", img.base + "/_control/script", js=[
            {"path": "/c.png", "body_hex": T.PNG.hex(),
             "headers": {"Content-Type": "image/png"}},
            {"path": "/bad.png", "body": "not an image"}])
        r = create(media_type="IMAGE", image_url=img.base + "/c.png",
                   text="Chart", alt_text="Bars by year")
        cid = (r.json or {}).get("id")
        c("threads: IMAGE container in progress", r.status == 200 and
          status(cid)["status"] == "IN_PROGRESS", r)
        r = publish(cid)
        c("threads: publish before FINISHED -> 24/4279009",
          err(r).get("code") == 24 and err(r).get("error_subcode") ==
          4279009, r)
        st = [status(cid)["status"] for _ in range(2)]
        r = publish(cid)
        conts = {x["id"]: x for x in _control(T, p,
                                              "/_control/containers").json}
        c("threads: polled to FINISHED, published with alt text, image "
          "fetched", st == ["IN_PROGRESS", "FINISHED"] and r.status == 200
          and conts[cid]["fetched"] == len(T.PNG) and
          conts[cid]["alt_text"] == "Bars by year", (st, r, conts.get(cid)))
        for url in (img.base + "/bad.png", "http://192.0.2.1/x.png"):
            r = create(media_type="IMAGE", image_url=url)
            s = status(r.json["id"])
            c("threads: image %s not downloadable -> ERROR" % url,
              s["status"] == "ERROR" and s.get("error_message"), s)
        r = create(media_type="IMAGE", image_url=img.base + "/c.png",
                   alt_text="x" * 1001)
        c("threads: alt_text over 1000 refused", err(r).get("code") == 100, r)
        r = T.http("GET", B + "/threads_publishing_limit?fields=quota_usage,"
                   "config&access_token=ttok")
        q = (r.json or {}).get("data", [{}])[0]
        c("threads: publishing limit reports usage", q.get("quota_usage") == 2
          and q.get("config", {}).get("quota_total") == 250, r)
        r = create(media_type="TEXT", text="slow")
        _control(T, p, "/_control/publish-delay", {"seconds": 3})
        gave_up = _gives_up(B + "/threads_publish", urllib.parse.urlencode({
            "creation_id": r.json["id"], "access_token": "ttok"}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        _control(T, p, "/_control/publish-delay", {"seconds": 0})
        c("threads: publish-delay -> published, the client hears nothing, "
          "the container says PUBLISHED", gave_up and
          _soon(lambda: status(r.json["id"])["status"] == "PUBLISHED"))
        r = create(media_type="TEXT", text="late")
        _control(T, p, "/_control/clock", {"advance": 86401})
        cid = r.json["id"]
        c("threads: a container expires after 24 h",
          status(cid)["status"] == "EXPIRED" and
          err(publish(cid)).get("code") == 24)
    finally:
        p.stop()
        img.stop()

    p = T.Peer("threads_mock.py", ["--token-file", tok, "--post-quota", "1",
                                   "--rate-limit", "6"], tmp)
    try:
        got = []
        for _ in range(2):
            r = T.http("POST", p.base + "/v1.0/5551/threads", form={
                "media_type": "TEXT", "text": "q", "access_token": "ttok"})
            r = T.http("POST", p.base + "/v1.0/5551/threads_publish", form={
                "creation_id": r.json["id"], "access_token": "ttok"})
            got.append((r.json or {}).get("error", {}).get("code"))
        c("threads: over the 24 h post quota -> code 9", got == [None, 9], got)
        _control(T, p, "/_control/throttle", {"code": 613, "count": 1})
        lim = p.base + "/v1.0/5551/threads_publishing_limit?access_token=ttok"
        got = [(T.http("GET", lim).json or {}).get("error", {}).get("code")
               for _ in range(4)]
        r = T.http("GET", lim)
        c("threads: forced 613, then the call limit -> code 4 with "
          "X-App-Usage", got == [613, None, None, 4] and
          json.loads(r.headers.get("X-App-Usage") or "{}").get(
              "call_count") == 100, (got, r))
    finally:
        p.stop()


# --- listmonk -----------------------------------------------------------------

def test_listmonk(T, tmp):
    users = _write(tmp, "lm.users", "crier s3cr3t campaigns:get_all,"
                   "campaigns:manage_all\nreader r3ad campaigns:get_all\n")
    p = T.Peer("listmonk_mock.py", ["--users-file", users], tmp)
    c = T.check
    try:
        B = p.base + "/api/campaigns"
        auth = {"Authorization": "token crier:s3cr3t"}

        def later(hours):
            t = datetime.datetime.now(datetime.timezone.utc) + \
                datetime.timedelta(hours=hours)
            return t.replace(microsecond=0).isoformat()

        def camp(**kw):
            d = {"name": "Newsletter 42", "subject": "Open budget",
                 "lists": [1], "type": "regular", "content_type": "html",
                 "body": "<p>Hello {{ .Subscriber.FirstName }}</p>",
                 "tags": ["crier-delivery-42"], "send_at": later(1)}
            d.update(kw)
            return {k: v for k, v in d.items() if v is not None}

        def create(body, h=auth):
            return T.http("POST", B, js=body, headers=h)

        def m(r):
            return (r.json or {}).get("message")

        for h, want in (({}, "invalid session"),
                        ({"Authorization": "token crier:wrong"},
                         "invalid API credentials"),
                        ({"Authorization": "Bearer s3cr3t"},
                         "unknown Authorization scheme")):
            r = create(camp(), h)
            c("listmonk: auth %r -> 403 %s" % (h, want), r.status == 403 and
              m(r) == want, r)
        r = create(camp(), {"Authorization": "token reader:r3ad"})
        c("listmonk: no manage permission -> 403", r.status == 403 and
          m(r).startswith("Permission denied"), r)
        for body, want in (
                (camp(name=""), "Invalid length for name."),
                (camp(subject=""), "Invalid length for subject."),
                (camp(send_at=later(-1)),
                 "Scheduled date should be in the future."),
                (camp(lists=[]), "Invalid list IDs."),
                (camp(lists=[99]), "Invalid list IDs."),
                (camp(body="Hi {{ .Subscriber.Name"),
                 "Error compiling campaign body")):
            r = create(body)
            c("listmonk: validation -> %s" % want, r.status == 400 and
              (m(r) or "").startswith(want), r)
        r = create(camp(send_at="2031-01-01T10:00:00"))
        c("listmonk: send_at without offset -> 400 parsing time",
          r.status == 400 and "parsing time" in (m(r) or ""), r)
        r = create(camp())
        d = (r.json or {}).get("data", {})
        cid = d.get("id")
        c("listmonk: campaign created as draft with tag and lists",
          r.status == 200 and d.get("status") == "draft" and
          d.get("tags") == ["crier-delivery-42"] and
          d.get("lists") == [{"id": 1, "name": "Newsletter"}] and
          d.get("uuid"), r)
        r = create(camp(name="Other", subject="Press", tags=["x"],
                         send_at=None))
        other = r.json["data"]["id"]
        r = T.http("PUT", "%s/%d/status" % (B, other),
                   js={"status": "scheduled"}, headers=auth)
        c("listmonk: scheduling without send_at refused", m(r) ==
          "Campaign needs a date to be scheduled.", r)
        r = T.http("PUT", "%s/%d/status" % (B, cid),
                   js={"status": "scheduled"}, headers=auth)
        c("listmonk: draft -> scheduled", r.status == 200 and
          r.json["data"]["status"] == "scheduled", r)
        r = T.http("PUT", "%s/%d/status" % (B, cid),
                   js={"status": "scheduled"}, headers=auth)
        c("listmonk: scheduled twice refused", m(r) == "Only draft or paused "
          "campaigns can be scheduled.", r)
        r = T.http("GET", B + "?tag=crier-delivery-42", headers=auth)
        res = (r.json or {}).get("data", {}).get("results", [])
        c("listmonk: ?tag= finds the campaign by tag", r.json["data"]["total"]
          == 1 and res[0]["id"] == cid, r)
        r = T.http("GET", B + "?tags=crier-delivery-42", headers=auth)
        c("listmonk: ?tags= is ignored as by listmonk (all campaigns)",
          r.json["data"]["total"] == 2, r)
        r = T.http("GET", B + "?tag=crier-delivery-42&tag=x", headers=auth)
        c("listmonk: every ?tag= must match", r.json["data"]["total"] == 0, r)
        r = T.http("GET", B + "?query=OPEN%20budget", headers=auth)
        c("listmonk: ?query= matches the subject", r.json["data"]["total"]
          == 1, r)
        r = T.http("GET", "%s/%d" % (B, cid), headers={
            "Authorization": "Basic " + base64.b64encode(
                b"reader:r3ad").decode()})
        c("listmonk: GET one (Basic auth, read permission) -> scheduled",
          r.json["data"]["status"] == "scheduled", r)
        _control(T, p, "/_control/clock", {"advance": 3600 + 5})
        s1 = T.http("GET", "%s/%d" % (B, cid), headers=auth).json["data"]
        _control(T, p, "/_control/clock", {"advance": 120})
        s2 = T.http("GET", "%s/%d" % (B, cid), headers=auth).json["data"]
        c("listmonk: at send_at running, then finished",
          s1["status"] == "running" and s1["started_at"] and
          s2["status"] == "finished", (s1, s2))
        _control(T, p, "/_control/create-delay", {"seconds": 3})
        gave_up = _gives_up(B, json.dumps(camp(tags=["crier-delivery-43"],
                                                 send_at=later(5)))
                            .encode(), dict(auth, **{
                                "Content-Type": "application/json"}))
        _control(T, p, "/_control/create-delay", {"seconds": 0})
        found = _soon(lambda: T.http("GET", B + "?tag=crier-delivery-43",
                                     headers=auth).json["data"]["total"] == 1)
        r = T.http("GET", B + "?tag=crier-delivery-43", headers=auth)
        c("listmonk: create-delay -> the lost campaign is found by its tag",
          gave_up and found and
          r.json["data"]["results"][0]["status"] == "draft", r)
        r = T.http("GET", B + "/9999", headers=auth)
        c("listmonk: unknown id -> 404", r.status == 404 and
          m(r) == "Campaign not found.", r)
    finally:
        p.stop()


NETS = {"linkedin": test_linkedin, "facebook": test_facebook,
        "threads": test_threads, "listmonk": test_listmonk}
