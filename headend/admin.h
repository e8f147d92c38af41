/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The security part of the HTTP API: log in, API tokens, operator passwords, key rotation.
 * Requests and answers as JSON text; http.c does the HTTP and checks the token first. */
#ifndef CX_HEADEND_ADMIN_H
#define CX_HEADEND_ADMIN_H

#include <stddef.h>

#include "headend/auth.h"
#include "headend/engine.h"

/* 1 if url is one of these requests (all POST): /v1/login, /v1/tokens, /v1/tokens/revoke,
 * /v1/tokens/rotate, /v1/operators/NAME/password, /v1/keys/rotate. */
int admin_owns(const char *url);

/* Carry out one. who is the authenticated caller (NULL only for /v1/login), peer the source
 * address. Returns the HTTP status: on 2xx *answer is JSON text the caller frees, otherwise
 * err holds one sentence. Successes are logged here, refusals by the caller. */
unsigned admin_handle(struct auth *a, struct engine *e, const char *url, const char *peer,
		      const struct auth_who *who, const char *body, size_t len, char **answer,
		      char *err, size_t errlen);

#endif
