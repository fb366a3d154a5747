#!/bin/sh
# The whole test suite: installs what is missing, then builds and runs
# `make check` twice (a normal build, and one with ASan+UBSan), then `make distcheck`
# (the tarball builds and installs; it runs the tests that read shipped data)
# (DISTCHECK=0 skips it). Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh || exit 1

passed=0 failed=0 skipped=0
# Adds the automake summary of build dir $1 to the totals.
count() {
	log="$1/test-suite.log"
	if [ ! -f "$log" ]; then
		failed=$((failed + 1))
		return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -n1)
	f=$(sed -n 's/^# FAIL: *//p' "$log" | head -n1)
	e=$(sed -n 's/^# ERROR: *//p' "$log" | head -n1)
	x=$(sed -n 's/^# XPASS: *//p' "$log" | head -n1)
	s=$(sed -n 's/^# SKIP: *//p' "$log" | head -n1)
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0} + ${x:-0}))
	skipped=$((skipped + ${s:-0}))
}

for variant in plain sanitizers; do
	dir="build-test-$variant"
	rm -rf "$dir"
	opts=
	[ "$variant" = sanitizers ] && opts=--enable-sanitizers
	echo "== build ($variant)"
	# shellcheck disable=SC2086
	if ! sh scripts/build.sh "$dir" $opts; then
		echo "build ($variant) failed"
		failed=$((failed + 1))
		continue
	fi
	echo "== make check ($variant)"
	# Twice as many tests as cores at once: most of them wait on peers and
	# due times, not on the CPU (5.3 min at -j2, 3.9 min at -j4 on 2 cores).
	(cd "$dir" && make -s -j"$(( $(nproc) * 2 ))" check 2>&1 | grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):')
	count "$dir"
	if grep -qE '^(FAIL|ERROR)' "$dir/test-suite.log" 2>/dev/null; then
		for l in "$dir"/tests/*.log "$dir"/tests/*/*.log; do
			[ -f "$l" ] && grep -qE '^(FAIL|ERROR)' "${l%.log}.trs" 2>/dev/null && {
				echo "---- $l"; tail -n 60 "$l"; }
		done
	fi
done

if [ "${DISTCHECK:-1}" = 1 ]; then
	echo "== make distcheck"
	# The tarball builds, installs and uninstalls; its tests are the ones
	# that read shipped data (corpora, samples, peers), the rest ran above.
	if (cd build-test-plain && make -s -j"$(nproc)" distcheck \
	    TESTS="tests/conformance/mustache-spec.sh tests/conformance/ical-corpus.sh \
	    tests/integration/example-config.sh tests/integration/hostile.sh \
	    tests/integration/manpages.sh tests/integration/post-outbox.sh \
	    tests/conformance/peers.sh" \
	    >distcheck.log 2>&1); then
		passed=$((passed + 1))
	else
		tail -n 40 build-test-plain/distcheck.log
		failed=$((failed + 1))
	fi
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
