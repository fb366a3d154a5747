"""Helpers shared by crier's test peers (Python 3 stdlib only).

- graphemes(text): number of extended grapheme clusters, approximating
  Unicode UAX #29 with the unicodedata module (the stdlib has no grapheme
  segmenter).  Implemented rules: GB3 (CR LF), GB4/GB5 (controls break),
  GB6-GB8 (Hangul L/V/T/LV/LVT), GB9 (Extend = Mn, Me, ZWNJ, emoji
  modifiers U+1F3FB..1F3FF, tags U+E0020..E007F, halfwidth voiced marks;
  and ZWJ), GB9a (SpacingMark ~ Mc), GB11 (emoji ZWJ sequences, with
  Extended_Pictographic approximated by the main emoji blocks) and
  GB12/GB13 (regional-indicator pairs).  Not implemented: GB9b (Prepend)
  and GB9c (Indic conjuncts, Unicode 15.1).  Good enough for emoji with
  skin tones, ZWJ families, flags, combining accents, Hangul and Indic
  vowel signs, which is what the tests use.
- Clock: time.time() plus an offset the control endpoints can move
  forward, so tests can "wait an hour" (idempotency keys, token expiry).
- cid_raw()/cid_json(): CIDv1 strings (base32 "b...") over SHA-256:
  raw codec (0x55) for blobs, which is what a PDS returns for uploadBlob;
  dag-cbor codec (0x71) over canonical JSON for records (not real
  DAG-CBOR bytes: the mock only needs stable, distinct CIDs).
- is_tid(), make_tid(): atproto TIDs, per https://atproto.com/specs/tid
  (13 chars of base32-sortable "234567abcdefghijklmnopqrstuvwxyz", the
  first one in "234567abcdefghij" because the top bit is 0).
"""

import base64
import hashlib
import json
import re
import threading
import time
import unicodedata


# --- clock ------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.offset = 0.0
        self.lock = threading.Lock()

    def now(self):
        with self.lock:
            return time.time() + self.offset

    def advance(self, seconds):
        with self.lock:
            self.offset += float(seconds)
            return self.offset


# --- graphemes --------------------------------------------------------------

_CR, _LF, _CONTROL, _EXTEND, _ZWJ, _RI, _SPACING, _L, _V, _T, _LV, _LVT, \
    _PICT, _OTHER = range(14)


def _pictographic(cp):
    return (0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or
            0x2300 <= cp <= 0x23FF or 0x2B00 <= cp <= 0x2BFF or
            0x2190 <= cp <= 0x21FF or 0x1FC00 <= cp <= 0x1FFFD or
            cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030,
                   0x303D, 0x3297, 0x3299, 0x24C2, 0x25AA, 0x25AB, 0x25B6,
                   0x25C0, 0x25FB, 0x25FC, 0x25FD, 0x25FE))


def _gcb(ch):
    cp = ord(ch)
    if cp == 0x0D:
        return _CR
    if cp == 0x0A:
        return _LF
    if cp == 0x200D:
        return _ZWJ
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _RI
    if (cp == 0x200C or 0x1F3FB <= cp <= 0x1F3FF or
            0xE0020 <= cp <= 0xE007F or cp in (0xFF9E, 0xFF9F)):
        return _EXTEND
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _T
    if 0xAC00 <= cp <= 0xD7A3:
        return _LV if (cp - 0xAC00) % 28 == 0 else _LVT
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me"):
        return _EXTEND
    if cat == "Mc":
        return _SPACING
    if cat in ("Cc", "Zl", "Zp") or (cat == "Cf" and cp not in (0x200C,)):
        return _CONTROL
    if _pictographic(cp):
        return _PICT
    return _OTHER


def grapheme_clusters(text):
    """Splits TEXT into (approximate) extended grapheme clusters."""
    out = []
    cur = ""
    prev = None
    ri_run = 0          # regional indicators in a row before this char
    pict_zwj = False    # ExtPict Extend* ZWJ just seen (GB11)
    pict_open = False   # ExtPict Extend* seen
    for ch in text:
        c = _gcb(ch)
        brk = True
        if prev is None:
            brk = True
        elif prev == _CR and c == _LF:
            brk = False
        elif prev in (_CR, _LF, _CONTROL) or c in (_CR, _LF, _CONTROL):
            brk = True
        elif prev == _L and c in (_L, _V, _LV, _LVT):
            brk = False
        elif prev in (_LV, _V) and c in (_V, _T):
            brk = False
        elif prev in (_LVT, _T) and c == _T:
            brk = False
        elif c in (_EXTEND, _ZWJ, _SPACING):
            brk = False
        elif prev == _ZWJ and c == _PICT and pict_zwj:
            brk = False
        elif prev == _RI and c == _RI and ri_run % 2 == 1:
            brk = False
        # State for GB11 and GB12/13.
        if c == _PICT:
            pict_open, pict_zwj = True, False
        elif c == _EXTEND and pict_open:
            pict_zwj = False
        elif c == _ZWJ and pict_open:
            pict_zwj = True
        else:
            pict_open = pict_zwj = False
        ri_run = ri_run + 1 if c == _RI else 0
        if brk and cur:
            out.append(cur)
            cur = ""
        cur += ch
        prev = c
    if cur:
        out.append(cur)
    return out


def graphemes(text):
    return len(grapheme_clusters(text))


# --- CIDs and TIDs ----------------------------------------------------------

def _b32(data):
    return base64.b32encode(data).decode().lower().rstrip("=")


def cid_raw(data):
    """CIDv1, raw codec, sha2-256, base32: what uploadBlob returns."""
    return "b" + _b32(bytes([0x01, 0x55, 0x12, 0x20]) +
                      hashlib.sha256(data).digest())


def cid_json(obj):
    """A stable CIDv1 (dag-cbor codec tag) over canonical JSON."""
    data = json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()
    return "b" + _b32(bytes([0x01, 0x71, 0x12, 0x20]) +
                      hashlib.sha256(data).digest())


CID_RE = re.compile(r"^b[a-z2-7]{20,}$")

TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")


def is_tid(s):
    return isinstance(s, str) and bool(TID_RE.match(s))


_tid_lock = threading.Lock()
_tid_last = [0]


def make_tid(clock_id=0):
    """A fresh, strictly increasing TID (microseconds << 10 | clock id)."""
    with _tid_lock:
        us = int(time.time() * 1_000_000)
        if us <= _tid_last[0]:
            us = _tid_last[0] + 1
        _tid_last[0] = us
    v = (us << 10) | (clock_id & 0x3FF)
    out = ""
    for _ in range(13):
        out = TID_ALPHABET[v & 31] + out
        v >>= 5
    return out


def iso_utc(t, ms=True):
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    if ms:
        s += ".%03d" % int((t % 1) * 1000)
    return s + "Z"
