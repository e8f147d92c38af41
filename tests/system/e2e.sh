#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Every shared bulletin to one or two towns at ten times real pace: endpoints in the target towns
# play each one whole (length within 5 % of the rendered audio, no packet lost), endpoints
# elsewhere play nothing, and a broadcast to one loudspeaker stays silent on its neighbour.
# Warnings preempt what is below them (docs/arbitration.md): here they are posted from the
# highest colour down, so that each plays whole; system/preempt.sh tests preemption itself.
. "$(dirname "$0")/lib.sh" "$1" 18081 15081
write_config 10.0
start_headend

declare -A EP=( [荷城街道]=440608001001001 [杨和镇]=440608101201001 [明城镇]=440608102201001
		[更合镇]=440608103201001 )
NEIGHBOUR=440608101201002	# same village as 杨和镇's endpoint above
declare -A TARGETS=(
	[forecast-24h-1700]="荷城街道" [forecast-24h-1800]="更合镇"
	[nowcast-0800]="荷城街道 杨和镇" [nowcast-0900]="明城镇" [nowcast-1200]="明城镇 更合镇"
	[nowcast-1600]="杨和镇" [warning-cold-yellow-lift]="荷城街道"
	[warning-forest-fire-red]="更合镇" [warning-hail-orange]="杨和镇 明城镇"
	[warning-rainstorm-orange]="明城镇 更合镇"
	[warning-thunderstorm-gale-yellow]="荷城街道 杨和镇" [warning-typhoon-white]="杨和镇"
)

for town in "${!EP[@]}"; do start_endpoint "${EP[$town]}"; done
start_endpoint "$NEIGHBOUR"
sleep 0.3

# The lift needs its warning active: 荷城街道 hears the issue first.
post '{"text": "高明区气象台发布寒冷黄色预警信号。", "targets": ["荷城街道"], "repeat": 0}'
[ "$STATUS" = 202 ] || fail "issuing cold yellow answered $STATUS $BODY"
ORDER=( warning-forest-fire-red warning-hail-orange warning-rainstorm-orange
	warning-thunderstorm-gale-yellow warning-cold-yellow-lift warning-typhoon-white
	forecast-24h-1700 forecast-24h-1800 nowcast-0800 nowcast-0900 nowcast-1200 nowcast-1600 )

declare -A EXPECT_S ID
for name in "${ORDER[@]}"; do
	file="$REPO/tests/data/bulletins/$name.txt"
	tone=()
	colour=${name%-lift}
	case $name in warning-*) tone=(--tone "${colour##*-}");; esac
	"$BUILD/tts" --config "$T/headend.cfg" "${tone[@]}" -o "$T/$name.wav" "$file" 2> "$T/tts.log" ||
		{ fail "tts could not render $name"; cat "$T/tts.log"; continue; }
	EXPECT_S[$name]=$(soxi -D "$T/$name.wav")
	targets=$(printf '%s\n' ${TARGETS[$name]} | jq -R . | jq -cs .)
	post "{\"text\": $(json_text "$file"), \"targets\": $targets, \"repeat\": 0}"
	[ "$STATUS" = 202 ] || { fail "$name: POST answered $STATUS $BODY"; continue; }
	ID[$name]=$(jq .id <<< "$BODY")
done
post "{\"text\": \"高明区气象台测试广播。\", \"kind\": \"nowcast\", \"targets\": [\"$NEIGHBOUR\"], \"repeat\": 0}"
[ "$STATUS" = 202 ] || fail "single-endpoint POST answered $STATUS $BODY"
SINGLE=$(jq .id <<< "$BODY")

wait_idle 240
sleep 0.5
for pid in "${PIDS[@]:1}"; do kill -TERM "$pid"; done
sleep 0.5

# line_of ENDPOINT ID: the endpoint's line for that broadcast
line_of() { grep "^broadcast $2: " "$T/ep-$1.log"; }

for town in "${!EP[@]}"; do
	ep=${EP[$town]}
	want=0
	[ "$town" = 荷城街道 ] && want=1
	for name in "${!TARGETS[@]}"; do
		[ -n "${ID[$name]:-}" ] || continue
		if [[ " ${TARGETS[$name]} " != *" $town "* ]]; then
			line_of "$ep" "${ID[$name]}" > /dev/null && fail "$town heard $name, not meant for it"
			continue
		fi
		want=$((want + 1))
		line=$(line_of "$ep" "${ID[$name]}") || { fail "$town did not hear $name"; continue; }
		read -r secs recv lost rej < <(sed -E 's/.*, ([0-9.]+) s of audio, packets received ([0-9]+), lost ([0-9]+), rejected ([0-9]+).*/\1 \2 \3 \4/' <<< "$line")
		expect=$(echo "${EXPECT_S[$name]} + 0.2" | bc -l)
		if [ "$lost" != 0 ] || [ "$rej" != 0 ]; then
			fail "$town $name: lost $lost, rejected $rej"
		elif [ "$(echo "d = $secs - $expect; if (d < 0) d = -d; d <= 0.05 * $expect" | bc -l)" != 1 ]; then
			fail "$town $name: $secs s of audio, rendered $expect s"
		else
			ok "$town $name: $secs s of audio (rendered $expect s), $recv packets, none lost"
		fi
	done
	got=$(grep -c '^broadcast ' "$T/ep-$ep.log")
	[ "$got" = "$want" ] || fail "$town played $got broadcasts, expected $want"
done

line_of "$NEIGHBOUR" "$SINGLE" > /dev/null && ok "single endpoint $NEIGHBOUR played its broadcast" ||
	fail "single endpoint $NEIGHBOUR did not play broadcast $SINGLE"
line_of "${EP[杨和镇]}" "$SINGLE" > /dev/null && fail "the neighbour of $NEIGHBOUR played its broadcast"
for town in 荷城街道 明城镇 更合镇; do
	grep -q "^broadcast $SINGLE: " "$T/ep-${EP[$town]}.log" && fail "$town played the single-endpoint broadcast"
done
finish
