/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One simulated loudspeaker receiver of tools/fleet: follows START and END as the reference
 * endpoint does, plays out through a jitter buffer of a few frames, and accounts for every
 * 20 ms frame whether it came from its own packet, from the next packet's in-band FEC, from a
 * second copy, or was concealed. A sampled receiver also checks signatures and audio hashes
 * (proto/verify.h) and runs the Opus decoder; the others parse and account only. Sockets,
 * faults and timing are tools/fleet.c's. */
#ifndef CX_TOOLS_FLEET_H
#define CX_TOOLS_FLEET_H

#include <opus/opus.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "proto/verify.h"
#include "tools/impair.h"

#define FLEET_WINDOW 64		/* frames tracked around the playout point */
#define FLEET_MAX_DEPTH 32	/* deepest jitter buffer, frames */
#define FLEET_STASH 32		/* packets kept that arrived before their START */
#define FLEET_RECENT 16		/* broadcast ids remembered as finished or not ours */
#define FLEET_LATE_JOIN 16	/* a first packet this many frames in is a late join */

enum fleet_end { FLEET_END, FLEET_SILENCE, FLEET_REPLACED, FLEET_REBOOT, FLEET_EXIT };

/* One broadcast as one receiver heard it. */
struct fleet_result {
	uint32_t broadcast;
	uint32_t frames;		/* played out: packet + fec + copy + concealed */
	uint32_t packet, fec, copy, concealed;
	uint32_t longest_run;		/* most concealed frames in a row */
	uint32_t run_at;		/* frames into the broadcast where that run began */
	uint32_t missed;		/* frames of the broadcast before a late join */
	uint32_t planned;		/* frames the START announced, 0 if unknown */
	uint32_t received, duplicates, late, rejected, decode_errors;
	uint64_t rtp_bytes, control_bytes;	/* UDP payload bytes of its datagrams */
	uint32_t rtp_packets, control_packets;
	double join_ms;			/* after a reboot: up to first frame played, else -1 */
	enum fleet_end how;
};

/* Settings shared by every receiver of a run. */
struct fleet_params {
	int depth;		/* jitter buffer, frames: frame s plays once s + depth has come */
	double period_ms;	/* one frame: 20 ms divided by the head-end's pace */
	double silence_ms;	/* no packet of the broadcast for this long: it is over */
	int copy_delay;		/* the head-end's second-copy delay in packets, -1 if unknown */
	void (*on_start)(void *arg, const struct proto_control *c);	/* every START taken */
	void *arg;
};

struct fleet_slot {
	uint16_t seq;
	uint8_t flags;		/* FLEET_SLOT_* in fleet_rx.c */
	uint8_t arrivals;
	uint16_t len;
};

struct fleet_stash {
	uint32_t ssrc;
	uint16_t seq, len;
};

struct fleet_rx {
	struct impair im;	/* this receiver's own path */
	int sample;		/* verifies and decodes */
	unsigned char pk[PROTO_PUBLIC_KEY];	/* the head-end's key, for after a reboot */
	struct proto_verifier *ver;	/* sample only */
	OpusDecoder *dec;		/* sample only */
	unsigned char *pkts;		/* sample only: FLEET_WINDOW + FLEET_STASH packets */
	double decode_ns;		/* time spent in the decoder */
	unsigned long decoded;

	/* The broadcast on air, if any. */
	int active, started, ending;
	uint32_t bc, planned;
	uint16_t first, play, top, last;
	uint32_t listed_ssrc[PROTO_AUDIO_SLOTS];	/* non-sample: what MANIFESTs listed, by */
	uint16_t listed_seq[PROTO_AUDIO_SLOTS];		/* seq modulo the size, as the verifier */
	double last_packet, end_by, back_at;	/* back_at: when a reboot ended, else < 0 */
	uint32_t run;
	struct fleet_slot slot[FLEET_WINDOW];
	struct fleet_result cur;

	uint32_t finished[FLEET_RECENT], foreign_ids[FLEET_RECENT];
	unsigned n_finished, n_foreign;
	struct fleet_stash stash[FLEET_STASH];
	unsigned n_stash;

	struct fleet_result *results;
	size_t n_results, cap_results;
	unsigned long foreign;		/* packets of broadcasts that do not address it */
	unsigned long stray;		/* packets of broadcasts it has finished */
	unsigned long idle_rejects;	/* refused between broadcasts */
};

/* Set up a receiver. pk is the head-end's public key (used by sampled receivers only).
 * Returns 0, or -1 without memory or decoder. */
__attribute__((warn_unused_result))
int fleet_rx_init(struct fleet_rx *rx, const struct impair_config *faults, double period_ms,
		  uint64_t seed, int sample, const unsigned char pk[PROTO_PUBLIC_KEY],
		  uint64_t tolerance_ms, uint64_t wall_ms);
void fleet_rx_free(struct fleet_rx *rx);

/* A datagram delivered to endpoint id at now_ms (monotonic) and wall_ms (for signatures). */
void fleet_rx_packet(struct fleet_rx *rx, const struct fleet_params *p, uint64_t id,
		     const unsigned char *buf, size_t len, double now_ms, uint64_t wall_ms);

/* The receiver's path lost this datagram: remembered so that a copy arriving later is
 * counted as recovered by redundancy. */
void fleet_rx_lost(struct fleet_rx *rx, const unsigned char *buf, size_t len);

/* Timers: the grace after END and the silence limit. */
void fleet_rx_tick(struct fleet_rx *rx, const struct fleet_params *p, double now_ms);

/* Power off: the broadcast on air ends as FLEET_REBOOT and everything learnt is forgotten. */
void fleet_rx_reboot(struct fleet_rx *rx, const struct fleet_params *p, double now_ms);

/* Power back on at now_ms with a fresh verifier and decoder. */
void fleet_rx_back(struct fleet_rx *rx, double now_ms, uint64_t tolerance_ms, uint64_t wall_ms);

/* End of the run: the broadcast on air, if any, is finished as FLEET_EXIT. */
void fleet_rx_close(struct fleet_rx *rx, const struct fleet_params *p, double now_ms);

/* Complete audio: every frame the START announced played (or, if it announced none, heard
 * to its END), at least 99 % of them from real data, never two concealed in a row; frames
 * missed at the start count as concealed unless the receiver was rebooted. */
int fleet_result_complete(const struct fleet_result *r);

const char *fleet_end_name(enum fleet_end how);

#endif
