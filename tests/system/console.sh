#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Every call of the web console against a running head-end: its files, set-up, preview (audio
# and reading), today's slots with the staged text, the archive (records, recordings, what a
# town heard at a time, from the API and from `headendctl history`), the refused CAP list, and
# retention. The archived recording of a broadcast lasts what the endpoint played.
. "$(dirname "$0")/lib.sh" "$1" 18162 15162
write_config 10.0
echo 'archive: { retention_days = 0; };' >> "$T/headend.cfg"
start_headend
ctl() { "$BUILD/headendctl" --config "$T/headend.cfg" "$@"; }
EP=440608101201001
start_endpoint "$EP"
sleep 0.3

# get PATH [TOKEN]: sets STATUS, BODY (to $T/body) and TYPE
get() {
	read -r STATUS TYPE < <(curl -s -o "$T/body" -w '%{http_code} %{content_type}\n' \
		-H "Authorization: Bearer ${2-$TOKEN}" "$URL$1")
	BODY=
	[[ $TYPE == audio/* ]] || BODY=$(cat "$T/body")
}

# Files: public, typed, and nothing outside web/.
get / ""
[ "$STATUS" = 200 ] && [[ $TYPE == text/html* ]] && grep -q '村村响' "$T/body" &&
	ok "GET / without a token: the console page" || fail "GET /: $STATUS $TYPE"
get /console.js ""
[ "$STATUS" = 200 ] && [[ $TYPE == text/javascript* ]] && ok "GET /console.js: $TYPE" ||
	fail "GET /console.js: $STATUS $TYPE"
for bad in /../etc/passwd /%2e%2e/etc/passwd /.hidden.js /missing.css; do
	get "$bad" ""
	[ "$STATUS" = 404 ] || fail "GET $bad: $STATUS"
done
ok "paths outside web/ and missing files: 404"

# Set-up.
get /v1/console/setup ""
[ "$STATUS" = 401 ] && ok "set-up without a token: 401" || fail "set-up without a token: $STATUS"
get /v1/console/setup
jq -e '.zones.towns | length == 4' <<< "$BODY" > /dev/null &&
	jq -e '.zones.towns[1] | .name == "杨和镇" and .endpoints == 462 and (.villages | length) > 0' <<< "$BODY" > /dev/null &&
	jq -e '.signals[] | select(.key == "hail") | .colours == ["orange", "red"]' <<< "$BODY" > /dev/null &&
	jq -e '.templates.signals.rainstorm.issue | contains("{地区}")' <<< "$BODY" > /dev/null &&
	jq -e '.repeat.colours.orange == 2 and .observatory == "高明区气象台"' <<< "$BODY" > /dev/null &&
	ok "set-up: zone tree with counts, signals and colours, templates, repeat policy" ||
	fail "set-up: $(head -c 600 <<< "$BODY")"

# Preview: the warning's audio as Ogg Opus and its reading; refusals as for a bulletin.
WARN='{"text": "高明区气象台5月19日14时40分发布冰雹橙色预警信号：预计未来2小时，杨和镇将出现冰雹。", "kind": "warning", "targets": ["杨和镇"], "repeat": 0}'
post "$WARN" /v1/console/preview
if [ "$STATUS" = 200 ] && jq -e '.sentences[0].pinyin | contains("bing1 bao2")' <<< "$BODY" > /dev/null &&
	jq -e '.normalised | contains("十四时四十分")' <<< "$BODY" > /dev/null &&
	jq -e '.warning.colour == "orange" and .plays == 1 and .endpoints == 462' <<< "$BODY" > /dev/null; then
	ok "preview: $(jq -r '"\(.seconds) s, reading \(.sentences | length) sentences"' <<< "$BODY")"
else
	fail "preview: $STATUS $BODY"
fi
AUDIO=$(jq -r .audio <<< "$BODY")
SECONDS_PREVIEW=$(jq .seconds <<< "$BODY")
get "$AUDIO"
if [ "$STATUS" = 200 ] && [ "$TYPE" = audio/ogg ] && [ "$(head -c 4 "$T/body")" = OggS ] &&
	opusdec --quiet "$T/body" "$T/preview.wav" 2> /dev/null; then
	ok "preview audio: Ogg Opus, $(soxi -D "$T/preview.wav") s decoded (said $SECONDS_PREVIEW)"
else
	fail "preview audio: $STATUS $TYPE"
fi
get /v1/console/preview/p999.opus
[ "$STATUS" = 404 ] || fail "unknown preview: $STATUS"
post '{"text": "测试。", "kind": "nowcast", "targets": ["不存在镇"]}' /v1/console/preview
[ "$STATUS" = 422 ] && jq -e '.error | contains("不存在镇")' <<< "$BODY" > /dev/null &&
	ok "preview of an unknown target: 422 naming it" || fail "preview refusal: $STATUS $BODY"
post '{"text": "测试。", "colour": "blue", "kind": "warning", "signal": "hail"}' /v1/console/preview
[ "$STATUS" = 422 ] && ok "preview of an illegal colour: 422 $(jq -r .error <<< "$BODY")" ||
	fail "preview of an illegal colour: $STATUS $BODY"

# Today: the staged text and whether it is fresh.
post '{"text": "高明区气象台发布短时临近预报：未来3小时多云。"}' /v1/products/nowcast
SLOT=$(jq -r .slot <<< "$BODY")
get /v1/console/today
jq -e --arg s "$SLOT" '.slots[] | select(.time == $s) | .staged | .fresh == true and (.text | contains("未来3小时多云"))' <<< "$BODY" > /dev/null &&
	jq -e '.slots | length == 6 and all(.max_age > 0)' <<< "$BODY" > /dev/null &&
	ok "today: slot $SLOT shows its staged text, fresh" || fail "today: $BODY"

# Publish as the console does; the archive keeps the broadcast.
post "$(jq -c '. + {client_id: "console-test-1"}' <<< "$WARN")"
ID=$(jq .id <<< "$BODY")
[ "$STATUS" = 202 ] || fail "publish: $STATUS $BODY"
wait_idle 60
for _ in $(seq 50); do
	get "/v1/history?limit=5"
	REC=$(jq -c --argjson id "$ID" '.history[] | select(.bulletin == $id)' <<< "$BODY")
	[ -n "$REC" ] && break
	sleep 0.1
done
RID=$(jq -r .id <<< "$REC")
jq -e '.operator == "operator (token operator.token)" and .source == "console" and .kind == "warning" and .towns == ["杨和镇"] and .result == "played"' <<< "$REC" > /dev/null &&
	ok "history: bulletin $ID archived as $RID by $(jq -r .operator <<< "$REC") from the console" ||
	fail "history record: $REC"
get "/v1/history/$RID"
jq -e '.reading[0].pinyin | contains("bing1 bao2")' <<< "$BODY" > /dev/null &&
	jq -e '.villages | length == 16' <<< "$BODY" > /dev/null &&
	ok "record $RID: text, reading and the 16 villages of 杨和镇" || fail "record: $(head -c 500 <<< "$BODY")"
get "/v1/history/$RID.opus"
[ "$STATUS" = 200 ] && [ "$TYPE" = audio/ogg ] && opusdec --quiet "$T/body" "$T/archived.wav" 2> /dev/null ||
	fail "recording: $STATUS $TYPE"
kill -TERM "$EP_PID"
wait "$EP_PID"
heard=$(sed -nE "s/^broadcast $ID: .*, ([0-9.]+) s of audio.*/\1/p" "$T/ep-$EP.log")
kept=$(soxi -D "$T/archived.wav" 2> /dev/null || echo 0)
[ -n "$heard" ] && [ "$(echo "d = $kept - $heard; if (d < 0) d = -d; d <= 0.1" | bc -l)" = 1 ] &&
	ok "the recording lasts $kept s; the endpoint played $heard s" ||
	fail "recording $kept s, endpoint ${heard:-nothing}"
for bad in "/v1/history/20140519-144005-99999" "/v1/history/..%2f..%2fheadend.key" "/v1/history/x.opus"; do
	get "$bad"
	[ "$STATUS" = 404 ] || fail "GET $bad: $STATUS"
done

# What a town heard at a minute: the API and headendctl, now and on 19 May 2014.
MINUTE=$(jq -r .started <<< "$REC" | cut -c1-16)
get "/v1/history?target=$(jq -rn --arg t 杨和镇 '$t|@uri')&at=$(jq -rn --arg t "$MINUTE" '$t|@uri')"
jq -e --argjson id "$ID" '.heard | map(.bulletin) | index($id) != null' <<< "$BODY" > /dev/null &&
	ok "杨和镇 at $MINUTE heard bulletin $ID" || fail "heard: $BODY"
get "/v1/history?target=$(jq -rn --arg t 更合镇 '$t|@uri')&at=$(jq -rn --arg t "$MINUTE" '$t|@uri')"
jq -e '.heard == [] and .before == null' <<< "$BODY" > /dev/null && ok "更合镇 at $MINUTE heard nothing" ||
	fail "更合镇: $BODY"
get "/v1/history?target=$(jq -rn --arg t 杨和镇 '$t|@uri')"
[ "$STATUS" = 422 ] || fail "target without at: $STATUS"
get "/v1/history?at=yesterday"
[ "$STATUS" = 422 ] || fail "bad at: $STATUS"
get "/v1/history?at=2014-05-19&target=$(jq -rn --arg t 不存在镇 '$t|@uri')"
[ "$STATUS" = 422 ] && ok "refused: target without at, a malformed time, an unknown place" ||
	fail "unknown place: $STATUS"

# The auditor's question: a record of 19 May 2014 (this broadcast, moved there) is found.
DAY=$(jq -r .started <<< "$REC" | cut -c1-10)
BASE=$(cut -d- -f2- <<< "$RID")
mkdir -p "$T/var/archive/2014-05-19"
jq --argjson id "$ID" '.id = "20140519-144005-\($id)" | .started = "2014-05-19 14:40:05" |
	.ended = "2014-05-19 14:41:55" | .accepted = "2014-05-19 14:40:04" | .audio.file = "144005-\($id).opus"' \
	"$T/var/archive/$DAY/$BASE.json" > "$T/var/archive/2014-05-19/144005-$ID.json"
cp "$T/var/archive/$DAY/$BASE.opus" "$T/var/archive/2014-05-19/144005-$ID.opus"
ctl history --target 杨和镇 --at "2014-05-19 14:40" --save "$T" > "$T/history.out" 2>&1
grep -q "^杨和镇, 2014-05-19 14:40:00 to 2014-05-19 14:40:59 (Asia/Shanghai): 1 broadcast" "$T/history.out" &&
	grep -q "^2014-05-19 14:40:05 - 14:41:55  bulletin $ID .* warning hail orange issue" "$T/history.out" &&
	grep -q "saved: $T/20140519-144005-$ID.opus" "$T/history.out" &&
	ok "headendctl history --target 杨和镇 --at \"2014-05-19 14:40\": bulletin $ID, recording saved" ||
	fail "headendctl history: $(cat "$T/history.out")"
ctl history --target 杨和镇 --at "2014-05-19 15:00" > "$T/later.out"
grep -q "nothing was broadcast there" "$T/later.out" && grep -q "the last broadcast there before:" "$T/later.out" &&
	ok "at 15:00 nothing; the last broadcast before is named" || fail "15:00: $(cat "$T/later.out")"
ctl history --limit 5 | grep -q "bulletin $ID " && ok "headendctl history lists the latest" ||
	fail "headendctl history --limit"

# Refused CAP alerts: listed, and marked handled.
curl -s -o /dev/null -H 'Content-Type: application/cap+xml' -H "Authorization: Bearer $TOKEN" \
	--data-binary @"$REPO/tests/data/cap/unknown-event.xml" "$URL/v1/cap"
get /v1/cap/refused
N=$(jq '.refused[0].id' <<< "$BODY")
[ "$(jq .pending <<< "$BODY")" = 1 ] || fail "refused: $BODY"
post "{\"id\": $N}" /v1/cap/handled
[ "$STATUS" = 200 ] || fail "handled: $STATUS $BODY"
get /v1/cap/refused
jq -e '.pending == 0 and .refused[0].handled == true' <<< "$BODY" > /dev/null &&
	ok "a refused alert is listed, then marked handled" || fail "after handled: $BODY"
post '{"id": 999}' /v1/cap/handled
[ "$STATUS" = 404 ] || fail "handled 999: $STATUS"
post '{"id": 1}' /v1/console/setup
[ "$STATUS" = 405 ] || fail "POST set-up: $STATUS"

# Retention: a restart with 30 days removes 2014 and keeps today.
kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" 2> /dev/null
sed -i 's/retention_days = 0/retention_days = 30/' "$T/headend.cfg"
start_headend
[ ! -d "$T/var/archive/2014-05-19" ] && [ -f "$T/var/archive/$DAY/$BASE.opus" ] &&
	grep -q "archive: 1 days before" "$T/headend.log" &&
	ok "retention of 30 days removed 2014-05-19 and kept $DAY" || fail "retention: $(ls "$T/var/archive")"
finish
