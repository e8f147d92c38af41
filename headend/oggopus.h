/* SPDX-License-Identifier: GPL-3.0-or-later */
/* 48 kHz mono PCM into an Ogg Opus file held in memory, through libopusenc: the console's
 * previews and the archive's recordings. Where the bytes go afterwards is the caller's. */
#ifndef CX_HEADEND_OGGOPUS_H
#define CX_HEADEND_OGGOPUS_H

#include <stddef.h>
#include <stdint.h>

struct oggopus;

/* A new file at bitrate bit/s with a TITLE comment (may be NULL). NULL with err set. */
struct oggopus *oggopus_new(int bitrate, const char *title, char *err, size_t errlen);

/* Append samples of 48 kHz mono PCM. 0, or -1 with err set. */
__attribute__((warn_unused_result))
int oggopus_write(struct oggopus *o, const int16_t *pcm, size_t samples, char *err,
		  size_t errlen);

/* Finish the stream and hand over the file: *data (the caller frees it) and *len. The encoder
 * is released either way. 0, or -1 with err set. */
__attribute__((warn_unused_result))
int oggopus_finish(struct oggopus *o, unsigned char **data, size_t *len, char *err,
		   size_t errlen);

/* Release an unfinished file. */
void oggopus_free(struct oggopus *o);

#endif
