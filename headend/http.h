/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The HTTP API on libmicrohttpd: routes, size limits and JSON answers. What a request means is
 * decided by bulletin.c and the engine. */
#ifndef CX_HEADEND_HTTP_H
#define CX_HEADEND_HTTP_H

#include <stddef.h>

#include "headend/config.h"
#include "headend/engine.h"
#include "zones/zones.h"

struct http;

/* Listen on cfg->http_address:http_port. Returns 0, or -1 with err naming what failed. */
__attribute__((warn_unused_result))
int http_open(struct http **out, const struct headend_config *cfg, const struct zones *z,
	      struct engine *e, char *err, size_t errlen);
void http_close(struct http *h);

struct scheduler;

/* Hand the scheduler's routes (/v1/products/nowcast and forecast, /v1/slots/play,
 * /v1/schedule, /v1/warnings) to s; until then they answer 503. */
void http_set_scheduler(struct http *h, struct scheduler *s);

struct console;

/* Hand the web console's routes (its files at /, /v1/console/..., /v1/history..., /v1/cap...)
 * to con; until then they answer 503. */
void http_set_console(struct http *h, struct console *con);

struct monitor;

/* Hand /v1/monitor to m; until then it answers 503. /v1/live is the engine's. */
void http_set_monitor(struct http *h, struct monitor *m);

struct reports;

/* Hand the endpoint routes (/v1/endpoints, /v1/endpoints/ID/key) to r; until then they
 * answer 503. */
void http_set_reports(struct http *h, struct reports *r);

#endif
