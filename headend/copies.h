/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Second copies of a broadcast's packets (multicast.second_copy): each RTP packet goes out
 * again a fixed number of packets after the first time, byte for byte, so that it verifies
 * against the same MANIFEST hash; and the control packets an endpoint cannot start without
 * go out twice as well, sealed afresh. The engine sends; this only remembers what is owed. */
#ifndef CX_HEADEND_COPIES_H
#define CX_HEADEND_COPIES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define COPIES_MAX_DELAY 3	/* packets; the three END ticks carry the copies still owed */
#define COPIES_SPACING 2	/* ticks between a control packet and its copies */

struct copies;

/* RTP copies delay packets later (0: right after the first; -1: none), and copies of control
 * packets if control is non-zero. NULL without memory or for a delay outside
 * -1..COPIES_MAX_DELAY. Free with copies_free. */
struct copies *copies_new(int delay, int control);
void copies_free(struct copies *c);

/* pkt has just been sent: returns the packet whose second copy is due now (pkt itself with
 * delay 0), with its length in *len, or NULL while none is due or RTP is not copied. */
const unsigned char *copies_push(struct copies *c, const unsigned char *pkt, size_t len,
				 size_t *out_len);

/* After the last packet: the oldest copy still owed, one per call, or NULL. */
const unsigned char *copies_flush(struct copies *c, size_t *out_len);

/* Control packet pc went out at tick: what an endpoint cannot play without goes out again,
 * every COPIES_SPACING ticks: the first START four times more, every MANIFEST twice more and
 * one that lists packets no earlier MANIFEST listed three times more. Nothing if control
 * copies are off. */
void copies_control(struct copies *c, const struct proto_control *pc, uint64_t tick);

/* 1 with *out set to a control packet owed at tick (to be sealed again), else 0. */
int copies_control_due(struct copies *c, uint64_t tick, struct proto_control *out);

#endif
