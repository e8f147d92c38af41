#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Status reports (回传) at the district's size, printing figures (never pass or fail), on
# loopback in real time; tools/fleet sends the signed reports of all 2,350 endpoints:
#   1. the head-end's CPU while receiving them (utime + stime from /proc/PID/stat over a fixed
#      window, in % of one core): idle first, then at the default period of 30 s and at
#      shorter ones to show how it scales. Beside it runs bench_report_peer, the least a
#      receiver must do (recvfrom, look up the key, check the signature), on a copy of the
#      same reports; the ratio ours/peer is the figure to compare across machines;
#   2. the time from a village falling silent to the head-end's alarm line for it: at a
#      2 s period (missed 3) for several villages, and once at the defaults (30 s × 3).
# Usage: bash bench/reports.sh [BUILD_DIR]
#   PERIODS="1 0.5 0.25 30"  report periods for part 1 (s); when the last is 30, its fleet goes on
#                            to the silence at the defaults
#   DEFAULT=0                leaves out the run at 30 s × 3 of part 2 (about 2 minutes)
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(readlink -f "${1:-$REPO/build}")
PERIODS=${PERIODS:-1 0.5 0.25 30}
HTTP=18692
MC=15692
REPORTS=16692
PEER_PORT=16693
W=$(mktemp -d)
HE= FLEET= PEER=
trap 'for p in $HE $FLEET $PEER; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$W"' EXIT
cd "$REPO"
HZ=$(getconf CLK_TCK)
# Villages of the four towns, 15 to 41 endpoints each; a village code names one village only.
VILLAGES=(440608101210 440608001001 440608102201 440608103201 440608103222)

config() {	# config PERIOD_S
	cat > "$W/headend.cfg" <<CFG
state_dir = "$W/var";
http: { address = "127.0.0.1"; port = $HTTP; };
multicast: { interface = "127.0.0.1"; base = "239.192.0.0"; port = $MC; ttl = 0; };
reports: { address = "127.0.0.1"; port = $REPORTS; period_s = $1; missed = 3;
           village_alarm = 0.8; };
CFG
	cat > "$W/endpoint.cfg" <<CFG
zones = "etc/zones.csv";
key = "$W/var/headend.pub";
multicast: { interface = "127.0.0.1"; base = "239.192.0.0"; port = $MC; };
CFG
}

headend_up() {
	"$BUILD/headend" --config "$W/headend.cfg" > "$W/headend.log" 2>&1 &
	HE=$!
	for _ in $(seq 600); do
		curl -s -o /dev/null "http://127.0.0.1:$HTTP/v1/status" && return
		sleep 0.1
	done
	echo "head-end did not start:"; tail "$W/headend.log"; exit 1
}

stop() {	# stop PID: SIGTERM and wait
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

fleet_up() {	# fleet_up OUT [fleet options]
	local out=$1
	shift
	"$BUILD/fleet" --config "$W/endpoint.cfg" --status-keys "$W/var/endpoint-keys" "$@" \
		> "$out" 2>&1 &
	FLEET=$!
	for _ in $(seq 300); do
		grep -q '^fleet: ready' "$out" && return
		sleep 0.1
	done
	echo "fleet did not start:"; cat "$out"; exit 1
}

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rejected() {
	curl -s -H "Authorization: Bearer $(cat "$W/var/operator.token")" \
		"http://127.0.0.1:$HTTP/v1/endpoints" | jq '[.rejected[]?] | add // 0'
}

# window SECONDS: CPU of the head-end, the peer and the fleet over it, in % of one core, into
# CPU_HE, CPU_PEER and CPU_FLEET
window() {
	local h0 p0 f0 t0 h1 p1 f1 t1 secs
	t0=$(date +%s.%N); h0=$(ticks "$HE"); p0=$(ticks "$PEER"); f0=$(ticks "${FLEET:-$HE}")
	sleep "$1"
	t1=$(date +%s.%N); h1=$(ticks "$HE"); p1=$(ticks "$PEER"); f1=$(ticks "${FLEET:-$HE}")
	secs=$(echo "$t1 - $t0" | bc -l)
	CPU_HE=$(echo "100 * ($h1 - $h0) / $HZ / $secs" | bc -l)
	CPU_PEER=$(echo "100 * ($p1 - $p0) / $HZ / $secs" | bc -l)
	CPU_FLEET=$(echo "100 * ($f1 - $f0) / $HZ / $secs" | bc -l)
}

echo "== head-end CPU receiving the reports of all 2350 endpoints (% of one core)"
config 30
rm -rf "$W/var"
headend_up
"$BUILD/bench/bench_report_peer" 127.0.0.1 "$PEER_PORT" "$W/var/endpoint-keys" > "$W/peer.out" &
PEER=$!
sleep 1
FLEET=
window 20
IDLE=$CPU_HE
printf 'idle head-end (no reports yet): %.2f %% over 20 s; peer idle %.2f %%\n' "$IDLE" "$CPU_PEER"
printf '%-9s %9s %10s %10s %9s %12s %12s %10s %9s\n' period reports/s head-end "net idle" peer \
	"ours/peer" "net/peer" "us/report" fleet
for p in $PERIODS; do
	# (--silence without a time: only at SIGUSR1, which only the last run gets)
	fleet_up "$W/cpu-$p.out" --status-to "127.0.0.1:$REPORTS" --status-to "127.0.0.1:$PEER_PORT" \
		--status-period "$p" --silence "${VILLAGES[0]}"
	# The first reports are spread over the first period; measure after it, for two periods
	# and at least 20 s.
	sleep "$(echo "$p + 1" | bc -l)"
	win=$(echo "w = 2 * $p; if (w < 20) w = 20; w" | bc -l)
	window "$win"
	rate=$(echo "2350 / $p" | bc -l)
	net=$(echo "$CPU_HE - $IDLE" | bc -l)
	printf '%-9s %9.0f %9.2f%% %9.2f%% %8.2f%% %12.2f %12.2f %10.1f %8.2f%%\n' "$p s" "$rate" \
		"$CPU_HE" "$net" "$CPU_PEER" "$(echo "$CPU_HE / $CPU_PEER" | bc -l)" \
		"$(echo "$net / $CPU_PEER" | bc -l)" "$(echo "$net * 10000 / $rate" | bc -l)" \
		"$CPU_FLEET"
	if [ "$p" = 30 ] && [ "$p" = "${PERIODS##* }" ] && [ "${DEFAULT:-1}" != 0 ]; then
		# Keep this fleet for the silence at the defaults (part 2): it has reported for
		# more than a period, so every endpoint's last report is on record.
		DEFAULT_FLEET=$FLEET
		break
	fi
	stop "$FLEET"
	FLEET=
done
stop "$PEER"
echo "peer: $(grep '^peer: received' "$W/peer.out" | sed 's/^peer: //'); head-end rejected $(rejected)"

# after OUT VILLAGE LINE: seconds from the fleet's silence of VILLAGE to the head-end's log
# LINE, from the wall clock each prints; empty if either is missing.
after() {
	local silenced at
	silenced=$(sed -nE "s/^fleet: silenced .* of $2 at wall_ms=([0-9]+) .*/\1/p" "$1")
	[ -n "$silenced" ] && [ -n "$3" ] || return 0
	at=$(date -u -d "${3%% *}" +%s%3N)
	echo "scale=2; ($at - $silenced) / 1000" | bc -l
}
alarm_line() { grep -a "warn village $1 .*below" "$W/headend.log" | head -1; }
offline_lines() { grep -a "warn endpoint $1[0-9][0-9][0-9] .*: offline" "$W/headend.log"; }
endpoints_of() { sed -nE "s/^fleet: silenced ([0-9]+) endpoints of $2 .*/\1/p" "$1"; }

# wait_silent OUT VILLAGE SECONDS: until its alarm is out and all its endpoints are offline
wait_silent() {
	for _ in $(seq $(($3 * 10))); do
		[ -n "$(alarm_line "$2")" ] &&
			[ "$(offline_lines "$2" | wc -l)" -ge "$(endpoints_of "$1" "$2")" ] && return
		sleep 0.1
	done
}

# village_times OUT VILLAGE LABEL: one line; sets ALARM to the seconds to the alarm line
village_times() {
	ALARM=$(after "$1" "$2" "$(alarm_line "$2")")
	echo "$3: village $2 ($(endpoints_of "$1" "$2") endpoints): alarm line after" \
		"${ALARM:-(none)} s; its last endpoint offline after" \
		"$(after "$1" "$2" "$(offline_lines "$2" | tail -1)") s"
}

echo "== from a village falling silent to its alarm line (reports.village_alarm = 0.8)"
if [ -n "${DEFAULT_FLEET:-}" ]; then
	kill -USR1 "$DEFAULT_FLEET"
	sleep 1
	wait_silent "$W/cpu-30.out" "${VILLAGES[0]}" 120
	village_times "$W/cpu-30.out" "${VILLAGES[0]}" "period 30 s, missed 3 (the defaults)"
fi
# The head-end first: endpoints that stop reporting are not the measure.
stop "$HE"
[ -n "${DEFAULT_FLEET:-}" ] && stop "$DEFAULT_FLEET"
FLEET=

config 2
headend_up
args=()
at=12
for v in "${VILLAGES[@]}"; do
	args+=(--silence "$v@$at")
	at=$((at + 10))
done
fleet_up "$W/alarm.out" --status-to "127.0.0.1:$REPORTS" --status-period 2 "${args[@]}"
sleep 1
for v in "${VILLAGES[@]}"; do wait_silent "$W/alarm.out" "$v" 70; done
stop "$HE"
stop "$FLEET"
FLEET=
times=()
for v in "${VILLAGES[@]}"; do
	village_times "$W/alarm.out" "$v" "period 2 s, missed 3"
	times+=("${ALARM:-none}")
done
printf '%s\n' "${times[@]}" | grep -v none | sort -n |
	awk '{ v[NR] = $1 } END { if (NR) printf "period 2 s: min %.2f s, median %.2f s, max %.2f s over %d villages\n", v[1], v[int((NR + 1) / 2)], v[NR], NR }'
echo "other villages alarmed: $(grep -a 'warn village .*below' "$W/headend.log" |
	grep -cv -e "${VILLAGES[0]}" -e "${VILLAGES[1]}" -e "${VILLAGES[2]}" -e "${VILLAGES[3]}" \
		-e "${VILLAGES[4]}" || true)"
