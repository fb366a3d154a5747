#!/bin/sh
# kill -9 while Threads publishes: the container is published but crierd
# dies before the answer. The container id was kept in state_dir before the
# publish call, so after a restart the delivery (idempotent: left `sending`)
# asks the container's status, finds it PUBLISHED and is `sent`: one post,
# never a second. A container kept but not yet published is published once.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"
. "$top_srcdir/tests/integration/threads-lib.sh"

start_threads
write_config "$(th_channel th)"
th_post /_control/publish-delay '{"seconds": 30}'
start_daemon
a=$(post_id --channel th --text "Interrupted while publishing")
wait_for "[ \"\$(th_posts 'len(p)')\" = 1 ]" 20 || fail "not published: $(th_posts 'p')"
[ "$(state_of "$a")" = sending ] || fail "not sending: $(state_of "$a")"
ls "$STATE/channels/th.threads/$a" >/dev/null 2>&1 || fail "container id not kept"
kill9_daemon

th_post /_control/publish-delay '{"seconds": 0}'
start_daemon
wait_state "$a" sent 30
[ "$(th_posts 'len(p)')" = 1 ] || fail "published twice: $(th_posts 'p')"
[ "$(th_get /_control/containers | jget 'len(d)')" = 1 ] || fail "a second container was made"
[ "$(field "$a" 'dl["remote_id"]')" = "$(th_posts 'p[0]["container"]')" ] ||
	fail "remote id $(field "$a" 'dl["remote_id"]') is not the container"
[ -e "$STATE/channels/th.threads/$a" ] && fail "the kept container id was not removed"
mock_requests th > "$T/req.json"
"$PY" - "$T/req.json" <<'PYEOF' || fail "requests after the crash"
import json, sys
reqs = [(r["method"], r["path"]) for r in json.load(open(sys.argv[1])) if not r["path"].startswith("/_")]
assert sum(1 for r in reqs if r[1].endswith("/threads")) == 1, reqs
assert sum(1 for r in reqs if r[1].endswith("/threads_publish")) == 1, reqs
assert reqs[-1][0] == "GET", reqs        # the status of the kept container
PYEOF

# A crash between the container and its publication: published once.
th_post /_control/reset-all '{}'
stop_daemon
mkdir -p "$STATE/channels/th.threads"
start_daemon
b=$(post_id --channel th --text "Container kept, not published" --hold)
cid=$("$PY" - "$(mock_url th)" <<'PYEOF'
import json, sys, urllib.request, urllib.parse
body = urllib.parse.urlencode({"media_type": "TEXT", "text": "Container kept, not published",
                               "access_token": "th-tok-ogp-1"}).encode()
r = urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/v1.0/17841400000000001/threads",
                           data=body, method="POST"), timeout=10)
print(json.load(r)["id"])
PYEOF
)
printf '%s' "$cid" > "$STATE/channels/th.threads/$b"
expect_rc 0 ctl approve "$b"
wait_state "$b" sent 20
[ "$(th_posts 'len(p)')" = 1 ] || fail "kept container: $(th_posts 'p')"
[ "$(th_posts 'p[0]["container"]')" = "$cid" ] || fail "not the kept container"
[ "$(th_get /_control/containers | jget 'len(d)')" = 1 ] || fail "kept container: a second one was made"
stop_daemon
echo "PASS: $TEST_NAME"
