/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Status reports (回传) of tools/fleet's simulated loudspeakers: when each one sends, what it
 * says, and the signed datagram, by the rules the reference endpoint follows (docs/protocol.md,
 * section 8): a first report at start-up, then one each period, and one at once when it starts
 * playing a broadcast or finishes one. Unlike the reference endpoint, whose period starts
 * again after every report, the periodic reports here keep the phase of the first one: after a
 * district broadcast the reference endpoints would all report in step, and the fleet keeps
 * the even spread of independently started devices. No sockets and no clock of its own:
 * callers pass the time in, so that the schedule can be tested without waiting for it. */
#ifndef CX_TOOLS_FLEET_REPORT_H
#define CX_TOOLS_FLEET_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/report.h"
#include "tools/fleet.h"

#define FLEET_REPORT_VERSION "cx-fleet 1"

/* One loudspeaker's reporting state, from its start-up (or its last reboot) on. */
struct fleet_reporter {
	uint64_t id;				/* 15-digit endpoint code */
	unsigned char sk[PROTO_SECRET_KEY];	/* its own report key */
	uint32_t key_id;
	uint64_t boot;				/* start time, ms since 1970 */
	uint32_t seq;				/* from 1 */
	double up_ms;				/* monotonic time of the start, for uptime */
	uint32_t playing;			/* broadcast on air at this endpoint, else 0 */
	uint32_t last;				/* the last one it finished, else 0 */
	uint32_t base[3];			/* received, lost, rejected before the start */
};

/* When endpoint index (of n) sends its first report, ms after the fleet starts: spread over
 * the first period so that the directory does not report in one burst. The offsets follow
 * the golden-ratio sequence over the directory order, so that any run of neighbours (a
 * village) is spread over the whole period too, as devices switched on independently are,
 * while the whole directory still reports at an even rate. */
double fleet_report_offset(size_t index, double period_ms);

/* Start (or restart after a power cut) at monotonic now_ms and wall-clock wall_ms: boot is
 * the start time in ms, made larger than the last boot if the clock has not moved on,
 * seq starts again, playing and last are forgotten. counts are the receiver's counters now
 * (fleet_report_counts), so that reports count from this start. */
void fleet_reporter_start(struct fleet_reporter *r, double now_ms, uint64_t wall_ms,
			  const uint32_t counts[3]);

/* What the receiver is doing now: the broadcast it is playing (0 if none) and the last it
 * finished (0 if none). Returns 1 if the endpoint must report at once: it started playing a
 * broadcast, finished one, or changed from one to another; else 0. */
int fleet_reporter_follow(struct fleet_reporter *r, uint32_t playing, uint32_t finished);

/* The receiver's counters since it was created: audio packets received, frames it had to
 * conceal (lost), packets refused. */
void fleet_report_counts(const struct fleet_rx *rx, uint32_t counts[3]);

/* The next report, signed with the endpoint's key, into out (PROTO_REPORT_MAX bytes); seq
 * moves on. counts are the receiver's counters now. Returns its length, or 0 if it cannot be
 * packed (which a well-formed reporter never hits). */
size_t fleet_report_seal(struct fleet_reporter *r, double now_ms, uint64_t wall_ms,
			 const uint32_t counts[3], unsigned char *out);

#endif
