/* SPDX-License-Identifier: GPL-3.0-or-later */
/* etc/headend.cfg through libconfig: every setting with its default, checked once at start-up.
 * The programs decide what to do with an error; this file only names it. */
#ifndef CX_HEADEND_CONFIG_H
#define CX_HEADEND_CONFIG_H

#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "tts/tts.h"

#define CONFIG_STR_MAX 256

struct headend_config {
	char state_dir[PATH_MAX];	/* runtime state: queue, keys, archive */
	char zones_path[PATH_MAX];	/* loudspeaker directory CSV */

	char http_address[CONFIG_STR_MAX];	/* listen address, 127.0.0.1 by default */
	int http_port;
	size_t http_max_body;		/* bytes of a request body */
	size_t max_text;		/* bytes of bulletin text */

	struct in_addr mc_interface;	/* IPv4 address of the interface multicast leaves by */
	struct in_addr mc_base;		/* first address of the group plan, docs/addressing.md */
	int mc_port;
	int mc_ttl;
	double pace;			/* 1.0 real time; tests may send faster */

	char voice[CONFIG_STR_MAX];
	struct tts_config tts;		/* tts.voice points into voice[] above */

	int repeat_forecast;		/* plays after the first, by kind */
	int repeat_nowcast;
	int repeat_warning;
	int repeat_warning_red;		/* red and orange warnings repeat more */
	int repeat_gap_ms;		/* silence between plays */
	int lead_ms;			/* silence before the first audio frame, for endpoints to wake */
};

/* Load path into c, starting from the defaults. Returns 0, or -1 with err naming the file, line
 * and setting at fault. Relative paths in the file stay relative to the working directory. */
__attribute__((warn_unused_result))
int config_load(struct headend_config *c, const char *path, char *err, size_t errlen);

/* The defaults alone, as config_load starts from. */
void config_default(struct headend_config *c);

#endif
