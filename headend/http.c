/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Requests in, JSON out: every refusal carries a status and one sentence naming the problem,
 * and every request leaves one log line. */
#include "headend/http.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "headend/bulletin.h"
#include "headend/log.h"

struct http {
	const struct headend_config *cfg;
	const struct zones *z;
	struct engine *engine;
	struct MHD_Daemon *daemon;
};

struct request {
	char *body;
	size_t len, cap;
	int too_big;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *json)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(json), (void *)json,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static const char *peer(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr_in *sin;

	if (!ci || !ci->client_addr || ci->client_addr->sa_family != AF_INET)
		return "?";
	sin = (const struct sockaddr_in *)ci->client_addr;
	return inet_ntoa(sin->sin_addr);
}

static enum MHD_Result refuse(struct MHD_Connection *c, const char *method, const char *url,
			      unsigned status, const char *why)
{
	json_t *o = json_pack("{s:s, s:i}", "error", why, "status", (json_int_t)status);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	enum MHD_Result rc = reply(c, status, text ? text : "{\"error\":\"out of memory\"}");

	log_warn("http %s %s %s: %u %s", peer(c), method, url, status, why);
	free(text);
	json_decref(o);
	return rc;
}

static enum MHD_Result post_bulletin(struct http *h, struct MHD_Connection *c,
				     struct request *req)
{
	struct bulletin b;
	char err[512], answer[128], what[BULLETIN_TARGETS_MAX];
	char client[BULLETIN_CLIENT_ID_MAX + 1];
	uint32_t id;
	int status = bulletin_parse(req->body ? req->body : "", req->len, h->z, h->cfg, &b, err,
				    sizeof(err));
	int dup;

	if (status)
		return refuse(c, "POST", "/v1/bulletins", (unsigned)status, err);
	memcpy(what, b.targets, sizeof(what));
	memcpy(client, b.client_id, sizeof(client));
	dup = engine_submit(h->engine, &b, &id, err, sizeof(err));
	if (dup)
		bulletin_free(&b);
	if (dup < 0)
		return refuse(c, "POST", "/v1/bulletins", 503, err);
	if (dup)
		log_info("http %s POST /v1/bulletins: client id %s already accepted as "
			 "bulletin %u, nothing new played", peer(c), client, id);
	else
		log_info("http %s POST /v1/bulletins: bulletin %u accepted for %s", peer(c), id,
			 what);
	snprintf(answer, sizeof(answer), "{\"id\":%u,\"duplicate\":%s}", id, dup ? "true" :
		 "false");
	return reply(c, dup ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED, answer);
}

static enum MHD_Result get_status(struct http *h, struct MHD_Connection *c)
{
	char *text = engine_status_json(h->engine);
	enum MHD_Result rc;

	if (!text)
		return refuse(c, "GET", "/v1/status", 500, "out of memory");
	rc = reply(c, MHD_HTTP_OK, text);
	free(text);
	return rc;
}

static int is_json(struct MHD_Connection *c)
{
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	return type && !strncasecmp(type, "application/json", n) &&
	       (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* First call of a request: refuse early what can be refused from the headers alone. */
static enum MHD_Result begin(struct http *h, struct MHD_Connection *c, const char *method,
			     const char *url, void **con_cls)
{
	const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_CONTENT_LENGTH);
	char why[128];

	if (strcmp(method, "POST"))
		return MHD_YES;
	if (length && strtoull(length, NULL, 10) > h->cfg->http_max_body) {
		snprintf(why, sizeof(why), "request body is %s bytes, the limit is %zu", length,
			 h->cfg->http_max_body);
		return refuse(c, method, url, MHD_HTTP_CONTENT_TOO_LARGE, why);
	}
	if (!is_json(c))
		return refuse(c, method, url, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			      "Content-Type must be application/json");
	*con_cls = calloc(1, sizeof(struct request));
	return *con_cls ? MHD_YES : MHD_NO;
}

static void take_body(struct http *h, struct request *req, const char *data, size_t *size)
{
	size_t need = req->len + *size + 1;

	if (!req->too_big && need > h->cfg->http_max_body + 1)
		req->too_big = 1;
	if (!req->too_big && need > req->cap) {
		char *p = realloc(req->body, need);

		if (!p) {
			req->too_big = 1;
		} else {
			req->body = p;
			req->cap = need;
		}
	}
	if (!req->too_big) {
		memcpy(req->body + req->len, data, *size);
		req->len += *size;
		req->body[req->len] = '\0';
	}
	*size = 0;
}

static enum MHD_Result route(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *data,
			     size_t *size, void **con_cls)
{
	struct http *h = cls;
	struct request *req = *con_cls;

	(void)version;
	if (!req && !strcmp(method, "POST"))
		return begin(h, c, method, url, con_cls);
	if (req && *size) {
		take_body(h, req, data, size);
		return MHD_YES;
	}
	if (!strcmp(url, "/v1/bulletins")) {
		if (strcmp(method, "POST"))
			return refuse(c, method, url, MHD_HTTP_METHOD_NOT_ALLOWED,
				      "use POST for /v1/bulletins");
		if (!req || req->too_big)
			return refuse(c, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				      "request body is over the size limit");
		return post_bulletin(h, c, req);
	}
	if (!strcmp(url, "/v1/status")) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return refuse(c, method, url, MHD_HTTP_METHOD_NOT_ALLOWED,
				      "use GET for /v1/status");
		return get_status(h, c);
	}
	return refuse(c, method, url, MHD_HTTP_NOT_FOUND, "no such resource");
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode why)
{
	struct request *req = *con_cls;

	(void)cls;
	if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK && req)
		log_warn("http %s: request ended before it was complete (%s), nothing accepted",
			 peer(c), why == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout" :
			 "connection closed");
	if (req)
		free(req->body);
	free(req);
	*con_cls = NULL;
}

int http_open(struct http **out, const struct headend_config *cfg, const struct zones *z,
	      struct engine *e, char *err, size_t errlen)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->http_port) };
	struct http *h;

	*out = NULL;
	if (inet_pton(AF_INET, cfg->http_address, &addr.sin_addr) != 1) {
		snprintf(err, errlen, "http.address %s is not an IPv4 address", cfg->http_address);
		return -1;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	h->cfg = cfg;
	h->z = z;
	h->engine = e;
	h->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
				     (uint16_t)cfg->http_port, NULL, NULL, route, h,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)16,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				     MHD_OPTION_NOTIFY_COMPLETED, completed, h,
				     MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(err, errlen, "cannot listen on http://%s:%d (in use, or not an address "
			 "of this machine)", cfg->http_address, cfg->http_port);
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

void http_close(struct http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
