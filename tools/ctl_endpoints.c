/* SPDX-License-Identifier: GPL-3.0-or-later */
/* headendctl's endpoint commands: the table of loudspeakers from their status reports, and a
 * new report key for one of them. The key is made here, on the operator's machine: only its
 * public half goes to the head-end, the secret goes into a file for the loudspeaker. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/report.h"
#include "proto/sign.h"
#include "tools/headendctl.h"

static const char *text_of(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static int refused(long status, const struct buffer *answer, const char *what)
{
	json_t *o = answer->data ? json_loads(answer->data, 0, NULL) : NULL;

	if (status)
		fprintf(stderr, "headendctl: %s: refused (%ld): %s\n", what, status,
			text_of(o, "error", "no explanation"));
	json_decref(o);
	return status ? 1 : 2;
}

/* endpoints [--target T] [--json]: id, state word, last report (or "never"), one a line. */
static int cmd_endpoints(const struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "target", required_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *target = NULL;
	char path[600];
	struct buffer answer = { 0 };
	json_t *o, *item;
	long status;
	size_t i;
	int opt, raw = 0;

	optind = 0;	/* 0: glibc starts afresh, after main's own options */
	while ((opt = getopt_long(argc, argv, "t:j", opts, NULL)) != -1) {
		if (opt == 't') {
			target = optarg;
		} else if (opt == 'j') {
			raw = 1;
		} else {
			return 64;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "usage: headendctl endpoints [--target T] [--json]\n");
		return 64;
	}
	if (target) {
		char *q = curl_easy_escape(NULL, target, 0);

		if (!q)
			return 64;
		snprintf(path, sizeof(path), "/v1/endpoints?target=%s", q);
		curl_free(q);
	} else {
		snprintf(path, sizeof(path), "/v1/endpoints");
	}
	status = ctl_request(c, path, NULL, &answer);
	o = status == 200 && answer.data ? json_loads(answer.data, 0, NULL) : NULL;
	if (!o) {
		int rc = refused(status, &answer, "endpoints");

		free(answer.data);
		return rc;
	}
	if (raw)
		printf("%s\n", answer.data);
	json_array_foreach(raw ? NULL : json_object_get(o, "endpoints"), i, item)
		printf("%015lld  %-12s  %s\n",
		       (long long)json_integer_value(json_object_get(item, "id")),
		       text_of(item, "state", "?"), text_of(item, "last_report", "never"));
	free(answer.data);
	json_decref(o);
	return 0;
}

static int parse_id(const char *s, unsigned long long *id)
{
	if (strlen(s) != 15 || strspn(s, "0123456789") != 15)
		return -1;
	*id = strtoull(s, NULL, 10);
	return 0;
}

/* The key file and its directory entry on disk before the head-end is told: a key the
 * head-end expects but nobody holds would silence the loudspeaker's reports. */
static int sync_file(const char *path)
{
	char copy[PATH_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc |= fsync(fd);
	close(fd);
	return rc;
}

/* endpoint-key ID [--out FILE]: make a seed here, register its public key, keep the seed. */
static int cmd_endpoint_key(const struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' }, { NULL, 0, NULL, 0 },
	};
	unsigned char pk[PROTO_PUBLIC_KEY];
	char out[PATH_MAX], url[64], hex[2 * PROTO_PUBLIC_KEY + 1];
	const char *file = NULL;
	struct buffer answer = { 0 };
	unsigned long long id;
	json_t *body;
	char *text;
	long status;
	int opt, rc;

	optind = 0;	/* 0: glibc starts afresh, and lets options follow the id */
	while ((opt = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (opt != 'o')
			return 64;
		file = optarg;
	}
	if (optind != argc - 1 || parse_id(argv[optind], &id)) {
		fprintf(stderr, "usage: headendctl endpoint-key ENDPOINT_ID [--out FILE]\n"
			"  ENDPOINT_ID has 15 digits\n");
		return 64;
	}
	if (file)
		snprintf(out, sizeof(out), "%s", file);
	else
		snprintf(out, sizeof(out), "%015llu.key", id);
	if (!access(out, F_OK)) {
		fprintf(stderr, "headendctl: %s exists; it may be a key in use: move it away or "
			"name another file with --out\n", out);
		return 64;
	}
	if (proto_crypto_init() || proto_seed_create(out, pk) || sync_file(out)) {
		fprintf(stderr, "headendctl: cannot write the key %s: %s\n", out, strerror(errno));
		unlink(out);
		return 64;
	}
	proto_hex(pk, sizeof(pk), hex);
	body = json_pack("{s:s}", "public_key", hex);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	snprintf(url, sizeof(url), "/v1/endpoints/%015llu/key", id);
	status = text ? ctl_request(c, url, text, &answer) : 0;
	free(text);
	if (status == 200) {
		printf("endpoint %015llu: new report key %08x registered with the head-end, which "
		       "now rejects reports signed with any other.\n"
		       "Its secret is in %s (mode 0600) and nowhere else. Install it on the "
		       "loudspeaker as its report key (report.key in its endpoint.cfg), then "
		       "delete this copy.\n", id, proto_key_id(pk), out);
		rc = 0;
	} else {
		rc = refused(status, &answer, "endpoint-key");
		unlink(out);
		fprintf(stderr, "headendctl: the head-end keeps the old key; %s was removed\n",
			out);
	}
	free(answer.data);
	return rc;
}

int ctl_endpoints_command(const struct client *c, int argc, char **argv)
{
	if (!strcmp(argv[0], "endpoints"))
		return cmd_endpoints(c, argc, argv);
	if (!strcmp(argv[0], "endpoint-key"))
		return cmd_endpoint_key(c, argc, argv);
	return -1;
}
