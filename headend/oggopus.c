/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libopusenc writes its Ogg pages through callbacks; here they land in a growing buffer. */
#include "headend/oggopus.h"

#include <opusenc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tts/tts.h"

struct oggopus {
	OggOpusEnc *enc;
	unsigned char *data;
	size_t len, cap;
	int failed;		/* out of memory while a page was written */
};

static int put_page(void *arg, const unsigned char *page, opus_int32 len)
{
	struct oggopus *o = arg;
	size_t need = o->len + (size_t)len;

	if (need > o->cap) {
		size_t cap = o->cap ? o->cap : 16384;
		unsigned char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(o->data, cap);
		if (!p) {
			o->failed = 1;
			return 1;
		}
		o->data = p;
		o->cap = cap;
	}
	memcpy(o->data + o->len, page, (size_t)len);
	o->len = need;
	return 0;
}

static int close_file(void *arg)
{
	(void)arg;
	return 0;
}

struct oggopus *oggopus_new(int bitrate, const char *title, char *err, size_t errlen)
{
	static const OpusEncCallbacks callbacks = { put_page, close_file };
	struct oggopus *o = calloc(1, sizeof(*o));
	OggOpusComments *tags = ope_comments_create();
	int rc = OPE_ALLOC_FAIL;

	if (o && tags && (!title || ope_comments_add(tags, "TITLE", title) == OPE_OK))
		o->enc = ope_encoder_create_callbacks(&callbacks, o, tags, TTS_RATE, 1, 0, &rc);
	if (o && o->enc) {
		rc = ope_encoder_ctl(o->enc, OPUS_SET_BITRATE(bitrate));
		if (rc == OPE_OK)
			rc = ope_encoder_ctl(o->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
	}
	if (tags)
		ope_comments_destroy(tags);
	if (rc != OPE_OK) {
		snprintf(err, errlen, "Ogg Opus encoder: %s", ope_strerror(rc));
		oggopus_free(o);
		return NULL;
	}
	return o;
}

int oggopus_write(struct oggopus *o, const int16_t *pcm, size_t samples, char *err,
		  size_t errlen)
{
	int rc = ope_encoder_write(o->enc, pcm, (int)samples);

	if (rc != OPE_OK || o->failed) {
		snprintf(err, errlen, "Ogg Opus encoder: %s", o->failed ? "out of memory" :
			 ope_strerror(rc));
		return -1;
	}
	return 0;
}

int oggopus_finish(struct oggopus *o, unsigned char **data, size_t *len, char *err,
		   size_t errlen)
{
	int rc = ope_encoder_drain(o->enc);

	*data = NULL;
	*len = 0;
	if (rc != OPE_OK || o->failed) {
		snprintf(err, errlen, "Ogg Opus encoder: %s", o->failed ? "out of memory" :
			 ope_strerror(rc));
		oggopus_free(o);
		return -1;
	}
	*data = o->data;
	*len = o->len;
	o->data = NULL;
	oggopus_free(o);
	return 0;
}

void oggopus_free(struct oggopus *o)
{
	if (!o)
		return;
	if (o->enc)
		ope_encoder_destroy(o->enc);
	free(o->data);
	free(o);
}
