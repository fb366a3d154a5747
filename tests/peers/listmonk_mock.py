#!/usr/bin/python3
"""listmonk (>= v4) campaigns API test peer for crier (Python 3 stdlib only).

Run:  /usr/bin/python3 listmonk_mock.py --port-file F --users-file U
          [--lists "1:Newsletter,2:Press"] [--lifetime S] [--tls CERT KEY]

Built on httpmock.py (MockHandler subclass, main(handler=...)): the
/_control/script, /_control/requests and /_control/reset endpoints work as
documented there, and a scripted spec whose method/path match a request
wins over the emulation below.

Doc pages and code read:
  listmonk.app/docs/apis/apis/        (auth: API users, "token user:token")
  listmonk.app/docs/apis/campaigns/   (the campaign endpoints and fields)
  listmonk.app/docs/roles-and-permissions/
  github.com/knadh/listmonk: cmd/campaigns.go (validateCampaignFields,
  GetCampaigns), internal/core/campaigns.go (UpdateCampaignStatus),
  internal/auth/auth.go (Middleware, parseAuthHeader), queries/
  campaigns.sql (query-campaigns), i18n/en.json (the messages below).

Rules enforced (errors are {"message": "..."}, success {"data": ...})
------------------------------------------------------------------------
  * Auth: "Authorization: token USER:TOKEN" (or Basic USER:TOKEN, kept for
    compatibility).  The users file has "USER TOKEN PERM[,PERM...]" lines
    (perms such as campaigns:get_all, campaigns:manage_all, or "*" for a
    super admin).  No header: 403 "invalid session"; another scheme: 403
    "unknown Authorization scheme"; wrong user or token: 403 "invalid API
    credentials"; a missing permission: 403 "Permission denied: PERM".
  * POST /api/campaigns (JSON), checked in listmonk's order: name 1..2000
    characters ("Invalid length for name."), subject 1..5000 ("Invalid
    length for subject."), content_type outside richtext|html|markdown|
    plain|visual becomes richtext, send_at -- RFC 3339 with an offset, as
    Go parses it (else 400 'parsing time ...'), in the future ("Scheduled
    date should be in the future."), lists non-empty and existing ("Invalid
    list IDs."), body a valid Go template as far as
    {{ }} pairing goes ("Error compiling campaign body: ...").  The
    campaign starts as "draft"; answer {"data": CAMPAIGN}.  A type other
    than regular|optin fails in PostgreSQL's enum: 500.
  * PUT /api/campaigns/{id}/status {"status": S}, as UpdateCampaignStatus:
    scheduled only from draft or paused ("Only draft or paused campaigns
    can be scheduled.") and only with send_at ("Campaign needs a date to be
    scheduled."); running from paused or draft; paused from running;
    cancelled from running or paused; draft from scheduled.
  * A scheduled campaign whose send_at has passed (peer clock) is shown
    "running", and "finished" 60 s later, with started_at set.
  * GET /api/campaigns: ?tag=T (repeatable: every tag must be on the
    campaign) -- the code reads "tag" although the doc's table says
    "tags"; an unknown parameter such as "tags" is ignored, as listmonk
    does, so a client filtering with it gets every campaign.  ?query=Q
    matches name or subject (case-insensitive substring, as the ILIKE
    branch), ?status=S (repeatable), page and per_page (default 20,
    "all").  Answer {"data": {"results", "query", "total", "per_page",
    "page"}}.
  * GET /api/campaigns/{id}: {"data": CAMPAIGN}; unknown: 404 "Campaign
    not found."  DELETE /api/campaigns/{id}.  GET /api/lists.
  * No idempotency key: a repeated POST creates a second campaign, so a
    client must look its tag up first.

Control (besides httpmock's):
  GET  /_control/campaigns   every campaign, with "created_by"
  POST /_control/clock       {"advance": SECONDS}
  POST /_control/create-delay {"seconds": S}: POST /api/campaigns creates
       the campaign at once and answers S seconds later
  POST /_control/reset-all   also forgets campaigns
"""

import argparse
import base64
import datetime
import json
import os
import re
import sys
import threading
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpmock  # noqa: E402
from peerlib import Clock  # noqa: E402

CONTENT_TYPES = ("richtext", "html", "markdown", "plain", "visual")
STD_INPUT_MAX = 2000
SUBJECT_MAX = 5000
RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
FINISH_AFTER = 60


def msg(status, message):
    return {"status": status, "body": {"message": message}}


def parse_time(s):
    """Go's time.Time JSON parsing (RFC 3339): a datetime, or ValueError."""
    if not isinstance(s, str) or not RFC3339_RE.match(s):
        raise ValueError('parsing time "%s" as "2006-01-02T15:04:05Z07:00": '
                         'cannot parse' % (s,))
    s2 = s.replace("Z", "+00:00")
    m = re.match(r"^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$", s2)
    frac = (m.group(2) or "")[:7].ljust(7, "0") if m.group(2) else ""
    return datetime.datetime.fromisoformat(m.group(1) + frac + m.group(3))


def iso(ts):
    return datetime.datetime.fromtimestamp(
        ts, datetime.timezone.utc).isoformat(timespec="microseconds")


def template_error(body):
    """Why Go's text/template would refuse BODY's actions, or None."""
    depth = 0
    i = 0
    # Go's lexer looks for "{{" only: a "}}" in text is literal text.
    while True:
        o = body.find("{{", i)
        if o == -1:
            break
        q = body.find('"', o + 2)
        e = body.find("}}", o + 2)
        if q != -1 and e != -1 and q < e:
            # A quoted string in the action (such as {{"{{"}}) may hold
            # delimiters: the action ends at the first "}}" after it.
            qe = body.find('"', q + 1)
            if qe != -1:
                e = body.find("}}", qe + 1)
        if e == -1:
            return "template: content:1: unclosed action"
        inner = body[o + 2:e].strip(" -")
        if inner == "":
            return "template: content:1: missing value for command"
        word = inner.split()[0]
        if word in ("if", "range", "with", "define", "block"):
            depth += 1
        elif word == "end":
            depth -= 1
            if depth < 0:
                return "template: content:1: unexpected {{end}}"
        i = e + 2
    if depth > 0:
        return "template: content:1: unexpected EOF"
    return None


class App:
    def __init__(self, args):
        self.args = args
        self.users = {}       # user -> (token, set of perms)
        with open(args.users_file) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and not parts[0].startswith("#"):
                    perms = set(parts[2].split(",")) if len(parts) > 2 \
                        else {"*"}
                    self.users[parts[0]] = (parts[1], perms)
        if not self.users:
            raise SystemExit("listmonk_mock: no user in %s" % args.users_file)
        self.lists = {}
        for item in args.lists.split(","):
            lid, _, name = item.partition(":")
            self.lists[int(lid)] = name or "List %s" % lid
        self.clock = Clock()
        self.lock = threading.RLock()
        self.reset()

    def reset(self):
        with self.lock:
            self.campaigns = {}
            self.next_id = 0
            self.create_delay = 0.0


APP = None


class ListmonkHandler(httpmock.MockHandler):
    server_version = "listmonk-mock/1"

    def user(self):
        """(user, perms) or an error spec, as auth.Middleware decides."""
        hdr = self.headers.get("Authorization", "").strip()
        if not hdr:
            return None, msg(403, "invalid session")
        if hdr.startswith("token"):
            pair = hdr[len("token"):].strip().split(":", 1)
        elif hdr.startswith("Basic"):
            try:
                pair = base64.b64decode(hdr[len("Basic"):].strip(),
                                        validate=True).decode().split(":", 1)
            except ValueError:
                return None, msg(403, "invalid Base64 value in Basic "
                                 "Authorization header")
        else:
            return None, msg(403, "unknown Authorization scheme")
        if len(pair) < 2:
            return None, msg(403, "api_key:token missing")
        if not pair[0] or not pair[1]:
            return None, msg(403, "empty `api_key` or `token`")
        u = APP.users.get(pair[0])
        if u is None or u[0] != pair[1]:
            return None, msg(403, "invalid API credentials")
        return (pair[0], u[1]), None

    def allowed(self, perms, *want):
        if "*" in perms or any(p in perms for p in want):
            return None
        return msg(403, "Permission denied: %s" % want[0])

    def current(self, c):
        """The campaign as listmonk would show it now."""
        if c["status"] == "scheduled" and c["send_at"]:
            start = parse_time(c["send_at"]).timestamp()
            now = APP.clock.now()
            if now >= start:
                c["status"] = "running"
                c["started_at"] = iso(start)
        if c["status"] == "running" and c["started_at"] and \
                APP.clock.now() >= parse_time(c["started_at"]).timestamp() + \
                FINISH_AFTER:
            c["status"] = "finished"
            c["sent"] = c["to_send"]
        return dict(c)

    def route(self, rec):
        path = rec["path"]
        if not path.startswith("/api/"):
            return None
        spec = self.state.take(self.command, path)
        if spec is not None:
            return spec
        who, err = self.user()
        if err:
            return err
        _, perms = who
        m = re.match(r"^/api/campaigns(?:/(\d+))?(/status)?$", path)
        try:
            if path == "/api/lists" and self.command == "GET":
                return {"status": 200, "body": {"data": {"results": [
                    {"id": k, "name": v} for k, v in sorted(
                        APP.lists.items())], "total": len(APP.lists)}}}
            if not m:
                return msg(404, "Not Found")
            cid, status = m.group(1), m.group(2)
            if cid is None and self.command == "GET":
                return self.allowed(perms, "campaigns:get_all",
                                    "campaigns:get") or \
                    self.query(rec["query"])
            if cid is None and self.command == "POST":
                spec = self.allowed(perms, "campaigns:manage_all",
                                    "campaigns:manage") or \
                    self.create(who[0])
                if APP.create_delay > 0 and spec["status"] == 200:
                    spec = dict(spec, delay=APP.create_delay)
                return spec
            if cid is not None:
                return self.one(int(cid), status is not None, perms)
        except ValueError as e:
            return msg(400, str(e))
        return msg(405, "Method Not Allowed")

    def body_json(self):
        try:
            data = json.loads(self.rfile_body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError("code=400, message=Syntax error: %s" % e)
        if not isinstance(data, dict):
            raise ValueError("code=400, message=Unmarshal type error: "
                             "expected an object")
        return data

    def read_body(self):
        body = super().read_body()
        self.rfile_body = body
        return body

    def create(self, user):
        d = self.body_json()
        ctype = d.get("content_type") or "richtext"
        if ctype not in CONTENT_TYPES:
            ctype = "richtext"
        send_at = d.get("send_at")
        if send_at is not None:
            when = parse_time(send_at)       # ValueError -> 400, as Bind
        lists = d.get("lists") or []
        if not isinstance(lists, list) or \
                not all(isinstance(x, int) for x in lists):
            raise ValueError("code=400, message=Unmarshal type error: lists "
                             "must be numbers")
        name, subject = d.get("name") or "", d.get("subject") or ""
        if not 1 <= len(name) <= STD_INPUT_MAX:
            return msg(400, "Invalid length for name.")
        if not 1 <= len(subject) <= SUBJECT_MAX:
            return msg(400, "Invalid length for subject.")
        if send_at is not None and \
                when.timestamp() < APP.clock.now():
            return msg(400, "Scheduled date should be in the future.")
        lists = [x for x in lists if x in APP.lists]
        if not lists:
            return msg(400, "Invalid list IDs.")
        if d.get("type") not in (None, "", "regular", "optin"):
            # Not validated by listmonk: PostgreSQL's enum refuses it.
            return msg(500, "Error creating campaign: pq: invalid input "
                       "value for enum campaign_type: \"%s\"" % d["type"])
        body = d.get("body") or ""
        terr = template_error(body)
        if terr:
            return msg(400, "Error compiling campaign body: %s" % terr)
        tags = d.get("tags") or []
        if not isinstance(tags, list) or \
                not all(isinstance(t, str) for t in tags):
            raise ValueError("code=400, message=Unmarshal type error: tags "
                             "must be strings")
        now = iso(APP.clock.now())
        with APP.lock:
            APP.next_id += 1
            c = {"id": APP.next_id, "created_at": now, "updated_at": now,
                 "views": 0, "clicks": 0, "bounces": 0,
                 "lists": [{"id": x, "name": APP.lists[x]} for x in lists],
                 "started_at": None, "to_send": 100, "sent": 0,
                 "uuid": str(uuid.uuid4()), "type": d.get("type") or
                 "regular", "name": name, "subject": subject,
                 "from_email": d.get("from_email") or
                 "listmonk <noreply@listmonk.test>",
                 "body": body, "altbody": d.get("altbody"),
                 "send_at": send_at, "status": "draft",
                 "content_type": ctype, "tags": tags,
                 "template_id": d.get("template_id") or 1,
                 "messenger": d.get("messenger") or "email",
                 "headers": d.get("headers") or [], "created_by": user}
            APP.campaigns[c["id"]] = c
            out = self.current(c)
        out.pop("created_by")
        return {"status": 200, "body": {"data": out}}

    def one(self, cid, status, perms):
        with APP.lock:
            c = APP.campaigns.get(cid)
            if c is None:
                return msg(404, "Campaign not found.")
            if self.command == "GET" and not status:
                err = self.allowed(perms, "campaigns:get_all",
                                   "campaigns:get")
                return err or {"status": 200, "body": {
                    "data": self.public(c)}}
            err = self.allowed(perms, "campaigns:manage_all",
                               "campaigns:manage")
            if err:
                return err
            if self.command == "DELETE" and not status:
                del APP.campaigns[cid]
                return {"status": 200, "body": {"data": True}}
            if self.command != "PUT" or not status:
                return msg(405, "Method Not Allowed")
            want = self.body_json().get("status")
            cur = self.current(c)["status"]
            err = None
            if want == "draft" and cur != "scheduled":
                err = "Only scheduled campaigns can be saved as drafts."
            elif want == "scheduled":
                if cur not in ("draft", "paused"):
                    err = "Only draft or paused campaigns can be scheduled."
                if not c["send_at"]:
                    err = "Campaign needs a date to be scheduled."
            elif want == "running" and cur not in ("paused", "draft"):
                err = "Only paused campaigns and drafts can be started."
            elif want == "paused" and cur != "running":
                err = "Only active campaigns can be paused."
            elif want == "cancelled" and cur not in ("running", "paused"):
                err = "Only active campaigns can be cancelled."
            elif want not in ("draft", "scheduled", "running", "paused",
                              "cancelled"):
                err = "Invalid status %r" % (want,)
            if err:
                return msg(400, err)
            c["status"] = want
            c["updated_at"] = iso(APP.clock.now())
            if want == "running":
                c["started_at"] = iso(APP.clock.now())
            return {"status": 200, "body": {"data": self.public(c)}}

    def public(self, c):
        out = self.current(c)
        out.pop("created_by", None)
        return out

    def query(self, qs):
        q = urllib.parse.parse_qs(qs, keep_blank_values=True)
        tags = q.get("tag", [])
        statuses = q.get("status", [])
        text = (q.get("query", [""])[0]).strip().lower()
        per_page = q.get("per_page", ["20"])[0]
        page = max(1, int(q.get("page", ["1"])[0] or 1))
        with APP.lock:
            rows = [self.public(c) for c in sorted(
                APP.campaigns.values(), key=lambda c: c["id"], reverse=True)]
        rows = [c for c in rows
                if all(t in c["tags"] for t in tags) and
                (not statuses or c["status"] in statuses) and
                (not text or text in (c["name"] + " " +
                                      c["subject"]).lower())]
        total = len(rows)
        if per_page == "all":
            n, shown = total, rows
        else:
            n = max(1, int(per_page))
            shown = rows[(page - 1) * n:page * n]
        return {"status": 200, "body": {"data": {
            "results": shown, "query": text, "total": total,
            "per_page": n, "page": page}}}

    def control(self, url, body):
        p, m = url.path, self.command
        try:
            arg = json.loads(body or b"{}") if m == "POST" else {}
        except ValueError as e:
            self.respond({"status": 400, "body": {"error": str(e)}})
            return
        if p == "/_control/campaigns" and m == "GET":
            with APP.lock:
                self.respond({"status": 200, "body": [
                    self.current(c) for c in APP.campaigns.values()]})
        elif p == "/_control/clock" and m == "POST":
            self.respond({"status": 200, "body": {
                "offset": APP.clock.advance(float(arg.get("advance", 0)))}})
        elif p == "/_control/create-delay" and m == "POST":
            APP.create_delay = float(arg.get("seconds", 0))
            self.respond({"status": 200,
                          "body": {"seconds": APP.create_delay}})
        elif p == "/_control/reset-all" and m == "POST":
            self.state.reset()
            APP.reset()
            self.respond({"status": 200, "body": {"ok": True}})
        else:
            super().control(url, body)


def parse_args(argv):
    p = argparse.ArgumentParser(description="listmonk API test peer",
                                epilog="Other options go to httpmock.py "
                                       "(--port-file, --lifetime, --tls).")
    p.add_argument("--users-file", required=True)
    p.add_argument("--lists", default="1:Newsletter,2:Press")
    return p.parse_known_args(argv)


def main(argv=None):
    global APP
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    APP = App(args)
    return httpmock.main(rest, handler=ListmonkHandler)


if __name__ == "__main__":
    sys.exit(main())
