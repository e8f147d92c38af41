/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fault models and the delay queue behind them. Bursts are outages in time, not runs of
 * packets, so that a sender of twice the packets meets the same outages as one of half. */
#include "tools/impair.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SplitMix64: small, fast and good enough for fault injection; not for anything secret. */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double impair_uniform(uint64_t *state)
{
	return (double)(next_u64(state) >> 11) / 9007199254740992.0;
}

static int parse_value(const char *key, const char *v, double max, double *out, char *err,
		       size_t errlen)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || *end || x < 0 || x > max) {
		snprintf(err, errlen, "%s=%s: a number 0..%g expected", key, v, max);
		return -1;
	}
	*out = x;
	return 0;
}

static int parse_pair(struct impair_config *c, const char *key, const char *v, char *err,
		      size_t errlen)
{
	double x, *share = !strcmp(key, "loss") ? &c->loss : !strcmp(key, "dup") ? &c->duplicate :
			   !strcmp(key, "reorder") ? &c->reorder : NULL;

	if (share) {
		if (parse_value(key, v, share == &c->loss ? 90 : 100, &x, err, errlen))
			return -1;
		*share = x / 100;
		return 0;
	}
	if (!strcmp(key, "burst")) {
		if (parse_value(key, v, 50, &x, err, errlen) || x != (int)x)
			return snprintf(err, errlen, "burst=%s: 0..50 frame periods", v), -1;
		c->burst = (int)x;
		return 0;
	}
	if (!strcmp(key, "delay"))
		return parse_value(key, v, 10000, &c->delay_ms, err, errlen);
	if (!strcmp(key, "jitter"))
		return parse_value(key, v, 10000, &c->jitter_ms, err, errlen);
	if (!strcmp(key, "reorder_ms"))
		return parse_value(key, v, 10000, &c->reorder_ms, err, errlen);
	snprintf(err, errlen, "unknown fault \"%s\" (loss burst delay jitter dup reorder "
		 "reorder_ms)", key);
	return -1;
}

int impair_parse(const char *spec, struct impair_config *c, char *err, size_t errlen)
{
	char buf[256], *save = NULL;

	memset(c, 0, sizeof(*c));
	c->reorder_ms = 40;
	snprintf(c->name, sizeof(c->name), "%s", *spec ? spec : "none");
	if (!*spec || !strcmp(spec, "none"))
		return 0;
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "fault list too long");
		return -1;
	}
	memcpy(buf, spec, strlen(spec) + 1);
	for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');

		if (!eq) {
			snprintf(err, errlen, "\"%s\": key=value expected", item);
			return -1;
		}
		*eq = '\0';
		if (parse_pair(c, item, eq + 1, err, errlen))
			return -1;
	}
	return 0;
}

void impair_init(struct impair *im, const struct impair_config *c, double period_ms,
		 uint64_t seed)
{
	memset(im, 0, sizeof(*im));
	im->c = *c;
	im->period_ms = period_ms;
	im->rng = seed;
	next_u64(&im->rng);
}

/* Time until the next outage begins: exponential, so outages start at random. The mean makes
 * the share of time spent in outages equal the loss rate. */
static double up_time(struct impair *im, double outage_ms)
{
	double mean = outage_ms * (1 - im->c.loss) / im->c.loss;

	return -log(1 - impair_uniform(&im->rng)) * mean;
}

static int lost(struct impair *im, double now_ms)
{
	double outage_ms = im->c.burst * im->period_ms;

	if (im->c.loss <= 0)
		return 0;
	if (im->c.burst <= 1)
		return impair_uniform(&im->rng) < im->c.loss;
	if (!im->outage_known) {
		im->outage_at = now_ms + up_time(im, outage_ms);
		im->outage_known = 1;
	}
	while (now_ms >= im->outage_at + outage_ms)
		im->outage_at += outage_ms + up_time(im, outage_ms);
	return now_ms >= im->outage_at;
}

int impair_packet(struct impair *im, double now_ms, double delay_ms[2])
{
	int n = 1;

	im->seen++;
	if (lost(im, now_ms)) {
		im->lost++;
		return 0;
	}
	delay_ms[0] = delay_ms[1] = im->c.delay_ms;
	if (im->c.jitter_ms > 0)
		delay_ms[0] += impair_uniform(&im->rng) * im->c.jitter_ms;
	if (im->c.reorder > 0 && impair_uniform(&im->rng) < im->c.reorder) {
		delay_ms[0] += im->c.reorder_ms;
		im->delayed++;
	}
	if (im->c.duplicate > 0 && impair_uniform(&im->rng) < im->c.duplicate) {
		if (im->c.jitter_ms > 0)
			delay_ms[1] += impair_uniform(&im->rng) * im->c.jitter_ms;
		im->duplicated++;
		n = 2;
	}
	return n;
}

/* The delay queue: a binary heap on (due, arrival order), so equal due times keep their
 * order. */

struct entry {
	double due;
	uint64_t order, tag;
	size_t len;
	unsigned char *data;
};

struct delayq {
	struct entry *e;
	size_t n, cap;
	uint64_t pushed;
};

struct delayq *delayq_new(void)
{
	return calloc(1, sizeof(struct delayq));
}

void delayq_free(struct delayq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->n; i++)
		free(q->e[i].data);
	free(q->e);
	free(q);
}

static int before(const struct entry *a, const struct entry *b)
{
	return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static void swap(struct entry *a, struct entry *b)
{
	struct entry t = *a;

	*a = *b;
	*b = t;
}

int delayq_push(struct delayq *q, double due_ms, uint64_t tag, const unsigned char *pkt,
		size_t len)
{
	size_t i;

	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 1024;
		struct entry *e = realloc(q->e, cap * sizeof(*e));

		if (!e)
			return -1;
		q->e = e;
		q->cap = cap;
	}
	i = q->n;
	q->e[i] = (struct entry){ due_ms, q->pushed++, tag, len, malloc(len ? len : 1) };
	if (!q->e[i].data)
		return -1;
	memcpy(q->e[i].data, pkt, len);
	q->n++;
	while (i > 0 && before(&q->e[i], &q->e[(i - 1) / 2])) {
		swap(&q->e[i], &q->e[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	return 0;
}

double delayq_next(const struct delayq *q)
{
	return q->n ? q->e[0].due : -1;
}

size_t delayq_count(const struct delayq *q)
{
	return q->n;
}

static void sift_down(struct delayq *q)
{
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->n && before(&q->e[l], &q->e[m]))
			m = l;
		if (r < q->n && before(&q->e[r], &q->e[m]))
			m = r;
		if (m == i)
			return;
		swap(&q->e[i], &q->e[m]);
		i = m;
	}
}

long delayq_pop(struct delayq *q, double now_ms, uint64_t *tag, double *due_ms,
		unsigned char *out, size_t outlen)
{
	struct entry top;

	if (!q->n || q->e[0].due > now_ms)
		return -1;
	top = q->e[0];
	q->e[0] = q->e[--q->n];
	sift_down(q);
	if (top.len > outlen)
		top.len = outlen;
	memcpy(out, top.data, top.len);
	free(top.data);
	*tag = top.tag;
	*due_ms = top.due;
	return (long)top.len;
}
