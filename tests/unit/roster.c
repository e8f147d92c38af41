/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of headend/roster.c on the shipped directory, with times passed in: when an
 * endpoint goes offline and comes back, "off" staying off, a village's share crossing the
 * alarm threshold both ways (once each, and not while endpoints are still starting), played
 * counts per broadcast, and rejected reports leaving the table as it was. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "headend/roster.h"

#define WALL 1796400000000ull	/* the wall clock at monotonic time 0 */
#define PERIOD_S 30
#define MISSED 3
#define OFFLINE_MS (MISSED * PERIOD_S * 1000u)
#define START 1000u		/* the head-end starts at monotonic 1 s */
#define LANGJIN 440608101210ull	/* 杨和镇/朗锦村: 15 endpoints */
#define YANGHE 440608101ull	/* 杨和镇: 462 endpoints */
#define MINGCHENG_EP 440608102209001ull

static struct zones *z;
static struct roster r;

struct events {
	size_t n[4];			/* by kind */
	struct roster_event last[4];	/* the latest of each kind */
	size_t below_langjin, back_langjin;
};

static void collect(void *arg, const struct roster_event *ev)
{
	struct events *e = arg;

	e->n[ev->kind]++;
	e->last[ev->kind] = *ev;
	if (ev->kind != ROSTER_EVENT_ENDPOINT && z->villages[ev->index].code == LANGJIN) {
		e->below_langjin += ev->kind == ROSTER_EVENT_BELOW;
		e->back_langjin += ev->kind == ROSTER_EVENT_BACK;
	}
}

static struct events sweep(uint64_t now)
{
	struct events e;

	memset(&e, 0, sizeof(e));
	roster_sweep(&r, now, collect, &e);
	return e;
}

/* Every endpoint's key: a seed made of its index, so tests can sign for anyone. */
static void key_of(uint32_t i, unsigned char pk[PROTO_PUBLIC_KEY], unsigned char sk[64])
{
	unsigned char seed[PROTO_SEED] = { 0 };

	memcpy(seed, &i, sizeof(i));
	seed[31] = 0x5a;
	crypto_sign_seed_keypair(pk, sk, seed);
}

static uint32_t index_of(uint64_t id)
{
	long i = zones_find_endpoint(z, id);

	assert_true(i >= 0);
	return (uint32_t)i;
}

/* A report of endpoint i signed by signer's key, received at monotonic now. */
static enum proto_reject report_as(uint32_t i, uint32_t signer, enum proto_state state,
				   uint32_t broadcast, uint32_t last, uint32_t seq, uint64_t now)
{
	unsigned char pk[PROTO_PUBLIC_KEY], sk[64], buf[PROTO_REPORT_MAX];
	struct proto_report rp = {
		.state = state, .endpoint = z->endpoints[i].id, .boot = 7, .seq = seq,
		.sent_ms = WALL + now, .broadcast = broadcast, .last = last, .uptime_s = 60,
		.received = 100, .lost = 1, .rejected = 2,
	};
	size_t n;
	long index;

	key_of(signer, pk, sk);
	rp.key_id = proto_key_id(pk);
	snprintf(rp.version, sizeof(rp.version), "test");
	n = proto_report_pack(&rp, buf, sizeof(buf));
	assert_true(n > 0);
	proto_sign(buf, n, sk);
	return roster_receive(&r, buf, n, WALL + now, now, &index);
}

static enum proto_reject report(uint32_t i, enum proto_state state, uint32_t broadcast,
				uint32_t last, uint32_t seq, uint64_t now)
{
	return report_as(i, i, state, broadcast, last, seq, now);
}

static int setup(void **state)
{
	char err[256];

	(void)state;
	if (proto_crypto_init() || zones_load(&z, "etc/zones.csv", err, sizeof(err)) != ZONES_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	zones_free(z);
	return 0;
}

/* A fresh table with every endpoint keyed. */
static int fresh(void **state)
{
	unsigned char pk[PROTO_PUBLIC_KEY], sk[64];

	(void)state;
	if (roster_init(&r, z, PERIOD_S, MISSED, 0.8, 10000, START))
		return -1;
	for (uint32_t i = 0; i < z->n_endpoints; i++) {
		key_of(i, pk, sk);
		roster_set_key(&r, i, pk);
	}
	return 0;
}

static int drop(void **state)
{
	(void)state;
	roster_free(&r);
	return 0;
}

static void offline_timing(void **state)
{
	uint32_t i = index_of(440608101210001ull);
	struct events e;
	uint64_t t = START + 5000;

	(void)state;
	assert_int_equal(roster_state(&r, i, START), ROSTER_OFFLINE);	/* never heard */
	assert_int_equal(report(i, PROTO_STATE_NORMAL, 0, 0, 1, t), PROTO_ACCEPT);
	assert_int_equal(roster_state(&r, i, t), ROSTER_NORMAL);
	e = sweep(t);
	assert_int_equal(e.n[ROSTER_EVENT_ENDPOINT], 1);
	assert_int_equal(e.last[ROSTER_EVENT_ENDPOINT].to, ROSTER_NORMAL);
	assert_int_equal(e.last[ROSTER_EVENT_ENDPOINT].first, 1);

	/* missed × period without a report, to the millisecond */
	assert_int_equal(roster_state(&r, i, t + OFFLINE_MS), ROSTER_NORMAL);
	assert_int_equal(sweep(t + OFFLINE_MS).n[ROSTER_EVENT_ENDPOINT], 0);
	assert_int_equal(roster_state(&r, i, t + OFFLINE_MS + 1), ROSTER_OFFLINE);
	e = sweep(t + OFFLINE_MS + 1);
	assert_int_equal(e.n[ROSTER_EVENT_ENDPOINT], 1);
	assert_int_equal(e.last[ROSTER_EVENT_ENDPOINT].from, ROSTER_NORMAL);
	assert_int_equal(e.last[ROSTER_EVENT_ENDPOINT].to, ROSTER_OFFLINE);
	assert_int_equal(sweep(t + OFFLINE_MS + 500).n[ROSTER_EVENT_ENDPOINT], 0);

	/* back: not a first report any more */
	t += OFFLINE_MS + 1000;
	assert_int_equal(report(i, PROTO_STATE_NORMAL, 0, 0, 2, t), PROTO_ACCEPT);
	e = sweep(t);
	assert_int_equal(e.n[ROSTER_EVENT_ENDPOINT], 1);
	assert_int_equal(e.last[ROSTER_EVENT_ENDPOINT].from, ROSTER_OFFLINE);
	assert_int_equal(e.last[ROSTER_EVENT_ENDPOINT].to, ROSTER_NORMAL);
	assert_int_equal(e.last[ROSTER_EVENT_ENDPOINT].first, 0);

	/* switched off on purpose: "off" for good, not offline */
	assert_int_equal(report(i, PROTO_STATE_OFF, 0, 0, 3, t + 10), PROTO_ACCEPT);
	assert_int_equal(roster_state(&r, i, t + 10), ROSTER_OFF);
	assert_int_equal(roster_state(&r, i, t + 10 * OFFLINE_MS), ROSTER_OFF);
	assert_false(roster_able(ROSTER_OFF));
	assert_string_equal(roster_state_name(ROSTER_OFF), "off");
	assert_string_equal(roster_state_name(ROSTER_OFFLINE), "offline");
}

static void rejected_change_nothing(void **state)
{
	uint32_t i = index_of(440608101210001ull), other = index_of(440608101210002ull);
	uint64_t t = START + 5000;
	struct roster_endpoint before;
	unsigned char pk[PROTO_PUBLIC_KEY], sk[64];

	(void)state;
	assert_int_equal(report(i, PROTO_STATE_NORMAL, 0, 0, 5, t), PROTO_ACCEPT);
	before = r.ep[i];
	/* another endpoint's key under its own id, the same report again, an older one */
	assert_int_equal(report_as(i, other, PROTO_STATE_NORMAL, 0, 0, 6, t + 100),
			 PROTO_REJECT_KEY);
	assert_int_equal(report(i, PROTO_STATE_NORMAL, 0, 0, 5, t + 200), PROTO_REJECT_REPLAY);
	assert_int_equal(report(i, PROTO_STATE_NORMAL, 0, 0, 4, t + 300), PROTO_REJECT_REPLAY);
	assert_memory_equal(&r.ep[i], &before, sizeof(before));
	assert_int_equal(r.rejected[PROTO_REJECT_KEY], 1);
	assert_int_equal(r.rejected[PROTO_REJECT_REPLAY], 2);
	assert_int_equal(r.rejected[PROTO_REJECT_SIGNATURE], 0);

	/* a new key: reports signed with the old one are unknown, the order starts afresh */
	key_of(other, pk, sk);
	roster_set_key(&r, i, pk);
	assert_int_equal(report(i, PROTO_STATE_NORMAL, 0, 0, 6, t + 400), PROTO_REJECT_KEY);
	assert_int_equal(report_as(i, other, PROTO_STATE_NORMAL, 0, 0, 1, t + 500),
			 PROTO_ACCEPT);
	assert_int_equal(r.rejected[PROTO_REJECT_KEY], 2);
}

/* 12 of 朗锦村's 15 endpoints report: 80 %, at the threshold, not below it. */
static void village_crossing(void **state)
{
	uint32_t first = index_of(440608101210001ull);
	uint64_t t = START + 1000, quiet = START + OFFLINE_MS;
	uint32_t seq = 1;
	struct events e;
	size_t others = z->n_villages - 1;

	(void)state;
	for (uint32_t k = 0; k < 12; k++)
		assert_int_equal(report(first + k, PROTO_STATE_NORMAL, 0, 0, seq, t),
				 PROTO_ACCEPT);
	seq++;

	/* endpoints are still starting: no village alarms yet, even with none heard */
	e = sweep(t);
	assert_int_equal(e.n[ROSTER_EVENT_BELOW], 0);
	assert_int_equal(sweep(quiet - 1).n[ROSTER_EVENT_BELOW], 0);

	/* from then on, every other village (nothing heard there) once, 朗锦村 not */
	t = quiet - 100;
	for (uint32_t k = 0; k < 12; k++)
		assert_int_equal(report(first + k, PROTO_STATE_NORMAL, 0, 0, seq, t),
				 PROTO_ACCEPT);
	seq++;
	e = sweep(quiet);
	assert_int_equal(e.n[ROSTER_EVENT_BELOW], others);
	assert_int_equal(e.below_langjin, 0);
	assert_int_equal(roster_village_able(&r, z->endpoints[first].village, quiet), 12);
	assert_int_equal(sweep(quiet + 1).n[ROSTER_EVENT_BELOW], 0);

	/* one of the 12 falls silent: 11 of 15 is below 80 %, said once */
	t += OFFLINE_MS / 2;
	for (uint32_t k = 1; k < 12; k++)
		assert_int_equal(report(first + k, PROTO_STATE_NORMAL, 0, 0, seq, t),
				 PROTO_ACCEPT);
	seq++;
	e = sweep(quiet - 100 + OFFLINE_MS + 1);
	assert_int_equal(e.below_langjin, 1);
	assert_int_equal(e.n[ROSTER_EVENT_BELOW], 1);
	assert_int_equal(e.last[ROSTER_EVENT_BELOW].count, 11);
	assert_int_equal(e.last[ROSTER_EVENT_BELOW].of, 15);
	assert_int_equal(sweep(quiet + OFFLINE_MS).below_langjin, 0);

	/* a fault counts as unable too; then the silent one is back: at 80 % again, once */
	t = quiet + OFFLINE_MS;
	assert_int_equal(report(first, PROTO_STATE_NORMAL, 0, 0, seq, t), PROTO_ACCEPT);
	assert_int_equal(report(first + 1, PROTO_STATE_FAULT, 0, 0, seq, t), PROTO_ACCEPT);
	assert_int_equal(sweep(t).back_langjin, 0);
	assert_int_equal(report(first + 1, PROTO_STATE_RECOVERED, 0, 0, seq + 1, t + 1),
			 PROTO_ACCEPT);
	e = sweep(t + 1);
	assert_int_equal(e.back_langjin, 1);
	assert_int_equal(e.last[ROSTER_EVENT_BACK].count, 12);
	assert_int_equal(sweep(t + 2).back_langjin, 0);
}

static void played_count(void **state)
{
	uint64_t codes[] = { YANGHE }, single[] = { LANGJIN, 440608101210001ull };
	uint32_t a = index_of(440608101210001ull), b = index_of(440608101201001ull);
	uint32_t m = index_of(MINGCHENG_EP);
	uint64_t t = START + 2000, end;
	const struct roster_broadcast *bc;
	struct events e;

	(void)state;
	assert_int_equal(roster_on_air(&r, 7, codes, 1, t), 0);
	bc = roster_broadcast(&r, 7);
	assert_non_null(bc);
	assert_int_equal(bc->targeted, 462);
	assert_int_equal(bc->played, 0);

	/* playing it, then the same one as last: one endpoint, counted once */
	assert_int_equal(report(a, PROTO_STATE_BROADCASTING, 7, 0, 1, t + 10), PROTO_ACCEPT);
	assert_int_equal(report(a, PROTO_STATE_NORMAL, 0, 7, 2, t + 20), PROTO_ACCEPT);
	assert_int_equal(bc->played, 1);
	/* another only says so afterwards */
	assert_int_equal(report(b, PROTO_STATE_NORMAL, 0, 7, 1, t + 30), PROTO_ACCEPT);
	assert_int_equal(bc->played, 2);
	/* not targeted: 明城镇 is not in 杨和镇; an unknown broadcast counts nowhere */
	assert_int_equal(report(m, PROTO_STATE_BROADCASTING, 7, 0, 1, t + 40), PROTO_ACCEPT);
	assert_int_equal(report(m, PROTO_STATE_NORMAL, 0, 8, 2, t + 50), PROTO_ACCEPT);
	assert_int_equal(bc->played, 2);
	/* rejected reports count for nothing */
	assert_int_equal(report_as(b + 1, b, PROTO_STATE_NORMAL, 0, 7, 1, t + 60),
			 PROTO_REJECT_KEY);
	assert_int_equal(bc->played, 2);

	/* final one period and ROSTER_SETTLE_MS after its end, said once */
	end = t + 5000;
	roster_off_air(&r, 7, end);
	assert_int_equal(sweep(end + PERIOD_S * 1000u + ROSTER_SETTLE_MS - 1)
			 .n[ROSTER_EVENT_COUNTED], 0);
	e = sweep(end + PERIOD_S * 1000u + ROSTER_SETTLE_MS);
	assert_int_equal(e.n[ROSTER_EVENT_COUNTED], 1);
	assert_int_equal(e.last[ROSTER_EVENT_COUNTED].broadcast, 7);
	assert_int_equal(e.last[ROSTER_EVENT_COUNTED].count, 2);
	assert_int_equal(e.last[ROSTER_EVENT_COUNTED].of, 462);
	assert_int_equal(bc->counted, 1);
	assert_int_equal(sweep(end + 10 * PERIOD_S * 1000u).n[ROSTER_EVENT_COUNTED], 0);

	/* a village and one of its endpoints named again: 15 targeted, not 16 */
	assert_int_equal(roster_on_air(&r, 9, single, 2, end), 0);
	assert_int_equal(roster_broadcast(&r, 9)->targeted, 15);

	/* the ring keeps the newest ROSTER_RING broadcasts */
	for (uint32_t id = 100; id < 100 + ROSTER_RING; id++)
		assert_int_equal(roster_on_air(&r, id, codes, 1, end), 0);
	assert_null(roster_broadcast(&r, 7));
	assert_non_null(roster_broadcast(&r, 100));
	assert_non_null(roster_broadcast(&r, 99 + ROSTER_RING));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(offline_timing, fresh, drop),
		cmocka_unit_test_setup_teardown(rejected_change_nothing, fresh, drop),
		cmocka_unit_test_setup_teardown(village_crossing, fresh, drop),
		cmocka_unit_test_setup_teardown(played_count, fresh, drop),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
