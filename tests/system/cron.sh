#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Daily slots, in cron mode and by the head-end's timer. Slots are set a few seconds from now in
# UTC (the schedule's zone, not the machine's). Cron mode: a staged text played with
# `headendctl play --slot`, refused the second time, played again with --force; a text fetched
# from a file:// url too old to play (skipped, said in the log and the status), then fresh; one
# fetched over http from a server on 127.0.0.1. Timer mode: a slot fires by itself within a
# second of its time, under systemd's notify protocol with a NOTIFY_SOCKET this test owns.
. "$(dirname "$0")/lib.sh" "$1" 18204 15204
write_config 10.0
ctl() { "$BUILD/headendctl" --config "$T/headend.cfg" "$@"; }
at() { date -u -d "@$(( $(date +%s) + $1 ))" +%H:%M:%S; }
WWW_PORT=18214
mkdir -p "$T/www"
S1=$(at -30) S2=$(at -20) S3=$(at -10)
schedule() {
	cat > "$T/schedule.cfg" <<CFG
time_zone = "UTC";
timer = $1;
products: {
  nowcast: { url = "http://127.0.0.1:$WWW_PORT/nowcast.txt"; max_age = 3600; };
  forecast: { url = "file://$T/forecast.txt"; max_age = 3600; };
};
slots = ( { time = "$S1"; product = "nowcast"; },
          { time = "$S2"; product = "forecast"; targets = [ "明城镇" ]; repeat = 0; },
          { time = "$S3"; product = "nowcast"; }$2 );
CFG
}
schedule false ""
sed -i "s|^schedule = .*|schedule = \"$T/schedule.cfg\";|" "$T/headend.cfg"
start_headend
EP=440608101201001	# 杨和镇
start_endpoint "$EP"
sleep 0.3
grep -q "3 daily slots in UTC, played when asked (cron mode)" "$T/headend.log" ||
	fail "start-up line: $(grep 'daily slots' "$T/headend.log")"

# A text staged without a slot serves the product's next slot: S1, fallen and not yet played.
echo "高明区气象台发布短时临近预报：未来2小时晴。" > "$T/nowcast.txt"
out=$(ctl stage --product nowcast "$T/nowcast.txt")
[[ $out == "nowcast staged for slot $S1 ("* ]] && ok "staged: $out" || fail "stage: $out"
P1=$(ctl play --slot "$S1") && ok "play --slot $S1: bulletin $P1" || fail "play: $P1"
ctl play --slot "$S1" > /dev/null 2> "$T/again.err"
[ $? = 1 ] && grep -q "refused (409): slot $S1 of .* was played already (bulletin $P1); --force" \
	"$T/again.err" && ok "played again: refused, $(cut -d: -f2- "$T/again.err")" ||
	fail "second play: $(cat "$T/again.err")"
P2=$(ctl play --slot "$S1" --force) && [ "$P2" != "$P1" ] &&
	ok "--force plays it again: bulletin $P2" || fail "forced play: $P2"

# A fetched text older than max_age is never played as new.
echo "高明区气象台12月4日17时发布未来24小时天气预报：多云。" > "$T/forecast.txt"
touch -d '-3 hours' "$T/forecast.txt"
ctl play --slot "$S2" > /dev/null 2> "$T/stale.err"
[ $? = 1 ] && grep -q "refused (422): file://$T/forecast.txt was last changed at .*, 3.0 h ago, over max_age 60 min" \
	"$T/stale.err" && ok "a stale text is refused: $(cut -d: -f2- "$T/stale.err")" ||
	fail "stale text: $(cat "$T/stale.err")"
grep -q "slot $S2 (.*): skipped: file://$T/forecast.txt was last changed" "$T/headend.log" &&
	ok "the log says why slot $S2 was skipped" || fail "no skip line in the log"
curl -s "$URL/v1/status" | jq -e ".skipped[] | select(.slot == \"$S2\")" > /dev/null &&
	ok "the status shows it" || fail "status: $(curl -s "$URL/v1/status" | jq -c .skipped)"
touch "$T/forecast.txt"
P3=$(ctl play --slot "$S2") && ok "fresh, it plays: bulletin $P3" || fail "fresh play: $P3"

# Fetched over http from a server of this test's own on loopback.
cp "$T/nowcast.txt" "$T/www/nowcast.txt"
python3 -m http.server "$WWW_PORT" --bind 127.0.0.1 --directory "$T/www" > "$T/www.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$WWW_PORT/" && break; sleep 0.1; done
P4=$(ctl play --slot "$S3") && ok "text fetched over http: bulletin $P4" || fail "http play: $P4"
wait_idle 60
for id in "$P1" "$P2" "$P3" "$P4"; do
	[ "$(jq -r .result "$T/var/done/$id.json" 2>/dev/null)" = played ] ||
		fail "bulletin $id: $(cat "$T/var/done/$id.json" 2>/dev/null)"
done
jq -e --arg u "http://127.0.0.1:$WWW_PORT/nowcast.txt" '.text_from == $u' \
	"$T/var/done/$P4.json" > /dev/null || fail "bulletin $P4 text from: $(jq .text_from "$T/var/done/$P4.json")"
sleep 0.3
for id in "$P1" "$P2" "$P4"; do
	grep -qE "^broadcast $id: nowcast, .* lost 0, .*\(end\)$" "$T/ep-$EP.log" ||
		fail "杨和镇 did not hear bulletin $id: $(cat "$T/ep-$EP.log")"
done
grep -q "^broadcast $P3: " "$T/ep-$EP.log" && fail "杨和镇 heard the 明城镇 forecast"

# Timer mode, under systemd's notify protocol: a slot 4 s from now fires by itself.
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
S4=$(at 4)
schedule true ", { time = \"$S4\"; product = \"nowcast\"; }"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)
' "$T/notify.sock" > "$T/notify.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
OTHERS=("${PIDS[@]:1}")
PIDS=()
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=1000000 start_headend
PIDS+=("${OTHERS[@]}")
out=$(ctl stage --product nowcast --slot "$S4" "$T/nowcast.txt")
[[ $out == "nowcast staged for slot $S4 ("* ]] || fail "stage for $S4: $out"
for _ in $(seq 100); do grep -q "slot $S4 (.*): bulletin" "$T/headend.log" && break; sleep 0.1; done
fired=$(grep -o "slot $S4 (.*): fired [0-9.]* ms after its time" "$T/headend.log")
if [ -n "$fired" ] && [ "$(echo "$(sed -E 's/.*fired ([0-9.]+) ms.*/\1/' <<< "$fired") < 1000" | bc)" = 1 ]; then
	ok "timer: $fired"
else
	fail "timer: slot $S4 did not fire: $(grep "slot $S4" "$T/headend.log")"
fi
ctl play --slot "$S4" > /dev/null 2>&1
[ $? = 1 ] && ok "play --slot $S4 after the timer played it: refused" || fail "play after the timer"
sleep 1
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
sleep 0.2
for msg in "READY=1" "WATCHDOG=1" "STOPPING=1"; do
	grep -q "$msg" "$T/notify.log" && ok "sd_notify: $msg" || fail "no $msg in: $(cat "$T/notify.log")"
done
finish
