#!/bin/sh
# Installs what building and testing crier needs on Debian 12, if missing.
# Run as root (or with sudo). Does nothing when everything is present.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libuv1-dev libcurl4-openssl-dev libical-dev libjansson-dev libsqlite3-dev
libinih-dev libutf8proc-dev libsystemd-dev libssl-dev check
nettle-dev
python3-yaml
python3 python3-aiosmtpd python3-recurring-ical-events python3-icalendar openssl tzdata sqlite3 git ca-certificates curl
man-db groff-base postfix nginx-light time
chromium python3-pil"

missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo "$0" "$@"
	fi
	echo "install-deps: missing packages:$missing; run this script as root" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# nginx-light and time are for make bench-peers (a private nginx on
# 127.0.0.1; Debian also enables its own nginx.service on port 80, which
# crier does not use). postfix is for tests only (a private instance on 127.0.0.1): leave the
# system's mail configuration alone.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections 2>/dev/null || true
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
