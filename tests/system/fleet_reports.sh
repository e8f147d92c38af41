#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Status reports (回传) at the district's full size: tools/fleet sends the signed reports of all
# 2,350 endpoints, each with the key the head-end provisioned for it, every 2 s. The head-end
# sees all 2,350 normal; after a broadcast to the whole district its played count is exactly
# the number of endpoints the fleet says reported playing it (all 2,350). Then one village
# (杨和镇/朗锦村, 15 endpoints) stops reporting: exactly its endpoints go offline, exactly one
# alarm line names it and no other village; a second district broadcast is counted as played
# at exactly the 2,335 endpoints still reporting. Nothing here is timed against a limit.
. "$(dirname "$0")/lib.sh" "$1" 18731 15731
. "$(dirname "$0")/fleet_lib.sh"
PERIOD=2
VILLAGE=440608101210
write_config 1.0
# lib.sh's reports group (UDP $REPORT_PORT), with a short period so that the test is quick.
sed -i '/^reports:/d' "$T/headend.cfg"
cat >> "$T/headend.cfg" <<CFG
reports: { address = "127.0.0.1"; port = $REPORT_PORT; period_s = $PERIOD; missed = 3;
           village_alarm = 0.8; };
CFG
start_headend
keys=$(find "$T/var/endpoint-keys" -name '*.key' -perm 0600 | wc -l)
[ "$keys" = 2350 ] && ok "the first start provisioned 2350 report keys, mode 0600" ||
	fail "$keys report keys of mode 0600 in $T/var/endpoint-keys"

start_fleet reports --status-to "127.0.0.1:$REPORT_PORT" --status-period "$PERIOD" \
	--status-keys "$T/var/endpoint-keys" --silence "$VILLAGE"

# endpoints: GET /v1/endpoints (it needs the token) into $T/endpoints.json; count STATE: how
# many endpoints are in STATE
endpoints() {
	curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/endpoints" > "$T/endpoints.json"
}
count() {
	jq -r --arg s "$1" '.counts[$s] // 0' "$T/endpoints.json"
}

# All of them within the first period and a little; waited for, not timed.
for _ in $(seq 100); do
	endpoints
	[ "$(count normal)" = 2350 ] && break
	sleep 0.2
done
if [ "$(count normal)" = 2350 ] && [ "$(count offline)" = 0 ]; then
	ok "GET /v1/endpoints: 2350 normal, 0 offline"
else
	fail "GET /v1/endpoints: $(jq -c .counts "$T/endpoints.json")"
fi
rejected=$(jq '[.rejected[]?] | add // 0' "$T/endpoints.json")
[ "$rejected" = 0 ] && ok "no report rejected" ||
	fail "reports rejected: $(jq -c .rejected "$T/endpoints.json")"

# district_broadcast TEXT: posts it to the whole district, waits until it is over and its
# played count is final (the head-end's log line), sets BC and PLAYED and OF from that line.
district_broadcast() {
	local line
	post "{\"text\": \"$1\", \"kind\": \"nowcast\", \"repeat\": 0}"
	[ "$STATUS" = 202 ] || { fail "POST answered $STATUS $BODY"; finish; }
	ID=$(jq .id <<< "$BODY")
	wait_idle 60
	BC=$(curl -s "$URL/v1/status" | jq -r ".recent[] | select(.id == $ID) | .broadcast")
	for _ in $(seq 300); do
		line=$(grep -a "broadcast $BC: played at " "$T/headend.log") && break
		sleep 0.1
	done
	PLAYED=$(sed -nE 's/.*played at ([0-9]+) of ([0-9]+) .*/\1/p' <<< "$line")
	OF=$(sed -nE 's/.*played at ([0-9]+) of ([0-9]+) .*/\2/p' <<< "$line")
	[ -n "$PLAYED" ] || fail "broadcast $BC: no played count in the log"
}

district_broadcast "高明区气象台：今天白天多云，午后有雷阵雨。"
BC1=$BC PLAYED1=$PLAYED OF1=$OF
status_played=$(curl -s "$URL/v1/status" |
	jq -r ".recent[] | select(.broadcast == $BC1) | \"\(.reports.played) \(.reports.targeted)\"")

# The village falls silent: its endpoints stop reporting and go on listening.
kill -USR1 "$FLEET_PID"
for _ in $(seq 200); do
	grep -q '^fleet: silenced' "$T/reports.out" && break
	sleep 0.1
done
grep '^fleet: silenced' "$T/reports.out"
# Until the alarm is out and all 15 are offline; waited for, not timed.
for _ in $(seq 300); do
	endpoints
	grep -aq "warn village $VILLAGE .*below" "$T/headend.log" && [ "$(count offline)" -ge 15 ] &&
		break
	sleep 0.1
done
if [ "$(count offline)" = 15 ] && [ "$(count normal)" = 2335 ] &&
	[ "$(jq -r '[.endpoints[] | select(.state == "offline") | .id | tostring |
		.[0:12]] | unique | join(",")' "$T/endpoints.json")" = "$VILLAGE" ]; then
	ok "the 15 endpoints of village $VILLAGE are offline, the other 2335 normal"
else
	fail "after the silence: $(jq -c .counts "$T/endpoints.json")"
fi

district_broadcast "高明区气象台：明天阴天有小雨，气温下降。"
BC2=$BC PLAYED2=$PLAYED OF2=$OF
stop_fleet

alarms=$(grep -aE 'warn village [0-9]{12} .* below' "$T/headend.log")
if [ "$(grep -c . <<< "$alarms")" = 1 ] && grep -q "village $VILLAGE " <<< "$alarms"; then
	ok "exactly one alarm line, for the silent village: ${alarms#* warn }"
else
	fail "alarm lines: ${alarms:-none}"
fi
n=$(grep -ac 'endpoint .*: offline' "$T/headend.log")
[ "$n" = 15 ] && ok "15 endpoints logged offline" || fail "$n endpoints logged offline"

r1=$(grep "^summary reports broadcast=$BC1 " "$T/reports.out")
r2=$(grep "^summary reports broadcast=$BC2 " "$T/reports.out")
# played N OF FLEET_LINE WANT: the head-end's count against the fleet's and the expected one
played() {
	local bc=$1 n=$2 of=$3 line=$4 want=$5
	if expect_vals "fleet, broadcast $bc" "$line" addressed=2350 reported_addressed="$want" &&
		[ "$n $of" = "$want 2350" ]; then
		ok "broadcast $bc: played at $n of $of, as many as the fleet says reported it"
	else
		fail "broadcast $bc: played at $n of $of; the fleet: $line"
	fi
}
played "$BC1" "$PLAYED1" "$OF1" "$r1" 2350
played "$BC2" "$PLAYED2" "$OF2" "$r2" 2335
[ "$status_played" = "2350 2350" ] && ok "GET /v1/status: broadcast $BC1 played at 2350 of 2350" ||
	fail "broadcast $BC1 in GET /v1/status: played, targeted $status_played"
line=$(grep '^summary lane=0 faults=none endpoints=' "$T/reports.out")
expect_vals "fleet" "$line" expected=2350 heard=2350 &&
	ok "all 2350 endpoints played both broadcasts"
line=$(grep '^summary reports endpoints=' "$T/reports.out")
expect_vals "fleet reports" "$line" send_errors=0 silenced=15 &&
	ok "fleet: $(val "$line" sent) reports sent, none failed"
finish
