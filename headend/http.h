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

#endif
