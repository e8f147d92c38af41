/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The daily slots of etc/schedule.cfg and the calendar arithmetic behind them: when a slot next
 * falls, which one is due, late or missed at a given moment. Every function takes "now" from the
 * caller, so a day can be driven by a test; the time zone is the config's, never the machine's.
 * Playing a slot, fetching its text and keeping what was played are the head-end's business. */
#ifndef CX_SCHEDULE_H
#define CX_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define SCHEDULE_MAX_SLOTS 48
#define SCHEDULE_MAX_TARGETS 16
#define SCHEDULE_NAME_MAX 64		/* bytes of a zone name or a target, with the NUL */
#define SCHEDULE_URL_MAX 1024
#define SCHEDULE_TIME_MAX 9		/* "HH:MM:SS" and the NUL */

enum schedule_result {
	SCHEDULE_OK = 0,
	SCHEDULE_ERR_IO,	/* the file cannot be read */
	SCHEDULE_ERR_FORMAT,	/* a syntax error or a setting out of range; err names the line */
	SCHEDULE_ERR_ZONE,	/* a time zone the calendar library does not know */
	SCHEDULE_ERR_CALENDAR,	/* the calendar library failed on a date */
};

enum schedule_product { SCHEDULE_NOWCAST = 0, SCHEDULE_FORECAST = 1 };
#define SCHEDULE_PRODUCTS 2

struct schedule_slot {
	char time[SCHEDULE_TIME_MAX];	/* "17:00" as written (or "17:00:30") */
	int second;			/* of the local day, 0..86399 */
	enum schedule_product product;
	char targets[SCHEDULE_MAX_TARGETS][SCHEDULE_NAME_MAX];
	size_t n_targets;		/* 0: the whole district */
	int repeat;			/* plays after the first; -1: the head-end's default */
};

struct schedule_source {
	char url[SCHEDULE_URL_MAX];	/* fetched at slot time when nothing is staged; "" none */
	int max_age;			/* seconds: an older text is never played as new */
};

struct schedule {
	char zone[SCHEDULE_NAME_MAX];	/* IANA name, "Asia/Shanghai" */
	bool timer;			/* false: slots play only when asked (cron mode) */
	int grace;			/* seconds a slot may be late and still play */
	int wait;			/* seconds a slot waits for a warning in its villages */
	int fetch_timeout;		/* seconds for one fetch of a product's url */
	struct schedule_source products[SCHEDULE_PRODUCTS];
	struct schedule_slot slots[SCHEDULE_MAX_SLOTS];	/* in order of time of day */
	size_t n_slots;
};

/* What a slot needs at a moment, given the last occurrence already dealt with. */
enum schedule_verdict {
	SCHEDULE_NOT_DUE,	/* nothing has fallen since */
	SCHEDULE_PLAY,		/* an occurrence fell at most grace seconds ago */
	SCHEDULE_MISSED,	/* the latest occurrence is older than grace: skip it, say so */
};

/* The six daily slots of the observatory in Asia/Shanghai, timer on. */
void schedule_default(struct schedule *s);

/* Load path into s, starting from the defaults (a file without slots keeps the six). Returns
 * SCHEDULE_OK, or an error with err naming the file, line and setting. */
__attribute__((warn_unused_result))
enum schedule_result schedule_load(struct schedule *s, const char *path, char *err,
				   size_t errlen);

/* Index of the slot written "HH:MM" or "HH:MM:SS", or -1. */
int schedule_find(const struct schedule *s, const char *time);

/* The latest occurrence of slot i at or before now, into *at. */
__attribute__((warn_unused_result))
enum schedule_result schedule_last(const struct schedule *s, size_t i, time_t now, time_t *at);

/* The first occurrence of slot i strictly after now, into *at. */
__attribute__((warn_unused_result))
enum schedule_result schedule_after(const struct schedule *s, size_t i, time_t now, time_t *at);

/* The earliest occurrence of any slot strictly after now: *at and its slot *i. With no slots,
 * *at is 0. */
__attribute__((warn_unused_result))
enum schedule_result schedule_next(const struct schedule *s, time_t now, size_t *i, time_t *at);

/* Decide slot i at now, when done is the last occurrence dealt with (played or skipped; 0 for
 * none). *occ is the occurrence the verdict is about. An occurrence at or before done never
 * comes back, so a clock stepped backwards cannot play a slot twice. */
__attribute__((warn_unused_result))
enum schedule_result schedule_check(const struct schedule *s, size_t i, time_t done, time_t now,
				    enum schedule_verdict *v, time_t *occ);

/* t as "2026-12-05 08:00:00" in the schedule's zone. Returns buf. */
const char *schedule_format(const struct schedule *s, time_t t, char *buf, size_t len);

const char *schedule_product_name(enum schedule_product p);

/* Product by name ("nowcast", "forecast"); -1 if unknown. */
int schedule_product_lookup(const char *name);

const char *schedule_strerror(enum schedule_result r);

#endif
