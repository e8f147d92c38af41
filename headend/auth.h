/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Who may change what the loudspeakers say: operator accounts with Argon2id password hashes,
 * API tokens that do not expire (operator.token among them), login sessions that do, and a
 * per-source limit on failed logins. Stored in the state directory; HTTP is http.c's. */
#ifndef CX_HEADEND_AUTH_H
#define CX_HEADEND_AUTH_H

#include <stddef.h>

#define AUTH_STORE_FILE "operators.json"	/* accounts and token hashes, mode 0600 */
#define AUTH_TOKEN_FILE "operator.token"	/* the first operator's token, mode 0600 */
#define AUTH_FIRST_OPERATOR "operator"		/* the account that token belongs to */
#define AUTH_TOKEN_MAX 64			/* bytes of a token with its terminator */
#define AUTH_WHO_MAX 80				/* "alice" or "alice (token cron)" */
#define AUTH_NAME_MAX 32			/* operator names and token labels */
#define AUTH_PASSWORD_MIN 10
#define AUTH_PASSWORD_MAX 256
#define AUTH_FAILED_DELAY_MS 1000		/* a refused login is answered this late */
#define AUTH_FAILURES_ALLOWED 5			/* per source, before it must wait */

enum auth_result {
	AUTH_OK = 0,
	AUTH_MISSING,		/* no Authorization header */
	AUTH_MALFORMED,		/* not "Bearer TOKEN" */
	AUTH_UNKNOWN,		/* no such token, or revoked */
	AUTH_EXPIRED,		/* a login session past its time */
};

enum auth_login { AUTH_LOGIN_OK, AUTH_LOGIN_REFUSED, AUTH_LOGIN_LIMITED };

struct auth;

/* Load dir/operators.json, or start one. Make sure dir/operator.token holds a token that
 * works, writing a new one if not (*wrote set). Sessions last session_s. 0, or -1 with err. */
__attribute__((warn_unused_result))
int auth_open(struct auth **out, const char *dir, unsigned session_s, int *wrote, char *err,
	      size_t errlen);
void auth_close(struct auth *a);

/* Who a request comes from: the operator, and how log lines name the credential. */
struct auth_who {
	char name[AUTH_NAME_MAX + 1];	/* "alice" */
	char text[AUTH_WHO_MAX];	/* "alice" (a session) or "alice (token cron)" */
};

/* Check an Authorization header value (NULL if absent); on AUTH_OK who is filled in. Every
 * stored token is compared, in constant time, whichever matches. */
enum auth_result auth_check(struct auth *a, const char *header, struct auth_who *who);
const char *auth_strerror(enum auth_result r);

/* Log in from source peer. AUTH_LOGIN_OK: token is a new session. REFUSED: wrong name or
 * password, answered AUTH_FAILED_DELAY_MS after the call began whatever the cause. LIMITED: the
 * source has failed too often; *wait_s says for how much longer, and nothing was checked. */
enum auth_login auth_login(struct auth *a, const char *peer, const char *name,
			   const char *password, char token[AUTH_TOKEN_MAX], unsigned *wait_s);
unsigned auth_session_s(const struct auth *a);

/* Set name's console password, creating the operator if new. 0, or -1 with err set. */
__attribute__((warn_unused_result))
int auth_set_password(struct auth *a, const char *name, const char *password, char *err,
		      size_t errlen);

/* A token for cron or another system, acting as operator; one with the same label is
 * replaced. 0 with token set, or -1 with err. */
__attribute__((warn_unused_result))
int auth_token_create(struct auth *a, const char *operator, const char *label,
		      char token[AUTH_TOKEN_MAX], char *err, size_t errlen);

/* Revoke the token with this label. 0, or -1 with err (none such). */
__attribute__((warn_unused_result))
int auth_token_revoke(struct auth *a, const char *label, char *err, size_t errlen);

/* Replace the token in operator.token; the old one stops working at once. */
__attribute__((warn_unused_result))
int auth_token_rotate(struct auth *a, char token[AUTH_TOKEN_MAX], char *err, size_t errlen);

/* 1 if s is a valid operator name or token label: 1..32 of a-z 0-9 . _ - */
int auth_name_ok(const char *s);

#endif
