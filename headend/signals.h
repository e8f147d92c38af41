/* SPDX-License-Identifier: GPL-3.0-or-later */
/* etc/signals.cfg: the warning signals a province uses, their Chinese names and legal colours,
 * and how each colour is presented (alert tone, plays, gap, re-broadcast while active). The
 * wire numbers of the signals are the protocol's (proto_signal_key), not the file's order. */
#ifndef CX_HEADEND_SIGNALS_H
#define CX_HEADEND_SIGNALS_H

#include <stddef.h>

#include "proto/proto.h"

#define SIGNAL_COUNT 10
#define SIGNAL_NAME_MAX 32

enum signals_result {
	SIGNALS_OK = 0,
	SIGNALS_ERR_IO,		/* the file cannot be read */
	SIGNALS_ERR_FORMAT,	/* syntax, unknown setting or value; err names file and line */
};

struct signal_type {
	char name[SIGNAL_NAME_MAX];	/* "冰雹"; empty: the province does not use this signal */
	unsigned colours;		/* bit (1 << proto_colour) for each legal colour */
};

struct colour_policy {
	enum proto_colour tone;		/* pattern of the alert tone; NONE: no tone */
	int repeat;			/* plays after the first */
	int gap_ms;			/* silence between plays */
	int rebroadcast;		/* seconds between broadcasts while active; 0: never */
};

struct signals {
	struct signal_type types[SIGNAL_COUNT];	/* index: wire number - 1 */
	struct colour_policy colours[PROTO_COLOUR_RED + 1];	/* index: proto_colour */
	int lift_repeat;		/* plays after the first of a lift (解除) */
};

/* No signal in use, and the presentation defaults: a tone of the warning's colour, one repeat
 * (two for orange, three for red), 2 s gaps, re-broadcast of orange hourly and red half-hourly. */
void signals_default(struct signals *s);

/* Load path into s, starting from signals_default. Returns SIGNALS_OK, or an error with err
 * naming the file, line and setting. */
__attribute__((warn_unused_result))
enum signals_result signals_load(struct signals *s, const char *path, char *err, size_t errlen);

/* Wire number of a signal by English key or Chinese name; 0 if unknown. */
unsigned signals_lookup(const struct signals *s, const char *key_or_name);

const char *signals_strerror(enum signals_result r);

#endif
