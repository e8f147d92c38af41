#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# One bulletin at real pace: the endpoint plays all of it, and the broadcast takes as long on the
# wall clock as the audio lasts (never less; the upper bound is loose so a busy machine passes).
. "$(dirname "$0")/lib.sh" "$1" 18083 15083
write_config 1.0
start_headend
ep=440608102201001
start_endpoint "$ep" --count 1 --timeout 90
sleep 0.3

file="$REPO/tests/data/bulletins/nowcast-1600.txt"
t0=$(date +%s.%N)
post "{\"text\": $(json_text "$file"), \"targets\": [\"明城镇\"]}"
[ "$STATUS" = 202 ] || fail "POST answered $STATUS $BODY"
wait "$EP_PID"
rc=$?
t1=$(date +%s.%N)
[ "$rc" = 0 ] || fail "endpoint exited with $rc"
line=$(grep '^broadcast ' "$T/ep-$ep.log")
secs=$(sed -E 's/.*, ([0-9.]+) s of audio.*/\1/' <<< "$line")
lost=$(sed -E 's/.*lost ([0-9]+).*/\1/' <<< "$line")
wall=$(echo "$t1 - $t0" | bc -l)
[ "$lost" = 0 ] || fail "lost $lost packets at real pace"
if [ "$(echo "$wall >= $secs * 0.98 && $wall <= $secs * 1.5 + 4" | bc -l)" = 1 ]; then
	ok "$secs s of audio took $wall s on the wall clock"
else
	fail "$secs s of audio took $wall s on the wall clock"
fi
wait_idle 10
frames=$(curl -s "$URL/v1/status" | jq '.recent[0].frames')
[ "$(echo "$secs * 50" | bc | cut -d. -f1)" = "$frames" ] && ok "endpoint decoded all $frames frames sent" ||
	fail "endpoint decoded $secs s, head-end sent $frames frames"
finish
