/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Thin wrappers over libsodium so that head-end, endpoint and tests sign, verify and hash in
 * exactly one way. No policy here: callers decide which key and what a failure means. */
#include "proto/sign.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

int proto_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

uint32_t proto_key_id(const unsigned char pk[PROTO_PUBLIC_KEY])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), pk, PROTO_PUBLIC_KEY, NULL, 0);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

void proto_sign(unsigned char *pkt, size_t len, const unsigned char sk[PROTO_SECRET_KEY])
{
	size_t body = len - PROTO_SIGNATURE;

	crypto_sign_detached(pkt + body, NULL, pkt, body, sk);
}

int proto_verify(const unsigned char *pkt, size_t len, const unsigned char pk[PROTO_PUBLIC_KEY])
{
	size_t body;

	if (len < PROTO_SIGNATURE)
		return 0;
	body = len - PROTO_SIGNATURE;
	return crypto_sign_verify_detached(pkt + body, pkt, body, pk) == 0;
}

void proto_rtp_hash(const unsigned char *pkt, size_t len, unsigned char out[PROTO_HASH])
{
	crypto_generichash(out, PROTO_HASH, pkt, len, NULL, 0);
}

void proto_hex(const unsigned char *in, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, in, n);
}

int proto_key_load(const char *path, unsigned char pk[PROTO_PUBLIC_KEY], char *err,
		   size_t errlen)
{
	char text[160];
	size_t n, got = 0;
	const char *end;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "public key %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (sodium_hex2bin(pk, PROTO_PUBLIC_KEY, text, n, NULL, &got, &end) ||
	    got != PROTO_PUBLIC_KEY || strspn(end, " \t\r\n") != strlen(end)) {
		snprintf(err, errlen, "public key %s: not 64 hex digits", path);
		return -1;
	}
	return 0;
}
