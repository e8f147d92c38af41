/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/store.c: records put, finished and scanned back in id order; what a
 * crash can leave behind (a record both queued and done, a temporary file, a damaged file);
 * done records older than STORE_KEEP_DAYS removed. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "headend/store.h"

#define NOW 1796400000

static char dir[64];

static int make_dir(void **state)
{
	char err[256];
	struct store *s;

	snprintf(dir, sizeof(dir), "/tmp/cx-store-XXXXXX");
	if (!mkdtemp(dir) || store_open(&s, dir, err, sizeof(err)))
		return -1;
	store_close(s);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

struct seen {
	uint32_t id[16];
	int pending[16], parsed[16];
	size_t n;
};

static int collect(void *arg, uint32_t id, json_t *rec, int pending)
{
	struct seen *s = arg;

	if (s->n < 16) {
		s->id[s->n] = id;
		s->pending[s->n] = pending;
		s->parsed[s->n] = rec && json_integer_value(json_object_get(rec, "id")) == id;
	}
	s->n++;
	return 0;
}

static void put(struct store *s, uint32_t id)
{
	json_t *rec = json_pack("{s:i, s:s}", "id", (json_int_t)id, "text", "天气预报");

	assert_int_equal(store_put(s, id, rec), STORE_OK);
	json_decref(rec);
}

static void write_file(const char *sub, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_lifecycle(void **state)
{
	struct store *s;
	struct seen seen = { 0 };
	char err[256];
	json_t *outcome = json_pack("{s:s, s:I}", "result", "played", "finished",
				    (json_int_t)NOW);

	assert_int_equal(store_open(&s, dir, err, sizeof(err)), STORE_OK);
	put(s, 12);
	put(s, 3);
	put(s, 7);
	assert_int_equal(store_finish(s, 3, outcome), STORE_OK);
	assert_int_equal(store_scan(s, NOW, collect, &seen), STORE_OK);
	assert_int_equal(seen.n, 3);
	assert_int_equal(seen.id[0], 3);	/* done first */
	assert_int_equal(seen.pending[0], 0);
	assert_int_equal(seen.id[1], 7);
	assert_int_equal(seen.id[2], 12);	/* then the queue in id order, not name order */
	assert_int_equal(seen.pending[2], 1);
	for (size_t i = 0; i < 3; i++)
		assert_true(seen.parsed[i]);
	assert_int_equal(store_finish(s, 7, outcome), STORE_OK);
	assert_int_equal(store_finish(s, 12, outcome), STORE_OK);
	json_decref(outcome);
	store_close(s);
}

/* A crash between writing done/ and removing queue/ leaves both: the record counts as done. A
 * half-written temporary file is never read; a damaged one is reported as such. */
static void test_crash_leftovers(void **state)
{
	struct store *s;
	struct seen seen = { 0 };
	char err[256];

	assert_int_equal(store_open(&s, dir, err, sizeof(err)), STORE_OK);
	write_file("queue", "40.json", "{\"id\": 40}");
	write_file("done", "40.json", "{\"id\": 40, \"result\": \"played\"}");
	write_file("queue", ".41.json.tmp", "{\"id\": 4");
	write_file("queue", "42.json", "{\"id\": 4");
	assert_int_equal(store_scan(s, NOW, collect, &seen), STORE_OK);
	assert_true(seen.n >= 2);
	for (size_t i = 0; i < seen.n; i++) {
		assert_false(seen.id[i] == 40 && seen.pending[i]);
		assert_int_not_equal(seen.id[i], 41);
		if (seen.id[i] == 42)
			assert_false(seen.parsed[i]);
	}
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/queue/40.json", dir);
		assert_int_equal(access(path, F_OK), -1);
	}
	store_close(s);
}

static void test_prune(void **state)
{
	struct store *s;
	struct seen seen = { 0 };
	char err[256], old[64];
	json_t *recent = json_pack("{s:s, s:I}", "result", "played", "finished",
				   (json_int_t)NOW - 86400);

	snprintf(old, sizeof(old), "{\"id\": 90, \"finished\": %lld}",
		 (long long)NOW - (STORE_KEEP_DAYS + 1) * 86400LL);
	assert_int_equal(store_open(&s, dir, err, sizeof(err)), STORE_OK);
	write_file("done", "90.json", old);
	put(s, 91);
	assert_int_equal(store_finish(s, 91, recent), STORE_OK);
	assert_int_equal(store_scan(s, NOW, collect, &seen), STORE_OK);
	for (size_t i = 0; i < seen.n; i++)
		assert_int_not_equal(seen.id[i], 90);
	seen.n = 0;
	assert_int_equal(store_scan(s, NOW, collect, &seen), STORE_OK);
	{
		int found = 0;

		for (size_t i = 0; i < seen.n; i++)
			found |= seen.id[i] == 91;
		assert_true(found);
	}
	json_decref(recent);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_crash_leftovers),
		cmocka_unit_test(test_prune),
	};

	return cmocka_run_group_tests_name("store", tests, make_dir, remove_dir);
}
