#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# kill -9 in the middle of a broadcast: the head-end comes back under a new epoch, taken and
# synced before it sends anything, so no (epoch, serial) on the wire is ever used twice. The
# endpoint, running all along, plays what follows with nothing rejected.
. "$(dirname "$0")/lib.sh" "$1" 18152 15252
write_config 4.0
start_headend

EP=440608101201001
JOINS=(--group 239.192.0.1 --group 239.192.202.0 --group 239.192.202.201)
FILE="$REPO/tests/data/bulletins/nowcast-1600.txt"
"$BUILD/wiretap" record --port "$MC_PORT" "${JOINS[@]}" --out "$T/wire.cxw" 2> "$T/record.log" &
REC=$!
PIDS+=($REC)
start_endpoint $EP
sleep 0.3

post "{\"text\": $(json_text "$FILE"), \"targets\": [\"杨和镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "POST answered $STATUS $BODY"
sleep 1.5
kill -KILL "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
[ "$(cat "$T/var/epoch")" = 1 ] || fail "epoch file says $(cat "$T/var/epoch") before the restart"

start_headend
[ "$(cat "$T/var/epoch")" = 2 ] && ok "the restarted head-end took epoch 2" ||
	fail "epoch file says $(cat "$T/var/epoch") after the restart"
post "{\"text\": $(json_text "$FILE"), \"targets\": [\"杨和镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "POST after the restart answered $STATUS $BODY"
wait_idle 60
sleep 0.5
kill -TERM "$REC" "$EP_PID"
wait "$REC" "$EP_PID" 2>/dev/null

"$BUILD/wiretap" dump "$T/wire.cxw" > "$T/wire.txt"
pairs=$(grep -c ' control ' "$T/wire.txt")
dups=$(awk '/ control / { print $9, $11 }' "$T/wire.txt" | sort | uniq -d | wc -l)
epochs=$(awk '/ control / { print $9 }' "$T/wire.txt" | sort -u | tr '\n' ' ')
[ "$pairs" -gt 20 ] && [ "$dups" = 0 ] && [ "$epochs" = "1 2 " ] &&
	ok "$pairs signed packets across the kill, epochs $epochs, no (epoch, serial) twice" ||
	fail "$pairs signed packets, $dups (epoch, serial) pairs used twice, epochs $epochs"

# The killed broadcast ends on the silence timer or when the next one starts; what follows
# the restart plays whole.
line=$(grep '^broadcast ' "$T/ep-$EP.log" | tail -1)
if grep -q 'lost 0, rejected 0 .*(end)' <<< "$line"; then
	ok "the endpoint played the last broadcast after the restart whole: $line"
else
	fail "after the restart the endpoint says: $line"
fi
grep '^broadcast ' "$T/ep-$EP.log" | grep -v 'rejected 0 ' && fail "the endpoint rejected packets"
grep -q '^endpoint .* rejected 0 ' "$T/ep-$EP.log" || fail "final line: $(tail -1 "$T/ep-$EP.log")"
finish
