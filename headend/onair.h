/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The API of live announcements and of the local monitor: POST /v1/live {"targets": [...]}
 * starts one, POST /v1/live/stop ends it, GET /v1/live shows it; POST /v1/monitor
 * {"zone": "..."} (or "" to stop) and GET /v1/monitor. What the calls mean is the engine's
 * (headend/engine.c) and the monitor's (headend/monitor.c); here bodies are read and
 * answers written. */
#ifndef CX_HEADEND_ONAIR_H
#define CX_HEADEND_ONAIR_H

#include <stddef.h>
#include <stdint.h>

#include "headend/config.h"
#include "headend/engine.h"
#include "headend/monitor.h"
#include "zones/zones.h"

struct onair_call {
	const char *method, *url;
	const char *body;	/* POST only, already authorised as JSON */
	size_t len;
};

/* 1 for the URLs handled here. */
int onair_owns(const char *url);

/* Answer a call: the HTTP status, *answer (JSON the caller frees) below 300, else err says
 * why. *started is the bulletin id of a live announcement just started (0 otherwise) and
 * client its client_id, if any, for the archive's note of who spoke. */
unsigned onair_handle(struct engine *e, struct monitor *m, const struct zones *z,
		      const struct headend_config *cfg, const struct onair_call *call,
		      char **answer, uint32_t *started, char *client, size_t clientlen,
		      char *err, size_t errlen);

#endif
