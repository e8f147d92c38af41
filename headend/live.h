/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One live announcement's microphone: a thread that reads the ALSA capture device of
 * live.device (headend/capture.c) 20 ms at a time, encodes each period with libopus as the
 * speech is encoded (tts.bitrate, in-band FEC) and keeps every frame with the time its first
 * sample entered the device. The engine sends them (headend/engine.c); this file also keeps
 * the counters and the latency figures that GET /v1/live shows. */
#ifndef CX_HEADEND_LIVE_H
#define CX_HEADEND_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "headend/config.h"

struct live;

/* Open the capture device and start the thread. Returns 0, or -1 with err naming the device
 * and why it cannot be used; then nothing runs. */
__attribute__((warn_unused_result))
int live_open(struct live **out, const struct headend_config *cfg, char *err, size_t errlen);

/* Capture ends: frames captured so far stay available, no more are added. */
void live_stop(struct live *l);

/* Frame i (from 0) into buf (PROTO_MAX_OPUS bytes), with when its first sample was captured
 * (CLOCK_MONOTONIC, ns): 1; 0 if it has not been captured yet; -1 if capture ended before
 * it. */
int live_frame(struct live *l, size_t i, unsigned char *buf, size_t *len, int64_t *captured_ns);

/* Frames captured so far. */
size_t live_count(struct live *l);

/* What the pacer did: a frame sent (with its capture-to-send latency in ms, or < 0 for one
 * of silence the head-end made up), frames dropped for a standing backlog, silence inserted
 * for a capture that came late. */
void live_sent(struct live *l, double latency_ms);
void live_dropped(struct live *l, size_t n);
void live_inserted(struct live *l, size_t n);

/* Once a tick: a device that has delivered no period for a second (a stalled microphone,
 * whose reads block rather than fail) is said in the log once, and again when it delivers. */
void live_watch(struct live *l);

/* Counters and latency as JSON (GET /v1/live): new reference. */
json_t *live_json(struct live *l);

/* The engine is done with l; it is freed once the capture thread has ended too. */
void live_release(struct live *l);

#endif
