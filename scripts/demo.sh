#!/bin/sh
# The demo: installs what is missing, builds, checks the Open Gov Week 2027
# sample campaign, and runs crierd in the foreground on config/demo.conf with
# state in ./demo-state. The social channels are local folders under
# demo-state/outbox/ that render and measure like Mastodon and Bluesky; the
# newsletter goes over SMTP to a local server that keeps .eml files in
# demo-state/newsletter/.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/install-deps.sh
sh scripts/build.sh build
crierd=build/daemon/crierd
crierctl="build/ctl/crierctl -s demo-state/crierd.sock"

echo "== crierd --check: every Open Gov Week post rendered and measured, nothing sent"
$crierd -c config/demo.conf --check --from 2027-05-17 --to 2027-05-22 || true
echo

# The newsletter's mail server: Python's aiosmtpd on 127.0.0.1, any free port.
mkdir -p demo-state/newsletter
rm -f demo-state/smtp.port
/usr/bin/python3 tests/peers/smtp_peer.py --port-file demo-state/smtp.port \
    --maildir demo-state/newsletter --lifetime 86400 >demo-state/smtp.log 2>&1 &
smtp=$!
for _ in $(seq 1 100); do
	[ -s demo-state/smtp.port ] && break
	sleep 0.1
done
port=$(cat demo-state/smtp.port)
sed "s|^url = smtp://127.0.0.1:.*|url = smtp://127.0.0.1:$port|" config/demo.conf \
    > demo-state/demo.conf

$crierd -c demo-state/demo.conf &
pid=$!
trap 'kill -TERM $pid $smtp 2>/dev/null; wait $pid' INT TERM EXIT
for _ in $(seq 1 100); do
	$crierctl status >/dev/null 2>&1 && break
	sleep 0.1
done
sleep 1
echo "== the campaign, as crierd scheduled it"
$crierctl agenda --days 400
echo
echo "== the Bluesky stand-in previews the real Bluesky text and limit"
$crierctl preview --calendar ogw --uid ogw2027-daily@opengovpartnership.org
echo
echo "== this week's newsletter, sent now to the local mail server"
news=$($crierctl --json list --channel newsletter --state scheduled --limit 1 |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["deliveries"][0]["id"])')
$crierctl send-now "$news"
for _ in $(seq 1 100); do
	[ "$(ls demo-state/newsletter/*.eml 2>/dev/null | wc -l)" -ge 3 ] && break
	sleep 0.1
done
ls demo-state/newsletter/*.eml
echo
echo "== a post queued now, due in 5 seconds"
$crierctl post --channel outbox --text "Hello from crier: this post was queued by the demo 5 seconds ago. #OpenGovWeek" --in 5s
echo
echo "crierd is running (pid $pid). In 5 seconds a file appears in $top/demo-state/outbox/outbox/."
echo "Try, in another terminal in $top:"
echo "  $crierctl status"
echo "  $crierctl list --state held                 # the ministerial statement"
echo "  $crierctl show $news                # the newsletter: sent per person"
echo "  $crierctl post --dry-run --channel mastodon-ogp,bluesky-ogp --text 'Hi #OpenGovWeek'"
echo "  $crierctl log --follow"
echo "Ctrl-C stops crierd."
echo
wait $pid
