/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The duty officer's local monitor: a thread that listens as one loudspeaker of a chosen zone
 * would (the first of the directory there: its district, town and village groups, on
 * multicast.interface), verifies every packet against the head-end's own public key exactly as
 * an endpoint does (proto/verify.c, KEY rotations followed), plays only broadcasts addressed
 * to that loudspeaker and writes the decoded audio to the ALSA playback device of
 * monitor.device. What it plays is therefore what the village hears, not what the engine
 * meant to send. */
#ifndef CX_HEADEND_MONITOR_H
#define CX_HEADEND_MONITOR_H

#include <stddef.h>

#include "headend/config.h"
#include "zones/zones.h"

struct monitor;

/* Ready to monitor; starts on cfg->monitor_zone when it is set (if that fails, the monitor is
 * off and the log says why). cfg and z must outlive it. Returns 0, or -1 (out of memory). */
__attribute__((warn_unused_result))
int monitor_open(struct monitor **out, const struct headend_config *cfg, const struct zones *z,
		 char *err, size_t errlen);

/* Monitor zone (a target as POST /v1/bulletins takes it), or stop with "". Returns 0; 422
 * with err for a zone that is not in the directory; 503 with err naming the device or the
 * socket that failed (the monitor is then off). */
__attribute__((warn_unused_result))
int monitor_set(struct monitor *m, const char *zone, char *err, size_t errlen);

/* What it monitors and has heard (GET /v1/monitor), as JSON text the caller frees. */
char *monitor_json(struct monitor *m);

void monitor_close(struct monitor *m);

#endif
