#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# A bulletin, once accepted, is always somewhere in GET /v1/status: queued, playing, or recent.
# Six short bulletins play one after another at real pace while the status is read as fast as
# curl can; every reading must hold all six ids. (It used to miss one for a tick as it ended:
# over, so no longer "playing", but not yet in "recent".)
. "$(dirname "$0")/lib.sh" "$1" 18206 15206
write_config 1.0
start_headend

ids=()
for i in 1 2 3 4 5 6; do
	post "{\"text\": \"明城镇多云，第${i}次。\", \"targets\": [\"明城镇\"], \"kind\": \"nowcast\"}"
	[ "$STATUS" = 202 ] || fail "POST $i answered $STATUS $BODY"
	ids+=("$(jq .id <<< "$BODY")")
done
want=$(printf '%s\n' "${ids[@]}" | sort -n | jq -sc .)

n=0
mkdir "$T/polls"
while :; do
	curl -s "$URL/v1/status" > "$T/polls/$n.json" || true
	n=$((n + 1))
	[ $((n % 50)) = 0 ] || continue
	[ "$(jq '(.playing|length)+(.queued|length)' < "$T/polls/$((n - 1)).json")" = 0 ] && break
	[ "$n" -lt 20000 ] || { fail "still busy after $n readings"; break; }
done

# One jq over all readings: the number that lack at least one of the ids.
bad=$(cat "$T"/polls/*.json | jq -s --argjson w "$want" '[.[] | select(type == "object") |
	[(.playing + .queued + .recent)[].id] as $have | select(any($w[]; . as $i |
	$have | index($i) | not))] | length')
[ "$bad" = 0 ] && ok "all ${#ids[@]} ids in each of $n status readings" ||
	fail "$bad of $n status readings missed an accepted bulletin"
finish
