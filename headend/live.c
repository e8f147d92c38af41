/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The capture thread of a live announcement and what it leaves behind: every Opus frame, in
 * order, with its capture time, so that the pacer can send them and the archive keep them. The
 * thread owns the device and the encoder; frames, counters and latencies are shared under a
 * mutex of their own, which the pacer takes inside the engine's lock and the thread alone. */
#include "headend/live.h"

#include <opus/opus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headend/capture.h"
#include "headend/clock.h"
#include "headend/log.h"
#include "proto/proto.h"

#define LATENCY_BUCKETS 2000	/* 1 ms each; later frames count in the last */

struct live {
	pthread_mutex_t lock;
	int refs;		/* the engine's and the thread's */
	int stopping;
	char device[CONFIG_STR_MAX];
	struct capture *cap;	/* the thread's */
	OpusEncoder *enc;	/* the thread's */

	unsigned char *data;	/* frames back to back; frame i ends at end[i] */
	size_t len, cap_data;
	uint32_t *end;
	int64_t *stamp;
	size_t n, cap_n;

	struct capture_stats st;	/* as of the last period */
	char last_event[256];
	unsigned long sent, made_up, dropped, inserted, encode_errors;
	unsigned long latency[LATENCY_BUCKETS];
	unsigned long measured;
	double latency_max;
	struct timespec started;
	int64_t last_ns;	/* monotonic: the last period from the device (or the open) */
	int stalled;		/* nothing from the device for STALL_NS: said in the log */
	unsigned long stalls;
};

#define STALL_NS 1000000000	/* a second without a period from the device */

static void on_event(void *arg, enum capture_event ev, const char *what)
{
	struct live *l = arg;

	if (ev == CAPTURE_REOPENED)
		log_info("live: %s", what);
	else
		log_warn("live: %s", what);
	pthread_mutex_lock(&l->lock);
	snprintf(l->last_event, sizeof(l->last_event), "%s", what);
	pthread_mutex_unlock(&l->lock);
}

/* Under l->lock: room for one more frame of len bytes; the three arrays double together. */
static int room(struct live *l, size_t len)
{
	if (l->len + len > l->cap_data) {
		size_t cap = 2 * (l->len + len) + 4096;
		unsigned char *data = realloc(l->data, cap);

		if (!data)
			return -1;
		l->data = data;
		l->cap_data = cap;
	}
	if (l->n == l->cap_n) {
		size_t cap = l->cap_n ? 2 * l->cap_n : 1024;
		uint32_t *end = realloc(l->end, cap * sizeof(*end));
		int64_t *stamp;

		if (!end)
			return -1;
		l->end = end;
		stamp = realloc(l->stamp, cap * sizeof(*stamp));
		if (!stamp)
			return -1;
		l->stamp = stamp;
		l->cap_n = cap;
	}
	return 0;
}

/* Under l->lock. stamp < 0: a period of silence while the device was away. */
static int append(struct live *l, const unsigned char *pkt, size_t len, int64_t stamp)
{
	if (room(l, len))
		return -1;
	memcpy(l->data + l->len, pkt, len);
	l->len += len;
	l->end[l->n] = (uint32_t)l->len;
	l->stamp[l->n++] = stamp;
	l->last_ns = clock_mono_ns();
	return 0;
}

static void unref(struct live *l)
{
	int last;

	pthread_mutex_lock(&l->lock);
	last = --l->refs == 0;
	pthread_mutex_unlock(&l->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&l->lock);
	free(l->data);
	free(l->end);
	free(l->stamp);
	free(l);
}

static void *capture_main(void *arg)
{
	struct live *l = arg;
	int16_t pcm[CAPTURE_PERIOD];
	unsigned char pkt[PROTO_MAX_OPUS];
	int stop = 0;

	while (!stop) {
		long delay;
		int audio = capture_read(l->cap, pcm, &delay);
		int64_t stamp = clock_mono_ns() - (int64_t)(delay + CAPTURE_PERIOD) * 1000000000 /
				CAPTURE_RATE;
		int n = opus_encode(l->enc, pcm, CAPTURE_PERIOD, pkt, sizeof(pkt));

		pthread_mutex_lock(&l->lock);
		capture_stats(l->cap, &l->st);
		stop = l->stopping;
		if (n < 0 && !l->encode_errors++)
			log_error("live: opus encoder: %s", opus_strerror(n));
		if (!stop && n > 0 && append(l, pkt, (size_t)n, audio ? stamp : -1))
			log_error("live: out of memory for the announcement's frames");
		pthread_mutex_unlock(&l->lock);
	}
	capture_close(l->cap);
	opus_encoder_destroy(l->enc);
	unref(l);
	return NULL;
}

/* The speech encoder's settings (tts/tts.c), so that live sounds and costs what a bulletin
 * does. */
static int encoder(struct live *l, const struct headend_config *cfg, char *err, size_t errlen)
{
	int oe = OPUS_OK;

	l->enc = opus_encoder_create(CAPTURE_RATE, 1, OPUS_APPLICATION_VOIP, &oe);
	if (l->enc)
		oe = opus_encoder_ctl(l->enc, OPUS_SET_BITRATE(cfg->tts.bitrate));
	if (oe == OPUS_OK)
		oe = opus_encoder_ctl(l->enc, OPUS_SET_INBAND_FEC(1));
	if (oe == OPUS_OK)
		oe = opus_encoder_ctl(l->enc, OPUS_SET_PACKET_LOSS_PERC(cfg->tts.fec_loss_pct));
	if (oe == OPUS_OK)
		oe = opus_encoder_ctl(l->enc, OPUS_SET_COMPLEXITY(cfg->tts.complexity));
	if (oe == OPUS_OK)
		oe = opus_encoder_ctl(l->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	if (oe == OPUS_OK)
		return 0;
	snprintf(err, errlen, "opus encoder: %s", opus_strerror(oe));
	return -1;
}

int live_open(struct live **out, const struct headend_config *cfg, char *err, size_t errlen)
{
	struct live *l = calloc(1, sizeof(*l));
	pthread_t t;
	int rc;

	*out = NULL;
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->refs = 2;
	snprintf(l->device, sizeof(l->device), "%s", cfg->live_device);
	clock_gettime(CLOCK_REALTIME, &l->started);
	l->last_ns = clock_mono_ns();
	if (encoder(l, cfg, err, errlen) ||
	    capture_open(&l->cap, cfg->live_device, cfg->live_alsa_ms, on_event, l, err, errlen))
		goto fail;
	rc = pthread_create(&t, NULL, capture_main, l);
	if (rc) {
		snprintf(err, errlen, "cannot start the capture thread: %s", strerror(rc));
		goto fail;
	}
	pthread_detach(t);
	*out = l;
	return 0;
fail:
	capture_close(l->cap);
	if (l->enc)
		opus_encoder_destroy(l->enc);
	pthread_mutex_destroy(&l->lock);
	free(l);
	return -1;
}

void live_watch(struct live *l)
{
	int64_t quiet;

	pthread_mutex_lock(&l->lock);
	quiet = clock_mono_ns() - l->last_ns;
	if (!l->stopping && !l->stalled && quiet >= STALL_NS) {
		l->stalled = 1;
		l->stalls++;
		log_warn("live: nothing from ALSA device \"%s\" for a second; silence goes out "
			 "until it delivers again", l->device);
	} else if (l->stalled && quiet < STALL_NS) {
		l->stalled = 0;
		log_info("live: ALSA device \"%s\" delivers again", l->device);
	}
	pthread_mutex_unlock(&l->lock);
}

void live_stop(struct live *l)
{
	pthread_mutex_lock(&l->lock);
	l->stopping = 1;
	pthread_mutex_unlock(&l->lock);
}

int live_frame(struct live *l, size_t i, unsigned char *buf, size_t *len, int64_t *captured_ns)
{
	int rc = 1;

	pthread_mutex_lock(&l->lock);
	if (i >= l->n) {
		rc = l->stopping ? -1 : 0;
	} else {
		size_t from = i ? l->end[i - 1] : 0;

		*len = l->end[i] - from;
		memcpy(buf, l->data + from, *len);
		*captured_ns = l->stamp[i];
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

size_t live_count(struct live *l)
{
	size_t n;

	pthread_mutex_lock(&l->lock);
	n = l->n;
	pthread_mutex_unlock(&l->lock);
	return n;
}

void live_sent(struct live *l, double latency_ms)
{
	pthread_mutex_lock(&l->lock);
	l->sent++;
	if (latency_ms < 0) {
		l->made_up++;
	} else {
		size_t b = latency_ms < LATENCY_BUCKETS - 1 ? (size_t)latency_ms :
			   LATENCY_BUCKETS - 1;

		l->latency[b]++;
		l->measured++;
		if (latency_ms > l->latency_max)
			l->latency_max = latency_ms;
	}
	pthread_mutex_unlock(&l->lock);
}

void live_dropped(struct live *l, size_t n)
{
	pthread_mutex_lock(&l->lock);
	l->dropped += n;
	pthread_mutex_unlock(&l->lock);
}

void live_inserted(struct live *l, size_t n)
{
	pthread_mutex_lock(&l->lock);
	l->inserted += n;
	pthread_mutex_unlock(&l->lock);
}

/* Under l->lock: the latency below which share of the frames measured were sent, ms (the
 * upper edge of its 1 ms bucket). */
static double percentile(const struct live *l, double share)
{
	unsigned long want = (unsigned long)(share * (double)l->measured + 0.5), seen = 0;

	for (size_t b = 0; b < LATENCY_BUCKETS; b++) {
		seen += l->latency[b];
		if (seen >= want && seen)
			return (double)(b + 1) < l->latency_max ? (double)(b + 1) : l->latency_max;
	}
	return l->latency_max;
}

json_t *live_json(struct live *l)
{
	json_t *o;

	pthread_mutex_lock(&l->lock);
	o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:I}",
		      "device", l->device,
		      "frames_captured", (json_int_t)l->st.periods,
		      "frames_sent", (json_int_t)l->sent,
		      "overruns", (json_int_t)l->st.overruns,
		      "suspends", (json_int_t)l->st.suspends,
		      "device_errors", (json_int_t)l->st.errors,
		      "reopen_failures", (json_int_t)l->st.reopen_failures,
		      "reopens", (json_int_t)l->st.reopens,
		      "silent_frames", (json_int_t)l->st.silent,
		      "dropped", (json_int_t)l->dropped,
		      "inserted", (json_int_t)l->inserted,
		      "encode_errors", (json_int_t)l->encode_errors,
		      "device_down", l->st.down,
		      "frames_kept", (json_int_t)l->n);
	if (o) {
		json_object_set_new(o, "stalled", json_boolean(l->stalled));
		json_object_set_new(o, "stalls", json_integer((json_int_t)l->stalls));
	}
	if (o && l->last_event[0])
		json_object_set_new(o, "last_event", json_string(l->last_event));
	if (o)
		json_object_set_new(o, "latency_ms", l->measured ?
				    json_pack("{s:f, s:f, s:f, s:I}", "p50", percentile(l, 0.5),
					      "p99", percentile(l, 0.99), "max", l->latency_max,
					      "frames", (json_int_t)l->measured) :
				    json_null());
	pthread_mutex_unlock(&l->lock);
	return o;
}

void live_release(struct live *l)
{
	if (!l)
		return;
	live_stop(l);
	unref(l);
}
