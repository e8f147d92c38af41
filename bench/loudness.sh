#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Loudness of every shared bulletin as a loudspeaker decodes it: our tts writes the WAV decoded
# from its own Opus frames, ffmpeg's EBU R128 filter measures integrated loudness and true peak.
set -eu
BUILD=$(readlink -f "${1:-build}")
cd "$(dirname "$0")/.."
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf '%-36s %10s %10s\n' bulletin LUFS "true peak"
for f in tests/data/bulletins/*.txt; do
	"$BUILD/tts" -o "$W/x.wav" "$f" 2> /dev/null
	ffmpeg -hide_banner -nostats -i "$W/x.wav" -af ebur128=peak=true -f null - 2>&1 |
		awk -v n="$(basename "$f" .txt)" '/Integrated loudness/ {i = 1} i && / I:/ {l = $2}
			/True peak/ {p = 1} p && /Peak:/ {t = $2} END {printf "%-36s %10s %10s\n", n, l, t " dBFS"}'
done
