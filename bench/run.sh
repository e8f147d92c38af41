#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Every benchmark, one after the other, printing figures (never pass or fail):
#   POST → first RTP packet over 100 uploads; head-end memory idle and broadcasting to all four
#   towns at once; render time against espeak-ng + opusenc; what verifying the audio costs an
#   endpoint under each authentication scheme; the fleet of 2,350 endpoints under faults and
#   what each redundancy setting costs (bench/fleet.sh); province scale (bench/province.sh);
#   the head-end receiving the status reports of all 2,350 endpoints (bench/reports.sh).
# Usage: bash bench/run.sh [BUILD_DIR]   (builds it first if needed; FLEET=0 leaves out the
#        fleet, province and report benchmarks, some 25 minutes)
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build}")
cmake -S "$REPO" -B "$BUILD" > /dev/null && cmake --build "$BUILD" -j2 > /dev/null
W=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
cd "$REPO"

cat > "$W/headend.cfg" <<CFG
state_dir = "$W/var";
http: { port = 18090; };
multicast: { interface = "127.0.0.1"; port = 15090; ttl = 0; pace = 1.0; };
CFG
"$BUILD/headend" --config "$W/headend.cfg" 2> "$W/headend.log" &
PID=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18090/v1/status && break; sleep 0.1; done
export HEADEND_TOKEN=$(cat "$W/var/operator.token")

rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
echo "== head-end memory"
echo "idle: RSS $(rss) KiB"
i=0
for town in 荷城街道 杨和镇 明城镇 更合镇; do
	f=$(ls tests/data/bulletins/*.txt | sed -n "$((i * 3 + 1))p")
	jq -n --rawfile t "$f" --arg town "$town" '{text: $t, targets: [$town], repeat: 0}' |
		curl -s -o /dev/null -H 'Content-Type: application/json' \
			-H "Authorization: Bearer $HEADEND_TOKEN" --data-binary @- \
			http://127.0.0.1:18090/v1/bulletins
	i=$((i + 1))
done
peak=0
for _ in $(seq 20); do
	sleep 0.5
	r=$(rss)
	[ "$r" -gt "$peak" ] && peak=$r
done
echo "broadcasting a different bulletin to each of the 4 towns: RSS up to $peak KiB" \
     "(VmHWM $(awk '/^VmHWM/ {print $2}' "/proc/$PID/status") KiB)"
wait_idle() {
	for _ in $(seq 600); do
		[ "$(curl -s http://127.0.0.1:18090/v1/status | jq '(.playing|length)+(.queued|length)')" = 0 ] && return
		sleep 0.2
	done
}

echo "== pacing: interval error of our sender and of ffmpeg -re, same audio, same capture"
wait_idle
f=tests/data/bulletins/nowcast-1600.txt
"$BUILD/bench/bench_pacing" ours 239.192.202.0 15090 > "$W/ours.pacing" &
CAP=$!
sleep 0.3
jq -n --rawfile t "$f" '{text: $t, targets: ["杨和镇"], repeat: 0}' |
	curl -s -o /dev/null -H 'Content-Type: application/json' \
			-H "Authorization: Bearer $HEADEND_TOKEN" --data-binary @- \
		http://127.0.0.1:18090/v1/bulletins
wait "$CAP"
grep -v ready "$W/ours.pacing"
"$BUILD/tts" -o "$W/pacing.wav" "$f" 2> /dev/null
"$BUILD/bench/bench_pacing" ffmpeg 239.192.202.0 15091 > "$W/ffmpeg.pacing" &
CAP=$!
sleep 0.3
# ffmpeg must name the loopback interface and TTL 0, or it sends by the default route.
ffmpeg -hide_banner -loglevel error -re -i "$W/pacing.wav" -c:a libopus -b:a 24k \
	-application voip -frame_duration 20 -f rtp \
	"rtp://239.192.202.0:15091?localaddr=127.0.0.1&ttl=0" > /dev/null
wait "$CAP"
grep -v ready "$W/ffmpeg.pacing"
kill "$PID"; wait "$PID" 2>/dev/null || true

echo "== POST to first RTP packet"
sed -i 's/pace = 1.0/pace = 20.0/' "$W/headend.cfg"
"$BUILD/headend" --config "$W/headend.cfg" 2> "$W/headend2.log" &
PID=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18090/v1/status && break; sleep 0.1; done
export HEADEND_TOKEN=$(cat "$W/var/operator.token")
"$BUILD/bench/bench_first_packet" http://127.0.0.1:18090 15090 100

echo "== audio authentication, endpoint side"
"$BUILD/bench/bench_verify"

echo "== render against espeak-ng + opusenc"
RUNS=${RUNS:-5} bash bench/render.sh "$BUILD"

[ "${FLEET:-1}" = 0 ] && exit 0
echo "== fleet: 2,350 endpoints, faults and redundancy, costs per stream"
bash bench/fleet.sh "$BUILD"

echo "== province scale"
bash bench/province.sh "$BUILD"

echo "== status reports: head-end CPU, silence to village alarm"
bash bench/reports.sh "$BUILD"
