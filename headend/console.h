/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The forecaster's web console on the head-end: its static files at /, the calls it makes
 * beyond the bulletin API (set-up, preview, today's slots, history with the archived audio),
 * and CAP 1.2 alerts pushed by a warning platform. HTTP and tokens are http.c's; what a
 * bulletin means is bulletin.c's; CAP mapping is cap.c's, the archive archive.c's. */
#ifndef CX_HEADEND_CONSOLE_H
#define CX_HEADEND_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "headend/config.h"
#include "headend/engine.h"
#include "headend/scheduler.h"
#include "schedule/schedule.h"
#include "zones/zones.h"

struct console;

/* Load the templates, the CAP schema and table, open the archive. Everything passed must
 * outlive the console. 0, or -1 with err naming the file or what failed. */
__attribute__((warn_unused_result))
int console_open(struct console **out, const struct headend_config *cfg,
		 const struct schedule *sch, const struct zones *z, struct engine *e,
		 struct scheduler *s, char *err, size_t errlen);
void console_close(struct console *con);

/* 1 for the console's URLs: its static files, /v1/console/..., /v1/history..., /v1/cap... */
int console_owns(const char *url);

/* 1 for what a browser may fetch before logging in: the static files. */
int console_public(const char *url);

/* NULL if a POST to url may carry this Content-Type (NULL if none was sent), else the
 * sentence refusing it: /v1/cap takes application/cap+xml, the others JSON. */
const char *console_check_type(const char *url, const char *type);

struct console_request {
	const char *method, *url;
	const char *who;		/* the operator as log lines name them; "" for a file */
	const char *body;		/* POST only */
	size_t len;
	const char *(*arg)(void *ctx, const char *name);	/* a query argument or NULL */
	void *ctx;
};

struct console_answer {
	unsigned status;
	char *body;			/* the caller frees it */
	size_t len;
	const char *type;		/* Content-Type */
	char error[512];		/* status 300 and above: the sentence, body NULL */
};

/* Answer one request to a URL console_owns. Successes are logged here, refusals by the
 * caller. */
void console_handle(struct console *con, const struct console_request *rq,
		    struct console_answer *an);

/* POST /v1/bulletins accepted bulletin id from who: kept for the archive's record. */
void console_accepted(struct console *con, uint32_t id, const char *who, const char *client_id);

#endif
