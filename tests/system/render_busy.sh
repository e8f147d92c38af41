#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A warning accepted while the renderer is busy with a long forecast for another town is played
# whole: the head-end fills the wait with encoded silence instead of falling quiet on the wire,
# which endpoints would take for the end of the broadcast (a bug found by hand, now held here).
. "$(dirname "$0")/lib.sh" "$1" 18086 15086
write_config 10.0
start_headend
ep=440608102201001
start_endpoint "$ep" --count 1 --timeout 120
sleep 0.3

# About 1,900 bytes of forecast: long enough to keep the renderer busy for a while.
long=$(for _ in $(seq 8); do sed -n 1p "$REPO/tests/data/bulletins/forecast-24h-1700.txt"; done | tr -d '\n' | head -c 1900)
long=$(printf '%s' "$long" | iconv -c -f UTF-8 -t UTF-8)
post "{\"text\": $(printf '%s' "$long" | jq -Rs .), \"kind\": \"forecast\", \"targets\": [\"杨和镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "long forecast: $STATUS $BODY"
file="$REPO/tests/data/bulletins/warning-hail-orange.txt"
post "{\"text\": $(json_text "$file"), \"targets\": [\"明城镇\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "warning: $STATUS $BODY"

wait "$EP_PID" || fail "the endpoint in 明城镇 did not finish a broadcast: $(cat "$T/ep-$ep.log")"
"$BUILD/tts" --config "$T/headend.cfg" --tone orange -o "$T/hail.wav" "$file" 2> /dev/null
want=$(soxi -D "$T/hail.wav")
line=$(grep '^broadcast ' "$T/ep-$ep.log")
secs=$(sed -E 's/.*, ([0-9.]+) s of audio.*/\1/' <<< "$line")
if [[ "$line" == *"(end)"* ]] && [ "$(echo "$secs >= $want" | bc -l)" = 1 ]; then
	ok "the warning played to its END: $secs s (rendered $want s)"
else
	fail "the warning was cut short: $line (rendered $want s)"
fi
finish
