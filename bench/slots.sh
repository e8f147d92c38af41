#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Slot firing error against the wall clock, over a real run: N daily slots a minute apart (the
# next N whole minutes, UTC), texts staged ahead, the head-end's own timer, real pace. For each
# slot it prints how late the timer woke (the head-end's "fired" log line) and how late the
# first RTP packet of the slot's broadcast reached a listener on loopback, both against the
# slot's exact time; then mean and worst. Prints figures, never passes or fails.
# Usage: bash bench/slots.sh [BUILD_DIR] [N]   (N defaults to 5: a run of about 6 minutes)
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build}")
N=${2:-5}
HTTP=18291 MC=15291
cmake -S "$REPO" -B "$BUILD" > /dev/null && cmake --build "$BUILD" -j2 > /dev/null
W=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$W"' EXIT
cd "$REPO"

# Slots at the next N whole minutes at least 20 s away.
first=$(( ($(date +%s) + 20 + 59) / 60 * 60 ))
SLOTS=()
for i in $(seq 0 $((N - 1))); do SLOTS+=($(( first + 60 * i ))); done
{
	echo 'time_zone = "UTC";'
	echo 'slots = ('
	for i in "${!SLOTS[@]}"; do
		printf '  { time = "%s"; product = "nowcast"; targets = [ "杨和镇" ]; repeat = 0; }%s\n' \
			"$(date -u -d "@${SLOTS[$i]}" +%H:%M)" "$([ "$i" -lt $((N - 1)) ] && echo ,)"
	done
	echo ');'
} > "$W/schedule.cfg"
cat > "$W/headend.cfg" <<CFG
state_dir = "$W/var";
schedule = "$W/schedule.cfg";
http: { port = $HTTP; };
multicast: { interface = "127.0.0.1"; port = $MC; ttl = 0; pace = 1.0; };
CFG
"$BUILD/headend" --config "$W/headend.cfg" 2> "$W/headend.log" &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$HTTP/v1/status" && break; sleep 0.1; done
echo "高明区气象台发布短时临近预报：未来2小时晴。" > "$W/text.txt"
for t in "${SLOTS[@]}"; do
	"$BUILD/headendctl" --config "$W/headend.cfg" stage --product nowcast \
		--slot "$(date -u -d "@$t" +%H:%M)" "$W/text.txt" > /dev/null
done
last=${SLOTS[$((N - 1))]}
echo "== slot firing: $N slots a minute apart from $(date -u -d "@$first" +%H:%M) UTC," \
     "run ends about $(date -u -d "@$((last + 15))" +%H:%M:%S) UTC"
"$BUILD/bench/bench_first_heard" "$MC" 127.0.0.1 $((last + 15 - $(date +%s))) \
	239.192.0.1 239.192.202.0 > "$W/heard.txt"

printf '%-7s %14s %20s\n' slot "timer woke, ms" "first packet, ms"
i=0
for t in "${SLOTS[@]}"; do
	hm=$(date -u -d "@$t" +%H:%M)
	woke=$(sed -n "s/.*slot $hm (.*): fired \([0-9.]*\) ms after its time.*/\1/p" "$W/headend.log")
	id=$(sed -n "s/.*slot $hm (.*): bulletin \([0-9]*\),.*/\1/p" "$W/headend.log")
	heard=$(awk -v id="$id" '$2 == id { print $3 }' "$W/heard.txt")
	late=$( [ -n "$heard" ] && echo "($heard - $t) * 1000" | bc -l || echo "")
	printf '%-7s %14s %20s\n' "$hm" "${woke:--}" "$(printf '%.1f' "${late:-0}")"
	echo "$woke ${late:-}" >> "$W/figures"
	i=$((i + 1))
done
awk '{ w += $1; if ($1 > mw) mw = $1; if (NF > 1) { p += $2; n++; if ($2 > mp) mp = $2 } }
     END { printf "mean   %14.1f %20.1f\nworst  %14.1f %20.1f\n", w / NR, n ? p / n : 0,
	   mw, mp }' "$W/figures"
