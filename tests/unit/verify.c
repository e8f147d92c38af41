/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of proto/sign.c and proto/verify.c: signatures over every bit, the replay window
 * against a plain model, the clock window, key rotation, and audio checked against MANIFEST
 * hashes. Random sweeps print their seed; set CX_SEED to repeat one. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/proto.h"
#include "proto/sign.h"
#include "proto/verify.h"

#define T0 1400481600000ull		/* the endpoint's clock at start */
#define TOLERANCE 10000u
#define YANGHE 440608101ull

struct key {
	unsigned char pk[PROTO_PUBLIC_KEY], sk[PROTO_SECRET_KEY];
	uint32_t id;
};

static struct key head, other;		/* the head-end's key and an attacker's */

static void make_key(struct key *k, unsigned char fill)
{
	unsigned char seed[PROTO_SEED];

	memset(seed, fill, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	k->id = proto_key_id(k->pk);
}

static int setup(void **state)
{
	if (proto_crypto_init())
		return -1;
	make_key(&head, 1);
	make_key(&other, 2);
	return 0;
}

static unsigned seed_from_env(void)
{
	const char *s = getenv("CX_SEED");

	return s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
}

/* A START to 杨和镇 signed by k (the id field says k's id unless claim is set). */
static size_t start(const struct key *k, uint32_t claim, uint32_t epoch, uint32_t serial,
		    uint64_t sent_ms, unsigned char *buf)
{
	struct proto_control c = {
		.type = PROTO_START, .key_id = claim ? claim : k->id, .epoch = epoch,
		.serial = serial, .sent_ms = sent_ms, .broadcast = 42,
		.kind = PROTO_KIND_NOWCAST, .seq = 100, .n_targets = 1, .targets = { YANGHE },
	};
	size_t n = proto_control_pack(&c, buf, PROTO_MAX_PACKET);

	assert_int_not_equal(n, 0);
	proto_sign(buf, n, k->sk);
	return n;
}

static enum proto_reject check(struct proto_verifier *v, const struct key *k, uint32_t epoch,
			       uint32_t serial, uint64_t sent_ms, uint64_t now_ms)
{
	unsigned char buf[PROTO_MAX_PACKET];
	struct proto_control c;
	size_t n = start(k, 0, epoch, serial, sent_ms, buf);

	return proto_verifier_control(v, buf, n, now_ms, &c);
}

static void test_sign_every_bit(void **state)
{
	unsigned char buf[PROTO_MAX_PACKET], copy[PROTO_MAX_PACKET];
	size_t n = start(&head, 0, 7, 1, T0, buf);

	assert_true(proto_verify(buf, n, head.pk));
	assert_false(proto_verify(buf, n, other.pk));
	assert_false(proto_verify(buf, n - 1, head.pk));
	assert_false(proto_verify(buf, 10, head.pk));
	for (size_t bit = 0; bit < 8 * n; bit++) {
		memcpy(copy, buf, n);
		copy[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		if (proto_verify(copy, n, head.pk))
			fail_msg("flip of bit %zu of byte %zu still verifies", bit % 8, bit / 8);
	}
}

static void test_key_id(void **state)
{
	unsigned char seed[PROTO_SEED], pk[PROTO_PUBLIC_KEY], sk[PROTO_SECRET_KEY];

	for (unsigned i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)i;
	crypto_sign_seed_keypair(pk, sk, seed);
	assert_int_equal(proto_key_id(pk), 0x9d24e2eeu);	/* docs/protocol.md */
	assert_int_not_equal(head.id, other.id);
}

static void test_replay_window(void **state)
{
	struct proto_verifier v;

	proto_verifier_init(&v, head.pk, TOLERANCE, T0);
	assert_int_equal(check(&v, &head, 5, 10, T0, T0), PROTO_ACCEPT);
	assert_int_equal(check(&v, &head, 5, 10, T0, T0), PROTO_REJECT_REPLAY);
	assert_int_equal(check(&v, &head, 5, 9, T0, T0), PROTO_ACCEPT);	/* reordered */
	assert_int_equal(check(&v, &head, 5, 9, T0, T0), PROTO_REJECT_REPLAY);
	assert_int_equal(check(&v, &head, 5, 11, T0, T0), PROTO_ACCEPT);

	/* the window is 1,024 serials deep */
	assert_int_equal(check(&v, &head, 5, 11 + PROTO_WINDOW, T0, T0), PROTO_ACCEPT);
	assert_int_equal(check(&v, &head, 5, 11, T0, T0), PROTO_REJECT_REPLAY);
	assert_int_equal(check(&v, &head, 5, 12, T0, T0), PROTO_ACCEPT);
	assert_int_equal(check(&v, &head, 5, 12, T0, T0), PROTO_REJECT_REPLAY);

	/* epochs: an older one is a replay, a newer one starts afresh */
	assert_int_equal(check(&v, &head, 4, 5000, T0, T0), PROTO_REJECT_REPLAY);
	assert_int_equal(check(&v, &head, 6, 1, T0, T0), PROTO_ACCEPT);
	assert_int_equal(check(&v, &head, 5, 9000, T0, T0), PROTO_REJECT_REPLAY);
	assert_int_equal(check(&v, &head, 6, 1, T0, T0), PROTO_REJECT_REPLAY);
	assert_int_equal(check(&v, &head, 6, 2, T0, T0), PROTO_ACCEPT);

	/* the top of the serial range */
	assert_int_equal(check(&v, &head, 6, UINT32_MAX, T0, T0), PROTO_ACCEPT);
	assert_int_equal(check(&v, &head, 6, UINT32_MAX, T0, T0), PROTO_REJECT_REPLAY);
	assert_int_equal(check(&v, &head, 6, UINT32_MAX - 1, T0, T0), PROTO_ACCEPT);
}

/* The window against a model that remembers every serial: random jumps forward, reordering
 * and repeats. */
static void test_replay_model(void **state)
{
	static unsigned char seen[40000];
	unsigned seed = seed_from_env();
	struct proto_verifier v;
	uint32_t top = 0, serial = 1;

	memset(seen, 0, sizeof(seen));
	proto_verifier_init(&v, head.pk, TOLERANCE, T0);
	srand(seed);
	for (int round = 0; round < 3000; round++) {
		int model, got;

		switch (rand() % 4) {
		case 0: serial = top + 1 + (uint32_t)(rand() % 3); break;
		case 1: serial = top > 1100 ? top - (uint32_t)(rand() % 1100) : 1; break;
		case 2: break;				/* the same again */
		default: serial = top + (uint32_t)(rand() % 1200); break;
		}
		if (serial == 0 || serial >= sizeof(seen))
			serial = 1;
		model = seen[serial] || (top >= serial && top - serial >= PROTO_WINDOW);
		got = check(&v, &head, 1, serial, T0, T0) == PROTO_REJECT_REPLAY;
		if (got != model)
			fail_msg("seed %u round %d: serial %u with top %u: %s, expected %s", seed,
				 round, serial, top, got ? "replay" : "accepted",
				 model ? "replay" : "accepted");
		if (!model) {
			seen[serial] = 1;
			if (serial > top)
				top = serial;
		}
	}
}

static void test_clock_window(void **state)
{
	struct proto_verifier v;

	proto_verifier_init(&v, head.pk, TOLERANCE, T0);
	assert_int_equal(check(&v, &head, 1, 1, T0 + TOLERANCE + 1, T0), PROTO_REJECT_STALE);
	assert_int_equal(check(&v, &head, 1, 2, T0 + TOLERANCE, T0), PROTO_ACCEPT);

	/* sent before this endpoint started: a recording, whatever the window says */
	assert_int_equal(check(&v, &head, 1, 3, T0 - TOLERANCE / 10 - 1, T0),
			 PROTO_REJECT_STALE);
	assert_int_equal(check(&v, &head, 1, 4, T0 - TOLERANCE / 10, T0), PROTO_ACCEPT);

	/* later: older than the tolerance is stale */
	assert_int_equal(check(&v, &head, 1, 5, T0 + 20000, T0 + 30000 + 1), PROTO_REJECT_STALE);
	assert_int_equal(check(&v, &head, 1, 6, T0 + 20000, T0 + 30000), PROTO_ACCEPT);
}

/* Rejected packets teach the verifier nothing: a forgery with a high serial does not push
 * the window past the genuine packets that follow. */
static void test_forgeries(void **state)
{
	unsigned char buf[PROTO_MAX_PACKET];
	struct proto_verifier v;
	struct proto_control c;
	size_t n;

	proto_verifier_init(&v, head.pk, TOLERANCE, T0);
	assert_int_equal(check(&v, &other, 1, 1, T0, T0), PROTO_REJECT_KEY);

	n = start(&other, head.id, 1, 5000, T0, buf);	/* claims the head-end's key */
	assert_int_equal(proto_verifier_control(&v, buf, n, T0, &c), PROTO_REJECT_SIGNATURE);
	n = start(&head, 0, 1, 6000, T0, buf);
	buf[PROTO_ENVELOPE + PROTO_BROADCAST_BODY + 7] ^= 1;	/* another target */
	assert_int_equal(proto_verifier_control(&v, buf, n, T0, &c), PROTO_REJECT_SIGNATURE);
	assert_false(v.synced);

	assert_int_equal(check(&v, &head, 1, 100, T0, T0), PROTO_ACCEPT);
	assert_int_equal(check(&v, &head, 1, 99, T0, T0), PROTO_ACCEPT);

	n = start(&head, 0, 1, 101, T0, buf);
	assert_int_equal(proto_verifier_control(&v, buf, n - 1, T0, &c), PROTO_REJECT_MALFORMED);
	buf[2] = 1;		/* version 1 had no signature: never accepted */
	assert_int_equal(proto_verifier_control(&v, buf, n, T0, &c), PROTO_REJECT_MALFORMED);
}

static size_t key_packet(const struct key *signer, const struct key *next, uint32_t serial,
			 unsigned char *buf)
{
	struct proto_control c = {
		.type = PROTO_KEY, .key_id = signer->id, .epoch = 1, .serial = serial,
		.sent_ms = T0, .new_key_id = next->id,
	};
	size_t n;

	memcpy(c.new_key, next->pk, PROTO_PUBLIC_KEY);
	n = proto_control_pack(&c, buf, PROTO_MAX_PACKET);
	proto_sign(buf, n, signer->sk);
	return n;
}

static void test_rotation(void **state)
{
	unsigned char buf[PROTO_MAX_PACKET];
	struct proto_verifier v;
	struct proto_control c;
	struct key third;
	size_t n;

	make_key(&third, 3);
	proto_verifier_init(&v, head.pk, TOLERANCE, T0);

	/* announced by someone else: nothing learnt */
	n = key_packet(&other, &third, 1, buf);
	assert_int_equal(proto_verifier_control(&v, buf, n, T0, &c), PROTO_REJECT_KEY);
	assert_false(v.next.set);

	/* a KEY whose id does not belong to its key */
	n = key_packet(&head, &other, 2, buf);
	buf[PROTO_ENVELOPE] ^= 0x80;
	proto_sign(buf, n, head.sk);
	assert_int_equal(proto_verifier_control(&v, buf, n, T0, &c), PROTO_REJECT_MALFORMED);

	/* announced by the trusted key: both sign until the new one is seen */
	n = key_packet(&head, &other, 3, buf);
	assert_int_equal(proto_verifier_control(&v, buf, n, T0, &c), PROTO_ACCEPT);
	assert_true(v.next.set);
	assert_int_equal(check(&v, &head, 1, 4, T0, T0), PROTO_ACCEPT);
	assert_int_equal(check(&v, &other, 1, 5, T0, T0), PROTO_ACCEPT);
	assert_int_equal(v.key.id, other.id);
	assert_false(v.next.set);

	/* the old key is retired for good */
	assert_int_equal(check(&v, &head, 1, 6, T0, T0), PROTO_REJECT_KEY);
	assert_int_equal(check(&v, &other, 1, 7, T0, T0), PROTO_ACCEPT);
}

static size_t rtp(uint32_t ssrc, uint16_t seq, unsigned char fill, unsigned char *buf)
{
	unsigned char payload[60];
	struct proto_rtp r = {
		.seq = seq, .timestamp = 960u * seq, .ssrc = ssrc, .payload = payload,
		.payload_len = sizeof(payload),
	};

	memset(payload, fill, sizeof(payload));
	return proto_rtp_pack(&r, buf, PROTO_MAX_PACKET);
}

static enum proto_reject audio(struct proto_verifier *v, const unsigned char *buf, size_t n)
{
	struct proto_rtp r;

	assert_int_equal(proto_rtp_parse(buf, n, &r), PROTO_OK);
	return proto_verifier_audio(v, buf, n, &r);
}

static void test_audio(void **state)
{
	unsigned char buf[PROTO_MAX_PACKET], pkt[PROTO_MAX_PACKET];
	struct proto_control c = {
		.type = PROTO_MANIFEST, .key_id = head.id, .epoch = 1, .serial = 1, .sent_ms = T0,
		.broadcast = 42, .seq = 65530, .n_hashes = 12,
	};
	struct proto_verifier v;
	struct proto_control out;
	size_t n;

	proto_verifier_init(&v, head.pk, TOLERANCE, T0);
	for (unsigned i = 0; i < c.n_hashes; i++) {
		n = rtp(42, (uint16_t)(65530 + i), (unsigned char)i, pkt);
		proto_rtp_hash(pkt, n, c.hashes[i]);
	}

	/* nothing plays before its MANIFEST */
	n = rtp(42, 65530, 0, pkt);
	assert_int_equal(audio(&v, pkt, n), PROTO_REJECT_UNVERIFIED);

	/* a MANIFEST signed by someone else teaches nothing */
	c.key_id = other.id;
	n = proto_control_pack(&c, buf, sizeof(buf));
	proto_sign(buf, n, other.sk);
	assert_int_equal(proto_verifier_control(&v, buf, n, T0, &out), PROTO_REJECT_KEY);
	c.key_id = head.id;
	n = proto_control_pack(&c, buf, sizeof(buf));
	proto_sign(buf, n, head.sk);
	assert_int_equal(proto_verifier_control(&v, buf, n, T0, &out), PROTO_ACCEPT);

	/* the twelve packets, across the sequence wrap, each once */
	for (unsigned i = 0; i < c.n_hashes; i++) {
		n = rtp(42, (uint16_t)(65530 + i), (unsigned char)i, pkt);
		if (i == 3) {
			pkt[20] ^= 0x10;	/* spliced audio */
			assert_int_equal(audio(&v, pkt, n), PROTO_REJECT_SIGNATURE);
			pkt[20] ^= 0x10;
		}
		if (i == 4) {
			n = rtp(43, (uint16_t)(65530 + i), (unsigned char)i, pkt);
			assert_int_equal(audio(&v, pkt, n), PROTO_REJECT_UNVERIFIED);
			n = rtp(42, (uint16_t)(65530 + i), (unsigned char)i, pkt);
		}
		assert_int_equal(audio(&v, pkt, n), PROTO_ACCEPT);
		assert_int_equal(audio(&v, pkt, n), PROTO_REJECT_UNVERIFIED);
	}
	n = rtp(42, 6, 12, pkt);	/* one past the list */
	assert_int_equal(audio(&v, pkt, n), PROTO_REJECT_UNVERIFIED);
}

static void test_names(void **state)
{
	for (int a = 0; a < PROTO_REJECT_COUNT; a++)
		for (int b = a + 1; b < PROTO_REJECT_COUNT; b++)
			assert_string_not_equal(proto_reject_name((enum proto_reject)a),
						proto_reject_name((enum proto_reject)b));
	assert_string_equal(proto_reject_name(PROTO_REJECT_SIGNATURE), "bad signature");
	assert_string_equal(proto_reject_name(PROTO_REJECT_COUNT), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_every_bit),
		cmocka_unit_test(test_key_id),
		cmocka_unit_test(test_replay_window),
		cmocka_unit_test(test_replay_model),
		cmocka_unit_test(test_clock_window),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_audio),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("verify", tests, setup, NULL) ? EXIT_FAILURE
									 : EXIT_SUCCESS;
}
