/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/auth.c: the first start's token file, every shape of Authorization
 * header, API tokens issued, replaced and revoked, sessions that expire, passwords that are
 * hashed and checked, and a store that survives a restart. */

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

#include "headend/auth.h"

static char dir[64];

static int make_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/cx-auth-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, AUTH_STORE_FILE);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s", dir, AUTH_TOKEN_FILE);
	unlink(path);
	return rmdir(dir);
}

static void read_token(char *out, size_t size)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, AUTH_TOKEN_FILE);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)size, f));
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

static enum auth_result check(struct auth *a, const char *token, struct auth_who *who)
{
	char header[256];

	snprintf(header, sizeof(header), "Bearer %s", token);
	return auth_check(a, header, who);
}

static void test_first_start(void **state)
{
	char token[AUTH_TOKEN_MAX], again[AUTH_TOKEN_MAX], path[128], err[256];
	struct auth_who who;
	struct auth *a;
	struct stat st;
	int wrote;

	assert_int_equal(auth_open(&a, dir, 3600, &wrote, err, sizeof(err)), 0);
	assert_true(wrote);
	snprintf(path, sizeof(path), "%s/%s", dir, AUTH_TOKEN_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	read_token(token, sizeof(token));
	assert_int_equal(strlen(token), 46);		/* cx_ and 256 bits in base64url */
	assert_int_equal(check(a, token, &who), AUTH_OK);
	assert_string_equal(who.name, AUTH_FIRST_OPERATOR);
	assert_string_equal(who.text, "operator (token operator.token)");
	auth_close(a);

	/* a restart keeps the token that works */
	assert_int_equal(auth_open(&a, dir, 3600, &wrote, err, sizeof(err)), 0);
	assert_false(wrote);
	read_token(again, sizeof(again));
	assert_string_equal(again, token);
	assert_int_equal(check(a, token, &who), AUTH_OK);
	auth_close(a);
}

static void test_headers(void **state)
{
	char token[AUTH_TOKEN_MAX], header[256], err[256];
	struct auth_who who;
	struct auth *a;
	int wrote;

	assert_int_equal(auth_open(&a, dir, 3600, &wrote, err, sizeof(err)), 0);
	read_token(token, sizeof(token));
	assert_int_equal(auth_check(a, NULL, &who), AUTH_MISSING);
	assert_int_equal(auth_check(a, "", &who), AUTH_MALFORMED);
	assert_int_equal(auth_check(a, "Bearer", &who), AUTH_MALFORMED);
	assert_int_equal(auth_check(a, "Bearer ", &who), AUTH_MALFORMED);
	assert_int_equal(auth_check(a, "Basic b3A6b3A=", &who), AUTH_MALFORMED);
	snprintf(header, sizeof(header), "Bearer %s %s", token, token);
	assert_int_equal(auth_check(a, header, &who), AUTH_MALFORMED);
	snprintf(header, sizeof(header), "bearer   %s  ", token);	/* RFC 6750: case-blind */
	assert_int_equal(auth_check(a, header, &who), AUTH_OK);
	memset(header, 'x', 200);
	memcpy(header, "Bearer ", 7);
	header[200] = '\0';
	assert_int_equal(auth_check(a, header, &who), AUTH_MALFORMED);
	token[10] ^= 1;
	assert_int_equal(check(a, token, &who), AUTH_UNKNOWN);
	token[strlen(token) - 1] = '\0';
	assert_int_equal(check(a, token, &who), AUTH_UNKNOWN);
	auth_close(a);
}

static void test_tokens(void **state)
{
	char cron[AUTH_TOKEN_MAX], cron2[AUTH_TOKEN_MAX], op[AUTH_TOKEN_MAX], op2[AUTH_TOKEN_MAX];
	char err[256];
	struct auth_who who;
	struct auth *a;
	int wrote;

	assert_int_equal(auth_open(&a, dir, 3600, &wrote, err, sizeof(err)), 0);
	assert_int_equal(auth_token_create(a, "alice", "cron", cron, err, sizeof(err)), 0);
	assert_int_equal(check(a, cron, &who), AUTH_OK);
	assert_string_equal(who.text, "alice (token cron)");
	assert_int_equal(auth_token_create(a, "alice", "Cron!", cron2, err, sizeof(err)), -1);
	assert_int_equal(auth_token_create(a, "alice", AUTH_TOKEN_FILE, cron2, err, sizeof(err)),
			 -1);

	/* the same label again replaces the token */
	assert_int_equal(auth_token_create(a, "alice", "cron", cron2, err, sizeof(err)), 0);
	assert_int_equal(check(a, cron, &who), AUTH_UNKNOWN);
	assert_int_equal(check(a, cron2, &who), AUTH_OK);
	auth_close(a);

	/* stored: a restart knows cron2; revoked, it is gone */
	assert_int_equal(auth_open(&a, dir, 3600, &wrote, err, sizeof(err)), 0);
	assert_int_equal(check(a, cron2, &who), AUTH_OK);
	assert_int_equal(auth_token_revoke(a, "cron", err, sizeof(err)), 0);
	assert_int_equal(check(a, cron2, &who), AUTH_UNKNOWN);
	assert_int_equal(auth_token_revoke(a, "cron", err, sizeof(err)), -1);
	assert_int_equal(auth_token_revoke(a, AUTH_TOKEN_FILE, err, sizeof(err)), -1);

	/* operator.token rotated: the file holds the new one, the old one is dead */
	read_token(op, sizeof(op));
	assert_int_equal(auth_token_rotate(a, op2, err, sizeof(err)), 0);
	read_token(cron, sizeof(cron));
	assert_string_equal(cron, op2);
	assert_int_equal(check(a, op, &who), AUTH_UNKNOWN);
	assert_int_equal(check(a, op2, &who), AUTH_OK);
	auth_close(a);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_passwords_and_sessions(void **state)
{
	char token[AUTH_TOKEN_MAX], err[256];
	struct auth_who who;
	struct auth *a;
	unsigned wait = 0;
	double t0;
	int wrote;

	assert_int_equal(auth_open(&a, dir, 1, &wrote, err, sizeof(err)), 0);
	assert_int_equal(auth_set_password(a, "bob", "short", err, sizeof(err)), -1);
	assert_int_equal(auth_set_password(a, "Bob", "long enough pass", err, sizeof(err)), -1);
	assert_int_equal(auth_set_password(a, "bob", "long enough pass", err, sizeof(err)), 0);

	/* the first operator has no password: nothing logs in as it */
	assert_int_equal(auth_login(a, "10.0.0.1", AUTH_FIRST_OPERATOR, "", token, &wait),
			 AUTH_LOGIN_REFUSED);
	t0 = now_s();
	assert_int_equal(auth_login(a, "10.0.0.1", "bob", "wrong password", token, &wait),
			 AUTH_LOGIN_REFUSED);
	assert_true(now_s() - t0 >= AUTH_FAILED_DELAY_MS / 1e3);

	assert_int_equal(auth_login(a, "10.0.0.1", "bob", "long enough pass", token, &wait),
			 AUTH_LOGIN_OK);
	assert_int_equal(check(a, token, &who), AUTH_OK);
	assert_string_equal(who.text, "bob");
	sleep(1);
	assert_int_equal(check(a, token, &who), AUTH_EXPIRED);
	auth_close(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_start),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_passwords_and_sessions),
	};

	return cmocka_run_group_tests_name("auth", tests, make_dir, remove_dir) ? EXIT_FAILURE
									       : EXIT_SUCCESS;
}
