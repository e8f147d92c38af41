#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Fleet benchmarks, printing figures (never pass or fail), on loopback in real time:
#   1. resilience: the share of endpoints with complete audio under faults on each endpoint's
#      own path (random loss 1/5/10 %, 5 % in bursts of 3 packet slots, 50 ms jitter), for
#      each redundancy setting of the head-end, and what each costs in kbit/s per group;
#   2. costs: head-end memory and CPU while a different bulletin plays in each of the four
#      towns, the whole district listening; fleet, decoder and reference endpoint CPU per
#      stream.
# One bulletin to 杨和镇 (462 endpoints) per setting; each endpoint runs one receiver per
# fault lane, so one broadcast measures every fault. The head-end runs at nice -10 where
# allowed, so that the simulator sharing its machine does not stall its pacer.
# Usage: bash bench/fleet.sh [BUILD_DIR]    (RUNS=n repeats the resilience broadcasts)
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build}")
RUNS=${RUNS:-1}
HTTP=18690
MC=15690
W=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"' EXIT
cd "$REPO"
NICE=(nice -n -10)
"${NICE[@]}" true 2> /dev/null || NICE=()

LANES=(none loss=1 loss=1 loss=5 loss=5 loss=5 loss=5 loss=5 loss=5 loss=10 loss=10
       loss=5,burst=3 loss=5,burst=3 loss=5,burst=3 jitter=50 jitter=50)
FORECAST=tests/data/bulletins/forecast-24h-1700.txt

config() {	# config SECOND_COPY CONTROL_COPIES
	cat > "$W/headend.cfg" <<CFG
state_dir = "$W/var";
http: { address = "127.0.0.1"; port = $HTTP; };
multicast: { interface = "127.0.0.1"; base = "239.192.0.0"; port = $MC; ttl = 0; pace = 1.0;
             second_copy = $1; control_copies = $2; };
CFG
	cat > "$W/endpoint.cfg" <<CFG
zones = "etc/zones.csv";
key = "$W/var/headend.pub";
multicast: { interface = "127.0.0.1"; base = "239.192.0.0"; port = $MC; };
CFG
}

headend_up() {
	"${NICE[@]}" "$BUILD/headend" --config "$W/headend.cfg" > "$W/headend.log" 2>&1 &
	HE=$!
	PIDS+=($HE)
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$HTTP/v1/status" && break
		sleep 0.1
	done
	TOKEN=$(cat "$W/var/operator.token")
}

headend_down() {
	kill "$HE" 2>/dev/null || true
	wait "$HE" 2>/dev/null || true
}

post() {	# post FILE TOWN
	jq -n --rawfile t "$1" --arg town "$2" '{text: $t, targets: [$town], repeat: 0}' |
		curl -s -o /dev/null -H 'Content-Type: application/json' \
			-H "Authorization: Bearer $TOKEN" --data-binary @- \
			"http://127.0.0.1:$HTTP/v1/bulletins"
}

wait_idle() {
	sleep 2
	for _ in $(seq 1200); do
		[ "$(curl -s "http://127.0.0.1:$HTTP/v1/status" |
			jq '(.playing|length)+(.queued|length)')" = 0 ] && return
		sleep 0.25
	done
}

fleet_up() {	# fleet_up OUT [options]
	local out=$1
	shift
	"$BUILD/fleet" --config "$W/endpoint.cfg" "$@" > "$out" 2>&1 &
	FLEET=$!
	PIDS+=($FLEET)
	for _ in $(seq 300); do
		grep -q '^fleet: ready' "$out" && return
		sleep 0.1
	done
}

fleet_down() {
	kill -TERM "$FLEET"
	wait "$FLEET" || true
}

# One broadcast through every lane; appends the per-broadcast summary lines to $W/$1.lines.
resilience_run() {	# resilience_run LABEL SECOND_COPY CONTROL_COPIES
	local args=()
	for l in "${LANES[@]}"; do args+=(--lane "$l"); done
	config "$2" "$3"
	rm -rf "$W/var"
	headend_up
	fleet_up "$W/fleet.out" --expect 杨和镇 --copy-delay "$2" --seed "$RANDOM" "${args[@]}"
	post "$FORECAST" 杨和镇
	wait_idle
	sleep 1
	fleet_down
	grep '^summary lane=.* broadcast=' "$W/fleet.out" >> "$W/$1.lines"
	grep -c 'behind, resynchronised' "$W/headend.log" >> "$W/$1.stalls" || true
	headend_down
}

# share FILE FAULTS: complete/addressed over every lane with those faults, as a percentage
share() {
	awk -v f="$2" '$3 == "faults=" f {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		a += v["addressed"]; c += v["complete"]
	} END { if (a) printf "%7.2f (%d)", 100 * c / a, a; else printf "%13s", "-" }' "$1"
}

kbps() {	# kbps FILE: RTP + control kbit/s per group at the IP layer, from the clean lane
	awk '$3 == "faults=none" {
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		printf "%6.1f + %4.1f", v["rtp_kbps"], v["control_kbps"]; exit }' "$1"
}

echo "== resilience: % of endpoints with complete audio (endpoint-broadcasts measured)"
echo "   one ${FORECAST##*/} broadcast to 杨和镇 per setting and run, $RUNS run(s), jitter buffer 5 frames"
printf '%-34s %13s %13s %13s %13s %13s %13s %13s\n' "setting (second_copy, control)" \
	"kbit/s/group" none "loss 1 %" "loss 5 %" "loss 10 %" "5 % bursts 3" "jitter 50 ms"
for s in "as-committed -1 0" "fec-only -1 1" "2-later-no-control 2 0" "back-to-back 0 1" \
	 "2-later 2 1" "3-later 3 1"; do
	set -- $s
	for _ in $(seq "$RUNS"); do resilience_run "$1" "$2" "$3"; done
	printf '%-34s %13s %s %s %s %s %s %s\n' "$1 ($2, $3)" "$(kbps "$W/$1.lines")" \
		"$(share "$W/$1.lines" none)" "$(share "$W/$1.lines" loss=1)" \
		"$(share "$W/$1.lines" loss=5)" "$(share "$W/$1.lines" loss=10)" \
		"$(share "$W/$1.lines" loss=5,burst=3)" "$(share "$W/$1.lines" jitter=50)"
done
echo "   head-end pacer stalls (resynchronised) per run: $(cat "$W"/*.stalls | tr '\n' ' ')"

echo "== costs: a different bulletin to each of the four towns at once, all 2350 endpoints listening"
config 2 1
rm -rf "$W/var"
headend_up
fleet_up "$W/costs.out"
"$BUILD/endpoint" --config "$W/endpoint.cfg" --id 440608001001001 > "$W/endpoint.log" 2>&1 &
EP=$!
PIDS+=($EP)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
idle_rss=$(rss "$HE")
for tb in 荷城街道:forecast-24h-1700 杨和镇:nowcast-0800 明城镇:nowcast-0900 \
	  更合镇:nowcast-1200; do
	post "tests/data/bulletins/${tb#*:}.txt" "${tb%%:*}"
done
t0=$(date +%s.%N)
c0=$(ticks "$HE")
e0=$(ticks "$EP")
peak=0
while [ "$(curl -s "http://127.0.0.1:$HTTP/v1/status" | jq '(.playing|length)+(.queued|length)')" != 0 ]; do
	r=$(rss "$HE")
	[ "$r" -gt "$peak" ] && peak=$r
	sleep 0.5
done
t1=$(date +%s.%N)
c1=$(ticks "$HE")
e1=$(ticks "$EP")
hz=$(getconf CLK_TCK)
secs=$(echo "$t1 - $t0" | bc -l)
audio=$(grep '^broadcast ' "$W/endpoint.log" | sed -E 's/.*, ([0-9.]+) s of audio.*/\1/' | head -1)
sleep 1
fleet_down
kill -TERM "$EP"
wait "$EP" 2>/dev/null || true
printf 'head-end: RSS idle %d KiB, up to %d KiB with four broadcasts on air (%d KiB high-water)\n' \
	"$idle_rss" "$peak" "$(awk '/^VmHWM/ {print $2}' "/proc/$HE/status")"
printf 'head-end: CPU %.1f %% of one core over the %.1f s the four broadcasts took (render included)\n' \
	"$(echo "100 * ($c1 - $c0) / $hz / $secs" | bc -l)" "$secs"
printf 'reference endpoint (verify + decode + write WAV): %.2f %% of one core while playing %s s\n' \
	"$(echo "100 * ($e1 - $e0) / $hz / $secs" | bc -l)" "${audio:-?}"
awk '/^summary costs/ {
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "fleet: %.1f s CPU for %d datagrams (%.2f us each, kernel receive included); ", v["cpu_s"], v["datagrams"], v["us_per_datagram"]
	printf "sampled Opus decoding %.1f us per 20 ms frame = %.2f %% of a core per stream; ", v["decode_us_per_frame"], v["decode_us_per_frame"] * 50 / 1e4
	printf "socket buffer drops %d; RSS %d KiB\n", v["socket_overflow"], v["max_rss_kib"] }' "$W/costs.out"
grep '^summary lane=0 faults=none \(broadcast\|endpoints\)=' "$W/costs.out" |
	sed -E 's/^summary /fleet: /; s/ (late_joined|missed_frames|rejoined|join_ms_max)=[^ ]*//g'
headend_down
