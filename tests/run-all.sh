#!/bin/sh
# The whole test suite: installs what is missing, builds crier twice (a
# normal build, and one with ASan+UBSan), runs `make check` in both builds
# at once, and `make distcheck` once the plain one is done (the tarball
# builds and installs, it runs the tests that read shipped data, and it
# holds every file git tracks) (DISTCHECK=0 skips it). Ends with
# "N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
sh scripts/install-deps.sh || exit 1
t0=$(date +%s)

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

# Seconds since the start.
elapsed() {
	echo "$(( $(date +%s) - t0 )) s"
}

# Runs make check in build dir $1; its PASS/FAIL lines go to $1/check.out.
check() {
	# Twice as many tests as cores in each build, both builds at once:
	# most tests wait on peers and due times, not on the CPU.
	(cd "$1" && make -s -j"$(( $(nproc) * 2 ))" check 2>&1 |
	    grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):') > "$1/check.out"
	elapsed > "$1/check.done"
}

# The tarball passes distcheck and holds every file git tracks but its own
# metadata; "ok" or why not goes to build-test-plain/distcheck.result.
distcheck() {
	r=build-test-plain/distcheck.result
	# Its tests are the ones that read shipped data (corpora, samples,
	# peers); the rest ran in the build above.
	if ! (cd build-test-plain && make -s -j"$(( $(nproc) * 2 ))" distcheck \
	    TESTS="tests/conformance/mustache-spec.sh tests/conformance/ical-corpus.sh \
	    tests/integration/example-config.sh tests/integration/hostile.sh \
	    tests/integration/manpages.sh tests/integration/post-outbox.sh \
	    tests/conformance/peers.sh" \
	    >distcheck.log 2>&1); then
		echo "distcheck failed" > "$r"
		return
	fi
	echo "ok $(elapsed)" > "$r"
	if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		echo "files: not a git checkout, not compared" >> "$r"
		return
	fi
	tar tzf build-test-plain/crier-*.tar.gz | sed 's|^[^/]*/||' |
	    sort > build-test-plain/dist.files
	missing=$(git -C "$top" ls-files | sort | comm -23 - build-test-plain/dist.files |
	    grep -vE '(^|/)\.git(ignore|attributes|keep)$')
	if [ -n "$missing" ]; then
		echo "files: not in the tarball: $(echo "$missing" | tr "\n" " ")" >> "$r"
	else
		echo "files: ok, every tracked file is in the tarball" >> "$r"
	fi
}

built=
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
	built="$built $variant"
done
echo "== make check ($built ) at $(elapsed)"
pids=
for variant in $built; do
	if [ "$variant" = plain ] && [ "${DISTCHECK:-1}" = 1 ]; then
		(check build-test-plain; distcheck) &
	else
		check "build-test-$variant" &
	fi
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids

for variant in $built; do
	dir="build-test-$variant"
	echo "== make check ($variant), done at $(cat "$dir/check.done" 2>/dev/null)"
	cat "$dir/check.out"
	count "$dir"
	if grep -qE '^(FAIL|ERROR)' "$dir/test-suite.log" 2>/dev/null; then
		for l in "$dir"/tests/*.log "$dir"/tests/*/*.log; do
			[ -f "$l" ] && grep -qE '^:test-result: (FAIL|ERROR)' "${l%.log}.trs" 2>/dev/null && {
				echo "---- $l"; tail -n 60 "$l"; }
		done
	fi
done

if [ "${DISTCHECK:-1}" = 1 ] && [ -d build-test-plain ]; then
	r=build-test-plain/distcheck.result
	echo "== make distcheck: $(head -n1 "$r" 2>/dev/null)"
	case $(head -n1 "$r" 2>/dev/null) in
	ok*)	passed=$((passed + 1)) ;;
	*)	tail -n 40 build-test-plain/distcheck.log
		failed=$((failed + 1)) ;;
	esac
	sed -n 2p "$r"
	case $(sed -n 2p "$r") in
	"files: ok"*)	passed=$((passed + 1)) ;;
	"files: not a git"*)	skipped=$((skipped + 1)) ;;
	"files: not in"*)	failed=$((failed + 1)) ;;
	esac
fi
echo "$passed passed, $failed failed, $skipped skipped ($(elapsed))"
[ "$failed" = 0 ]
