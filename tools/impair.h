/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Seeded network faults for tools/fleet and tools/relay: random loss, loss in outages of a few
 * frame periods, delay, jitter, duplication and reordering, plus a queue that holds packets
 * until they are due. No sockets and no clock of its own: callers pass the time in. */
#ifndef CX_TOOLS_IMPAIR_H
#define CX_TOOLS_IMPAIR_H

#include <stddef.h>
#include <stdint.h>

#define IMPAIR_NAME_MAX 32

struct impair_config {
	char name[IMPAIR_NAME_MAX];	/* as given, for reports */
	double loss;		/* share of packets (or of time, with burst) lost, 0..0.9 */
	int burst;		/* > 1: losses are outages this many frame periods long */
	double delay_ms;	/* fixed extra delay */
	double jitter_ms;	/* uniform random extra delay 0..jitter_ms, so packets reorder */
	double duplicate;	/* share of packets delivered twice */
	double reorder;		/* share of packets held back reorder_ms */
	double reorder_ms;
};

struct impair {
	struct impair_config c;
	double period_ms;	/* one frame period: 20 ms divided by the pace */
	uint64_t rng;
	int outage_known;
	double outage_at;	/* start of the next (or current) outage */
	unsigned long seen, lost, duplicated, delayed;
};

/* Parse "loss=5,burst=3,jitter=50,delay=10,dup=1,reorder=2,reorder_ms=40": percentages for
 * loss, dup and reorder, milliseconds for the rest; "none" or "" for a clean path. Returns 0,
 * or -1 with err naming what is wrong. */
__attribute__((warn_unused_result))
int impair_parse(const char *spec, struct impair_config *c, char *err, size_t errlen);

/* A fresh fault model; period_ms is 20 / pace. The same seed gives the same faults for the
 * same arrivals. */
void impair_init(struct impair *im, const struct impair_config *c, double period_ms,
		 uint64_t seed);

/* The fate of a packet arriving at now_ms: how many copies to deliver (0: lost, 1, or 2), and
 * the extra delay of each in delay_ms[]. */
int impair_packet(struct impair *im, double now_ms, double delay_ms[2]);

/* Uniform in [0, 1) from the model's generator, for callers that need one. */
double impair_uniform(uint64_t *state);

/* Packets waiting until they are due, earliest first. tag is the caller's (whose packet). */
struct delayq;

struct delayq *delayq_new(void);
void delayq_free(struct delayq *q);

/* Copy len bytes in, due at due_ms. 0, or -1 without memory (the packet is then lost). */
__attribute__((warn_unused_result))
int delayq_push(struct delayq *q, double due_ms, uint64_t tag, const unsigned char *pkt,
		size_t len);

/* When the earliest packet is due; a negative number if the queue is empty. */
double delayq_next(const struct delayq *q);

/* Take the earliest packet if it is due at now_ms: copies it into out (up to outlen bytes)
 * and returns its length with *tag and *due_ms set, or -1 if none is due. */
long delayq_pop(struct delayq *q, double now_ms, uint64_t *tag, double *due_ms,
		unsigned char *out, size_t outlen);

size_t delayq_count(const struct delayq *q);

#endif
