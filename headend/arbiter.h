/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Who plays where: the arbitration rules of docs/arbitration.md as pure functions. The table
 * (priority, preempt or queue, the fate of what is preempted) and a plan over villages that the
 * engine carries out on every tick. No threads, sockets or clocks here: the caller passes them. */
#ifndef CX_HEADEND_ARBITER_H
#define CX_HEADEND_ARBITER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "headend/config.h"
#include "proto/proto.h"

/* forecast and nowcast 0; warnings 2 × colour: 2 (white) .. 10 (red); a live announcement
 * 2 × outranks + 1, between the colour it outranks and the next: 1 .. 11 */
#define ARBITER_PRIORITIES 12

struct arbiter_item {
	enum proto_kind kind;
	enum proto_colour colour;
	uint8_t signal;
	enum proto_colour outranks;	/* live: the highest warning colour it preempts (none:
					 * forecasts and nowcasts only) */
};

enum arbiter_verdict {
	ARBITER_QUEUE,		/* the arriving broadcast waits for the one on air */
	ARBITER_PREEMPT,	/* it takes the shared villages at once */
};

enum arbiter_fate {
	ARBITER_RESUME,		/* plays on from where it stopped, once the villages are free */
	ARBITER_RESTART,	/* plays again from the beginning there */
	ARBITER_DROP,		/* is not played again there */
	ARBITER_REJOIN,		/* live: takes up the announcement as it is then, once the
				 * villages are free; what was said meanwhile is not played */
};

/* 0 for forecasts and nowcasts; 2 × colour for warnings, whatever their action; 2 × outranks + 1
 * for a live announcement. */
int arbiter_priority(const struct arbiter_item *it);

/* What a broadcast arriving in a village does to the one on air there. */
enum arbiter_verdict arbiter_decide(const struct arbiter_item *on_air,
				    const struct arbiter_item *arriving);

/* What becomes of the preempted broadcast in the villages it lost: forecasts and nowcasts by
 * policy; a warning is dropped when the preempting one is the same signal (superseded), and
 * restarted otherwise; a live announcement rejoins. */
enum arbiter_fate arbiter_fate(enum config_preempted policy, const struct arbiter_item *preempted,
			       const struct arbiter_item *by);

const char *arbiter_fate_name(enum arbiter_fate f);

/* One broadcast as the plan sees it. */
struct arbiter_entry {
	struct arbiter_item item;
	const unsigned char *villages;	/* n_villages flags: where it plays or would play */
	int on_air;
	int ending;		/* on air and sending its END: cannot be preempted any more */
	int ready;		/* may go on air (its broadcast id is known) */
	time_t expires;		/* not on air by then: dropped; 0 never */
};

enum arbiter_step {
	ARBITER_EXPIRE,		/* entry: waited past its expiry, drop it */
	ARBITER_PREEMPTS,	/* entry (on air) loses the villages it shares with other */
	ARBITER_START,		/* entry goes on air */
	ARBITER_WAIT,		/* entry waits; other is the on-air broadcast in its way, or -1 */
};

struct arbiter_action {
	enum arbiter_step step;
	size_t entry;
	long other;
};

/* Plan one moment: entries in order of acceptance, at most max actions written to out (the
 * return value says how many were needed). owner and claim are scratch of n_villages longs.
 * Waiting entries start in order of priority, then of acceptance, wherever every village of
 * theirs is free, preemptable, and not wanted by an earlier waiting entry of at least their
 * priority. */
size_t arbiter_plan(const struct arbiter_entry *entries, size_t n, size_t n_villages, time_t now,
		    long *owner, long *claim, struct arbiter_action *out, size_t max);

#endif
