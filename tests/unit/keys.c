/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/keys.c and headend/lookahead.c against the endpoint's verifier: key
 * files and their modes, a new epoch at every start, key rotation (announced, interrupted and
 * resumed), and MANIFESTs that precede their audio and survive the loss of any one of them. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "headend/keys.h"
#include "headend/lookahead.h"
#include "proto/sign.h"
#include "proto/verify.h"

#define NOW wall_ms()		/* KEY packets carry the real clock */

static char dir[64];

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int make_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/cx-keys-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	static const char *const files[] = {
		KEYS_FILE, KEYS_NEXT_FILE, KEYS_PUBLIC_FILE, KEYS_EPOCH_FILE,
	};
	char path[128];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	return rmdir(dir);
}

static mode_t mode_of(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 0777;
}

static void public_key(unsigned char pk[PROTO_PUBLIC_KEY])
{
	char path[128], err[256];

	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_PUBLIC_FILE);
	assert_int_equal(proto_key_load(path, pk, err, sizeof(err)), 0);
}

static enum proto_reject seal_check(struct keys *k, struct proto_verifier *v,
				    struct proto_control *out)
{
	struct proto_control c = { .type = PROTO_KEEPALIVE, .sent_ms = NOW };
	unsigned char buf[PROTO_MAX_PACKET];
	size_t n = keys_seal(k, &c, buf, sizeof(buf));

	assert_int_equal(n, PROTO_ENVELOPE + PROTO_SIGNATURE);
	return proto_verifier_control(v, buf, n, NOW, out);
}

static void test_files_and_epochs(void **state)
{
	unsigned char pk[PROTO_PUBLIC_KEY];
	struct proto_verifier v;
	struct proto_control c;
	struct keys *k;
	char err[512];
	uint32_t id;

	assert_int_equal(keys_open(&k, dir, 1000, err, sizeof(err)), 0);
	assert_int_equal(mode_of(KEYS_FILE), 0600);
	assert_int_equal(mode_of(KEYS_PUBLIC_FILE), 0644);
	public_key(pk);
	id = keys_id(k);
	assert_int_equal(id, proto_key_id(pk));
	assert_int_equal(keys_epoch(k), 1);

	proto_verifier_init(&v, pk, 10000, NOW);
	assert_int_equal(seal_check(k, &v, &c), PROTO_ACCEPT);
	assert_int_equal(c.epoch, 1);
	assert_int_equal(c.serial, 1);
	assert_int_equal(seal_check(k, &v, &c), PROTO_ACCEPT);
	assert_int_equal(c.serial, 2);
	keys_close(k);

	/* the same key again, and an epoch never used before */
	assert_int_equal(keys_open(&k, dir, 1000, err, sizeof(err)), 0);
	assert_int_equal(keys_id(k), id);
	assert_int_equal(keys_epoch(k), 2);
	assert_int_equal(seal_check(k, &v, &c), PROTO_ACCEPT);
	assert_int_equal(c.epoch, 2);
	assert_int_equal(c.serial, 1);
	keys_close(k);
}

static void test_key_mode_refused(void **state)
{
	char path[128], err[512];
	struct keys *k;

	snprintf(path, sizeof(path), "%s/%s", dir, KEYS_FILE);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(keys_open(&k, dir, 1000, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 640"));
	assert_int_equal(chmod(path, 0600), 0);
}

/* Announce every 1000 ms: KEY at 0, 1000 and 2000, the switch at 3000. */
static void test_rotation(void **state)
{
	unsigned char pk[PROTO_PUBLIC_KEY], buf[PROTO_MAX_PACKET];
	struct proto_verifier v;
	struct proto_control c;
	struct keys *k;
	char err[512];
	uint32_t old, id;
	size_t n;
	int keys = 0;

	assert_int_equal(keys_open(&k, dir, 1000, err, sizeof(err)), 0);
	public_key(pk);
	proto_verifier_init(&v, pk, 10000, NOW);
	old = keys_id(k);
	assert_int_equal(keys_rotate(k, &id, err, sizeof(err)), 0);
	assert_int_not_equal(id, old);
	assert_int_equal(mode_of(KEYS_NEXT_FILE), 0600);
	assert_int_equal(keys_rotate(k, &id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "under way"));

	for (uint64_t t = 0; t <= 3000; t += 250) {
		n = keys_poll(k, t, buf, sizeof(buf));
		if (n) {
			keys++;
			assert_int_equal(t % 1000, 0);
			assert_int_equal(proto_verifier_control(&v, buf, n, NOW, &c),
					 PROTO_ACCEPT);
			assert_int_equal(c.type, PROTO_KEY);
			assert_int_equal(c.key_id, old);
			assert_int_equal(c.new_key_id, id);
		}
		/* packets keep flowing, signed by the old key until the switch */
		assert_int_equal(seal_check(k, &v, &c), PROTO_ACCEPT);
		assert_int_equal(c.key_id, t < 3000 ? old : id);
	}
	assert_int_equal(keys, KEYS_ANNOUNCEMENTS);
	assert_int_equal(keys_id(k), id);
	assert_false(keys_rotating(k));
	assert_int_equal(v.key.id, id);
	public_key(pk);
	assert_int_equal(proto_key_id(pk), id);
	snprintf(err, sizeof(err), "%s/%s", dir, KEYS_NEXT_FILE);
	assert_int_equal(access(err, F_OK), -1);
	keys_close(k);
}

/* A head-end killed mid-rotation announces the same new key again when it starts. */
static void test_rotation_resumed(void **state)
{
	unsigned char buf[PROTO_MAX_PACKET];
	struct proto_control c;
	struct keys *k;
	char err[512];
	uint32_t id;
	size_t n;

	assert_int_equal(keys_open(&k, dir, 1000, err, sizeof(err)), 0);
	assert_int_equal(keys_rotate(k, &id, err, sizeof(err)), 0);
	keys_close(k);
	assert_int_equal(keys_open(&k, dir, 1000, err, sizeof(err)), 0);
	assert_true(keys_rotating(k));
	n = keys_poll(k, 0, buf, sizeof(buf));
	assert_int_not_equal(n, 0);
	assert_int_equal(proto_control_parse(buf, n, &c), PROTO_OK);
	assert_int_equal(c.new_key_id, id);
	for (uint64_t t = 1000; t <= 3000; t += 1000)
		keys_poll(k, t, buf, sizeof(buf));
	assert_int_equal(keys_id(k), id);
	keys_close(k);
}

/* 300 packets through the look-ahead as the engine sends them, MANIFEST number lose (0: none)
 * lost on the way. Returns the packets the endpoint could verify. */
static int broadcast(struct keys *k, struct proto_verifier *v, int lose, int *manifests)
{
	unsigned char buf[PROTO_MAX_PACKET], payload[40];
	struct lookahead *a = lookahead_new();
	int built = 0, verified = 0;

	assert_non_null(a);
	*manifests = 0;
	for (int tick = 0; tick < 300; tick++) {
		struct proto_control c = { .type = PROTO_MANIFEST, .sent_ms = NOW };
		const unsigned char *pkt;
		struct proto_rtp r;
		size_t len;

		while (!lookahead_full(a) && built < 300) {
			struct proto_rtp in = {
				.marker = built == 0, .seq = (uint16_t)(65500 + built),
				.timestamp = 960u * (uint32_t)built, .ssrc = 7, .payload = payload,
				.payload_len = sizeof(payload),
			};

			memset(payload, built++, sizeof(payload));
			assert_int_equal(lookahead_push(a, &in), 0);
		}
		if (lookahead_manifest(a, &c)) {
			size_t n = keys_seal(k, &c, buf, sizeof(buf));

			if (++*manifests != lose)
				assert_int_equal(proto_verifier_control(v, buf, n, NOW, &c),
						 PROTO_ACCEPT);
		}
		pkt = lookahead_peek(a, &len);
		assert_non_null(pkt);
		assert_int_equal(proto_rtp_parse(pkt, len, &r), PROTO_OK);
		verified += proto_verifier_audio(v, pkt, len, &r) == PROTO_ACCEPT;
		lookahead_pop(a);
	}
	assert_null(lookahead_peek(a, &(size_t){ 0 }));
	lookahead_free(a);
	return verified;
}

static void test_manifests(void **state)
{
	unsigned char pk[PROTO_PUBLIC_KEY];
	struct proto_verifier v;
	struct keys *k;
	char err[512];
	int manifests;

	assert_int_equal(keys_open(&k, dir, 1000, err, sizeof(err)), 0);
	public_key(pk);
	proto_verifier_init(&v, pk, 10000, NOW);
	assert_int_equal(broadcast(k, &v, 0, &manifests), 300);
	assert_int_equal(manifests, 300 / MANIFEST_EVERY);

	/* any MANIFEST but the first may be lost without losing audio */
	for (int lose = 2; lose <= 300 / MANIFEST_EVERY; lose++) {
		proto_verifier_init(&v, pk, 10000, NOW);
		if (broadcast(k, &v, lose, &manifests) != 300)
			fail_msg("losing MANIFEST %d lost audio", lose);
	}
	keys_close(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_and_epochs),
		cmocka_unit_test(test_key_mode_refused),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_rotation_resumed),
		cmocka_unit_test(test_manifests),
	};

	return cmocka_run_group_tests_name("keys", tests, make_dir, remove_dir) ? EXIT_FAILURE
									       : EXIT_SUCCESS;
}
