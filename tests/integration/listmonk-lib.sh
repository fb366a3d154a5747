# Helpers for the listmonk channel's system tests, sourced after lib.sh and
# tests/peers/mock.sh: a listmonk peer (tests/peers/listmonk_mock.py) named
# "lm" with API user crier (token in a 0600 file), and a newsletter calendar.

LM_TOKEN="$T/listmonk.token"

# start_listmonk [listmonk_mock options...]: the peer; users crier and viewer.
start_listmonk() {
	( umask 077 && echo "lm-tok-ogp-1" > "$LM_TOKEN" &&
	  printf 'crier lm-tok-ogp-1 campaigns:get_all,campaigns:manage_all\nviewer lm-tok-v campaigns:get_all\n' \
	    > "$T/listmonk.users" )
	MOCK_PY="$top_srcdir/tests/peers/listmonk_mock.py" \
	    start_mock lm --users-file "$T/listmonk.users" "$@"
}

# lm_get PATH: GET a control endpoint of the peer, JSON on stdout.
lm_get() {
	"$PY" - "$(mock_url lm)$1" <<'PYEOF'
import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=30).read().decode())
PYEOF
}

# lm_post PATH JSON: POST to a control endpoint of the peer.
lm_post() {
	"$PY" - "$(mock_url lm)$1" "$2" <<'PYEOF' >/dev/null || fail "cannot POST $1 to the peer"
import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
                       method="POST"), timeout=30).read()
PYEOF
}

# lm_campaigns EXPR: a Python expression on the list c of campaigns.
lm_campaigns() {
	lm_get /_control/campaigns | jget "(lambda c: $1)(d)"
}

# The config lines of a listmonk channel NAME on the peer (lists $LM_LISTS,
# token file $LM_TOKEN_FILE if set), then "$@" lines.
lm_channel() {
	local name=$1
	shift
	echo "[channel $name]"
	echo "type = listmonk"
	echo "url = $(mock_url lm)"
	echo "username = crier"
	echo "token_file = ${LM_TOKEN_FILE:-$LM_TOKEN}"
	echo "lists = ${LM_LISTS:-1, 2}"
	for l in "$@"; do echo "$l"; done
}

# write_lm_cal FILE SECONDS SUMMARY: a newsletter occurrence SECONDS ahead.
write_lm_cal() {
	"$PY" - "$1" "$2" "$3" <<'PYEOF'
import sys, datetime
out, secs, summary = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t = (datetime.datetime.now(datetime.timezone.utc) +
     datetime.timedelta(seconds=secs)).strftime("%Y%m%dT%H%M%SZ")
open(out, "w", newline="", encoding="utf-8").write(
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:news@crier.test\r\nDTSTAMP:20270101T000000Z\r\n"
    f"DTSTART:{t}\r\nSUMMARY:{summary}\r\n"
    "DESCRIPTION:This week in open government: news from members.\r\n"
    "URL:https://www.opengovpartnership.org/newsletter/\r\n"
    "X-CRIER-CHANNELS:newsletter\r\nX-CRIER-TEMPLATE:newsletter\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n")
PYEOF
}
