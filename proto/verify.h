/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What an endpoint checks before it acts on a packet: the signer's key, the signature, the
 * clock window and the replay window of control packets, and each RTP packet against the hashes
 * of signed MANIFESTs. No sockets and no clock of its own: callers pass the time in. */
#ifndef CX_PROTO_VERIFY_H
#define CX_PROTO_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define PROTO_WINDOW 1024	/* serials remembered behind the highest one */
#define PROTO_AUDIO_SLOTS 128	/* hashes kept: over two seconds of audio */

enum proto_reject {
	PROTO_ACCEPT = 0,
	PROTO_REJECT_SIGNATURE,		/* the signature, or an audio hash, does not match */
	PROTO_REJECT_KEY,		/* signed by a key this endpoint does not trust */
	PROTO_REJECT_REPLAY,		/* seen before, or older than the replay window */
	PROTO_REJECT_STALE,		/* sent_ms outside the clock window */
	PROTO_REJECT_MALFORMED,		/* refused by the parser */
	PROTO_REJECT_UNVERIFIED,	/* audio that no MANIFEST received so far covers */
	PROTO_REJECT_COUNT
};

struct proto_trusted {
	int set;
	uint32_t id;
	unsigned char pk[PROTO_PUBLIC_KEY];
};

struct proto_audio_slot {
	int valid;
	uint32_t ssrc;
	uint16_t seq;
	unsigned char hash[PROTO_HASH];
};

struct proto_verifier {
	struct proto_trusted key;	/* signs now */
	struct proto_trusted next;	/* announced by KEY; replaces key once it signs a packet */
	uint64_t tolerance_ms;		/* allowed |sent_ms - now| */
	uint64_t floor_ms;		/* nothing sent before this is taken */

	int synced;			/* an (epoch, serial) has been accepted */
	uint32_t epoch, top;		/* the newest epoch and its highest serial */
	uint64_t window[PROTO_WINDOW / 64];	/* bit i set: serial top - i accepted */

	struct proto_audio_slot audio[PROTO_AUDIO_SLOTS];	/* by seq modulo the size */
};

/* Start trusting pk. Packets must carry a sent_ms within tolerance_ms of the clock passed to
 * each check, and none sent before now_ms - tolerance_ms / 10 (this start) is taken. */
void proto_verifier_init(struct proto_verifier *v, const unsigned char pk[PROTO_PUBLIC_KEY],
			 uint64_t tolerance_ms, uint64_t now_ms);

/* Check a control packet of len bytes at wall-clock time now_ms (ms since 1970). On
 * PROTO_ACCEPT c holds it, and the verifier has learnt what it carries: the replay window, a
 * KEY's new key, a MANIFEST's hashes. Otherwise nothing has changed. */
enum proto_reject proto_verifier_control(struct proto_verifier *v, const unsigned char *buf,
					 size_t len, uint64_t now_ms, struct proto_control *c);

/* Check an RTP packet already parsed as r against the MANIFESTs received. Each hash is taken
 * once: a second copy of a packet is PROTO_REJECT_UNVERIFIED. */
enum proto_reject proto_verifier_audio(struct proto_verifier *v, const unsigned char *buf,
				       size_t len, const struct proto_rtp *r);

/* "bad signature", "unknown key", "replay", "stale", "malformed", "unverified". */
const char *proto_reject_name(enum proto_reject r);

#endif
