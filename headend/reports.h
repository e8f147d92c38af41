/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Endpoint status reports (回传): the public report keys of every endpoint (state_dir/
 * endpoints.pub, provisioned with demo secrets on a first start), a thread with its own UDP
 * socket that checks each report and keeps the endpoint table (headend/roster.c), its log
 * lines (offline endpoints, village alarms, per-broadcast played counts), and the API:
 * GET /v1/endpoints and POST /v1/endpoints/ID/key. docs/protocol.md, section 8, has the wire
 * format and the rules. */
#ifndef CX_HEADEND_REPORTS_H
#define CX_HEADEND_REPORTS_H

#include <jansson.h>
#include <stddef.h>

#include "headend/config.h"
#include "headend/engine.h"
#include "zones/zones.h"

#define REPORTS_REGISTRY "endpoints.pub"	/* in the state directory */
#define REPORTS_KEY_DIR "endpoint-keys"		/* demo secrets, in the state directory */

struct reports;

/* Load the registry of report keys, or on a first start (no registry yet) make a key for every
 * endpoint of z and write the registry. No socket yet. cfg and z must outlive it. Returns 0, or
 * -1 with err naming the file and the problem. */
__attribute__((warn_unused_result))
int reports_open(struct reports **out, const struct headend_config *cfg, const struct zones *z,
		 char *err, size_t errlen);

/* Bind reports.address:port and start taking reports. Returns 0, or -1 with err set. */
__attribute__((warn_unused_result))
int reports_start(struct reports *r, char *err, size_t errlen);

/* Stop the thread and free everything; the engine must no longer call reports_on_air. */
void reports_close(struct reports *r);

/* engine_on_air's callback (arg is the struct reports): a broadcast on air or over. */
void reports_on_air(void *arg, const struct engine_air *a);

/* 1 for /v1/endpoints and /v1/endpoints/ID/key. */
int reports_owns(const char *url);

/* GET /v1/endpoints[?target=T][&broadcast=N] or POST /v1/endpoints/ID/key; target and
 * broadcast are the query's values or NULL, who names the caller for the log. Returns the HTTP
 * status: on 2xx *answer is JSON text the caller frees, otherwise err holds one sentence. */
unsigned reports_handle(struct reports *r, const char *method, const char *url,
			const char *target, const char *broadcast, const char *who,
			const char *body, size_t len, char **answer, char *err, size_t errlen);

/* Add "reports": {"played", "targeted", "final"} to each broadcast playing or recent in status
 * (engine_status's) that the table knows. */
void reports_annotate(struct reports *r, json_t *status);

#endif
