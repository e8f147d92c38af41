#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# HTTPS through libmicrohttpd and GnuTLS, with a self-signed certificate made here for
# 127.0.0.1: curl and headendctl verify it and upload, plain HTTP gets nowhere, a client
# without the certificate refuses the connection, and a private key others can read stops the
# head-end at start.
. "$(dirname "$0")/lib.sh" "$1" 18155 15191
write_config 10.0
(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$T/key.pem" -out "$T/cert.pem" -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" 2> "$T/openssl.log") || { fail "openssl"; finish; }
sed -i "s|max_body = 8192;|max_body = 8192; tls_cert = \"$T/cert.pem\"; tls_key = \"$T/key.pem\";|" \
	"$T/headend.cfg"
URL="https://127.0.0.1:$HTTP_PORT"
CURL_TLS=(--cacert "$T/cert.pem")
start_headend
grep -q "listening on https://127.0.0.1:$HTTP_PORT" "$T/headend.log" && ok "the head-end listens on https" ||
	fail "start-up line: $(grep listening "$T/headend.log")"

ep=440608101201001
start_endpoint $ep --count 1 --timeout 60
sleep 0.3
post '{"text": "高明区气象台发布短时临近预报：未来3小时多云。", "kind": "nowcast", "targets": ["杨和镇"], "repeat": 0}'
[ "$STATUS" = 202 ] && ok "POST over https with the operator token: $BODY" || fail "POST over https: $STATUS $BODY"
wait "$EP_PID" && grep -q '^broadcast 1: .*lost 0, rejected 0' "$T/ep-$ep.log" &&
	ok "the bulletin sent over https was played" || fail "endpoint: $(cat "$T/ep-$ep.log")"

code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/v1/status")
[ "$code" != 200 ] && ok "plain http to the https port gets nowhere ($code)" || fail "plain http answered 200"
curl -s -o /dev/null "$URL/v1/status"
rc=$?
[ "$rc" = 60 ] && ok "a client without the certificate refuses it (curl exit 60)" || fail "unverified https: curl exit $rc"
id=$("$BUILD/headendctl" --config "$T/headend.cfg" send --kind nowcast --target 杨和镇 --repeat 0 \
	"$REPO/tests/data/bulletins/nowcast-0800.txt") && [ "$id" = 2 ] &&
	ok "headendctl finds https and the certificate in the config: bulletin $id" ||
	fail "headendctl over https printed \"$id\""
wait_idle 60

kill -TERM "${PIDS[0]}"
wait "${PIDS[0]}" 2>/dev/null
chmod 644 "$T/key.pem"
timeout 10 "$BUILD/headend" --config "$T/headend.cfg" > "$T/open-key.log" 2>&1
[ $? = 1 ] && grep -q "key.pem: mode 644 lets others read the TLS key" "$T/open-key.log" &&
	ok "a TLS key others can read stops the start: $(grep -o 'error .*' "$T/open-key.log")" ||
	fail "readable key: $(cat "$T/open-key.log")"
finish
