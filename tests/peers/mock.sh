# Helpers for integration tests that talk to tests/peers/httpmock.py.
# Source after tests/integration/lib.sh. Each mock is named ($1) so a test
# may run several; its port is in $T/NAME.port, its pid in $T/NAME.pid
# (which lib.sh's cleanup kills).

MOCK_PY="$top_srcdir/tests/peers/httpmock.py"

# start_mock NAME [httpmock options...]: starts a mock, waits for its port.
start_mock() {
	local name=$1
	shift
	rm -f "$T/$name.port"
	case " $* " in
	*" --tls "*) echo https > "$T/$name.scheme" ;;
	*) echo http > "$T/$name.scheme" ;;
	esac
	"$PY" "$MOCK_PY" --port-file "$T/$name.port" --lifetime "${MOCK_LIFETIME:-300}" \
		"$@" >>"$T/$name.log" 2>&1 &
	echo $! > "$T/$name.pid"
	wait_for "[ -s '$T/$name.port' ]" 10 || fail "mock $name did not start"
}

# mock_port NAME
mock_port() {
	tr -d '\n' < "$T/$1.port"
}

# mock_url NAME: its base URL (the control endpoints are on it, TLS or not;
# the test's own checks on them need no certificate verification).
mock_url() {
	echo "$(cat "$T/$1.scheme")://127.0.0.1:$(mock_port "$1")"
}

# mock_script NAME JSON [append]: queues response specs.
mock_script() {
	"$PY" - "$(mock_url "$1")" "$2" "${3:-0}" <<'PYEOF' || fail "cannot script mock $1"
import ssl, sys, urllib.request
base, body, append = sys.argv[1], sys.argv[2], sys.argv[3]
url = "%s/_control/script%s" % (base, "?append=1" if append == "1" else "")
urllib.request.urlopen(urllib.request.Request(url, data=body.encode(), method="POST"), timeout=10,
                       context=ssl._create_unverified_context()).read()
PYEOF
}

# mock_requests NAME: the recorded requests as JSON on stdout.
mock_requests() {
	"$PY" - "$(mock_url "$1")" <<'PYEOF'
import ssl, sys, urllib.request
print(urllib.request.urlopen(sys.argv[1] + "/_control/requests", timeout=30,
                             context=ssl._create_unverified_context()).read().decode())
PYEOF
}

# mock_count NAME: how many requests it got.
mock_count() {
	mock_requests "$1" | jget 'len(d)'
}

# The mocks are on 127.0.0.1: never through a proxy from the environment.
no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}"
NO_PROXY=$no_proxy
export no_proxy NO_PROXY

# post_id ARGS...: posts and prints the new delivery's id.
post_id() {
	ctl --json post "$@" | jget 'd["ids"][0]'
}

# field ID EXPR: a field of `show ID` (Python expression on the delivery dl).
field() {
	ctl --json show "$1" | jget "(lambda dl: $2)(d['delivery'])"
}

# wait_state ID STATE [SECONDS]
wait_state() {
	wait_for "[ \"\$(state_of $1)\" = $2 ]" "${3:-15}" ||
		fail "delivery $1 is $(state_of "$1"), not $2"
}
