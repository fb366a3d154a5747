#!/bin/sh
# Runs the official Mustache spec (../shared/testdata/mustache-spec) through tests/conformance/mustache-spec.
: "${top_builddir:=.}"
: "${SHARED_TESTDATA:=$(dirname "$0")/../../../shared/testdata}"
dir="$SHARED_TESTDATA/mustache-spec"
if [ ! -d "$dir" ]; then
	echo "SKIP: the Mustache spec is not at $dir"
	exit 77
fi
exec "$top_builddir/tests/conformance/mustache-spec" "$dir/comments.json" "$dir/delimiters.json" \
    "$dir/interpolation.json" "$dir/inverted.json" "$dir/partials.json" \
    "$dir/sections.json"
