#!/bin/sh
# The demo: installs what is missing, builds, and runs crierd in the foreground
# on config/demo.conf with state in ./demo-state. Posts land in demo-state/outbox/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh build
mkdir -p demo-state
crierd=build/daemon/crierd
crierctl="build/ctl/crierctl -s demo-state/crierd.sock"

$crierd -c config/demo.conf &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
for _ in $(seq 1 100); do
	$crierctl status >/dev/null 2>&1 && break
	sleep 0.1
done
$crierctl post --channel outbox --text "Hello from crier: this post was queued by the demo 5 seconds ago. #OpenGovWeek" --in 5s
echo
echo "crierd is running (pid $pid). In 5 seconds a file appears in $top/demo-state/outbox/outbox/."
echo "Try:  $crierctl status"
echo "      $crierctl list"
echo "      $crierctl post --channel outbox --text 'Hi' --in 10s"
echo "Ctrl-C stops crierd."
echo
wait $pid
