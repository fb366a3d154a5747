# Headless Chromium for the report tests (report-chromium.sh, report.sh),
# sourced after setting $tmp (a private directory) and $PY. Sets CHROMIUM
# or exits 77; chrome ARGS... runs it with a private profile and home,
# nothing fetched in the background, bounded in time.
CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: no chromium (scripts/install-deps.sh installs Debian's chromium)"
	exit 77
fi
if ! $PY -c 'import PIL' 2>/dev/null; then
	echo "FAIL: $PY cannot import PIL (python3-pil; scripts/install-deps.sh installs it)"
	exit 1
fi
mkdir -p "$tmp/home"
chrome() {
	HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home" XDG_CACHE_HOME="$tmp/home" \
	    timeout 180 "$CHROMIUM" --headless --disable-gpu --no-sandbox \
	    --no-first-run --disable-extensions --disable-sync \
	    --disable-background-networking --disable-component-update \
	    --user-data-dir="$tmp/profile" --enable-logging=stderr --v=0 "$@"
}
# chrome_page URL: wide (1400x1600) and phone (390x2400) screenshots,
# the DOM and console logs into $tmp; fails on any console message.
chrome_page() {
	chrome --window-size=1400,1600 --screenshot="$tmp/wide.png" "$1" \
	    >/dev/null 2>"$tmp/wide.log" || { echo "FAIL: chromium (wide)"; cat "$tmp/wide.log"; exit 1; }
	chrome --window-size=390,2400 --screenshot="$tmp/phone.png" "$1" \
	    >/dev/null 2>"$tmp/phone.log" || { echo "FAIL: chromium (phone)"; cat "$tmp/phone.log"; exit 1; }
	chrome --dump-dom "$1" >"$tmp/dom.html" 2>"$tmp/dom.log" ||
	    { echo "FAIL: chromium (dump-dom)"; cat "$tmp/dom.log"; exit 1; }
}
# chrome_quiet: fails if a page logged to the console (scripts or fetches
# the CSP refused, errors).
chrome_quiet() {
	if grep -h -e ':CONSOLE' -e 'Uncaught' "$tmp"/*.log; then
		echo "FAIL: the page logged to the console (above)"
		exit 1
	fi
}
