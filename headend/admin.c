/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One function per request of the security API; each checks its JSON body as strictly as
 * bulletin.c checks a bulletin. */
#include "headend/admin.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headend/log.h"

#define PASSWORD_URL_HEAD "/v1/operators/"
#define PASSWORD_URL_TAIL "/password"

static unsigned fail(char *err, size_t errlen, unsigned status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}

/* The body as an object with string members from keys[] and nothing else. */
static unsigned parse(const char *body, size_t len, const char *const *keys, size_t n_keys,
		      json_t **out, char *err, size_t errlen)
{
	json_error_t je;
	const char *key;
	json_t *v;

	*out = json_loadb(body ? body : "{}", body ? len : 2, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return fail(err, errlen, 400, "invalid JSON at line %d: %s", je.line, je.text);
	if (!json_is_object(*out))
		return fail(err, errlen, 400, "the body must be a JSON object");
	json_object_foreach(*out, key, v) {
		size_t i;

		for (i = 0; i < n_keys && strcmp(key, keys[i]); i++)
			;
		if (i == n_keys)
			return fail(err, errlen, 400, "unknown key \"%s\"", key);
		if (!json_is_string(v))
			return fail(err, errlen, 422, "\"%s\" must be a string", key);
	}
	return 0;
}

static const char *member(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

static char *answer_of(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return text;
}

static unsigned login(struct auth *a, const char *peer, json_t *o, char **answer, char *err,
		      size_t errlen)
{
	const char *name = member(o, "name");
	char token[AUTH_TOKEN_MAX];
	unsigned wait = 0;

	switch (auth_login(a, peer, name, member(o, "password"), token, &wait)) {
	case AUTH_LOGIN_LIMITED:
		return fail(err, errlen, 429, "too many failed logins from %s; try again in %u s",
			    peer, wait);
	case AUTH_LOGIN_REFUSED:
		return fail(err, errlen, 401, "wrong name or password");
	case AUTH_LOGIN_OK:
		break;
	}
	log_info("http %s POST /v1/login: %s logged in for %u s", peer, name, auth_session_s(a));
	*answer = answer_of(json_pack("{s:s, s:s, s:i}", "token", token, "operator", name,
				      "expires_in", (json_int_t)auth_session_s(a)));
	sodium_memzero(token, sizeof(token));
	return 200;
}

static unsigned token_create(struct auth *a, const char *peer, const struct auth_who *who,
			     json_t *o, char **answer, char *err, size_t errlen)
{
	const char *label = member(o, "label");
	char token[AUTH_TOKEN_MAX];

	if (auth_token_create(a, who->name, label, token, err, errlen))
		return 422;
	log_info("http %s %s POST /v1/tokens: token %s issued", peer, who->text, label);
	*answer = answer_of(json_pack("{s:s, s:s, s:s}", "token", token, "operator", who->name,
				      "label", label));
	sodium_memzero(token, sizeof(token));
	return 201;
}

static unsigned token_revoke(struct auth *a, const char *peer, const struct auth_who *who,
			     json_t *o, char **answer, char *err, size_t errlen)
{
	const char *label = member(o, "label");

	if (auth_token_revoke(a, label, err, errlen))
		return 422;
	log_info("http %s %s POST /v1/tokens/revoke: token %s revoked", peer, who->text, label);
	*answer = answer_of(json_pack("{s:s}", "revoked", label));
	return 200;
}

static unsigned token_rotate(struct auth *a, const char *peer, const struct auth_who *who,
			     char **answer, char *err, size_t errlen)
{
	char token[AUTH_TOKEN_MAX];

	if (auth_token_rotate(a, token, err, errlen))
		return 500;
	log_info("http %s %s POST /v1/tokens/rotate: %s replaced", peer, who->text,
		 AUTH_TOKEN_FILE);
	*answer = answer_of(json_pack("{s:s, s:s}", "token", token, "file", AUTH_TOKEN_FILE));
	sodium_memzero(token, sizeof(token));
	return 200;
}

static unsigned set_password(struct auth *a, const char *url, const char *peer,
			     const struct auth_who *who, json_t *o, char **answer, char *err,
			     size_t errlen)
{
	size_t head = strlen(PASSWORD_URL_HEAD);
	size_t n = strlen(url) - head - strlen(PASSWORD_URL_TAIL);
	char name[AUTH_NAME_MAX + 1];

	if (n == 0 || n > AUTH_NAME_MAX)
		return fail(err, errlen, 422, "an operator name is 1 to %d of a-z 0-9 . _ -",
			    AUTH_NAME_MAX);
	memcpy(name, url + head, n);
	name[n] = '\0';
	if (!json_object_get(o, "password"))
		return fail(err, errlen, 422, "\"password\" is missing");
	if (auth_set_password(a, name, member(o, "password"), err, errlen))
		return 422;
	log_info("http %s %s POST %s: password set", peer, who->text, url);
	*answer = answer_of(json_pack("{s:s}", "operator", name));
	return 200;
}

static unsigned key_rotate(struct engine *e, const char *peer, const struct auth_who *who,
			   char **answer, char *err, size_t errlen)
{
	char hex[9];
	uint32_t id;

	if (engine_rotate_key(e, &id, err, errlen))
		return 409;
	snprintf(hex, sizeof(hex), "%08" PRIx32, id);
	log_info("http %s %s POST /v1/keys/rotate: rotating to key %s", peer, who->text, hex);
	*answer = answer_of(json_pack("{s:s, s:i}", "key_id", hex, "announcements", 3));
	return 202;
}

/* /v1/operators/NAME/password, NAME without a slash */
static int is_password_url(const char *url)
{
	size_t n = strlen(url), head = strlen(PASSWORD_URL_HEAD), tail = strlen(PASSWORD_URL_TAIL);

	return n > head + tail && !strncmp(url, PASSWORD_URL_HEAD, head) &&
	       !strcmp(url + n - tail, PASSWORD_URL_TAIL) &&
	       !memchr(url + head, '/', n - head - tail);
}

int admin_owns(const char *url)
{
	return !strcmp(url, "/v1/login") || !strcmp(url, "/v1/tokens") ||
	       !strcmp(url, "/v1/tokens/revoke") || !strcmp(url, "/v1/tokens/rotate") ||
	       !strcmp(url, "/v1/keys/rotate") || is_password_url(url);
}

unsigned admin_handle(struct auth *a, struct engine *e, const char *url, const char *peer,
		      const struct auth_who *who, const char *body, size_t len, char **answer,
		      char *err, size_t errlen)
{
	static const char *const login_keys[] = { "name", "password" };
	static const char *const label_keys[] = { "label" };
	static const char *const password_keys[] = { "password" };
	json_t *o = NULL;
	unsigned status;

	*answer = NULL;
	if (!strcmp(url, "/v1/login")) {
		status = parse(body, len, login_keys, 2, &o, err, errlen);
		if (!status)
			status = login(a, peer, o, answer, err, errlen);
	} else if (!who) {
		status = fail(err, errlen, 401, "%s", auth_strerror(AUTH_MISSING));
	} else if (!strcmp(url, "/v1/tokens") || !strcmp(url, "/v1/tokens/revoke")) {
		status = parse(body, len, label_keys, 1, &o, err, errlen);
		if (!status && !strcmp(url, "/v1/tokens/revoke"))
			status = token_revoke(a, peer, who, o, answer, err, errlen);
		else if (!status)
			status = token_create(a, peer, who, o, answer, err, errlen);
	} else if (!strcmp(url, "/v1/tokens/rotate")) {
		status = parse(body, len, NULL, 0, &o, err, errlen);
		if (!status)
			status = token_rotate(a, peer, who, answer, err, errlen);
	} else if (!strcmp(url, "/v1/keys/rotate")) {
		status = parse(body, len, NULL, 0, &o, err, errlen);
		if (!status)
			status = key_rotate(e, peer, who, answer, err, errlen);
	} else {
		status = parse(body, len, password_keys, 1, &o, err, errlen);
		if (!status)
			status = set_password(a, url, peer, who, o, answer, err, errlen);
	}
	if (o && json_object_get(o, "password"))
		sodium_memzero((char *)json_string_value(json_object_get(o, "password")),
			       json_string_length(json_object_get(o, "password")));
	json_decref(o);
	if (status < 300 && !*answer)
		status = fail(err, errlen, 500, "out of memory");
	return status;
}
