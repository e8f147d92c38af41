/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of the fleet's receiver model (tools/fleet_rx.c), fault injector
 * (tools/impair.c) and status reports (tools/fleet_report.c): a synthetic broadcast is played
 * through a receiver with chosen packets lost, delayed or copied, and every frame must be
 * accounted to the right source; reports are spread, sent on the right events, and pass the
 * head-end's checks. Random sweeps print their seed; set CX_SEED to repeat one. */

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
#include "proto/report.h"
#include "proto/sign.h"
#include "tools/fleet.h"
#include "tools/fleet_report.h"
#include "tools/impair.h"

#define T0 1400481600000ull
#define ME 440608101201001ull		/* an endpoint of 杨和镇 */
#define YANGHE 440608101ull
#define BC 42u
#define SEQ0 65500			/* wraps during the broadcast */
#define MAX_EVENTS 4096

struct event {
	double at;
	unsigned order;
	int lost;
	size_t len;
	unsigned char pkt[PROTO_MAX_PACKET];
	int rtp, copy;
	uint16_t seq;
};

/* What happens to the broadcast on its way: drop it (return -1) or add a delay in ms. */
typedef double (*path_fn)(const struct event *ev, void *arg);

struct stream {
	int frames, copy_delay;		/* copy_delay -1: each packet once */
	uint16_t first;
	unsigned char sk[PROTO_SECRET_KEY], pk[PROTO_PUBLIC_KEY];
	struct event *ev;
	size_t n;
	uint32_t serial;
};

static unsigned seed_from_env(void)
{
	const char *s = getenv("CX_SEED");

	return s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
}

static size_t rtp(uint16_t seq, unsigned char *out)
{
	unsigned char payload[40];
	struct proto_rtp r = { .seq = seq, .timestamp = 1000u + seq * 960u, .ssrc = BC,
			       .payload = payload, .payload_len = sizeof(payload) };

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(seq * 7 + i);
	payload[0] = 0x08;	/* a SILK TOC byte, for decoders that look */
	return proto_rtp_pack(&r, out, PROTO_MAX_PACKET);
}

static struct event *add(struct stream *s, double at)
{
	struct event *e = &s->ev[s->n];

	assert_true(s->n < MAX_EVENTS);
	memset(e, 0, sizeof(*e));
	e->at = at;
	e->order = (unsigned)s->n++;
	return e;
}

static void control(struct stream *s, struct proto_control *c, double at)
{
	struct event *e = add(s, at);

	c->key_id = proto_key_id(s->pk);
	c->epoch = 1;
	c->serial = ++s->serial;
	c->sent_ms = T0 + (uint64_t)at;
	e->len = proto_control_pack(c, e->pkt, sizeof(e->pkt));
	assert_true(e->len > 0);
	proto_sign(e->pkt, e->len, s->sk);
}

static void broadcast_control(struct stream *s, enum proto_type type, uint16_t seq, double at)
{
	struct proto_control c = { .type = type, .broadcast = BC, .kind = PROTO_KIND_NOWCAST,
				   .seq = seq, .frames = (uint32_t)s->frames, .n_targets = 1,
				   .targets = { YANGHE } };

	control(s, &c, at);
}

static void manifest(struct stream *s, int from, double at)
{
	struct proto_control c = { .type = PROTO_MANIFEST, .broadcast = BC,
				   .seq = (uint16_t)(s->first + from) };
	unsigned char pkt[PROTO_MAX_PACKET];

	for (int k = 0; k < PROTO_MANIFEST_MAX && from + k < s->frames; k++) {
		size_t len = rtp((uint16_t)(s->first + from + k), pkt);

		proto_rtp_hash(pkt, len, c.hashes[k]);
		c.n_hashes++;
	}
	control(s, &c, at);
}

static void audio(struct stream *s, int i, int copy, double at)
{
	struct event *e = add(s, at);

	e->seq = (uint16_t)(s->first + i);
	e->len = rtp(e->seq, e->pkt);
	e->rtp = 1;
	e->copy = copy;
}

/* The head-end's schedule: START each second, a MANIFEST of 50 every 25 packets, one packet
 * per 20 ms tick and its second copy copy_delay ticks later, END on three ticks. */
static void build(struct stream *s)
{
	int k = s->copy_delay;

	for (int t = 0; t < s->frames + 3; t++) {
		double at = t * 20.0;

		if (t < s->frames && t % 50 == 0)
			broadcast_control(s, PROTO_START, s->first, at);
		if (t < s->frames && t % 25 == 0)
			manifest(s, t, at);
		if (t < s->frames)
			audio(s, t, 0, at);
		if (k >= 0 && t - k >= 0 && t - k < s->frames)
			audio(s, t - k, 1, at);
		if (t >= s->frames)
			broadcast_control(s, PROTO_END, (uint16_t)(s->first + s->frames - 1), at);
	}
}

static int by_arrival(const void *a, const void *b)
{
	const struct event *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Send the stream through path into rx; returns its one result. */
static struct fleet_result play(struct fleet_rx *rx, struct stream *s, path_fn path,
				void *arg, int depth)
{
	struct fleet_params p = { depth, 20.0, 3000.0, s->copy_delay, NULL, NULL };
	double last = 0;

	for (size_t i = 0; i < s->n; i++) {
		double d = path ? path(&s->ev[i], arg) : 0;

		s->ev[i].lost = d < 0;
		s->ev[i].at += d < 0 ? 0 : d;
	}
	qsort(s->ev, s->n, sizeof(s->ev[0]), by_arrival);
	for (size_t i = 0; i < s->n; i++) {
		if (s->ev[i].lost) {
			fleet_rx_lost(rx, s->ev[i].pkt, s->ev[i].len);
			continue;
		}
		fleet_rx_packet(rx, &p, ME, s->ev[i].pkt, s->ev[i].len, s->ev[i].at,
				T0 + (uint64_t)s->ev[i].at);
		fleet_rx_tick(rx, &p, s->ev[i].at);
		last = s->ev[i].at;
	}
	fleet_rx_tick(rx, &p, last + 1000);
	fleet_rx_close(rx, &p, last + 1000);
	assert_int_equal(rx->n_results, 1);
	return rx->results[0];
}

static void stream_init(struct stream *s, int frames, int copy_delay)
{
	unsigned char seed[PROTO_SEED];

	memset(s, 0, sizeof(*s));
	memset(seed, 7, sizeof(seed));
	crypto_sign_seed_keypair(s->pk, s->sk, seed);
	s->frames = frames;
	s->copy_delay = copy_delay;
	s->first = SEQ0;
	s->ev = calloc(MAX_EVENTS, sizeof(*s->ev));
	assert_non_null(s->ev);
	build(s);
}

static void rx_init(struct fleet_rx *rx, const struct stream *s, int sample)
{
	struct impair_config none = { .name = "none" };

	assert_int_equal(fleet_rx_init(rx, &none, 20.0, 1, sample, s->pk, 10000, T0), 0);
}

static double drop_seqs(const struct event *e, void *arg)
{
	const int *list = arg;

	for (; *list >= 0; list++)
		if (e->rtp && e->seq == (uint16_t)(SEQ0 + *list))
			return -1;
	return 0;
}

static double drop_originals(const struct event *e, void *arg)
{
	const int *list = arg;

	for (; *list >= 0; list++)
		if (e->rtp && !e->copy && e->seq == (uint16_t)(SEQ0 + *list))
			return -1;
	return 0;
}

static void test_clean(void **state)
{
	struct stream s;
	struct fleet_rx rx;
	struct fleet_result r;

	stream_init(&s, 200, -1);
	rx_init(&rx, &s, 0);
	r = play(&rx, &s, NULL, NULL, 5);
	assert_int_equal(r.frames, 200);
	assert_int_equal(r.packet, 200);
	assert_int_equal(r.concealed + r.fec + r.copy + r.missed + r.rejected, 0);
	assert_int_equal(r.how, FLEET_END);
	assert_true(fleet_result_complete(&r));
	fleet_rx_free(&rx);
	free(s.ev);
}

/* One lost packet comes back from the next one's FEC; two in a row cost one concealed frame;
 * three in a row two, which is no longer complete audio. */
static void test_fec(void **state)
{
	static const int one[] = { 10, -1 }, two[] = { 20, 21, -1 }, three[] = { 30, 31, 32, -1 };
	const int *cases[] = { one, two, three };
	const uint32_t concealed[] = { 0, 1, 2 }, fec[] = { 1, 1, 1 };

	for (int c = 0; c < 3; c++) {
		struct stream s;
		struct fleet_rx rx;
		struct fleet_result r;

		stream_init(&s, 200, -1);
		rx_init(&rx, &s, 0);
		r = play(&rx, &s, drop_seqs, (void *)cases[c], 5);
		assert_int_equal(r.frames, 200);
		assert_int_equal(r.fec, fec[c]);
		assert_int_equal(r.concealed, concealed[c]);
		assert_int_equal(r.longest_run, concealed[c]);
		assert_int_equal(fleet_result_complete(&r), c < 2);
		fleet_rx_free(&rx);
		free(s.ev);
	}
}

/* With second copies two packets later, three originals lost in a row all come back from
 * their copies, which the receiver tells apart from duplicates. */
static void test_copies(void **state)
{
	static const int lost[] = { 50, 51, 52, -1 };
	struct stream s;
	struct fleet_rx rx;
	struct fleet_result r;

	stream_init(&s, 200, 2);
	rx_init(&rx, &s, 0);
	r = play(&rx, &s, drop_originals, (void *)lost, 5);
	assert_int_equal(r.frames, 200);
	assert_int_equal(r.copy, 3);
	assert_int_equal(r.packet, 197);
	assert_int_equal(r.concealed, 0);
	assert_int_equal(r.duplicates, 196);	/* the last copy comes after END */
	assert_true(fleet_result_complete(&r));
	fleet_rx_free(&rx);
	free(s.ev);
}

/* A copy dropped by this receiver's own path is known to be one even without copy_delay. */
static void test_copy_marked_lost(void **state)
{
	static const int lost[] = { 60, -1 };
	struct stream s;
	struct fleet_rx rx;
	struct fleet_result r;

	stream_init(&s, 100, 0);
	s.copy_delay = -1;
	rx_init(&rx, &s, 0);
	r = play(&rx, &s, drop_originals, (void *)lost, 5);
	assert_int_equal(r.copy, 1);
	assert_int_equal(r.packet, 99);
	fleet_rx_free(&rx);
	free(s.ev);
}

struct jitter {
	uint64_t rng;
	double ms;
};

static double jitter(const struct event *e, void *arg)
{
	struct jitter *j = arg;

	return impair_uniform(&j->rng) * j->ms;
}

/* Packets delayed by up to 50 ms arrive out of order; a buffer of 5 frames (100 ms) puts them
 * back in order without losing any. */
static void test_jitter(void **state)
{
	unsigned seed = seed_from_env();
	struct jitter j = { seed, 50 };
	struct stream s;
	struct fleet_rx rx;
	struct fleet_result r;

	printf("seed %u\n", seed);
	stream_init(&s, 500, 2);
	rx_init(&rx, &s, 0);
	s.copy_delay = -1;	/* late originals would look like copies */
	r = play(&rx, &s, jitter, &j, 5);
	assert_int_equal(r.frames, 500);
	assert_int_equal(r.packet, 500);
	assert_int_equal(r.late, 0);
	assert_int_equal(r.concealed, 0);
	fleet_rx_free(&rx);
	free(s.ev);
}

static double outages(const struct event *e, void *arg)
{
	const double *starts = arg;

	for (; *starts >= 0; starts++)
		if (e->at >= *starts && e->at < *starts + 60)
			return -1;
	return 0;
}

/* Outages of 60 ms take three packets and the copies sent with them; copies three packets
 * later bring every frame back. */
static void test_outages(void **state)
{
	static const double starts[] = { 1005, 2010, 3019.5, 4100, -1 };
	struct stream s;
	struct fleet_rx rx;
	struct fleet_result r;

	stream_init(&s, 300, 3);
	rx_init(&rx, &s, 0);
	r = play(&rx, &s, outages, (void *)starts, 5);
	assert_int_equal(r.frames, 300);
	assert_int_equal(r.concealed, 0);
	assert_int_equal(r.copy, 12);
	fleet_rx_free(&rx);
	free(s.ev);
}

static double join_at(const struct event *e, void *arg)
{
	return e->at < *(const double *)arg ? -1 : 0;
}

/* Everything before 3 s is gone: the receiver starts at the first packet it can verify and
 * reports what it missed; no frame after that is lost. */
static void test_late_join(void **state)
{
	double from = 3000;
	struct stream s;
	struct fleet_rx rx;
	struct fleet_result r;

	stream_init(&s, 400, -1);
	rx_init(&rx, &s, 1);
	r = play(&rx, &s, join_at, &from, 5);
	assert_true(r.missed >= 150 && r.missed <= 175);
	assert_int_equal(r.missed + r.frames, 400);
	assert_int_equal(r.concealed + r.fec, 0);
	assert_int_equal(r.rejected, 0);
	fleet_rx_free(&rx);
	free(s.ev);
}

static double start_late(const struct event *e, void *arg)
{
	return !e->rtp && e->pkt[3] == PROTO_START && e->at == 0 ? 30 : 0;
}

/* Audio that overtakes its START waits for it. */
static void test_start_overtaken(void **state)
{
	struct stream s;
	struct fleet_rx rx;
	struct fleet_result r;

	stream_init(&s, 100, -1);
	rx_init(&rx, &s, 1);
	r = play(&rx, &s, start_late, NULL, 5);
	assert_int_equal(r.frames, 100);
	assert_int_equal(r.packet, 100);
	assert_int_equal(r.missed, 0);
	fleet_rx_free(&rx);
	free(s.ev);
}

/* A sampled receiver checks every packet against the signed MANIFESTs; second copies of a
 * packet it holds are dropped before the check, so none is rejected. A forged packet is, and
 * the genuine copy that follows takes its place. */
static double forge(const struct event *e, void *arg)
{
	struct event *w = (struct event *)e;

	if (e->rtp && !e->copy && e->seq == (uint16_t)(SEQ0 + 80))
		w->pkt[PROTO_RTP_HEADER + 5] ^= 1;
	return 0;
}

static void test_verified(void **state)
{
	struct stream s;
	struct fleet_rx rx;
	struct fleet_result r;

	stream_init(&s, 150, 1);
	rx_init(&rx, &s, 1);
	r = play(&rx, &s, forge, NULL, 5);
	assert_int_equal(r.frames, 150);
	assert_int_equal(r.rejected, 1);
	assert_int_equal(r.duplicates, 149);
	assert_int_equal(r.packet, 149);
	assert_int_equal(r.copy, 1);
	assert_int_equal(r.concealed, 0);
	fleet_rx_free(&rx);
	free(s.ev);
}

/* The fault injector: the loss share is what was asked, bursts are outages of the asked
 * length, jitter stays within its bound. */
static void test_impair(void **state)
{
	unsigned seed = seed_from_env();
	struct impair_config c;
	struct impair im;
	char err[128];
	double d[2];
	int lost = 0, runs = 0, prev = 0;

	printf("seed %u\n", seed);
	assert_int_equal(impair_parse("loss=5,burst=3,jitter=50", &c, err, sizeof(err)), 0);
	assert_int_not_equal(impair_parse("loss=95", &c, err, sizeof(err)), 0);
	assert_int_not_equal(impair_parse("wobble=1", &c, err, sizeof(err)), 0);
	assert_int_equal(impair_parse("loss=5,burst=3,jitter=50", &c, err, sizeof(err)), 0);
	impair_init(&im, &c, 20.0, seed);
	for (int i = 0; i < 200000; i++) {
		int n = impair_packet(&im, i * 20.0, d);

		lost += n == 0;
		runs += n == 0 && !prev;
		prev = n == 0;
		if (n)
			assert_true(d[0] >= 0 && d[0] <= 50);
	}
	assert_true(lost > 200000 * 0.045 && lost < 200000 * 0.055);
	assert_true((double)lost / runs > 2.7 && (double)lost / runs < 3.3);
}

static void test_delayq(void **state)
{
	struct delayq *q = delayq_new();
	unsigned char out[8];
	uint64_t tag;
	double due;

	assert_non_null(q);
	assert_int_equal(delayq_push(q, 30, 3, (const unsigned char *)"c", 1), 0);
	assert_int_equal(delayq_push(q, 10, 1, (const unsigned char *)"a", 1), 0);
	assert_int_equal(delayq_push(q, 10, 2, (const unsigned char *)"b", 1), 0);
	assert_true(delayq_next(q) == 10);
	assert_int_equal(delayq_pop(q, 5, &tag, &due, out, sizeof(out)), -1);
	assert_int_equal(delayq_pop(q, 20, &tag, &due, out, sizeof(out)), 1);
	assert_int_equal(tag, 1);
	assert_true(due == 10);
	assert_int_equal(delayq_pop(q, 20, &tag, &due, out, sizeof(out)), 1);
	assert_int_equal(tag, 2);
	assert_int_equal(delayq_pop(q, 20, &tag, &due, out, sizeof(out)), -1);
	assert_int_equal(delayq_count(q), 1);
	delayq_free(q);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The largest gap between the first reports of endpoints from..from+n-1, the wrap included. */
static double widest_gap(size_t from, size_t n, double period, double *at)
{
	double widest = 0;

	for (size_t i = 0; i < n; i++)
		at[i] = fleet_report_offset(from + i, period);
	qsort(at, n, sizeof(at[0]), by_value);
	for (size_t i = 0; i < n; i++) {
		double next = i + 1 < n ? at[i + 1] : at[0] + period;

		if (next - at[i] > widest)
			widest = next - at[i];
	}
	return widest;
}

/* First reports of the 2,350 endpoints: all within the first period, at an even rate (no
 * tenth of the period holds more than its share and a few), and each village of 28 in
 * directory order spread over the period, not bunched together. */
static void test_report_offsets(void **state)
{
	enum { N = 2350, VILLAGE = 28 };
	static double at[N];
	const double period = 30000;
	int tenth[10] = { 0 };

	for (size_t i = 0; i < N; i++) {
		double o = fleet_report_offset(i, period);

		assert_true(o >= 0 && o < period);
		tenth[(int)(o / (period / 10))]++;
	}
	for (int k = 0; k < 10; k++)
		assert_true(tenth[k] >= N / 10 - 3 && tenth[k] <= N / 10 + 3);
	assert_true(widest_gap(0, N, period, at) < period / N * 3);
	for (size_t v = 0; v + VILLAGE <= N; v += VILLAGE)
		assert_true(widest_gap(v, VILLAGE, period, at) < period / VILLAGE * 3);
}

/* A report at once when the endpoint starts playing, when it finishes, and when another
 * broadcast replaces the one on air; none while nothing changes. */
static void test_report_follow(void **state)
{
	struct fleet_reporter r = { .id = ME };
	const uint32_t zero[3] = { 0 };

	fleet_reporter_start(&r, 0, T0, zero);
	assert_int_equal(fleet_reporter_follow(&r, 0, 0), 0);
	assert_int_equal(fleet_reporter_follow(&r, 42, 0), 1);
	assert_int_equal(fleet_reporter_follow(&r, 42, 0), 0);
	assert_int_equal(fleet_reporter_follow(&r, 0, 42), 1);
	assert_int_equal(r.playing, 0);
	assert_int_equal(r.last, 42);
	assert_int_equal(fleet_reporter_follow(&r, 0, 42), 0);
	assert_int_equal(fleet_reporter_follow(&r, 43, 42), 1);
	assert_int_equal(fleet_reporter_follow(&r, 44, 43), 1);
	assert_int_equal(r.playing, 44);
	assert_int_equal(r.last, 43);

	/* A power cut forgets both; the new boot is later even if the clock went back. */
	fleet_reporter_start(&r, 500, T0 - 400, zero);
	assert_int_equal(r.playing + r.last, 0);
	assert_true(r.boot == T0 + 1);
}

/* Sealed reports carry the state, ids and counters since the start and pass the head-end's
 * checks in order; after a restart seq begins again at 1 and is still accepted. */
static void test_report_seal(void **state)
{
	struct fleet_reporter r = { .id = ME };
	unsigned char seed[PROTO_SEED], pk[PROTO_PUBLIC_KEY], buf[PROTO_REPORT_MAX];
	struct proto_report_peer peer = { .keyed = 1 };
	struct proto_report got;
	const uint32_t at_start[3] = { 10, 1, 2 }, later[3] = { 510, 4, 3 };
	size_t n;

	memset(seed, 9, sizeof(seed));
	crypto_sign_seed_keypair(pk, r.sk, seed);
	r.key_id = peer.key_id = proto_key_id(pk);
	memcpy(peer.pk, pk, sizeof(pk));
	fleet_reporter_start(&r, 1000, T0, at_start);

	n = fleet_report_seal(&r, 1000, T0, at_start, buf);
	assert_true(n > 0);
	assert_int_equal(proto_report_check(&peer, buf, n, T0, 10000, &got), PROTO_ACCEPT);
	assert_int_equal(got.state, PROTO_STATE_NORMAL);
	assert_int_equal(got.seq, 1);
	assert_true(got.boot == T0);
	assert_true(got.endpoint == ME);
	assert_int_equal(got.received + got.lost + got.rejected, 0);
	assert_string_equal(got.version, FLEET_REPORT_VERSION);

	assert_int_equal(fleet_reporter_follow(&r, BC, 0), 1);
	n = fleet_report_seal(&r, 62000, T0 + 61000, later, buf);
	assert_int_equal(proto_report_check(&peer, buf, n, T0 + 61000, 10000, &got),
			 PROTO_ACCEPT);
	assert_int_equal(got.state, PROTO_STATE_BROADCASTING);
	assert_int_equal(got.broadcast, BC);
	assert_int_equal(got.seq, 2);
	assert_int_equal(got.uptime_s, 61);
	assert_int_equal(got.received, 500);
	assert_int_equal(got.lost, 3);
	assert_int_equal(got.rejected, 1);

	/* The same bytes again are a replay. */
	assert_int_equal(proto_report_check(&peer, buf, n, T0 + 61000, 10000, &got),
			 PROTO_REJECT_REPLAY);

	assert_int_equal(fleet_reporter_follow(&r, 0, BC), 1);
	fleet_reporter_start(&r, 63000, T0 + 62000, later);
	n = fleet_report_seal(&r, 63000, T0 + 62000, later, buf);
	assert_int_equal(proto_report_check(&peer, buf, n, T0 + 62000, 10000, &got),
			 PROTO_ACCEPT);
	assert_int_equal(got.seq, 1);
	assert_int_equal(got.last, 0);
	assert_int_equal(got.received, 0);
}

/* The counters a report carries are the receiver's: packets received, frames concealed. */
static void test_report_counts(void **state)
{
	static const int three[] = { 30, 31, 32, -1 };
	struct stream s;
	struct fleet_rx rx;
	uint32_t c[3];

	stream_init(&s, 200, -1);
	rx_init(&rx, &s, 0);
	fleet_report_counts(&rx, c);
	assert_int_equal(c[0] + c[1] + c[2], 0);
	play(&rx, &s, drop_seqs, (void *)three, 5);
	fleet_report_counts(&rx, c);
	assert_int_equal(c[0], 197);
	assert_int_equal(c[1], 2);
	assert_int_equal(c[2], 0);
	fleet_rx_free(&rx);
	free(s.ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_fec),
		cmocka_unit_test(test_copies),
		cmocka_unit_test(test_copy_marked_lost),
		cmocka_unit_test(test_jitter),
		cmocka_unit_test(test_outages),
		cmocka_unit_test(test_late_join),
		cmocka_unit_test(test_start_overtaken),
		cmocka_unit_test(test_verified),
		cmocka_unit_test(test_impair),
		cmocka_unit_test(test_delayq),
		cmocka_unit_test(test_report_offsets),
		cmocka_unit_test(test_report_follow),
		cmocka_unit_test(test_report_seal),
		cmocka_unit_test(test_report_counts),
	};

	if (proto_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
