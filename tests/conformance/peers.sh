#!/bin/sh
# The test peers' own self-test: each peer enforces the contract it claims
# (tests/peers/test_peers.py), so a system test cannot pass against a lenient
# mock. Exit 77 (skip) where Debian's python3 modules are missing.
: "${top_srcdir:=$(dirname "$0")/../..}"
PY=/usr/bin/python3
if ! "$PY" -c 'import aiosmtpd' 2>/dev/null; then
	echo "SKIP: python3-aiosmtpd is not installed (scripts/install-deps.sh)"
	exit 77
fi
exec "$PY" "$top_srcdir/tests/peers/test_peers.py"
