/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The daily slots in the daemon: a thread on a wall-clock timer (timerfd, CLOCK_REALTIME,
 * cancelled when the clock is set) that plays each slot once, late within grace or skipped with
 * a reason; texts staged ahead or fetched at slot time; cron mode; re-broadcasts of active
 * warnings; and the HTTP routes for all of it. When a slot falls is schedule/'s to say; playing
 * is the engine's. */
#ifndef CX_HEADEND_SCHEDULER_H
#define CX_HEADEND_SCHEDULER_H

#include <stddef.h>

#include "headend/config.h"
#include "headend/engine.h"
#include "schedule/schedule.h"
#include "zones/zones.h"

struct scheduler;

/* Check that every slot's targets resolve in the directory. Returns 0, or -1 with err naming
 * the slot and the target. */
__attribute__((warn_unused_result))
int scheduler_check(const struct schedule *sch, const struct zones *z,
		    const struct headend_config *cfg, char *err, size_t errlen);

/* Load the slot state and staged texts from cfg->state_dir and start the thread. cfg, sch, z
 * and e must outlive the scheduler. Returns 0, or -1 with err saying what failed. */
__attribute__((warn_unused_result))
int scheduler_open(struct scheduler **out, const struct headend_config *cfg,
		   const struct schedule *sch, const struct zones *z, struct engine *e, char *err,
		   size_t errlen);
void scheduler_close(struct scheduler *s);

/* 1 for the scheduler's URLs: /v1/products/nowcast, /v1/products/forecast, /v1/slots/play,
 * /v1/schedule and /v1/warnings. */
int scheduler_owns(const char *url);

/* Answer one request to such a URL (body NULL for a GET). Returns the HTTP status: below 300
 * *answer is JSON text the caller frees, else err says why in one sentence. who names the
 * client in log lines. */
unsigned scheduler_handle(struct scheduler *s, const char *method, const char *url,
			  const char *who, const char *body, size_t len, char **answer, char *err,
			  size_t errlen);

/* 1 if the timer thread has gone round its loop lately (for the systemd watchdog). */
int scheduler_alive(struct scheduler *s);

#endif
