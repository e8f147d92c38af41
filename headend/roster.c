/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The rules of the endpoint table: offline timing, village shares and their alarms, and the
 * played count of each broadcast, on times passed in. */
#include "headend/roster.h"

#include <stdlib.h>
#include <string.h>

int roster_init(struct roster *r, const struct zones *z, unsigned period_s, unsigned missed,
		double alarm, uint64_t tolerance_ms, uint64_t now_ms)
{
	memset(r, 0, sizeof(*r));
	r->z = z;
	r->period_ms = (uint64_t)period_s * 1000u;
	r->missed = missed;
	r->alarm = alarm;
	r->tolerance_ms = tolerance_ms;
	r->quiet_until_ms = now_ms + missed * r->period_ms;
	r->ep = calloc(z->n_endpoints ? z->n_endpoints : 1, sizeof(*r->ep));
	r->alarmed = calloc(z->n_villages ? z->n_villages : 1, 1);
	if (!r->ep || !r->alarmed) {
		roster_free(r);
		return -1;
	}
	return 0;
}

void roster_free(struct roster *r)
{
	free(r->ep);
	free(r->alarmed);
	for (size_t i = 0; i < ROSTER_RING; i++)
		free(r->ring[i].marks);
	memset(r, 0, sizeof(*r));
}

void roster_set_key(struct roster *r, uint32_t i, const unsigned char pk[PROTO_PUBLIC_KEY])
{
	struct proto_report_peer *p = &r->ep[i].peer;

	memset(p, 0, sizeof(*p));
	p->keyed = 1;
	memcpy(p->pk, pk, sizeof(p->pk));
	p->key_id = proto_key_id(pk);
}

static struct roster_broadcast *find(struct roster *r, uint32_t id)
{
	for (size_t i = 0; id && i < ROSTER_RING; i++)
		if (r->ring[i].id == id)
			return &r->ring[i];
	return NULL;
}

const struct roster_broadcast *roster_broadcast(const struct roster *r, uint32_t id)
{
	return find((struct roster *)r, id);
}

/* A report naming a broadcast, as playing or as the last one played, counts for it once. */
static void mark_played(struct roster *r, uint32_t id, uint32_t i)
{
	struct roster_broadcast *b = find(r, id);

	if (b && (b->marks[i] & ROSTER_TARGETED) && !(b->marks[i] & ROSTER_PLAYED)) {
		b->marks[i] |= ROSTER_PLAYED;
		b->played++;
	}
}

enum proto_reject roster_receive(struct roster *r, const unsigned char *buf, size_t len,
				 uint64_t wall_ms, uint64_t now_ms, long *index)
{
	struct proto_report got;
	enum proto_reject why;
	struct roster_endpoint *e;

	*index = -1;
	if (proto_report_parse(buf, len, &got) == PROTO_OK)
		*index = zones_find_endpoint(r->z, got.endpoint);
	e = *index >= 0 ? &r->ep[*index] : NULL;
	why = proto_report_check(e ? &e->peer : NULL, buf, len, wall_ms, r->tolerance_ms, &got);
	if (why != PROTO_ACCEPT) {
		r->rejected[why]++;
		return why;
	}
	e->last = got;
	e->heard_ms = now_ms;
	e->wall_ms = wall_ms;
	mark_played(r, got.broadcast, (uint32_t)*index);
	mark_played(r, got.last, (uint32_t)*index);
	return PROTO_ACCEPT;
}

enum roster_state roster_state(const struct roster *r, uint32_t i, uint64_t now_ms)
{
	const struct roster_endpoint *e = &r->ep[i];

	if (!e->last.seq)
		return ROSTER_OFFLINE;

	/* An endpoint that said it was switched off stays "off": that was no outage. */
	if (e->last.state == PROTO_STATE_OFF)
		return ROSTER_OFF;
	if (now_ms - e->heard_ms > r->missed * r->period_ms)
		return ROSTER_OFFLINE;
	return (enum roster_state)e->last.state;
}

const char *roster_state_name(enum roster_state s)
{
	return s == ROSTER_OFFLINE ? "offline" : proto_state_name((enum proto_state)s);
}

int roster_able(enum roster_state s)
{
	return s == ROSTER_NORMAL || s == ROSTER_RECOVERED || s == ROSTER_BROADCASTING;
}

size_t roster_village_able(const struct roster *r, uint32_t v, uint64_t now_ms)
{
	const struct zones_village *vil = &r->z->villages[v];
	size_t n = 0;

	for (uint32_t i = vil->first_endpoint; i < vil->first_endpoint + vil->n_endpoints; i++)
		n += (size_t)roster_able(roster_state(r, i, now_ms));
	return n;
}

int roster_on_air(struct roster *r, uint32_t id, const uint64_t *codes, size_t n_codes,
		  uint64_t now_ms)
{
	struct roster_broadcast *b = find(r, id);
	unsigned char *marks;

	(void)now_ms;
	if (b)
		return 0;
	b = &r->ring[r->next];
	marks = b->marks ? b->marks : malloc(r->z->n_endpoints ? r->z->n_endpoints : 1);
	if (!marks)
		return -1;
	memset(b, 0, sizeof(*b));
	memset(marks, 0, r->z->n_endpoints);
	b->marks = marks;
	b->id = id;
	r->next = (r->next + 1) % ROSTER_RING;
	for (size_t i = 0; i < r->z->n_endpoints; i++)
		for (size_t c = 0; c < n_codes; c++)
			if (proto_code_covers(codes[c], r->z->endpoints[i].id)) {
				marks[i] = ROSTER_TARGETED;
				b->targeted++;
				break;
			}
	return 0;
}

void roster_off_air(struct roster *r, uint32_t id, uint64_t now_ms)
{
	struct roster_broadcast *b = find(r, id);

	if (b && !b->ended_ms)
		b->ended_ms = now_ms ? now_ms : 1;
}

static void sweep_endpoints(struct roster *r, uint64_t now_ms, roster_event_fn fn, void *arg)
{
	for (uint32_t i = 0; i < r->z->n_endpoints; i++) {
		struct roster_endpoint *e = &r->ep[i];
		enum roster_state s = roster_state(r, i, now_ms);
		struct roster_event ev = { ROSTER_EVENT_ENDPOINT, i,
					   (enum roster_state)e->shown, s, 0, 0, 0, 0 };

		if (s == e->shown)
			continue;
		ev.first = !e->seen;
		e->seen = 1;
		e->shown = (unsigned char)s;
		fn(arg, &ev);
	}
}

static void sweep_villages(struct roster *r, uint64_t now_ms, roster_event_fn fn, void *arg)
{
	if (now_ms < r->quiet_until_ms)
		return;
	for (uint32_t v = 0; v < r->z->n_villages; v++) {
		size_t of = r->z->villages[v].n_endpoints;
		size_t able = roster_village_able(r, v, now_ms);
		int below = of && (double)able < r->alarm * (double)of;
		struct roster_event ev = { below ? ROSTER_EVENT_BELOW : ROSTER_EVENT_BACK, v,
					   0, 0, 0, able, of, 0 };

		if (below == r->alarmed[v])
			continue;
		r->alarmed[v] = (unsigned char)below;
		fn(arg, &ev);
	}
}

static void sweep_broadcasts(struct roster *r, uint64_t now_ms, roster_event_fn fn, void *arg)
{
	for (size_t i = 0; i < ROSTER_RING; i++) {
		struct roster_broadcast *b = &r->ring[(r->next + i) % ROSTER_RING];
		struct roster_event ev = { ROSTER_EVENT_COUNTED, 0, 0, 0, 0, 0, 0, 0 };

		if (!b->id || !b->ended_ms || b->counted ||
		    now_ms < b->ended_ms + r->period_ms + ROSTER_SETTLE_MS)
			continue;
		b->counted = 1;
		ev.count = b->played;
		ev.of = b->targeted;
		ev.broadcast = b->id;
		fn(arg, &ev);
	}
}

void roster_sweep(struct roster *r, uint64_t now_ms, roster_event_fn fn, void *arg)
{
	sweep_endpoints(r, now_ms, fn, arg);
	sweep_villages(r, now_ms, fn, arg);
	sweep_broadcasts(r, now_ms, fn, arg);
}
