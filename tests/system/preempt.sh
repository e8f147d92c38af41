#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Arbitration seen by real endpoints. A forecast plays to 杨和镇 and 明城镇; a warning for 杨和镇
# arrives: 杨和镇 stops the forecast at once and hears only the warning, then the rest of the
# forecast (preempted = "resume"); 明城镇 hears the forecast whole and never the warning. Then a
# daily slot played while a red warning holds its villages waits, and is dropped after `wait`.
. "$(dirname "$0")/lib.sh" "$1" 18202 15202
write_config 5.0
cat > "$T/schedule.cfg" <<CFG
time_zone = "UTC";
timer = false;
wait = 2;
slots = ( { time = "$(date -u +%H:%M:%S)"; product = "forecast"; } );
CFG
sed -i "s|^schedule = .*|schedule = \"$T/schedule.cfg\";|" "$T/headend.cfg"
start_headend
YANGHE=440608101201001
MINGCHENG=440608102201001
start_endpoint "$YANGHE"
start_endpoint "$MINGCHENG"
sleep 0.3

# line EP BROADCAST: that endpoint's line for the broadcast
line() { grep "^broadcast $2: " "$T/ep-$1.log"; }
seconds() { sed -E 's/.*, ([0-9.]+) s of audio.*/\1/' <<< "$1"; }

post "{\"text\": $(json_text "$REPO/tests/data/bulletins/forecast-24h-1700.txt"),
       \"targets\": [\"杨和镇\", \"明城镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "forecast POST answered $STATUS $BODY"
F=$(jq .id <<< "$BODY")
for _ in $(seq 100); do
	sent=$(curl -s "$URL/v1/status" | jq '.playing[0].seconds_sent // 0')
	[ "$(echo "$sent > 3" | bc)" = 1 ] && break
	sleep 0.05
done
post "{\"text\": $(json_text "$REPO/tests/data/bulletins/warning-hail-orange.txt"),
       \"targets\": [\"杨和镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "warning POST answered $STATUS $BODY"
W=$(jq .id <<< "$BODY")
wait_idle 60
sleep 0.5

grep -q "bulletin $F: forecast preempted in 杨和镇 by bulletin $W (warning hail orange); once that is over it resumes there" \
	"$T/headend.log" && ok "the log says forecast $F was preempted in 杨和镇 and resumes" ||
	fail "no preemption line: $(grep "bulletin $F" "$T/headend.log")"
REST=$(curl -s "$URL/v1/status" | jq ".recent[] | select(.id == $F and .broadcast != $F) | .broadcast")
FULL=$(curl -s "$URL/v1/status" | jq ".recent[] | select(.broadcast == $F) | .frames")

# 明城镇: the forecast whole, as one broadcast, and nothing else.
l=$(line "$MINGCHENG" "$F")
if [[ $l == *"lost 0,"*"(end)" ]] && [ "$(echo "$(seconds "$l") * 50 == $FULL" | bc)" = 1 ]; then
	ok "明城镇 heard forecast $F whole: $(seconds "$l") s, $FULL frames"
else
	fail "明城镇, forecast $F ($FULL frames): $l"
fi
[ "$(grep -c '^broadcast ' "$T/ep-$MINGCHENG.log")" = 1 ] && ok "明城镇 heard nothing else" ||
	fail "明城镇 heard: $(cat "$T/ep-$MINGCHENG.log")"

# 杨和镇: forecast cut short by its END, the warning whole, then the rest of the forecast.
mapfile -t Y < <(grep '^broadcast ' "$T/ep-$YANGHE.log")
[ "${#Y[@]}" = 3 ] || fail "杨和镇 heard ${#Y[@]} broadcasts: ${Y[*]}"
[[ ${Y[0]:-} == "broadcast $F: forecast"*"(end)" ]] &&
	[ "$(echo "$(seconds "${Y[0]}") * 50 < $FULL / 2" | bc)" = 1 ] &&
	ok "杨和镇: forecast $F stopped after $(seconds "${Y[0]}") s by an END of its own" ||
	fail "杨和镇 first: ${Y[0]:-none}"
[[ ${Y[1]:-} == "broadcast $W: warning hail orange issue"*"lost 0,"*"(end)" ]] &&
	ok "杨和镇: then warning $W whole ($(seconds "${Y[1]}") s)" || fail "杨和镇 second: ${Y[1]:-none}"
if [[ ${Y[2]:-} == "broadcast $REST: forecast"*"lost 0,"*"(end)" ]] &&
   [ "$(echo "($(seconds "${Y[0]}") + $(seconds "${Y[2]}")) * 50 < $FULL + 60" | bc)" = 1 ]; then
	ok "杨和镇: then the rest of forecast $F as broadcast $REST ($(seconds "${Y[2]}") s)"
else
	fail "杨和镇 third (rest as broadcast $REST): ${Y[2]:-none}"
fi

# A slot while a red warning plays in its villages: it waits `wait` seconds, then is dropped.
post "{\"text\": \"高明区气象台发布暴雨红色预警信号：测试。\", \"repeat\": 2}"
[ "$STATUS" = 202 ] || fail "red warning POST answered $STATUS $BODY"
post '{"text": "高明区气象台12月4日17时发布未来24小时天气预报：多云。"}' /v1/products/forecast
[ "$STATUS" = 202 ] || fail "staging answered $STATUS $BODY"
post "{\"slot\": \"$(jq -r .slot <<< "$BODY")\"}" /v1/slots/play
[ "$STATUS" = 202 ] || fail "play answered $STATUS $BODY"
S=$(jq .id <<< "$BODY")
sleep 3
grep -q "bulletin $S: slot .* falls while warning bulletin .* plays in its villages; it waits up to 2 s" \
	"$T/headend.log" && ok "slot bulletin $S waits for the warning" ||
	fail "no waiting line for slot bulletin $S"
grep -q "bulletin $S: slot .* waited [0-9]* s for its villages (bulletin .* on air there), dropped" \
	"$T/headend.log" && ok "and is dropped after 2 s, with a log line" ||
	fail "no drop line for slot bulletin $S: $(grep "bulletin $S" "$T/headend.log")"
curl -s "$URL/v1/status" | jq -e ".skipped[] | select(.bulletin == $S)" > /dev/null &&
	ok "the status lists it" || fail "status: $(curl -s "$URL/v1/status" | jq -c .skipped)"
finish
