/* SPDX-License-Identifier: GPL-3.0-or-later */
/* headendctl history: what was broadcast, from the head-end's archive; with --target and --at,
 * what one place heard at one time, as an auditor asks it. The recordings can be saved. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/headendctl.h"

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

/* Fetch the recording of rec into dir; prints where it went. */
static void save_audio(const struct client *c, json_t *rec, const char *dir)
{
	char path[512], file[PATH_MAX];
	struct buffer audio = { 0 };
	long status;
	FILE *f;

	snprintf(path, sizeof(path), "/v1/history/%s.opus", str(rec, "id"));
	status = ctl_request(c, path, NULL, &audio);
	snprintf(file, sizeof(file), "%s/%s.opus", dir, str(rec, "id"));
	f = status == 200 ? fopen(file, "wb") : NULL;
	if (f && fwrite(audio.data, 1, audio.len, f) == audio.len && !fclose(f))
		printf("  saved: %s (%zu bytes)\n", file, audio.len);
	else
		fprintf(stderr, "headendctl: %s: %s\n", status == 200 ? file : path,
			status == 200 ? strerror(errno) : "not in the archive");
	free(audio.data);
}

static void print_record(const struct client *c, json_t *rec, const char *save)
{
	json_t *w = json_object_get(rec, "warning");

	printf("%s - %s  bulletin %lld (broadcast %lld)  %s", str(rec, "started"),
	       str(rec, "ended") + (strlen(str(rec, "ended")) > 11 ? 11 : 0),
	       (long long)json_integer_value(json_object_get(rec, "bulletin")),
	       (long long)json_integer_value(json_object_get(rec, "broadcast")), str(rec, "kind"));
	if (w)
		printf(" %s %s %s", str(w, "signal"), str(w, "colour"), str(w, "action"));
	printf("  %s\n", str(rec, "result"));
	printf("  by %s (%s); to %s (%lld endpoints)", *str(rec, "operator") ?
	       str(rec, "operator") : "the head-end", str(rec, "source"), str(rec, "targets"),
	       (long long)json_integer_value(json_object_get(rec, "endpoints")));
	if (json_object_get(rec, "villages_heard"))
		printf("; heard in %lld of its villages",
		       (long long)json_integer_value(json_object_get(rec, "villages_heard")));
	printf("\n  text: %s\n  audio: %.1f s, GET /v1/history/%s.opus\n", str(rec, "text"),
	       json_number_value(json_object_get(rec, "seconds")), str(rec, "id"));
	if (save)
		save_audio(c, rec, save);
}

static void print_heard(const struct client *c, json_t *o, const char *save)
{
	json_t *list = json_object_get(o, "heard"), *rec;
	size_t i;

	printf("%s, %s to %s (%s):", str(o, "target"), str(o, "from"), str(o, "to"),
	       str(o, "time_zone"));
	if (!json_array_size(list)) {
		printf(" nothing was broadcast there\n");
		if (json_is_object(json_object_get(o, "before"))) {
			printf("the last broadcast there before:\n");
			print_record(c, json_object_get(o, "before"), save);
		}
		if (json_is_object(json_object_get(o, "after"))) {
			printf("the first after:\n");
			print_record(c, json_object_get(o, "after"), save);
		}
		return;
	}
	printf(" %zu broadcast%s\n", json_array_size(list), json_array_size(list) == 1 ? "" : "s");
	json_array_foreach(list, i, rec)
		print_record(c, rec, save);
}

/* The query path, arguments escaped. NULL on a bad --limit. */
static char *query(CURL *curl, const char *target, const char *at, const char *limit)
{
	char *t = target ? curl_easy_escape(curl, target, 0) : NULL;
	char *a = at ? curl_easy_escape(curl, at, 0) : NULL;
	char *path = NULL;

	if (at && asprintf(&path, "/v1/history?at=%s%s%s", a, t ? "&target=" : "", t ? t : "") < 0)
		path = NULL;
	else if (!at && asprintf(&path, "/v1/history?limit=%s%s%s", limit ? limit : "20",
				 t ? "&target=" : "", t ? t : "") < 0)
		path = NULL;
	curl_free(t);
	curl_free(a);
	return path;
}

int ctl_history(const struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' }, { "at", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'n' }, { "json", no_argument, NULL, 'j' },
		{ "save", required_argument, NULL, 's' }, { NULL, 0, NULL, 0 },
	};
	const char *target = NULL, *at = NULL, *limit = NULL, *save = NULL;
	struct buffer answer = { 0 };
	CURL *curl = curl_easy_init();
	json_t *o, *rec;
	char *path;
	long status;
	int opt, raw = 0, rc = 1;
	size_t i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "t:a:n:js:", opts, NULL)) != -1) {
		if (opt == 't') target = optarg;
		else if (opt == 'a') at = optarg;
		else if (opt == 'n') limit = optarg;
		else if (opt == 'j') raw = 1;
		else if (opt == 's') save = optarg;
		else return curl_easy_cleanup(curl), 64;
	}
	path = curl && optind == argc ? query(curl, target, at, limit) : NULL;
	curl_easy_cleanup(curl);
	if (!path) {
		fprintf(stderr, "usage: headendctl history [--target PLACE --at "
			"\"YYYY-MM-DD HH:MM\"] [--limit N] [--json] [--save DIR]\n");
		return 64;
	}
	status = ctl_request(c, path, NULL, &answer);
	free(path);
	o = answer.data ? json_loads(answer.data, 0, NULL) : NULL;
	if (status != 200 || !o) {
		if (status)
			fprintf(stderr, "headendctl: refused (%ld): %s\n", status,
				json_is_string(json_object_get(o, "error")) ?
				json_string_value(json_object_get(o, "error")) : "no explanation");
		rc = status ? 1 : 2;
	} else if (raw) {
		fputs(answer.data, stdout);
		rc = 0;
	} else if (at) {
		print_heard(c, o, save);
		rc = 0;
	} else {
		json_array_foreach(json_object_get(o, "history"), i, rec)
			print_record(c, rec, save);
		rc = 0;
	}
	json_decref(o);
	free(answer.data);
	return rc;
}
