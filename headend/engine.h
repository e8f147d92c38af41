/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The broadcast engine: a queue of accepted bulletins, a render thread that turns them into Opus
 * frames, and a pacer thread that multicasts them every 20 ms on an absolute clock, each
 * bulletin to its own groups, several at once where their villages do not overlap. */
#ifndef CX_HEADEND_ENGINE_H
#define CX_HEADEND_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "headend/bulletin.h"
#include "headend/config.h"
#include "zones/zones.h"

struct engine;

/* Open the multicast socket, the TTS engine and the threads, after reading back from
 * cfg->state_dir what was accepted and not yet played (queued again) and the active warnings.
 * cfg and z must outlive the engine. Returns 0, or -1 with err saying what failed. */
__attribute__((warn_unused_result))
int engine_open(struct engine **out, const struct headend_config *cfg, const struct zones *z,
		char *err, size_t errlen);

/* Stop the threads; broadcasts on air are ended with their END packets. */
void engine_close(struct engine *e);

/* Where a bulletin comes from, when not from POST /v1/bulletins. */
struct engine_origin {
	const char *slot;		/* "17:00": a daily slot */
	time_t occurrence;		/* the slot's time this day */
	int wait;			/* seconds the slot may wait for its villages */
	const char *text_from;		/* where its text came from, for the record */
};

/* Queue a bulletin, durably: its record is on disk (and a warning's effect on the warning
 * state with it) before this returns 0. On 0 the engine owns b's contents and *id is the new
 * id; on 1 the client id was seen before, *id is the first bulletin's and b is left to the
 * caller; -1 on error (HTTP 503); -2 when a warning does not fit the active warnings (409).
 * err says why in one sentence. */
__attribute__((warn_unused_result))
int engine_submit(struct engine *e, struct bulletin *b, uint32_t *id, char *err, size_t errlen);

/* engine_submit for a bulletin of the head-end's own (origin may be NULL). */
__attribute__((warn_unused_result))
int engine_submit_from(struct engine *e, struct bulletin *b, const struct engine_origin *origin,
		       uint32_t *id, char *err, size_t errlen);

/* Queue again every red or orange warning whose re-broadcast interval has passed at now.
 * Returns when the next one falls due, 0 if none will. */
time_t engine_rebroadcast(struct engine *e, time_t now);

/* Add an event to the status ("skipped": slots not played, bulletins expired); the engine takes
 * note. */
void engine_note(struct engine *e, json_t *note);

/* The active warnings as JSON text (GET /v1/warnings), which the caller frees. */
char *engine_warnings_json(struct engine *e);

/* 1 if the pacer thread has gone round its loop within the last max_s seconds. */
int engine_alive(struct engine *e, int max_s);

/* What is playing where, queued and recently finished (GET /v1/status): a new reference, or
 * NULL out of memory. */
json_t *engine_status(struct engine *e);

/* Start a key rotation (headend/keys.h): *id is the new key, which signs once it has been
 * announced. Returns 0, or -1 with err set. */
__attribute__((warn_unused_result))
int engine_rotate_key(struct engine *e, uint32_t *id, char *err, size_t errlen);

/* A broadcast over in some villages: played out, or cut there by a preemption. Everything
 * points into the engine and is valid only during the call. */
struct engine_played {
	uint32_t bulletin, broadcast;
	const struct bulletin *b;	/* what was played; b->targets names where */
	const unsigned char *villages;	/* n_villages flags: where it was heard */
	const char *slot;		/* a daily slot's "17:00", else "" */
	time_t accepted;
	uint64_t started_ms, ended_ms;	/* wall clock */
	const char *result;		/* "played", "preempted", "render failed" */
	size_t n_frames;		/* the Opus frames sent, in order, silence included */
	const unsigned char *const *frame;
	const size_t *frame_len;
};

/* Call fn for every broadcast that sent audio, when it ends in some villages; NULL stops it.
 * fn runs on the pacer thread with the engine locked: it copies what it needs and returns at
 * once, and never calls the engine. */
typedef void (*engine_played_fn)(void *arg, const struct engine_played *p);
void engine_on_played(struct engine *e, engine_played_fn fn, void *arg);

/* A broadcast going on air (on 1), aimed at codes, or over everywhere (on 0; codes empty).
 * Valid only during the call. */
struct engine_air {
	uint32_t broadcast;
	int on;
	const uint64_t *codes;
	size_t n_codes;
};

/* Call fn whenever a broadcast goes on air or is over; NULL stops it. fn runs on the pacer
 * thread with the engine locked, as engine_on_played's does, and never calls the engine. */
typedef void (*engine_air_fn)(void *arg, const struct engine_air *a);
void engine_on_air(struct engine *e, engine_air_fn fn, void *arg);

/* Start a live announcement to b's targets from the ALSA device of live.device (b's text is
 * what the archive shows; its kind becomes live). The device is opened first: if it cannot
 * be, nothing is queued. On 0 the engine owns b's contents and *id is the bulletin and
 * broadcast id; -1 with err naming the device or the failure (HTTP 503); -2 when a live
 * announcement is on air or waiting already (409). Never kept on disk: a restart does not
 * replay a live voice. */
__attribute__((warn_unused_result))
int engine_live_start(struct engine *e, struct bulletin *b, uint32_t *id, char *err,
		      size_t errlen);

/* End the live announcement: what was captured goes out, then END. 0 with *id, or -1 if none
 * is on air or waiting. */
__attribute__((warn_unused_result))
int engine_live_stop(struct engine *e, uint32_t *id, char *err, size_t errlen);

/* Before the head-end stops: a live announcement on air is ended as if stopped (what was
 * captured goes out, then END) and recorded and archived as cut short; waits at most
 * timeout_ms for its parts to finish. Call while the archive is still open. */
void engine_live_shutdown(struct engine *e, int timeout_ms);

/* State, parts, counters and latency of the last live announcement (GET /v1/live), as JSON
 * text the caller frees. */
char *engine_live_json(struct engine *e);

/* The speech engine the broadcasts are rendered with (tts_render is safe from any thread). */
struct tts *engine_tts(struct engine *e);

#endif
