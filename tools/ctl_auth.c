/* SPDX-License-Identifier: GPL-3.0-or-later */
/* headendctl's security commands: operator token, API tokens, passwords, log in, key rotation.
 * Passwords come from the terminal with echo off, or from standard input in scripts. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "tools/headendctl.h"

#define PASSWORD_MAX 512

void ctl_credentials(struct client *c, const struct headend_config *cfg)
{
	const char *token = getenv("HEADEND_TOKEN"), *ca = getenv("HEADEND_CACERT");
	char path[PATH_MAX + 32];
	FILE *f;

	if (ca && *ca)
		snprintf(c->cacert, sizeof(c->cacert), "%s", ca);
	else if (cfg && cfg->tls_cert[0])
		snprintf(c->cacert, sizeof(c->cacert), "%s", cfg->tls_cert);
	if (token && *token) {
		snprintf(c->token, sizeof(c->token), "%s", token);
		return;
	}
	if (!cfg)
		return;
	snprintf(path, sizeof(path), "%s/operator.token", cfg->state_dir);
	f = fopen(path, "r");
	if (f && fgets(c->token, sizeof(c->token), f))
		c->token[strcspn(c->token, "\r\n")] = '\0';
	if (f)
		fclose(f);
}

/* One line from the terminal without echo, or from standard input as it comes. */
static int read_password(const char *prompt, char *out, size_t size)
{
	int tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	int ok;

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ok = fgets(out, (int)size, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (!ok) {
		fprintf(stderr, "headendctl: no password given\n");
		return -1;
	}
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/* POST a JSON object; on success print member key of the answer (if any) on standard output.
 * Exit status as for send: 0, 1 refused, 2 no answer. */
static int post(const struct client *c, const char *path, json_t *o, const char *key)
{
	struct buffer answer = { 0 };
	char *body = json_dumps(o, JSON_COMPACT);
	long status = body ? ctl_request(c, path, body, &answer) : 0;
	json_t *a = answer.data ? json_loads(answer.data, 0, NULL) : NULL;
	int rc = status ? 1 : 2;

	if (status >= 200 && status < 300) {
		if (key && json_is_string(json_object_get(a, key)))
			printf("%s\n", json_string_value(json_object_get(a, key)));
		rc = 0;
	} else if (status) {
		fprintf(stderr, "headendctl: refused (%ld): %s\n", status,
			json_string_value(json_object_get(a, "error")) ?
			json_string_value(json_object_get(a, "error")) : "no explanation");
		if (status == 401 && !c->token[0])
			fprintf(stderr, "headendctl: no token found: set HEADEND_TOKEN, or "
				"name the head-end's config with --config\n");
	}
	if (body)
		memset(body, 0, strlen(body));
	free(body);
	free(answer.data);
	json_decref(a);
	json_decref(o);
	return rc;
}

static int cmd_passwd(const struct client *c, const char *name)
{
	char pw[PASSWORD_MAX], again[PASSWORD_MAX], path[128];
	int rc;

	if (read_password("new password: ", pw, sizeof(pw)))
		return 64;
	if (isatty(STDIN_FILENO) && (read_password("again: ", again, sizeof(again)) ||
				     strcmp(pw, again))) {
		fprintf(stderr, "headendctl: the passwords differ\n");
		return 64;
	}
	snprintf(path, sizeof(path), "/v1/operators/%s/password", name);
	rc = post(c, path, json_pack("{s:s}", "password", pw), NULL);
	if (!rc)
		fprintf(stderr, "headendctl: password of %s set\n", name);
	memset(pw, 0, sizeof(pw));
	memset(again, 0, sizeof(again));
	return rc;
}

static int cmd_login(const struct client *c, const char *name)
{
	char pw[PASSWORD_MAX];
	int rc;

	if (read_password("password: ", pw, sizeof(pw)))
		return 64;
	rc = post(c, "/v1/login", json_pack("{s:s, s:s}", "name", name, "password", pw), "token");
	memset(pw, 0, sizeof(pw));
	return rc;
}

int ctl_auth_command(const struct client *c, int argc, char **argv)
{
	const char *what = argv[0], *sub = argc > 1 ? argv[1] : "";

	if (!strcmp(what, "token") && argc == 2 && !strcmp(sub, "rotate"))
		return post(c, "/v1/tokens/rotate", json_object(), "token");
	if (!strcmp(what, "token") && argc == 3 && !strcmp(sub, "create"))
		return post(c, "/v1/tokens", json_pack("{s:s}", "label", argv[2]), "token");
	if (!strcmp(what, "token") && argc == 3 && !strcmp(sub, "revoke"))
		return post(c, "/v1/tokens/revoke", json_pack("{s:s}", "label", argv[2]), NULL);
	if (!strcmp(what, "key") && argc == 2 && !strcmp(sub, "rotate"))
		return post(c, "/v1/keys/rotate", json_object(), "key_id");
	if (!strcmp(what, "passwd") && argc == 2)
		return cmd_passwd(c, sub);
	if (!strcmp(what, "login") && argc == 2)
		return cmd_login(c, sub);
	return -1;
}
