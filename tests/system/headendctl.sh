#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The forecaster's CLI against a running head-end: send with targets and warning keys, the same
# client id twice (played once), refusals passed on with the server's sentence, status output.
. "$(dirname "$0")/lib.sh" "$1" 18084 15084
write_config 10.0
start_headend
ctl() { "$BUILD/headendctl" --config "$T/headend.cfg" "$@"; }
ep=440608101201001
start_endpoint "$ep"
sleep 0.3

file="$REPO/tests/data/bulletins/warning-hail-orange.txt"
id=$(ctl send --target 杨和镇 --target 明城镇 --repeat 0 --client-id hail-0519 "$file") ||
	fail "send failed"
[ "$id" = 1 ] && ok "send printed id $id" || fail "send printed \"$id\""
id2=$(ctl send --target 杨和镇 --repeat 0 --client-id hail-0519 "$file" 2> "$T/dup.err")
[ "$id2" = "$id" ] && grep -q "nothing new is played" "$T/dup.err" &&
	ok "the same client id answered the first id, $id2" || fail "duplicate client id gave \"$id2\""

ctl send --kind warning --signal hail --colour blue --target 杨和镇 "$file" 2> "$T/refused.err"
rc=$?
[ "$rc" = 1 ] && grep -q "refused (422): colour is blue in the keys but orange in the text" "$T/refused.err" &&
	ok "a refusal exits 1 with the server's sentence" || fail "refusal: rc $rc, $(cat "$T/refused.err")"
ctl send --target 杨和镇 /nonexistent/file 2> "$T/missing.err"
[ $? = 64 ] && grep -q "No such file" "$T/missing.err" && ok "a missing file is named" ||
	fail "missing file: $(cat "$T/missing.err")"
HEADEND_URL=http://127.0.0.1:1 "$BUILD/headendctl" status 2> "$T/down.err"
[ $? = 2 ] && grep -q "127.0.0.1:1" "$T/down.err" && ok "an unreachable server exits 2 and is named" ||
	fail "unreachable server: $(cat "$T/down.err")"

sleep 0.5
ctl status > "$T/status.out"
grep -q "bulletin 1  warning hail orange issue  to 杨和镇, 明城镇 (980 endpoints)" "$T/status.out" &&
	ok "status shows the warning on air" || fail "status: $(cat "$T/status.out")"
wait_idle 60
sleep 0.3
kill -TERM "$EP_PID"; wait "$EP_PID"
[ "$(grep -c '^broadcast ' "$T/ep-$ep.log")" = 1 ] && ok "the endpoint played the warning once" ||
	fail "the endpoint played $(grep -c '^broadcast ' "$T/ep-$ep.log") broadcasts"
grep -q "^broadcast 1: warning hail orange issue" "$T/ep-$ep.log" || fail "endpoint line: $(cat "$T/ep-$ep.log")"
finish
