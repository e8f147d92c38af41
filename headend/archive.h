/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The broadcast archive: every broadcast that ends (engine_on_played) is kept as the Ogg Opus
 * file of the very packets it sent, beside a JSON record of who asked for it, when it played,
 * where, its text and its reading, under state_dir/archive/DAY/, and answers what a place heard
 * at a given time. Days are those of the schedule's time zone; HTTP is console.c's. */
#ifndef CX_HEADEND_ARCHIVE_H
#define CX_HEADEND_ARCHIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "headend/config.h"
#include "headend/engine.h"
#include "schedule/schedule.h"
#include "zones/zones.h"

#define ARCHIVE_ID_MAX 40	/* "20140519-144005-42" with room for a part number */
#define ARCHIVE_TIME_MAX 20	/* "2014-05-19 14:40:05" and the NUL */

struct archive;

/* Open state_dir/archive, remove days past the retention, start the writer thread and ask e
 * to report every broadcast that ends. cfg, sch, z and e must outlive the archive. 0, or -1
 * with err set. */
__attribute__((warn_unused_result))
int archive_open(struct archive **out, const struct headend_config *cfg,
		 const struct schedule *sch, const struct zones *z, struct engine *e, char *err,
		 size_t errlen);

/* Stop listening to the engine, write out what is pending and stop the thread. */
void archive_close(struct archive *a);

/* Remember, durably, who asked for bulletin id: the operator as log lines name them and the
 * way it came ("console", "api", "CAP sender identifier"). 0, or -1 with errno set. */
__attribute__((warn_unused_result))
int archive_note(struct archive *a, uint32_t bulletin, const char *operator, const char *source);

/* Summaries of the newest records, at most limit, newest first. NULL if out of memory. */
json_t *archive_latest(struct archive *a, size_t limit);

/* What the villages with these codes heard between from and to ("YYYY-MM-DD HH:MM:SS" in the
 * schedule's zone, from <= to): {"heard": [records], "before": the last one heard there before
 * from or null, "after": the first after to or null}. NULL if out of memory. */
json_t *archive_heard(struct archive *a, const uint64_t *codes, size_t n, const char *from,
		      const char *to);

/* The full record of id, or NULL if there is none (or id is malformed). */
json_t *archive_record(struct archive *a, const char *id);

/* The recording of id: *data (the caller frees it) and *len. 0, or -1 if there is none. */
__attribute__((warn_unused_result))
int archive_audio(struct archive *a, const char *id, char **data, size_t *len);

/* Read "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" (a T may stand for the space)
 * as the span it names, in the schedule's zone: from and to get ARCHIVE_TIME_MAX bytes each.
 * 0, or -1 if s is none of these. */
int archive_span(const char *s, char *from, char *to);

/* Wait until every broadcast reported so far is written, at most timeout_ms. 1 if it is. */
int archive_idle(struct archive *a, int timeout_ms);

#endif
