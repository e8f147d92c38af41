/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A ring of built RTP packets with their hashes. A MANIFEST lists the next 50 packets from the
 * one about to be sent; one goes out whenever that packet is not yet listed, and otherwise
 * every 25 packets, so each packet is listed twice and the loss of one MANIFEST costs no
 * audio. */
#include "headend/lookahead.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sign.h"

struct lookahead {
	unsigned char pkt[LOOKAHEAD_MAX][PROTO_MAX_RTP];
	size_t len[LOOKAHEAD_MAX];
	unsigned char hash[LOOKAHEAD_MAX][PROTO_HASH];
	uint16_t seq[LOOKAHEAD_MAX];
	uint32_t ssrc;
	size_t head, count;
	uint64_t sent, built;		/* packets so far, counted from the broadcast's first */
	uint64_t listed;		/* packets before this one are in a MANIFEST */
	uint64_t listed_at;		/* sent when the last MANIFEST went */
	int any;			/* a MANIFEST has gone */
};

struct lookahead *lookahead_new(void)
{
	return calloc(1, sizeof(struct lookahead));
}

void lookahead_free(struct lookahead *a)
{
	free(a);
}

size_t lookahead_count(const struct lookahead *a)
{
	return a->count;
}

int lookahead_full(const struct lookahead *a)
{
	return a->count == LOOKAHEAD_MAX;
}

int lookahead_push(struct lookahead *a, const struct proto_rtp *r)
{
	size_t i = (a->head + a->count) % LOOKAHEAD_MAX;

	if (a->count == LOOKAHEAD_MAX || r->payload_len > PROTO_MAX_OPUS)
		return -1;
	a->len[i] = proto_rtp_pack(r, a->pkt[i], sizeof(a->pkt[i]));
	proto_rtp_hash(a->pkt[i], a->len[i], a->hash[i]);
	a->seq[i] = r->seq;
	a->ssrc = r->ssrc;
	a->count++;
	a->built++;
	return 0;
}

const unsigned char *lookahead_peek(const struct lookahead *a, size_t *len)
{
	if (!a->count)
		return NULL;
	*len = a->len[a->head];
	return a->pkt[a->head];
}

void lookahead_pop(struct lookahead *a)
{
	if (!a->count)
		return;
	a->head = (a->head + 1) % LOOKAHEAD_MAX;
	a->count--;
	a->sent++;
}

int lookahead_manifest(struct lookahead *a, struct proto_control *c)
{
	size_t n = a->count < PROTO_MANIFEST_MAX ? a->count : PROTO_MANIFEST_MAX;

	if (!n || (a->any && a->listed > a->sent && a->sent - a->listed_at < MANIFEST_EVERY))
		return 0;
	c->broadcast = a->ssrc;
	c->seq = a->seq[a->head];
	c->n_hashes = (uint8_t)n;
	for (size_t k = 0; k < n; k++)
		memcpy(c->hashes[k], a->hash[(a->head + k) % LOOKAHEAD_MAX], PROTO_HASH);
	if (a->sent + n > a->listed)
		a->listed = a->sent + n;
	a->listed_at = a->sent;
	a->any = 1;
	return 1;
}
