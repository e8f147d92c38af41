#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The main job on the shipped default config: install, build, start the head-end on loopback,
# broadcast the hail warning to 杨和镇 and 明城镇, and report what one loudspeaker in each of
# the four towns heard. Audio lands in var/demo/*.wav.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh
cmake -S . -B build > /dev/null
if ! cmake --build build -j2 > build/build.log 2>&1; then
	cat build/build.log
	echo "demo: the build failed (log above)"
	exit 1
fi
rm -f build/build.log

declare -A EP=( [荷城街道]=440608001001001 [杨和镇]=440608101201001 [明城镇]=440608102201001
		[更合镇]=440608103201001 )
mkdir -p var/demo
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null' EXIT

./build/headend --config etc/headend.cfg 2> var/demo/headend.log &
PIDS+=($!)
for _ in $(seq 50); do
	./build/headendctl status > /dev/null 2>&1 && break
	kill -0 "${PIDS[0]}" 2>/dev/null || { cat var/demo/headend.log; exit 1; }
	sleep 0.1
done
for town in 荷城街道 杨和镇 明城镇 更合镇; do
	./build/endpoint --id "${EP[$town]}" --out "var/demo/$town.wav" > "var/demo/$town.log" 2>&1 &
	PIDS+=($!)
done
sleep 0.3

echo "== sending tests/data/bulletins/warning-hail-orange.txt to 杨和镇 and 明城镇"
id=$(./build/headendctl send --target 杨和镇 --target 明城镇 tests/data/bulletins/warning-hail-orange.txt)
echo "== bulletin $id accepted; playing in real time (alert tone, then the text three times)"
while sleep 5; do
	status=$(./build/headendctl status)
	grep -q '^playing\|^queued' <<< "$status" || break
	grep '^playing' <<< "$status" || true
done
sleep 0.5
echo "== what the loudspeakers report (headendctl endpoints, those not offline)"
./build/headendctl endpoints | grep -v ' offline ' || true
echo "== the broadcast as the head-end recorded it (only 2 of its 980 loudspeakers run here)"
./build/headendctl status | grep " bulletin $id " || true
kill -TERM "${PIDS[@]:1}"
wait "${PIDS[@]:1}" 2>/dev/null || true

# Four of the directory's 2,350 loudspeakers run on this machine, so once the head-end has
# waited reports.missed periods every village raises its alarm: counted, not listed.
alarms=$(grep -c ' warn village .* below ' var/demo/headend.log || true)
echo "== head-end log (without its $alarms village alarms: 4 of 2,350 loudspeakers run here)"
grep -v ' warn village .* below ' var/demo/headend.log
echo "== who heard what"
for town in 荷城街道 杨和镇 明城镇 更合镇; do
	printf '%s  endpoint %s\n' "$town" "${EP[$town]}"
	sed 's/^/    /' "var/demo/$town.log"
done
echo "== audio as each loudspeaker decoded it: var/demo/<town>.wav"
