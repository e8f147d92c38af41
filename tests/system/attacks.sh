#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# An attacker on the loudspeaker network, played by tools/wiretap on loopback. Endpoint A hears
# the head-end through a relay that tampers with the stream; endpoint B, same id, hears the
# same genuine packets untouched (minus any the relay replaced for A). Per attack class: both
# play exactly one broadcast, their audio is identical to the byte (nothing of the attacker's
# was played), and every packet the attacker sent is counted by A as rejected (by reason) or
# as not its business. Then a recorded broadcast is replayed seconds later, idle and during
# another broadcast, to the endpoint that heard it and to one started afterwards.
. "$(dirname "$0")/lib.sh" "$1" 18151 15151
write_config 4.0
start_headend

EP=440608101201001
JOINS=(--group 239.192.0.1 --group 239.192.202.0 --group 239.192.202.201)	# its 3 groups
declare -A PORT=( [A]=15152 [B]=15153 [C]=15154 )
for e in A B C; do
	sed "s/port = $MC_PORT/port = ${PORT[$e]}/" "$T/endpoint.cfg" > "$T/endpoint-$e.cfg"
done
TEXT='{"text": "高明区气象台发布短时临近预报：未来3小时多云，局部有阵雨。", "kind": "nowcast", "targets": ["杨和镇"], "repeat": 0}'

# ep_start NAME RUN: endpoint NAME with output in $T/NAME-RUN.log and .wav; its pid in PID_NAME
ep_start() {
	"$BUILD/endpoint" --config "$T/endpoint-$1.cfg" --id $EP --out "$T/$1-$2.wav" \
		> "$T/$1-$2.log" 2>&1 &
	PIDS+=($!)
	printf -v "PID_$1" %s $!
}

# counts LOG: "rejected sig key replay stale malformed unverified ignored" from the final line
counts() {
	sed -nE 's/^endpoint .*rejected ([0-9]+) \[bad signature ([0-9]+), unknown key ([0-9]+), replay ([0-9]+), stale ([0-9]+), malformed ([0-9]+), unverified ([0-9]+)\], ignored ([0-9]+).*/\1 \2 \3 \4 \5 \6 \7 \8/p' "$1"
}

# judge NAME RUN TRIED BROADCASTS: A and B heard the same and A accounts for every attack packet
judge() {
	local a b
	read -r -a a < <(counts "$T/A-$2.log")
	read -r -a b < <(counts "$T/B-$2.log")
	if [ ${#a[@]} != 8 ] || [ ${#b[@]} != 8 ]; then
		fail "$1: no final line from the endpoints"
		return
	fi
	[ "$(grep -c '^broadcast ' "$T/A-$2.log")" = "$4" ] && [ "$(grep -c '^broadcast ' "$T/B-$2.log")" = "$4" ] ||
		fail "$1: endpoints played $(grep -c '^broadcast ' "$T/A-$2.log") and $(grep -c '^broadcast ' "$T/B-$2.log") broadcasts, not $4"
	cmp -s "$T/A-$2.wav" "$T/B-$2.wav" || fail "$1: the attacked endpoint's audio differs from the clean one's"
	[ "$3" -gt 0 ] || fail "$1: the attacker sent nothing"
	if [ $(( a[0] - b[0] + a[7] - b[7] )) != "$3" ]; then
		fail "$1: tried $3, rejected $((a[0] - b[0])), ignored $((a[7] - b[7]))"
		return
	fi
	ok "$1: tried $3, played 0; rejected $((a[0] - b[0])) (bad signature $((a[1] - b[1])), unknown key $((a[2] - b[2])), replay $((a[3] - b[3])), stale $((a[4] - b[4])), malformed $((a[5] - b[5])), unverified $((a[6] - b[6]))), ignored $((a[7] - b[7]))"
}

broadcast() {
	post "$TEXT"
	[ "$STATUS" = 202 ] || fail "POST answered $STATUS $BODY"
}

stop() {
	kill -TERM "$@" 2>/dev/null
	wait "$@" 2>/dev/null
}

for class in duplicate reorder flip truncate oversize forge wrongkey; do
	ep_start A $class
	ep_start B $class
	"$BUILD/wiretap" relay --port "$MC_PORT" --to ${PORT[A]} --clean ${PORT[B]} "${JOINS[@]}" \
		--attack $class > "$T/relay-$class.log" 2>&1 &
	RELAY=$!
	PIDS+=($RELAY)
	sleep 0.3
	broadcast
	wait_idle 60
	sleep 0.3
	stop $RELAY
	stop "$PID_A" "$PID_B"
	judge $class $class "$(sed -nE 's/.*tried ([0-9]+).*/\1/p' "$T/relay-$class.log")" 1
done

# Replay: record what A hears of a broadcast, then send it again 2 s after it ended, and once
# more in the middle of the next broadcast.
ep_start A replay
ep_start B replay
"$BUILD/wiretap" relay --port "$MC_PORT" --to ${PORT[A]} --clean ${PORT[B]} "${JOINS[@]}" \
	--attack none > "$T/relay-replay.log" 2>&1 &
RELAY=$!
PIDS+=($RELAY)
"$BUILD/wiretap" record --port ${PORT[A]} "${JOINS[@]}" --out "$T/recorded.cxw" 2> "$T/record.log" &
REC=$!
PIDS+=($REC)
sleep 0.3
broadcast
wait_idle 60
sleep 0.3
stop $REC
sleep 2
tried=0
n=$("$BUILD/wiretap" replay --to ${PORT[A]} --in "$T/recorded.cxw" | sed -nE 's/.*replayed ([0-9]+).*/\1/p')
tried=$((tried + n))
broadcast
sleep 0.5
n=$("$BUILD/wiretap" replay --to ${PORT[A]} --in "$T/recorded.cxw" --order reverse | sed -nE 's/.*replayed ([0-9]+).*/\1/p')
tried=$((tried + n))
wait_idle 60
sleep 0.3
stop $RELAY
stop "$PID_A" "$PID_B"
judge "replay of a recorded broadcast" replay "$tried" 2

# The same recording to an endpoint started after it was made.
"$BUILD/endpoint" --config "$T/endpoint-C.cfg" --id $EP > "$T/C.log" 2>&1 &
C=$!
PIDS+=($C)
sleep 0.3
n=$("$BUILD/wiretap" replay --to ${PORT[C]} --in "$T/recorded.cxw" | sed -nE 's/.*replayed ([0-9]+).*/\1/p')
sleep 0.3
stop $C
read -r -a c < <(counts "$T/C.log")
if [ "${#c[@]}" = 8 ] && [ $((c[0] + c[7])) = "$n" ] && ! grep -q '^broadcast ' "$T/C.log"; then
	ok "replay to an endpoint started later: tried $n, played 0; rejected ${c[0]} (stale ${c[4]}), ignored ${c[7]}"
else
	fail "replay to an endpoint started later: tried $n, $(tail -1 "$T/C.log")"
fi
finish
