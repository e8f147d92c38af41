#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# No accepted bulletin lost when the head-end is killed mid-broadcast, at fleet scale: two
# broadcasts on air (杨和镇 and 明城镇) and a third queued behind the first when kill -9
# comes; after the restart the durable queue plays all three again, and every endpoint of
# their towns hears each of them whole under its new broadcast id.
. "$(dirname "$0")/lib.sh" "$1" 18614 15614
. "$(dirname "$0")/fleet_lib.sh"
write_config 1.0
start_headend
start_fleet restart --expect 杨和镇,明城镇

declare -A TOWN ENDPOINTS=( [杨和镇]=462 [明城镇]=518 )
for b in "杨和镇 杨和镇气象站提醒：今天下午有雷阵雨，外出请带好雨具。" \
	 "明城镇 明城镇气象站提醒：今天下午有雷阵雨，请注意防范雷电。" \
	 "杨和镇 杨和镇气象站提醒：夜间气温下降，请注意保暖。"; do
	town=${b%% *}
	post "{\"text\": \"${b#* }\", \"kind\": \"nowcast\", \"targets\": [\"$town\"], \"repeat\": 0}"
	[ "$STATUS" = 202 ] || fail "POST to $town answered $STATUS $BODY"
	TOWN[$(jq .id <<< "$BODY")]=$town
done
sleep 2.5
kill -9 "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
ep=("${PIDS[@]:1}")
PIDS=()
start_headend
PIDS+=("${ep[@]}")
n=$(grep -c 'queued again as broadcast' "$T/headend.log")
[ "$n" = 3 ] && ok "the restarted head-end queued all three again" ||
	fail "$n bulletins queued again after the restart, expected 3"
wait_idle 90
sleep 1
stop_fleet

for id in "${!TOWN[@]}"; do
	rec="$T/var/done/$id.json"
	town=${TOWN[$id]}
	if [ ! -f "$rec" ]; then
		fail "bulletin $id to $town has no outcome in var/done"
		continue
	fi
	bc=$(jq .broadcast "$rec")
	result=$(jq -r .result "$rec")
	line=$(grep "^summary lane=0 faults=none broadcast=$bc " "$T/restart.out")
	if [ "$result" = played ] && expect_vals "bulletin $id (broadcast $bc)" "$line" \
		addressed="${ENDPOINTS[$town]}" heard="${ENDPOINTS[$town]}" \
		complete="${ENDPOINTS[$town]}"; then
		ok "bulletin $id: all ${ENDPOINTS[$town]} endpoints of $town heard broadcast $bc whole"
	else
		[ "$result" = played ] || fail "bulletin $id: $result"
	fi
done
finish
