/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Command-line client of the head-end API over libcurl, for the forecaster and for cron:
 * `send` uploads a bulletin file, `status` shows what is playing where; tokens, passwords and
 * keys are ctl_auth.c's. Every request carries the operator's token. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "headend/config.h"
#include "tools/headendctl.h"

#define MAX_FILE (1 << 20)
#define MAX_TARGETS 64

static void usage(FILE *f)
{
	fprintf(f,
		"usage: headendctl [--server URL] [--config FILE] COMMAND ...\n"
		"  send [--kind forecast|nowcast|warning] [--target T]... [--signal S]\n"
		"       [--colour C] [--action issue|change|lift] [--repeat N]\n"
		"       [--client-id ID] FILE\n"
		"                uploads a bulletin (FILE or - for standard input),\n"
		"                prints its id\n"
		"  status [--json]  what is playing, queued and recently played\n"
		"  history [--target PLACE --at \"YYYY-MM-DD HH:MM\"] [--limit N] [--json]\n"
		"          [--save DIR]  what was broadcast (newest first), or what PLACE\n"
		"                heard then (the head-end's time zone); --save: the recordings\n"
		"  stage --product nowcast|forecast [--slot HH:MM] FILE\n"
		"                    stages a daily slot's text (no --slot: the next slot)\n"
		"  play --slot HH:MM [--force]   plays a slot now, as the head-end's timer would\n"
		"                    (cron mode); a slot played already is refused unless forced\n"
		"  schedule [--json] the daily slots, what is staged and what they last did\n"
		"  warnings [--json] the active warnings, where and until when\n"
		"  live --target PLACE [--target PLACE]...   speaks live from the head-end's\n"
		"                    microphone (live.device) to PLACE; live --stop ends it;\n"
		"                    live [--json] shows it, its counters and latency\n"
		"  monitor [PLACE | --stop]   plays what PLACE hears on monitor.device\n"
		"  endpoints [--target T] [--json]  each endpoint's state from its status\n"
		"                    reports: id, state word (normal, off, fault, recovered,\n"
		"                    broadcasting, offline), last report (or never)\n"
		"  endpoint-key ID [--out FILE]  makes a report key for endpoint ID here\n"
		"                    (default ./ID.key, never overwritten) and registers its\n"
		"                    public half; the secret stays in FILE for the loudspeaker\n"
		"  token rotate      replaces operator.token, prints the new token\n"
		"  token create|revoke LABEL   API tokens for cron and other systems\n"
		"  key rotate        moves the head-end to a new signing key, announced first\n"
		"  passwd NAME       sets an operator's password (read from standard input\n"
		"                    when it is not a terminal), creating the operator if new\n"
		"  login NAME        prints a session token that expires (auth.session_s)\n"
		"The server is --server, else $HEADEND_URL, else http.address and http.port of\n"
		"--config (default etc/headend.cfg), else http://127.0.0.1:8080. The token is\n"
		"$HEADEND_TOKEN, else operator.token in the state directory of --config; for\n"
		"https the CA file is $HEADEND_CACERT, else the config's http.tls_cert.\n"
		"Exit status: 0 done, 1 refused by the head-end, 2 head-end not reached,\n"
		"64 bad command line, file or config.\n");
}

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct buffer *b = arg;
	char *grown = realloc(b->data, b->len + size * n + 1);

	if (!grown)
		return 0;
	memcpy(grown + b->len, p, size * n);
	b->data = grown;
	b->len += size * n;
	b->data[b->len] = '\0';
	return size * n;
}

long ctl_request(const struct client *c, const char *path, const char *body,
		 struct buffer *out)
{
	char url[600], bearer[160];
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	long status = 0;
	CURLcode rc;

	if (c->token[0]) {
		snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", c->token);
		headers = curl_slist_append(headers, bearer);
	}
	if (c->cacert[0])
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->cacert);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

	snprintf(url, sizeof(url), "%s%s", c->server, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	else
		fprintf(stderr, "headendctl: %s: %s\n", url, curl_easy_strerror(rc));
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return status;
}

static char *read_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *text;
	size_t n;

	if (!f) {
		fprintf(stderr, "headendctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	text = malloc(MAX_FILE + 1);
	n = text ? fread(text, 1, MAX_FILE + 1, f) : 0;
	if (f != stdin)
		fclose(f);
	if (!text || n > MAX_FILE) {
		fprintf(stderr, "headendctl: %s: larger than %d bytes\n", path, MAX_FILE);
		free(text);
		return NULL;
	}
	text[n] = '\0';

	/* A NUL would cut the bulletin short without a word: refuse the file instead. */
	if (strlen(text) != n) {
		fprintf(stderr, "headendctl: %s: contains a NUL byte at %zu; not a text file\n",
			path, strlen(text));
		free(text);
		return NULL;
	}
	return text;
}

/* Print the server's answer: the id on success, its error sentence otherwise. */
static int report(long status, const struct buffer *answer)
{
	json_t *o = answer->data ? json_loads(answer->data, 0, NULL) : NULL;
	json_t *id = json_object_get(o, "id"), *error = json_object_get(o, "error");
	int rc = 1;

	if (status >= 200 && status < 300 && json_is_integer(id)) {
		printf("%lld\n", (long long)json_integer_value(id));
		if (json_is_true(json_object_get(o, "duplicate")))
			fprintf(stderr, "headendctl: already accepted with this client id; "
				"nothing new is played\n");
		rc = 0;
	} else if (status) {
		fprintf(stderr, "headendctl: refused (%ld): %s\n", status,
			json_is_string(error) ? json_string_value(error) : "no explanation");
	}
	json_decref(o);
	return rc;
}

static int add_string(json_t *o, const char *key, const char *v)
{
	return v ? json_object_set_new(o, key, json_string(v)) : 0;
}

static json_t *send_request(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "target", required_argument, NULL, 't' },
		{ "signal", required_argument, NULL, 's' },
		{ "colour", required_argument, NULL, 'c' },
		{ "color", required_argument, NULL, 'c' },
		{ "action", required_argument, NULL, 'a' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "client-id", required_argument, NULL, 'i' }, { NULL, 0, NULL, 0 },
	};
	const char *kind = NULL, *signal = NULL, *colour = NULL, *action = NULL, *client = NULL;
	json_t *o = json_object(), *targets = json_array();
	char *text, *end;
	long repeat = -1;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:t:s:c:a:r:i:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': kind = optarg; break;
		case 't': json_array_append_new(targets, json_string(optarg)); break;
		case 's': signal = optarg; break;
		case 'c': colour = optarg; break;
		case 'a': action = optarg; break;
		case 'i': client = optarg; break;
		case 'r':
			errno = 0;
			repeat = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || repeat < 0 || repeat > 10) {
				fprintf(stderr, "headendctl: --repeat must be 0..10\n");
				goto fail;
			}
			break;
		default: goto fail;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		goto fail;
	}
	text = read_file(argv[optind]);
	if (!text)
		goto fail;
	if (json_object_set_new(o, "text", json_string(text))) {
		fprintf(stderr, "headendctl: %s is not valid UTF-8 text\n", argv[optind]);
		free(text);
		goto fail;
	}
	free(text);
	if (add_string(o, "kind", kind) || add_string(o, "signal", signal) ||
	    add_string(o, "colour", colour) || add_string(o, "action", action) ||
	    add_string(o, "client_id", client) ||
	    (repeat >= 0 && json_object_set_new(o, "repeat", json_integer(repeat))) ||
	    (json_array_size(targets) && json_object_set(o, "targets", targets)))
		goto fail;
	json_decref(targets);
	return o;
fail:
	json_decref(targets);
	json_decref(o);
	return NULL;
}

static int cmd_send(const struct client *c, int argc, char **argv)
{
	json_t *o = send_request(argc, argv);
	struct buffer answer = { 0 };
	char *body;
	long status;
	int rc;

	if (!o)
		return 64;
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	status = body ? ctl_request(c, "/v1/bulletins", body, &answer) : 0;
	rc = status ? report(status, &answer) : 2;
	free(body);
	free(answer.data);
	return rc;
}

static void print_item(json_t *item, const char *state)
{
	json_t *w = json_object_get(item, "warning"), *rep = json_object_get(item, "reports");

	printf("%-8s bulletin %lld  %s", state, (long long)json_integer_value(
	       json_object_get(item, "id")), json_string_value(json_object_get(item, "kind")));
	if (w)
		printf(" %s %s %s", json_string_value(json_object_get(w, "signal")),
		       json_string_value(json_object_get(w, "colour")),
		       json_string_value(json_object_get(w, "action")));
	printf("  to %s (%lld endpoints)", json_string_value(json_object_get(item, "targets")),
	       (long long)json_integer_value(json_object_get(item, "endpoints")));
	if (json_object_get(item, "seconds_sent") &&
	    json_number_value(json_object_get(item, "seconds_planned")) > 0)
		printf("  %.1f of %.1f s",
		       json_number_value(json_object_get(item, "seconds_sent")),
		       json_number_value(json_object_get(item, "seconds_planned")));
	else if (json_object_get(item, "seconds_sent"))	/* live: no end planned */
		printf("  %.1f s so far",
		       json_number_value(json_object_get(item, "seconds_sent")));
	else if (json_object_get(item, "seconds"))
		printf("  %.1f s", json_number_value(json_object_get(item, "seconds")));
	if (json_is_object(rep))	/* status reports of the endpoints, docs/protocol.md 8 */
		printf("  reported played by %lld of %lld%s",
		       (long long)json_integer_value(json_object_get(rep, "played")),
		       (long long)json_integer_value(json_object_get(rep, "targeted")),
		       json_is_true(json_object_get(rep, "final")) ? "" : " so far");
	printf("\n");
}

static int cmd_status(const struct client *c, int argc, char **argv)
{
	struct buffer answer = { 0 };
	long status = ctl_request(c, "/v1/status", NULL, &answer);
	int raw = argc > 1 && !strcmp(argv[1], "--json");
	json_t *o = answer.data ? json_loads(answer.data, 0, NULL) : NULL, *item;
	size_t i;

	if (status != 200 || !o) {
		if (status)
			fprintf(stderr, "headendctl: status: unexpected answer %ld\n", status);
		free(answer.data);
		json_decref(o);
		return status ? 1 : 2;
	}
	if (raw)
		printf("%s\n", answer.data);
	else if (!json_array_size(json_object_get(o, "playing")) &&
		 !json_array_size(json_object_get(o, "queued")) &&
		 !json_array_size(json_object_get(o, "recent")))
		printf("nothing playing, queued or played since the head-end started\n");
	json_array_foreach(raw ? NULL : json_object_get(o, "playing"), i, item)
		print_item(item, "playing");
	json_array_foreach(raw ? NULL : json_object_get(o, "queued"), i, item)
		print_item(item, "queued");
	json_array_foreach(raw ? NULL : json_object_get(o, "recent"), i, item) {
		const char *result = json_string_value(json_object_get(item, "result"));

		print_item(item, result ? result : "played");
	}
	free(answer.data);
	json_decref(o);
	return 0;
}

/* --server, else $HEADEND_URL, else the config's address; credentials as ctl_credentials. */
/* A config named on the command line, or present at its default place, must load: talking to
 * the default server instead would send a bulletin to the wrong head-end. */
static int pick_server(struct client *c, const char *server, int named)
{
	const char *env = getenv("HEADEND_URL");
	struct headend_config cfg;
	char err[512];
	int loaded = !config_load(&cfg, c->config, err, sizeof(err));

	if (!loaded && (named || access(c->config, F_OK) == 0)) {
		fprintf(stderr, "headendctl: %s\n", err);
		return -1;
	}
	if (server)
		snprintf(c->server, sizeof(c->server), "%s", server);
	else if (env && *env)
		snprintf(c->server, sizeof(c->server), "%s", env);
	else if (loaded)
		snprintf(c->server, sizeof(c->server), "http%s://%s:%d",
			 cfg.tls_cert[0] ? "s" : "", cfg.http_address, cfg.http_port);
	ctl_credentials(c, loaded ? &cfg : NULL);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 'S' },
		{ "config", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct client c = { .server = "http://127.0.0.1:8080", .config = "etc/headend.cfg" };
	const char *server = NULL;
	int opt, rc = 64, named_config = 0;

	while ((opt = getopt_long(argc, argv, "+S:C:h", opts, NULL)) != -1) {
		if (opt == 'S') {
			server = optarg;
		} else if (opt == 'C') {
			c.config = optarg;
			named_config = 1;
		} else {
			usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? 0 : 64;
		}
	}
	if (pick_server(&c, server, named_config))
		return 64;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (optind < argc && !strcmp(argv[optind], "send"))
		rc = cmd_send(&c, argc - optind, argv + optind);
	else if (optind < argc && !strcmp(argv[optind], "status"))
		rc = cmd_status(&c, argc - optind, argv + optind);
	else if (optind < argc && !strcmp(argv[optind], "history"))
		rc = ctl_history(&c, argc - optind, argv + optind);
	else if (optind >= argc ||
		 ((rc = ctl_slots_command(&c, argc - optind, argv + optind)) < 0 &&
		  (rc = ctl_live_command(&c, argc - optind, argv + optind)) < 0 &&
		  (rc = ctl_endpoints_command(&c, argc - optind, argv + optind)) < 0 &&
		  (rc = ctl_auth_command(&c, argc - optind, argv + optind)) < 0))
		usage(stderr), rc = 64;
	curl_global_cleanup();
	return rc;
}
