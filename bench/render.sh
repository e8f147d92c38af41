#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Render of each shared bulletin by our tts against the shell pipeline a user would otherwise run
# (espeak-ng -w f.wav, then opusenc at the same bit rate), same text, same voice and rate, turns
# interleaved. Prints medians of RUNS runs and the ratios pipeline/ours.
#   ours writes WAV decoded from its own Opus frames (render + encode + decode); .opus output
#   would encode twice (our frames, then libopusenc for the file).
#   time to first Opus frame: ours from the start of rendering (the head-end keeps its engine
#   open); the pipeline's cannot come before espeak-ng has finished the WAV, so its figure is
#   espeak-ng's wall time, a lower bound.
set -eu
BUILD=$(readlink -f "${1:-build}")
RUNS=${RUNS:-5}
REPO=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
cd "$REPO"

ms() { date +%s%N | awk '{printf "%.3f", $1 / 1e6}'; }
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

printf '%-34s %9s %9s %9s %9s %8s %8s\n' bulletin ours_1st pipe_1st ours_all pipe_all 1st_x all_x
for f in tests/data/bulletins/*.txt; do
	name=$(basename "$f" .txt)
	: > "$W/o1"; : > "$W/oa"; : > "$W/p1"; : > "$W/pa"
	for _ in $(seq "$RUNS"); do
		t0=$(ms)
		"$BUILD/tts" -o "$W/ours.wav" "$f" 2> "$W/log"
		t1=$(ms)
		sed -E 's/.*first frame after ([0-9.]+) ms.*/\1/' "$W/log" >> "$W/o1"
		echo "$t1 - $t0" | bc -l >> "$W/oa"

		t0=$(ms)
		espeak-ng -v cmn -s 150 -w "$W/f.wav" -f "$f"
		t1=$(ms)
		opusenc --quiet --bitrate 24 "$W/f.wav" "$W/f.opus"
		t2=$(ms)
		echo "$t1 - $t0" | bc -l >> "$W/p1"
		echo "$t2 - $t0" | bc -l >> "$W/pa"
	done
	o1=$(median < "$W/o1"); oa=$(median < "$W/oa"); p1=$(median < "$W/p1"); pa=$(median < "$W/pa")
	printf '%-34s %7.1fms %7.1fms %7.0fms %7.0fms %7.0fx %7.2fx\n' "$name" "$o1" "$p1" "$oa" "$pa" \
		"$(echo "$p1 / $o1" | bc -l)" "$(echo "$pa / $oa" | bc -l)"
done
