#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# The shipped systemd units pass `systemd-analyze verify` (with their programs pointed at this
# build; PID 1 here need not be systemd), and the slot timers elapse at Beijing time whatever the
# machine's zone. The notify and watchdog path itself is tested in cron.sh.
. "$(dirname "$0")/lib.sh" "$1" 18205 15205
command -v systemd-analyze > /dev/null || { fail "systemd-analyze is missing (tools/deps.sh)"; finish; }
mkdir -p "$T/units"
for f in "$REPO"/etc/systemd/*; do
	sed "s|/usr/local/bin/|$BUILD/|g" "$f" > "$T/units/$(basename "$f")"
done
cd "$T/units"
n=0
# verify warns about most mistakes without failing: any word from it counts as a failure.
for unit in cunxiang-headend.service cunxiang-slot@.service cunxiang-slot-*.timer; do
	if systemd-analyze verify "./$unit" > "$T/verify.log" 2>&1 && [ ! -s "$T/verify.log" ]; then
		n=$((n + 1))
	else
		fail "$unit: $(cat "$T/verify.log")"
	fi
done
[ "$n" = 8 ] && ok "systemd-analyze verify: the service, the slot template and 6 timers" ||
	fail "$n units verified, expected 8"
grep -q "^Type=notify" cunxiang-headend.service && grep -q "^WatchdogSec=" cunxiang-headend.service ||
	fail "the service is not Type=notify with a watchdog"

for t in 08:00 17:00; do
	next=$(TZ=UTC systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "cunxiang-slot-${t/:/}.timer")" |
		sed -n 's/.*Next elapse: .* \([0-9:]*\) UTC$/\1/p')
	want=$(TZ=UTC date -d "TZ=\"Asia/Shanghai\" 2026-01-01 $t" +%H:%M:%S)
	[ "$next" = "$want" ] && ok "timer $t elapses at $next UTC" || fail "timer $t: next $next UTC, want $want"
done
grep -c "play --slot" "$REPO/etc/headend.crontab" | grep -q 12 || fail "etc/headend.crontab lacks slots"
finish
