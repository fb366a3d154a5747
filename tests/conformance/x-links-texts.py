#!/usr/bin/python3
"""Texts for x-links.json: campaign-like sentences with links as people
write them (with and without a scheme, in brackets and quotes, with paths,
ports, queries and trailing punctuation) and words that look like domains
(node.js, readme.md, e.g.). Seeded: the same texts every run."""
import json
import random
import sys

WORDS = ["Open", "Gov", "Week", "is", "back", "join", "us", "in", "Glasgow",
         "the", "council", "for", "a", "session", "on", "budgets", "—",
         "and", "café", "naïve", "日本", "пример", "2027", "#OGW27", "@ogp",
         "@ogp@mastodon.social", "e.g.", "i.e.", "etc.", "U.S.", "v2.0",
         "3.5%", "node.js", "readme.md", "file.txt", "index.html", "a.m.",
         "p.m.", "mail@example.org", "10.30", "St.Andrews", "Dr.Who"]
DOMAINS = ["opengovweek.org", "www.opengovpartnership.org", "glasgow.gov.uk",
           "example.co.uk", "data.gov", "t.co", "x.com", "bit.ly", "crier.io",
           "example.de", "foo.bar", "my_site.example.com",
           "sub-domain.example.org", "EXAMPLE.COM", "例え.jp", "café.fr",
           "example.xn--p1ai", "example.museum", "news.ycombinator.com",
           "localhost", "intranet.local", "a.b", "opengov.week",
           "pres.cat", "example.com.", "xn--bcher-kva.example"]
PATHS = ["", "", "", "/", "/events", "/events/2027", "/a/b.html",
         "/wiki/Foo_(bar)", "?id=3", "/x?y=1&z=2", "#top", ":8080",
         ":8080/x", "/path-with-dash/", "/%E2%9C%93", "/a,b", "/a.", "/a!",
         "/@user/1", "/日本", "/пример", "/a~b|c", "/(x(y)z)"]
PRE = ["", "", "", "(", '"', "'", "[", "<", "«", "—", "/", "-", "_", ".",
       "@", "#", "x", "日", "é"]
POST = ["", "", "", ".", ",", ")", '"', "'", "!", "?", ":", ";", "]", ">",
        "»", "…", "-", "_", "+", "@", "é", "日"]
SCHEMES = ["", "", "https://", "http://", "HTTPS://"]


def texts(seed, n):
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 12)):
            if rnd.random() < 0.35:
                parts.append(rnd.choice(PRE) + rnd.choice(SCHEMES) +
                             rnd.choice(DOMAINS) + rnd.choice(PATHS) +
                             rnd.choice(POST))
            else:
                parts.append(rnd.choice(WORDS))
        sep = rnd.choice([" ", " ", " ", "\n", "  ", "\u00a0"])
        out.append(sep.join(parts))
    return out


if __name__ == "__main__":
    json.dump(texts(int(sys.argv[1]), int(sys.argv[2])), sys.stdout,
              ensure_ascii=False)
