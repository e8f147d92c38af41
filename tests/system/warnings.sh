#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Warning state through the API and a real endpoint: illegal actions refused with their status
# and sentence; issue, issue again at the same colour (broadcast again), then lift after a
# kill -9 (the state survives); GET /v1/warnings and `headendctl warnings` along the way.
. "$(dirname "$0")/lib.sh" "$1" 18203 15203
write_config 10.0
start_headend
EP=440608101201001	# 杨和镇
start_endpoint "$EP"
sleep 0.3
ctl() { "$BUILD/headendctl" --config "$T/headend.cfg" "$@"; }

# expect NAME STATUS MESSAGE_SUBSTRING: checks the last answer
expect() {
	if [ "$STATUS" = "$2" ] && jq -e --arg m "$3" '.error | contains($m)' <<< "$BODY" > /dev/null; then
		ok "$1: $STATUS $(jq -r .error <<< "$BODY")"
	else
		fail "$1: expected $2 with \"$3\", got $STATUS $BODY"
	fi
}
warning() {
	post "{\"text\": \"高明区气象台$1\", \"targets\": [\"杨和镇\"], \"repeat\": 0}"
}
active() { curl -s "$URL/v1/warnings" | jq '.active | length'; }

warning "解除寒冷黄色预警信号"; expect "lift, nothing active" 409 "there is nothing to lift"
post '{"text": "冰雹", "kind": "warning", "signal": "hail", "colour": "blue"}'
expect "illegal colour" 422 "hail (冰雹) has no blue signal"
warning "将冰雹橙色预警信号更新为冰雹红色预警信号"; expect "change, nothing active" 409 "issue it (发布) before"

warning "发布冰雹橙色预警信号：测试。"
[ "$STATUS" = 202 ] || fail "issue answered $STATUS $BODY"
I1=$(jq .id <<< "$BODY")
w=$(curl -s "$URL/v1/warnings" | jq -c '.active[0] | [.signal, .colour, .where, .villages, .bulletin]')
[ "$w" = "[\"hail\",\"orange\",\"杨和镇\",16,$I1]" ] && ok "GET /v1/warnings: $w" || fail "warnings: $w"
ctl warnings | grep -q "^hail .* 冰雹 orange .* in 杨和镇 (16 villages), bulletin $I1" &&
	ok "headendctl warnings shows it" || fail "headendctl warnings: $(ctl warnings)"

warning "发布冰雹橙色预警信号：测试。"
[ "$STATUS" = 202 ] && ok "issued again at the same colour: 202" || fail "reissue answered $STATUS $BODY"
I2=$(jq .id <<< "$BODY")
[ "$(active)" = 1 ] || fail "$(active) active warnings after the reissue"
warning "解除冰雹红色预警信号"; expect "lift at another colour" 409 "is orange, not red, in 杨和镇"
wait_idle 60

kill -9 "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
EPS=("${PIDS[@]:1}")
PIDS=()
start_headend
PIDS+=("${EPS[@]}")
[ "$(curl -s "$URL/v1/warnings" | jq '.active[0].bulletin')" = "$I2" ] &&
	ok "after kill -9 the warning is still active (bulletin $I2)" ||
	fail "after the restart: $(curl -s "$URL/v1/warnings")"
warning "解除冰雹橙色预警信号。"
[ "$STATUS" = 202 ] && ok "lift after issue: 202" || fail "lift answered $STATUS $BODY"
L=$(jq .id <<< "$BODY")
[ "$(active)" = 0 ] && ok "no active warning after the lift" || fail "$(active) still active"
ctl warnings | grep -q "^no active warnings" || fail "headendctl warnings: $(ctl warnings)"
wait_idle 60
sleep 0.5

for pair in "$I1:issue" "$I2:issue" "$L:lift"; do
	id=${pair%:*}
	grep -qE "^broadcast $id: warning hail orange ${pair#*:}, .* lost 0, .*\(end\)$" "$T/ep-$EP.log" &&
		ok "the endpoint heard bulletin $id, hail orange ${pair#*:}" ||
		fail "endpoint, bulletin $id: $(cat "$T/ep-$EP.log")"
done
[ "$(grep -c '^broadcast ' "$T/ep-$EP.log")" = 3 ] || fail "endpoint: $(cat "$T/ep-$EP.log")"
finish
