#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The upload API's locks: requests without a token, with a wrong, malformed, revoked, replaced
# or expired one are refused with 401 and change nothing; operator.token works from the first
# start; passwords are set through the API and checked slowly; a source that keeps failing is
# locked out even with the right password; log lines name the operator.
. "$(dirname "$0")/lib.sh" "$1" 18154 15181
write_config 10.0
echo 'auth: { session_s = 2; };' >> "$T/headend.cfg"
start_headend
ctl() { "$BUILD/headendctl" --config "$T/headend.cfg" "$@"; }
NOWCAST='{"text": "高明区气象台发布短时临近预报：未来3小时多云。", "kind": "nowcast", "targets": ["杨和镇"], "repeat": 0}'
POSTS=(/v1/bulletins /v1/keys/rotate /v1/tokens /v1/tokens/rotate /v1/tokens/revoke
       /v1/operators/mallory/password /v1/nothing)

# What a refused request must leave alone: the queue and history, the id counter, the
# accounts and tokens, the signing key, the operator token.
snapshot() {
	printf '%s %s %s %s %s\n' "$(curl -s "$URL/v1/status" | jq -c '[.playing, .queued, .recent]')" \
		"$(cat "$T/var/next-id" 2>/dev/null)" "$(md5sum < "$T/var/operators.json")" \
		"$(cat "$T/var/headend.pub" "$T/var/headend.key.next" 2>/dev/null | md5sum)" \
		"$(md5sum < "$T/var/operator.token")"
}

unchanged() {
	[ "$(snapshot)" = "$before" ] && ok "nothing changed after the refused requests ($1)" ||
		fail "state changed after $1: $before -> $(snapshot)"
}

# refused NAME MESSAGE [curl header args]: every state-changing path answers 401 with MESSAGE
refused() {
	local name=$1 msg=$2 path status bad=0
	shift 2
	for path in "${POSTS[@]}"; do
		status=$(curl -s -o "$T/answer" -w '%{http_code}' -H 'Content-Type: application/json' \
			"$@" --data-binary "$NOWCAST" "$URL$path")
		if [ "$status" != 401 ] || ! jq -e --arg m "$msg" '.error | contains($m)' "$T/answer" > /dev/null; then
			fail "$name: POST $path answered $status $(cat "$T/answer")"
			bad=1
		fi
	done
	[ "$bad" = 0 ] && ok "$name: 401 \"$msg\" on all ${#POSTS[@]} paths"
}

# First start: the token file, its mode, the accounts without a password.
[ "$(stat -c %a "$T/var/operator.token")" = 600 ] && [ "$(wc -l < "$T/var/operator.token")" = 1 ] &&
	[ "$(stat -c %a "$T/var/operators.json")" = 600 ] && [ "$(stat -c %a "$T/var/headend.key")" = 600 ] &&
	ok "operator.token, operators.json and headend.key are mode 600, the token alone on its line" ||
	fail "modes: $(stat -c '%n %a' "$T"/var/*)"
grep -q "operator token is in $T/var/operator.token" "$T/headend.log" && ok "the log says where the token is" ||
	fail "no log line names operator.token"
[ "$(jq '[.operators[] | select(.password != "")] | length' "$T/var/operators.json")" = 0 ] &&
	ok "no account has a password on first start" || fail "an account has a password: $(cat "$T/var/operators.json")"
! grep -Eiq 'password *=' "$REPO/etc/headend.cfg" && ok "the shipped config carries no password" ||
	fail "etc/headend.cfg sets a password"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/status")" = 200 ] && ok "GET /v1/status needs no token" ||
	fail "GET /v1/status refused without a token"

before=$(snapshot)
refused "no token" "needs an Authorization: Bearer token"
refused "wrong token" "unknown or revoked token" -H "Authorization: Bearer cx_$(head -c 32 /dev/urandom | base64 | tr -dc a-zA-Z0-9 | head -c 43)"
refused "the token with a character changed" "unknown or revoked token" -H "Authorization: Bearer ${TOKEN%?}x"
refused "Basic instead of Bearer" "is not \"Bearer TOKEN\"" -H "Authorization: Basic b3BlcmF0b3I6b3BlcmF0b3I="
refused "two tokens" "is not \"Bearer TOKEN\"" -H "Authorization: Bearer $TOKEN $TOKEN"
unchanged "no, wrong or malformed tokens"

# The operator token works and the log names who used it.
post "$NOWCAST"
[ "$STATUS" = 202 ] && ok "operator.token is accepted: $BODY" || fail "operator token: $STATUS $BODY"
grep -q "operator (token operator.token) POST /v1/bulletins: bulletin 1 accepted" "$T/headend.log" &&
	ok "the log line names the operator" || fail "log line: $(grep 'POST /v1/bulletins' "$T/headend.log")"

# Passwords: set through the API, logged in with, a wrong one slow.
printf 'correct horse battery\n' | ctl passwd alice 2> "$T/passwd.err" && ok "passwd alice" ||
	fail "passwd: $(cat "$T/passwd.err")"
printf 'short\n' | ctl passwd bob 2> "$T/short.err" && fail "a 5-byte password was accepted"
grep -q "10 to 256 bytes" "$T/short.err" && ok "a short password is refused" || fail "short: $(cat "$T/short.err")"
grep -q '"\$argon2id\$' "$T/var/operators.json" && ! grep -q "correct horse" "$T/var/operators.json" &&
	ok "the password is stored as an Argon2id hash" || fail "operators.json: $(cat "$T/var/operators.json")"
session=$(printf 'correct horse battery\n' | ctl login alice) || fail "login failed"
HEADEND_TOKEN=$session ctl send --kind nowcast --target 杨和镇 --repeat 0 "$REPO/tests/data/bulletins/nowcast-0800.txt" > /dev/null &&
	grep -q "http 127.0.0.1 alice POST /v1/bulletins: bulletin 2 accepted" "$T/headend.log" &&
	ok "a session from POST /v1/login works and is named in the log" || fail "session token refused"
t0=$(date +%s.%N)
printf 'wrong password!\n' | ctl login alice 2> "$T/wrong.err" && fail "a wrong password logged in"
took=$(echo "$(date +%s.%N) - $t0" | bc)
[ "$(echo "$took >= 1.0" | bc)" = 1 ] && grep -q "refused (401)" "$T/wrong.err" &&
	ok "a wrong password is refused after $took s" || fail "wrong password: $took s, $(cat "$T/wrong.err")"
printf 'anything at all\n' | ctl login operator 2> /dev/null && fail "the first operator logged in without a password"

# Expired, revoked and replaced tokens.
sleep 2.2
before=$(snapshot)
refused "expired session" "token expired" -H "Authorization: Bearer $session"
unchanged "an expired session"
cron=$(ctl token create cron) || fail "token create"
HEADEND_TOKEN=$cron ctl status > /dev/null && ctl token revoke cron && ok "an API token is issued and revoked" ||
	fail "token create/revoke"
before=$(snapshot)
refused "revoked API token" "unknown or revoked token" -H "Authorization: Bearer $cron"
unchanged "a revoked token"
old=$TOKEN
new=$(ctl token rotate) || fail "token rotate"
[ "$(cat "$T/var/operator.token")" = "$new" ] && [ "$new" != "$old" ] &&
	ok "token rotate wrote a new operator.token" || fail "operator.token not replaced"
before=$(snapshot)
refused "the replaced operator token" "unknown or revoked token" -H "Authorization: Bearer $old"
unchanged "the replaced operator token"
TOKEN=$new
post "$NOWCAST"
[ "$STATUS" = 202 ] && ok "the new operator token works" || fail "new token: $STATUS $BODY"

# Per-source limit: after 5 failures in all the right password is refused too, at once.
for _ in 1 2 3 4; do printf 'wrong password!\n' | ctl login alice 2> /dev/null; done
t0=$(date +%s.%N)
printf 'correct horse battery\n' | ctl login alice 2> "$T/limited.err" && fail "logged in while locked out"
took=$(echo "$(date +%s.%N) - $t0" | bc)
grep -q "refused (429): too many failed logins from 127.0.0.1" "$T/limited.err" && [ "$(echo "$took < 0.5" | bc)" = 1 ] &&
	ok "locked out after 5 failures, answered in $took s: $(cat "$T/limited.err")" ||
	fail "rate limit: $took s, $(cat "$T/limited.err")"
wait_idle 60
finish
