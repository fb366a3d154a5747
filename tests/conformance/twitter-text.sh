#!/bin/sh
# Runs twitter-text's own conformance cases (../shared/testdata/twitter-text,
# validate.yml at twitter-text 30e2430) through len_measure(LEN_X): the v3
# sections, WeightedTweetsWithDiscountedEmojiCounterTest (weights, NFC, URLs
# 23, an emoji sequence weighs 2) and UnicodeDirectionalMarkerCounterTest.
# WeightedTweetsCounterTest holds the v2 rules (emoji not discounted): not X's
# rule today, so not run. Python (python3-yaml) only turns the YAML into JSON.
: "${top_builddir:=.}"
: "${SHARED_TESTDATA:=$(dirname "$0")/../../../shared/testdata}"
yml="$SHARED_TESTDATA/twitter-text/validate.yml"
PY=/usr/bin/python3
if [ ! -f "$yml" ]; then
	echo "SKIP: twitter-text's validate.yml is not at $yml"
	exit 77
fi
if ! "$PY" -c 'import yaml' 2>/dev/null; then
	echo "SKIP: python3-yaml is not installed (scripts/install-deps.sh)"
	exit 77
fi
json=$(mktemp "${TMPDIR:-/tmp}/crier-twitter-text.XXXXXX") || exit 1
trap 'rm -f "$json"' EXIT
"$PY" -c '
import json, sys, yaml
with open(sys.argv[1], encoding="utf-8") as f:
    doc = yaml.safe_load(f)
with open(sys.argv[2], "w") as f:
    json.dump(doc, f)
' "$yml" "$json" || { echo "FAIL: cannot convert $yml"; exit 1; }
"$top_builddir/tests/conformance/twitter-text" "$json" \
    WeightedTweetsWithDiscountedEmojiCounterTest \
    UnicodeDirectionalMarkerCounterTest
