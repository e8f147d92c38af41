/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The fleet's status reports: schedule, state and signing. */
#include "tools/fleet_report.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "proto/sign.h"

double fleet_report_offset(size_t index, double period_ms)
{
	/* The fractional parts of i × (√5 − 1) / 2 fill [0, 1) more evenly than any other
	 * simple sequence, whatever stretch of i one looks at. */
	double x = (double)index * 0.6180339887498949;

	return (x - floor(x)) * period_ms;
}

void fleet_reporter_start(struct fleet_reporter *r, double now_ms, uint64_t wall_ms,
			  const uint32_t counts[3])
{
	/* A reboot within the same millisecond, or after the clock went back, must still look
	 * newer to the head-end. */
	r->boot = wall_ms > r->boot ? wall_ms : r->boot + 1;
	r->seq = 0;
	r->up_ms = now_ms;
	r->playing = r->last = 0;
	memcpy(r->base, counts, sizeof(r->base));
}

int fleet_reporter_follow(struct fleet_reporter *r, uint32_t playing, uint32_t finished)
{
	int changed = playing != r->playing;

	if (finished && finished != r->last) {
		r->last = finished;
		changed = 1;
	}
	r->playing = playing;
	return changed;
}

static uint32_t clamp32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void fleet_report_counts(const struct fleet_rx *rx, uint32_t counts[3])
{
	uint64_t received = 0, lost = 0, rejected = rx->idle_rejects;

	for (size_t k = 0; k < rx->n_results; k++) {
		received += rx->results[k].received;
		lost += rx->results[k].concealed;
		rejected += rx->results[k].rejected;
	}
	if (rx->active) {
		received += rx->cur.received;
		lost += rx->cur.concealed;
		rejected += rx->cur.rejected;
	}
	counts[0] = clamp32(received);
	counts[1] = clamp32(lost);
	counts[2] = clamp32(rejected);
}

size_t fleet_report_seal(struct fleet_reporter *r, double now_ms, uint64_t wall_ms,
			 const uint32_t counts[3], unsigned char *out)
{
	struct proto_report rep = {
		.state = r->playing ? PROTO_STATE_BROADCASTING : PROTO_STATE_NORMAL,
		.endpoint = r->id, .key_id = r->key_id, .boot = r->boot, .seq = r->seq + 1,
		.sent_ms = wall_ms, .broadcast = r->playing, .last = r->last,
		.uptime_s = now_ms > r->up_ms ? (uint32_t)((now_ms - r->up_ms) / 1000) : 0,
		.received = counts[0] - r->base[0], .lost = counts[1] - r->base[1],
		.rejected = counts[2] - r->base[2],
	};
	size_t n;

	snprintf(rep.version, sizeof(rep.version), "%s", FLEET_REPORT_VERSION);
	n = proto_report_pack(&rep, out, PROTO_REPORT_MAX);
	if (!n)
		return 0;
	proto_sign(out, n, r->sk);
	r->seq++;
	return n;
}
