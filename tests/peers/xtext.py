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
URLs are found as twitter-text 3.1.0's extractUrlsWithIndices finds them:
its regular expressions (regexp/extractUrl.js and the patterns it is made
of) written out again here, with and without a scheme, a known top-level
domain needed (the list is twitter-text's, as crier carries it in
daemon/tlds.c), a domain's ASCII part only when it has no scheme, every
label at most 63 characters in its Punycode form, t.co slugs at most 40.
peerlib's UAX #29 approximation makes the grapheme clusters.
"""

import os
import re
import unicodedata

from peerlib import _pictographic, grapheme_clusters

MAX_WEIGHTED = 280
URL_WEIGHT = 23
REFUSED = (0xFFFE, 0xFEFF, 0xFFFF)



def _tlds():
    """X's top-level domains, longest first, from crier's copy of twitter-text's list."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "daemon", "tlds.c")
    with open(src, encoding="utf-8") as f:
        body = f.read().split("tlds[] = {", 1)[1].split("};", 1)[0]
    names = [n.encode("latin-1").decode("unicode_escape").encode("latin-1")
             .decode("utf-8") for n in re.findall(r'"([^"]*)"', body)]
    return sorted(names, key=len, reverse=True)


_PUNCT = r"!'#%&'()*+,\\\-./:;<=>?@\[\]^_{|}~$"
_SPACES = "\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_INVALID = "\uFFFE\uFEFF\uFFFF"
_DIRECTIONAL = "\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"
_LATIN = ("\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257"
          "\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB"
          "\u0300-\u036F\u1E00-\u1EFF")
_CYRILLIC = "\u0400-\u04FF"
_DC = "[^" + _PUNCT + _SPACES + _INVALID + _DIRECTIONAL + "]"
_TLD = ("(?:(?:" + "|".join(re.escape(t) for t in _tlds()) +
        ")(?=[^0-9a-zA-Z@+-]|$))")
_PUNYCODE = "(?:xn--[\\-0-9a-z]+)"
_DOMAIN = ("(?:(?:(?:" + _DC + "(?:[_-]|" + _DC + ")*)?" + _DC + "\\.)*"
           "(?:(?:" + _DC + "(?:-|" + _DC + ")*)?" + _DC + "\\.)"
           "(?:" + _TLD + "|" + _PUNYCODE + "))")
_ASCII_DOMAIN = re.compile("(?:(?:[\\-a-z0-9" + _LATIN + "]+)\\.)+(?:" + _TLD +
                           "|" + _PUNYCODE + ")", re.I)
_PRECEDING = ("(?:[^A-Za-z0-9@\uFF20$#\uFF03" + _INVALID + "]|[" + _DIRECTIONAL +
              "]|^)")
_G = "[a-z" + _CYRILLIC + "0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~@|&" + _LATIN + "]"
_BALANCED = ("\\((?:" + _G + "+|(?:" + _G + "*\\(" + _G + "+\\)" + _G + "*))\\)")
_ENDING = "(?:[+\\-a-z" + _CYRILLIC + "0-9=_#/" + _LATIN + "]|(?:" + _BALANCED + "))"
_PATH = ("(?:(?:" + _G + "*(?:" + _BALANCED + _G + "*)*" + _ENDING + ")|(?:@" + _G +
         "+/))")
_QUERY = "[a-z0-9!?*'@();:&=+$/%#\\[\\]\\-_.,~|]"
_QUERY_END = "[a-z0-9\\-_&=#/]"
_EXTRACT = re.compile("((" + _PRECEDING + ")((https?://)?(" + _DOMAIN + ")"
                      "(?::([0-9]+))?(/" + _PATH + "*)?(\\?" + _QUERY + "*" +
                      _QUERY_END + ")?))", re.I)
_TCO = re.compile("^https?://t\\.co/([a-z0-9]+)(?:\\?" + _QUERY + "*" +
                  _QUERY_END + ")?", re.I)
MAX_URL_LENGTH = 4096
MAX_TCO_SLUG = 40


def _cp_weight(cp):
    if cp <= 4351 or 8192 <= cp <= 8205 or 8208 <= cp <= 8223 or \
            8242 <= cp <= 8247:
        return 1
    return 2


def _valid_url(url, protocol, domain):
    """twitter-text's isValidUrl: a Punycode form of every label, 1 to 63 long."""
    if domain[:4] == "xn--" and not _ASCII_DOMAIN.search(domain):
        return False
    plen = 0
    for label in domain.split("."):
        try:
            enc = label if label.isascii() else \
                "xn--" + label.encode("punycode").decode()
        except UnicodeError:
            return False
        if not 1 <= len(enc) <= 63:
            return False
        plen += len(enc) + 1
    return len(protocol or "https://") + len(url) + plen - 1 - len(domain) \
        <= MAX_URL_LENGTH


def url_spans(text):
    """(start, end) of every URL in TEXT, as extractUrlsWithIndices gives them."""
    spans = []
    pos = 0
    while True:
        m = _EXTRACT.search(text, pos)
        if m is None:
            break
        pos = m.end() if m.end() > m.start() else m.start() + 1
        before, url, protocol, domain, path = \
            m.group(2), m.group(3), m.group(4), m.group(5), m.group(7)
        end = m.end()
        start = end - len(url)
        if not _valid_url(url, protocol, domain):
            continue
        if not protocol:
            if re.search(r"[-_./]$", before):
                continue
            last = None
            for a in _ASCII_DOMAIN.finditer(domain):
                last = [start + a.start(), start + a.end()]
                spans.append(last)
            if last is None:
                continue
            if path:
                last[1] = end
        else:
            t = _TCO.match(url)
            if t:
                if len(t.group(1)) > MAX_TCO_SLUG:
                    continue
                end = start + len(t.group(0))
            spans.append([start, end])
    return [tuple(x) for x in spans]


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
