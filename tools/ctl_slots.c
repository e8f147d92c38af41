/* SPDX-License-Identifier: GPL-3.0-or-later */
/* headendctl's commands for the daily slots and warnings: stage a product's text ahead of its
 * slot, play a slot now (cron mode), show the schedule and the active warnings. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/headendctl.h"

#define TEXT_MAX (1 << 20)

/* The file (or - for standard input) as a NUL-terminated string; NULL with a message. */
static char *slurp(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *text = malloc(TEXT_MAX + 1);
	size_t n = 0;

	if (f && text)
		n = fread(text, 1, TEXT_MAX + 1, f);
	if (!f || !text || n > TEXT_MAX) {
		fprintf(stderr, "headendctl: %s: %s\n", path, f ? "larger than 1 MiB" :
			strerror(errno));
		free(text);
		text = NULL;
	} else {
		text[n] = '\0';
	}
	if (f && f != stdin)
		fclose(f);
	return text;
}

/* POST o; the answer (on 2xx) into *answer. Exit status: 0, 1 refused, 2 no answer. */
static int post(const struct client *c, const char *path, json_t *o, json_t **answer)
{
	struct buffer out = { 0 };
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	long status = body ? ctl_request(c, path, body, &out) : 0;
	json_t *a = out.data ? json_loads(out.data, 0, NULL) : NULL;
	int rc = status ? 1 : 2;

	if (status >= 200 && status < 300) {
		*answer = a;
		a = NULL;
		rc = 0;
	} else if (status) {
		fprintf(stderr, "headendctl: refused (%ld): %s\n", status,
			json_string_value(json_object_get(a, "error")) ?
			json_string_value(json_object_get(a, "error")) : "no explanation");
	}
	json_decref(a);
	free(body);
	free(out.data);
	return rc;
}

static int get(const struct client *c, const char *path, json_t **answer, char **raw)
{
	struct buffer out = { 0 };
	long status = ctl_request(c, path, NULL, &out);

	*answer = out.data ? json_loads(out.data, 0, NULL) : NULL;
	if (status != 200 || !*answer) {
		if (status)
			fprintf(stderr, "headendctl: %s: unexpected answer %ld\n", path, status);
		json_decref(*answer);
		free(out.data);
		return status ? 1 : 2;
	}
	*raw = out.data;
	return 0;
}

/* {"text": the text of file, "slot": slot}, or NULL with a message. */
static json_t *stage_body(const char *file, const char *slot)
{
	char *text = slurp(file);
	json_t *o = text ? json_pack("{s:s}", "text", text) : NULL;

	if (text && !o)
		fprintf(stderr, "headendctl: %s is not valid UTF-8 text\n", file);
	free(text);
	if (o && slot)
		json_object_set_new(o, "slot", json_string(slot));
	return o;
}

static int cmd_stage(const struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "product", required_argument, NULL, 'p' },
		{ "slot", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	const char *product = NULL, *slot = NULL;
	char path[64];
	json_t *o, *a = NULL;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:s:", opts, NULL)) != -1) {
		if (opt == 'p')
			product = optarg;
		else if (opt == 's')
			slot = optarg;
		else
			return 64;
	}
	if (!product || optind != argc - 1 || (strcmp(product, "nowcast") &&
					       strcmp(product, "forecast"))) {
		fprintf(stderr, "usage: headendctl stage --product nowcast|forecast "
			"[--slot HH:MM] FILE\n");
		return 64;
	}
	o = stage_body(argv[optind], slot);
	if (!o)
		return 64;
	snprintf(path, sizeof(path), "/v1/products/%s", product);
	rc = post(c, path, o, &a);
	if (!rc)
		printf("%s staged for slot %s (%s)\n", product,
		       json_string_value(json_object_get(a, "slot")),
		       json_string_value(json_object_get(a, "for")));
	json_decref(o);
	json_decref(a);
	return rc;
}

static int cmd_play(const struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "slot", required_argument, NULL, 's' }, { "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *slot = NULL;
	int opt, force = 0, rc;
	json_t *o, *a = NULL;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:f", opts, NULL)) != -1) {
		if (opt == 's')
			slot = optarg;
		else if (opt == 'f')
			force = 1;
		else
			return 64;
	}
	if (!slot || optind != argc) {
		fprintf(stderr, "usage: headendctl play --slot HH:MM [--force]\n");
		return 64;
	}
	o = json_pack("{s:s, s:b}", "slot", slot, "force", force);
	rc = post(c, "/v1/slots/play", o, &a);
	if (!rc)
		printf("%lld\n", (long long)json_integer_value(json_object_get(a, "id")));
	json_decref(o);
	json_decref(a);
	return rc;
}

static const char *field(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "-";
}

static int cmd_warnings(const struct client *c, int argc, char **argv)
{
	json_t *a, *w;
	char *raw;
	size_t i;
	int rc = get(c, "/v1/warnings", &a, &raw);

	if (rc)
		return rc;
	if (argc > 1 && !strcmp(argv[1], "--json"))
		fputs(raw, stdout);
	else if (!json_array_size(json_object_get(a, "active")))
		printf("no active warnings\n");
	json_array_foreach(argc > 1 ? NULL : json_object_get(a, "active"), i, w)
		printf("%-17s %s %-6s since %s in %s (%lld villages), bulletin %lld, next "
		       "broadcast %s\n", field(w, "signal"), field(w, "name"), field(w, "colour"),
		       field(w, "since"), field(w, "where"),
		       (long long)json_integer_value(json_object_get(w, "villages")),
		       (long long)json_integer_value(json_object_get(w, "bulletin")),
		       field(w, "next_broadcast"));
	json_decref(a);
	free(raw);
	return 0;
}

static int cmd_schedule(const struct client *c, int argc, char **argv)
{
	json_t *a, *s;
	char *raw;
	size_t i;
	int rc = get(c, "/v1/schedule", &a, &raw);

	if (rc)
		return rc;
	if (argc > 1 && !strcmp(argv[1], "--json"))
		fputs(raw, stdout);
	else
		printf("slots in %s, %s\n", field(a, "time_zone"),
		       json_is_true(json_object_get(a, "timer")) ? "timer on" :
		       "timer off (cron mode)");
	json_array_foreach(argc > 1 ? NULL : json_object_get(a, "slots"), i, s)
		printf("%-8s %-8s next %s  staged %s  last: %s\n", field(s, "time"),
		       field(s, "product"), field(s, "next"),
		       json_object_get(s, "staged") ? field(json_object_get(s, "staged"), "at") :
		       "-", *field(s, "result") ? field(s, "result") : "-");
	json_decref(a);
	free(raw);
	return 0;
}

int ctl_slots_command(const struct client *c, int argc, char **argv)
{
	if (!strcmp(argv[0], "stage"))
		return cmd_stage(c, argc, argv);
	if (!strcmp(argv[0], "play"))
		return cmd_play(c, argc, argv);
	if (!strcmp(argv[0], "warnings"))
		return cmd_warnings(c, argc, argv);
	if (!strcmp(argv[0], "schedule"))
		return cmd_schedule(c, argc, argv);
	return -1;
}
