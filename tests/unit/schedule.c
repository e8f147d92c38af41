/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of schedule/: the shipped etc/schedule.cfg, a whole simulated day driven the way
 * the head-end's timer drives it, with the process in UTC and in Asia/Shanghai, clock steps
 * backwards and forwards, the grace period, days of 23 and 25 hours, and refused files. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "schedule/schedule.h"

#include "scratch.h"

#define SHIPPED "etc/schedule.cfg"
#define ERR_MAX 512
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* 2026-12-05 00:00:00 in Asia/Shanghai is 2026-12-04 16:00:00 UTC. */
#define DAY_START 1796400000
#define HOUR 3600

static int make_tmpdir(void **state)
{
	(void)state;
	return scratch_open("schedule", "schedule.cfg");
}

/* The machine's zone must not matter: each test runs once per zone named here. */
static void machine_zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* A driven clock and what fired, as the head-end's timer loop sees it. */
struct run {
	const struct schedule *s;
	time_t done[SCHEDULE_MAX_SLOTS];
	int played[SCHEDULE_MAX_SLOTS], missed[SCHEDULE_MAX_SLOTS];
	time_t played_at[SCHEDULE_MAX_SLOTS];
};

/* First start: occurrences before now - grace are history, not missed slots. */
static void run_start(struct run *r, const struct schedule *s, time_t now)
{
	memset(r, 0, sizeof(*r));
	r->s = s;
	for (size_t i = 0; i < s->n_slots; i++)
		assert_int_equal(schedule_last(s, i, now - s->grace, &r->done[i]), SCHEDULE_OK);
}

/* One wake-up of the timer at now: every slot checked, as the daemon does. */
static void run_wake(struct run *r, time_t now)
{
	for (size_t i = 0; i < r->s->n_slots; i++) {
		enum schedule_verdict v;
		time_t occ;

		assert_int_equal(schedule_check(r->s, i, r->done[i], now, &v, &occ), SCHEDULE_OK);
		if (v == SCHEDULE_NOT_DUE)
			continue;
		r->done[i] = occ;
		if (v == SCHEDULE_PLAY) {
			r->played[i]++;
			r->played_at[i] = now;
		} else {
			r->missed[i]++;
		}
	}
}

/* Sleep to each next deadline and wake there, from..to, like a timerfd would. */
static void run_timer(struct run *r, time_t from, time_t to)
{
	time_t now = from;

	run_wake(r, now);
	while (now < to) {
		size_t i;
		time_t at;

		assert_int_equal(schedule_next(r->s, now, &i, &at), SCHEDULE_OK);
		assert_true(at > now);
		now = at < to ? at : to;
		run_wake(r, now);
	}
}

static void load_shipped(struct schedule *s)
{
	char err[ERR_MAX] = "";

	if (schedule_load(s, SHIPPED, err, sizeof(err)))
		fail_msg("%s", err);
}

static void test_shipped(void **state)
{
	static const char *const times[] = {
		"08:00", "09:00", "12:00", "16:00", "17:00", "18:00",
	};
	struct schedule s, def;

	load_shipped(&s);
	schedule_default(&def);
	assert_string_equal(s.zone, "Asia/Shanghai");
	assert_true(s.timer);
	assert_int_equal(s.n_slots, 6);
	for (size_t i = 0; i < N(times); i++) {
		assert_string_equal(s.slots[i].time, times[i]);
		assert_int_equal(s.slots[i].product, i < 4 ? SCHEDULE_NOWCAST : SCHEDULE_FORECAST);
		assert_int_equal(s.slots[i].n_targets, 0);
		assert_int_equal(s.slots[i].repeat, -1);
	}

	/* Every setting in the shipped file is the default. */
	assert_int_equal(memcmp(&s, &def, sizeof(s)), 0);
}

/* A whole day: the timer wakes exactly at each slot, each fires once, at its Beijing time. */
static void day_by_timer(const char *tz)
{
	struct schedule s;
	struct run r;

	machine_zone(tz);
	load_shipped(&s);
	run_start(&r, &s, DAY_START);
	run_timer(&r, DAY_START, DAY_START + 24 * HOUR - 1);
	for (size_t i = 0; i < s.n_slots; i++) {
		assert_int_equal(r.played[i], 1);
		assert_int_equal(r.missed[i], 0);
		assert_int_equal(r.played_at[i], DAY_START + s.slots[i].second);
	}
	assert_int_equal(r.played_at[0] % 86400, 0);	/* 08:00 Beijing is 00:00 UTC */
}

static void test_day_utc(void **state)
{
	day_by_timer("UTC");
}

static void test_day_shanghai(void **state)
{
	day_by_timer("Asia/Shanghai");
}

/* The same day polled every 7 s instead: still once each, never more than 7 s late. */
static void test_day_polled(void **state)
{
	const char *zones[] = { "UTC", "Asia/Shanghai", "America/New_York" };

	for (size_t z = 0; z < N(zones); z++) {
		struct schedule s;
		struct run r;

		machine_zone(zones[z]);
		load_shipped(&s);
		run_start(&r, &s, DAY_START);
		for (time_t t = DAY_START; t < DAY_START + 24 * HOUR; t += 7)
			run_wake(&r, t);
		for (size_t i = 0; i < s.n_slots; i++) {
			assert_int_equal(r.played[i], 1);
			assert_in_range(r.played_at[i] - (DAY_START + s.slots[i].second), 0, 6);
		}
	}
}

/* Clock stepped back an hour after 08:00 and 09:00 played: nothing plays twice. */
static void test_step_backwards(void **state)
{
	struct schedule s;
	struct run r;

	machine_zone("UTC");
	load_shipped(&s);
	run_start(&r, &s, DAY_START + 7 * HOUR);
	run_timer(&r, DAY_START + 7 * HOUR, DAY_START + 9 * HOUR + 30 * 60);
	assert_int_equal(r.played[0] + r.played[1], 2);
	run_timer(&r, DAY_START + 7 * HOUR + 55 * 60, DAY_START + 11 * HOUR);
	assert_int_equal(r.played[0], 1);
	assert_int_equal(r.played[1], 1);
	assert_int_equal(r.played[2], 0);

	/* A day back: yesterday's slots were dealt with long ago in this run's terms. */
	run_timer(&r, DAY_START - 12 * HOUR, DAY_START + 12 * HOUR + 1);
	assert_int_equal(r.played[0], 1);
	assert_int_equal(r.played[2], 1);
	for (size_t i = 0; i < s.n_slots; i++)
		assert_int_equal(r.missed[i], 0);
}

/* Clock stepped forwards: within grace the slot plays late; past it, it is missed and said so,
 * never both, never silently. */
static void test_step_forwards(void **state)
{
	struct schedule s;
	struct run r;

	machine_zone("Asia/Shanghai");
	load_shipped(&s);
	run_start(&r, &s, DAY_START + 7 * HOUR);
	run_wake(&r, DAY_START + 7 * HOUR + 50 * 60);
	run_wake(&r, DAY_START + 8 * HOUR + 5 * 60);	/* 07:50 -> 08:05 */
	assert_int_equal(r.played[0], 1);
	assert_int_equal(r.played_at[0], DAY_START + 8 * HOUR + 5 * 60);
	run_wake(&r, DAY_START + 12 * HOUR + 30 * 60);	/* 08:05 -> 12:30 */
	assert_int_equal(r.missed[1], 1);
	assert_int_equal(r.missed[2], 1);
	assert_int_equal(r.played[1] + r.played[2], 0);
	run_timer(&r, DAY_START + 12 * HOUR + 30 * 60, DAY_START + 24 * HOUR - 1);
	assert_int_equal(r.played[3] + r.played[4] + r.played[5], 3);
	assert_int_equal(r.missed[1] + r.missed[2], 2);
}

/* Exactly grace seconds late still plays; one more second is missed. */
static void test_grace(void **state)
{
	struct schedule s;
	enum schedule_verdict v;
	time_t occ, eight = DAY_START + 8 * HOUR;

	machine_zone("UTC");
	load_shipped(&s);
	assert_int_equal(schedule_check(&s, 0, eight - 86400, eight + s.grace, &v, &occ),
			 SCHEDULE_OK);
	assert_int_equal(v, SCHEDULE_PLAY);
	assert_int_equal(occ, eight);
	assert_int_equal(schedule_check(&s, 0, eight - 86400, eight + s.grace + 1, &v, &occ),
			 SCHEDULE_OK);
	assert_int_equal(v, SCHEDULE_MISSED);
	assert_int_equal(schedule_check(&s, 0, eight, eight + 5, &v, &occ), SCHEDULE_OK);
	assert_int_equal(v, SCHEDULE_NOT_DUE);

	/* Down for two days: one verdict, about the latest occurrence only. */
	assert_int_equal(schedule_check(&s, 0, eight - 86400, eight + 2 * 86400 + 60, &v, &occ),
			 SCHEDULE_OK);
	assert_int_equal(v, SCHEDULE_PLAY);
	assert_int_equal(occ, eight + 2 * 86400);

	/* A head-end that just started plays what fell within grace, not older history. */
	struct run r;

	run_start(&r, &s, eight + 300);
	run_wake(&r, eight + 300);
	assert_int_equal(r.played[0], 1);
	assert_int_equal(r.missed[4] + r.missed[5], 0);
}

/* Days of 23 and 25 hours in a zone with daylight saving: each slot once a day. */
static void test_dst_days(void **state)
{
	struct schedule s;
	struct run r;
	char err[ERR_MAX] = "";
	/* 2026-03-08 and 2026-11-01 are the changes in America/New_York. */
	time_t march = 1772946000, november = 1793505600;	/* local midnight, each */

	machine_zone("UTC");
	scratch_write("time_zone = \"America/New_York\";\n"
		  "slots = ( { time = \"01:30\"; product = \"nowcast\"; },\n"
		  "          { time = \"02:30\"; product = \"nowcast\"; },\n"
		  "          { time = \"17:00\"; product = \"forecast\"; } );\n");
	if (schedule_load(&s, scratch_file, err, sizeof(err)))
		fail_msg("%s", err);
	run_start(&r, &s, march);
	run_timer(&r, march, march + 23 * HOUR - 1);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(r.played[i], 1);
	run_start(&r, &s, november);
	run_timer(&r, november, november + 25 * HOUR - 1);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(r.played[i], 1);
}

static void test_next_and_format(void **state)
{
	struct schedule s;
	char buf[32];
	size_t i;
	time_t at;

	machine_zone("UTC");
	load_shipped(&s);
	assert_int_equal(schedule_next(&s, DAY_START + 17 * HOUR, &i, &at), SCHEDULE_OK);
	assert_int_equal(i, 5);
	assert_int_equal(at, DAY_START + 18 * HOUR);
	assert_int_equal(schedule_next(&s, DAY_START + 18 * HOUR, &i, &at), SCHEDULE_OK);
	assert_int_equal(i, 0);
	assert_int_equal(at, DAY_START + 86400 + 8 * HOUR);
	assert_string_equal(schedule_format(&s, DAY_START + 8 * HOUR, buf, sizeof(buf)),
			    "2026-12-05 08:00:00");
	assert_int_equal(schedule_find(&s, "17:00"), 4);
	assert_int_equal(schedule_find(&s, "17:00:00"), 4);
	assert_int_equal(schedule_find(&s, "17:01"), -1);
	assert_int_equal(schedule_find(&s, "7:00"), -1);
	assert_int_equal(schedule_product_lookup("forecast"), SCHEDULE_FORECAST);
	assert_int_equal(schedule_product_lookup("warning"), -1);
}

static void test_custom(void **state)
{
	struct schedule s;
	char err[ERR_MAX] = "";

	scratch_write("timer = false; grace = 0; wait = 30; time_zone = \"UTC\";\n"
		  "products: { nowcast: { url = \"file:///tmp/now.txt\"; max_age = 60; }; };\n"
		  "slots = ( { time = \"18:00:30\"; product = \"forecast\"; repeat = 2;\n"
		  "            targets = [ \"杨和镇\", \"440608102\" ]; },\n"
		  "          { time = \"06:15\"; product = \"nowcast\"; } );\n");
	if (schedule_load(&s, scratch_file, err, sizeof(err)))
		fail_msg("%s", err);
	assert_false(s.timer);
	assert_int_equal(s.grace, 0);
	assert_int_equal(s.n_slots, 2);
	assert_string_equal(s.slots[0].time, "06:15");
	assert_int_equal(s.slots[1].second, 18 * 3600 + 30);
	assert_int_equal(s.slots[1].repeat, 2);
	assert_int_equal(s.slots[1].n_targets, 2);
	assert_string_equal(s.slots[1].targets[0], "杨和镇");
	assert_string_equal(s.products[SCHEDULE_NOWCAST].url, "file:///tmp/now.txt");
	assert_int_equal(s.products[SCHEDULE_FORECAST].max_age, 21600);
}

static void test_refused(void **state)
{
	static const struct {
		const char *text;
		enum schedule_result rc;
		const char *message;
	} rows[] = {
		{ "time_zone = \"Mars/Olympus\";\n", SCHEDULE_ERR_ZONE,
		  "1: time_zone: \"Mars/Olympus\" is not a known time zone" },
		{ "timezone = \"UTC\";\n", SCHEDULE_ERR_FORMAT, "1: unknown setting timezone" },
		{ "grace = -1;\n", SCHEDULE_ERR_FORMAT, "1: grace: -1 is outside 0..86400" },
		{ "timer = 1;\n", SCHEDULE_ERR_FORMAT, "timer must be true or false" },
		{ "slots = ( { time = \"24:00\"; product = \"nowcast\"; } );\n",
		  SCHEDULE_ERR_FORMAT, "slot time must be \"HH:MM\"" },
		{ "slots = ( { time = \"8:00\"; product = \"nowcast\"; } );\n",
		  SCHEDULE_ERR_FORMAT, "slot time must be \"HH:MM\"" },
		{ "slots = ( { time = \"08:00\"; product = \"warning\"; } );\n",
		  SCHEDULE_ERR_FORMAT, "slot 08:00: product must be" },
		{ "slots = ( { time = \"08:00\"; product = \"nowcast\"; },\n"
		  "          { time = \"08:00\"; product = \"forecast\"; } );\n",
		  SCHEDULE_ERR_FORMAT, "two slots at 08:00" },
		{ "slots = ( { time = \"08:00\"; product = \"nowcast\"; repeat = 11; } );\n",
		  SCHEDULE_ERR_FORMAT, "repeat: 11 is outside 0..10" },
		{ "slots = ( { time = \"08:00\"; product = \"nowcast\"; target = [\"x\"]; } );\n",
		  SCHEDULE_ERR_FORMAT, "unknown setting target" },
		{ "products: { nowcast: { url = \"ftp://x/y\"; }; };\n", SCHEDULE_ERR_FORMAT,
		  "url must start with http://, https:// or file://" },
		{ "products: { warning: { max_age = 60; }; };\n", SCHEDULE_ERR_FORMAT,
		  "unknown setting warning" },
		{ "grace = ;\n", SCHEDULE_ERR_FORMAT, "1: syntax error" },
	};

	for (size_t i = 0; i < N(rows); i++) {
		struct schedule s;
		char err[ERR_MAX] = "";
		enum schedule_result rc;

		scratch_write(rows[i].text);
		rc = schedule_load(&s, scratch_file, err, sizeof(err));
		if (rc != rows[i].rc || !strstr(err, rows[i].message))
			fail_msg("row %zu: %s: got %d \"%s\", expected %d \"%s\"", i, rows[i].text,
				 rc, err, rows[i].rc, rows[i].message);
	}
	{
		struct schedule s;
		char err[ERR_MAX] = "";

		assert_int_equal(schedule_load(&s, "/nonexistent/schedule.cfg", err, sizeof(err)),
				 SCHEDULE_ERR_IO);
		assert_non_null(strstr(err, "cannot read the file"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped),
		cmocka_unit_test(test_day_utc),
		cmocka_unit_test(test_day_shanghai),
		cmocka_unit_test(test_day_polled),
		cmocka_unit_test(test_step_backwards),
		cmocka_unit_test(test_step_forwards),
		cmocka_unit_test(test_grace),
		cmocka_unit_test(test_dst_days),
		cmocka_unit_test(test_next_and_format),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests_name("schedule", tests, make_tmpdir, scratch_close) ?
	       EXIT_FAILURE : EXIT_SUCCESS;
}
