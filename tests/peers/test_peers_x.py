"""Self-test cases for the X peer (x_mock.py): OAuth 1.0a signatures as
X's "Creating a signature" page computes them, OAuth 2.0 tokens, media and
posts; run by test_peers.py, whose helpers (check, http, Peer, multipart,
PNG) arrive as the module argument TP.
"""

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse
import urllib.request
import urllib.error
import uuid


def x_pct(s):
    return urllib.parse.quote(s, safe="-._~")


def x_sign(method, url, params, consumer_secret, token_secret):
    """OAuth 1.0a HMAC-SHA1 as X's "Creating a signature" page does it."""
    enc = sorted((x_pct(k), x_pct(v)) for k, v in params)
    pstr = "&".join("%s=%s" % kv for kv in enc)
    base = "&".join((method, x_pct(url), x_pct(pstr)))
    key = "%s&%s" % (x_pct(consumer_secret), x_pct(token_secret))
    return base64.b64encode(hmac.new(key.encode(), base.encode(),
                                     hashlib.sha1).digest()).decode()


def x_oauth1(creds, method, url, query=(), form=(), nonce=None, ts=None,
             secret=None):
    """An Authorization header for METHOD URL signed with CREDS."""
    o = {"oauth_consumer_key": creds["consumer_key"],
         "oauth_nonce": nonce or uuid.uuid4().hex,
         "oauth_signature_method": "HMAC-SHA1",
         "oauth_timestamp": str(int(ts if ts is not None else time.time())),
         "oauth_token": creds["access_token"], "oauth_version": "1.0"}
    o["oauth_signature"] = x_sign(
        method, url, list(query) + list(form) + list(o.items()),
        secret or creds["consumer_secret"], creds["access_token_secret"])
    return "OAuth " + ", ".join('%s="%s"' % (x_pct(k), x_pct(v))
                                for k, v in sorted(o.items()))


def test_x(TP, tmp):
    # The signer this test uses reproduces the page's published value.
    doc = [("status", "Hello Ladies + Gentlemen, a signed OAuth request!"),
           ("include_entities", "true"),
           ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
           ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
           ("oauth_signature_method", "HMAC-SHA1"),
           ("oauth_timestamp", "1318622958"),
           ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
           ("oauth_version", "1.0")]
    TP.check("x: test signer gives docs.x.com's Ls93hJiZbQ3akF3HF3x1Bz8/zU4=",
          x_sign("POST", "https://api.x.com/1.1/statuses/update.json", doc,
                 "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
                 "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE")
          == "Ls93hJiZbQ3akF3HF3x1Bz8/zU4=")

    # The peer's weighted length agrees with twitter-text's own cases.
    try:
        import yaml
        import xtext
        with open(os.path.join(os.environ.get(
                "SHARED_TESTDATA", os.path.join(TP.HERE, "../../../shared/testdata")),
                "twitter-text", "validate.yml"), encoding="utf-8") as f:
            tt = yaml.safe_load(f)["tests"]
        for sec in ("WeightedTweetsWithDiscountedEmojiCounterTest",
                    "UnicodeDirectionalMarkerCounterTest"):
            bad = [c["description"] for c in tt[sec]
                   if xtext.parse(c["text"]) != (
                       c["expected"]["weightedLength"],
                       c["expected"]["valid"])]
            TP.check("x: xtext passes twitter-text's %s (%d cases)"
                  % (sec, len(tt[sec])), not bad, bad)
    except (ImportError, OSError) as e:
        print("note: twitter-text cases not run against xtext.py: %s" % e)
    # ...and with what twitter-text's parseTweet gave for 1 200 texts full
    # of links (tests/conformance/x-links.json, in the source tree).
    import xtext
    with open(os.path.join(TP.HERE, "..", "conformance", "x-links.json"),
              encoding="utf-8") as f:
        xl = json.load(f)["tests"]["XLinks"]
    bad = [c["description"] for c in xl
           if xtext.parse(c["text"]) != (c["expected"]["weightedLength"],
                                         c["expected"]["valid"])]
    TP.check("x: xtext weighs x-links.json's %d texts as twitter-text did"
             % len(xl), not bad, bad[:3])

    creds = {"consumer_key": "ck-ogp", "consumer_secret": "cs/ogp+1",
             "access_token": "1500000000000000001-at", "access_token_secret":
             "ats ogp&", "client_id": "cid-ogp", "refresh_token": "rt-0",
             "oauth2_access_token": "oat-0"}
    cf = os.path.join(tmp, "x.json")
    with open(cf, "w") as f:
        json.dump(creds, f)
    p = TP.Peer("x_mock.py", ["--credentials", cf, "--processing-polls", "2"],
             tmp)
    try:
        B = p.base
        T = B + "/2/tweets"

        def post(js, auth=None, headers=None):
            h = dict(headers or {})
            h["Authorization"] = auth or x_oauth1(creds, "POST", T)
            return TP.http("POST", T, js=js, headers=h)

        r = post({"text": "Open Gov Week starts today"})
        ok = TP.check("x: OAuth 1.0a signed post -> 201", r.status == 201, r)
        if ok:
            d = r.json["data"]
            TP.check("x: 201 data {id digits, text, edit_history_tweet_ids}",
                  d["id"].isdigit() and d["text"] ==
                  "Open Gov Week starts today" and
                  d["edit_history_tweet_ids"] == [d["id"]], d)
            TP.check("x: x-rate-limit-limit/remaining/reset (Unix seconds)",
                  r.headers.get("x-rate-limit-limit") == "100" and
                  r.headers.get("x-rate-limit-remaining") == "99" and
                  int(r.headers.get("x-rate-limit-reset", "0")) >
                  time.time(), dict(r.headers))
        unauth = {"title": "Unauthorized", "type": "about:blank",
                  "status": 401, "detail": "Unauthorized"}
        a = x_oauth1(creds, "POST", T, nonce="fixed-nonce-1")
        r = post({"text": "first with a fixed nonce"}, auth=a)
        TP.check("x: fresh nonce accepted", r.status == 201, r)
        r = post({"text": "replayed nonce"}, auth=a)
        TP.check("x: replayed nonce -> 401 X's body",
              r.status == 401 and r.json == unauth, r)
        r = post({"text": "wrong secret"},
                 auth=x_oauth1(creds, "POST", T, secret="nope"))
        TP.check("x: bad signature -> 401 X's body",
              r.status == 401 and r.json == unauth, r)
        r = post({"text": "stale"}, auth=x_oauth1(creds, "POST", T,
                                                   ts=time.time() - 400))
        TP.check("x: timestamp 400 s old -> 401", r.status == 401, r)
        r = TP.http("GET", B + "/2/users/me?user.fields=id",
                 headers={"Authorization": x_oauth1(
                     creds, "GET", B + "/2/users/me",
                     query=[("user.fields", "id")])})
        TP.check("x: query parameters are signed (GET /2/users/me)",
              r.status == 200 and r.json["data"]["username"] == "ogp", r)
        r = TP.http("GET", B + "/2/users/me?user.fields=name",
                 headers={"Authorization": x_oauth1(
                     creds, "GET", B + "/2/users/me",
                     query=[("user.fields", "id")])})
        TP.check("x: a changed query breaks the signature -> 401",
              r.status == 401, r)
        form = [("text", "form bodies are signed")]
        r = TP.http("POST", T, form=dict(form), headers={
            "Authorization": x_oauth1(creds, "POST", T, form=form)})
        TP.check("x: form parameters are signed (then 400: JSON wanted)",
              r.status == 400, r)
        r = TP.http("POST", T, form=dict(form), headers={
            "Authorization": x_oauth1(creds, "POST", T)})
        TP.check("x: form parameters left out of the signature -> 401",
              r.status == 401, r)
        reqs = TP.http("GET", B + "/_control/requests").json
        TP.check("x: /_control/requests says why auth failed",
              any(q.get("auth_error") == "nonce used before" for q in reqs)
              and any(q.get("auth_error") == "bad signature" for q in reqs),
              [q.get("auth_error") for q in reqs])

        r = post({"text": "Open Gov Week starts today"})
        TP.check("x: duplicate text -> 403 X's duplicate message",
              r.status == 403 and r.json == {
                  "detail": "You are not allowed to create a Tweet with "
                            "duplicate content.", "type": "about:blank",
                  "title": "Forbidden", "status": 403}, r)
        r = post({"text": "a" * 280})
        TP.check("x: 280 weighted -> 201", r.status == 201, r)
        r = post({"text": "b" * 281})
        TP.check("x: 281 weighted -> 400 'Your Tweet text is too long'",
              r.status == 400 and r.json["errors"][0]["message"].startswith(
                  "Your Tweet text is too long.") and
              r.json["title"] == "Invalid Request", r)
        r = post({"text": "\u958b" * 140})
        TP.check("x: 140 CJK (weight 2) -> 201", r.status == 201, r)
        r = post({"text": "\u653e" * 141})
        TP.check("x: 141 CJK -> 400", r.status == 400, r)
        url = "https://www.opengovpartnership.org/" + "p" * 300
        r = post({"text": "c" * 256 + " " + url})
        TP.check("x: a URL counts 23 (256 + 1 + 23 = 280) -> 201",
              r.status == 201, r)
        r = post({"text": "d" * 257 + " " + url})
        TP.check("x: 257 + 1 + 23 = 281 -> 400", r.status == 400, r)
        r = post({"text": "\U0001F468\u200D\U0001F469\u200D\U0001F467" * 140})
        TP.check("x: 140 ZWJ family emoji (2 each) -> 201", r.status == 201, r)
        r = post({})
        TP.check("x: neither text nor media -> 400", r.status == 400, r)
        r = post({"text": "typo", "medias": {}})
        TP.check("x: unknown field -> 400", r.status == 400, r)
        r = TP.http("POST", T, body=b'{"text": "x"}', headers={
            "Authorization": x_oauth1(creds, "POST", T),
            "Content-Type": "text/plain"})
        TP.check("x: non-JSON Content-Type -> 400", r.status == 400, r)

        # OAuth 2.0 user tokens and rotating refresh tokens.
        r = post({"text": "bearer post"}, auth="Bearer oat-0")
        TP.check("x: OAuth 2.0 bearer post -> 201", r.status == 201, r)
        TP.http("POST", B + "/_control/expire-tokens", js={})
        r = post({"text": "bearer after expiry"}, auth="Bearer oat-0")
        TP.check("x: expired bearer -> 401 X's body",
              r.status == 401 and r.json == unauth, r)
        TOK = B + "/2/oauth2/token"
        r = TP.http("POST", TOK, form={"grant_type": "refresh_token",
                                    "refresh_token": "rt-0"})
        TP.check("x: refresh without client_id -> 400", r.status == 400, r)
        r = TP.http("POST", TOK, form={"grant_type": "refresh_token",
                                    "refresh_token": "rt-0",
                                    "client_id": "cid-ogp"})
        ok = TP.check("x: refresh -> 200 bearer token, 7200 s, new refresh",
                   r.status == 200 and r.json["token_type"] == "bearer" and
                   r.json["expires_in"] == 7200 and
                   r.json["refresh_token"] != "rt-0" and
                   "offline.access" in r.json["scope"], r)
        if ok:
            at1, rt1 = r.json["access_token"], r.json["refresh_token"]
            r = TP.http("POST", TOK, form={"grant_type": "refresh_token",
                                        "refresh_token": "rt-0",
                                        "client_id": "cid-ogp"})
            TP.check("x: a used refresh token is dead -> 400 X's error",
                  r.status == 400 and r.json == {
                      "error": "invalid_request", "error_description":
                      "Value passed for the token was invalid."}, r)
            r = post({"text": "bearer after refresh"},
                     auth="Bearer " + at1)
            TP.check("x: the new access token posts", r.status == 201, r)
            r = TP.http("POST", TOK, form={"grant_type": "refresh_token",
                                        "refresh_token": rt1,
                                        "client_id": "cid-ogp"})
            TP.check("x: the rotated refresh token refreshes again",
                  r.status == 200, r)
            tk = TP.http("GET", B + "/_control/tokens").json
            TP.check("x: /_control/tokens shows the chain",
                  tk["refreshes"] == 2 and
                  tk["refresh_token"] == r.json["refresh_token"], tk)

        # Media: simple upload, alt text, then the post.
        def multipart_post(url, fields, files):
            body, ctype = TP.multipart(fields, files)
            return TP.http("POST", url, body=body, headers={
                "Authorization": x_oauth1(creds, "POST", url),
                "Content-Type": ctype})

        U = B + "/2/media/upload"
        r = multipart_post(U, [("media_category", "tweet_image")],
                           [("media", "a.png", "image/png", TP.PNG)])
        ok = TP.check("x: simple upload of a TP.PNG -> 200 data.id",
                   r.status == 200 and r.json["data"]["id"].isdigit() and
                   r.json["data"]["size"] == len(TP.PNG), r)
        mid = r.json["data"]["id"] if ok else "0"
        r = multipart_post(U, [], [("media", "a.png", "image/png", TP.PNG)])
        TP.check("x: upload without media_category -> 400", r.status == 400, r)
        r = multipart_post(U, [("media_category", "tweet_image")],
                           [("media", "a.txt", "text/plain", b"not an image")])
        TP.check("x: upload of non-image bytes -> 400", r.status == 400, r)
        r = multipart_post(U, [("media_category", "tweet_image"),
                               ("media_type", "image/jpeg")],
                           [("media", "a.png", "image/png", TP.PNG)])
        TP.check("x: media_type that lies about the bytes -> 400",
              r.status == 400, r)
        MD = B + "/2/media/metadata"
        r = TP.http("POST", MD, js={"id": mid, "metadata": {"alt_text": {
            "text": "A"* 1001}}}, headers={
            "Authorization": x_oauth1(creds, "POST", MD)})
        TP.check("x: alt text over 1000 chars -> 400", r.status == 400, r)
        r = TP.http("POST", MD, js={"id": mid, "metadata": {"alt_text": {
            "text": "Youth panel poster"}}}, headers={
            "Authorization": x_oauth1(creds, "POST", MD)})
        TP.check("x: alt text via POST /2/media/metadata -> 200",
              r.status == 200 and r.json["data"]["associated_metadata"] ==
              {"alt_text": {"text": "Youth panel poster"}}, r)
        r = post({"text": "with a picture", "media": {"media_ids": [mid]}})
        TP.check("x: post with media_ids -> 201", r.status == 201, r)
        r = post({"text": "unknown media", "media": {"media_ids": ["42"]}})
        TP.check("x: unknown media id -> 400", r.status == 400, r)
        r = post({"text": "numeric ids", "media": {"media_ids": [int(mid)]}})
        TP.check("x: media_ids as numbers -> 400", r.status == 400, r)
        tw = TP.http("GET", B + "/_control/tweets").json
        pic = [t for t in tw if t["text"] == "with a picture"]
        TP.check("x: /_control/tweets has the media with its alt text",
              len(pic) == 1 and pic[0]["media"][0]["alt_text"] ==
              "Youth panel poster" and pic[0]["auth"] == "oauth1", pic)

        # Chunked upload: an image in two segments, a video with processing.
        I = U + "/initialize"
        r = TP.http("POST", I, js={"media_type": "image/png",
                                "total_bytes": len(TP.PNG),
                                "media_category": "tweet_image"},
                 headers={"Authorization": x_oauth1(creds, "POST", I)})
        ok = TP.check("x: chunked initialize -> 200 data.id",
                   r.status == 200 and r.json["data"]["id"].isdigit(), r)
        cid = r.json["data"]["id"] if ok else "0"
        half = len(TP.PNG) // 2
        for i, part in enumerate((TP.PNG[:half], TP.PNG[half:])):
            r = multipart_post("%s/%s/append" % (U, cid),
                               [("segment_index", str(i))],
                               [("media", "blob", "application/octet-stream",
                                 part)])
            TP.check("x: append segment %d -> 200" % i, r.status == 200, r)
        r = TP.http("POST", "%s/%s/finalize" % (U, cid), headers={
            "Authorization": x_oauth1(creds, "POST",
                                      "%s/%s/finalize" % (U, cid))})
        TP.check("x: finalize an image -> 200, no processing_info",
              r.status == 200 and r.json["data"]["size"] == len(TP.PNG) and
              "processing_info" not in r.json["data"], r)
        r = post({"text": "chunked picture", "media": {"media_ids": [cid]}})
        TP.check("x: post with a chunked upload -> 201", r.status == 201, r)
        r = TP.http("POST", I, js={"media_type": "video/mp4", "total_bytes": 10,
                                "media_category": "tweet_video"},
                 headers={"Authorization": x_oauth1(creds, "POST", I)})
        vid = r.json["data"]["id"]
        multipart_post("%s/%s/append" % (U, vid), [("segment_index", "0")],
                       [("media", "blob", "video/mp4", b"0123456789")])
        F = "%s/%s/finalize" % (U, vid)
        r = TP.http("POST", F, headers={
            "Authorization": x_oauth1(creds, "POST", F)})
        TP.check("x: finalize a video -> processing_info pending",
              r.status == 200 and r.json["data"]["processing_info"] ==
              {"state": "pending", "check_after_secs": 1}, r)
        r = post({"text": "video too early", "media": {"media_ids": [vid]}})
        TP.check("x: post with unprocessed video -> 400", r.status == 400, r)
        states = []
        for _ in range(3):
            r = TP.http("GET", "%s?command=STATUS&media_id=%s" % (U, vid),
                     headers={"Authorization": x_oauth1(
                         creds, "GET", U, query=[("command", "STATUS"),
                                                 ("media_id", vid)])})
            states.append(r.json["data"]["processing_info"]["state"])
        TP.check("x: STATUS: in_progress twice, then succeeded",
              states == ["in_progress", "in_progress", "succeeded"], states)
        r = post({"text": "video ready", "media": {"media_ids": [vid]}})
        TP.check("x: post with processed video -> 201", r.status == 201, r)
        r = TP.http("POST", I, js={"media_type": "image/png", "total_bytes": 5},
                 headers={"Authorization": x_oauth1(creds, "POST", I)})
        bad = r.json["data"]["id"]
        multipart_post("%s/%s/append" % (U, bad), [("segment_index", "0")],
                       [("media", "blob", "image/png", TP.PNG)])
        F = "%s/%s/finalize" % (U, bad)
        r = TP.http("POST", F, headers={
            "Authorization": x_oauth1(creds, "POST", F)})
        TP.check("x: finalize with the wrong total_bytes -> 400",
              r.status == 400, r)

        # Replies and the recent posts lookup.
        first = [t for t in TP.http("GET", B + "/_control/tweets").json
                 if t["text"] == "Open Gov Week starts today"][0]
        r = post({"text": "thread 2/2", "reply": {
            "in_reply_to_tweet_id": first["id"]}})
        TP.check("x: reply to an existing post -> 201", r.status == 201, r)
        r = post({"text": "orphan", "reply": {
            "in_reply_to_tweet_id": "1"}})
        TP.check("x: reply to an unknown post -> 400", r.status == 400, r)
        L = B + "/2/users/1500000000000000001/tweets"
        r = TP.http("GET", L + "?max_results=5", headers={
            "Authorization": x_oauth1(creds, "GET", L,
                                      query=[("max_results", "5")])})
        TP.check("x: recent posts, newest first",
              r.status == 200 and r.json["data"][0]["text"] == "thread 2/2"
              and r.json["meta"]["result_count"] == 5, r)

        # Rate limit: spent -> 429 with the headers; the window passes.
        TP.http("POST", B + "/_control/rate-limit",
             js={"path": "/2/tweets", "limit": 2, "window": 900})
        rs = [post({"text": "rate %d" % i}) for i in range(3)]
        TP.check("x: 2 posts then 429 X's body",
              [x.status for x in rs] == [201, 201, 429] and rs[2].json == {
                  "title": "Too Many Requests", "detail": "Too Many Requests",
                  "type": "about:blank", "status": 429},
              [x.status for x in rs])
        TP.check("x: the 429 says remaining 0 and when it resets",
              rs[2].headers.get("x-rate-limit-remaining") == "0" and
              int(rs[2].headers.get("x-rate-limit-reset")) >= time.time()
              + 800, dict(rs[2].headers))
        TP.http("POST", B + "/_control/clock", js={"advance": 901})
        r = post({"text": "after the window"},
                 auth=x_oauth1(creds, "POST", T, ts=time.time() + 901))
        TP.check("x: after the window -> 201", r.status == 201, r)
        TP.http("POST", B + "/_control/clock", js={"advance": -901})
        TP.http("POST", B + "/_control/script", js=[{
            "path": "/2/tweets", "method": "POST", "status": 429}])
        r = post({"text": "scripted"})
        TP.check("x: scripted 429 gets x-rate-limit-* and X's body",
              r.status == 429 and r.json["title"] == "Too Many Requests" and
              r.headers.get("x-rate-limit-remaining") == "0", r)

        # A post made, its answer never heard.
        TP.http("POST", B + "/_control/rate-limit",
             js={"path": "/2/tweets", "limit": 100})
        TP.http("POST", B + "/_control/tweet-delay", js={"seconds": 5})
        req = urllib.request.Request(T, data=json.dumps(
            {"text": "answer lost"}).encode(), method="POST", headers={
            "Authorization": x_oauth1(creds, "POST", T),
            "Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=0.5)
            lost = False
        except OSError:
            lost = True
        # On a loaded machine the peer may get to the post after the
        # client gave up: wait for it.
        made, deadline = False, time.time() + 15
        while not made and time.time() < deadline:
            made = any(t["text"] == "answer lost" for t in TP.http(
                "GET", B + "/_control/tweets").json)
            if not made:
                time.sleep(0.1)
        TP.http("POST", B + "/_control/tweet-delay", js={"seconds": 0})
        TP.check("x: tweet-delay: the client gives up, the post exists",
              lost and made)
    finally:
        p.stop()

    # A confidential client: the token endpoint wants HTTP Basic.
    creds2 = dict(creds, client_secret="cs2")
    cf2 = os.path.join(tmp, "x2.json")
    with open(cf2, "w") as f:
        json.dump(creds2, f)
    p = TP.Peer("x_mock.py", ["--credentials", cf2], tmp)
    try:
        TOK = p.base + "/2/oauth2/token"
        form = {"grant_type": "refresh_token", "refresh_token": "rt-0"}
        r = TP.http("POST", TOK, form=form, headers={
            "Authorization": "Basic " + base64.b64encode(
                b"cid-ogp:wrong").decode()})
        TP.check("x: confidential client, bad Basic -> 401 unauthorized_client",
              r.status == 401 and r.json["error"] == "unauthorized_client", r)
        r = TP.http("POST", TOK, form=form, headers={
            "Authorization": "Basic " + base64.b64encode(
                b"cid-ogp:cs2").decode()})
        TP.check("x: confidential client, Basic -> 200", r.status == 200, r)
    finally:
        p.stop()
