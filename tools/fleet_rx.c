/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The receiver model of tools/fleet. Packets wait in a window of slots by sequence number;
 * frame s is played out once a packet depth frames newer has arrived (or at END, or after
 * silence), from its own packet if one verified, else from the next packet's in-band FEC,
 * else by concealment. A second copy of a packet already held is counted and dropped before
 * it reaches the verifier, which takes each audio hash once. */
#include "tools/fleet.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/sign.h"

#define SLOT_USED 1		/* the slot belongs to slot.seq */
#define SLOT_HAVE 2		/* a packet of it is held */
#define SLOT_VERIFIED 4
#define SLOT_BAD 8		/* failed verification: as good as lost */
#define SLOT_COPY 16		/* the packet held is a second copy: the first was lost */
#define SLOT_LOST 32		/* this receiver's path lost a copy of it */

#define FRAME 960
#define MAX_SAMPLES 5760	/* 120 ms, the longest Opus packet */
#define MAX_FINISH 3000		/* frames played out at most when a broadcast ends */

enum source { FROM_PACKET, FROM_FEC, FROM_COPY, CONCEALED };

int fleet_rx_init(struct fleet_rx *rx, const struct impair_config *faults, double period_ms,
		  uint64_t seed, int sample, const unsigned char pk[PROTO_PUBLIC_KEY],
		  uint64_t tolerance_ms, uint64_t wall_ms)
{
	int err;

	memset(rx, 0, sizeof(*rx));
	impair_init(&rx->im, faults, period_ms, seed);
	rx->back_at = -1;
	rx->sample = sample;
	if (!sample)
		return 0;
	memcpy(rx->pk, pk, PROTO_PUBLIC_KEY);
	rx->ver = malloc(sizeof(*rx->ver));
	rx->pkts = malloc((size_t)(FLEET_WINDOW + FLEET_STASH) * PROTO_MAX_RTP);
	rx->dec = opus_decoder_create(48000, 1, &err);
	if (!rx->ver || !rx->pkts || !rx->dec) {
		fleet_rx_free(rx);
		return -1;
	}
	proto_verifier_init(rx->ver, pk, tolerance_ms, wall_ms);
	return 0;
}

void fleet_rx_free(struct fleet_rx *rx)
{
	free(rx->ver);
	free(rx->pkts);
	if (rx->dec)
		opus_decoder_destroy(rx->dec);
	free(rx->results);
	rx->ver = NULL;
	rx->pkts = NULL;
	rx->dec = NULL;
	rx->results = NULL;
}

static struct fleet_slot *slot_of(struct fleet_rx *rx, uint16_t seq)
{
	return &rx->slot[seq % FLEET_WINDOW];
}

static int slot_is(const struct fleet_slot *s, uint16_t seq)
{
	return (s->flags & SLOT_USED) && s->seq == seq;
}

static unsigned char *slot_packet(struct fleet_rx *rx, uint16_t seq)
{
	return rx->pkts + (size_t)(seq % FLEET_WINDOW) * PROTO_MAX_RTP;
}

static unsigned char *stash_packet(struct fleet_rx *rx, unsigned i)
{
	return rx->pkts + (size_t)(FLEET_WINDOW + i) * PROTO_MAX_RTP;
}

static int known(const uint32_t *ids, unsigned n, uint32_t id)
{
	for (unsigned i = 0; i < n && i < FLEET_RECENT; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static void remember(uint32_t *ids, unsigned *n, uint32_t id)
{
	if (!known(ids, *n, id))
		ids[(*n)++ % FLEET_RECENT] = id;
}

/* Verification: sampled receivers check the hash against the MANIFESTs they verified; the
 * others only ask whether a MANIFEST they parsed listed the packet, so that both start and
 * stop hearing at the same packets. */
static int listed(const struct fleet_rx *rx, uint16_t seq)
{
	return rx->listed_ssrc[seq % PROTO_AUDIO_SLOTS] == rx->bc &&
	       rx->listed_seq[seq % PROTO_AUDIO_SLOTS] == seq;
}

static int check_audio(struct fleet_rx *rx, const unsigned char *pkt, size_t len, uint16_t seq)
{
	struct proto_rtp r;

	if (!rx->sample)
		return listed(rx, seq);
	if (proto_rtp_parse(pkt, len, &r) != PROTO_OK)
		return 0;
	return proto_verifier_audio(rx->ver, pkt, len, &r) == PROTO_ACCEPT;
}

static int verified(struct fleet_rx *rx, uint16_t seq)
{
	struct fleet_slot *s = slot_of(rx, seq);

	if (!slot_is(s, seq) || !(s->flags & SLOT_HAVE) || (s->flags & SLOT_BAD))
		return 0;
	if (s->flags & SLOT_VERIFIED)
		return 1;
	if (check_audio(rx, rx->sample ? slot_packet(rx, seq) : NULL, s->len, seq)) {
		s->flags |= SLOT_VERIFIED;
		return 1;
	}
	s->flags |= SLOT_BAD;
	rx->cur.rejected++;
	return 0;
}

/* Sampled receivers decode what a loudspeaker would play, and time the decoder. */
static void decode(struct fleet_rx *rx, uint16_t seq, enum source src)
{
	static opus_int16 pcm[MAX_SAMPLES];
	uint16_t from = src == FROM_FEC ? (uint16_t)(seq + 1) : seq;
	const unsigned char *data = src == CONCEALED ? NULL : slot_packet(rx, from);
	opus_int32 len = src == CONCEALED ? 0 : slot_of(rx, from)->len - PROTO_RTP_HEADER;
	struct timespec t0, t1;
	int n;

	if (!rx->sample)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = opus_decode(rx->dec, data ? data + PROTO_RTP_HEADER : NULL, len, pcm,
			src == FROM_PACKET || src == FROM_COPY ? MAX_SAMPLES : FRAME,
			src == FROM_FEC);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rx->decode_ns += (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
	rx->decoded++;
	if (n < 0)
		rx->cur.decode_errors++;
}

static void tally(struct fleet_rx *rx, enum source src)
{
	struct fleet_result *r = &rx->cur;

	r->frames++;
	switch (src) {
	case FROM_PACKET: r->packet++; break;
	case FROM_FEC: r->fec++; break;
	case FROM_COPY: r->copy++; break;
	case CONCEALED: r->concealed++; break;
	}
	rx->run = src == CONCEALED ? rx->run + 1 : 0;
	if (rx->run > r->longest_run) {
		r->longest_run = rx->run;
		r->run_at = r->missed + r->frames - rx->run;
	}
}

static void play_one(struct fleet_rx *rx)
{
	uint16_t s = rx->play++;
	enum source src = CONCEALED;

	if (verified(rx, s))
		src = slot_of(rx, s)->flags & SLOT_COPY ? FROM_COPY : FROM_PACKET;
	else if (verified(rx, (uint16_t)(s + 1)))
		src = FROM_FEC;
	decode(rx, s, src);
	tally(rx, src);
}

/* Play out every frame up to and including seq. */
static void play_until(struct fleet_rx *rx, uint16_t seq)
{
	for (int n = 0; (int16_t)(seq - rx->play) >= 0 && n < MAX_FINISH; n++)
		play_one(rx);
}

static int push_result(struct fleet_rx *rx)
{
	if (rx->n_results == rx->cap_results) {
		size_t cap = rx->cap_results ? 2 * rx->cap_results : 4;
		struct fleet_result *r = realloc(rx->results, cap * sizeof(*r));

		if (!r)
			return -1;
		rx->results = r;
		rx->cap_results = cap;
	}
	rx->results[rx->n_results++] = rx->cur;
	return 0;
}

/* The broadcast on air is over. What is still buffered plays out unless the receiver lost
 * power or another broadcast took over. */
static void finish(struct fleet_rx *rx, enum fleet_end how)
{
	if (!rx->active)
		return;
	if (rx->started && how != FLEET_REBOOT && how != FLEET_REPLACED)
		play_until(rx, rx->ending ? rx->last : (uint16_t)(rx->top - 1));
	rx->cur.how = how;
	rx->cur.planned = rx->planned;
	if (push_result(rx))
		rx->cur.broadcast = 0;
	remember(rx->finished, &rx->n_finished, rx->bc);
	rx->active = 0;
}

static int all_present(struct fleet_rx *rx)
{
	for (uint16_t s = rx->play; (int16_t)(s - rx->last) <= 0; s++)
		if (!slot_is(slot_of(rx, s), s) || !(slot_of(rx, s)->flags & SLOT_HAVE))
			return 0;
	return 1;
}

static void try_end(struct fleet_rx *rx, double now_ms)
{
	if (!rx->ending)
		return;
	if (now_ms >= rx->end_by || (rx->started && all_present(rx)))
		finish(rx, FLEET_END);
}

/* The first packet of a broadcast starts the playout. Far into the broadcast it is a late
 * join: playing starts at the first packet that can be verified, and what went before is
 * reported as missed, not lost. Returns 0 if this packet cannot start it. */
static int start_playout(struct fleet_rx *rx, const unsigned char *pkt, size_t len,
			 uint16_t seq, double now_ms)
{
	int16_t d = (int16_t)(seq - rx->first);

	if (d < 0)
		return 0;
	if (d > FLEET_LATE_JOIN) {
		if (!check_audio(rx, pkt, len, seq))
			return 0;
		rx->cur.missed = (uint32_t)d;
		rx->play = rx->top = seq;
		slot_of(rx, seq)->flags = SLOT_USED | SLOT_VERIFIED;
		slot_of(rx, seq)->seq = seq;
	}
	if (rx->back_at >= 0) {
		rx->cur.join_ms = now_ms - rx->back_at;
		rx->back_at = -1;
	}
	rx->started = 1;
	return 1;
}

/* A packet behind the playout point: a copy of a frame played, or one that came too late. */
static void behind(struct fleet_rx *rx, uint16_t seq)
{
	struct fleet_slot *s = slot_of(rx, seq);

	if (slot_is(s, seq) && (s->flags & SLOT_HAVE))
		rx->cur.duplicates++;
	else
		rx->cur.late++;
	if (slot_is(s, seq) && s->arrivals < 255)
		s->arrivals++;
}

/* A lone packet is a second copy if this receiver's own path lost the first; or, for losses
 * upstream, if it came copy_delay packets behind the newest, which only holds while nothing
 * on the receiver's path reorders packets. */
static int is_copy(const struct fleet_rx *rx, const struct fleet_params *p,
		   const struct fleet_slot *s, uint16_t seq)
{
	if (slot_is(s, seq) && (s->flags & SLOT_LOST))
		return 1;
	return p->copy_delay >= 1 && rx->im.c.jitter_ms <= 0 && rx->im.c.reorder <= 0 &&
	       (int16_t)(rx->top - 1 - seq) >= p->copy_delay;
}

/* Checked on arrival when its MANIFEST is in (else at playout), so that a forgery held in
 * a slot gives way to the genuine copy after it. */
static void check_early(struct fleet_rx *rx, struct fleet_slot *s, const unsigned char *pkt,
			size_t len, uint16_t seq)
{
	struct proto_rtp r;
	enum proto_reject why;

	if (!rx->sample) {
		if (listed(rx, seq))
			s->flags |= SLOT_VERIFIED;
		return;
	}
	if (proto_rtp_parse(pkt, len, &r) != PROTO_OK)
		return;
	why = proto_verifier_audio(rx->ver, pkt, len, &r);
	if (why == PROTO_ACCEPT) {
		s->flags |= SLOT_VERIFIED;
	} else if (why != PROTO_REJECT_UNVERIFIED) {
		s->flags |= SLOT_BAD;
		rx->cur.rejected++;
	}
}

static void hold(struct fleet_rx *rx, const struct fleet_params *p, const unsigned char *pkt,
		 size_t len, uint16_t seq)
{
	struct fleet_slot *s = slot_of(rx, seq);
	int copy;

	if (slot_is(s, seq) && (s->flags & SLOT_HAVE) && !(s->flags & SLOT_BAD)) {
		rx->cur.duplicates++;	/* dropped before the verifier sees it */
		if (s->arrivals < 255)
			s->arrivals++;
		return;
	}
	copy = is_copy(rx, p, s, seq) || (slot_is(s, seq) && (s->flags & SLOT_BAD));
	s->flags = (uint8_t)(SLOT_USED | SLOT_HAVE | (copy ? SLOT_COPY : 0) |
			     (slot_is(s, seq) ? s->flags & SLOT_VERIFIED : 0));
	s->seq = seq;
	s->arrivals = 1;
	s->len = (uint16_t)len;
	if (rx->sample)
		memcpy(slot_packet(rx, seq), pkt, len);
	if (!(s->flags & SLOT_VERIFIED))
		check_early(rx, s, pkt, len, seq);
	rx->cur.received++;
	if ((int16_t)(seq - rx->top) >= 0)
		rx->top = (uint16_t)(seq + 1);
}

static void on_audio(struct fleet_rx *rx, const struct fleet_params *p,
		     const unsigned char *pkt, size_t len, uint16_t seq, double now_ms)
{
	rx->cur.rtp_packets++;
	rx->cur.rtp_bytes += len;
	rx->last_packet = now_ms;
	if (!rx->started && !start_playout(rx, pkt, len, seq, now_ms))
		return;
	if ((int16_t)(seq - rx->play) < 0) {
		behind(rx, seq);
		return;
	}
	if ((int16_t)(seq - rx->play) >= FLEET_WINDOW - 1)
		play_until(rx, (uint16_t)(seq - (FLEET_WINDOW - 2)));
	hold(rx, p, pkt, len, seq);
	while ((int16_t)(rx->top - rx->play) > p->depth)
		play_one(rx);
	try_end(rx, now_ms);
}

/* Audio of a broadcast this receiver is not playing: not its business, left over from one it
 * finished, or early (its START is still on the way): kept for a moment. */
static void not_current(struct fleet_rx *rx, const unsigned char *pkt, size_t len,
			uint16_t seq, uint32_t ssrc)
{
	unsigned i = rx->n_stash % FLEET_STASH;

	if (known(rx->foreign_ids, rx->n_foreign, ssrc)) {
		rx->foreign++;
		return;
	}
	if (known(rx->finished, rx->n_finished, ssrc)) {
		rx->stray++;
		return;
	}
	rx->stash[i] = (struct fleet_stash){ ssrc, seq, (uint16_t)len };
	if (rx->sample)
		memcpy(stash_packet(rx, i), pkt, len);
	rx->n_stash++;
}

/* Stashed packets of ssrc: played once its START has come (play non-zero), otherwise counted
 * as not this receiver's. Oldest first. */
static void drain_stash(struct fleet_rx *rx, const struct fleet_params *p, uint32_t ssrc,
			int play, double now_ms)
{
	unsigned n = rx->n_stash < FLEET_STASH ? rx->n_stash : FLEET_STASH;
	unsigned from = rx->n_stash < FLEET_STASH ? 0 : rx->n_stash % FLEET_STASH;

	for (unsigned k = 0; k < n; k++) {
		struct fleet_stash *st = &rx->stash[(from + k) % FLEET_STASH];

		if (st->ssrc != ssrc || !st->len)
			continue;
		if (play && rx->active)
			on_audio(rx, p, rx->sample ? stash_packet(rx, (from + k) % FLEET_STASH) :
				 NULL, st->len, st->seq, now_ms);
		else
			rx->foreign++;
		st->len = 0;
	}
}

static void begin(struct fleet_rx *rx, const struct proto_control *c, double now_ms)
{
	rx->active = 1;
	rx->started = rx->ending = 0;
	rx->bc = c->broadcast;
	rx->planned = c->frames;
	rx->first = rx->play = rx->top = c->seq;
	rx->last_packet = now_ms;
	rx->run = 0;
	memset(rx->slot, 0, sizeof(rx->slot));
	memset(&rx->cur, 0, sizeof(rx->cur));
	rx->cur.broadcast = c->broadcast;
	rx->cur.join_ms = -1;
	if (rx->sample)
		opus_decoder_ctl(rx->dec, OPUS_RESET_STATE);
}

static void on_start(struct fleet_rx *rx, const struct fleet_params *p,
		     const struct proto_control *c, double now_ms)
{
	if (rx->active && rx->bc == c->broadcast) {
		if (c->frames)
			rx->planned = c->frames;
		return;
	}
	if (known(rx->finished, rx->n_finished, c->broadcast))
		return;
	finish(rx, FLEET_REPLACED);
	begin(rx, c, now_ms);
	drain_stash(rx, p, c->broadcast, 1, now_ms);
}

static void on_end(struct fleet_rx *rx, const struct fleet_params *p,
		   const struct proto_control *c, double now_ms)
{
	if (!rx->active || rx->bc != c->broadcast)
		return;
	if (!rx->ending) {
		rx->ending = 1;
		rx->last = c->seq;
		rx->end_by = now_ms + (p->depth + 4) * p->period_ms;
	}
	try_end(rx, now_ms);
}

static void on_manifest(struct fleet_rx *rx, const struct proto_control *c)
{
	if (known(rx->foreign_ids, rx->n_foreign, c->broadcast)) {
		rx->foreign++;
		return;
	}
	if (rx->sample)
		return;		/* the verifier has taken its hashes */
	for (unsigned i = 0; i < c->n_hashes; i++) {
		uint16_t seq = (uint16_t)(c->seq + i);

		rx->listed_ssrc[seq % PROTO_AUDIO_SLOTS] = c->broadcast;
		rx->listed_seq[seq % PROTO_AUDIO_SLOTS] = seq;
	}
}

static void on_control(struct fleet_rx *rx, const struct fleet_params *p, uint64_t id,
		       const struct proto_control *c, size_t len, double now_ms)
{
	int mine;

	if (c->type == PROTO_KEEPALIVE || c->type == PROTO_KEY)
		return;
	if (c->type == PROTO_START && p->on_start)
		p->on_start(p->arg, c);
	if (c->type == PROTO_MANIFEST) {
		on_manifest(rx, c);
	} else if (!proto_control_addresses(c, id)) {
		remember(rx->foreign_ids, &rx->n_foreign, c->broadcast);
		rx->foreign++;
		drain_stash(rx, p, c->broadcast, 0, now_ms);
		return;
	} else if (c->type == PROTO_START) {
		on_start(rx, p, c, now_ms);
	}
	mine = rx->active && rx->bc == c->broadcast;
	if (mine) {
		rx->cur.control_packets++;
		rx->cur.control_bytes += len;
	}
	if (c->type == PROTO_END)
		on_end(rx, p, c, now_ms);
}

static void count_reject(struct fleet_rx *rx)
{
	if (rx->active)
		rx->cur.rejected++;
	else
		rx->idle_rejects++;
}

void fleet_rx_packet(struct fleet_rx *rx, const struct fleet_params *p, uint64_t id,
		     const unsigned char *buf, size_t len, double now_ms, uint64_t wall_ms)
{
	struct proto_control c;
	struct proto_rtp r;

	switch (proto_classify(buf, len)) {
	case PROTO_PACKET_RTP:
		if (len > PROTO_MAX_RTP || proto_rtp_parse(buf, len, &r) != PROTO_OK)
			break;
		if (rx->active && r.ssrc == rx->bc)
			on_audio(rx, p, buf, len, r.seq, now_ms);
		else
			not_current(rx, buf, len, r.seq, r.ssrc);
		return;
	case PROTO_PACKET_CONTROL:
		if (rx->sample ? proto_verifier_control(rx->ver, buf, len, wall_ms, &c) !=
				 PROTO_ACCEPT : proto_control_parse(buf, len, &c) != PROTO_OK)
			break;
		on_control(rx, p, id, &c, len, now_ms);
		return;
	default:
		break;
	}
	count_reject(rx);
}

void fleet_rx_lost(struct fleet_rx *rx, const unsigned char *buf, size_t len)
{
	struct proto_rtp r;
	struct fleet_slot *s;

	if (!rx->active || proto_classify(buf, len) != PROTO_PACKET_RTP ||
	    proto_rtp_parse(buf, len, &r) != PROTO_OK || r.ssrc != rx->bc ||
	    (int16_t)(r.seq - rx->play) < 0 || (int16_t)(r.seq - rx->play) >= FLEET_WINDOW)
		return;
	s = slot_of(rx, r.seq);
	if (!slot_is(s, r.seq)) {
		s->seq = r.seq;
		s->flags = SLOT_USED;
		s->arrivals = 0;
	}
	s->flags |= SLOT_LOST;
}

void fleet_rx_tick(struct fleet_rx *rx, const struct fleet_params *p, double now_ms)
{
	if (!rx->active)
		return;
	if (rx->ending)
		try_end(rx, now_ms);
	else if (now_ms - rx->last_packet > p->silence_ms)
		finish(rx, FLEET_SILENCE);
}

void fleet_rx_reboot(struct fleet_rx *rx, const struct fleet_params *p, double now_ms)
{
	(void)p;
	(void)now_ms;
	finish(rx, FLEET_REBOOT);
	rx->n_finished = rx->n_foreign = rx->n_stash = 0;
	memset(rx->listed_ssrc, 0, sizeof(rx->listed_ssrc));
	rx->back_at = -1;
}

void fleet_rx_back(struct fleet_rx *rx, double now_ms, uint64_t tolerance_ms, uint64_t wall_ms)
{
	rx->back_at = now_ms;
	if (!rx->sample)
		return;
	proto_verifier_init(rx->ver, rx->pk, tolerance_ms, wall_ms);
	opus_decoder_ctl(rx->dec, OPUS_RESET_STATE);
}

void fleet_rx_close(struct fleet_rx *rx, const struct fleet_params *p, double now_ms)
{
	(void)p;
	(void)now_ms;
	finish(rx, FLEET_EXIT);
	for (unsigned i = 0; i < FLEET_STASH && i < rx->n_stash; i++)
		rx->stray += rx->stash[i].len != 0;
	rx->n_stash = 0;
}

/* Complete means every frame the START announced was played (a broadcast that went silent
 * before its END without announcing its length cannot be judged so, and is not complete).
 * A receiver that came back from a reboot is judged from where it joined; any other that
 * missed the start (its START was lost) has those frames counted as concealed. */
int fleet_result_complete(const struct fleet_result *r)
{
	uint64_t missed = r->join_ms >= 0 ? 0 : r->missed;
	uint64_t total = r->frames + missed;

	if (r->frames == 0 || (r->planned ? r->frames + r->missed < r->planned :
			       r->how != FLEET_END))
		return 0;
	return missed < 2 && r->longest_run < 2 &&
	       (uint64_t)(r->packet + r->fec + r->copy) * 100 >= total * 99;
}

const char *fleet_end_name(enum fleet_end how)
{
	static const char *const names[] = { "end", "silence", "replaced", "reboot", "exit" };

	return (unsigned)how < 5 ? names[how] : "?";
}
