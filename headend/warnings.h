/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Active warnings per village: which signal is active at which colour since when, set by the
 * bulletin that issued or changed it, cleared by a lift. Checks an action against that state,
 * saves and restores it as JSON, and says when a red or orange warning is due to be broadcast
 * again. Files and locking are the caller's. */
#ifndef CX_HEADEND_WARNINGS_H
#define CX_HEADEND_WARNINGS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "headend/bulletin.h"
#include "headend/signals.h"
#include "zones/zones.h"

enum warnings_result {
	WARNINGS_OK = 0,
	WARNINGS_ERR_STATE,	/* the action does not fit the active warnings (HTTP 409) */
	WARNINGS_ERR_NOMEM,
	WARNINGS_ERR_FORMAT,	/* saved state that does not parse */
};

struct warnings;

/* A warning due again: its text, what it is, and the villages (n_villages flags) where it is
 * still active. Return 0 if it was queued; on -1 it stays due. */
typedef int (*warnings_due_fn)(void *arg, uint32_t source, const char *text, uint8_t signal,
			       enum proto_colour colour, enum proto_action action,
			       const unsigned char *villages);

__attribute__((warn_unused_result))
enum warnings_result warnings_open(struct warnings **out, const struct zones *z,
				   const struct signals *sig);
void warnings_close(struct warnings *w);

/* Whether warning bulletin b may be accepted: a change needs the signal active, a lift needs it
 * active at the colour it names, in at least one village it targets. Anything else passes. */
__attribute__((warn_unused_result))
enum warnings_result warnings_check(const struct warnings *w, const struct bulletin *b,
				    char *err, size_t errlen);

/* Apply accepted bulletin id (accepted at t) to the state. Not a warning: nothing happens. */
__attribute__((warn_unused_result))
enum warnings_result warnings_apply(struct warnings *w, const struct bulletin *b, uint32_t id,
				    time_t t);

/* Highest bulletin id applied, so that a restart can apply what was accepted after the last
 * save. */
uint32_t warnings_applied(const struct warnings *w);

/* The state as JSON to save (NULL if out of memory; the caller owns it), and back. */
json_t *warnings_save(const struct warnings *w);
__attribute__((warn_unused_result))
enum warnings_result warnings_restore(struct warnings *w, const json_t *saved, char *err,
				      size_t errlen);

/* For GET /v1/warnings: each active warning with its colour, bulletin, since, where and when it
 * is broadcast again. NULL if out of memory; the caller owns it. */
json_t *warnings_report(const struct warnings *w);

/* Hand every warning whose re-broadcast interval (by colour) has passed at now to fn, and mark
 * it broadcast at now when fn queued it. Returns the next time one falls due, 0 if none will. */
time_t warnings_due(struct warnings *w, time_t now, warnings_due_fn fn, void *arg);

const char *warnings_strerror(enum warnings_result r);

#endif
