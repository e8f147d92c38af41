/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A ring of the last delay + 1 packets sent; the copy owed next is always the oldest. Control
 * packets owed wait in a few slots of their own. */
#include "headend/copies.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

#define OWED_MAX 16		/* control packets owed at once */

struct owed {
	int used;
	uint64_t due;
	struct proto_control c;
};

struct copies {
	int delay, control;
	int started;			/* the first START is owed or sent again */
	int listed;			/* a MANIFEST has gone */
	uint16_t listed_end;		/* the packet after the last one listed */
	struct owed owed[OWED_MAX];
	uint64_t pushed, copied;	/* packets remembered, copies handed out */
	size_t len[COPIES_MAX_DELAY + 1];
	unsigned char pkt[COPIES_MAX_DELAY + 1][PROTO_MAX_RTP];
};

struct copies *copies_new(int delay, int control)
{
	struct copies *c;

	if (delay < -1 || delay > COPIES_MAX_DELAY)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c) {
		c->delay = delay;
		c->control = control;
	}
	return c;
}

void copies_free(struct copies *c)
{
	free(c);
}

static const unsigned char *take(struct copies *c, size_t *out_len)
{
	size_t i = (size_t)(c->copied++ % (uint64_t)(c->delay + 1));

	*out_len = c->len[i];
	return c->pkt[i];
}

const unsigned char *copies_push(struct copies *c, const unsigned char *pkt, size_t len,
				 size_t *out_len)
{
	size_t i;

	if (c->delay < 0 || len > PROTO_MAX_RTP)
		return NULL;
	i = (size_t)(c->pushed % (uint64_t)(c->delay + 1));
	memcpy(c->pkt[i], pkt, len);
	c->len[i] = len;
	c->pushed++;
	return c->copied + (uint64_t)c->delay < c->pushed ? take(c, out_len) : NULL;
}

const unsigned char *copies_flush(struct copies *c, size_t *out_len)
{
	return c->delay >= 0 && c->copied < c->pushed ? take(c, out_len) : NULL;
}

/* How many more times pc goes out: the first START four times more; a MANIFEST twice more,
 * or three times if its first packet was in no earlier MANIFEST (the packets it lists first
 * are listed in this one alone). Three sends COPIES_SPACING apart survive an outage of three
 * packets; six listings of a packet make losing them all (p^6) rarer than losing audio. */
static int copies_owed(struct copies *c, const struct proto_control *pc)
{
	uint16_t end = (uint16_t)(pc->seq + pc->n_hashes);
	int first_listing;

	if (pc->type == PROTO_START) {
		if (c->started)
			return 0;
		c->started = 1;
		return 4;
	}
	if (pc->type != PROTO_MANIFEST)
		return 0;
	first_listing = !c->listed || (int16_t)(pc->seq - c->listed_end) >= 0;
	if (!c->listed || (int16_t)(end - c->listed_end) > 0)
		c->listed_end = end;
	c->listed = 1;
	return first_listing ? 3 : 2;
}

static void owe(struct copies *c, const struct proto_control *pc, uint64_t due)
{
	for (int i = 0; i < OWED_MAX; i++)
		if (!c->owed[i].used) {
			c->owed[i].used = 1;
			c->owed[i].due = due;
			c->owed[i].c = *pc;
			return;
		}
}

void copies_control(struct copies *c, const struct proto_control *pc, uint64_t tick)
{
	int n = c->control ? copies_owed(c, pc) : 0;

	for (int k = 1; k <= n; k++)
		owe(c, pc, tick + (uint64_t)k * COPIES_SPACING);
}

int copies_control_due(struct copies *c, uint64_t tick, struct proto_control *out)
{
	for (int i = 0; i < OWED_MAX; i++)
		if (c->owed[i].used && c->owed[i].due <= tick) {
			*out = c->owed[i].c;
			c->owed[i].used = 0;
			return 1;
		}
	return 0;
}
