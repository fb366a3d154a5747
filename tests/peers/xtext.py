"""X's weighted post length, twitter-text v3 (Python 3 stdlib only).

The rules (github.com/twitter/twitter-text, config/v3.json and the parser in
js/src/parseTweet.js; docs.x.com/resources/fundamentals/counting-characters):
  * the text is NFC-normalised first;
  * every URL counts transformedURLLength = 23, whatever its length;
  * an emoji sequence (one grapheme cluster holding an emoji: a pictograph
    at or above U+2000, a pictograph below it with U+FE0F, a regional-
    indicator pair, a keycap U+20E3) counts 2;
  * every other code point counts 1 in the ranges U+0000-U+10FF,
    U+2000-U+200D, U+2010-U+201F, U+2032-U+2037, and 2 elsewhere (CJK...);
  * U+FFFE, U+FEFF and U+FFFF make a text invalid;
  * valid: 0 < weighted length <= 280 (maxWeightedTweetLength).
URLs are found as twitter-text does, approximately: "http://" or "https://"
not preceded by a word character or one of @ $ # / .; the URL runs to white
space, trailing punctuation and unbalanced closing brackets are left out;
every host label must be at most 63 characters in its ASCII (Punycode) form,
or it is no URL.  Protocol-less URLs ("example.com", "www.example.com",
which twitter-text's urls_without_protocol cases accept) are counted when
their last label is one of a short list of common TLDs.  peerlib's UAX #29
approximation makes the grapheme clusters.
"""

import re
import unicodedata

from peerlib import _pictographic, grapheme_clusters

MAX_WEIGHTED = 280
URL_WEIGHT = 23
REFUSED = (0xFFFE, 0xFEFF, 0xFFFF)

_PROTO_RE = re.compile(r"https?://", re.IGNORECASE)
_BARE_RE = re.compile(r"(?:[^\W_](?:[\w-]*[^\W_])?\.)+([a-z]{2,6})"
                      r"(?=[/?#:\s]|$|[.,;:!?'*)\]])", re.IGNORECASE)
# A short list: twitter-text carries every IANA TLD.
_BARE_TLDS = set("""com org net edu gov mil int info biz io co uk de fr jp
eu us ca au nz es it nl be ch at se no dk fi pl pt ie br in cn ru mx ar za
kr tv me app dev""".split())
_TRAIL = ".,;:!?'*"


def _cp_weight(cp):
    if cp <= 4351 or 8192 <= cp <= 8205 or 8208 <= cp <= 8223 or \
            8242 <= cp <= 8247:
        return 1
    return 2


def _label_ok(label):
    if not label or len(label) > 63:
        return False
    if all(ord(c) < 128 for c in label):
        return True
    try:
        return len("xn--" + label.encode("punycode").decode()) <= 63
    except UnicodeError:
        return False


def _host_ok(host):
    return all(_label_ok(label) for label in host.split("."))


def _is_word(ch):
    return ch.isalnum() or ch == "_" or \
        unicodedata.category(ch) in ("Mn", "Mc", "Me", "Pc")


def _url_end(text, host):
    """End of the URL whose host starts at HOST, trimmed as twitter-text."""
    j = host
    while j < len(text):
        c = text[j]
        cat = unicodedata.category(c)
        if ord(c) <= 0x20 or c in '<>"\x7f' or cat in ("Zs", "Zl", "Zp",
                                                       "Cc", "Cf"):
            break
        j += 1
    end = j
    seg = text[host:end]
    paren = seg.count("(") - seg.count(")")
    brack = seg.count("[") - seg.count("]")
    while end > host:
        c = text[end - 1]
        if c in _TRAIL:
            end -= 1
        elif c == ")" and paren < 0:
            paren += 1
            end -= 1
        elif c == "]" and brack < 0:
            brack += 1
            end -= 1
        else:
            break
    return end


def url_spans(text):
    """(start, end) of every URL in TEXT, left to right, not overlapping."""
    spans = []
    for m in _PROTO_RE.finditer(text):
        start = m.start()
        if spans and start < spans[-1][1]:
            continue
        prev = text[start - 1] if start > 0 else ""
        if prev and (_is_word(prev) or prev in "@$#/."):
            continue
        host = m.end()
        end = _url_end(text, host)
        if end == host or not (text[host].isalnum() or text[host] == "_"):
            continue
        hend = host
        while hend < end and text[hend] not in "/?#:":
            hend += 1
        if not _host_ok(text[host:hend]):
            continue
        spans.append((start, end))
    for m in _BARE_RE.finditer(text):
        start = m.start()
        if any(s <= start < e or s < m.end() <= e for s, e in spans):
            continue
        prev = text[start - 1] if start > 0 else ""
        if prev and (_is_word(prev) or prev in "@$#/.-"):
            continue
        if m.group(1).lower() not in _BARE_TLDS:
            continue
        end = _url_end(text, start)
        hend = start
        while hend < end and text[hend] not in "/?#:":
            hend += 1
        if not _host_ok(text[start:hend]):
            continue
        spans.append((start, end))
    spans.sort()
    return spans


def _is_emoji(cluster):
    vs16 = "\ufe0f" in cluster
    for ch in cluster:
        cp = ord(ch)
        if cp == 0x20E3 or 0x1F1E6 <= cp <= 0x1F1FF:
            return True
        if _pictographic(cp) and (cp >= 0x2000 or vs16):
            return True
    return False


def _segment_weight(s):
    total = 0
    for cluster in grapheme_clusters(s):
        if _is_emoji(cluster):
            total += 2
        else:
            total += sum(_cp_weight(ord(c)) for c in cluster)
    return total


def weighted_length(text):
    """X's weighted length of TEXT."""
    text = unicodedata.normalize("NFC", text)
    total, pos = 0, 0
    for start, end in url_spans(text):
        total += _segment_weight(text[pos:start]) + URL_WEIGHT
        pos = end
    return total + _segment_weight(text[pos:])


def parse(text, limit=MAX_WEIGHTED):
    """(weighted length, valid) as twitter-text's parseTweet gives them."""
    n = weighted_length(text)
    refused = any(ord(c) in REFUSED for c in text)
    return n, (0 < n <= limit and not refused)
