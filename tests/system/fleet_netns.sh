#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The district behind a lossy link. Three network namespaces of the test's own: the head-end,
# tools/relay dropping 5 % of everything at random (seeded), and the fleet of 2,350
# endpoints; veth pairs with documentation addresses join them and nothing leaves them.
# With the shipped redundancy (second copies, control copies) every endpoint of 杨和镇
# plays the broadcast completely. Skipped (77) where `ip netns add` is not permitted.
. "$(dirname "$0")/lib.sh" "$1" 18612 15612
. "$(dirname "$0")/fleet_lib.sh"
H=cx6-he-$$
R=cx6-relay-$$
F=cx6-fleet-$$
trap 'cleanup; netns_remove' EXIT
if ! netns_add "$H" "$R" "$F"; then
	echo "SKIP: ip netns add is not permitted here (uid $(id -u)); system.fleet covers loopback"
	exit 77
fi
netns_link "$H" he0 192.0.2.1/24 "$R" rl0 192.0.2.2/24 &&
	netns_link "$R" rl1 198.51.100.1/24 "$F" fl0 198.51.100.2/24 ||
	{ fail "cannot link the namespaces"; finish; }

write_config 1.0
sed -i 's/interface = "127.0.0.1"; base/interface = "192.0.2.1"; base/; s/ttl = 0;/ttl = 1;/' \
	"$T/headend.cfg"
sed 's/interface = "127.0.0.1"/interface = "198.51.100.2"/' "$T/endpoint.cfg" > "$T/endpoint-ns.cfg"

# The head-end and its HTTP API live in their namespace; so do the requests.
ip netns exec "$H" "$BUILD/headend" --config "$T/headend.cfg" > "$T/headend.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	ip netns exec "$H" curl -s -o /dev/null "$URL/v1/status" && break
	sleep 0.1
done
TOKEN=$(cat "$T/var/operator.token") || { fail "head-end did not start"; finish; }

ip netns exec "$R" "$BUILD/relay" --in 192.0.2.2 --out 198.51.100.1 --port "$MC_PORT" \
	--zones "$REPO/etc/zones.csv" --faults loss=5 --seed 20240607 > "$T/relay.out" 2>&1 &
RELAY=$!
PIDS+=($RELAY)
FLEET_NS=$F FLEET_CONFIG=$T/endpoint-ns.cfg start_fleet ns --expect 杨和镇 --copy-delay 2

BODY=$(jq -n '{text: "高明区气象台发布短时临近预报：受高空槽影响，未来三小时杨和镇有雷阵雨，局部雨量较大，请注意防范。", kind: "nowcast", targets: ["杨和镇"], repeat: 0}' |
	ip netns exec "$H" curl -s -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $TOKEN" --data-binary @- "$URL/v1/bulletins")
ID=$(jq .id <<< "$BODY")
[ -n "$ID" ] && [ "$ID" != null ] || fail "POST answered $BODY"
for _ in $(seq 600); do
	s=$(ip netns exec "$H" curl -s "$URL/v1/status") || true
	# Idle is not enough: the finished broadcast reaches "recent" a moment after it leaves
	# "playing", and its record is what is read below.
	[ -n "$s" ] && [ "$(jq "[.recent[] | select(.id == $ID)] | length" <<< "$s")" = 1 ] && break
	sleep 0.1
done
sleep 1
stop_fleet
kill -TERM "$RELAY"
wait "$RELAY" 2>/dev/null

read -r BC FRAMES < <(jq -r ".recent[] | select(.id == $ID) | \"\(.broadcast) \(.frames)\"" <<< "$s")
lost=$(sed -nE 's/.*lost ([0-9]+) \(([0-9.]+) %\).*/\2/p' "$T/relay.out")
if [ -n "$lost" ] && [ "$(echo "$lost >= 3 && $lost <= 7" | bc)" = 1 ]; then
	ok "the relay dropped $lost % of the packets: $(tail -1 "$T/relay.out")"
else
	fail "relay: $(cat "$T/relay.out")"
fi
line=$(grep "^summary lane=0 faults=none broadcast=$BC " "$T/ns.out")
expect_vals "broadcast $BC" "$line" addressed=462 heard=462 complete=462 \
	frames_max="$FRAMES" rejected=0 decode_errors=0 &&
	ok "all 462 endpoints of 杨和镇 played all $FRAMES frames through the lossy link (from copies $(val "$line" copy_pct) %, FEC $(val "$line" fec_pct) %)"
line=$(grep '^summary lane=0 faults=none endpoints=' "$T/ns.out")
expect_vals "district" "$line" wrong=0 silent_others=1888 foreign=0 &&
	ok "the other 1888 endpoints heard nothing"
finish
