#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Bulletins lost over many kill -9 restarts at random moments (target 0). A client keeps
# uploading nowcasts, each with a client id of its own, retrying the same id until it has an
# answer, and notes every id the head-end accepted (2xx). The head-end is killed with -9 after a
# random 0..2.5 s, in start-up, mid-request, mid-fsync or mid-broadcast, and started again at
# once. At the end it runs until idle; an accepted bulletin is lost if its record is neither
# played nor reported as expired. Prints figures, never passes or fails.
# Usage: bash bench/kill9.sh [BUILD_DIR] [KILLS]   (KILLS defaults to 60)
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build}")
KILLS=${2:-60}
HTTP=18292 MC=15292
URL="http://127.0.0.1:$HTTP"
cmake -S "$REPO" -B "$BUILD" > /dev/null && cmake --build "$BUILD" -j2 > /dev/null
W=$(mktemp -d)
HEADEND= CLIENT=
trap '[ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null; [ -n "$HEADEND" ] && kill "$HEADEND" 2>/dev/null;
      wait 2>/dev/null; rm -rf "$W"' EXIT
cd "$REPO"
cat > "$W/headend.cfg" <<CFG
state_dir = "$W/var";
http: { port = $HTTP; };
multicast: { interface = "127.0.0.1"; port = $MC; ttl = 0; pace = 20.0; };
CFG

start() {
	"$BUILD/headend" --config "$W/headend.cfg" 2>> "$W/headend.log" &
	HEADEND=$!
}

# The client: one bulletin after another, each retried under its client id until answered.
client() {
	local seq=0 town answer code
	local towns=(荷城街道 杨和镇 明城镇 更合镇)
	while :; do
		seq=$((seq + 1))
		town=${towns[$((RANDOM % 4))]}
		while :; do
			answer=$(curl -s -m 5 -w '\n%{http_code}' -H 'Content-Type: application/json' \
				-H "Authorization: Bearer $(cat "$W/var/operator.token" 2>/dev/null)" \
				--data-binary "{\"text\": \"高明区气象台发布短时临近预报：第${seq}号。\",
				  \"kind\": \"nowcast\", \"targets\": [\"$town\"], \"repeat\": 0,
				  \"client_id\": \"k9-$seq\"}" "$URL/v1/bulletins" 2>/dev/null) || true
			code=${answer##*$'\n'}
			if [ "$code" = 202 ] || [ "$code" = 200 ]; then
				echo "$seq $(jq .id <<< "${answer%$'\n'*}") $code" >> "$W/accepted"
				break
			fi
			sleep 0.05
		done
		sleep "0.0$((RANDOM % 10))"
	done
}

start
for _ in $(seq 100); do [ -f "$W/var/operator.token" ] && break; sleep 0.1; done
client &
CLIENT=$!
echo "== kill -9: $KILLS kills at random moments while a client uploads"
for k in $(seq "$KILLS"); do
	sleep "$((RANDOM % 3)).$((RANDOM % 10))$((RANDOM % 10))"
	kill -9 "$HEADEND" 2>/dev/null || true
	wait "$HEADEND" 2>/dev/null || true
	start
	[ $((k % 10)) = 0 ] && echo "  $k kills, $(wc -l < "$W/accepted") bulletins accepted so far"
done
sleep 2
kill "$CLIENT"
wait "$CLIENT" 2>/dev/null || true
CLIENT=
for _ in $(seq 600); do
	s=$(curl -s "$URL/v1/status") || true
	[ -n "$s" ] && [ "$(jq '(.playing|length)+(.queued|length)' <<< "$s")" = 0 ] && break
	sleep 0.2
done
kill "$HEADEND"
wait "$HEADEND" 2>/dev/null || true
HEADEND=

accepted=0 played=0 expired=0 lost=0 ids=$(awk '{ print $2 }' "$W/accepted" | sort -un)
for id in $ids; do
	accepted=$((accepted + 1))
	result=$(jq -r .result "$W/var/done/$id.json" 2>/dev/null || echo missing)
	case $result in
	played) played=$((played + 1));;
	expired) expired=$((expired + 1));;
	*) lost=$((lost + 1)); echo "  lost: bulletin $id ($result)";;
	esac
done
answers=$(wc -l < "$W/accepted")
dups=$(awk '$3 == 200' "$W/accepted" | wc -l)
restored=$(grep -c "queued again as broadcast" "$W/headend.log" || true)
echo "kills: $KILLS; uploads answered: $answers ($dups of them 200: the client id was accepted" \
     "before a kill had cut the first answer)"
echo "bulletins accepted: $accepted; played: $played; reported expired: $expired; lost: $lost"
echo "queued again at a restart: $restored times"
