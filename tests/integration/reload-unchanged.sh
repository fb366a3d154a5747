#!/bin/sh
# A reload that changes neither the configuration nor the templates leaves
# every unchanged occurrence at a fingerprint compare (issue 16, point 4):
# nothing is rendered or written again. A template that changed, or a
# configuration file that changed at all, renders every post again.
. "$(dirname "$0")/lib.sh"

N=300
BASE=$(( $(date +%s) / 3600 * 3600 + 86400 ))	# tomorrow, on the hour
CAL="$T/cal.ics"
TPL="$T/templates"
mkdir -p "$TPL"

"$PY" - "$CAL" "$BASE" <<'PYEOF'
import datetime, sys
out, base = sys.argv[1], int(sys.argv[2])
at = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
with open(out, "w", newline="") as f:
    f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crier tests//EN\r\n")
    f.write("BEGIN:VEVENT\r\nUID:series@test\r\nDTSTAMP:20261101T000000Z\r\n"
            "DTSTART:%s\r\nRRULE:FREQ=HOURLY;COUNT=300\r\nSUMMARY:Open Gov Week\r\n"
            "DESCRIPTION:Join us.\r\nEND:VEVENT\r\n" % at(base))
    f.write("END:VCALENDAR\r\n")
PYEOF
printf '{{summary}}: {{description}}\n' > "$TPL/post.mustache"

cfg() {
	write_config "horizon = 60d" "templates = $TPL" "$@" \
	    "[channel outbox]" "type = outbox" \
	    "[calendar ogw]" "path = $CAL" "channels = outbox" "template = post"
}

# The "looked at closer" count of the last load applied, waited for: the
# LOG has $1 such lines first.
closer() {
	wait_for "[ \$(grep -c 'looked at closer' \"\$LOG\") -ge $1 ]" 60 ||
	    fail "load $1 never finished: $(tail -5 "$LOG")"
	grep 'looked at closer' "$LOG" | sed -n "$1p" |
	    sed 's/.*: \([0-9]*\) of \([0-9]*\) occurrence.*/\1 \2/'
}

# The text of every row, in id order.
texts() {
	"$PY" - "$STATE/crier.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
for r in db.execute("SELECT id, updated, text FROM deliveries ORDER BY id"):
    print("|".join(str(x) for x in r))
PYEOF
}

cfg
start_daemon -v
set -- $(closer 1)
[ "$1" = "$N" ] && [ "$2" = "$N" ] || fail "first load: $1 of $2 looked at, not $N of $N"
texts > "$T/t1"
grep -q '|Open Gov Week: Join us\.$' "$T/t1" || fail "first text: $(head -1 "$T/t1")"

# 1. Nothing changed: no occurrence is rendered again, no row is written.
ctl reload >/dev/null || fail "reload refused"
set -- $(closer 2)
[ "$1" = 0 ] && [ "$2" = "$N" ] || fail "unchanged reload looked at $1 of $2 again"
texts > "$T/t2"
cmp -s "$T/t1" "$T/t2" || fail "an unchanged reload wrote rows: $(diff "$T/t1" "$T/t2" | head -3)"

# 2. The same bytes written again (a new file, a new mtime) are the same.
cp "$CONF" "$CONF.new" && mv "$CONF.new" "$CONF"
touch "$TPL/post.mustache"
ctl reload >/dev/null || fail "reload refused"
set -- $(closer 3)
[ "$1" = 0 ] || fail "a configuration rewritten unchanged: $1 of $2 looked at again"

# 3. A template that changed: every post is rendered again, with its text.
printf '{{summary}} — {{description}}\n' > "$TPL/post.mustache"
ctl reload >/dev/null || fail "reload refused"
set -- $(closer 4)
[ "$1" = "$N" ] || fail "a changed template: $1 of $2 looked at again, not $N"
texts > "$T/t3"
[ "$(grep -c '|Open Gov Week — Join us\.$' "$T/t3")" = "$N" ] ||
    fail "the new template's text is not in every row: $(head -1 "$T/t3")"

# 4. A configuration that changed, if only by a comment, does the same.
cfg "# a comment"
ctl reload >/dev/null || fail "reload refused"
set -- $(closer 5)
[ "$1" = "$N" ] || fail "a changed configuration: $1 of $2 looked at again, not $N"
grep -q 'configuration or templates changed' "$LOG" ||
    fail "the reason is not logged"

# 5. And the next unchanged reload is back to compares.
ctl reload >/dev/null || fail "reload refused"
set -- $(closer 6)
[ "$1" = 0 ] || fail "unchanged after a change: $1 of $2 looked at again"
echo "PASS: $TEST_NAME"
