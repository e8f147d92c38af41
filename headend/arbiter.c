/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The arbitration table and the per-village plan; docs/arbitration.md states the same rules
 * for people, and tests/unit/arbiter.c checks them row by row. */
#include "headend/arbiter.h"

int arbiter_priority(const struct arbiter_item *it)
{
	if (it->kind == PROTO_KIND_LIVE)
		return 2 * (int)it->outranks + 1;
	if (it->kind != PROTO_KIND_WARNING)
		return 0;
	return 2 * (int)it->colour;
}

enum arbiter_verdict arbiter_decide(const struct arbiter_item *on_air,
				    const struct arbiter_item *arriving)
{
	return arbiter_priority(arriving) > arbiter_priority(on_air) ? ARBITER_PREEMPT :
	       ARBITER_QUEUE;
}

enum arbiter_fate arbiter_fate(enum config_preempted policy, const struct arbiter_item *preempted,
			       const struct arbiter_item *by)
{
	if (preempted->kind == PROTO_KIND_LIVE)
		return ARBITER_REJOIN;
	if (preempted->kind == PROTO_KIND_WARNING)
		return by->kind == PROTO_KIND_WARNING && by->signal == preempted->signal ?
		       ARBITER_DROP : ARBITER_RESTART;
	switch (policy) {
	case CONFIG_RESTART: return ARBITER_RESTART;
	case CONFIG_DROP: return ARBITER_DROP;
	default: return ARBITER_RESUME;
	}
}

const char *arbiter_fate_name(enum arbiter_fate f)
{
	static const char *const names[] = { "resume", "restart", "drop", "rejoin" };

	return (unsigned)f < 4 ? names[f] : "?";
}

struct plan {
	const struct arbiter_entry *entries;
	size_t n, n_villages;
	long *owner, *claim;
	struct arbiter_action *out;
	size_t max, used;
};

static void emit(struct plan *p, enum arbiter_step step, size_t entry, long other)
{
	if (p->used < p->max)
		p->out[p->used] = (struct arbiter_action){ step, entry, other };
	p->used++;
}

/* -1 if entry i may start now; else the on-air entry in its way, or -2 if none is (an earlier
 * waiting entry, or i not ready). */
static long blocker(const struct plan *p, size_t i, int prio)
{
	const struct arbiter_entry *e = &p->entries[i];
	long rc = e->ready ? -1 : -2;

	for (size_t v = 0; v < p->n_villages; v++) {
		long o = p->owner[v];

		if (!e->villages[v])
			continue;
		if (o >= 0 && (p->entries[o].ending ||
			       arbiter_decide(&p->entries[o].item, &e->item) == ARBITER_QUEUE))
			return o;
		if (p->claim[v] >= prio)
			rc = -2;
	}
	return rc;
}

/* Entry i goes on air: whoever holds its villages loses them, once per holder. */
static void start(struct plan *p, size_t i)
{
	const struct arbiter_entry *e = &p->entries[i];

	for (size_t v = 0; v < p->n_villages; v++) {
		long o = p->owner[v];

		if (!e->villages[v] || o < 0 || o == (long)i)
			continue;
		emit(p, ARBITER_PREEMPTS, (size_t)o, (long)i);
		for (size_t w = v; w < p->n_villages; w++)
			if (p->owner[w] == o && e->villages[w])
				p->owner[w] = (long)i;
	}
	for (size_t v = 0; v < p->n_villages; v++)
		if (e->villages[v])
			p->owner[v] = (long)i;
	emit(p, ARBITER_START, i, -1);
}

static void consider(struct plan *p, size_t i, int prio, time_t now)
{
	const struct arbiter_entry *e = &p->entries[i];
	long b;

	if (e->on_air || arbiter_priority(&e->item) != prio)
		return;
	b = blocker(p, i, prio);
	if (b == -1) {
		start(p, i);
		return;
	}
	if (e->expires && now >= e->expires) {
		emit(p, ARBITER_EXPIRE, i, -1);
		return;
	}
	for (size_t v = 0; v < p->n_villages; v++)
		if (e->villages[v] && p->claim[v] < prio)
			p->claim[v] = prio;
	emit(p, ARBITER_WAIT, i, b >= 0 ? b : -1);
}

size_t arbiter_plan(const struct arbiter_entry *entries, size_t n, size_t n_villages, time_t now,
		    long *owner, long *claim, struct arbiter_action *out, size_t max)
{
	struct plan p = { entries, n, n_villages, owner, claim, out, max, 0 };

	for (size_t v = 0; v < n_villages; v++) {
		owner[v] = -1;
		claim[v] = -1;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t v = 0; entries[i].on_air && v < n_villages; v++)
			if (entries[i].villages[v])
				owner[v] = (long)i;
	for (int prio = ARBITER_PRIORITIES - 1; prio >= 0; prio--)
		for (size_t i = 0; i < n; i++)
			consider(&p, i, prio, now);
	return p.used;
}
