#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Nothing accepted is lost across kill -9. A bulletin on air when the head-end is killed plays
# again whole after the restart, under a new broadcast id, to a real endpoint that ran all
# along; one accepted but not yet played plays too; a client id is remembered; one that
# expired while the head-end was down is reported in the log and the status, not played.
. "$(dirname "$0")/lib.sh" "$1" 18201 15201
write_config 8.0
start_headend
EP=440608101201001	# 杨和镇
start_endpoint "$EP"
sleep 0.3

NOWCAST=$(json_text "$REPO/tests/data/bulletins/nowcast-1600.txt")
FORECAST=$(json_text "$REPO/tests/data/bulletins/forecast-24h-1700.txt")

kill9() {
	kill -9 "${PIDS[0]}"
	wait "${PIDS[0]}" 2>/dev/null
	PIDS=("${PIDS[@]:1}")
}

# The head-end's own process goes first in PIDS: start_headend anew puts it back there.
restart() {
	local ep=("${PIDS[@]}")
	PIDS=()
	start_headend
	PIDS+=("${ep[@]}")
}

# whole BROADCAST: the endpoint played it to its END, nothing lost
whole() {
	grep -E "^broadcast $1: .* lost 0, .*\(end\)$" "$T/ep-$EP.log" > /dev/null
}

post "{\"text\": $NOWCAST, \"targets\": [\"杨和镇\"], \"repeat\": 0, \"client_id\": \"durable-a\"}"
[ "$STATUS" = 202 ] || fail "first POST answered $STATUS $BODY"
A=$(jq .id <<< "$BODY")
post "{\"text\": $FORECAST, \"targets\": [\"杨和镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "second POST answered $STATUS $BODY"
B=$(jq .id <<< "$BODY")

# Kill in the middle of A, while B waits behind it.
for _ in $(seq 100); do
	sent=$(curl -s "$URL/v1/status" | jq '.playing[0].seconds_sent // 0')
	[ "$(echo "$sent > 2" | bc)" = 1 ] && break
	sleep 0.05
done
kill9
ok "killed with -9 after $sent s of bulletin $A, bulletin $B queued"
sleep 3.5	# the endpoint gives the cut broadcast up after silence_ms
grep -q "^broadcast $A: .*(silence after its last packet)" "$T/ep-$EP.log" &&
	ok "the endpoint heard bulletin $A cut short" || fail "endpoint: $(cat "$T/ep-$EP.log")"

restart
for id in "$A" "$B"; do
	grep -q "bulletin $id: accepted before the head-end stopped, queued again" "$T/headend.log" ||
		fail "bulletin $id was not queued again: $(grep "bulletin $id" "$T/headend.log")"
done
post "{\"text\": $NOWCAST, \"targets\": [\"杨和镇\"], \"client_id\": \"durable-a\"}"
[ "$STATUS" = 200 ] && [ "$(jq .id <<< "$BODY")" = "$A" ] &&
	ok "client id durable-a after the restart: 200, bulletin $A, nothing new" ||
	fail "client id after the restart: $STATUS $BODY"

# A third bulletin waits behind A and B; the head-end is killed and stays down past its
# expiry (its record says when: moved back here, as the clock would have moved on).
post "{\"text\": \"高明区气象台发布短时临近预报：未来2小时晴。\", \"kind\": \"nowcast\", \"targets\": [\"杨和镇\"]}"
[ "$STATUS" = 202 ] || fail "third POST answered $STATUS $BODY"
C=$(jq .id <<< "$BODY")
kill9
jq ".expires = $(( $(date +%s) - 30 ))" "$T/var/queue/$C.json" > "$T/c.json" &&
	mv "$T/c.json" "$T/var/queue/$C.json" || fail "cannot age bulletin $C"
restart
grep -q "bulletin $C: expired .* while the head-end was down; not played" "$T/headend.log" &&
	ok "bulletin $C expired while down: said in the log" || fail "no log line for bulletin $C"
curl -s "$URL/v1/status" | jq -e ".skipped[] | select(.bulletin == $C and
	(.reason | contains(\"expired while the head-end was down\")))" > /dev/null &&
	ok "and in the status" || fail "status: $(curl -s "$URL/v1/status" | jq -c .skipped)"
[ "$(jq -r .result "$T/var/done/$C.json")" = expired ] || fail "done/$C.json is not expired"

wait_idle 60
sleep 0.5
# The record of each bulletin names the broadcast that finally played it.
for id in "$A" "$B"; do
	bc=$(jq -r 'select(.result == "played") | .broadcast' "$T/var/done/$id.json" 2>/dev/null)
	if [ -n "$bc" ] && [ "$bc" != "$id" ] && whole "$bc" && [ ! -f "$T/var/queue/$id.json" ]; then
		ok "bulletin $id played whole after the restart as broadcast $bc"
	else
		fail "bulletin $id after the restart: broadcast '$bc'; $(cat "$T/ep-$EP.log")"
	fi
done
grep -q "^broadcast $C: " "$T/ep-$EP.log" && fail "bulletin $C played after it expired"
finish
