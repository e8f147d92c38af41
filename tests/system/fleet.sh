#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The whole district on loopback: tools/fleet holds all 2,350 loudspeakers, each with a socket
# and group joins of its own. One broadcast to 杨和镇 and 明城镇: exactly their 980 endpoints
# hear it, each of them every frame the head-end sent, the sampled ones (one per village)
# verifying every signature and decoding; the other 1,370 receive nothing at all.
. "$(dirname "$0")/lib.sh" "$1" 18611 15611
. "$(dirname "$0")/fleet_lib.sh"
write_config 1.0
start_headend
start_fleet fleet --expect 杨和镇,明城镇
grep -q '^fleet: 2350 endpoints, 82 sampled' "$T/fleet.out" && ok "$(head -1 "$T/fleet.out")" ||
	fail "fleet: $(head -1 "$T/fleet.out")"

post '{"text": "高明区气象台发布短时临近预报：未来两小时杨和镇、明城镇多云，局部有小阵雨。", "kind": "nowcast", "targets": ["杨和镇", "明城镇"], "repeat": 0}'
[ "$STATUS" = 202 ] || fail "POST answered $STATUS $BODY"
ID=$(jq .id <<< "$BODY")
wait_idle 60
sleep 1
stop_fleet

read -r BC FRAMES < <(curl -s "$URL/v1/status" |
	jq -r ".recent[] | select(.id == $ID) | \"\(.broadcast) \(.frames)\"")
line=$(grep "^summary lane=0 faults=none broadcast=$BC " "$T/fleet.out")
if expect_vals "broadcast $BC" "$line" addressed=980 heard=980 complete=980 \
	frames_min="$FRAMES" frames_max="$FRAMES" concealed_pct=0.0000 rejected=0 \
	decode_errors=0 late_joined=0; then
	ok "broadcast $BC: all 980 endpoints of 杨和镇 and 明城镇 played all $FRAMES frames"
fi
line=$(grep '^summary lane=0 faults=none endpoints=' "$T/fleet.out")
expect_vals "district" "$line" endpoints=2350 expected=980 heard=980 complete=980 wrong=0 \
	silent_others=1370 foreign=0 &&
	ok "the other 1370 endpoints heard nothing and received no packet of it"
line=$(grep '^summary costs' "$T/fleet.out")
expect_vals "costs" "$line" socket_overflow=0 && ok "no datagram dropped on a full socket buffer"
finish
