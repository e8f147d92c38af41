#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Browser test of the web console: the head-end, three reference endpoints and Debian's
# chromium (driven by playwright-core, never a downloaded browser) in a network namespace of
# their own where only loopback exists. A forecaster logs in, composes a rainstorm warning for
# 杨和镇 and 明城镇 from its template, previews and publishes it; the endpoints in those towns
# play it and the one in 荷城街道 does not. Then a live announcement is started from the
# console while the warning holds both towns (it waits) and stopped again: the microphone is a
# FIFO behind the test's own ALSA configuration, fed at real pace. Prints the clicks and seconds to air and saves
# screenshots (to $CX_SCREENSHOTS, default BUILD/screenshots). Exits 77 (skipped) when
# chromium, node or playwright-core is missing.
# Usage: tests/browser/console.sh BUILD_DIR
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${CX_BROWSER_NETNS:-}" ]; then
	for how in "unshare -n" "unshare -rn"; do
		if $how true 2> /dev/null; then
			exec $how env CX_BROWSER_NETNS=1 bash -c 'ip link set lo up && exec bash "$0" "$@"' \
				"$0" "$@"
		fi
	done
	echo "skipped: cannot make a network namespace (unshare -n) for the browser"
	exit 77
fi
for need in /usr/bin/chromium "$(command -v node)" "$HERE/node_modules/playwright-core/package.json"; do
	if [ ! -e "$need" ]; then
		echo "skipped: ${need:-node} is missing (bash tools/deps.sh; bash tests/browser/install.sh)"
		exit 77
	fi
done
if ip -o link | grep -v ': lo:' | grep -q .; then
	echo "FAIL: the namespace has an interface other than loopback"
	exit 1
fi

. "$HERE/../system/lib.sh" "$1" 18171 15171
write_config 1.0
alsa_config
printf 'live: { device = "testcap"; };\n' >> "$T/headend.cfg"
start_headend
"$BUILD/bench/bench_live_probe" feed "$T/mic.fifo" 440 2 &
PIDS+=($!)
SHOTS=${CX_SCREENSHOTS:-$BUILD/screenshots}
mkdir -p "$SHOTS"
PASSWORD=correct-horse-battery
echo "$PASSWORD" | "$BUILD/headendctl" --config "$T/headend.cfg" passwd forecaster > /dev/null ||
	fail "could not set the forecaster's password"

# Something for the other screens: a staged nowcast and a CAP alert that cannot be mapped.
post '{"text": "高明区气象台发布短时临近预报：未来3小时，全区多云，有分散阵雨。"}' /v1/products/nowcast
[ "$STATUS" = 202 ] || fail "staging a nowcast answered $STATUS $BODY"
sed 's/<event>暴雨</<event>沙尘暴</' "$REPO/tests/data/cap/alert-rainstorm-orange.xml" |
	curl -s -o /dev/null -H 'Content-Type: application/cap+xml' -H "Authorization: Bearer $TOKEN" \
		--data-binary @- "$URL/v1/cap"

declare -A EP=( [杨和镇]=440608101201001 [明城镇]=440608102201001 [荷城街道]=440608001001001 )
for town in "${!EP[@]}"; do start_endpoint "${EP[$town]}"; done
sleep 0.3

node "$HERE/console.mjs" "$URL" forecaster "$PASSWORD" "$SHOTS" > "$T/browser.out" 2> "$T/browser.err"
rc=$?
if [ "$rc" != 0 ]; then
	fail "the browser run failed ($rc): $(tail -c 2000 "$T/browser.err") $(cat "$T/browser.out")"
	finish
fi
RESULT=$(tail -n 1 "$T/browser.out")
ID=$(jq .bulletin <<< "$RESULT")
ok "console: $(jq -r '"\(.clicks_to_air) clicks and 2 typed fields (name, password), \(.seconds_to_air) s from opening the console to the warning on air"' <<< "$RESULT")"
ok "preview played $(jq .preview_seconds <<< "$RESULT") s of audio; history found $(jq .heard_records <<< "$RESULT") broadcast(s) heard in 杨和镇"
ok "live from the console: $(jq -r '.live | join(" → ")' <<< "$RESULT")"
grep -q " info live: bulletin [0-9]* to .*杨和镇.* from ALSA device" "$T/headend.log" &&
	grep -q " info live: bulletin [0-9]* to .* ends: stopped" "$T/headend.log" &&
	ok "the head-end logged the console's live announcement and its stop" ||
	fail "no live start and stop in the log: $(grep 'live' "$T/headend.log" | head -5)"

wait_idle 120
sleep 0.5
kill -TERM "${PIDS[@]:1}" 2> /dev/null
sleep 0.5
for town in 杨和镇 明城镇; do
	grep -q "^broadcast $ID: warning rainstorm orange issue" "$T/ep-${EP[$town]}.log" &&
		ok "the endpoint in $town played bulletin $ID, the rainstorm orange warning" ||
		fail "the endpoint in $town did not play bulletin $ID: $(cat "$T/ep-${EP[$town]}.log")"
done
grep -q "^broadcast $ID:" "$T/ep-${EP[荷城街道]}.log" &&
	fail "荷城街道 heard a warning not meant for it" || ok "荷城街道 heard nothing"
ls "$SHOTS"/*.png > /dev/null 2>&1 && ok "screenshots in $SHOTS: $(cd "$SHOTS" && echo *.png)"
finish
