/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A bulletin as the head-end accepts it: parsed from a JSON request, checked against the
 * directory and the warning signal table. Playing it is the engine's job. */
#ifndef CX_HEADEND_BULLETIN_H
#define CX_HEADEND_BULLETIN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "headend/config.h"
#include "proto/proto.h"
#include "zones/zones.h"

#define BULLETIN_CLIENT_ID_MAX 64
#define BULLETIN_TARGETS_MAX 4200	/* bytes of the target list: 64 names of 63 bytes */

struct bulletin {
	char *text;			/* UTF-8, owned */
	enum proto_kind kind;
	uint8_t signal;			/* 1..10 for warnings, 0 otherwise */
	enum proto_colour colour;
	enum proto_action action;
	int repeat;			/* plays after the first */
	char client_id[BULLETIN_CLIENT_ID_MAX + 1];	/* empty if none was given */
	char targets[BULLETIN_TARGETS_MAX];	/* as the operator wrote them, comma separated */
	struct zones_selection sel;
	uint8_t n_codes;		/* the selection as control-packet codes */
	uint64_t codes[PROTO_MAX_TARGETS];
	size_t endpoints;
};

/* Parse a POST /v1/bulletins body. Returns 0 and fills b (release with bulletin_free), or an
 * HTTP status (400 malformed, 413 too large, 422 well-formed but refused) with err saying what
 * is wrong in one sentence. */
__attribute__((warn_unused_result))
int bulletin_parse(const char *body, size_t len, const struct zones *z,
		   const struct headend_config *cfg, struct bulletin *b, char *err, size_t errlen);

/* Release what bulletin_parse allocated. */
void bulletin_free(struct bulletin *b);

/* Narrow b to the villages flagged in keep (n_villages flags): whole villages and single
 * endpoints elsewhere are dropped; codes, endpoint count and the targets text follow. Returns 0,
 * or -1 with err set if the rest needs more codes than a control packet holds. */
__attribute__((warn_unused_result))
int bulletin_restrict(struct bulletin *b, const struct zones *z, const unsigned char *keep,
		      char *err, size_t errlen);

/* A deep copy of src into dst, released with bulletin_free. Returns 0 or -1 (out of memory). */
__attribute__((warn_unused_result))
int bulletin_copy(struct bulletin *dst, const struct bulletin *src, const struct zones *z);

/* b as a POST /v1/bulletins body that bulletin_parse reads back to the same bulletin (targets
 * as codes). NULL if out of memory; the caller owns the result. */
json_t *bulletin_request(const struct bulletin *b);

/* Find the warning's fixed phrase in the text's opening, before its first colon
 * ("发布冰雹橙色预警信号", "将…更新为暴雨红色预警信号", "解除寒冷黄色预警信号"). Returns 1 and
 * sets the three fields, 0 if there is none, -1 if the opening names two different ones. */
int bulletin_phrase(const struct signals *sig, const char *text, uint8_t *signal,
		    enum proto_colour *colour, enum proto_action *action);

/* Colour by English or Chinese name ("orange", "橙色", "橙"); PROTO_COLOUR_NONE if unknown. */
enum proto_colour colour_lookup(const char *s);

#endif
