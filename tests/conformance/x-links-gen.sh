#!/bin/sh
# Regenerates x-links.json: the texts of x-links-texts.py (seeded), each with
# what twitter-text (X's own counter, from npm) says it weighs. Needs node:
#   npm install --prefix /tmp/tt twitter-text@3.1.0
#   NODE_PATH=/tmp/tt/node_modules sh tests/conformance/x-links-gen.sh
set -e
d=$(dirname "$0")
/usr/bin/python3 "$d/x-links-texts.py" 27 1200 | node "$d/x-links-expect.js" > "$d/x-links.json"
