/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of proto/report.c: the byte layout of a status report, strict parsing of every
 * truncation and bad field, the head-end's checks (key, signature over every bit, clock window,
 * boot and sequence order), and the key files. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/report.h"

#define NOW 1796400000000ull		/* the head-end's clock */
#define TOLERANCE 10000u
#define EP 440608101206001ull

struct key {
	unsigned char pk[PROTO_PUBLIC_KEY], sk[PROTO_SECRET_KEY];
	uint32_t id;
};

static struct key mine, neighbour;	/* this endpoint's key and another endpoint's */

static void make_key(struct key *k, unsigned char fill)
{
	unsigned char seed[PROTO_SEED];

	memset(seed, fill, sizeof(seed));
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	k->id = proto_key_id(k->pk);
}

static int setup(void **state)
{
	(void)state;
	if (proto_crypto_init())
		return -1;
	make_key(&mine, 7);
	make_key(&neighbour, 8);
	return 0;
}

static struct proto_report sample(uint64_t boot, uint32_t seq, uint64_t sent_ms)
{
	struct proto_report r = {
		.state = PROTO_STATE_BROADCASTING, .endpoint = EP, .key_id = mine.id, .boot = boot,
		.seq = seq, .sent_ms = sent_ms, .broadcast = 0x01020304, .last = 77,
		.uptime_s = 3600, .received = 5000, .lost = 3, .rejected = 2,
	};

	snprintf(r.version, sizeof(r.version), "cx-endpoint 1.0");
	return r;
}

/* r packed and signed by k. */
static size_t sealed(const struct proto_report *r, const struct key *k, unsigned char *buf)
{
	size_t n = proto_report_pack(r, buf, PROTO_REPORT_MAX);

	assert_true(n > 0);
	proto_sign(buf, n, k->sk);
	return n;
}

static struct proto_report_peer peer_of(const struct key *k)
{
	struct proto_report_peer p = { .keyed = 1, .key_id = k->id };

	memcpy(p.pk, k->pk, sizeof(p.pk));
	return p;
}

static void layout(void **state)
{
	struct proto_report r = sample(0x19a0a0b0c0dull, 9, 0x0102030405060708ull), back;
	unsigned char buf[PROTO_REPORT_MAX];
	size_t n = proto_report_pack(&r, buf, sizeof(buf));

	(void)state;
	assert_int_equal(n, 61 + 15 + 64);
	assert_int_equal(buf[0], 0xcc);
	assert_int_equal(buf[1], 'R');
	assert_int_equal(buf[2], 1);
	assert_int_equal(buf[3], 5);
	/* the endpoint code, big-endian at 4..11 */
	{
		uint64_t code = 0;

		for (int i = 4; i < 12; i++)
			code = code << 8 | buf[i];
		assert_true(code == EP);
	}
	assert_memory_equal(buf + 16, "\x00\x00\x01\x9a\x0a\x0b\x0c\x0d", 8);
	assert_memory_equal(buf + 24, "\x00\x00\x00\x09", 4);
	assert_memory_equal(buf + 28, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_memory_equal(buf + 36, "\x01\x02\x03\x04", 4);
	assert_memory_equal(buf + 40, "\x00\x00\x00\x4d", 4);
	assert_memory_equal(buf + 44, "\x00\x00\x0e\x10", 4);
	assert_memory_equal(buf + 48, "\x00\x00\x13\x88", 4);
	assert_memory_equal(buf + 52, "\x00\x00\x00\x03", 4);
	assert_memory_equal(buf + 56, "\x00\x00\x00\x02", 4);
	assert_int_equal(buf[60], 15);
	assert_memory_equal(buf + 61, "cx-endpoint 1.0", 15);
	assert_int_equal(proto_report_parse(buf, n, &back), PROTO_OK);
	assert_int_equal(back.state, PROTO_STATE_BROADCASTING);
	assert_true(back.endpoint == EP);
	assert_int_equal(back.key_id, mine.id);
	assert_true(back.boot == 0x19a0a0b0c0dull);
	assert_int_equal(back.seq, 9);
	assert_true(back.sent_ms == 0x0102030405060708ull);
	assert_int_equal(back.broadcast, 0x01020304);
	assert_int_equal(back.last, 77);
	assert_int_equal(back.uptime_s, 3600);
	assert_int_equal(back.received, 5000);
	assert_int_equal(back.lost, 3);
	assert_int_equal(back.rejected, 2);
	assert_string_equal(back.version, "cx-endpoint 1.0");
	assert_int_equal(proto_report_pack(&r, buf, n - 1), 0);
}

static void bad_fields(void **state)
{
	struct proto_report r = sample(1, 1, NOW), back;
	unsigned char buf[PROTO_REPORT_MAX + 1], copy[PROTO_REPORT_MAX + 1];
	size_t n = proto_report_pack(&r, buf, sizeof(buf));

	(void)state;
	for (size_t len = 0; len < n; len++)
		assert_int_equal(proto_report_parse(buf, len, &back), PROTO_ERR_SHORT);
	buf[n] = 0;
	assert_int_equal(proto_report_parse(buf, n + 1, &back), PROTO_ERR_LENGTH);

#define MUTATE(off, val, want) do { \
		memcpy(copy, buf, n); \
		copy[off] = (unsigned char)(val); \
		assert_int_equal(proto_report_parse(copy, n, &back), want); \
	} while (0)
	MUTATE(0, 0x80, PROTO_ERR_MAGIC);
	MUTATE(1, 'X', PROTO_ERR_MAGIC);
	MUTATE(2, 2, PROTO_ERR_VERSION);
	MUTATE(3, 0, PROTO_ERR_FIELD);
	MUTATE(3, 6, PROTO_ERR_FIELD);
	MUTATE(3, PROTO_STATE_NORMAL, PROTO_ERR_FIELD);	/* normal, yet naming a broadcast */
	MUTATE(4, 0xff, PROTO_ERR_FIELD);			/* not a 15-digit code */
	MUTATE(23, 0, PROTO_ERR_FIELD);				/* boot 0 */
	MUTATE(27, 0, PROTO_ERR_FIELD);				/* seq 0 */
	MUTATE(61, 0x07, PROTO_ERR_FIELD);			/* a control byte in the version */
	MUTATE(61, 0xe4, PROTO_ERR_FIELD);			/* not ASCII */
	MUTATE(60, 33, PROTO_ERR_FIELD);
	MUTATE(60, 14, PROTO_ERR_LENGTH);
	MUTATE(60, 16, PROTO_ERR_SHORT);
#undef MUTATE

	r.state = PROTO_STATE_NORMAL;		/* a normal report names no broadcast */
	assert_int_equal(proto_report_pack(&r, buf, sizeof(buf)), 0);
	r.broadcast = 0;
	assert_true(proto_report_pack(&r, buf, sizeof(buf)) > 0);
	r.endpoint = 440608101206ull;		/* a village, not an endpoint */
	assert_int_equal(proto_report_pack(&r, buf, sizeof(buf)), 0);
	assert_false(proto_is_report((const unsigned char *)"\xcc\x58", 2));
	assert_true(proto_is_report((const unsigned char *)"\xcc\x52", 2));
}

static void checks(void **state)
{
	struct proto_report_peer p = peer_of(&mine), q = peer_of(&neighbour), before;
	struct proto_report r = sample(100, 1, NOW), got;
	unsigned char buf[PROTO_REPORT_MAX];
	size_t n = sealed(&r, &mine, buf);

	(void)state;
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got), PROTO_ACCEPT);
	assert_int_equal(got.seq, 1);
	assert_int_equal(p.heard, 1);
	assert_int_equal(p.boot, 100);
	/* the same datagram again, and an older one */
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got),
			 PROTO_REJECT_REPLAY);

	/* no such endpoint, no key yet, the neighbour's peer entry */
	r.seq = 2;
	n = sealed(&r, &mine, buf);
	assert_int_equal(proto_report_check(NULL, buf, n, NOW, TOLERANCE, &got), PROTO_REJECT_KEY);
	q.keyed = 0;
	assert_int_equal(proto_report_check(&q, buf, n, NOW, TOLERANCE, &got), PROTO_REJECT_KEY);

	/* signed by the neighbour: claiming our key id, then its own */
	n = sealed(&r, &neighbour, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got),
			 PROTO_REJECT_SIGNATURE);
	r.key_id = neighbour.id;
	n = sealed(&r, &neighbour, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got), PROTO_REJECT_KEY);
	r.key_id = mine.id;

	/* every single bit flipped: never accepted, and the peer unchanged */
	n = sealed(&r, &mine, buf);
	before = p;
	for (size_t bit = 0; bit < n * 8; bit++) {
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		assert_int_not_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got),
				     PROTO_ACCEPT);
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	assert_memory_equal(&p, &before, sizeof(p));

	/* the clock window, both ways, at its edges */
	r.sent_ms = NOW - TOLERANCE - 1;
	n = sealed(&r, &mine, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got), PROTO_REJECT_STALE);
	r.sent_ms = NOW + TOLERANCE + 1;
	n = sealed(&r, &mine, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got), PROTO_REJECT_STALE);
	r.sent_ms = NOW - TOLERANCE;
	n = sealed(&r, &mine, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got), PROTO_ACCEPT);

	/* seq 2 is taken; 5 skips ahead (lost reports); 3 is then old */
	r.sent_ms = NOW;
	r.seq = 5;
	n = sealed(&r, &mine, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got), PROTO_ACCEPT);
	r.seq = 3;
	n = sealed(&r, &mine, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got),
			 PROTO_REJECT_REPLAY);

	/* a restart: a larger boot from seq 1; an older boot is a replay whatever its seq */
	r.boot = 101;
	r.seq = 1;
	n = sealed(&r, &mine, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got), PROTO_ACCEPT);
	r.boot = 100;
	r.seq = 1000;
	n = sealed(&r, &mine, buf);
	assert_int_equal(proto_report_check(&p, buf, n, NOW, TOLERANCE, &got),
			 PROTO_REJECT_REPLAY);
	assert_int_equal(p.boot, 101);
	assert_int_equal(p.seq, 1);
}

static void key_files(void **state)
{
	char dir[] = "/tmp/cx-report-XXXXXX", path[64], err[256];
	unsigned char pk[PROTO_PUBLIC_KEY], sk[PROTO_SECRET_KEY];
	struct stat st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ep.key", dir);
	assert_int_equal(proto_seed_create(path, pk), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(proto_seed_load(path, sk, err, sizeof(err)), 0);
	assert_memory_equal(sk + PROTO_SEED, pk, PROTO_PUBLIC_KEY);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(proto_seed_load(path, sk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_non_null(strstr(err, path));

	/* written in place over a file others could read: a new file, 0600, a new key */
	memcpy(sk, pk, sizeof(pk));
	assert_int_equal(proto_seed_create_in_place(path, pk), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_memory_not_equal(sk, pk, sizeof(pk));
	assert_int_equal(proto_seed_load(path, sk, err, sizeof(err)), 0);
	assert_memory_equal(sk + PROTO_SEED, pk, PROTO_PUBLIC_KEY);
	assert_int_equal(chmod(path, 0644), 0);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("0123 not hex\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(proto_seed_load(path, sk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a key"));
	unlink(path);
	assert_int_equal(proto_seed_load(path, sk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout),
		cmocka_unit_test(bad_fields),
		cmocka_unit_test(checks),
		cmocka_unit_test(key_files),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
