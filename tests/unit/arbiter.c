/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/arbiter.c: every row of the table in docs/arbitration.md, first as the
 * decisions (priority, preempt or queue, fate of the preempted), then as plans over villages:
 * two towns of three villages each, A (0..2) and B (3..5). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "headend/arbiter.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define VILLAGES 6
#define NOW 1000

static const unsigned char TOWN_A[VILLAGES] = { 1, 1, 1, 0, 0, 0 };
static const unsigned char TOWN_B[VILLAGES] = { 0, 0, 0, 1, 1, 1 };
static const unsigned char DISTRICT[VILLAGES] = { 1, 1, 1, 1, 1, 1 };
static const unsigned char NONE[VILLAGES] = { 0 };

static const struct arbiter_item FORECAST = { PROTO_KIND_FORECAST, PROTO_COLOUR_NONE, 0,
						 PROTO_COLOUR_NONE };
static const struct arbiter_item NOWCAST = { PROTO_KIND_NOWCAST, PROTO_COLOUR_NONE, 0,
						 PROTO_COLOUR_NONE };
static const struct arbiter_item HAIL_ORANGE = { PROTO_KIND_WARNING, PROTO_COLOUR_ORANGE, 9,
						 PROTO_COLOUR_NONE };
static const struct arbiter_item HAIL_RED = { PROTO_KIND_WARNING, PROTO_COLOUR_RED, 9,
						 PROTO_COLOUR_NONE };
static const struct arbiter_item RAIN_ORANGE = { PROTO_KIND_WARNING, PROTO_COLOUR_ORANGE, 2,
						 PROTO_COLOUR_NONE };
static const struct arbiter_item RAIN_RED = { PROTO_KIND_WARNING, PROTO_COLOUR_RED, 2,
						 PROTO_COLOUR_NONE };
static const struct arbiter_item COLD_YELLOW = { PROTO_KIND_WARNING, PROTO_COLOUR_YELLOW, 4,
						 PROTO_COLOUR_NONE };
static const struct arbiter_item TYPHOON_WHITE = { PROTO_KIND_WARNING, PROTO_COLOUR_WHITE, 1,
						 PROTO_COLOUR_NONE };
/* Live announcements: by default above yellow warnings and below orange ones (live.outranks). */
static const struct arbiter_item LIVE = { PROTO_KIND_LIVE, PROTO_COLOUR_NONE, 0,
					  PROTO_COLOUR_YELLOW };
static const struct arbiter_item LIVE_LOW = { PROTO_KIND_LIVE, PROTO_COLOUR_NONE, 0,
					      PROTO_COLOUR_NONE };
static const struct arbiter_item LIVE_TOP = { PROTO_KIND_LIVE, PROTO_COLOUR_NONE, 0,
					      PROTO_COLOUR_RED };

struct plan_result {
	struct arbiter_action a[64];
	size_t n;
};

static struct arbiter_entry entry(struct arbiter_item it, const unsigned char *villages,
				  int on_air)
{
	return (struct arbiter_entry){ it, villages, on_air, 0, 1, 0 };
}

static void plan(const struct arbiter_entry *e, size_t n, time_t now, struct plan_result *r)
{
	long owner[VILLAGES], claim[VILLAGES];

	r->n = arbiter_plan(e, n, VILLAGES, now, owner, claim, r->a, N(r->a));
	assert_true(r->n <= N(r->a));
}

/* The plan has exactly these actions, in this order. */
static void expect(const struct plan_result *r, const struct arbiter_action *want, size_t n)
{
	if (r->n != n)
		fail_msg("%zu actions, expected %zu", r->n, n);
	for (size_t i = 0; i < n; i++)
		if (r->a[i].step != want[i].step || r->a[i].entry != want[i].entry ||
		    r->a[i].other != want[i].other)
			fail_msg("action %zu: step %d entry %zu other %ld, expected %d %zu %ld", i,
				 r->a[i].step, r->a[i].entry, r->a[i].other, want[i].step,
				 want[i].entry, want[i].other);
}

/* The table as decisions */

static void test_priorities(void **state)
{
	assert_int_equal(arbiter_priority(&FORECAST), 0);
	assert_int_equal(arbiter_priority(&NOWCAST), 0);
	assert_true(arbiter_priority(&TYPHOON_WHITE) > arbiter_priority(&NOWCAST));
	assert_true(arbiter_priority(&COLD_YELLOW) > arbiter_priority(&TYPHOON_WHITE));
	assert_true(arbiter_priority(&HAIL_ORANGE) > arbiter_priority(&COLD_YELLOW));
	assert_true(arbiter_priority(&HAIL_RED) > arbiter_priority(&HAIL_ORANGE));
	assert_int_equal(arbiter_priority(&HAIL_ORANGE), arbiter_priority(&RAIN_ORANGE));
	assert_true(arbiter_priority(&HAIL_RED) < ARBITER_PRIORITIES);
	assert_true(arbiter_priority(&LIVE) > arbiter_priority(&COLD_YELLOW));
	assert_true(arbiter_priority(&LIVE) < arbiter_priority(&HAIL_ORANGE));
	assert_true(arbiter_priority(&LIVE_LOW) > arbiter_priority(&FORECAST));
	assert_true(arbiter_priority(&LIVE_LOW) < arbiter_priority(&TYPHOON_WHITE));
	assert_true(arbiter_priority(&LIVE_TOP) > arbiter_priority(&HAIL_RED));
	assert_true(arbiter_priority(&LIVE_TOP) < ARBITER_PRIORITIES);
}

static void test_decide_rows(void **state)
{
	static const struct {
		const struct arbiter_item *on_air, *arriving;
		enum arbiter_verdict verdict;
	} rows[] = {
		{ &FORECAST, &NOWCAST, ARBITER_QUEUE },		/* equal: in order */
		{ &NOWCAST, &FORECAST, ARBITER_QUEUE },
		{ &FORECAST, &TYPHOON_WHITE, ARBITER_PREEMPT },	/* any warning over forecasts */
		{ &NOWCAST, &HAIL_RED, ARBITER_PREEMPT },
		{ &COLD_YELLOW, &HAIL_ORANGE, ARBITER_PREEMPT },	/* higher colour */
		{ &HAIL_ORANGE, &HAIL_RED, ARBITER_PREEMPT },
		{ &HAIL_ORANGE, &RAIN_ORANGE, ARBITER_QUEUE },	/* equal colour */
		{ &HAIL_RED, &COLD_YELLOW, ARBITER_QUEUE },	/* lower colour */
		{ &HAIL_ORANGE, &FORECAST, ARBITER_QUEUE },	/* forecasts wait for warnings */
		/* live (default live.outranks = "yellow"): rows 12 and 13 */
		{ &FORECAST, &LIVE, ARBITER_PREEMPT },
		{ &TYPHOON_WHITE, &LIVE, ARBITER_PREEMPT },
		{ &COLD_YELLOW, &LIVE, ARBITER_PREEMPT },
		{ &HAIL_ORANGE, &LIVE, ARBITER_QUEUE },
		{ &HAIL_RED, &LIVE, ARBITER_QUEUE },
		{ &LIVE, &HAIL_ORANGE, ARBITER_PREEMPT },
		{ &LIVE, &RAIN_RED, ARBITER_PREEMPT },
		{ &LIVE, &COLD_YELLOW, ARBITER_QUEUE },
		{ &LIVE, &TYPHOON_WHITE, ARBITER_QUEUE },
		{ &LIVE, &FORECAST, ARBITER_QUEUE },
		{ &LIVE, &LIVE, ARBITER_QUEUE },
		/* live.outranks = "none" and "red" */
		{ &FORECAST, &LIVE_LOW, ARBITER_PREEMPT },
		{ &TYPHOON_WHITE, &LIVE_LOW, ARBITER_QUEUE },
		{ &LIVE_LOW, &TYPHOON_WHITE, ARBITER_PREEMPT },
		{ &HAIL_RED, &LIVE_TOP, ARBITER_PREEMPT },
		{ &LIVE_TOP, &HAIL_RED, ARBITER_QUEUE },
	};

	for (size_t i = 0; i < N(rows); i++)
		if (arbiter_decide(rows[i].on_air, rows[i].arriving) != rows[i].verdict)
			fail_msg("row %zu", i);
}

static void test_fate_rows(void **state)
{
	static const struct {
		enum config_preempted policy;
		const struct arbiter_item *preempted, *by;
		enum arbiter_fate fate;
	} rows[] = {
		{ CONFIG_RESUME, &FORECAST, &HAIL_ORANGE, ARBITER_RESUME },
		{ CONFIG_RESTART, &NOWCAST, &HAIL_ORANGE, ARBITER_RESTART },
		{ CONFIG_DROP, &FORECAST, &TYPHOON_WHITE, ARBITER_DROP },
		/* a warning superseded by its own signal at a higher colour is not repeated */
		{ CONFIG_RESUME, &HAIL_ORANGE, &HAIL_RED, ARBITER_DROP },
		/* another signal's warning plays whole again afterwards, whatever the policy */
		{ CONFIG_RESUME, &HAIL_ORANGE, &RAIN_RED, ARBITER_RESTART },
		{ CONFIG_DROP, &COLD_YELLOW, &RAIN_RED, ARBITER_RESTART },
		/* a live announcement rejoins, whatever the policy: it never replays old speech */
		{ CONFIG_RESUME, &LIVE, &HAIL_ORANGE, ARBITER_REJOIN },
		{ CONFIG_RESTART, &LIVE, &RAIN_RED, ARBITER_REJOIN },
		{ CONFIG_DROP, &LIVE, &HAIL_RED, ARBITER_REJOIN },
		/* what a live announcement preempts: forecasts by policy, warnings played again */
		{ CONFIG_RESUME, &FORECAST, &LIVE, ARBITER_RESUME },
		{ CONFIG_DROP, &NOWCAST, &LIVE, ARBITER_DROP },
		{ CONFIG_RESUME, &COLD_YELLOW, &LIVE, ARBITER_RESTART },
	};

	for (size_t i = 0; i < N(rows); i++)
		if (arbiter_fate(rows[i].policy, rows[i].preempted, rows[i].by) != rows[i].fate)
			fail_msg("row %zu", i);
	assert_string_equal(arbiter_fate_name(ARBITER_RESUME), "resume");
	assert_string_equal(arbiter_fate_name(ARBITER_DROP), "drop");
	assert_string_equal(arbiter_fate_name(ARBITER_REJOIN), "rejoin");
}

/* The table as plans over villages */

/* Row 1: nothing on air, anything starts. */
static void test_plan_free(void **state)
{
	struct arbiter_entry e[] = { entry(FORECAST, DISTRICT, 0) };
	struct arbiter_action want[] = { { ARBITER_START, 0, -1 } };
	struct plan_result r;

	plan(e, N(e), NOW, &r);
	expect(&r, want, N(want));
}

/* Row 2: a warning preempts a forecast in the villages they share only. */
static void test_plan_warning_over_forecast(void **state)
{
	struct arbiter_entry e[] = { entry(FORECAST, DISTRICT, 1), entry(HAIL_ORANGE, TOWN_A, 0) };
	struct arbiter_action want[] = { { ARBITER_PREEMPTS, 0, 1 }, { ARBITER_START, 1, -1 } };
	struct plan_result r;

	plan(e, N(e), NOW, &r);
	expect(&r, want, N(want));

	/* Once the engine has taken A from it, the forecast is alone in B: another forecast
	 * for B waits for it, one for A waits for the warning. */
	{
		struct arbiter_entry after[] = {
			entry(FORECAST, TOWN_B, 1), entry(HAIL_ORANGE, TOWN_A, 1),
			entry(NOWCAST, TOWN_B, 0), entry(NOWCAST, TOWN_A, 0),
		};
		struct arbiter_action want2[] = { { ARBITER_WAIT, 2, 0 }, { ARBITER_WAIT, 3, 1 } };

		plan(after, N(after), NOW, &r);
		expect(&r, want2, N(want2));
	}
}

/* Row 3: a higher colour preempts a lower one; a lower or equal one waits. */
static void test_plan_colours(void **state)
{
	struct arbiter_entry up[] = { entry(COLD_YELLOW, TOWN_A, 1),
				      entry(RAIN_RED, DISTRICT, 0) };
	struct arbiter_action want_up[] = { { ARBITER_PREEMPTS, 0, 1 }, { ARBITER_START, 1, -1 } };
	struct arbiter_entry down[] = { entry(HAIL_RED, TOWN_A, 1),
					entry(COLD_YELLOW, TOWN_A, 0) };
	struct arbiter_action want_down[] = { { ARBITER_WAIT, 1, 0 } };
	struct arbiter_entry same[] = { entry(HAIL_ORANGE, TOWN_A, 1),
					entry(RAIN_ORANGE, DISTRICT, 0) };
	struct arbiter_action want_same[] = { { ARBITER_WAIT, 1, 0 } };
	struct plan_result r;

	plan(up, N(up), NOW, &r);
	expect(&r, want_up, N(want_up));
	plan(down, N(down), NOW, &r);
	expect(&r, want_down, N(want_down));
	plan(same, N(same), NOW, &r);
	expect(&r, want_same, N(want_same));
}

/* Row 4: equal priorities queue in order of acceptance; a later one never overtakes an
 * earlier one waiting for the same villages, even where its own villages are free. */
static void test_plan_equal_in_order(void **state)
{
	struct arbiter_entry e[] = {
		entry(FORECAST, TOWN_A, 1), entry(NOWCAST, DISTRICT, 0), entry(NOWCAST, TOWN_B, 0),
	};
	struct arbiter_action want[] = { { ARBITER_WAIT, 1, 0 }, { ARBITER_WAIT, 2, -1 } };
	struct arbiter_entry freed[] = { entry(NOWCAST, DISTRICT, 0), entry(NOWCAST, TOWN_B, 0) };
	struct arbiter_action want_freed[] = { { ARBITER_START, 0, -1 }, { ARBITER_WAIT, 1, 0 } };
	struct plan_result r;

	plan(e, N(e), NOW, &r);
	expect(&r, want, N(want));
	plan(freed, N(freed), NOW, &r);
	expect(&r, want_freed, N(want_freed));
}

/* Row 5: a waiting warning goes before forecasts accepted earlier, and keeps lower ones off
 * its villages while it waits. */
static void test_plan_priority_jumps_queue(void **state)
{
	struct arbiter_entry e[] = {
		entry(HAIL_RED, TOWN_A, 1), entry(FORECAST, TOWN_A, 0),
		entry(HAIL_ORANGE, DISTRICT, 0), entry(NOWCAST, TOWN_B, 0),
	};
	struct arbiter_action want[] = {
		{ ARBITER_WAIT, 2, 0 }, { ARBITER_WAIT, 1, 0 }, { ARBITER_WAIT, 3, -1 },
	};
	struct arbiter_entry freed[] = {
		entry(FORECAST, TOWN_A, 0), entry(HAIL_ORANGE, DISTRICT, 0),
		entry(NOWCAST, TOWN_B, 0),
	};
	struct arbiter_action want_freed[] = {
		{ ARBITER_START, 1, -1 }, { ARBITER_WAIT, 0, 1 }, { ARBITER_WAIT, 2, 1 },
	};
	struct plan_result r;

	plan(e, N(e), NOW, &r);
	expect(&r, want, N(want));
	plan(freed, N(freed), NOW, &r);
	expect(&r, want_freed, N(want_freed));
}

/* Row 6: a forecast or a slot waits for a warning on air, and past its expiry it is dropped;
 * free villages start it even at its expiry. */
static void test_plan_slot_waits_then_drops(void **state)
{
	struct arbiter_entry e[] = { entry(HAIL_ORANGE, TOWN_A, 1), entry(FORECAST, DISTRICT, 0) };
	struct arbiter_action wait[] = { { ARBITER_WAIT, 1, 0 } };
	struct arbiter_action drop[] = { { ARBITER_EXPIRE, 1, -1 } };
	struct arbiter_entry free_now[] = { entry(FORECAST, DISTRICT, 0) };
	struct arbiter_action start[] = { { ARBITER_START, 0, -1 } };
	struct plan_result r;

	e[1].expires = NOW + 600;
	plan(e, N(e), NOW + 599, &r);
	expect(&r, wait, N(wait));
	plan(e, N(e), NOW + 600, &r);
	expect(&r, drop, N(drop));
	free_now[0].expires = NOW;
	plan(free_now, N(free_now), NOW + 5, &r);
	expect(&r, start, N(start));
}

/* Row 7: one broadcast preempted by a district-wide warning loses everything, once. */
static void test_plan_several_preempted(void **state)
{
	struct arbiter_entry e[] = {
		entry(FORECAST, TOWN_A, 1), entry(NOWCAST, TOWN_B, 1),
		entry(RAIN_RED, DISTRICT, 0),
	};
	struct arbiter_action want[] = {
		{ ARBITER_PREEMPTS, 0, 2 }, { ARBITER_PREEMPTS, 1, 2 }, { ARBITER_START, 2, -1 },
	};
	struct plan_result r;

	plan(e, N(e), NOW, &r);
	expect(&r, want, N(want));
}

/* Row 8: a broadcast already sending its END is let finish; the warning waits a tick. */
static void test_plan_ending_not_preempted(void **state)
{
	struct arbiter_entry e[] = { entry(FORECAST, TOWN_A, 1), entry(HAIL_RED, TOWN_A, 0) };
	struct arbiter_action want[] = { { ARBITER_WAIT, 1, 0 } };
	struct plan_result r;

	e[0].ending = 1;
	plan(e, N(e), NOW, &r);
	expect(&r, want, N(want));
}

/* Row 9: a part of a preempted bulletin without its broadcast id yet holds its place. */
static void test_plan_not_ready_holds_place(void **state)
{
	struct arbiter_entry e[] = { entry(FORECAST, TOWN_A, 0), entry(NOWCAST, TOWN_A, 0) };
	struct arbiter_action want[] = { { ARBITER_WAIT, 0, -1 }, { ARBITER_WAIT, 1, -1 } };
	struct plan_result r;

	e[0].ready = 0;
	plan(e, N(e), NOW, &r);
	expect(&r, want, N(want));
}

/* Entries without villages (a bulletin preempted everywhere) are no one's obstacle. */
static void test_plan_empty_entry(void **state)
{
	struct arbiter_entry e[] = { entry(FORECAST, NONE, 1), entry(NOWCAST, TOWN_A, 0) };
	struct arbiter_action want[] = { { ARBITER_START, 1, -1 } };
	struct plan_result r;

	plan(e, N(e), NOW, &r);
	expect(&r, want, N(want));
}

/* Row 12: a live announcement takes a forecast's and a yellow warning's villages, and waits
 * for an orange one; row 13: an orange warning preempts it where they share villages only. */
static void test_plan_live(void **state)
{
	struct arbiter_entry over[] = { entry(FORECAST, TOWN_A, 1), entry(COLD_YELLOW, TOWN_B, 1),
					entry(LIVE, DISTRICT, 0) };
	struct arbiter_action want_over[] = {
		{ ARBITER_PREEMPTS, 0, 2 }, { ARBITER_PREEMPTS, 1, 2 }, { ARBITER_START, 2, -1 },
	};
	struct arbiter_entry blocked[] = { entry(HAIL_ORANGE, TOWN_A, 1),
					   entry(LIVE, DISTRICT, 0) };
	struct arbiter_action want_blocked[] = { { ARBITER_WAIT, 1, 0 } };
	struct arbiter_entry cut[] = { entry(LIVE, DISTRICT, 1), entry(HAIL_RED, TOWN_A, 0) };
	struct arbiter_action want_cut[] = {
		{ ARBITER_PREEMPTS, 0, 1 }, { ARBITER_START, 1, -1 },
	};
	/* after the cut: live plays on in B, its part for A waits for the warning, and a
	 * forecast for B waits for live */
	struct arbiter_entry after[] = { entry(LIVE, TOWN_B, 1), entry(HAIL_RED, TOWN_A, 1),
					 entry(LIVE, TOWN_A, 0), entry(FORECAST, TOWN_B, 0) };
	struct arbiter_action want_after[] = { { ARBITER_WAIT, 2, 1 }, { ARBITER_WAIT, 3, 0 } };
	struct plan_result r;

	plan(over, N(over), NOW, &r);
	expect(&r, want_over, N(want_over));
	plan(blocked, N(blocked), NOW, &r);
	expect(&r, want_blocked, N(want_blocked));
	plan(cut, N(cut), NOW, &r);
	expect(&r, want_cut, N(want_cut));
	plan(after, N(after), NOW, &r);
	expect(&r, want_after, N(want_after));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_decide_rows),
		cmocka_unit_test(test_fate_rows),
		cmocka_unit_test(test_plan_free),
		cmocka_unit_test(test_plan_warning_over_forecast),
		cmocka_unit_test(test_plan_colours),
		cmocka_unit_test(test_plan_equal_in_order),
		cmocka_unit_test(test_plan_priority_jumps_queue),
		cmocka_unit_test(test_plan_slot_waits_then_drops),
		cmocka_unit_test(test_plan_several_preempted),
		cmocka_unit_test(test_plan_ending_not_preempted),
		cmocka_unit_test(test_plan_not_ready_holds_place),
		cmocka_unit_test(test_plan_empty_entry),
		cmocka_unit_test(test_plan_live),
	};

	return cmocka_run_group_tests_name("arbiter", tests, NULL, NULL);
}
