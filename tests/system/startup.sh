#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Start-up refusals: a bad config, a missing directory, a port in use each stop the head-end with
# one line naming the problem; a good config starts on the addresses it names.
. "$(dirname "$0")/lib.sh" "$1" 18085 15085
write_config 10.0

# refuse NAME EXPECTED_SUBSTRING CONFIG_TEXT
refuse() {
	printf '%s\n' "$3" > "$T/bad.cfg"
	timeout 10 "$BUILD/headend" --config "$T/bad.cfg" > "$T/bad.log" 2>&1
	local rc=$?
	if [ "$rc" = 1 ] && grep -qF "$2" "$T/bad.log"; then
		ok "$1: $(grep -o 'error .*' "$T/bad.log" | head -1)"
	else
		fail "$1: rc $rc, $(cat "$T/bad.log")"
	fi
}
timeout 10 "$BUILD/headend" --config "$T/none.cfg" > "$T/bad.log" 2>&1
[ $? = 1 ] && grep -q "none.cfg: cannot read the file" "$T/bad.log" && ok "missing config file named" ||
	fail "missing config: $(cat "$T/bad.log")"
refuse "syntax error" "bad.cfg:2: syntax error" "$(printf 'state_dir = "%s";\nhttp: { port = ; };' "$T/v")"
refuse "misspelt setting" "unknown setting http.prot" "http: { prot = 8080; };"
refuse "port out of range" "http.port: 70000 is outside 1..65535" "http: { port = 70000; };"
refuse "interface any" "multicast.interface: must be the unicast IPv4 address" 'multicast: { interface = "0.0.0.0"; };'
refuse "base outside the scope" "multicast.base: must start a /14" 'multicast: { base = "224.1.0.0"; };'
refuse "missing directory" "nowhere.csv" "$(printf 'state_dir = "%s/v";\nzones = "%s/nowhere.csv";' "$T" "$T")"
refuse "unknown voice" "no such eSpeak-NG voice" "$(printf 'state_dir = "%s/v";\nzones = "%s/etc/zones.csv";\ntts: { voice = "no-such-voice"; };' "$T" "$REPO")"

refuse "zones not a regular file" "/dev/zero: not a regular file" "$(printf 'state_dir = "%s/v";\nzones = "/dev/zero";' "$T")"
mkfifo "$T/fifo.csv"
refuse "zones a FIFO" "fifo.csv: not a regular file" "$(printf 'state_dir = "%s/v";\nzones = "%s/fifo.csv";' "$T" "$T")"
mkdir -p "$T/damaged" && echo "twelve" > "$T/damaged/next-id"
refuse "damaged id counter" "next-id is damaged" "$(printf 'state_dir = "%s/damaged";\nzones = "%s/etc/zones.csv";' "$T" "$REPO")"

# The endpoint refuses what the head-end refuses, instead of listening where nothing comes.
ep_refuse() {
	printf '%s\n' "$3" > "$T/ep-bad.cfg"
	timeout 10 "$BUILD/endpoint" --config "$T/ep-bad.cfg" --id 440608101201001 --count 1 \
		--timeout 1 > "$T/ep-bad.log" 2>&1
	local rc=$?
	if [ "$rc" = 1 ] && grep -qF "$2" "$T/ep-bad.log"; then
		ok "endpoint, $1: $(cat "$T/ep-bad.log")"
	else
		fail "endpoint, $1: rc $rc, $(cat "$T/ep-bad.log")"
	fi
}
ep_refuse "misspelt setting" "ep-bad.cfg:2: unknown setting silense_ms" \
	"$(printf 'zones = "%s/etc/zones.csv";\nsilense_ms = 3000;' "$REPO")"
ep_refuse "base outside 239/8" "multicast.base must start a /14" \
	"$(printf 'zones = "%s/etc/zones.csv";\nmulticast: { base = "224.0.0.0"; };' "$REPO")"
ep_refuse "interface any" "multicast.interface must be the unicast" \
	"$(printf 'zones = "%s/etc/zones.csv";\nmulticast: { interface = "0.0.0.0"; };' "$REPO")"
ep_refuse "report not a group" "ep-bad.cfg:2: report must be a group" \
	"$(printf 'zones = "%s/etc/zones.csv";\nreport = 5;' "$REPO")"
ep_refuse "reports to a broadcast address" "ep-bad.cfg:2: report.address must be the head-end's unicast" \
	"$(printf 'zones = "%s/etc/zones.csv";\nreport: { address = "255.255.255.255"; };' "$REPO")"
ep_refuse "report period out of range" "ep-bad.cfg:3: report.period_s must be an integer 1..3600" \
	"$(printf 'zones = "%s/etc/zones.csv";\nreport: { port = 5005;\nperiod_s = 0; };' "$REPO")"

start_headend
sed "s/port = $HTTP_PORT/port = $((HTTP_PORT + 100))/; s/port = $MC_PORT/port = $((MC_PORT + 100))/" \
	"$T/headend.cfg" > "$T/shared-state.cfg"
timeout 10 "$BUILD/headend" --config "$T/shared-state.cfg" > "$T/shared.log" 2>&1
[ $? = 1 ] && grep -q "state directory $T/var is in use by another head-end" "$T/shared.log" &&
	ok "a second head-end on the same state directory is refused" ||
	fail "second head-end on the same state: $(cat "$T/shared.log")"
sed "s/port = $MC_PORT/port = $((MC_PORT + 1))/; s|$T/var|$T/var2|" "$T/headend.cfg" > "$T/second.cfg"
timeout 10 "$BUILD/headend" --config "$T/second.cfg" > "$T/second.log" 2>&1
[ $? = 1 ] && grep -q "cannot listen on http://127.0.0.1:$HTTP_PORT" "$T/second.log" &&
	ok "a second head-end on the same port stops with a clear line" ||
	fail "second head-end: $(cat "$T/second.log")"
grep -q "listening on http://127.0.0.1:$HTTP_PORT; multicast on interface 127.0.0.1" "$T/headend.log" &&
	ok "the start-up line names the HTTP address and the multicast interface" ||
	fail "start-up line: $(head -1 "$T/headend.log")"
finish
