/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Live announcements and the monitor over HTTP. A live request names its targets as a
 * bulletin does and nothing else; they are resolved by bulletin.c's rules so that 杨和镇,
 * codes and town/village names mean the same everywhere. */
#include "headend/onair.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headend/bulletin.h"

/* What the archive and the status show as the text of a live announcement. */
#define LIVE_TEXT "现场广播"

int onair_owns(const char *url)
{
	return !strcmp(url, "/v1/live") || !strcmp(url, "/v1/live/stop") ||
	       !strcmp(url, "/v1/monitor");
}

static unsigned fail(char *err, size_t errlen, unsigned status, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return status;
}

/* The request's object, refusing keys other than those allowed. */
static json_t *body_of(const struct onair_call *call, const char *const *keys, size_t n,
		       unsigned *status, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_loadb(call->body ? call->body : "", call->len,
				  JSON_REJECT_DUPLICATES, &jerr), *v;
	const char *key;

	*status = 400;
	if (!root) {
		snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the body must be a JSON object");
		json_decref(root);
		return NULL;
	}
	json_object_foreach(root, key, v) {
		size_t i = 0;

		while (i < n && strcmp(key, keys[i]))
			i++;
		if (i == n) {
			snprintf(err, errlen, "unknown key \"%s\" for %s", key, call->url);
			json_decref(root);
			return NULL;
		}
	}
	*status = 0;
	return root;
}

static unsigned live_start(struct engine *e, const struct zones *z,
			   const struct headend_config *cfg, const struct onair_call *call,
			   char **answer, uint32_t *started, char *client, size_t clientlen,
			   char *err, size_t errlen)
{
	static const char *const keys[] = { "targets", "client_id" };
	unsigned status;
	json_t *root = body_of(call, keys, 2, &status, err, errlen), *req;
	json_t *id = json_object_get(root, "client_id");
	struct bulletin b;
	char *text;
	uint32_t n;
	int rc;

	if (!root)
		return status;
	if (!json_object_get(root, "targets")) {
		json_decref(root);
		return fail(err, errlen, 422, "\"targets\" is missing: say where the live "
			    "announcement goes");
	}
	if (id && (!json_is_string(id) || strlen(json_string_value(id)) >= clientlen)) {
		json_decref(root);
		return fail(err, errlen, 422, "\"client_id\" must be a short string");
	}
	snprintf(client, clientlen, "%s", id ? json_string_value(id) : "");
	req = json_pack("{s:s, s:s, s:O, s:i}", "text", LIVE_TEXT, "kind", "forecast",
			"targets", json_object_get(root, "targets"), "repeat", 0);
	json_decref(root);
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text)
		return fail(err, errlen, 500, "out of memory");
	rc = bulletin_parse(text, strlen(text), z, cfg, &b, err, errlen);
	free(text);
	if (rc)
		return (unsigned)rc;
	rc = engine_live_start(e, &b, &n, err, errlen);
	if (rc) {
		bulletin_free(&b);
		return rc == -2 ? 409 : 503;
	}
	bulletin_free(&b);
	*started = n;
	*answer = engine_live_json(e);
	return *answer ? 202 : 500;
}

static unsigned monitor_call(struct monitor *m, const struct onair_call *call, char **answer,
			     char *err, size_t errlen)
{
	static const char *const keys[] = { "zone" };
	unsigned status;
	json_t *root, *zone;
	int rc;

	if (!m)
		return fail(err, errlen, 503, "the monitor is not running");
	if (!strcmp(call->method, "GET") || !strcmp(call->method, "HEAD")) {
		*answer = monitor_json(m);
		return *answer ? 200 : 500;
	}
	root = body_of(call, keys, 1, &status, err, errlen);
	if (!root)
		return status;
	zone = json_object_get(root, "zone");
	if (!json_is_string(zone)) {
		json_decref(root);
		return fail(err, errlen, 422, "\"zone\" must be a place (\"杨和镇\", a code) "
			    "or \"\" to stop");
	}
	rc = monitor_set(m, json_string_value(zone), err, errlen);
	json_decref(root);
	if (rc)
		return (unsigned)rc;
	*answer = monitor_json(m);
	return *answer ? 200 : 500;
}

unsigned onair_handle(struct engine *e, struct monitor *m, const struct zones *z,
		      const struct headend_config *cfg, const struct onair_call *call,
		      char **answer, uint32_t *started, char *client, size_t clientlen,
		      char *err, size_t errlen)
{
	int get = !strcmp(call->method, "GET") || !strcmp(call->method, "HEAD");
	uint32_t id;

	*answer = NULL;
	*started = 0;
	if (!get && strcmp(call->method, "POST"))
		return fail(err, errlen, 405, "use GET or POST");
	if (!strcmp(call->url, "/v1/monitor"))
		return monitor_call(m, call, answer, err, errlen);
	if (!strcmp(call->url, "/v1/live/stop")) {
		if (get)
			return fail(err, errlen, 405, "use POST for /v1/live/stop");
		if (engine_live_stop(e, &id, err, errlen))
			return 409;
		*answer = engine_live_json(e);
		return *answer ? 200 : 500;
	}
	if (get) {
		*answer = engine_live_json(e);
		return *answer ? 200 : 500;
	}
	return live_start(e, z, cfg, call, answer, started, client, clientlen, err, errlen);
}
