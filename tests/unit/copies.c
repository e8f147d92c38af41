/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/copies.c: which packet's second copy is due on which tick, what is
 * still owed after the last one, and which control packets go out again and when. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "headend/copies.h"

static const unsigned char *packet(int i, size_t *len)
{
	static unsigned char p[8][16];

	memset(p[i % 8], i, sizeof(p[0]));
	*len = 12 + (size_t)i % 4;
	return p[i % 8];
}

/* The byte a copy carries tells which packet it is a copy of. */
static int copy_of(const unsigned char *p)
{
	return p ? p[0] : -1;
}

static void test_back_to_back(void **state)
{
	struct copies *c = copies_new(0, 0);
	size_t len, n;

	for (int i = 0; i < 5; i++) {
		const unsigned char *p = packet(i, &len);

		assert_int_equal(copy_of(copies_push(c, p, len, &n)), i);
		assert_int_equal(n, len);
	}
	assert_null(copies_flush(c, &n));
	copies_free(c);
}

static void test_delayed(void **state)
{
	struct copies *c = copies_new(2, 0);
	size_t len, n;

	for (int i = 0; i < 6; i++) {
		const unsigned char *p = packet(i, &len);

		assert_int_equal(copy_of(copies_push(c, p, len, &n)), i < 2 ? -1 : i - 2);
	}
	assert_int_equal(copy_of(copies_flush(c, &n)), 4);
	assert_int_equal(n, 12);
	assert_int_equal(copy_of(copies_flush(c, &n)), 5);
	assert_int_equal(n, 13);
	assert_null(copies_flush(c, &n));
	copies_free(c);
}

static void test_none(void **state)
{
	struct copies *c = copies_new(-1, 1);
	size_t len, n;
	const unsigned char *p = packet(1, &len);

	assert_null(copies_push(c, p, len, &n));
	assert_null(copies_flush(c, &n));
	assert_null(copies_new(4, 1));
	assert_null(copies_new(-2, 1));
	copies_free(c);
}

/* Ticks on which anything is owed from 0 to 20, as a bit mask. */
static unsigned owed_mask(struct copies *c, enum proto_type *type)
{
	struct proto_control out;
	unsigned mask = 0;

	for (uint64_t t = 0; t <= 20; t++)
		while (copies_control_due(c, t, &out)) {
			mask |= 1u << t;
			*type = out.type;
		}
	return mask;
}

static void test_control(void **state)
{
	struct copies *c = copies_new(2, 1);
	struct proto_control start = { .type = PROTO_START, .broadcast = 9 };
	struct proto_control m = { .type = PROTO_MANIFEST, .broadcast = 9, .seq = 100,
				   .n_hashes = 12 };
	enum proto_type type = 0;

	copies_control(c, &start, 0);
	assert_int_equal(owed_mask(c, &type), 1u << 2 | 1u << 4 | 1u << 6 | 1u << 8);
	assert_int_equal(type, PROTO_START);
	copies_control(c, &start, 50);
	assert_int_equal(owed_mask(c, &type), 0);

	/* The first MANIFEST lists packets never listed: three times more. */
	copies_control(c, &m, 0);
	assert_int_equal(owed_mask(c, &type), 1u << 2 | 1u << 4 | 1u << 6);
	assert_int_equal(type, PROTO_MANIFEST);

	/* One that starts inside the last listing: twice more. */
	m.seq = 105;
	m.n_hashes = 50;
	copies_control(c, &m, 5);
	assert_int_equal(owed_mask(c, &type), 1u << 7 | 1u << 9);

	/* The listing ran out (the renderer fell behind): three times more again. */
	m.seq = 160;
	copies_control(c, &m, 10);
	assert_int_equal(owed_mask(c, &type), 1u << 12 | 1u << 14 | 1u << 16);
	copies_free(c);
}

static void test_control_off(void **state)
{
	struct copies *c = copies_new(2, 0);
	struct proto_control start = { .type = PROTO_START, .broadcast = 9 };
	enum proto_type type = 0;

	copies_control(c, &start, 0);
	assert_int_equal(owed_mask(c, &type), 0);
	copies_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_delayed),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_control),
		cmocka_unit_test(test_control_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
