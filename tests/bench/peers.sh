#!/bin/sh
# crier side by side with reference programs on this machine (issue 16):
#
#   tests/bench/peers.sh all                  every scenario, then the table
#   tests/bench/peers.sh lateness Q           40 posts due 1 s apart, Q queued
#   tests/bench/peers.sh webhooks Q           2 000 webhooks due at once
#   tests/bench/peers.sh newsletter Q         10 000 recipients to smtp-sink
#   tests/bench/peers.sh ctl Q                verb latencies, reload, pipeline
#   tests/bench/peers.sh check EVENTS         --check --json against Python
#   tests/bench/peers.sh rss Q                RSS idle, with Q, after reloads
#   tests/bench/peers.sh startup Q            start to socket-ready
#   tests/bench/peers.sh report               the table of what was measured
#
# PERF=1 records `perf record -g` of crierd during the measured part of
# lateness and webhooks into $BENCH_OUT/perf-SCENARIO-Q.data.
# PERF_CALLGRAPH overrides its -g (e.g. "--call-graph dwarf": libsqlite3
# and libuv have no frame pointers).
# QUICK=1 shrinks every size (for development on a shared machine); CTL_N and
# PIPELINE_N set the requests per verb and the posts pipelined by `ctl`. Results
# go to $BENCH_OUT (default ./bench-peers) as one JSON file per run, and
# `report` folds them into results.json and prints the table. Timing is
# never asserted: a scenario fails only when something did not happen
# (a post not delivered, occurrences that differ, a request refused).
# Run from the build directory, or set top_srcdir and top_builddir.
if [ -z "${top_builddir:-}" ] && [ -x daemon/crierd ]; then
	top_builddir=$PWD
fi
. "$(dirname "$0")/../integration/lib.sh"

BIN="$top_builddir/tests/bench"
BENCH_OUT=${BENCH_OUT:-$PWD/bench-peers}
QUICK=${QUICK:-0}
mkdir -p "$BENCH_OUT"
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
for b in ctlbench floor; do
	[ -x "$BIN/$b" ] || skip "$BIN/$b is not built (make bench-peers builds it)"
done
[ -x "$CRIERD" ] || skip "$CRIERD is not built"

# $1 when QUICK=1, else $2.
size() {
	if [ "$QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi
}

# A free TCP port on 127.0.0.1 (the kernel's pick).
free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Milliseconds since the epoch.
now_ms() {
	echo $(( $(date +%s%N) / 1000000 ))
}

# Resident set size of process $1 in KiB (VmRSS).
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Resident memory of process $1 by mapping, from /proc/PID/smaps: JSON with
# smaps_rollup's totals and the 25 largest mappings (a library's segments
# summed), each with Rss, Pss, Private_Dirty, Private_Clean, Shared_Clean (KiB).
rss_maps() {
	"$PY" - "$1" <<'PYEOF'
import json, re, sys
pid = sys.argv[1]
keys = ("Rss", "Pss", "Private_Dirty", "Private_Clean", "Shared_Clean")
maps, cur = {}, None
for line in open("/proc/%s/smaps" % pid):
    f = line.split()
    if re.match(r"^[0-9a-f]+-[0-9a-f]+$", f[0]):
        name = f[5] if len(f) > 5 else "[anon]"
        name = re.sub(r"\.so[.0-9]*$", ".so", name.rsplit("/", 1)[-1])
        cur = maps.setdefault(name, dict.fromkeys(keys, 0))
    elif cur is not None and f[0].rstrip(":") in keys:
        cur[f[0].rstrip(":")] += int(f[1])
roll = {}
for line in open("/proc/%s/smaps_rollup" % pid):
    f = line.split()
    if f[0].rstrip(":") in keys + ("Anonymous",):
        roll[f[0].rstrip(":")] = int(f[1])
top = sorted(maps.items(), key=lambda kv: -kv[1]["Rss"])[:25]
print(json.dumps({"rollup": roll, "maps": dict(top)}))
PYEOF
}

# CPU time (user + system) process $1 has used, in clock ticks.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# CPU ticks of nginx's master and worker processes so far.
nginx_ticks() {
	local m t=0 p
	m=$(cat "$T/nginx/nginx.pid")
	for p in $m $(pgrep -P "$m"); do
		t=$((t + $(cpu_ticks "$p")))
	done
	echo "$t"
}

# Seconds between tick counts $1 and $2.
ticks_s() {
	echo "$1 $2 $(getconf CLK_TCK)" | awk '{ printf "%.2f", ($2 - $1) / $3 }'
}

# Writes fragment $1 (a JSON object on stdin) into the results directory.
save() {
	"$PY" -c 'import json,sys,time; d=json.load(sys.stdin); d["quick"]=sys.argv[2]=="1"
d["at"]=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()); json.dump(d, open(sys.argv[1],"w"), indent=1)' \
	    "$BENCH_OUT/$1.json" "$QUICK" || fail "bad result for $1"
	echo "bench: $1: $(tr -d '\n ' < "$BENCH_OUT/$1.json")"
}

# backlog_daemon Q [config lines...]: starts crierd with Q deliveries queued
# (a calendar of Q occurrences from tomorrow on, channel "backlog"), loaded
# through crierd itself, and waits until they are all scheduled.
backlog_daemon() {
	local q=$1 i n=0
	shift
	if [ "$q" -gt 0 ]; then
		"$PY" "$top_srcdir/tests/bench/gencal.py" backlog "$q" "$T/backlog.ics"
		write_config "horizon = 400d" "max_in_flight = 16" \
		    "templates = ${TEMPLATES:-$T}" \
		    "[channel backlog]" "type = outbox" \
		    "[calendar backlog]" "path = $T/backlog.ics" "$@"
	else
		write_config "horizon = 400d" "max_in_flight = 16" \
		    "templates = ${TEMPLATES:-$T}" \
		    "[channel backlog]" "type = outbox" "$@"
	fi
	LOAD_T0=$(now_ms)
	start_daemon
	for i in $(seq 1 24000); do
		[ "$q" = 0 ] && break
		n=$(ctl --json status 2>/dev/null | jget 'd["counts"].get("scheduled", 0)' 2>/dev/null)
		[ -n "$n" ] && [ "$n" -ge "$q" ] && break
		kill -0 "$CRIERD_PID" 2>/dev/null || fail "crierd exited while loading"
		sleep 0.05
	done
	LOAD_MS=$(( $(now_ms) - LOAD_T0 ))
	[ "$q" = 0 ] || [ "$n" -ge "$q" ] || fail "backlog of $q not scheduled ($n)"
	echo "bench: $q queued in $LOAD_MS ms"
	# The backlog's 60 MB are written out now, as they long have been in
	# a daemon that has run a while: the kernel's writeback of them (30 s
	# later) would otherwise land in the middle of what is measured, and
	# not in the reference's part, which runs after. With no backlog, what
	# the scenario before left is written out: a newsletter's 20 000
	# fsyncs run right after `webhooks 100000` took 24 s instead of 7-9.
	sync
}

# perf_start NAME: with PERF=1, records crierd's profile until perf_stop.
perf_start() {
	[ "${PERF:-0}" = 1 ] || return 0
	command -v perf >/dev/null || fail "PERF=1 but perf is not installed"
	perf record ${PERF_CALLGRAPH:--g} -q -o "$BENCH_OUT/perf-$1.data" -p "$CRIERD_PID" \
	    >"$T/perf.out" 2>&1 &
	echo $! > "$T/perf.pid"
	sleep 1
}

# perf_stop: ends the recording perf_start began.
perf_stop() {
	[ -f "$T/perf.pid" ] || return 0
	kill -INT "$(cat "$T/perf.pid")" 2>/dev/null
	wait "$(cat "$T/perf.pid")" 2>/dev/null
	rm -f "$T/perf.pid"
}

# Prints p50, p99 and max in ms of the numbers (ms) in column 3 of $1's lines
# matching $2, and each of them in the order they came.
late_stats() {
	"$PY" - "$1" "$2" <<'PYEOF'
import json, math, sys
each = [float(l.split()[2]) for l in open(sys.argv[1])
        if l.startswith(sys.argv[2] + " ")]
v = sorted(each)
def p(q):
    return v[max(1, math.ceil(q * len(v))) - 1]
print(json.dumps({"n": len(v), "p50_ms": p(.5), "p99_ms": p(.99), "max_ms": v[-1],
                  "each_ms": each}))
PYEOF
}

# lateness Q: posts due 1 s apart through a webhook to a loopback sink, then
# the floor program's requests to the same sink at the same spacing.
sc_lateness() {
	local q=$1 n first i at done_ms t0
	n=$(size 5 40)
	"$PY" "$top_srcdir/tests/bench/sink.py" --port-file "$T/sink.port" \
	    --out "$T/sink.log" --lifetime 1800 >"$T/sink.err" 2>&1 &
	echo $! > "$T/sink.pid"
	wait_for "[ -s '$T/sink.port' ]" 15 || fail "sink did not start"
	P=$(cat "$T/sink.port")
	backlog_daemon "$q" "[channel late]" "type = webhook" \
	    "url = http://127.0.0.1:$P/crier" "format = json"
	# Time to post them all first, even when each post is slow (a post
	# to the backlog channel says how slow).
	t0=$(now_ms)
	ctl post --channel backlog --text "probe" --in 30d >/dev/null || fail "probe post"
	first=$(( $(date +%s) + 3 + n * ($(now_ms) - t0) * 3 / 1000 ))
	for i in $(seq 0 $((n - 1))); do
		at=$(date -u -d "@$((first + i))" +%Y-%m-%dT%H:%M:%SZ)
		ctl post --channel late --text "lateness $i" --at "$at" >/dev/null ||
		    fail "post $i refused"
	done
	done_ms=$(now_ms)
	[ "$done_ms" -lt $((first * 1000)) ] ||
	    fail "posting took until after the first due time; nothing measured"
	loop_snap "$T/loop0.json"
	perf_start "lateness-$q"
	# Nothing runs meanwhile (as nothing runs beside the floor program):
	# polling the sink's log 20 times a second took a core from crierd
	# at some due instants.
	sleep $((first + n - $(date +%s)))
	wait_for "[ \$(grep -c '^/crier ' '$T/sink.log') -ge $n ]" 120 ||
	    fail "only $(grep -c '^/crier ' "$T/sink.log") of $n posts arrived"
	perf_stop
	loop_snap "$T/loop1.json"
	first=$(( $(date +%s) + 2 ))
	"$BIN/floor" "http://127.0.0.1:$P/floor" "$n" "$first" 1 || fail "floor failed"
	grep -q ' bad ' "$T/sink.log" && fail "sink: $(grep ' bad ' "$T/sink.log" | head -1)"
	c=$(late_stats "$T/sink.log" /crier)
	f=$(late_stats "$T/sink.log" /floor)
	echo "{\"q\": $q, \"posts\": $n, \"crier\": $c, \"floor\": $f,
	    \"loop\": $(loop_delta "$T/loop0.json" "$T/loop1.json")}" | save "lateness-$q"
}

# Starts nginx on 127.0.0.1 (its own port and config in $T/nginx); sets NGINX_PORT.
start_nginx() {
	local d="$T/nginx" bin
	bin=$(command -v nginx || echo /usr/sbin/nginx)
	[ -x "$bin" ] || skip "nginx is not installed (nginx-light)"
	mkdir -p "$d/tmp"
	NGINX_PORT=$(free_port)
	cat > "$d/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 1024; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	server {
		listen 127.0.0.1:$NGINX_PORT;
		location / { return 200 "{}\n"; }
	}
}
EOF
	timeout 1800 "$bin" -p "$d" -e "$d/error.log" -c "$d/nginx.conf" >"$d/out" 2>&1 &
	echo $! > "$T/nginx.pid"
	wait_for "curl -sf -o /dev/null -d x http://127.0.0.1:$NGINX_PORT/ping" 15 ||
	    fail "nginx did not start: $(cat "$d/error.log" "$d/out")"
}

# webhooks Q: N posts held by a paused channel, released at once by resume,
# to nginx; then curl --parallel --parallel-max 16 with the same requests.
sc_webhooks() {
	local q=$1 n t0 t1 before after body c0 c1 n0 n1 n2 n3
	n=$(size 200 2000)
	start_nginx
	backlog_daemon "$q" "[channel hook]" "type = webhook" \
	    "url = http://127.0.0.1:$NGINX_PORT/hook" "format = json" \
	    "concurrency = 16"
	ctl pause hook >/dev/null || fail "pause"
	"$BIN/ctlbench" pipeline "$SOCK" "$n" \
	    '{"v":1,"cmd":"post","channel":["hook"],"text":"Open Gov Week: a webhook post due with many others"}' \
	    > "$T/posts.json" || fail "posts: $(cat "$T/posts.json")"
	perf_start "webhooks-$q"
	c0=$(cpu_ticks "$CRIERD_PID")
	n0=$(nginx_ticks)
	"$BIN/ctlbench" burst "$SOCK" '{"v":1,"cmd":"resume","channel":"hook"}' \
	    "$T/nginx/access.log" "$n" "$n" > "$T/burst.json" ||
	    fail "burst: $(cat "$T/burst.json")"
	c1=$(cpu_ticks "$CRIERD_PID")
	n1=$(nginx_ticks)
	perf_stop
	[ "$(grep -c 'POST /hook ' "$T/nginx/access.log")" = "$n" ] ||
	    fail "nginx saw $(grep -c 'POST /hook ' "$T/nginx/access.log") of $n"
	# The reference: the same number of POSTs of a body of the same size.
	ctl --json show "$(ctl --json list --channel hook --limit 1 | jget 'd["deliveries"][0]["id"]')" \
	    > "$T/one.json"
	body=$(jget 'len(d["delivery"].get("text") or "")' < "$T/one.json")
	"$PY" -c 'import json,sys; print(json.dumps({"id":"0123456789ab","channel":"hook","text":"x"*int(sys.argv[1]),"due":"2027-05-17T08:00:00Z","attempt":1}))' \
	    "$body" > "$T/body.json"
	before=$(grep -c 'POST /ref' "$T/nginx/access.log")
	n2=$(nginx_ticks)
	t0=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$T/curl.time" curl -s --parallel \
	    --parallel-max 16 -H 'Content-Type: application/json' \
	    --data-binary @"$T/body.json" "http://127.0.0.1:$NGINX_PORT/ref?n=[1-$n]" \
	    > /dev/null 2>"$T/curl.err" || fail "curl failed: $(cat "$T/curl.err")"
	t1=$(date +%s%N)
	n3=$(nginx_ticks)
	after=$(grep -c 'POST /ref' "$T/nginx/access.log")
	[ $((after - before)) = "$n" ] || fail "curl: nginx saw $((after - before)) of $n"
	echo "{\"q\": $q, \"requests\": $n, \"crier\": $(cat "$T/burst.json"),
	    \"crier_cpu_seconds\": $(echo "$c0 $c1 $(getconf CLK_TCK)" | awk '{ printf "%.2f", ($2 - $1) / $3 }'),
	    \"nginx_cpu_seconds\": $(ticks_s "$n0" "$n1"),
	    \"curl_cpu_seconds\": $(awk '{ printf "%.2f", $1 + $2 }' "$T/curl.time"),
	    \"nginx_cpu_seconds_curl\": $(ticks_s "$n2" "$n3"),
	    \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\",
	    \"cpus\": $(nproc),
	    \"post_pipeline\": $(cat "$T/posts.json"),
	    \"curl_seconds\": $(echo "$t0 $t1" | awk '{ printf "%.4f", ($2 - $1) / 1e9 }')}" |
	    save "webhooks-$q"
}

# newsletter Q: a newsletter to R recipients of smtp-sink over SESSIONS
# sessions (default 1; the channel's `sessions` key), sent now; then
# smtp-source with the same number of sessions.
sc_newsletter() {
	local q=$1 r port id t0 t1 t2 t3 size
	r=$(size 500 10000)
	[ -x /usr/sbin/smtp-sink ] && [ -x /usr/sbin/smtp-source ] ||
	    skip "Postfix's smtp-sink/smtp-source are not installed (postfix)"
	port=$(free_port)
	timeout 1800 /usr/sbin/smtp-sink -u nobody 127.0.0.1:"$port" 256 \
	    >"$T/sink.out" 2>&1 &
	echo $! > "$T/smtpsink.pid"
	wait_for "(echo QUIT) | timeout 2 bash -c 'cat > /dev/tcp/127.0.0.1/$port'" 15 ||
	    fail "smtp-sink did not start"
	{
		echo "email,name"
		seq 1 "$r" | awk '{ printf "reader%05d@example.org,Reader %d\n", $1, $1 }'
	} > "$T/recipients.csv"
	at=$(date -u -d '+1 hour' +%Y%m%dT%H%M%SZ)
	printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier bench//EN\r\nBEGIN:VEVENT\r\nUID:news@bench.crier\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:%s\r\nSUMMARY:This week in open government\r\nDESCRIPTION:News from members\\, events and reports of the week.\r\nURL:https://www.opengovpartnership.org/newsletter/\r\nX-CRIER-CHANNELS:newsletter\r\nX-CRIER-TEMPLATE:newsletter\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
	    "$at" > "$T/news.ics"
	TEMPLATES=$top_srcdir/templates backlog_daemon "$q" \
	    "[vars]" "org = Open Government Partnership" \
	    "[calendar news]" "path = $T/news.ics" \
	    "[channel newsletter]" "type = smtp" "url = smtp://127.0.0.1:$port" \
	    "starttls = no" "from = OGP News <news@example.org>" \
	    "recipients_file = $T/recipients.csv" "sessions = ${SESSIONS:-1}" \
	    "unsubscribe_url = https://example.org/unsub?e={{recipient.email_urlencoded}}"
	wait_for "[ \"\$(ctl --json list --channel newsletter --limit 1 | jget 'len(d[\"deliveries\"])')\" = 1 ]" 60 ||
	    fail "no newsletter scheduled"
	id=$(ctl --json list --channel newsletter --limit 1 | jget 'd["deliveries"][0]["id"]')
	"$BIN/ctlbench" burst "$SOCK" "{\"v\":1,\"cmd\":\"send-now\",\"id\":\"$id\"}" - 0 1 \
	    > "$T/burst.json" || fail "newsletter not sent: $(ctl show "$id" | head -20)"
	ctl --json show "$id" > "$T/show.json"
	"$PY" - "$T/show.json" "$r" <<'PYEOF' || fail "recipients not all sent"
import json, sys
d = json.load(open(sys.argv[1]))
c = d.get("recipient_counts") or d["delivery"].get("recipient_counts")
assert c.get("sent") == int(sys.argv[2]) and d["delivery"]["state"] == "sent", c
PYEOF
	# The reference, one session: a connection per message, then one for all (-d).
	size=$(size 2048 2048)
	t0=$(date +%s%N)
	/usr/sbin/smtp-source -s "${SESSIONS:-1}" -m "$r" -l "$size" -f news@example.org \
	    -t reader@example.org 127.0.0.1:"$port" || fail "smtp-source"
	t1=$(date +%s%N)
	/usr/sbin/smtp-source -s "${SESSIONS:-1}" -d -m "$r" -l "$size" -f news@example.org \
	    -t reader@example.org 127.0.0.1:"$port" || fail "smtp-source -d"
	t2=$(date +%s%N)
	echo "{\"q\": $q, \"recipients\": $r, \"sessions\": ${SESSIONS:-1}, \"crier\": $(cat "$T/burst.json"),
	    \"smtp_source_seconds\": $(echo "$t0 $t1" | awk '{ printf "%.4f", ($2 - $1) / 1e9 }'),
	    \"smtp_source_d_seconds\": $(echo "$t1 $t2" | awk '{ printf "%.4f", ($2 - $1) / 1e9 }')}" |
	    save "newsletter-$q"
}

# loop_snap FILE: crierd's own measure of its loop turns so far (status:
# daemon.loop, see turn_stats in daemon/turn.h).
loop_snap() {
	ctl --json status | jget 'd["daemon"]["loop"]' > "$1" ||
	    fail "status (loop)"
}

# loop_delta A B: the turns between snapshots A and B as JSON: how many,
# their busy time, how many were busy over 5, 10 and 50 ms, and the
# longest since the start if it fell between them.
loop_delta() {
	"$PY" - "$1" "$2" <<'PYEOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(json.dumps({"turns": b["turns"] - a["turns"],
                  "busy_seconds": round(b["busy_seconds"] - a["busy_seconds"], 3),
                  "over_5ms": b["turns_over_5ms"] - a["turns_over_5ms"],
                  "over_10ms": b["turns_over_10ms"] - a["turns_over_10ms"],
                  "over_50ms": b["turns_over_50ms"] - a["turns_over_50ms"],
                  "longest_ms": b["longest_turn_ms"]
                  if b["longest_turn_at"] != a["longest_turn_at"] else None,
                  "longest_before_ms": a["longest_turn_ms"]}))
PYEOF
}

# with_loop FILE: the JSON object in FILE with "loop" added: loop_delta of
# $T/loop0.json and $T/loop1.json.
with_loop() {
	"$PY" -c 'import json, sys
r = json.load(open(sys.argv[1]))
r["loop"] = json.loads(sys.argv[2])
print(json.dumps(r))' "$1" "$(loop_delta "$T/loop0.json" "$T/loop1.json")"
}

# reload_lat ID OUT: a reload, and the read verbs (show of ID) round-robin
# until it is done, into OUT, with what crierd measured of its own loop
# turns meanwhile ("loop", as loop_delta).
reload_lat() {
	loop_snap "$T/loop0.json"
	"$BIN/ctlbench" reload "$SOCK" status='{"v":1,"cmd":"status"}' \
	    list='{"v":1,"cmd":"list"}' agenda='{"v":1,"cmd":"agenda"}' \
	    show="{\"v\":1,\"cmd\":\"show\",\"id\":\"$1\"}" > "$2.lat" ||
	    fail "reload did not complete: $(cat "$2.lat")"
	loop_snap "$T/loop1.json"
	with_loop "$2.lat" > "$2"
}

# ctl Q: p50/p99 of each verb (a connection per request, as crierctl), the
# same during a reload of the backlog calendar unchanged, then during one
# with every post's text changed, then P posts pipelined.
sc_ctl() {
	local q=$1 n p id out b
	n=${CTL_N:-$(size 30 200)}
	p=${PIPELINE_N:-$(size 500 10000)}
	backlog_daemon "$q" "[channel hook]" "type = outbox"
	ctl post --channel hook --text "one to show" --in 2d >/dev/null || fail "post"
	id=$(ctl --json list --limit 1 | jget 'd["deliveries"][0]["id"]')
	out="$T/ctl.json"
	: > "$out"
	for v in status:'{"v":1,"cmd":"status"}' list:'{"v":1,"cmd":"list"}' \
	    agenda:'{"v":1,"cmd":"agenda"}' show:"{\"v\":1,\"cmd\":\"show\",\"id\":\"$id\"}" \
	    post:'{"v":1,"cmd":"post","channel":["hook"],"text":"bench post","in":"30d"}'; do
		"$BIN/ctlbench" lat "$SOCK" "$n" "${v%%:*}" "${v#*:}" >> "$out" ||
		    fail "${v%%:*} failed"
	done
	if [ "$q" -gt 0 ]; then
		reload_lat "$id" "$T/reload.json"
		# The same with every post's text changed: all of them written.
		"$PY" "$top_srcdir/tests/bench/gencal.py" backlog "$q" \
		    "$T/backlog.ics.new" 2 && mv "$T/backlog.ics.new" "$T/backlog.ics"
		reload_lat "$id" "$T/reload2.json"
		b=$(ctl --json list --limit 1 --channel backlog | jget 'd["deliveries"][0]["id"]')
		[ "$(ctl --json show "$b" | jget '"(version 2)" in d["delivery"]["text"]')" = True ] ||
		    fail "the changed calendar was not applied"
	else
		echo null > "$T/reload.json"
		echo null > "$T/reload2.json"
	fi
	loop_snap "$T/loop0.json"
	"$BIN/ctlbench" pipeline "$SOCK" "$p" \
	    '{"v":1,"cmd":"post","channel":["hook"],"text":"pipelined post","in":"40d"}' \
	    > "$T/pipe.lat" || fail "pipelined posts: $(cat "$T/pipe.lat")"
	loop_snap "$T/loop1.json"
	with_loop "$T/pipe.lat" > "$T/pipe.json"
	"$PY" - "$out" "$T/reload.json" "$T/pipe.json" "$q" "$T/reload2.json" <<'PYEOF' | save "ctl-$q"
import json, sys
verbs = {}
for l in open(sys.argv[1]):
    verbs.update(json.loads(l))
print(json.dumps({"q": int(sys.argv[4]), "verbs": verbs,
                  "during_reload": json.load(open(sys.argv[2])),
                  "during_changed_reload": json.load(open(sys.argv[5])),
                  "pipeline": json.load(open(sys.argv[3]))}))
PYEOF
}

# Elapsed seconds and peak RSS (KiB) from /usr/bin/time -v output $1.
time_v() {
	"$PY" - "$1" <<'PYEOF'
import json, sys
d = {}
for l in open(sys.argv[1]):
    k, _, v = l.strip().rpartition(": ")
    if k.startswith("Elapsed (wall clock)"):
        parts = [float(x) for x in v.split(":")]
        s = 0.0
        for x in parts:
            s = s * 60 + x
        d["seconds"] = s
    elif k == "Maximum resident set size (kbytes)":
        d["max_rss_kb"] = int(v)
print(json.dumps(d))
PYEOF
}

# check E: crierd --check --json on a calendar of E events against
# python3-recurring-ical-events on the same file and window; same occurrences?
sc_check() {
	local e=$1 c r
	[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed (time)"
	/usr/bin/python3 -c 'import recurring_ical_events' 2>/dev/null ||
	    skip "python3-recurring-ical-events is not installed"
	"$PY" "$top_srcdir/tests/bench/gencal.py" check "$e" "$T/cal.ics"
	write_config "channels = box" "[channel box]" "type = outbox"
	# the load of the shared machine, before and after: the figures are noisy
	cut -d' ' -f1-3 /proc/loadavg > "$T/load"
	/usr/bin/time -v -o "$T/crier.time" "$CRIERD" -c "$CONF" --check --json \
	    --calendar "$T/cal.ics" --from 2027-01-01 --to 2028-01-01 > "$T/crier.out" ||
	    fail "crierd --check failed: $(tail -3 "$T/crier.out")"
	/usr/bin/time -v -o "$T/ref.time" /usr/bin/python3 \
	    "$top_srcdir/tests/bench/ref_expand.py" "$T/cal.ics" 2027-01-01 2028-01-01 \
	    > "$T/ref.out" || fail "reference failed"
	cut -d' ' -f1-3 /proc/loadavg >> "$T/load"
	c=$(time_v "$T/crier.time")
	r=$(time_v "$T/ref.time")
	"$PY" - "$T/crier.out" "$T/ref.out" "$e" "$c" "$r" "$T/load" <<'PYEOF' | save "check-$e"
import collections, json, sys
crier = collections.Counter()
for l in open(sys.argv[1]):
    o = json.loads(l)
    crier[(o["uid"], o["start"])] += 1
ref = collections.Counter(tuple(l.rstrip("\n").split("\t")) for l in open(sys.argv[2]))
only_c, only_r = crier - ref, ref - crier
print(json.dumps({"events": int(sys.argv[3]), "occurrences": sum(crier.values()),
                  "reference_occurrences": sum(ref.values()),
                  "identical": not only_c and not only_r,
                  "only_crier": [list(k) for k in list(only_c)[:5]],
                  "only_reference": [list(k) for k in list(only_r)[:5]],
                  "crier": json.loads(sys.argv[4]), "reference": json.loads(sys.argv[5]),
                  "load": [l.split() for l in open(sys.argv[6])]}))
PYEOF
	jget 'd["identical"]' < "$BENCH_OUT/check-$e.json" | grep -q True ||
	    fail "occurrences differ: $(cat "$BENCH_OUT/check-$e.json")"
}

# rss Q: the demo idle, then Q queued, then after 10 reloads.
sc_rss() {
	local q=$1 idle idle_maps loaded after i
	sed -e "s|^url = smtp://127.0.0.1:.*|url = smtp://127.0.0.1:9|" \
	    -e "s|^state_dir = .*|state_dir = $STATE|" -e "s|^socket = .*|socket = $SOCK|" \
	    "$top_srcdir/config/demo.conf" > "$CONF"
	(cd "$top_srcdir" && exec "$CRIERD" -c "$CONF" -f) >>"$LOG" 2>&1 &
	CRIERD_PID=$!
	"$BIN/ctlbench" ready "$SOCK" 30000 >/dev/null || fail "demo did not start"
	wait_for "[ \"\$(ctl --json status | jget 'all(c[\"loaded_at\"] for c in d[\"calendars\"])')\" = True ]" 60 ||
	    fail "demo calendars not loaded"
	sleep 2
	idle=$(rss_kb "$CRIERD_PID")
	idle_maps=$(rss_maps "$CRIERD_PID") || fail "cannot read smaps"
	stop_daemon
	rm -rf "$STATE"
	backlog_daemon "$q"
	sleep 1
	loaded=$(rss_kb "$CRIERD_PID")
	: > "$T/reloads.json"
	for i in $(seq 1 10); do
		"$BIN/ctlbench" reloadwait "$SOCK" >> "$T/reloads.json" || fail "reload $i"
	done
	sleep 1
	after=$(rss_kb "$CRIERD_PID")
	echo "{\"q\": $q, \"idle_demo_kb\": $idle, \"idle_demo_smaps_kb\": $idle_maps,
	    \"queued_kb\": $loaded,
	    \"after_reloads_kb\": $after, \"load_ms\": $LOAD_MS,
	    \"reloads\": [$(paste -sd, "$T/reloads.json")]}" |
	    save "rss-$q"
}

# startup Q: crierd stopped with Q queued, started again: until status answers.
sc_startup() {
	local q=$1 t0 ready loaded
	backlog_daemon "$q"
	stop_daemon
	t0=$(now_ms)
	"$CRIERD" -c "$CONF" -f >>"$LOG" 2>&1 &
	CRIERD_PID=$!
	ready=$("$BIN/ctlbench" ready "$SOCK" 600000) || fail "not ready"
	wait_for "[ \"\$(ctl --json status | jget 'all(c[\"loaded_at\"] and not c.get(\"loading\") for c in d[\"calendars\"])')\" = True ]" 600 ||
	    fail "calendars not loaded after restart"
	loaded=$(now_ms)
	echo "{\"q\": $q, \"ready_ms\": $((ready - t0)), \"loaded_ms\": $((loaded - t0)),
	    \"first_load_ms\": $LOAD_MS}" | save "startup-$q"
}

# Every scenario at every size, one process each, then the table.
sc_all() {
	local q e s
	for q in 0 $(size 500 10000) $(size 5000 100000); do
		for s in lateness webhooks; do
			sh "$0" "$s" "$q" || echo "bench: $s $q failed" >&2
		done
	done
	sh "$0" newsletter 0 || echo "bench: newsletter failed" >&2
	for q in 0 $(size 5000 100000); do
		sh "$0" ctl "$q" || echo "bench: ctl $q failed" >&2
	done
	for e in $(size 100 1000) $(size 300 10000); do
		sh "$0" check "$e" || echo "bench: check $e failed" >&2
	done
	sh "$0" rss "$(size 5000 100000)" || echo "bench: rss failed" >&2
	sh "$0" startup "$(size 5000 100000)" || echo "bench: startup failed" >&2
	sc_report
}

# Folds the results into results.json and prints the table.
sc_report() {
	"$PY" "$top_srcdir/tests/bench/report.py" "$BENCH_OUT"
}

case "${1:-}" in
lateness|webhooks|newsletter|ctl|rss|startup)
	[ $# = 2 ] || { echo "usage: $0 $1 QUEUED" >&2; exit 2; }
	"sc_$1" "$2" ;;
check)
	[ $# = 2 ] || { echo "usage: $0 check EVENTS" >&2; exit 2; }
	sc_check "$2" ;;
all) sc_all ;;
report) sc_report ;;
*)
	echo "usage: $0 all | report | lateness|webhooks|newsletter|ctl|rss|startup QUEUED | check EVENTS" >&2
	exit 2 ;;
esac
