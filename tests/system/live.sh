#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Live announcements through ALSA, with no sound card: the test's own ALSA configuration makes
# a capture device of a FIFO that bench_live_probe fills at real pace with a 440 Hz tone.
# First a device that does not exist: POST /v1/live is refused naming it, nothing goes on air.
# Then live to 杨和镇: 杨和村 hears the tone from start to stop, one broadcast ended by END;
# a red warning for 新圩村 cuts it there, and once the warning is over 新圩村 rejoins the live
# announcement as it is then; 明城镇 hears nothing; the archive keeps it; GET /v1/live counts.
# Last, live started while a red warning holds 新圩村 goes on air at once in the rest of 杨和镇.
. "$(dirname "$0")/lib.sh" "$1" 18711 15711
write_config 1.0
alsa_config
cp "$T/headend.cfg" "$T/headend.base"
printf 'live: { device = "nosuchpcm"; max_s = 60; };\n' >> "$T/headend.cfg"
YANGHE=440608101201001
XINWEI=440608101206001
MINGCHENG=440608102201001
start_headend
HEADEND_PID=${PIDS[-1]}
start_endpoint "$YANGHE"
start_endpoint "$XINWEI"
start_endpoint "$MINGCHENG"

# A device that cannot be opened: refused, naming it; nothing on air.
post '{"targets": ["杨和镇"]}' /v1/live
if [ "$STATUS" = 503 ] && [[ $(jq -r .error <<< "$BODY") == *'ALSA capture device "nosuchpcm"'* ]]
then
	ok "bad device refused: $(jq -r .error <<< "$BODY")"
else
	fail "bad device: $STATUS $BODY"
fi
# alsa-lib's own complaint comes through our log, formatted, not raw on stderr.
grep -q ' warn alsa-lib: Unknown PCM nosuchpcm' "$T/headend.log" &&
	! grep -q '^ALSA lib' "$T/headend.log" && ok "alsa-lib's message is in the log, formatted" ||
	fail "alsa-lib's message: $(grep -i 'alsa' "$T/headend.log" | head -3)"
[ "$(curl -s "$URL/v1/status" | jq '(.playing|length)+(.queued|length)')" = 0 ] &&
	[ "$(curl -s "$URL/v1/live" | jq -r .state)" = off ] && ok "nothing on air, live is off" ||
	fail "after the refusal: $(curl -s "$URL/v1/status") $(curl -s "$URL/v1/live")"
kill "$HEADEND_PID"
wait "$HEADEND_PID" 2> /dev/null
cp "$T/headend.base" "$T/headend.cfg"
printf 'live: { device = "testcap"; max_s = 60; buffer_frames = 3; };\n' >> "$T/headend.cfg"
start_headend

# The microphone is not there yet, so opening the device waits (the FIFO has no writer):
# meanwhile a bulletin is accepted at once, not held up behind the live request.
curl -s -o "$T/live.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	-H "Authorization: Bearer $TOKEN" --data-binary '{"targets": ["杨和镇"]}' \
	"$URL/v1/live" > "$T/live.code" &
LIVE_CURL=$!
sleep 0.5
t0=$(date +%s.%N)
post '{"text": "高明区短时预报：更合镇多云。", "targets": ["更合镇"], "kind": "nowcast"}'
dt=$(echo "$(date +%s.%N) - $t0" | bc)
[ "$STATUS" = 202 ] && [ "$(echo "$dt < 2" | bc)" = 1 ] &&
	ok "a bulletin while the microphone opens: accepted in $dt s" ||
	fail "a bulletin while the microphone opens: $STATUS after $dt s $BODY"
# The microphone: 9 s of 440 Hz, then silence, 20 ms every 20 ms, until the test ends.
"$BUILD/bench/bench_live_probe" feed "$T/mic.fifo" 440 9 &
PIDS+=($!)
wait "$LIVE_CURL"
[ "$(cat "$T/live.code")" = 202 ] || fail "live POST answered $(cat "$T/live.code") $(cat "$T/live.json")"
L=$(jq .bulletin < "$T/live.json")
[ "$(jq -r .state < "$T/live.json")" = on_air ] && ok "the answer to POST /v1/live: on air" ||
	fail "the answer to POST /v1/live: $(cat "$T/live.json")"
post '{"targets": ["明城镇"]}' /v1/live
[ "$STATUS" = 409 ] && ok "a second live announcement is refused: $(jq -r .error <<< "$BODY")" ||
	fail "second live: $STATUS $BODY"
sleep 3
[ "$(curl -s "$URL/v1/live" | jq -r .state)" = on_air ] && ok "live $L on air" ||
	fail "live state: $(curl -s "$URL/v1/live")"

# A red warning for 新圩村 alone: live stops there, plays on in the rest of 杨和镇.
post '{"text": "高明区气象台发布暴雨红色预警信号：测试。", "targets": ["杨和镇/新圩村"],
       "repeat": 0}'
[ "$STATUS" = 202 ] || fail "warning POST answered $STATUS $BODY"
W=$(jq .id <<< "$BODY")
for _ in $(seq 200); do
	curl -s "$URL/v1/status" | jq -e ".recent[] | select(.id == $W)" > /dev/null && break
	sleep 0.1
done
sleep 2
PARTS=$(curl -s "$URL/v1/live" | jq -c '[.parts[] | select(.state == "on_air") | .targets]')
[ "$PARTS" = '["杨和镇/新圩村","杨和镇"]' ] || [ "$PARTS" = '["杨和镇","杨和镇/新圩村"]' ] ||
	[ "$(jq length <<< "$PARTS")" = 2 ] && ok "after the warning, live is on air again: $PARTS" ||
	fail "parts after the warning: $(curl -s "$URL/v1/live" | jq -c .parts)"
post '{}' /v1/live/stop
[ "$STATUS" = 200 ] && ok "stopped" || fail "stop answered $STATUS $BODY"
post '{}' /v1/live/stop
[ "$STATUS" = 409 ] || fail "a second stop answered $STATUS $BODY"
for _ in $(seq 50); do
	[ "$(curl -s "$URL/v1/live" | jq -r .state)" = ended ] && break
	sleep 0.1
done
sleep 3.5
LIVE=$(curl -s "$URL/v1/live")
COUNT=$(jq .counters <<< "$LIVE")
SENT=$(jq .frames_sent <<< "$COUNT")
if [ "$(jq -r .state <<< "$LIVE")" = ended ] && [ "$(jq -r .ended_by <<< "$LIVE")" = stopped ] &&
   [ "$(jq '.overruns + .suspends + .device_errors' <<< "$COUNT")" = 0 ] &&
   [ "$(echo "$(jq .latency_ms.p50 <<< "$COUNT") < 100" | bc)" = 1 ] && [ "$SENT" -gt 400 ]; then
	ok "GET /v1/live: ended by stop, $SENT frames sent, $(jq -c \
		'{capture_to_send_ms: .latency_ms, dropped, inserted}' <<< "$COUNT")"
else
	fail "GET /v1/live: $LIVE"
fi

seconds() { sed -E 's/.*, ([0-9.]+) s of audio.*/\1/' <<< "$1"; }
mapfile -t A < <(grep '^broadcast ' "$T/ep-$YANGHE.log")
mapfile -t B < <(grep '^broadcast ' "$T/ep-$XINWEI.log")
LEN=$(seconds "${A[0]:-}")
if [ "${#A[@]}" = 1 ] && [[ ${A[0]} == "broadcast $L: live, "*"(end)" ]] &&
   [ "$(echo "$LEN > 10 && $LEN < 20" | bc)" = 1 ]; then
	ok "杨和村 heard live $L whole, ended by END: ${A[0]}"
else
	fail "杨和村 heard: ${A[*]:-nothing}"
fi
if [ "${#B[@]}" = 3 ] && [[ ${B[0]} == "broadcast $L: live, "*"(end)" ]] &&
   [[ ${B[1]} == "broadcast $W: warning rainstorm red issue"*"(end)" ]] &&
   [[ ${B[2]} == "broadcast "*": live, "*"(end)" ]] && [[ ${B[2]} != "broadcast $L:"* ]]; then
	ok "新圩村: live cut by END, the red warning, then live again as a new broadcast"
else
	fail "新圩村 heard: $(printf '%s | ' "${B[@]}")"
fi
grep -q "bulletin $L: live preempted in 杨和镇/新圩村 by bulletin $W (warning rainstorm red); .* rejoins" \
	"$T/headend.log" && ok "the log says live was preempted in 新圩村 and rejoins" ||
	fail "no preemption line: $(grep "bulletin $L" "$T/headend.log")"
[ "$(grep -c '^broadcast ' "$T/ep-$MINGCHENG.log")" = 0 ] && ok "明城镇 heard nothing" ||
	fail "明城镇 heard: $(cat "$T/ep-$MINGCHENG.log")"

# What 杨和村 decoded: the tone while it lasted (lead-in aside), then silence.
WAV=$T/ep-$YANGHE.wav
loud=0
for i in $(seq 0 29); do
	rms=$(sox "$WAV" -n trim "$(echo "$i * 0.5" | bc)" 0.5 stat 2>&1 |
		awk '/RMS +amplitude/ { print $3 }')
	[ -n "$rms" ] && [ "$(echo "$rms > 0.05" | bc)" = 1 ] && loud=$((loud + 1))
done
FREQ=$(sox "$WAV" -n trim 1 4 stat 2>&1 | awk '/Rough +frequency/ { print $3 }')
if [ "$loud" -ge 16 ] && [ "$loud" -le 20 ] && [ "${FREQ:-0}" -ge 420 ] &&
   [ "${FREQ:-0}" -le 460 ]; then
	ok "杨和村 decoded $loud loud half-seconds of the 9 s tone, at $FREQ Hz"
else
	fail "杨和村 decoded $loud loud half-seconds, rough frequency ${FREQ:-none}"
fi

# Live while a red warning holds 新圩村: it starts at once in the rest of 杨和镇 and waits there.
post '{"text": "高明区气象台发布暴雨红色预警信号：第二次测试。", "targets": ["杨和镇/新圩村"]}'
[ "$STATUS" = 202 ] || fail "second warning POST answered $STATUS $BODY"
W2=$(jq .id <<< "$BODY")
for _ in $(seq 100); do
	curl -s "$URL/v1/status" | jq -e ".playing[] | select(.id == $W2)" > /dev/null && break
	sleep 0.1
done
"$BUILD/bench/bench_live_probe" feed "$T/mic.fifo" 440 4 &
PIDS+=($!)
post '{"targets": ["杨和镇"]}' /v1/live
[ "$STATUS" = 202 ] || fail "live during the warning answered $STATUS $BODY"
L2=$(jq .bulletin <<< "$BODY")
sleep 1.5
P2=$(curl -s "$URL/v1/live" | jq -c '[.parts[] | {state, targets}] | sort_by(.state)')
if [ "$(jq -c '[.[] | select(.state == "on_air")] | length' <<< "$P2")" = 1 ] &&
   [ "$(jq -c '[.[] | select(.state != "on_air") | .targets]' <<< "$P2")" = '["杨和镇/新圩村"]' ] &&
   ! jq -e '.[] | select(.state == "on_air") | .targets | test("新圩村")' <<< "$P2" > /dev/null
then
	ok "live during a red warning: on air where it may, waiting in 新圩村: $P2"
else
	fail "live parts during the warning: $P2"
fi
grep -q "bulletin $L2: live waits in 杨和镇/新圩村, where a broadcast it may not preempt is on air" \
	"$T/headend.log" && ok "the log says where live waits" ||
	fail "no waiting line: $(grep "bulletin $L2" "$T/headend.log")"
sleep 2
post '{}' /v1/live/stop
[ "$STATUS" = 200 ] || fail "stop of live $L2 answered $STATUS $BODY"
wait_idle 60
mapfile -t A < <(grep '^broadcast ' "$T/ep-$YANGHE.log")
LEN2=$(seconds "${A[1]:-}")
[ "${#A[@]}" = 2 ] && [[ ${A[1]} == "broadcast $L2: live, "* ]] &&
	[ "$(echo "$LEN2 > 2.5" | bc)" = 1 ] && ok "杨和村 heard live $L2 at once: ${A[1]}" ||
	fail "杨和村 heard: $(printf '%s | ' "${A[@]}")"
mapfile -t B < <(grep '^broadcast ' "$T/ep-$XINWEI.log")
[ "${#B[@]}" = 4 ] && [[ ${B[3]} == "broadcast $W2: warning rainstorm red issue"*"(end)" ]] &&
	ok "新圩村 heard the red warning whole, and no live after the stop" ||
	fail "新圩村 heard: $(printf '%s | ' "${B[@]}")"

# The head-end stops during a live announcement: it is ended, recorded and archived as cut.
wait_idle 30
"$BUILD/bench/bench_live_probe" feed "$T/mic.fifo" 440 10 &
PIDS+=($!)
post '{"targets": ["杨和镇/杨和村"]}' /v1/live
[ "$STATUS" = 202 ] || fail "live before the stop answered $STATUS $BODY"
L3=$(jq .bulletin <<< "$BODY")
sleep 3
kill -TERM "$(pgrep -f "headend --config $T/headend.cfg" | head -1)"
for _ in $(seq 50); do pgrep -f "headend --config $T/headend.cfg" > /dev/null || break; sleep 0.1; done
REC3=$(grep -l "\"bulletin\": *$L3," "$T"/var/archive/*/*.json 2> /dev/null | head -1)
if grep -q "live: bulletin $L3 to 杨和镇/杨和村 ends: the head-end is stopping" "$T/headend.log" &&
   [ -n "$REC3" ] && [ "$(jq -r .result "$REC3")" = "cut short by shutdown" ] &&
   [ "$(echo "$(jq .seconds "$REC3") > 2" | bc)" = 1 ]; then
	ok "SIGTERM during live $L3: ended and archived, $(jq -c '{result, seconds}' "$REC3")"
else
	fail "SIGTERM during live $L3: record ${REC3:-none} $(cat "$REC3" 2> /dev/null | head -c 300)"
fi
start_headend

# The archive has it, as it went out to 杨和镇.
H=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/history?limit=20")
REC=$(jq -c "[.history[] | select(.bulletin == $L)]" <<< "$H")
if [ "$(jq length <<< "$REC")" = 3 ] && [ "$(jq -r '[.[].kind] | unique[]' <<< "$REC")" = live ] &&
   [ "$(echo "$(jq 'max_by(.seconds).seconds' <<< "$REC") > 10" | bc)" = 1 ]; then
	ok "archived in 3 parts: $(jq -c '[.[] | {broadcast, seconds, result}]' <<< "$REC")"
else
	fail "archive: $(jq -c . <<< "$H" | head -c 600)"
fi
finish
