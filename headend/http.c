/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Requests in, JSON out: every refusal carries a status and one sentence naming the problem,
 * and every request leaves one log line, naming the operator once one is known. Every POST but
 * /v1/login needs a token (headend/auth.c); a thread per connection keeps a slow password
 * check from holding up anyone else. */
#include "headend/http.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "headend/admin.h"
#include "headend/auth.h"
#include "headend/bulletin.h"
#include "headend/console.h"
#include "headend/log.h"
#include "headend/onair.h"
#include "headend/reports.h"
#include "headend/scheduler.h"

struct http {
	const struct headend_config *cfg;
	const struct zones *z;
	struct engine *engine;
	struct MHD_Daemon *daemon;
	struct auth *auth;
	struct scheduler *scheduler;	/* slots, staging, warnings; NULL until set */
	struct console *console;	/* web console, CAP, archive; NULL until set */
	struct monitor *monitor;	/* the local monitor; NULL until set */
	struct reports *reports;	/* endpoint status reports; NULL until set */
	char *tls_cert, *tls_key;	/* PEM text, kept while the daemon runs */
};

struct request {
	char *body;
	size_t len, cap;
	int too_big;
	int authed;
	struct auth_who who;
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
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"headend\"");
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

/* The refusal's log line names the operator when the request carried a valid token. */
static enum MHD_Result refuse_as(struct MHD_Connection *c, const struct request *req,
				 const char *method, const char *url, unsigned status,
				 const char *why)
{
	json_t *o = json_pack("{s:s, s:i}", "error", why, "status", (json_int_t)status);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	enum MHD_Result rc = reply(c, status, text ? text : "{\"error\":\"out of memory\"}");
	int named = req && req->authed;

	log_warn("http %s%s%s %s %s: %u %s", peer(c), named ? " " : "", named ? req->who.text : "",
		 method, url, status, why);
	free(text);
	json_decref(o);
	return rc;
}

static enum MHD_Result refuse(struct MHD_Connection *c, const char *method, const char *url,
			      unsigned status, const char *why)
{
	return refuse_as(c, NULL, method, url, status, why);
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
		return refuse_as(c, req, "POST", "/v1/bulletins", (unsigned)status, err);
	memcpy(what, b.targets, sizeof(what));
	memcpy(client, b.client_id, sizeof(client));
	dup = engine_submit(h->engine, &b, &id, err, sizeof(err));
	if (dup)
		bulletin_free(&b);
	if (dup < 0)
		return refuse_as(c, req, "POST", "/v1/bulletins",
				 dup == -2 ? MHD_HTTP_CONFLICT : 503, err);
	if (dup)
		log_info("http %s %s POST /v1/bulletins: client id %s already accepted as "
			 "bulletin %u, nothing new played", peer(c), req->who.text, client, id);
	else
		log_info("http %s %s POST /v1/bulletins: bulletin %u accepted for %s", peer(c),
			 req->who.text, id, what);
	if (!dup)
		console_accepted(h->console, id, req->who.text, client);
	snprintf(answer, sizeof(answer), "{\"id\":%u,\"duplicate\":%s}", id, dup ? "true" :
		 "false");
	return reply(c, dup ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED, answer);
}

/* The security API: login, tokens, passwords, key rotation (headend/admin.c). */
static enum MHD_Result post_admin(struct http *h, struct MHD_Connection *c, const char *url,
				  struct request *req)
{
	char err[512], *answer = NULL;
	unsigned status = admin_handle(h->auth, h->engine, url, peer(c),
				       req->authed ? &req->who : NULL, req->body, req->len,
				       &answer, err, sizeof(err));
	enum MHD_Result rc;

	if (status >= 300)
		return refuse_as(c, req, "POST", url, status, err);
	rc = reply(c, status, answer);
	sodium_memzero(answer, strlen(answer));
	free(answer);
	return rc;
}

/* Slots, staged texts and warnings (headend/scheduler.c). */
static enum MHD_Result answer_scheduler(struct http *h, struct MHD_Connection *c,
					const char *method, const char *url, struct request *req)
{
	char err[512], who[160], *answer = NULL;
	unsigned status;
	enum MHD_Result rc;

	if (req && req->too_big)
		return refuse_as(c, req, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				 "request body is over the size limit");
	snprintf(who, sizeof(who), "%s%s%s", peer(c), req && req->authed ? " " : "",
		 req && req->authed ? req->who.text : "");
	status = h->scheduler ? scheduler_handle(h->scheduler, method, url, who,
						 req ? req->body : NULL, req ? req->len : 0,
						 &answer, err, sizeof(err)) : 503;
	if (!h->scheduler)
		snprintf(err, sizeof(err), "the slot scheduler is not running");
	if (status >= 300)
		return refuse_as(c, req, method, url, status, err);
	rc = reply(c, status, answer);
	free(answer);
	return rc;
}

void http_set_scheduler(struct http *h, struct scheduler *s)
{
	h->scheduler = s;
}

static const char *query_arg(void *ctx, const char *name)
{
	return MHD_lookup_connection_value(ctx, MHD_GET_ARGUMENT_KIND, name);
}

/* The web console and CAP (headend/console.c). Its files are public; every call needs a
 * token, GET included, since history and recordings are the office's business. */
static enum MHD_Result answer_console(struct http *h, struct MHD_Connection *c,
				      const char *method, const char *url, struct request *req)
{
	struct console_request rq = { method, url, "", req ? req->body : NULL,
				      req ? req->len : 0, query_arg, c };
	struct console_answer an = { 0 };
	struct MHD_Response *r;
	struct auth_who who;
	enum auth_result a;
	enum MHD_Result rc;

	if (req && req->too_big)
		return refuse_as(c, req, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				 "request body is over the size limit");
	if (!req && !console_public(url) &&
	    (a = auth_check(h->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
				MHD_HTTP_HEADER_AUTHORIZATION), &who)) != AUTH_OK)
		return refuse(c, method, url, MHD_HTTP_UNAUTHORIZED, auth_strerror(a));
	rq.who = req ? req->who.text : console_public(url) ? "" : who.text;
	if (!h->console)
		return refuse_as(c, req, method, url, 503, "the console is not running");
	console_handle(h->console, &rq, &an);
	if (an.status >= 300)
		return refuse_as(c, req, method, url, an.status, an.error);
	r = MHD_create_response_from_buffer(an.len, an.body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(an.body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", an.type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'self'; media-src "
				"'self' blob:; img-src 'self' data:; frame-ancestors 'none'");
	rc = MHD_queue_response(c, an.status, r);
	MHD_destroy_response(r);
	return rc;
}

void http_set_console(struct http *h, struct console *con)
{
	h->console = con;
}

/* Endpoint status (headend/reports.c). The table needs a token, GET included: which
 * loudspeakers are down is the office's business. */
static enum MHD_Result answer_reports(struct http *h, struct MHD_Connection *c,
				      const char *method, const char *url, struct request *req)
{
	char err[512], who[160], *answer = NULL;
	struct auth_who caller;
	enum auth_result a;
	unsigned status;
	enum MHD_Result rc;

	if (req && req->too_big)
		return refuse_as(c, req, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				 "request body is over the size limit");
	if (!req && (a = auth_check(h->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
				    MHD_HTTP_HEADER_AUTHORIZATION), &caller)) != AUTH_OK)
		return refuse(c, method, url, MHD_HTTP_UNAUTHORIZED, auth_strerror(a));
	snprintf(who, sizeof(who), "%s %s", peer(c), req ? req->who.text : caller.text);
	status = reports_handle(h->reports, method, url, query_arg(c, "target"),
				query_arg(c, "broadcast"), who, req ? req->body : NULL,
				req ? req->len : 0, &answer, err, sizeof(err));
	if (status >= 300)
		return refuse_as(c, req, method, url, status, err);
	rc = reply(c, status, answer);
	free(answer);
	return rc;
}

void http_set_reports(struct http *h, struct reports *r)
{
	h->reports = r;
}

void http_set_monitor(struct http *h, struct monitor *m)
{
	h->monitor = m;
}

/* Live announcements and the local monitor (headend/onair.c). GET is public, as the status
 * is; POST needs a token like every other. */
static enum MHD_Result answer_onair(struct http *h, struct MHD_Connection *c,
				    const char *method, const char *url, struct request *req)
{
	struct onair_call call = { method, url, req ? req->body : NULL, req ? req->len : 0 };
	char err[512], client[BULLETIN_CLIENT_ID_MAX + 1] = "", *answer = NULL;
	uint32_t started;
	unsigned status;
	enum MHD_Result rc;

	if (req && req->too_big)
		return refuse_as(c, req, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				 "request body is over the size limit");
	status = onair_handle(h->engine, h->monitor, h->z, h->cfg, &call, &answer, &started,
			      client, sizeof(client), err, sizeof(err));
	if (status >= 300)
		return refuse_as(c, req, method, url, status, err);
	if (started) {
		log_info("http %s %s POST %s: live announcement %u started", peer(c),
			 req->who.text, url, started);
		console_accepted(h->console, started, req->who.text, client);
	} else if (req) {
		log_info("http %s %s POST %s: %u", peer(c), req->who.text, url, status);
	}
	rc = reply(c, status, answer);
	free(answer);
	return rc;
}

static enum MHD_Result get_status(struct http *h, struct MHD_Connection *c)
{
	json_t *status = engine_status(h->engine);
	char *text;
	enum MHD_Result rc;

	reports_annotate(h->reports, status);
	text = status ? json_dumps(status, JSON_INDENT(2)) : NULL;
	json_decref(status);
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
	const char *bad_type;
	struct auth_who who;
	enum auth_result a = AUTH_OK;
	struct request *req;

	if (strcmp(method, "POST"))
		return MHD_YES;

	/* Who it is comes first: a stranger learns nothing from the checks that follow. */
	if (strcmp(url, "/v1/login"))
		a = auth_check(h->auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
				MHD_HTTP_HEADER_AUTHORIZATION), &who);
	if (a != AUTH_OK)
		return refuse(c, method, url, MHD_HTTP_UNAUTHORIZED, auth_strerror(a));
	if (length && strtoull(length, NULL, 10) > h->cfg->http_max_body) {
		snprintf(why, sizeof(why), "request body is %s bytes, the limit is %zu", length,
			 h->cfg->http_max_body);
		return refuse(c, method, url, MHD_HTTP_CONTENT_TOO_LARGE, why);
	}
	/* CAP alerts come as application/cap+xml; everything else is JSON. */
	bad_type = console_owns(url) ? console_check_type(url, MHD_lookup_connection_value(c,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)) :
		   is_json(c) ? NULL : "Content-Type must be application/json";
	if (bad_type)
		return refuse(c, method, url, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, bad_type);
	req = calloc(1, sizeof(*req));
	if (!req)
		return MHD_NO;
	if (strcmp(url, "/v1/login")) {
		req->authed = 1;
		req->who = who;
	}
	*con_cls = req;
	return MHD_YES;
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
	if (admin_owns(url)) {
		if (strcmp(method, "POST"))
			return refuse(c, method, url, MHD_HTTP_METHOD_NOT_ALLOWED, "use POST");
		if (!req || req->too_big)
			return refuse(c, method, url, MHD_HTTP_CONTENT_TOO_LARGE,
				      "request body is over the size limit");
		return post_admin(h, c, url, req);
	}
	if (scheduler_owns(url))
		return answer_scheduler(h, c, method, url, req);
	if (console_owns(url))
		return answer_console(h, c, method, url, req);
	if (onair_owns(url))
		return answer_onair(h, c, method, url, req);
	if (reports_owns(url))
		return answer_reports(h, c, method, url, req);
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

/* A PEM file into memory, at most 1 MiB; NULL with err set. */
static char *read_pem(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = malloc((1 << 20) + 1);
	size_t n = 0;

	if (f && text)
		n = fread(text, 1, 1 << 20, f);
	if (!f || !text || ferror(f) || n == 0 || n == 1 << 20) {
		snprintf(err, errlen, "%s: %s", path, f ? "empty, unreadable or over 1 MiB" :
			 strerror(errno));
		free(text);
		text = NULL;
	} else {
		text[n] = '\0';
	}
	if (f)
		fclose(f);
	return text;
}

/* HTTPS when http.tls_cert is set; a private key others can read is refused. */
static int load_tls(struct http *h, const struct headend_config *cfg, char *err, size_t errlen)
{
	struct stat st;

	if (!cfg->tls_cert[0])
		return 0;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errlen, "http.tls_cert is set, but libmicrohttpd has no TLS");
		return -1;
	}
	if (!stat(cfg->tls_key, &st) && (st.st_mode & 077)) {
		snprintf(err, errlen, "%s: mode %03o lets others read the TLS key; chmod 600 it",
			 cfg->tls_key, (unsigned)st.st_mode & 0777);
		return -1;
	}
	h->tls_cert = read_pem(cfg->tls_cert, err, errlen);
	h->tls_key = h->tls_cert ? read_pem(cfg->tls_key, err, errlen) : NULL;
	return h->tls_key ? 0 : -1;
}

static int open_auth(struct http *h, const struct headend_config *cfg, char *err,
		     size_t errlen)
{
	int wrote;

	if (auth_open(&h->auth, cfg->state_dir, (unsigned)cfg->session_s, &wrote, err, errlen))
		return -1;
	log_info("auth: %s operator token is in %s/%s (mode 0600); clients send it as "
		 "\"Authorization: Bearer TOKEN\"", wrote ? "a new" : "the", cfg->state_dir,
		 AUTH_TOKEN_FILE);
	return 0;
}

static void free_http(struct http *h)
{
	auth_close(h->auth);
	if (h->tls_key)
		sodium_memzero(h->tls_key, strlen(h->tls_key));
	free(h->tls_key);
	free(h->tls_cert);
	free(h);
}

int http_open(struct http **out, const struct headend_config *cfg, const struct zones *z,
	      struct engine *e, char *err, size_t errlen)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET, .sin_port = htons((uint16_t)cfg->http_port),
	};
	struct MHD_OptionItem tls[3] = { { MHD_OPTION_END, 0, NULL } };
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
	if (open_auth(h, cfg, err, errlen) || load_tls(h, cfg, err, errlen)) {
		free_http(h);
		return -1;
	}
	if (h->tls_cert) {
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert };
		tls[2] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	}
	h->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
				     (h->tls_cert ? MHD_USE_TLS : 0),
				     (uint16_t)cfg->http_port, NULL, NULL, route, h,
				     MHD_OPTION_ARRAY, tls,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)64,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)16,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
				     MHD_OPTION_NOTIFY_COMPLETED, completed, h,
				     MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(err, errlen, "cannot listen on http%s://%s:%d (in use, not an address of "
			 "this machine, or a bad certificate or key)", h->tls_cert ? "s" : "",
			 cfg->http_address, cfg->http_port);
		free_http(h);
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
	free_http(h);
}
