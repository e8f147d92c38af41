#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Endpoint status reports (回传), with real endpoints reporting every second: three in
# 杨和镇/朗锦村 (15 endpoints) and three in 明城镇/新城村 (17), the village alarm at 15 %. They show
# normal, then broadcasting while a broadcast to 杨和镇 plays, which is then counted as played at
# 3 of 462. One stopped (SIGSTOP) goes offline and its village alarms, once; a forged report, one
# signed with another endpoint's key, replays of its own recorded reports and a recording older
# than the clock window are rejected, counted by reason, and change nothing; continued, it is
# back and the village recovers. A key from headendctl endpoint-key replaces the old one at
# once; SIGTERM leaves "off".
. "$(dirname "$0")/lib.sh" "$1" 18721 15721
write_config 2.0
TAP_PORT=$((REPORT_PORT + 1))
sed -i "s|^reports: .*|reports: { address = \"127.0.0.1\"; port = $REPORT_PORT; period_s = 1; \
missed = 3; village_alarm = 0.15; clock_tolerance_ms = 8000; };|" "$T/headend.cfg"
sed -i "s|^report: { \(.*\) };|report: { \1 period_s = 1; };|" "$T/endpoint.cfg"
# The first of 朗锦村 reports through the tap, which keeps a copy of each report.
sed "s|port = $REPORT_PORT;|port = $TAP_PORT;|" "$T/endpoint.cfg" > "$T/endpoint-tap.cfg"
ctl() { "$BUILD/headendctl" --config "$T/headend.cfg" "$@"; }
send() { "$BUILD/tests/report_send" "$@"; }
A=(440608101210001 440608101210002 440608101210003)
B=(440608102209001 440608102209002 440608102209003)
LANGJIN=440608101210
XINCHENG=440608102209

start_headend
provisioned=$(grep -o 'made a report key for each of the [0-9]* endpoints .* ([0-9]* ms)' "$T/headend.log")
[ "$(ls "$T/var/endpoint-keys" | wc -l)" = 2350 ] && [ "$(grep -c '^4406' "$T/var/endpoints.pub")" = 2350 ] &&
	[ "$(stat -c %a "$T/var/endpoint-keys")" = 700 ] &&
	[ "$(stat -c %a "$T/var/endpoint-keys/${A[0]}.key")" = 600 ] &&
	ok "first start: ${provisioned:-no provisioning line}" ||
	fail "provisioning: $(ls -ld "$T/var/endpoint-keys"), $(grep -c . "$T/var/endpoints.pub") lines"
mkdir "$T/tap"
"$BUILD/tests/report_send" tap "$TAP_PORT" "$REPORT_PORT" "$T/tap" > "$T/tap.log" 2>&1 &
PIDS+=($!)
declare -A PID
"$BUILD/endpoint" --config "$T/endpoint-tap.cfg" --id "${A[0]}" > "$T/ep-${A[0]}.log" 2>&1 &
PIDS+=($!)
PID[${A[0]}]=$!
for ep in "${A[@]:1}" "${B[@]}"; do
	start_endpoint "$ep"
	PID[$ep]=$EP_PID
done

# get_endpoints [QUERY]: GET /v1/endpoints with the token into $J
get_endpoints() {
	J=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/endpoints${1:-}")
}
# state_of ID
state_of() {
	get_endpoints
	jq -r ".endpoints[] | select(.id == $1) | .state" <<< "$J"
}
# wait_state ID STATE SECONDS: 0 once the head-end shows it, SECONDS as a decimal
wait_state() {
	local i
	for i in $(seq $(( ${3%.*} * 20 ))); do
		[ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

all=0
for ep in "${A[@]}" "${B[@]}"; do wait_state "$ep" normal 5 && all=$((all + 1)); done
get_endpoints
[ "$all" = 6 ] && [ "$(jq -c .counts <<< "$J")" = \
	'{"offline":2344,"normal":6,"off":0,"fault":0,"recovered":0,"broadcasting":0}' ] &&
	ok "the six endpoints report normal, the other 2,344 are offline: $(jq -c .counts <<< "$J")" ||
	fail "after start: $all normal, $(jq -c .counts <<< "$J")"
e=$(jq -c ".endpoints[] | select(.id == ${A[1]})" <<< "$J")
[ "$(jq -r '.version, .uptime_s < 10, .received, (.last_report | test("^20[0-9-]+T[0-9:.]+Z$"))' <<< "$e" | tr '\n' ' ')" = \
	"cx-endpoint 0.1.0 true 0 true " ] && ok "an entry: $e" || fail "entry of ${A[1]}: $e"
[ "$(jq -r ".endpoints[] | select(.id == 440608101210004) | .last_report" <<< "$J")" = null ] &&
	ok "an endpoint never heard: offline, last report null" || fail "never heard: $J"
ctl endpoints --target 杨和镇/朗锦村 > "$T/ctl-langjin.txt"
[ "$(wc -l < "$T/ctl-langjin.txt")" = 15 ] &&
	grep -qE "^${A[0]}  normal        20[0-9-]+T[0-9:.]+Z$" "$T/ctl-langjin.txt" &&
	grep -qE "^440608101210015  offline       never$" "$T/ctl-langjin.txt" &&
	ok "headendctl endpoints --target 杨和镇/朗锦村: 15 lines, $(head -1 "$T/ctl-langjin.txt")" ||
	fail "headendctl endpoints: $(cat "$T/ctl-langjin.txt")"
[ "$(ctl endpoints | wc -l)" = 2350 ] && ok "headendctl endpoints: one line per endpoint" ||
	fail "headendctl endpoints printed $(ctl endpoints | wc -l) lines"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/endpoints")
[ "$code" = 401 ] && ok "GET /v1/endpoints without a token: 401" || fail "no token: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
	"$URL/v1/endpoints?target=%E6%97%A0%E6%AD%A4%E9%95%87")
[ "$code" = 422 ] && ok "an unknown target: 422" || fail "unknown target: $code"

# Broadcast to 杨和镇: 朗锦村's three broadcast, 新城村's stay normal; counted at 3 of 462.
post "{\"text\": $(json_text "$REPO/tests/data/bulletins/nowcast-0800.txt"),
       \"kind\": \"nowcast\", \"targets\": [\"杨和镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "POST answered $STATUS $BODY"
N=$(jq .id <<< "$BODY")
wait_state "${A[2]}" broadcasting 10 && get_endpoints "?target=杨和镇/朗锦村" &&
	[ "$(jq '[.endpoints[] | select(.state == "broadcasting" and .broadcast == '"$N"')] | length' <<< "$J")" = 3 ] &&
	[ "$(state_of "${B[0]}")" = normal ] &&
	ok "during broadcast $N: the three of 朗锦村 broadcasting it, 新城村 normal" ||
	fail "during broadcast $N: $(jq -c '[.endpoints[] | select(.state != "offline")]' <<< "$J")"
ctl endpoints --target 杨和镇/朗锦村 | grep -q "^${A[0]}  broadcasting  " &&
	ok "headendctl endpoints shows broadcasting" || fail "headendctl endpoints during: $(ctl endpoints --target 440608101210)"
wait_idle 60
for _ in $(seq 100); do
	grep -q "broadcast $N: played at" "$T/headend.log" && break
	sleep 0.1
done
line=$(grep "broadcast $N: played at" "$T/headend.log")
[[ $line == *"broadcast $N: played at 3 of 462 targeted endpoints" ]] && ok "log: ${line#* info }" ||
	fail "played line: ${line:-none}"
s=$(curl -s "$URL/v1/status" | jq -c ".recent[] | select(.broadcast == $N) | .reports")
[ "$s" = '{"played":3,"targeted":462,"final":true}' ] && ok "GET /v1/status, broadcast $N: $s" ||
	fail "status reports of broadcast $N: $s"
line=$(ctl status | grep "bulletin $N ")
[[ $line == "played   bulletin $N  "*"  reported played by 3 of 462" ]] &&
	ok "headendctl status: $line" || fail "headendctl status: $(ctl status)"
get_endpoints "?broadcast=$N"
[ "$(jq -c '[.played, .targeted, (.not_reported | length), (.not_reported | index('"${A[0]}"'))]' <<< "$J")" = '[3,462,459,null]' ] &&
	[ "$(jq '.not_reported | index(440608101210004) != null' <<< "$J")" = true ] &&
	ok "GET /v1/endpoints?broadcast=$N: 3 of 462, the 459 others listed" ||
	fail "?broadcast=$N: $(jq -c '[.played, .targeted, (.not_reported | length)]' <<< "$J")"

# One of 朗锦村 stops: offline within 5 s, and its village (2 of 15 < 15 %) alarms once.
grep -q "village $LANGJIN .*below" "$T/headend.log" && fail "朗锦村 alarmed before the stop"
kill -STOP "${PID[${A[0]}]}"
t0=$(date +%s.%N)
if wait_state "${A[0]}" offline 6; then
	dt=$(echo "$(date +%s.%N) - $t0" | bc)
	# 3 missed reports of 1 s, the last of them sent up to a second before the stop
	[ "$(echo "$dt >= 1.5 && $dt <= 5" | bc)" = 1 ] && ok "SIGSTOP ${A[0]}: offline after $dt s" ||
		fail "offline after $dt s"
else
	fail "${A[0]} not offline 6 s after SIGSTOP: $(state_of "${A[0]}")"
fi
for _ in $(seq 20); do grep -q "village $LANGJIN .*below" "$T/headend.log" && break; sleep 0.1; done
alarm=$(grep "village $LANGJIN .*below" "$T/headend.log")
at=$(date -u -d "$(cut -d' ' -f1 <<< "$alarm")" +%s.%N 2>/dev/null)
[ "$(grep -c "village $LANGJIN .*below" "$T/headend.log")" = 1 ] &&
	[[ $alarm == *"2 of 15 endpoints able to play (13 %), below 15 %" ]] &&
	ok "one alarm line, $(echo "$at - $t0" | bc) s after SIGSTOP: ${alarm#* warn }" ||
	fail "alarm lines for 朗锦村: $(grep "village $LANGJIN" "$T/headend.log")"
! grep -q "village $XINCHENG" "$T/headend.log" && ok "新城村 (3 of 17) never alarmed" ||
	fail "新城村: $(grep "village $XINCHENG" "$T/headend.log")"

# While it is silent, nobody can make it look alive.
get_endpoints
grep -q '"village_alarm": 0.15,' <<< "$J" && ok "village_alarm as configured: 0.15" ||
	fail "village_alarm: $(grep village_alarm <<< "$J")"
before=$(jq -c ".endpoints[] | select(.id == ${A[0]}) | [.state, .last_report]" <<< "$J")
[ "$(jq -c .rejected <<< "$J")" = '{"bad signature":0,"unknown key":0,"replay":0,"stale":0,"malformed":0}' ] ||
	fail "rejections before the attacks: $(jq -c .rejected <<< "$J")"
victim_pk=$(grep "^${A[0]} " "$T/var/endpoints.pub" | cut -d' ' -f2)
send forge "$REPORT_PORT" "${A[0]}" random "$victim_pk"
send forge "$REPORT_PORT" "${A[0]}" "$T/var/endpoint-keys/${A[1]}.key" own
last=$(ls "$T/tap" | sort -n | tail -1)
send send "$REPORT_PORT" "$T/tap/$last" "$T/tap/$last"
first_age=$(( $(date +%s) - $(stat -c %Y "$T/tap/1.bin") ))
[ "$first_age" -le 9 ] && sleep $(( 10 - first_age ))
send send "$REPORT_PORT" "$T/tap/1.bin"
sleep 0.5
get_endpoints
after=$(jq -c ".endpoints[] | select(.id == ${A[0]}) | [.state, .last_report]" <<< "$J")
[ "$(jq -c .rejected <<< "$J")" = '{"bad signature":1,"unknown key":1,"replay":2,"stale":1,"malformed":0}' ] &&
	ok "forged, another's key, replayed twice, older than the window: $(jq -c .rejected <<< "$J")" ||
	fail "rejections: $(jq -c .rejected <<< "$J")"
[ "$before" = "$after" ] && [[ $after == '["offline",'* ]] &&
	ok "${A[0]} still offline, last report unchanged: $after" || fail "victim was $before, now $after"
grep -q "reports: rejected a report from 127.0.0.1:[0-9]* naming ${A[0]} (杨和镇/朗锦村): bad signature" \
	"$T/headend.log" && ok "the first rejection is logged, the rest counted" ||
	fail "rejection log: $(grep rejected "$T/headend.log")"
! grep -q "village $LANGJIN .*back" "$T/headend.log" || fail "朗锦村 recovered on forged reports"

kill -CONT "${PID[${A[0]}]}"
wait_state "${A[0]}" normal 3 && ok "SIGCONT: ${A[0]} normal again" || fail "after SIGCONT: $(state_of "${A[0]}")"
for _ in $(seq 20); do grep -q "village $LANGJIN .*back" "$T/headend.log" && break; sleep 0.1; done
[ "$(grep -c "village $LANGJIN .*back at or above 15 %" "$T/headend.log")" = 1 ] &&
	grep -q "endpoint ${A[0]} (杨和镇/朗锦村): back, normal" "$T/headend.log" &&
	ok "recovery: $(grep "village $LANGJIN .*back" "$T/headend.log" | sed 's/.* info //')" ||
	fail "recovery lines: $(grep "$LANGJIN" "$T/headend.log")"

# A new key for ${A[1]}, made by headendctl: the old key's reports are rejected at once.
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	-d '{"public_key": "00"}' "$URL/v1/endpoints/${A[1]}/key")
[ "$code" = 401 ] && ok "POST a key without a token: 401" || fail "no token: $code"
post '{"public_key": "0123"}' "/v1/endpoints/${A[1]}/key"
[ "$STATUS" = 422 ] && ok "a bad key: 422 $(jq -r .error <<< "$BODY")" || fail "bad key: $STATUS $BODY"
post "{\"public_key\": \"$victim_pk\"}" /v1/endpoints/440608101299001/key
[ "$STATUS" = 404 ] && ok "an endpoint not in the directory: 404" || fail "unknown endpoint: $STATUS $BODY"
post "{\"public_key\": \"$victim_pk\"}" "/v1/endpoints/${A[1]}/key"
[ "$STATUS" = 409 ] && [[ $(jq -r .error <<< "$BODY") == *"endpoint ${A[0]}'s already"* ]] &&
	grep -q "^${A[1]} " "$T/var/endpoints.pub" && [ "$(grep -c " $victim_pk$" "$T/var/endpoints.pub")" = 1 ] &&
	ok "another endpoint's public key: 409, nothing changed" ||
	fail "another endpoint's key: $STATUS $BODY, $(grep -c " $victim_pk$" "$T/var/endpoints.pub") holders"
post "{\"public_key\": \"$victim_pk\"}" "/v1/endpoints/${A[1]}/keyx"
[ "$STATUS" = 404 ] && [[ $(jq -r .error <<< "$BODY") == "no such resource"* ]] &&
	ok "a wrong path under an endpoint: 404 $(jq -r .error <<< "$BODY")" ||
	fail "wrong path: $STATUS $BODY"
old_pk=$(grep "^${A[1]} " "$T/var/endpoints.pub" | cut -d' ' -f2)
out=$(ctl endpoint-key "${A[1]}" --out "$T/new.key")
rc=$?
[ "$rc" = 0 ] && [ "$(stat -c %a "$T/new.key")" = 600 ] && [[ $out == *"$T/new.key"* ]] &&
	[ ! -e "$T/var/endpoint-keys/${A[1]}.key" ] &&
	ok "headendctl endpoint-key: $(head -1 <<< "$out")" || fail "endpoint-key: rc $rc, $out"
ctl endpoint-key "${A[1]}" --out "$T/new.key" > "$T/again.log" 2>&1
[ $? = 64 ] && grep -q "new.key exists" "$T/again.log" && ok "an existing key file is never overwritten" ||
	fail "second endpoint-key: $(cat "$T/again.log")"
new_pk=$(grep "^${A[1]} " "$T/var/endpoints.pub" | cut -d' ' -f2)
[ -n "$new_pk" ] && [ "$new_pk" != "$old_pk" ] && ok "endpoints.pub holds the new public key" ||
	fail "endpoints.pub: ${A[1]} $old_pk → $new_pk"
get_endpoints
k0=$(jq '.rejected."unknown key"' <<< "$J")
sleep 2.5
get_endpoints
k1=$(jq '.rejected."unknown key"' <<< "$J")
[ "$(( k1 - k0 ))" -ge 2 ] && ok "reports signed with the old key: unknown key ($k0 → $k1)" ||
	fail "old key after the change: unknown key $k0 → $k1"
kill -TERM "${PID[${A[1]}]}"
wait "${PID[${A[1]}]}" 2>/dev/null
sed "s|key = \"$T/var/endpoint-keys\"|key = \"$T/new.key\"|" "$T/endpoint.cfg" > "$T/endpoint-new.cfg"
"$BUILD/endpoint" --config "$T/endpoint-new.cfg" --id "${A[1]}" > "$T/ep-new.log" 2>&1 &
PIDS+=($!)
wait_state "${A[1]}" normal 3 && ok "the endpoint with its new key reports normal" ||
	fail "with the new key: $(state_of "${A[1]}"), $(cat "$T/ep-new.log")"

# Keys that cannot be used stop the endpoint with the file named.
sed "s|key = \"$T/var/endpoint-keys\"|key = \"$T/absent.key\"|" "$T/endpoint.cfg" > "$T/endpoint-absent.cfg"
"$BUILD/endpoint" --config "$T/endpoint-absent.cfg" --id "${A[1]}" --timeout 1 > "$T/ep-absent.log" 2>&1
[ $? = 1 ] && grep -q "report key $T/absent.key: No such file or directory; give this endpoint its key" \
	"$T/ep-absent.log" && ok "a missing report key: $(cut -c1-120 "$T/ep-absent.log")…" ||
	fail "missing key: $(cat "$T/ep-absent.log")"
cp "$T/new.key" "$T/open.key" && chmod 644 "$T/open.key"
sed "s|key = \"$T/var/endpoint-keys\"|key = \"$T/open.key\"|" "$T/endpoint.cfg" > "$T/endpoint-open.cfg"
"$BUILD/endpoint" --config "$T/endpoint-open.cfg" --id "${A[1]}" --timeout 1 > "$T/ep-open.log" 2>&1
[ $? = 1 ] && grep -q "open.key: others may read it (mode 644); chmod 600 it" "$T/ep-open.log" &&
	ok "a report key others may read: refused" || fail "open key: $(cat "$T/ep-open.log")"

# SIGTERM: the last report says off.
kill -TERM "${PID[${A[2]}]}"
wait_state "${A[2]}" off 3 && sleep 0.3 && grep -q "endpoint ${A[2]} (杨和镇/朗锦村): off, switched off on purpose" \
	"$T/headend.log" && ok "SIGTERM: ${A[2]} off" || fail "after SIGTERM: $(state_of "${A[2]}")"

# Started again at once (well within the same second): its reports are a new boot, not replays.
get_endpoints
replays=$(jq '.rejected.replay' <<< "$J")
"$BUILD/endpoint" --config "$T/endpoint.cfg" --id "${A[2]}" > "$T/ep-again.log" 2>&1 &
PIDS+=($!)
wait_state "${A[2]}" normal 3 && get_endpoints && [ "$(jq '.rejected.replay' <<< "$J")" = "$replays" ] &&
	ok "restarted at once: ${A[2]} normal again, no report refused as a replay" ||
	fail "after a quick restart: $(state_of "${A[2]}"), rejected $(jq -c .rejected <<< "$J")"
finish
