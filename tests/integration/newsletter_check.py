#!/usr/bin/python3
"""Checks the messages an SMTP peer stored for a crier newsletter.

usage: newsletter_check.py MAILDIR RECIPIENTS.csv EXPECT.json

EXPECT: {"subject": str, "absent": [emails], "list_id": str,
         "reply_to": str, "unsub_mailto": str, "unsub_prefix": str,
         "from": str}
Every recipient of the CSV but the absent ones has exactly one message,
which parses under email.policy.strict, has a text/plain and a text/html
part with the recipient's own name and unsubscribe URL, and the headers.
"""
import collections, csv, email, email.policy, email.utils, json, os, re, sys

maildir, rcsv, expect = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
want = {}
with open(rcsv, newline="") as f:
    for row in csv.reader(f):
        if not row or row[0] == "email" or row[0].startswith("#"):
            continue
        if not re.fullmatch(r"[^@\s]+@[A-Za-z0-9.-]+", row[0]):
            continue    # a bad line crier reports and skips
        want.setdefault(row[0].lower(), row[1] if len(row) > 1 else "")
absent = {a.lower() for a in expect.get("absent", [])}
meta = json.load(open(os.path.join(maildir, "index.json")))
got = collections.Counter(r.lower() for m in meta for r in m["rcpt_tos"])
for m in meta:
    assert len(m["rcpt_tos"]) == 1, ("one recipient per message", m)
for a in absent:
    assert got[a] == 0, ("should get nothing", a, got[a])
for a in want:
    if a in absent:
        continue
    assert got[a] == 1, ("exactly one message", a, got[a])
assert set(got) <= set(want), ("unknown recipients", set(got) - set(want))
ids = set()
for m in meta:
    raw = open(m["file"], "rb").read()
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998, "line over 998"
    msg = email.message_from_bytes(raw, policy=email.policy.strict)
    assert not msg.defects, msg.defects
    rcpt = m["rcpt_tos"][0].lower()
    for h in ("Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
              "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
        assert msg[h] is not None, ("missing header", h)
    assert email.utils.parsedate_to_datetime(str(msg["Date"])) is not None
    assert str(msg["Subject"]) == expect["subject"], (str(msg["Subject"]), expect["subject"])
    to = msg["To"].addresses[0]
    assert to.addr_spec.lower() == rcpt, (to.addr_spec, rcpt)
    assert to.display_name == want[rcpt], (to.display_name, want[rcpt])
    assert msg["From"].addresses[0].addr_spec == expect["from"], str(msg["From"])
    assert m["mail_from"] == expect["from"], m["mail_from"]
    if expect.get("reply_to"):
        assert msg["Reply-To"].addresses[0].addr_spec == expect["reply_to"]
    mid = str(msg["Message-ID"])
    assert mid.startswith("<") and mid.endswith(">") and mid not in ids, mid
    ids.add(mid)
    assert str(msg["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert expect["list_id"] in str(msg["List-Id"]), str(msg["List-Id"])
    lu = str(msg["List-Unsubscribe"])
    url = expect["unsub_prefix"] + rcpt.replace("@", "%40") if "%40" in expect["unsub_prefix"] else None
    assert lu.startswith("<" + expect["unsub_prefix"]), lu
    if expect.get("unsub_mailto"):
        assert "<mailto:" + expect["unsub_mailto"] in lu, lu
    assert msg.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p for p in msg.iter_parts()}
    assert set(parts) == {"text/plain", "text/html"}, set(parts)
    for ct, p in parts.items():
        assert p.get_content_charset() == "utf-8"
        assert p["Content-Transfer-Encoding"] in ("quoted-printable", "base64")
        body = p.get_content()
        name = want[rcpt]
        shown = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;") if ct == "text/html" else name
        assert ("Hello " + shown + ",") in body, (ct, rcpt, body[:300])
        unsub = lu[1:lu.index(">")]
        assert unsub.replace("&", "&amp;" if ct == "text/html" else "&") in body, (ct, unsub)
        assert rcpt.split("@")[0] in unsub, (unsub, rcpt)
    for part in raw.split(b"\r\n\r\n", 1)[1].split(b"\r\n"):
        assert len(part) <= 76 or not part.strip(), ("body line over 76", part[:80])
print("%d messages checked" % len(meta))
