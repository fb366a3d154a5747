#!/bin/sh
# Weighs 1 200 campaign-like texts full of links (with and without a scheme,
# bracketed, with paths, ports and queries) and of words that look like
# domains through len_measure(LEN_X), against what X's own counter,
# twitter-text 3.1.0's parseTweet, gave for each (x-links.json, made by
# x-links-gen.sh). Every one must weigh the same.
: "${top_builddir:=.}"
: "${top_srcdir:=$(dirname "$0")/../..}"
exec "$top_builddir/tests/conformance/twitter-text" \
    "$top_srcdir/tests/conformance/x-links.json" XLinks
