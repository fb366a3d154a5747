#!/bin/sh
# Secrets come from files or systemd credentials, work, and never appear in
# the log, in crierctl's answers or in the database's event log.
. "$(dirname "$0")/lib.sh"
. "$top_srcdir/tests/peers/mock.sh"

SECRET="cred-HMAC-s3cret-9f8e7d"
mkdir -p "$T/creds"
printf '%s\n' "$SECRET" > "$T/creds/hook"
chmod 400 "$T/creds/hook"
printf '%s\n' "$SECRET" > "$T/hmac"
chmod 600 "$T/hmac"
start_mock m --hmac-secret-file "$T/hmac"
url=$(mock_url m)

# Without LoadCredential's directory the configuration says what is missing.
write_config "[channel hook]" "type = webhook" "url = $url/hook" "credential = hook"
expect_rc 1 env -u CREDENTIALS_DIRECTORY "$CRIERD" -c "$CONF"
expect_out "crier.conf:9:"
expect_out "CREDENTIALS_DIRECTORY"

# With it (as systemd's LoadCredential= provides), posts are signed with it.
export CREDENTIALS_DIRECTORY="$T/creds"
start_daemon -v
expect_rc 0 ctl --json post --channel hook --text "Signed with a credential"
id=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "[ \"\$(state_of $id)\" = sent ]" 15 || fail "signed post not sent: $(ctl show "$id")"
[ "$(mock_requests m | jget '[r["verified"] for r in d if r["path"]=="/hook"][0]')" = True ] ||
    fail "the server could not verify the signature"

# A request the server refuses: its error is recorded, still without the secret.
mock_script m '[{"path":"/hook","status":400,"body":{"error":"bad payload"}}]'
expect_rc 0 ctl --json post --channel hook --text "Refused"
bad=$(echo "$OUT" | jget 'd["ids"][0]')
wait_for "[ \"\$(state_of $bad)\" = failed ]" 15 || fail "400 not failed"
kill -HUP "$CRIERD_PID"
wait_for "grep -q 'reload: configuration' '$LOG'" 10 || fail "no reload"

ctl --json status > "$T/out.status"
ctl --json list > "$T/out.list"
ctl --json show "$id" > "$T/out.show1"
ctl --json show "$bad" > "$T/out.show2"
ctl --json log --limit 1000 > "$T/out.log"
stop_daemon
for f in "$LOG" "$T"/out.* "$STATE/crier.db" "$STATE"/crier.db-wal; do
	[ -f "$f" ] || continue
	if grep -a -q "$SECRET" "$f"; then
		fail "the secret appears in $f"
	fi
done
grep -q "Signed with a credential" "$T/out.show1" || fail "sanity: show output is empty"

# A secret file others may read stops crierd with file, line and key, not the secret.
unset CREDENTIALS_DIRECTORY
chmod 644 "$T/hmac"
write_config "[channel hook]" "type = webhook" "url = $url/hook" "secret_file = $T/hmac"
expect_rc 1 "$CRIERD" -c "$CONF"
expect_out "crier.conf:9:"
expect_out "secret_file"
case "$OUT" in *"$SECRET"*) fail "the secret is in the error message" ;; esac
echo "PASS: $TEST_NAME"
