/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What authenticating the audio costs an endpoint, per second of audio (50 packets of 20 ms),
 * for the three schemes weighed in docs/security.md: an Ed25519 signature on every packet,
 * signed MANIFESTs of packet hashes (what protocol version 2 does, measured through
 * proto/verify.c itself), and TESLA-style MACs with delayed key disclosure (RFC 4082). Also
 * the bytes each adds. Prints figures; never part of ctest. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proto/proto.h"
#include "proto/sign.h"
#include "proto/verify.h"

#define PACKETS 50		/* a second of audio */
#define PAYLOAD 60		/* 24 kbit/s Opus in 20 ms */
#define SECONDS 200		/* of audio per measurement */

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static size_t rtp(uint32_t ssrc, uint16_t seq, unsigned char *out)
{
	unsigned char payload[PAYLOAD];
	struct proto_rtp r = {
		.seq = seq, .timestamp = 960u * seq, .ssrc = ssrc, .payload = payload,
		.payload_len = sizeof(payload),
	};

	memset(payload, seq & 0xff, sizeof(payload));
	return proto_rtp_pack(&r, out, PROTO_MAX_PACKET);
}

/* Every packet carries a signature over itself. */
static double per_packet(const unsigned char *pk, const unsigned char *sk)
{
	unsigned char pkt[PACKETS][PROTO_MAX_PACKET];
	size_t len[PACKETS];
	double t0, t;
	int bad = 0;

	for (int i = 0; i < PACKETS; i++) {
		len[i] = rtp(7, (uint16_t)i, pkt[i]) + PROTO_SIGNATURE;
		proto_sign(pkt[i], len[i], sk);
	}
	t0 = now_us();
	for (int s = 0; s < SECONDS; s++)
		for (int i = 0; i < PACKETS; i++)
			bad += !proto_verify(pkt[i], len[i], pk);
	t = (now_us() - t0) / SECONDS;
	return bad ? -1 : t;
}

/* Two MANIFESTs a second, each listing 50 packets (each packet listed twice), then the 50
 * packets checked against them: exactly the endpoint's path. */
static double manifests(const unsigned char *pk, const unsigned char *sk)
{
	static unsigned char pkt[SECONDS * PACKETS][96], man[2 * SECONDS][PROTO_MAX_PACKET];
	static size_t len[SECONDS * PACKETS], mlen[2 * SECONDS];
	uint32_t id = proto_key_id(pk), serial = 0;
	uint64_t sent = wall_ms();
	struct proto_verifier v;
	double t0, t;
	int bad = 0;

	for (int i = 0; i < SECONDS * PACKETS; i++)
		len[i] = rtp(7, (uint16_t)i, pkt[i]);
	for (int m = 0; m < 2 * SECONDS; m++) {
		struct proto_control c = {
			.type = PROTO_MANIFEST, .key_id = id, .epoch = 1, .serial = ++serial,
			.sent_ms = sent, .broadcast = 7, .seq = (uint16_t)(m * 25), .n_hashes = 50,
		};

		for (int k = 0; k < 50; k++) {
			int i = m * 25 + k;

			if (i < SECONDS * PACKETS)
				proto_rtp_hash(pkt[i], len[i], c.hashes[k]);
		}
		mlen[m] = proto_control_pack(&c, man[m], sizeof(man[m]));
		proto_sign(man[m], mlen[m], sk);
	}
	proto_verifier_init(&v, pk, 10000, sent);
	t0 = now_us();
	for (int i = 0; i < SECONDS * PACKETS; i++) {
		struct proto_control c;
		struct proto_rtp r;

		if (i % 25 == 0)
			bad += proto_verifier_control(&v, man[i / 25], mlen[i / 25], sent,
						      &c) != 0;
		bad += proto_rtp_parse(pkt[i], len[i], &r) != PROTO_OK;
		bad += proto_verifier_audio(&v, pkt[i], len[i], &r) != PROTO_ACCEPT;
	}
	t = (now_us() - t0) / SECONDS;
	return bad ? -1 : t;
}

/* TESLA with one interval per packet: a MAC per packet, and a one-way chain step per
 * disclosed key to check it against the last key known (the chain's anchor is signed once, in
 * START; that signature is counted in the control packets, as for the other schemes). */
static double tesla(void)
{
	unsigned char pkt[PACKETS][96], keys[PACKETS + 1][32], mac[PACKETS][32];
	size_t len[PACKETS];
	double t0, t;
	int bad = 0;

	randombytes_buf(keys[PACKETS], 32);
	for (int i = PACKETS; i > 0; i--)	/* K[i-1] = H(K[i]) */
		crypto_hash_sha256(keys[i - 1], keys[i], 32);
	for (int i = 0; i < PACKETS; i++) {
		len[i] = rtp(7, (uint16_t)i, pkt[i]);
		crypto_auth_hmacsha256(mac[i], pkt[i], len[i], keys[i + 1]);
	}
	t0 = now_us();
	for (int s = 0; s < SECONDS; s++)
		for (int i = 0; i < PACKETS; i++) {
			unsigned char h[32];

			crypto_hash_sha256(h, keys[i + 1], 32);
			bad += sodium_memcmp(h, keys[i], 32) != 0;
			bad += crypto_auth_hmacsha256_verify(mac[i], pkt[i], len[i], keys[i + 1]);
		}
	t = (now_us() - t0) / SECONDS;
	return bad ? -1 : t;
}

int main(void)
{
	unsigned char pk[PROTO_PUBLIC_KEY], sk[PROTO_SECRET_KEY];
	double sig, man, mac;

	if (proto_crypto_init())
		return 1;
	crypto_sign_keypair(pk, sk);
	sig = per_packet(pk, sk);
	man = manifests(pk, sk);
	mac = tesla();
	printf("endpoint CPU per second of audio (%d packets of %d-byte Opus), over %d s:\n",
	       PACKETS, PAYLOAD, SECONDS);
	printf("  Ed25519 signature on every packet: %7.1f us  (%.1f us a packet), +%d B a "
	       "packet = %.1f kbit/s\n", sig, sig / PACKETS, PROTO_SIGNATURE,
	       PROTO_SIGNATURE * 8.0 * PACKETS / 1000);
	printf("  signed MANIFESTs (version 2):      %7.1f us  (2 signatures + 50 BLAKE2b-128), "
	       "2 x %d B a second = %.1f kbit/s\n", man, PROTO_ENVELOPE + PROTO_MANIFEST_BODY +
	       PROTO_HASH * 50 + PROTO_SIGNATURE, 2.0 * (PROTO_ENVELOPE + PROTO_MANIFEST_BODY +
	       PROTO_HASH * 50 + PROTO_SIGNATURE) * 8 / 1000);
	printf("  TESLA, MAC + key each packet:      %7.1f us  (50 HMAC-SHA256 + 50 SHA-256), "
	       "+36 B a packet = %.1f kbit/s, audio held back >= 2 intervals + clock error\n",
	       mac, 36 * 8.0 * PACKETS / 1000);
	return sig < 0 || man < 0 || mac < 0;
}
