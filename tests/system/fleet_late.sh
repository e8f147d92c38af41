#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Joining mid-broadcast. One endpoint in twenty of the fleet loses power 3 s into a broadcast
# to 杨和镇 and comes back a second later; a reference endpoint starts 4 s in. Each starts at
# the next packet it can verify, within about a second (the next START), reports the part it
# missed, and loses nothing after it; everyone else plays the broadcast whole.
. "$(dirname "$0")/lib.sh" "$1" 18613 15613
. "$(dirname "$0")/fleet_lib.sh"
write_config 1.0
start_headend
start_fleet late --expect 杨和镇 --reboot 0.05@3+1

post '{"text": "高明区气象台发布短时临近预报：受高空槽影响，未来三小时杨和镇有雷阵雨，局部雨量较大，请注意防范。", "kind": "nowcast", "targets": ["杨和镇"], "repeat": 0}'
[ "$STATUS" = 202 ] || fail "POST answered $STATUS $BODY"
ID=$(jq .id <<< "$BODY")
EP=440608101203001
sleep 4
start_endpoint "$EP"
wait_idle 60
sleep 1
stop_fleet
kill -TERM "$EP_PID"
wait "$EP_PID" 2>/dev/null

read -r BC FRAMES < <(curl -s "$URL/v1/status" |
	jq -r ".recent[] | select(.id == $ID) | \"\(.broadcast) \(.frames)\"")
line=$(grep "^summary lane=0 faults=none broadcast=$BC " "$T/late.out")
rejoined=$(val "$line" rejoined)
expect_vals "broadcast $BC" "$line" addressed=462 heard=462 complete=462 \
	late_joined="$rejoined" frames_max="$FRAMES"
if [ "${rejoined:-0}" -ge 15 ] && [ "$(val "$line" join_ms_max)" -le 1600 ]; then
	ok "$rejoined endpoints came back mid-broadcast and played again within $(val "$line" join_ms_max) ms"
else
	fail "rejoined ${rejoined:-?}, slowest after $(val "$line" join_ms_max) ms"
fi

# Each one that came back: missed + played = the whole broadcast, and complete from there.
bad=0
while read -r r; do
	m=$(val "$r" missed)
	f=$(val "$r" frames)
	if [ "$m" -lt 150 ] || [ $((m + f)) != "$FRAMES" ] || [ "$(val "$r" complete)" != 1 ]; then
		bad=$((bad + 1))
		echo "  $r"
	fi
done < <(grep "^result .*broadcast=$BC .*join_ms=[0-9]" "$T/late.report")
[ "$bad" = 0 ] && ok "each reported the frames it missed; missed + played = $FRAMES, complete" ||
	fail "$bad endpoints that came back did not account for the broadcast"

line=$(grep "^broadcast $BC: " "$T/ep-$EP.log")
missed=$(sed -nE 's/.*missed the first ([0-9]+) frames.*/\1/p' <<< "$line")
if [ -n "$missed" ] && [ "$missed" -ge 150 ] && [ "$missed" -le 300 ] &&
	grep -q ', lost 0, ' <<< "$line"; then
	ok "reference endpoint started 4 s late: $line"
else
	fail "reference endpoint: $line"
fi
finish
