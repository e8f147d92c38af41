/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The endpoint's checks, cheapest first so that a flood of forgeries costs a signature check
 * only when everything else about it is plausible. State changes only on acceptance. */
#include "proto/verify.h"

#include <sodium.h>
#include <string.h>

#include "proto/sign.h"

#define WORDS (PROTO_WINDOW / 64)

void proto_verifier_init(struct proto_verifier *v, const unsigned char pk[PROTO_PUBLIC_KEY],
			 uint64_t tolerance_ms, uint64_t now_ms)
{
	memset(v, 0, sizeof(*v));
	v->key.set = 1;
	v->key.id = proto_key_id(pk);
	memcpy(v->key.pk, pk, PROTO_PUBLIC_KEY);
	v->tolerance_ms = tolerance_ms;

	/* A recording made before this start is a replay even inside the clock window; a tenth
	 * of the tolerance absorbs ordinary clock error. */
	v->floor_ms = now_ms > tolerance_ms / 10 ? now_ms - tolerance_ms / 10 : 0;
}

static const struct proto_trusted *find_key(const struct proto_verifier *v, uint32_t id)
{
	if (v->key.set && v->key.id == id)
		return &v->key;
	if (v->next.set && v->next.id == id)
		return &v->next;
	return NULL;
}

static int stale(const struct proto_verifier *v, uint64_t sent_ms, uint64_t now_ms)
{
	return sent_ms < v->floor_ms || sent_ms + v->tolerance_ms < now_ms ||
	       sent_ms > now_ms + v->tolerance_ms;
}

static int window_bit(const uint64_t *w, uint32_t i)
{
	return (int)(w[i / 64] >> (i % 64) & 1);
}

static int replayed(const struct proto_verifier *v, uint32_t epoch, uint32_t serial)
{
	if (!v->synced || epoch > v->epoch)
		return 0;
	if (epoch < v->epoch)
		return 1;
	if (serial > v->top)
		return 0;
	return v->top - serial >= PROTO_WINDOW || window_bit(v->window, v->top - serial);
}

/* Move every bit k places towards the old end; what falls off is forgotten. */
static void window_shift(uint64_t *w, uint32_t k)
{
	uint32_t words = k / 64, bits = k % 64;

	for (uint32_t i = WORDS; i-- > 0;) {
		uint64_t x = 0;

		if (k < PROTO_WINDOW && i >= words) {
			x = w[i - words] << bits;
			if (bits && i > words)
				x |= w[i - words - 1] >> (64 - bits);
		}
		w[i] = x;
	}
}

static void window_accept(struct proto_verifier *v, uint32_t epoch, uint32_t serial)
{
	if (!v->synced || epoch > v->epoch) {
		v->synced = 1;
		v->epoch = epoch;
		v->top = serial;
		memset(v->window, 0, sizeof(v->window));
	} else if (serial > v->top) {
		window_shift(v->window, serial - v->top);
		v->top = serial;
	}
	v->window[(v->top - serial) / 64] |= 1ull << ((v->top - serial) % 64);
}

static void learn(struct proto_verifier *v, const struct proto_control *c,
		  const struct proto_trusted *signer)
{
	/* The first packet signed by the announced key retires the old one. */
	if (signer == &v->next) {
		v->key = v->next;
		memset(&v->next, 0, sizeof(v->next));
	}
	if (c->type == PROTO_KEY && c->new_key_id != v->key.id) {
		v->next.set = 1;
		v->next.id = c->new_key_id;
		memcpy(v->next.pk, c->new_key, PROTO_PUBLIC_KEY);
	}
	if (c->type == PROTO_MANIFEST) {
		for (unsigned i = 0; i < c->n_hashes; i++) {
			uint16_t seq = (uint16_t)(c->seq + i);
			struct proto_audio_slot *s = &v->audio[seq % PROTO_AUDIO_SLOTS];

			s->valid = 1;
			s->ssrc = c->broadcast;
			s->seq = seq;
			memcpy(s->hash, c->hashes[i], PROTO_HASH);
		}
	}
}

enum proto_reject proto_verifier_control(struct proto_verifier *v, const unsigned char *buf,
					 size_t len, uint64_t now_ms, struct proto_control *c)
{
	const struct proto_trusted *signer;

	if (proto_control_parse(buf, len, c) != PROTO_OK)
		return PROTO_REJECT_MALFORMED;
	if (c->type == PROTO_KEY && c->new_key_id != proto_key_id(c->new_key))
		return PROTO_REJECT_MALFORMED;
	signer = find_key(v, c->key_id);
	if (!signer)
		return PROTO_REJECT_KEY;
	if (stale(v, c->sent_ms, now_ms))
		return PROTO_REJECT_STALE;
	if (replayed(v, c->epoch, c->serial))
		return PROTO_REJECT_REPLAY;
	if (!proto_verify(buf, len, signer->pk))
		return PROTO_REJECT_SIGNATURE;

	window_accept(v, c->epoch, c->serial);
	learn(v, c, signer);
	return PROTO_ACCEPT;
}

enum proto_reject proto_verifier_audio(struct proto_verifier *v, const unsigned char *buf,
				       size_t len, const struct proto_rtp *r)
{
	struct proto_audio_slot *s = &v->audio[r->seq % PROTO_AUDIO_SLOTS];
	unsigned char hash[PROTO_HASH];

	if (!s->valid || s->ssrc != r->ssrc || s->seq != r->seq)
		return PROTO_REJECT_UNVERIFIED;
	proto_rtp_hash(buf, len, hash);
	if (sodium_memcmp(hash, s->hash, PROTO_HASH))
		return PROTO_REJECT_SIGNATURE;
	s->valid = 0;
	return PROTO_ACCEPT;
}

const char *proto_reject_name(enum proto_reject r)
{
	static const char *const names[] = {
		"accepted", "bad signature", "unknown key", "replay", "stale", "malformed",
		"unverified",
	};

	return (unsigned)r < PROTO_REJECT_COUNT ? names[r] : "?";
}
