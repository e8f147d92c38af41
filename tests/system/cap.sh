#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# CAP 1.2 on POST /v1/cap: an Alert issues a rainstorm warning to two towns, the same alert
# again plays nothing new, an Update changes it to red and a Cancel lifts it, and endpoints in
# those towns play each. Bad XML, a DOCTYPE, the wrong namespace, a schema violation, an
# unknown event and an unknown area are each refused with their reason, broadcast nothing, and
# are listed for the console. Also: the Content-Type and the token are checked first.
. "$(dirname "$0")/lib.sh" "$1" 18161 15161
write_config 10.0
start_headend
CAP="$REPO/tests/data/cap"
declare -A EP=( [杨和镇]=440608101201001 [明城镇]=440608102201001 [荷城街道]=440608001001001 )
for town in "${!EP[@]}"; do start_endpoint "${EP[$town]}"; done
sleep 0.3

# cap FILE [CONTENT_TYPE] [TOKEN]: sets STATUS and BODY
cap() {
	BODY=$(curl -s -o - -w '\n%{http_code}' -H "Content-Type: ${2:-application/cap+xml}" \
		-H "Authorization: Bearer ${3-$TOKEN}" --data-binary @"$CAP/$1" "$URL/v1/cap")
	STATUS=${BODY##*$'\n'}
	BODY=${BODY%$'\n'*}
}

# accept FILE SIGNAL COLOUR ACTION: 202 with that mapping, then played to the end
accept() {
	cap "$1"
	if [ "$STATUS" != 202 ] || [ "$(jq -r '"\(.signal) \(.colour) \(.action)"' <<< "$BODY")" != "$2 $3 $4" ]; then
		fail "$1: $STATUS $BODY"
		return
	fi
	IDS+=("$(jq .id <<< "$BODY")")
	WANT+=("$2 $3 $4")
	ok "$1: 202, bulletin $(jq .id <<< "$BODY"): $2 $3 $4 to $(jq -c .targets <<< "$BODY")"
	wait_idle 60
}

IDS=() WANT=()
accept alert-rainstorm-orange.xml rainstorm orange issue
cap alert-rainstorm-orange.xml
[ "$STATUS" = 200 ] && [ "$(jq .duplicate <<< "$BODY")" = true ] && [ "$(jq .id <<< "$BODY")" = "${IDS[0]}" ] &&
	ok "the same alert again: 200, bulletin ${IDS[0]}, nothing new played" || fail "repeat: $STATUS $BODY"
accept update-rainstorm-red.xml rainstorm red change
accept cancel-rainstorm.xml rainstorm red lift
curl -s "$URL/v1/warnings" | jq -e '.active | length == 0' > /dev/null &&
	ok "after the Cancel no warning is active" || fail "warnings: $(curl -s "$URL/v1/warnings")"

# refused FILE STATUS REASON
refused() {
	cap "$1"
	if [ "$STATUS" = "$2" ] && jq -e --arg r "$3" '.error | contains($r)' <<< "$BODY" > /dev/null; then
		ok "$1: $STATUS $(jq -r .error <<< "$BODY")"
	else
		fail "$1: expected $2 naming \"$3\", got $STATUS $BODY"
	fi
}
refused invalid-xml.xml 400 "not well-formed XML"
refused doctype.xml 400 "DOCTYPE is not allowed"
refused wrong-namespace.xml 422 "wrong namespace"
refused invalid-schema.xml 422 "not valid CAP 1.2"
refused unknown-event.xml 422 "unknown event \"沙尘暴\""
refused unknown-area.xml 422 "unknown area: geocode"
sed 's/<value>440608101000</<value>440608101</; s/<areaDesc>明城镇</<areaDesc>西江新城</; s/142500/142504/' \
	"$CAP/alert-rainstorm-orange.xml" > "$T/area-desc.xml"
CAP=$T refused area-desc.xml 422 "unknown area: \"西江新城\""
sed 's/<status>Actual/<status>Exercise/; s/142500/142505/' "$CAP/alert-rainstorm-orange.xml" > "$T/exercise.xml"
CAP=$T refused exercise.xml 422 "status Exercise is not broadcast"
cap alert-rainstorm-orange.xml application/json
[ "$STATUS" = 415 ] && ok "Content-Type application/json: 415" || fail "wrong type: $STATUS $BODY"
cap alert-rainstorm-orange.xml application/cap+xml ""
[ "$STATUS" = 401 ] && ok "no token: 401" || fail "no token: $STATUS $BODY"

R=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/cap/refused")
[ "$(jq .pending <<< "$R")" = 8 ] && jq -e '.refused[0].reason | contains("status Exercise")' <<< "$R" > /dev/null &&
	jq -e '[.refused[] | select(.alert.event == "沙尘暴")] | length == 1' <<< "$R" > /dev/null &&
	ok "the console lists the 8 refused alerts, newest first, with reason and event" ||
	fail "refused list: $R"
S=$(curl -s "$URL/v1/status")
[ "$(jq '(.playing|length)+(.queued|length)' <<< "$S")" = 0 ] && ok "nothing refused was queued" ||
	fail "status after the refusals: $S"

sleep 0.5
kill -TERM "${PIDS[@]:1}"
sleep 0.5
for town in 杨和镇 明城镇; do
	log="$T/ep-${EP[$town]}.log"
	[ "$(grep -c '^broadcast ' "$log")" = 3 ] || fail "$town played $(grep -c '^broadcast ' "$log") broadcasts, not 3"
	for i in 0 1 2; do
		grep -q "^broadcast ${IDS[$i]}: warning ${WANT[$i]}" "$log" ||
			fail "$town did not play bulletin ${IDS[$i]} (${WANT[$i]}): $(cat "$log")"
	done
done
grep -q '^broadcast ' "$T/ep-${EP[荷城街道]}.log" && fail "荷城街道 heard a CAP warning" ||
	ok "杨和镇 and 明城镇 played issue, change and lift; 荷城街道 nothing"
finish
