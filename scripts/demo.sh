#!/bin/sh
# The demo: installs what is missing, builds, checks the Open Gov Week 2027
# sample campaign, and runs crierd in the foreground on config/demo.conf with
# state in ./demo-state. Every channel is a local folder under demo-state/outbox/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh build
crierd=build/daemon/crierd
crierctl="build/ctl/crierctl -s demo-state/crierd.sock"

echo "== crierd --check: every Open Gov Week post rendered and measured, nothing sent"
$crierd -c config/demo.conf --check || true
echo
$crierd -c config/demo.conf &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 1 100); do
	$crierctl status >/dev/null 2>&1 && break
	sleep 0.1
done
sleep 1
echo "== the campaign, as crierd scheduled it"
$crierctl agenda --days 400
echo
echo "== a post queued now, due in 5 seconds"
$crierctl post --channel outbox --text "Hello from crier: this post was queued by the demo 5 seconds ago. #OpenGovWeek" --in 5s
echo
echo "crierd is running (pid $pid). In 5 seconds a file appears in $top/demo-state/outbox/outbox/."
echo "Try, in another terminal in $top:"
echo "  $crierctl status"
echo "  $crierctl preview --calendar ogw --uid ogw2027-daily@opengovpartnership.org"
echo "  $crierctl list"
echo "  $crierctl post --channel outbox --text 'Hi' --in 10s"
echo "Ctrl-C stops crierd."
echo
wait $pid
