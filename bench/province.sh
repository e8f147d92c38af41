#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Province scale, printing figures (never pass or fail): how far one head-end goes before
# something saturates, as far as this machine lets us see.
#   1. endpoints: a synthetic directory at the addressing plan's limit of towns (511), loaded
#      by the head-end: start-up time and memory;
#   2. streams: N different bulletins to N towns at once (each its own group and broadcast):
#      how long until all are on air, renderer underruns, pacer stalls, head-end CPU and
#      memory, packets sent per second. Nobody listens: receivers are tools/fleet's business
#      (bench/fleet.sh), and on a real network the switches copy multicast, not the head-end.
# Usage: bash bench/province.sh [BUILD_DIR]    (STREAMS="16 64 256" to choose)
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build}")
STREAMS=${STREAMS:-16 64 256}
HTTP=18691
MC=15691
W=$(mktemp -d)
HE=
trap '[ -n "$HE" ] && kill "$HE" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
cd "$REPO"
NICE=(nice -n -10)
"${NICE[@]}" true 2> /dev/null || NICE=()

# directory TOWNS VILLAGES ENDPOINTS FILE: district 440699, every code in the plan's range
directory() {
	awk -v T="$1" -v V="$2" -v E="$3" 'BEGIN {
		print "endpoint_id,district_code,district_name,town_code,town_name,village_code,village_name,site"
		for (t = 1; t <= T; t++) for (v = 1; v <= V; v++) for (e = 1; e <= E; e++)
			printf "440699%03d%03d%03d,440699,示范区,440699%03d,镇%03d,440699%03d%03d,村%03d%03d,点%03d\n",
				t, v, e, t, t, t, v, t, v, e
	}' > "$4"
}

headend_up() {	# headend_up ZONES
	cat > "$W/headend.cfg" <<CFG
state_dir = "$W/var";
zones = "$1";
http: { address = "127.0.0.1"; port = $HTTP; };
multicast: { interface = "127.0.0.1"; base = "239.192.0.0"; port = $MC; ttl = 0; pace = 1.0; };
broadcast: { repeat_gap_ms = 500; };
CFG
	rm -rf "$W/var"
	T0=$(date +%s.%N)
	"${NICE[@]}" "$BUILD/headend" --config "$W/headend.cfg" > "$W/headend.log" 2>&1 &
	HE=$!
	for _ in $(seq 600); do
		curl -s -o /dev/null "http://127.0.0.1:$HTTP/v1/status" && break
		kill -0 "$HE" 2> /dev/null || break
		sleep 0.1
	done
	UP=$(echo "$(date +%s.%N) - $T0" | bc -l)
	TOKEN=$(cat "$W/var/operator.token" 2> /dev/null) || return 1
}

headend_down() {
	kill "$HE"
	wait "$HE" 2>/dev/null || true
	HE=
}

rss() { awk '/^VmRSS/ {print $2}' "/proc/$HE/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$HE/stat"; }

echo "== endpoints: a directory of 511 towns at the plan's limit"
for size in "511 20 10" "511 100 10" "511 195 10" "511 200 10"; do
	set -- $size
	directory "$1" "$2" "$3" "$W/zones.csv"
	printf '%d towns x %d villages x %d = %d endpoints (%d MB of CSV): ' "$1" "$2" "$3" \
		$(($1 * $2 * $3)) $(($(stat -c %s "$W/zones.csv") >> 20))
	if headend_up "$W/zones.csv"; then
		printf 'ready after %.1f s, RSS %d KiB\n' "$UP" "$(rss)"
		headend_down
	else
		echo "refused: $(grep -m1 error "$W/headend.log" | sed 's/^[^ ]* //')"
		wait "$HE" 2> /dev/null || true
		HE=
	fi
done

echo "== streams: N different bulletins to N towns at once, 5 s of text played 11 times"
directory 511 2 1 "$W/zones.csv"
printf '%8s %18s %7s %8s %14s %10s\n' streams speech_wait_s_max stalls cpu_% cpu_%/stream rss_KiB
for n in $STREAMS; do
	headend_up "$W/zones.csv"
	c0=$(ticks)
	t0=$(date +%s.%N)
	for t in $(seq "$n"); do
		printf -v town '镇%03d' "$t"
		jq -n --arg town "$town" '{text: ("高明区气象台提醒" + $town + "：今天下午有雷阵雨，请注意防范。"),
			kind: "nowcast", targets: [$town], repeat: 10}' |
			curl -s -o /dev/null -H 'Content-Type: application/json' \
				-H "Authorization: Bearer $TOKEN" --data-binary @- \
				"http://127.0.0.1:$HTTP/v1/bulletins"
	done
	peak=0
	for _ in $(seq 3000); do
		s=$(curl -s "http://127.0.0.1:$HTTP/v1/status")
		r=$(rss)
		[ "$r" -gt "$peak" ] && peak=$r
		[ "$(jq '(.playing|length)+(.queued|length)' <<< "$s")" = 0 ] && break
		sleep 0.5
	done
	secs=$(echo "$(date +%s.%N) - $t0" | bc -l)
	c1=$(ticks)
	cpu=$(echo "100 * ($c1 - $c0) / $(getconf CLK_TCK) / $secs" | bc -l)
	printf '%8d %18.1f %7d %8.1f %14.2f %10d\n' "$n" \
		"$(sed -nE 's/.*fell behind the pacer ([0-9]+) times.*/\1/p' "$W/headend.log" | sort -n | tail -1 | awk '{print $1 * 0.02}')" \
		"$(grep -c 'behind, resynchronised' "$W/headend.log" || true)" \
		"$cpu" "$(echo "$cpu / $n" | bc -l)" "$peak"
	headend_down
done
echo "   speech_wait: the longest a broadcast on air waited for its speech (ticks the renderer"
echo "   was behind), since one render thread renders one bulletin after the other; cpu: the"
echo "   head-end over the whole run, rendering included."
