#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Bad requests to a running head-end: each is refused with its status and a sentence naming the
# problem, nothing is accepted, and the next good request is served.
. "$(dirname "$0")/lib.sh" "$1" 18082 15082
write_config 10.0
start_headend

GOOD='{"text": "高明区气象台发布短时临近预报：未来3小时多云。", "targets": ["杨和镇"], "repeat": 0}'
BIG=$(head -c 1500 /dev/zero | tr '\0' 'x')

# expect NAME STATUS MESSAGE_SUBSTRING: checks the last answer
expect() {
	if [ "$STATUS" = "$2" ] && jq -e --arg m "$3" '.error | contains($m)' <<< "$BODY" > /dev/null; then
		ok "$1: $STATUS $(jq -r .error <<< "$BODY")"
	else
		fail "$1: expected $2 with \"$3\", got $STATUS $BODY"
	fi
}

post '{"text": "abc"'; expect "truncated JSON" 400 "invalid JSON"
post 'not json at all'; expect "invalid JSON" 400 "invalid JSON at line 1"
post '["a list"]'; expect "not an object" 400 "must be a JSON object"
post '{"text": "预报", "target": ["杨和镇"]}'; expect "misspelt key" 400 'unknown key "target"'
post '{"kind": "nowcast"}'; expect "no text" 422 '"text" is missing'
post '{"text": "", "kind": "nowcast"}'; expect "empty text" 422 "text is empty"
post '{"text": " \n\t\u3000 ", "kind": "nowcast"}'; expect "white space only" 422 "text is empty"
post "$(printf '{"text": "\xff\xfe bad", "kind": "nowcast"}')"; expect "invalid UTF-8" 400 "invalid JSON"
post '{"text": "a\u0007b", "kind": "nowcast"}'; expect "control character" 422 "control character 0x07"
post "{\"text\": \"$BIG$BIG\", \"kind\": \"nowcast\"}"; expect "text over max_text" 413 "the limit is 2000"
post "{\"text\": \"$BIG$BIG$BIG$BIG$BIG$BIG\", \"kind\": \"nowcast\"}"; expect "body over max_body" 413 "the limit is 8192"
post '{"text": "预报", "kind": "nowcast", "targets": ["火星村"]}'; expect "unknown target" 422 "火星村"
post '{"text": "预报", "kind": "nowcast", "targets": ["新圩村"]}'; expect "ambiguous target" 422 "杨和镇/新圩村"
post '{"text": "预报", "kind": "bulletin"}'; expect "unknown kind" 422 'unknown kind "bulletin"'
post '{"text": "预报", "kind": "warning", "signal": "hail", "colour": "blue"}'; expect "illegal colour" 422 "no blue signal"
post '{"text": "高明区气象台发布冰雹橙色预警信号", "colour": "red"}'; expect "keys disagree with text" 422 "colour is red in the keys but orange in the text"
post '{"text": "预报", "kind": "nowcast", "repeat": 11}'; expect "repeat out of range" 422 '"repeat" must be'
post '{"text": "!!!???。。。", "kind": "forecast"}'; expect "punctuation only" 422 "nothing to read aloud"
post '{"text": "高明区气象台发布暴雨红色预警信号，同时解除寒冷黄色预警信号：请注意。"}'
expect "two warnings in one opening" 422 "more than one warning"
# A line break in a logged value must not forge a log line of its own.
post '{"text": "预报", "kind": "nowcast", "targets": ["x\n2026-01-01T00:00:00.000Z info bulletin 99: forged"]}'
expect "target with a line break" 422 "x"
grep -q '^2026-01-01T00:00:00.000Z info bulletin 99: forged' "$T/headend.log" &&
	fail "a request forged a log line" || ok "a line break in a request stays inside its log line"

STATUS=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' --data-binary "$GOOD" "$URL/v1/bulletins")
[ "$STATUS" = 415 ] && ok "wrong content type: 415" || fail "wrong content type answered $STATUS"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/bulletins")
[ "$STATUS" = 405 ] && ok "GET on bulletins: 405" || fail "GET on bulletins answered $STATUS"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/nothing")
[ "$STATUS" = 404 ] && ok "unknown path: 404" || fail "unknown path answered $STATUS"

# Half-sent: the headers promise 200 bytes, 20 arrive, then the client goes away.
exec 3<>/dev/tcp/127.0.0.1/$HTTP_PORT
printf 'POST /v1/bulletins HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"text": "高明区气' "$TOKEN" >&3
exec 3>&-
# Half-sent and left hanging: the server gives up on it (connection timeout) without accepting.
exec 4<>/dev/tcp/127.0.0.1/$HTTP_PORT
printf 'POST /v1/bulletins HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"text"' "$TOKEN" >&4
sleep 0.5

post "$GOOD"
[ "$STATUS" = 202 ] && ok "good request after the bad ones: 202 id $(jq .id <<< "$BODY")" ||
	fail "good request answered $STATUS $BODY"
[ "$(jq .id <<< "$BODY")" = 1 ] || fail "a bad request took a bulletin id: the good one got $(jq .id <<< "$BODY")"
exec 4>&-
wait_idle 30
grep -q "request ended before it was complete" "$T/headend.log" &&
	ok "the half-sent request was logged and dropped" || fail "no log line for the half-sent request"
[ "$(curl -s "$URL/v1/status" | jq '.recent | length')" = 1 ] && ok "exactly one bulletin played" ||
	fail "status shows $(curl -s "$URL/v1/status" | jq '.recent | length') bulletins played"
finish
