/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of zones/: the real directory etc/zones.csv (高明区) for counts, resolution and
 * group addresses, and small malformed files written to a temporary folder for the loader. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zones/zones.h"

#define DIRECTORY "etc/zones.csv"
#define ERR_MAX 512

#define HEADER "endpoint_id,district_code,district_name,town_code,town_name,village_code," \
	       "village_name,site\n"
#define ROW_A "440608101206001,440608,高明区,440608101,杨和镇,440608101206,新圩村,村委会\n"
#define ROW_B "440608101206002,440608,高明区,440608101,杨和镇,440608101206,新圩村,祠堂\n"
#define ROW_C "440608001001001,440608,高明区,440608001,荷城街道,440608001001,沧江社区,村委会\n"

/* The loaded directory and one selection, fresh for each test. */
struct fixture {
	struct zones *z;
	struct zones_selection sel;
	struct in_addr base;
	char err[ERR_MAX];
};

static struct zones *directory;

static int load_directory(void **state)
{
	char err[ERR_MAX];

	if (zones_load(&directory, DIRECTORY, err, sizeof(err)) != ZONES_OK) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int free_directory(void **state)
{
	zones_free(directory);
	return 0;
}

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || zones_selection_init(&f->sel, directory) != ZONES_OK)
		return -1;
	f->z = directory;
	inet_pton(AF_INET, "239.192.0.0", &f->base);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	zones_selection_free(&f->sel);
	free(f);
	return 0;
}

/* Resolves each target, expecting success, and returns the endpoints reached. */
static size_t select_all(struct fixture *f, const char *const *targets, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum zones_result r = zones_resolve(f->z, targets[i], &f->sel, f->err,
						    sizeof(f->err));

		if (r != ZONES_OK)
			fail_msg("%s: %s (%s)", targets[i], zones_strerror(r), f->err);
	}
	return zones_selection_count(f->z, &f->sel);
}

static size_t count_of(struct fixture *f, const char *target)
{
	return select_all(f, &target, 1);
}

static void assert_addr(struct in_addr a, const char *want)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, text, sizeof(text));
	assert_string_equal(text, want);
}

static void test_counts(void **state)
{
	static const struct {
		uint64_t code;
		const char *name;
		uint32_t villages, endpoints;
	} towns[] = {
		{440608001, "荷城街道", 24, 738}, {440608101, "杨和镇", 16, 462},
		{440608102, "明城镇", 20, 518}, {440608103, "更合镇", 22, 632},
	};
	const struct zones *z = directory;

	assert_int_equal(z->district_code, 440608);
	assert_string_equal(z->district_name, "高明区");
	assert_int_equal(z->n_towns, 4);
	assert_int_equal(z->n_villages, 82);
	assert_int_equal(z->n_endpoints, 2350);

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(z->towns[i].code, towns[i].code);
		assert_string_equal(z->towns[i].name, towns[i].name);
		assert_int_equal(z->towns[i].n_villages, towns[i].villages);
		assert_int_equal(z->towns[i].n_endpoints, towns[i].endpoints);
	}
}

/* Every village and endpoint must sit under its parent, contiguous and in code order. */
static void test_sorted_and_linked(void **state)
{
	const struct zones *z = directory;

	for (size_t v = 0; v < z->n_villages; v++) {
		const struct zones_village *vil = &z->villages[v];

		assert_int_equal(vil->code / 1000, z->towns[vil->town].code);
		if (v > 0)
			assert_true(vil->code > z->villages[v - 1].code);
		for (uint32_t e = 0; e < vil->n_endpoints; e++) {
			const struct zones_endpoint *ep = &z->endpoints[vil->first_endpoint + e];

			assert_int_equal(ep->village, v);
			assert_int_equal(ep->id / 1000, vil->code);
		}
	}
	for (size_t e = 1; e < z->n_endpoints; e++)
		assert_true(z->endpoints[e].id > z->endpoints[e - 1].id);
}

static void test_find_endpoint(void **state)
{
	const struct zones *z = directory;
	long i = zones_find_endpoint(z, 440608101206001);

	assert_true(i >= 0);
	assert_int_equal(z->endpoints[i].id, 440608101206001);
	assert_string_equal(z->villages[z->endpoints[i].village].name, "新圩村");
	assert_int_equal(zones_find_endpoint(z, 440608101206999), -1);
	assert_int_equal(zones_find_endpoint(z, 0), -1);
}

static void test_resolve_codes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(count_of(f, "440608101206001"), 1);
	assert_int_equal(count_of(f, "440608101206"), 22);
	assert_int_equal(count_of(f, "440608101"), 462);
	assert_int_equal(count_of(f, "440608"), 2350);
}

static void test_resolve_names(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(count_of(f, "沧江社区"), 22);
	assert_int_equal(count_of(f, "明城镇"), 22 + 518);
	assert_int_equal(count_of(f, "杨和镇/新圩村"), 22 + 518 + 22);
	assert_int_equal(count_of(f, "更合镇/新圩村"), 22 + 518 + 22 + 39);
	assert_int_equal(count_of(f, "高明区"), 2350);
}

static void test_resolve_trim_and_fullwidth(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(count_of(f, "  杨和镇\t"), 462);
	assert_int_equal(count_of(f, "\xE3\x80\x80更合镇 ／ 朗锦村 "), 462 + 34);
	assert_int_equal(count_of(f, " 440608102 "), 462 + 34 + 518);
}

static void test_resolve_ambiguous(void **state)
{
	static const char *const names[] = {"新圩村", "朗锦村"};
	struct fixture *f = *state;

	for (size_t i = 0; i < 2; i++) {
		char town1[64], town2[64];

		assert_int_equal(zones_resolve(f->z, names[i], &f->sel, f->err, sizeof(f->err)),
				 ZONES_ERR_AMBIGUOUS);
		snprintf(town1, sizeof(town1), "杨和镇/%s", names[i]);
		snprintf(town2, sizeof(town2), "更合镇/%s", names[i]);
		assert_non_null(strstr(f->err, town1));
		assert_non_null(strstr(f->err, town2));
	}
	assert_int_equal(zones_selection_count(f->z, &f->sel), 0);
}

static void test_resolve_unknown(void **state)
{
	static const char *const targets[] = {
		"不存在村", "440608104", "440608999", "440608101299", "440608101206999",
		"440609", "4406081", "杨和镇/沧江社区", "石岐镇/新圩村", "", "   ",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		enum zones_result r = zones_resolve(f->z, targets[i], &f->sel, f->err,
						    sizeof(f->err));

		assert_int_equal(r, ZONES_ERR_UNKNOWN);
		if (targets[i][0] != ' ' && targets[i][0] != '\0' && !strstr(f->err, targets[i]))
			fail_msg("'%s' not named in '%s'", targets[i], f->err);
	}
	assert_non_null(strstr(f->err, "empty"));
	assert_int_equal(zones_selection_count(f->z, &f->sel), 0);
}

/* An endpoint is listed once, and not at all when its village already covers it. */
static void test_selection_singles(void **state)
{
	static const char *const targets[] = {
		"440608101206001", "440608101206001", "440608102201001", "440608103201001",
	};
	struct fixture *f = *state;

	assert_int_equal(select_all(f, targets, 4), 3);
	assert_int_equal(f->sel.n_endpoints, 3);
	assert_int_equal(count_of(f, "杨和镇/新圩村"), 22 + 2);
	assert_int_equal(f->sel.n_endpoints, 2);
	assert_int_equal(count_of(f, "440608101206005"), 24);
	assert_int_equal(f->sel.n_endpoints, 2);

	assert_true(zones_selection_has(f->z, &f->sel,
					(uint32_t)zones_find_endpoint(f->z, 440608101206022)));
	assert_true(zones_selection_has(f->z, &f->sel,
					(uint32_t)zones_find_endpoint(f->z, 440608102201001)));
	assert_false(zones_selection_has(f->z, &f->sel,
					 (uint32_t)zones_find_endpoint(f->z, 440608102201002)));
}

static void test_selection_counts(void **state)
{
	static const char *const two_towns[] = {"杨和镇", "明城镇"};
	static const char *const all_towns[] = {"荷城街道", "更合镇"};
	struct fixture *f = *state;

	assert_int_equal(zones_selection_count(f->z, &f->sel), 0);
	assert_int_equal(select_all(f, two_towns, 2), 462 + 518);
	assert_int_equal(select_all(f, two_towns, 2), 462 + 518);
	assert_int_equal(select_all(f, all_towns, 2), 2350);
}

static void test_endpoint_groups(void **state)
{
	struct fixture *f = *state;
	struct in_addr g[ZONES_MAX_GROUPS];
	long ep = zones_find_endpoint(f->z, 440608101206001);

	assert_int_equal(zones_endpoint_groups(f->z, (uint32_t)ep, f->base, g), 3);
	assert_addr(g[0], "239.192.0.1");
	assert_addr(g[1], "239.192.202.0");	/* 101 * 512 = 51712 = 202 * 256 */
	assert_addr(g[2], "239.192.202.206");

	ep = zones_find_endpoint(f->z, 440608001224001);
	zones_endpoint_groups(f->z, (uint32_t)ep, f->base, g);
	assert_addr(g[1], "239.192.2.0");	/* 1 * 512 */
	assert_addr(g[2], "239.192.2.224");

	ep = zones_find_endpoint(f->z, 440608103222001);
	zones_endpoint_groups(f->z, (uint32_t)ep, f->base, g);
	assert_addr(g[1], "239.192.206.0");	/* 103 * 512 = 52736 = 206 * 256 */
	assert_addr(g[2], "239.192.206.222");
}

/* Resolves targets, then checks the groups against the expected addresses in order. */
static void check_groups(struct fixture *f, const char *const *targets, size_t n,
			 const char *const *want, size_t n_want)
{
	struct in_addr g[96];
	size_t got;

	select_all(f, targets, n);
	got = zones_groups(f->z, &f->sel, f->base, g, 96);
	assert_int_equal(got, n_want);
	for (size_t i = 0; i < n_want; i++)
		assert_addr(g[i], want[i]);
}

static void test_groups_district(void **state)
{
	static const char *const by_towns[] = {"荷城街道", "杨和镇", "明城镇", "更合镇"};
	static const char *const want[] = {"239.192.0.1"};

	check_groups(*state, by_towns, 4, want, 1);
}

static void test_groups_two_towns(void **state)
{
	static const char *const t[] = {"明城镇", "杨和镇"};
	static const char *const want[] = {"239.192.202.0", "239.192.204.0"};

	check_groups(*state, t, 2, want, 2);
}

static void test_groups_one_village(void **state)
{
	static const char *const t[] = {"更合镇/新圩村"};
	static const char *const want[] = {"239.192.206.205"};

	check_groups(*state, t, 1, want, 1);
}

static void test_groups_town_and_village(void **state)
{
	static const char *const t[] = {"440608102220", "杨和镇"};
	static const char *const want[] = {"239.192.202.0", "239.192.204.220"};

	check_groups(*state, t, 2, want, 2);
}

/* Singles use their village group once; singles inside a whole town add nothing. */
static void test_groups_singles(void **state)
{
	static const char *const t[] = {
		"440608001001003", "440608001001004", "440608001213001",
		"440608101", "440608101209007",
	};
	static const char *const want[] = {"239.192.2.1", "239.192.2.213", "239.192.202.0"};

	check_groups(*state, t, 5, want, 3);
}

/* Every village of a town, named one by one, still makes the town group. */
static void test_groups_town_from_villages(void **state)
{
	struct fixture *f = *state;
	const struct zones_town *t = &f->z->towns[1];
	struct in_addr g[4];

	for (uint32_t v = t->first_village; v < t->first_village + t->n_villages; v++) {
		char code[16];

		snprintf(code, sizeof(code), "%llu", (unsigned long long)f->z->villages[v].code);
		count_of(f, code);
	}
	assert_int_equal(zones_groups(f->z, &f->sel, f->base, g, 4), 1);
	assert_addr(g[0], "239.192.202.0");
}

/* Asked for fewer than needed, it writes what fits and says how many it needs. */
static void test_groups_truncated(void **state)
{
	static const char *const t[] = {"杨和镇/新圩村", "明城镇/光明村", "更合镇/新圩村"};
	struct fixture *f = *state;
	struct in_addr g[2];

	select_all(f, t, 3);
	assert_int_equal(zones_groups(f->z, &f->sel, f->base, g, 2), 3);
	assert_addr(g[0], "239.192.202.206");
	assert_addr(g[1], "239.192.204.206");
	assert_int_equal(zones_groups(f->z, &f->sel, f->base, NULL, 0), 3);
}

static void test_groups_other_base(void **state)
{
	struct fixture *f = *state;
	struct in_addr g[1];

	inet_pton(AF_INET, "239.196.0.0", &f->base);
	assert_int_equal(count_of(f, "440608103"), 632);
	assert_int_equal(zones_groups(f->z, &f->sel, f->base, g, 1), 1);
	assert_addr(g[0], "239.196.206.0");
}

static void test_strerror(void **state)
{
	for (int r = ZONES_OK; r <= ZONES_ERR_RANGE; r++)
		assert_true(strlen(zones_strerror((enum zones_result)r)) > 0);
}

/* A malformed directory and what loading it must say. */
struct bad_file {
	const char *body;
	enum zones_result want;
	const char *line;	/* "line N" expected in the message */
	const char *field;	/* field expected in the message */
};

static const struct bad_file bad_files[] = {
	{"endpoint,district\n" ROW_A, ZONES_ERR_FORMAT, "line 1,", "header"},
	{HEADER ROW_A "440608101206002,440608,高明区\n", ZONES_ERR_FORMAT, "line 3,", "town_code"},
	{HEADER ROW_A ROW_B ROW_C ",,,,,,,,\n", ZONES_ERR_FORMAT, "line 5,", "after site"},
	{HEADER "44060810120601,440608,高明区,440608101,杨和镇,440608101206,新圩村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 2,", "endpoint_id"},
	{HEADER ROW_A "440608101206002,440608,高明区,44060810x,杨和镇,440608101206,新圩村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 3,", "town_code"},
	{HEADER ROW_A "440608101207001,440608,高明区,440608101,杨和镇,440608101206,新圩村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 3,", "endpoint_id"},
	{HEADER "440608102206001,440608,高明区,440608101,杨和镇,440608102206,光明村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 2,", "village_code"},
	{HEADER ROW_A ROW_C ROW_B ROW_A, ZONES_ERR_FORMAT, "line 5,", "endpoint_id"},
	{HEADER ROW_A
	 "440608101206002,440608,高明区,440608101,杨和镇,440608101206,新\xE5\x9C,祠堂\n",
	 ZONES_ERR_FORMAT, "line 3,", "village_name"},
	{HEADER "440608101206002,440608,高明区,440608101,\xC0\xAF,440608101206,新圩村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 2,", "town_name"},
	{HEADER ROW_A "440608600201001,440608,高明区,440608600,某镇,440608600201,某村,祠堂\n",
	 ZONES_ERR_RANGE, "line 3,", "440608600"},
	{HEADER "440608101000001,440608,高明区,440608101,杨和镇,440608101000,某村,祠堂\n",
	 ZONES_ERR_RANGE, "line 2,", "440608101000"},
	{HEADER ROW_A "440609101206001,440609,南海区,440609101,杨和镇,440609101206,新圩村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 3,", "district_code"},
	{HEADER ROW_A "440608101206002,440608,高明区,440608101,杨和镇,440608101206,新墟村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 3,", "village_name"},
	{HEADER ROW_A "440608101207001,440608,高明区,440608101,杨和镇,440608101207,新圩村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 3,", "village_name"},
	{HEADER ROW_A "440608101206002,440608,高明区,440608101,杨和镇,440608101206,,祠堂\n",
	 ZONES_ERR_FORMAT, "line 3,", "village_name"},
	{HEADER "440608101206002,440608,高明区,440608101,杨和镇,440608101206,新圩村,"
		"一二三四五六七八九十一二三四五六七八九十一二\n",
	 ZONES_ERR_FORMAT, "line 2,", "site"},
	{HEADER "440608101206002,440608,高明区,440608101,杨和/镇,440608101206,新圩村,祠堂\n",
	 ZONES_ERR_FORMAT, "line 2,", "town_name"},
	{HEADER ROW_A "\n" ROW_B, ZONES_ERR_FORMAT, "line 3,", "line"},
	{HEADER, ZONES_ERR_FORMAT, "line 2,", "endpoint_id"},
	{"", ZONES_ERR_FORMAT, "line 1,", "header"},
};

static char tmpdir[] = "/tmp/unit_zones.XXXXXX";

static int make_tmpdir(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	return rmdir(tmpdir);
}

static void write_file(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(body, 1, strlen(body), f), strlen(body));
	assert_int_equal(fclose(f), 0);
}

static void test_load_errors(void **state)
{
	char path[64], err[ERR_MAX];

	snprintf(path, sizeof(path), "%s/bad.csv", tmpdir);
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		static struct zones sentinel;
		struct zones *z = &sentinel;
		enum zones_result r;

		write_file(path, bad_files[i].body);
		r = zones_load(&z, path, err, sizeof(err));
		if (r != bad_files[i].want || !strstr(err, bad_files[i].line) ||
		    !strstr(err, bad_files[i].field) || !strstr(err, path))
			fail_msg("case %zu: got %s, '%s'", i, zones_strerror(r), err);
		assert_null(z);
	}
	unlink(path);
}

static void test_load_missing(void **state)
{
	struct zones *z;
	char err[ERR_MAX];

	assert_int_equal(zones_load(&z, "etc/no-such-file.csv", err, sizeof(err)), ZONES_ERR_IO);
	assert_null(z);
	assert_non_null(strstr(err, "etc/no-such-file.csv"));
}

/* A byte order mark, CRLF ends, lines out of order and a blank line at the end are all fine. */
static void test_load_tolerant(void **state)
{
	static const char body[] =
		"\xEF\xBB\xBF" "endpoint_id,district_code,district_name,town_code,town_name,"
		"village_code,village_name,site\r\n"
		"440608101206002,440608,高明区,440608101,杨和镇,440608101206,新圩村,祠堂\r\n"
		"440608001001001,440608,高明区,440608001,荷城街道,440608001001,沧江社区,村委会\r\n"
		"440608101206001,440608,高明区,440608101,杨和镇,440608101206,新圩村,村委会\r\n"
		"\r\n";
	char path[64], err[ERR_MAX];
	struct zones *z;

	snprintf(path, sizeof(path), "%s/good.csv", tmpdir);
	write_file(path, body);
	assert_int_equal(zones_load(&z, path, err, sizeof(err)), ZONES_OK);
	unlink(path);

	assert_int_equal(z->n_towns, 2);
	assert_int_equal(z->n_villages, 2);
	assert_int_equal(z->n_endpoints, 3);
	assert_int_equal(z->endpoints[0].id, 440608001001001);
	assert_int_equal(z->endpoints[2].id, 440608101206002);
	assert_string_equal(z->endpoints[2].site, "祠堂");
	assert_int_equal(z->villages[1].n_endpoints, 2);
	zones_free(z);
}

int main(void)
{
	const struct CMUnitTest directory_tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_sorted_and_linked),
		cmocka_unit_test(test_find_endpoint),
		cmocka_unit_test(test_strerror),
#define FIXTURE_TEST(t) cmocka_unit_test_setup_teardown(t, fixture_setup, fixture_teardown)
		FIXTURE_TEST(test_resolve_codes),
		FIXTURE_TEST(test_resolve_names),
		FIXTURE_TEST(test_resolve_trim_and_fullwidth),
		FIXTURE_TEST(test_resolve_ambiguous),
		FIXTURE_TEST(test_resolve_unknown),
		FIXTURE_TEST(test_selection_singles),
		FIXTURE_TEST(test_selection_counts),
		FIXTURE_TEST(test_endpoint_groups),
		FIXTURE_TEST(test_groups_district),
		FIXTURE_TEST(test_groups_two_towns),
		FIXTURE_TEST(test_groups_one_village),
		FIXTURE_TEST(test_groups_town_and_village),
		FIXTURE_TEST(test_groups_singles),
		FIXTURE_TEST(test_groups_town_from_villages),
		FIXTURE_TEST(test_groups_truncated),
		FIXTURE_TEST(test_groups_other_base),
#undef FIXTURE_TEST
	};
	const struct CMUnitTest loader_tests[] = {
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_tolerant),
	};
	int failed;

	failed = cmocka_run_group_tests_name("directory", directory_tests, load_directory,
					     free_directory);
	failed += cmocka_run_group_tests_name("loader", loader_tests, make_tmpdir,
					      remove_tmpdir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
