/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CAP 1.2 alerts (OASIS Common Alerting Protocol) into warning bulletins: libxml2 parses the
 * alert with network access off, validates it against the OASIS schema, and the table of
 * etc/cap.cfg maps its event, severity, message type and areas to a signal, colour, action and
 * targets. The result is a POST /v1/bulletins body; submitting it is the caller's. */
#ifndef CX_HEADEND_CAP_H
#define CX_HEADEND_CAP_H

#include <jansson.h>
#include <stddef.h>

#include "headend/signals.h"
#include "zones/zones.h"

#define CAP_NAMESPACE "urn:oasis:names:tc:emergency:cap:1.2"

struct cap;

/* Load the schema and the mapping table. z and sig must outlive the result. 0, or -1 with err
 * naming the file and what is wrong. */
__attribute__((warn_unused_result))
int cap_open(struct cap **out, const char *schema, const char *map, const struct zones *z,
	     const struct signals *sig, char *err, size_t errlen);
void cap_close(struct cap *c);

/* Map one alert. active is GET /v1/warnings' answer (the colour a Cancel lifts when the alert
 * it cancels is not known here). Returns 0 with *request set (the caller owns it), or the HTTP
 * status of a refusal (400 not XML, 422 not valid or not mappable) with err naming the reason.
 * Either way about (an object the caller made) receives what could be read: identifier,
 * sender, sent, msgType, event, areaDesc, headline, description. */
unsigned cap_map(struct cap *c, const char *xml, size_t len, const json_t *active,
		 json_t **request, json_t *about, char *err, size_t errlen);

/* Remember that the alert in about was broadcast with request, so that an Update or Cancel
 * referring to it knows its colour. */
void cap_accepted(struct cap *c, const json_t *about, const json_t *request);

#endif
