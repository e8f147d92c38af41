#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The local monitor, with no sound card: the test's ALSA configuration makes a playback device
# of a file. Monitoring 杨和镇, a forecast to 杨和镇 is written there whole (as long as the
# 杨和镇 endpoint heard it, and the same samples) and one to 明城镇 not at all. A refused change
# keeps the monitor as it was; a device that cannot be opened at start-up leaves it off, and
# the head-end broadcasts all the same.
. "$(dirname "$0")/lib.sh" "$1" 18712 15712
write_config 5.0
alsa_config "pcm.testmon { type file; slave.pcm { type null }; file \"$T/monitor.raw\"; format \"raw\" }"
printf 'monitor: { device = "testmon"; zone = ""; };\n' >> "$T/headend.cfg"
start_headend
YANGHE=440608101201001
start_endpoint "$YANGHE"

[ "$(curl -s "$URL/v1/monitor" | jq .on)" = false ] && ok "the monitor is off by default" ||
	fail "monitor at start: $(curl -s "$URL/v1/monitor")"
post '{"zone": "无此镇"}' /v1/monitor
[ "$STATUS" = 422 ] && ok "an unknown zone is refused: $(jq -r .error <<< "$BODY")" ||
	fail "unknown zone: $STATUS $BODY"
post '{"zone": "杨和镇"}' /v1/monitor
if [ "$STATUS" = 200 ] && [ "$(jq -r .zone <<< "$BODY")" = 杨和镇 ] &&
   [ "$(jq -r .listener <<< "$BODY")" = 440608101201001 ]; then
	ok "monitoring 杨和镇 as endpoint $(jq -r .listener <<< "$BODY")"
else
	fail "monitor POST: $STATUS $BODY"
fi
# A refused change leaves the monitor as it was.
post '{"zone": "火星"}' /v1/monitor
[ "$STATUS" = 422 ] && [ "$(curl -s "$URL/v1/monitor" | jq -r '.on, .zone' | tr '\n' ' ')" = \
	"true 杨和镇 " ] && ok "an unknown zone while monitoring: 422, still monitoring 杨和镇" ||
	fail "after a refused change: $STATUS, $(curl -s "$URL/v1/monitor")"
sleep 0.3

post '{"text": "高明区气象台12月4日17时发布未来24小时天气预报：杨和镇多云，气温十八到二十五度。",
       "targets": ["杨和镇"], "repeat": 0}'
[ "$STATUS" = 202 ] || fail "forecast to 杨和镇 answered $STATUS $BODY"
F=$(jq .id <<< "$BODY")
wait_idle 60
post '{"text": "高明区气象台12月4日17时发布未来24小时天气预报：明城镇晴，气温十六到二十三度，明城镇全天无雨。",
       "targets": ["明城镇"], "repeat": 0}'
[ "$STATUS" = 202 ] || fail "forecast to 明城镇 answered $STATUS $BODY"
M=$(jq .id <<< "$BODY")
wait_idle 60
sleep 0.5
MON=$(curl -s "$URL/v1/monitor")
if [ "$(jq .broadcasts <<< "$MON")" = 1 ] && [ "$(jq .rejected <<< "$MON")" = 0 ] &&
   [ "$(jq .lost <<< "$MON")" = 0 ]; then
	ok "GET /v1/monitor: $(jq -c '{broadcasts, frames, lost, rejected}' <<< "$MON")"
else
	fail "GET /v1/monitor: $MON"
fi
post '{"zone": ""}' /v1/monitor
[ "$STATUS" = 200 ] && [ "$(jq .on <<< "$BODY")" = false ] && ok "monitor stopped" ||
	fail "stop: $STATUS $BODY"

FRAMES=$(curl -s "$URL/v1/status" | jq ".recent[] | select(.id == $F) | .frames")
HEARD=$(stat -c %s "$T/monitor.raw")
MON_S=$(echo "scale=2; $HEARD / 96000" | bc)
WANT_S=$(echo "scale=2; $FRAMES / 50" | bc)
if [ "$(echo "$MON_S >= $WANT_S - 0.1 && $MON_S <= $WANT_S + 0.1" | bc)" = 1 ]; then
	ok "monitor.raw holds $MON_S s: forecast $F was $WANT_S s ($FRAMES frames); $M is not there"
else
	fail "monitor.raw holds $MON_S s; forecast $F was $WANT_S s, forecast $M to 明城镇 is \
$(curl -s "$URL/v1/status" | jq ".recent[] | select(.id == $M) | .seconds") s"
fi
RMS=$(sox -t raw -e signed -b 16 -c 1 -r 48000 "$T/monitor.raw" -n stat 2>&1 |
	awk '/RMS +amplitude/ { print $3 }')
[ "$(echo "${RMS:-0} > 0.02" | bc)" = 1 ] && ok "and it is speech (RMS $RMS)" ||
	fail "monitor.raw RMS ${RMS:-none}"
# The endpoint of 杨和镇 decoded the same packets with the same decoder.
sleep 0.5
tail -c +45 "$T/ep-$YANGHE.wav" > "$T/ep.raw"
if cmp -s "$T/ep.raw" "$T/monitor.raw"; then
	ok "the monitor played the very samples the 杨和镇 endpoint decoded"
else
	fail "monitor.raw ($(stat -c %s "$T/monitor.raw") bytes) differs from what the endpoint \
decoded ($(stat -c %s "$T/ep.raw") bytes)"
fi
grep -q "monitor: broadcast $F (forecast) heard in 杨和镇" "$T/headend.log" &&
	! grep -q "monitor: broadcast $M" "$T/headend.log" &&
	ok "the log names broadcast $F only" || fail "monitor log: $(grep -a monitor "$T/headend.log")"

# A monitor device that cannot be opened at start-up: the head-end broadcasts without it.
kill "${PIDS[0]}"
wait "${PIDS[0]}" 2> /dev/null
sed -i 's|^monitor: .*|monitor: { device = "nosuchpcm"; zone = "杨和镇"; };|' "$T/headend.cfg"
mv "$T/headend.log" "$T/headend-1.log"
start_headend
[ "$(curl -s "$URL/v1/monitor" | jq .on)" = false ] &&
	grep -q 'monitor: monitor.zone "杨和镇" with monitor.device "nosuchpcm" does not start' \
		"$T/headend.log" && ok "a monitor that cannot open its device: off, the log says why" ||
	fail "bad monitor device at start: $(curl -s "$URL/v1/monitor") $(grep monitor "$T/headend.log")"
post '{"text": "高明区短时预报：杨和镇多云。", "targets": ["杨和镇"], "kind": "nowcast"}'
[ "$STATUS" = 202 ] && ok "and it takes bulletins: $BODY" || fail "bulletin: $STATUS $BODY"
finish
