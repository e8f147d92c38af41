#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Microphone to decoder latency of live announcements, against a peer. A click goes into the
# capture FIFO (an ALSA file plugin, as in tests/system/live.sh) once a second; a receiver on
# loopback decodes the stream as an endpoint does (signatures, MANIFESTs) and notes when each
# click comes out of its Opus decoder. Same clock (CLOCK_MONOTONIC), same machine. The peer is
# ffmpeg reading the same kind of FIFO, encoding libopus at the same rate in 20 ms frames and
# sending plain RTP to 127.0.0.1 (localaddr=127.0.0.1, ttl=0), with its low-delay flags.
# Runs in a network namespace of its own (unshare -rn) with only loopback.
# Usage: bench/live_latency.sh [BUILD_DIR] [CLICKS]
set -u
if [ -z "${CX_NETNS:-}" ]; then
	exec unshare -rn env CX_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
BUILD=$(readlink -f "${1:-build}")
N=${2:-30}
REPO=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/cx-latency.XXXXXX")
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done; wait 2> /dev/null; rm -rf "$T"' EXIT
PROBE=$BUILD/bench/bench_live_probe
HTTP=18719
MC=15719
PEER=15718

export ALSA_CONFIG_PATH=$T/asound.conf
cat > "$ALSA_CONFIG_PATH" <<CFG
pcm.benchcap { type file; slave.pcm { type null }; file "/dev/null"; infile "$T/mic.fifo";
               format "raw" }
CFG
cat > "$T/headend.cfg" <<CFG
state_dir = "$T/var";
zones = "$REPO/etc/zones.csv";
signals = "$REPO/etc/signals.cfg";
schedule = "$REPO/etc/schedule.cfg";
http: { address = "127.0.0.1"; port = $HTTP; };
multicast: { interface = "127.0.0.1"; base = "239.192.0.0"; port = $MC; ttl = 0; };
live: { device = "benchcap"; buffer_frames = ${BUFFER:-3}; };
CFG
mkfifo "$T/mic.fifo" "$T/peer.fifo"
"$BUILD/headend" --config "$T/headend.cfg" > "$T/headend.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
	curl -s -o /dev/null "http://127.0.0.1:$HTTP/v1/status" && break
	sleep 0.1
done
TOKEN=$(cat "$T/var/operator.token")

# latencies WRITTEN HEARD: one line per click, ms
latencies() {
	paste "$1" "$2" | awk 'NF == 2 { printf "%.3f\n", ($2 - $1) / 1e6 }' | sort -n
}

# summary FILE: "p50 p99 max" in ms
summary() {
	awk '{ v[NR] = $1 } END {
		p50 = v[int((NR + 1) / 2)]; i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
		printf "%.1f %.1f %.1f", p50, v[i], v[NR] }' "$1"
}

# Ours: the listener joins what 杨和村's loudspeaker joins (district, 杨和镇, 杨和村).
"$PROBE" listen "$MC" "$N" "$T/ours.heard" "$T/var/headend.pub" \
	239.192.0.1 239.192.202.0 239.192.202.201 &
LISTEN=$!
"$PROBE" clicks "$T/mic.fifo" "$N" 1000 "$T/ours.written" &
PIDS+=($!)
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{"targets": ["杨和镇"]}' "http://127.0.0.1:$HTTP/v1/live"
wait "$LISTEN" || echo "live_latency: the receiver heard $(wc -l < "$T/ours.heard") of $N clicks"
LIVE=$(curl -s "http://127.0.0.1:$HTTP/v1/live")
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{}' "http://127.0.0.1:$HTTP/v1/live/stop"

# The peer: ffmpeg, the same clicks, plain RTP to loopback.
"$PROBE" listen "$PEER" "$N" "$T/peer.heard" &
LISTEN=$!
"$PROBE" clicks "$T/peer.fifo" "$N" 1000 "$T/peer.written" &
PIDS+=($!)
ffmpeg -hide_banner -loglevel error -nostdin -fflags nobuffer -flags low_delay \
	-probesize 32 -analyzeduration 0 -f s16le -ar 48000 -ac 1 -i "$T/peer.fifo" \
	-c:a libopus -b:a 24000 -application voip -frame_duration 20 -vbr on \
	-flush_packets 1 -f rtp -payload_type 96 \
	"rtp://127.0.0.1:$PEER?localaddr=127.0.0.1&ttl=0&pkt_size=1200" &
PIDS+=($!)
wait "$LISTEN" || echo "live_latency: the peer's receiver heard $(wc -l < "$T/peer.heard") of $N"

latencies "$T/ours.written" "$T/ours.heard" > "$T/ours.ms"
latencies "$T/peer.written" "$T/peer.heard" > "$T/peer.ms"
read -r o50 o99 omax < <(summary "$T/ours.ms")
read -r p50 p99 pmax < <(summary "$T/peer.ms")
echo "microphone to decoder, $(wc -l < "$T/ours.ms") and $(wc -l < "$T/peer.ms") clicks (ms):"
printf '%-44s %8s %8s %8s\n' "" p50 p99 max
printf '%-44s %8s %8s %8s\n' "head-end (signed, buffer_frames ${BUFFER:-3})" "$o50" "$o99" "$omax"
printf '%-44s %8s %8s %8s\n' "ffmpeg libopus → RTP (unsigned peer)" "$p50" "$p99" "$pmax"
printf '%-44s %8s %8s %8s\n' "ratio head-end / peer" \
	"$(echo "scale=2; $o50 / $p50" | bc)" "$(echo "scale=2; $o99 / $p99" | bc)" \
	"$(echo "scale=2; $omax / $pmax" | bc)"
echo "head-end's own capture to send (GET /v1/live): $(jq -c '.counters | {latency_ms, dropped, inserted, overruns}' <<< "$LIVE")"
