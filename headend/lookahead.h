/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Audio authentication on the sending side: RTP packets of one broadcast are built up to a
 * second and a quarter before their tick, so that a signed MANIFEST of their hashes can go out
 * ahead of them (docs/protocol.md, section 4.6). The engine decides what audio goes in and
 * sends what comes out; signing is headend/keys.c's. */
#ifndef CX_HEADEND_LOOKAHEAD_H
#define CX_HEADEND_LOOKAHEAD_H

#include <stddef.h>

#include "proto/proto.h"

#define LOOKAHEAD_MAX 64	/* packets built ahead of their tick */
#define MANIFEST_EVERY 25	/* packets between MANIFESTs: each packet is listed twice */

struct lookahead;

/* An empty look-ahead, or NULL without memory. Free with lookahead_free. */
struct lookahead *lookahead_new(void);
void lookahead_free(struct lookahead *a);

/* Packets built and not yet sent; 1 if no more fit. */
size_t lookahead_count(const struct lookahead *a);
int lookahead_full(const struct lookahead *a);

/* Build r (payload copied) behind the others. 0, or -1 if full or the payload is too long. */
__attribute__((warn_unused_result))
int lookahead_push(struct lookahead *a, const struct proto_rtp *r);

/* The packet to send next and its length, or NULL if none is built; pop drops it once sent. */
const unsigned char *lookahead_peek(const struct lookahead *a, size_t *len);
void lookahead_pop(struct lookahead *a);

/* 1 if a MANIFEST is due before the next packet goes out: c then has its broadcast, first seq
 * and hashes (type, clock and signature are the caller's). 0 if none is due. */
int lookahead_manifest(struct lookahead *a, struct proto_control *c);

#endif
