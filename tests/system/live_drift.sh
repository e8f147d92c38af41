#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A microphone's clock is never the head-end's. The test's microphone (a FIFO behind its own
# ALSA configuration) delivers 20 ms periods 5 % too fast, then 5 % too slow, for 12 s each.
# Fast: the backlog stays bounded, the surplus is dropped (counted) and capture-to-send latency
# does not grow. Slow: the shortfall is filled with silence (counted) and the announcement plays
# on without a pause an endpoint would take for its end. Then a microphone that stalls for 2 s
# (said in the log once, and once when it delivers again) under live.max_s = 10, which ends
# the announcement at 10 s.
. "$(dirname "$0")/lib.sh" "$1" 18713 15713
write_config 1.0
alsa_config
printf 'live: { device = "testcap"; max_s = 60; buffer_frames = 3; };\n' >> "$T/headend.cfg"
start_headend
EP=440608101201001
start_endpoint "$EP"

# run RATE: 12 s of live at that microphone rate; sets COUNT (GET /v1/live's counters)
run() {
	"$BUILD/bench/bench_live_probe" feed "$T/mic.fifo" 440 30 "$1" &
	PIDS+=($!)
	post '{"targets": ["杨和镇/杨和村"]}' /v1/live
	[ "$STATUS" = 202 ] || fail "live at rate $1 answered $STATUS $BODY"
	sleep 12
	post '{}' /v1/live/stop
	[ "$STATUS" = 200 ] || fail "stop at rate $1 answered $STATUS $BODY"
	wait_idle 10
	COUNT=$(curl -s "$URL/v1/live" | jq -c '.counters')
}

run 1.05
# 12 s at 5 % fast: about 0.6 s, 30 frames, too many. Kept, they would put the last frames
# 600 ms behind; the bound drops the standing backlog once a second, so latency stays within
# the buffer, a second's drift (50 ms) and jitter.
dropped=$(jq .dropped <<< "$COUNT")
max=$(jq .latency_ms.max <<< "$COUNT")
if [ "$dropped" -ge 15 ] && [ "$dropped" -le 60 ] && [ "$(echo "$max < 300" | bc)" = 1 ]; then
	ok "microphone 5 % fast: $dropped frames dropped, capture to send at most $max ms: $COUNT"
else
	fail "microphone 5 % fast: $COUNT"
fi

run 0.95
inserted=$(jq .inserted <<< "$COUNT")
if [ "$inserted" -ge 15 ] && [ "$inserted" -le 60 ]; then
	ok "microphone 5 % slow: $inserted frames of silence inserted: $COUNT"
else
	fail "microphone 5 % slow: $COUNT"
fi
mapfile -t A < <(grep '^broadcast ' "$T/ep-$EP.log")
if [ "${#A[@]}" = 2 ] && [[ ${A[0]} == *"(end)" ]] && [[ ${A[1]} == *"(end)" ]] &&
   [[ ${A[1]} == *"lost 0,"* ]]; then
	ok "the endpoint heard two whole broadcasts, each ended by END: ${A[1]}"
else
	fail "the endpoint heard: $(printf '%s | ' "${A[@]}")"
fi

# A stall, and the maximum duration.
kill "${PIDS[0]}"
wait "${PIDS[0]}" 2> /dev/null
sed -i 's/max_s = 60;/max_s = 10;/' "$T/headend.cfg"
mv "$T/headend.log" "$T/headend-1.log"
start_headend
"$BUILD/bench/bench_live_probe" feed "$T/mic.fifo" 440 30 &
FEED=$!
PIDS+=($FEED)
post '{"targets": ["杨和镇/杨和村"]}' /v1/live
[ "$STATUS" = 202 ] || fail "live with max_s 10 answered $STATUS $BODY"
sleep 1.5
kill -STOP "$FEED"
sleep 2
kill -CONT "$FEED"
for _ in $(seq 120); do
	[ "$(curl -s "$URL/v1/live" | jq -r .state)" = ended ] && break
	sleep 0.1
done
LIVE=$(curl -s "$URL/v1/live")
if [ "$(jq -r .ended_by <<< "$LIVE")" = "max duration" ] &&
   [ "$(echo "$(jq .seconds <<< "$LIVE") >= 9.9 && $(jq .seconds <<< "$LIVE") <= 10.5" | bc)" = 1 ]
then
	ok "live.max_s = 10: ended by max duration after $(jq .seconds <<< "$LIVE") s"
else
	fail "max duration: $LIVE"
fi
[ "$(grep -c 'live: nothing from ALSA device "testcap" for a second' "$T/headend.log")" = 1 ] &&
	grep -q 'live: ALSA device "testcap" delivers again' "$T/headend.log" &&
	[ "$(jq .counters.stalls <<< "$LIVE")" = 1 ] &&
	ok "a 2 s stall of the microphone: one line when it stalls, one when it delivers, stalls 1" ||
	fail "stall: $(grep 'live:' "$T/headend.log") $(jq -c .counters <<< "$LIVE")"
finish
