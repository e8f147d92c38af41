#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# `headendctl key rotate` in the middle of a broadcast: the new key is announced, signed by the
# old one, then signs everything; the endpoint plays the whole broadcast without a gap or a
# rejected packet. Endpoints started afterwards read the new public key; one given only the old
# key refuses the new broadcasts; a second rotation while one is under way is refused.
. "$(dirname "$0")/lib.sh" "$1" 18153 15262
write_config 2.0
start_headend
ctl() { "$BUILD/headendctl" --config "$T/headend.cfg" "$@"; }

EP=440608101201001
LATE=440608101201002
JOINS=(--group 239.192.0.1 --group 239.192.202.0 --group 239.192.202.201)
FILE="$REPO/tests/data/bulletins/nowcast-1600.txt"
old=$(cut -c1-64 "$T/var/headend.pub")
cp "$T/var/headend.pub" "$T/old.pub"
"$BUILD/wiretap" record --port "$MC_PORT" "${JOINS[@]}" --out "$T/wire.cxw" 2> "$T/record.log" &
REC=$!
PIDS+=($REC)
start_endpoint $EP
sleep 0.3

post "{\"text\": $(json_text "$FILE"), \"targets\": [\"杨和镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "POST answered $STATUS $BODY"
sleep 3
id=$(ctl key rotate) || fail "key rotate failed"
ctl key rotate 2> "$T/second.err" && fail "a second rotation was accepted while one was under way"
grep -q "under way" "$T/second.err" && ok "a second rotation under way is refused: $(cat "$T/second.err")" ||
	fail "second rotation: $(cat "$T/second.err")"
wait_idle 60
sleep 0.3
[ "$(cut -c1-64 "$T/var/headend.pub")" != "$old" ] && ok "headend.pub now holds key $id" ||
	fail "headend.pub still holds the old key"

line=$(grep '^broadcast ' "$T/ep-$EP.log")
frames=$(curl -s "$URL/v1/status" | jq '.recent[0].frames')
secs=$(sed -E 's/.*, ([0-9.]+) s of audio.*/\1/' <<< "$line")
if grep -q 'lost 0, rejected 0 .*(end)' <<< "$line" &&
   [ "$(echo "$secs * 50" | bc | cut -d. -f1)" = "$frames" ]; then
	ok "rotated mid-broadcast, played all $frames frames, nothing lost or rejected"
else
	fail "mid-broadcast rotation: $line (head-end sent $frames frames)"
fi

# Old key only: an endpoint that missed the announcements hears nothing from the new key.
sed "s|$T/var/headend.pub|$T/old.pub|" "$T/endpoint.cfg" > "$T/stale.cfg"
"$BUILD/endpoint" --config "$T/stale.cfg" --id $LATE > "$T/stale.log" 2>&1 &
STALE=$!
PIDS+=($STALE)
start_endpoint $LATE
sleep 0.3
post '{"text": "高明区气象台发布短时临近预报：未来3小时多云。", "kind": "nowcast", "targets": ["杨和镇"], "repeat": 0}'
wait_idle 60
sleep 0.3
kill -TERM "${PIDS[@]:1}"
wait "${PIDS[@]:1}" 2>/dev/null
[ "$(grep -c '^broadcast .*lost 0, rejected 0 .*(end)' "$T/ep-$EP.log")" = 2 ] &&
	ok "the endpoint that heard the announcements plays the next broadcast" ||
	fail "announced endpoint: $(cat "$T/ep-$EP.log")"
grep -q '^broadcast .*lost 0, rejected 0 .*(end)' "$T/ep-$LATE.log" &&
	ok "an endpoint started after the rotation reads the new key and plays" ||
	fail "late endpoint: $(cat "$T/ep-$LATE.log")"
if ! grep -q '^broadcast ' "$T/stale.log" && grep -qE 'unknown key [1-9]' "$T/stale.log"; then
	ok "an endpoint with only the old key plays nothing: $(grep -o 'rejected.*' "$T/stale.log")"
else
	fail "old-key endpoint: $(cat "$T/stale.log")"
fi

"$BUILD/wiretap" dump "$T/wire.cxw" > "$T/wire.txt"
keys=$(awk '/ control / { print $7 }' "$T/wire.txt" | uniq | tr '\n' ' ')
announced=$(awk '/ control type 5 / { print $7 }' "$T/wire.txt" | sort -u | tr '\n' ' ')
[ "$(wc -w <<< "$keys")" = 2 ] && [ "$(awk '/ control type 5 /' "$T/wire.txt" | wc -l)" = 3 ] &&
	[ "$announced" = "$(cut -d' ' -f1 <<< "$keys") " ] &&
	ok "signing keys on the wire, in order: $keys; 3 KEY packets signed by the old key" ||
	fail "keys on the wire: $keys; KEY packets signed by: $announced"
finish
