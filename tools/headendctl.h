/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the parts of headendctl share: where the head-end is, the credentials to send, and one
 * HTTP exchange. headendctl.c has the bulletin commands, ctl_auth.c the security ones. */
#ifndef CX_TOOLS_HEADENDCTL_H
#define CX_TOOLS_HEADENDCTL_H

#include <limits.h>
#include <stddef.h>

#include "headend/config.h"

struct client {
	char server[512];
	const char *config;
	char token[128];		/* sent as Authorization: Bearer; empty: none found */
	char cacert[PATH_MAX];		/* CA file for https; empty: the system's */
};

struct buffer {
	char *data;
	size_t len;
};

/* One HTTP exchange, a POST of JSON when body is set. Returns the status, or 0 with a message
 * printed if none was had. The answer is appended to out (the caller frees out->data). */
long ctl_request(const struct client *c, const char *path, const char *body,
		 struct buffer *out);

/* Token from $HEADEND_TOKEN, else the operator.token in cfg's state directory (cfg NULL: the
 * config could not be read); CA file from $HEADEND_CACERT, else cfg's own certificate. */
void ctl_credentials(struct client *c, const struct headend_config *cfg);

/* token rotate|create LABEL|revoke LABEL, key rotate, passwd NAME, login NAME. Returns the
 * exit status, or -1 if argv[0] is none of these. */
int ctl_auth_command(const struct client *c, int argc, char **argv);

/* history [--target T --at TIME] [--limit N] [--json] [--save DIR] (tools/ctl_history.c):
 * the exit status. */
int ctl_history(const struct client *c, int argc, char **argv);

/* stage --product P [--slot HH:MM] FILE, play --slot HH:MM [--force], schedule, warnings
 * (tools/ctl_slots.c). Returns the exit status, or -1 if argv[0] is none of these. */
int ctl_slots_command(const struct client *c, int argc, char **argv);

/* live --target T... | --stop | [--json], monitor [PLACE | --stop] (tools/ctl_live.c).
 * Returns the exit status, or -1 if argv[0] is neither. */
int ctl_live_command(const struct client *c, int argc, char **argv);

/* endpoints [--target T] [--json], endpoint-key ID [--out FILE] (tools/ctl_endpoints.c).
 * Returns the exit status, or -1 if argv[0] is neither. */
int ctl_endpoints_command(const struct client *c, int argc, char **argv);

#endif
