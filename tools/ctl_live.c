/* SPDX-License-Identifier: GPL-3.0-or-later */
/* headendctl live and monitor: start and stop a live announcement from the head-end's
 * microphone, and choose the zone its local monitor plays (docs/console.md). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/headendctl.h"

/* The answer's error sentence, or the status, on standard error; 0 for a 2xx answer. */
static int refused(long status, const struct buffer *answer, const char *what)
{
	json_t *o = answer->data ? json_loads(answer->data, 0, NULL) : NULL;
	json_t *error = json_object_get(o, "error");

	if (status >= 200 && status < 300) {
		json_decref(o);
		return 0;
	}
	if (status)
		fprintf(stderr, "headendctl: %s refused (%ld): %s\n", what, status,
			json_is_string(error) ? json_string_value(error) : "no explanation");
	json_decref(o);
	return status ? 1 : 2;
}

static void print_live(const char *text)
{
	json_t *o = json_loads(text, 0, NULL), *k = json_object_get(o, "counters");
	json_t *lat = json_object_get(k, "latency_ms"), *part;
	size_t i;

	if (!o)
		return;
	printf("live %s", json_string_value(json_object_get(o, "state")));
	if (json_object_get(o, "bulletin"))
		printf("  bulletin %lld to %s, %.1f s", (long long)json_integer_value(
		       json_object_get(o, "bulletin")), json_string_value(json_object_get(o,
		       "targets")), json_number_value(json_object_get(o, "seconds")));
	if (json_object_get(o, "ended_by"))
		printf(" (%s)", json_string_value(json_object_get(o, "ended_by")));
	printf("\n");
	json_array_foreach(json_object_get(o, "parts"), i, part)
		printf("  broadcast %lld to %s: %s, %.1f s sent\n",
		       (long long)json_integer_value(json_object_get(part, "broadcast")),
		       json_string_value(json_object_get(part, "targets")),
		       json_string_value(json_object_get(part, "state")),
		       json_number_value(json_object_get(part, "seconds_sent")));
	if (k)
		printf("  device %s: %lld frames captured, %lld sent; overruns %lld, suspends "
		       "%lld, device errors %lld (silence %lld frames), dropped %lld, inserted "
		       "%lld\n", json_string_value(json_object_get(o, "device")),
		       json_integer_value(json_object_get(k, "frames_captured")),
		       json_integer_value(json_object_get(k, "frames_sent")),
		       json_integer_value(json_object_get(k, "overruns")),
		       json_integer_value(json_object_get(k, "suspends")),
		       json_integer_value(json_object_get(k, "device_errors")),
		       json_integer_value(json_object_get(k, "silent_frames")),
		       json_integer_value(json_object_get(k, "dropped")),
		       json_integer_value(json_object_get(k, "inserted")));
	if (json_is_object(lat))
		printf("  capture to send: p50 %.0f ms, p99 %.0f ms, max %.1f ms\n",
		       json_number_value(json_object_get(lat, "p50")),
		       json_number_value(json_object_get(lat, "p99")),
		       json_number_value(json_object_get(lat, "max")));
	json_decref(o);
}

static int cmd_live(const struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' }, { "stop", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	json_t *targets = json_array();
	struct buffer answer = { 0 };
	int opt, stop = 0, raw = 0, rc;
	char *body = NULL;
	const char *path = "/v1/live";
	long status;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "t:sj", opts, NULL)) != -1) {
		if (opt == 't') {
			json_array_append_new(targets, json_string(optarg));
		} else if (opt == 's') {
			stop = 1;
		} else if (opt == 'j') {
			raw = 1;
		} else {
			json_decref(targets);
			return 64;
		}
	}
	if (optind != argc || (stop && json_array_size(targets))) {
		fprintf(stderr, "usage: headendctl live --target PLACE [--target PLACE]... | "
			"--stop | [--json]\n");
		json_decref(targets);
		return 64;
	}
	if (stop) {
		path = "/v1/live/stop";
		body = strdup("{}");
	} else if (json_array_size(targets)) {
		json_t *o = json_pack("{s:O}", "targets", targets);

		body = o ? json_dumps(o, JSON_COMPACT) : NULL;
		json_decref(o);
	}
	json_decref(targets);
	status = ctl_request(c, path, body, &answer);
	rc = refused(status, &answer, stop ? "stop" : body ? "live" : "live status");
	if (!rc && raw)
		printf("%s\n", answer.data);
	else if (!rc)
		print_live(answer.data);
	free(body);
	free(answer.data);
	return rc;
}

static int cmd_monitor(const struct client *c, int argc, char **argv)
{
	struct buffer answer = { 0 };
	char *body = NULL;
	json_t *o = NULL;
	long status;
	int rc;

	if (argc > 2) {
		fprintf(stderr, "usage: headendctl monitor [PLACE | --stop]\n");
		return 64;
	}
	if (argc == 2)
		o = json_pack("{s:s}", "zone", strcmp(argv[1], "--stop") ? argv[1] : "");
	body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	status = ctl_request(c, "/v1/monitor", body, &answer);
	rc = refused(status, &answer, "monitor");
	o = rc ? NULL : json_loads(answer.data, 0, NULL);
	if (o && json_is_true(json_object_get(o, "on")))
		printf("monitoring %s (as endpoint %s) on ALSA device %s: %lld broadcasts, %lld "
		       "frames, %lld lost, %lld rejected\n",
		       json_string_value(json_object_get(o, "zone")),
		       json_string_value(json_object_get(o, "listener")),
		       json_string_value(json_object_get(o, "device")),
		       json_integer_value(json_object_get(o, "broadcasts")),
		       json_integer_value(json_object_get(o, "frames")),
		       json_integer_value(json_object_get(o, "lost")),
		       json_integer_value(json_object_get(o, "rejected")));
	else if (o)
		printf("monitor off\n");
	json_decref(o);
	free(body);
	free(answer.data);
	return rc;
}

int ctl_live_command(const struct client *c, int argc, char **argv)
{
	if (!strcmp(argv[0], "live"))
		return cmd_live(c, argc, argv);
	if (!strcmp(argv[0], "monitor"))
		return cmd_monitor(c, argc, argv);
	return -1;
}
