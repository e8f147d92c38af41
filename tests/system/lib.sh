# SPDX-License-Identifier: GPL-3.0-or-later
# Shared by the system tests: a private directory, configs on loopback with the test's own ports,
# the head-end and endpoints as real processes, and cleanup however the test ends. After
# start_headend, TOKEN holds the operator token and every post() sends it; endpoints trust the
# head-end's public key in $T/var/headend.pub. Endpoints send their status reports to the
# head-end's UDP port REPORT_PORT (MULTICAST_PORT + 1000), signed with the keys its first start
# makes in $T/var/endpoint-keys.
# Usage: . tests/system/lib.sh BUILD_DIR HTTP_PORT MULTICAST_PORT

set -u
BUILD=$(readlink -f "$1")
HTTP_PORT=$2
MC_PORT=$3
REPORT_PORT=$((MC_PORT + 1000))
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/cx-test.XXXXXX")
PIDS=()
TOKEN=
FAILED=0
URL="http://127.0.0.1:$HTTP_PORT"
CURL_TLS=()	# a test that configures HTTPS sets URL to https:// and puts --cacert FILE here

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	wait 2>/dev/null
	if [ "$FAILED" != 0 ]; then
		echo "--- logs kept in $T"
		tail -n 30 "$T"/*.log 2>/dev/null
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	FAILED=1
}

ok() {
	echo "ok: $*"
}

# write_config [extra libconfig lines for the broadcast group] [pace]
write_config() {
	local pace=${1:-10.0}
	cat > "$T/headend.cfg" <<CFG
state_dir = "$T/var";
zones = "$REPO/etc/zones.csv";
signals = "$REPO/etc/signals.cfg";
schedule = "$REPO/etc/schedule.cfg";
http: { address = "127.0.0.1"; port = $HTTP_PORT; max_body = 8192; };
multicast: { interface = "127.0.0.1"; base = "239.192.0.0"; port = $MC_PORT; ttl = 0;
             pace = $pace; };
broadcast: { max_text = 2000; repeat_gap_ms = 1000; };
reports: { address = "127.0.0.1"; port = $REPORT_PORT; };
CFG
	cat > "$T/endpoint.cfg" <<CFG
zones = "$REPO/etc/zones.csv";
key = "$T/var/headend.pub";
multicast: { interface = "127.0.0.1"; base = "239.192.0.0"; port = $MC_PORT; };
silence_ms = 3000;
report: { address = "127.0.0.1"; port = $REPORT_PORT; key = "$T/var/endpoint-keys"; };
CFG
}

# alsa_config [PCM DEFINITION...]: the test's own ALSA configuration, never a sound card.
# pcm.testcap is a microphone reading the FIFO $T/mic.fifo (made here), paced by whoever
# writes it (bench_live_probe feed); further definitions, such as a monitor's, are added.
alsa_config() {
	export ALSA_CONFIG_PATH=$T/asound.conf
	cat > "$ALSA_CONFIG_PATH" <<CFG
pcm.testcap { type file; slave.pcm { type null }; file "/dev/null"; infile "$T/mic.fifo";
              format "raw" }
CFG
	[ $# = 0 ] || printf '%s\n' "$@" >> "$ALSA_CONFIG_PATH"
	[ -p "$T/mic.fifo" ] || mkfifo "$T/mic.fifo"
}

start_headend() {
	"$BUILD/headend" --config "$T/headend.cfg" > "$T/headend.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		if curl -s "${CURL_TLS[@]}" -o /dev/null "$URL/v1/status"; then
			TOKEN=$(cat "$T/var/operator.token")
			return 0
		fi
		sleep 0.1
	done
	fail "head-end did not answer on $URL"
	cat "$T/headend.log"
	exit 1
}

# start_endpoint ID [endpoint options...]: output in $T/ep-ID.log and $T/ep-ID.wav
start_endpoint() {
	local id=$1
	shift
	"$BUILD/endpoint" --config "$T/endpoint.cfg" --id "$id" --out "$T/ep-$id.wav" "$@" \
		> "$T/ep-$id.log" 2>&1 &
	PIDS+=($!)
	EP_PID=$!
}

# post JSON [PATH]: sets STATUS and BODY; the request carries the operator token
post() {
	BODY=$(curl -s "${CURL_TLS[@]}" -o - -w '\n%{http_code}' -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $TOKEN" --data-binary "$1" "$URL${2:-/v1/bulletins}")
	STATUS=${BODY##*$'\n'}
	BODY=${BODY%$'\n'*}
}

# json_text FILE: the file as a JSON string literal
json_text() {
	jq -Rs . < "$1"
}

# Wait until nothing is playing or queued, at most $1 seconds.
wait_idle() {
	local s
	for _ in $(seq $(( $1 * 10 ))); do
		s=$(curl -s "${CURL_TLS[@]}" "$URL/v1/status") || true
		if [ -n "$s" ] && [ "$(jq '(.playing|length)+(.queued|length)' <<< "$s")" = 0 ]; then
			return 0
		fi
		sleep 0.1
	done
	fail "still busy after $1 s"
	return 1
}

finish() {
	if [ "$FAILED" != 0 ]; then
		echo "1 failed"
		exit 1
	fi
	echo "all checks passed"
	exit 0
}

# Ports in use by the system tests (HTTP 18xxx, multicast 15xxx, status reports 16xxx: the
# multicast port + 1000); a new test takes a free pair, and multicast ports must never be
# shared, since parallel tests would hear each other:
#   15081-15086 e2e bad_input realtime headendctl startup(+1, +100) render_busy
#   15151-15154 attacks (relay ports +1..+3)   15252 restart   15262 rotation
#   15161 cap  15162 console  15171 browser  15181 auth  15191 tls
#   15201-15205 durability preempt warnings cron units   15206 status_gap
#   15721 reports (HTTP 18721, status reports to UDP 16721, its tap 16722)
#   15611-15614 fleet tests   15731 fleet_reports (HTTP 18731, status reports to UDP 16731)
#   15711 live (HTTP 18711)   15712 monitor (HTTP 18712)   15713 live_drift (HTTP 18713);
#   15714-15719 and 18714-18719 held for
#   live and monitor
