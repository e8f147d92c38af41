# SPDX-License-Identifier: GPL-3.0-or-later
# Shared by the fleet tests, sourced after lib.sh: tools/fleet as a process of the test, its
# summary lines read back, and network namespaces the test creates and always removes.

FLEET_PID=
FLEET_NS=
NAMESPACES=()

# start_fleet NAME [fleet options...]: every endpoint of the directory on $T/endpoint.cfg (or
# $FLEET_CONFIG), inside namespace $FLEET_NS if set; output in $T/NAME.out and .report.
start_fleet() {
	local name=$1 prefix=()
	shift
	[ -n "$FLEET_NS" ] && prefix=(ip netns exec "$FLEET_NS")
	"${prefix[@]}" "$BUILD/fleet" --config "${FLEET_CONFIG:-$T/endpoint.cfg}" \
		--report "$T/$name.report" "$@" > "$T/$name.out" 2> "$T/$name.log" &
	FLEET_PID=$!
	PIDS+=($FLEET_PID)
	for _ in $(seq 300); do
		grep -q '^fleet: ready' "$T/$name.out" 2>/dev/null && return 0
		kill -0 "$FLEET_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "fleet $name did not start"
	cat "$T/$name.log"
	exit 1
}

# Stop the fleet; it writes its report and summary on the way out.
stop_fleet() {
	kill -TERM "$FLEET_PID" 2>/dev/null
	wait "$FLEET_PID" 2>/dev/null
}

# val LINE KEY: the value of KEY=value in a summary or report line
val() {
	sed -nE "s/.* $2=([^ ]*).*/\1/p" <<< "$1"
}

# expect_vals NAME LINE KEY=VALUE...: each key has that value, else the test fails
expect_vals() {
	local name=$1 line=$2 kv bad=0
	shift 2
	for kv in "$@"; do
		if [ "$(val "$line" "${kv%%=*}")" != "${kv#*=}" ]; then
			fail "$name: ${kv%%=*} is $(val "$line" "${kv%%=*}"), expected ${kv#*=}"
			bad=1
		fi
	done
	[ "$bad" = 0 ]
}

# netns_add NAME...: create namespaces with loopback up; 1 if not permitted here.
netns_add() {
	local n
	for n in "$@"; do
		ip netns add "$n" 2>/dev/null || return 1
		NAMESPACES+=("$n")
		ip -n "$n" link set lo up
	done
}

netns_remove() {
	local n
	for n in "${NAMESPACES[@]}"; do ip netns del "$n" 2>/dev/null; done
	NAMESPACES=()
}

# netns_link NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair between two of the test's namespaces
netns_link() {
	ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" &&
		ip -n "$1" addr add "$3" dev "$2" && ip -n "$4" addr add "$6" dev "$5" &&
		ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}
