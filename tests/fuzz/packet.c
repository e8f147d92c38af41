/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: what an endpoint does with packets from the network, proto/ parsing and
 * proto/verify.c's checks, over a sequence of packets so that the replay window, KEY and
 * MANIFEST handling are reached. Input: records of a flags byte, a 16-bit length and the bytes.
 * Flag 1: the harness signs the packet with the trusted key (the fuzzer cannot forge Ed25519,
 * and should still reach what follows a good signature); flag 2: its clock is made current. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/proto.h"
#include "proto/sign.h"
#include "proto/verify.h"

#define T0 1400481600000ull

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char pk[PROTO_PUBLIC_KEY], sk[PROTO_SECRET_KEY];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	unsigned char seed[PROTO_SEED];

	(void)argc;
	(void)argv;
	if (proto_crypto_init())
		return -1;
	memset(seed, 0x42, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	return 0;
}

/* Make a well-formed control packet pass: our key id, a current clock, a good signature. */
static void countersign(unsigned char *buf, size_t len, int current)
{
	struct proto_control c;
	uint32_t id = proto_key_id(pk);

	if (proto_control_parse(buf, len, &c) != PROTO_OK)
		return;
	for (int i = 0; i < 4; i++)
		buf[4 + i] = (unsigned char)(id >> (24 - 8 * i));
	for (int i = 0; current && i < 8; i++)
		buf[16 + i] = (unsigned char)(T0 >> (56 - 8 * i));
	proto_sign(buf, len, sk);
}

static void packet(struct proto_verifier *v, unsigned char *buf, size_t len, uint64_t now)
{
	struct proto_control c;
	struct proto_rtp r;

	switch (proto_classify(buf, len)) {
	case PROTO_PACKET_RTP:
		if (proto_rtp_parse(buf, len, &r) == PROTO_OK)
			(void)proto_verifier_audio(v, buf, len, &r);
		break;
	case PROTO_PACKET_CONTROL:
		if (proto_verifier_control(v, buf, len, now, &c) == PROTO_ACCEPT &&
		    c.type == PROTO_START)
			(void)proto_control_addresses(&c, 440608101201001ull);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char buf[PROTO_MAX_PACKET + 64];
	struct proto_verifier v;

	proto_verifier_init(&v, pk, 10000, T0);
	while (size >= 3) {
		unsigned flags = data[0];
		size_t len = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, data, len);
		if (flags & 1)
			countersign(buf, len, flags & 2);
		packet(&v, buf, len, T0 + (flags >> 4) * 1000u);
		data += len;
		size -= len;
	}
	return 0;
}
