/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The broadcast engine: a queue of accepted bulletins, a render thread that turns them into Opus
 * frames, and a pacer thread that multicasts them every 20 ms on an absolute clock, each
 * bulletin to its own groups, several at once where their villages do not overlap. */
#ifndef CX_HEADEND_ENGINE_H
#define CX_HEADEND_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "headend/bulletin.h"
#include "headend/config.h"
#include "zones/zones.h"

struct engine;

/* Open the multicast socket, the TTS engine and the threads. cfg and z must outlive the engine.
 * Returns 0, or -1 with err saying what failed. */
__attribute__((warn_unused_result))
int engine_open(struct engine **out, const struct headend_config *cfg, const struct zones *z,
		char *err, size_t errlen);

/* Stop the threads; broadcasts on air are ended with their END packets. */
void engine_close(struct engine *e);

/* Queue a bulletin. On 0 the engine owns b's contents and *id is the new id; on 1 the client id
 * was seen before, *id is the first bulletin's and b is left to the caller; -1 on error. */
__attribute__((warn_unused_result))
int engine_submit(struct engine *e, struct bulletin *b, uint32_t *id, char *err, size_t errlen);

/* What is playing where, queued and recently finished, as JSON text the caller frees. */
char *engine_status_json(struct engine *e);

#endif
