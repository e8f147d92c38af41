/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The engine hands over each ended broadcast on its pacer thread; a thread of the archive's own
 * decodes the packets, encodes the Ogg Opus file and writes it and its record, so that no disk
 * or encoder ever holds up a packet. Files: archive/DAY/HHMMSS-BROADCAST[-PART].{opus,json},
 * DAY and HHMMSS being when it started in the schedule's zone; archive/notes/BULLETIN.json says
 * who asked for a bulletin. Queries scan the day folders they need, so no index can go stale. */
#include "headend/archive.h"

#include <dirent.h>
#include <errno.h>
#include <opus/opus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "headend/bulletin.h"
#include "headend/log.h"
#include "headend/oggopus.h"
#include "headend/state.h"
#include "tts/tts.h"

#define SWEEP_S 3600		/* retention is applied this often */
#define NEAR_DAYS 7		/* how far "before" and "after" look */
#define DAY_LEN 10		/* "2014-05-19" */

struct item {			/* an ended broadcast, copied off the pacer thread */
	uint32_t bulletin, broadcast;
	enum proto_kind kind;
	uint8_t signal;
	enum proto_colour colour;
	enum proto_action action;
	int repeat;
	char *text;
	char *targets;
	uint32_t *villages;	/* indexes of the villages that heard it */
	size_t n_villages, endpoints;
	char slot[16];
	char result[48];	/* "played", "preempted", "live ended before it could play" */
	time_t accepted;
	uint64_t started_ms, ended_ms;
	unsigned char *audio;	/* the Opus frames back to back */
	size_t *lens, n_frames;
	struct item *next;
};

struct archive {
	const struct headend_config *cfg;
	const struct schedule *sch;
	const struct zones *z;
	struct engine *e;
	char dir[PATH_MAX], notes[PATH_MAX];
	pthread_mutex_t lock;	/* the list and the flags below */
	pthread_cond_t wake, done;
	struct item *head, **tail;
	int busy, stop, running;
	pthread_t thread;
};

static void item_free(struct item *it)
{
	if (!it)
		return;
	free(it->text);
	free(it->targets);
	free(it->villages);
	free(it->audio);
	free(it->lens);
	free(it);
}

/* Copying, on the pacer thread: plain memory only. */
static struct item *item_copy(const struct archive *a, const struct engine_played *p)
{
	struct item *it = calloc(1, sizeof(*it));
	size_t bytes = 0, off = 0;

	if (!it)
		return NULL;
	for (size_t i = 0; i < p->n_frames; i++)
		bytes += p->frame_len[i];
	it->text = strdup(p->b->text ? p->b->text : "");
	it->targets = strdup(p->b->targets);
	it->villages = calloc(a->z->n_villages + 1, sizeof(*it->villages));
	it->audio = malloc(bytes + 1);
	it->lens = malloc(p->n_frames * sizeof(*it->lens));
	if (!it->text || !it->targets || !it->villages || !it->audio || !it->lens) {
		item_free(it);
		return NULL;
	}
	for (size_t i = 0; i < p->n_frames; i++) {
		memcpy(it->audio + off, p->frame[i], p->frame_len[i]);
		off += p->frame_len[i];
		it->lens[i] = p->frame_len[i];
	}
	for (size_t v = 0; v < a->z->n_villages; v++)
		if (p->villages[v])
			it->villages[it->n_villages++] = (uint32_t)v;
	it->n_frames = p->n_frames;
	it->bulletin = p->bulletin;
	it->broadcast = p->broadcast;
	it->kind = p->b->kind;
	it->signal = p->b->signal;
	it->colour = p->b->colour;
	it->action = p->b->action;
	it->repeat = p->b->repeat;
	it->endpoints = p->b->endpoints;
	snprintf(it->slot, sizeof(it->slot), "%s", p->slot ? p->slot : "");
	snprintf(it->result, sizeof(it->result), "%s", p->result);
	it->accepted = p->accepted;
	it->started_ms = p->started_ms;
	it->ended_ms = p->ended_ms;
	return it;
}

static void played(void *arg, const struct engine_played *p)
{
	struct archive *a = arg;
	struct item *it = item_copy(a, p);

	if (!it) {
		log_error("archive: out of memory; broadcast %u (bulletin %u) is not kept",
			  p->broadcast, p->bulletin);
		return;
	}
	pthread_mutex_lock(&a->lock);
	*a->tail = it;
	a->tail = &it->next;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
}

/* Writing, on the archive's thread */

static const char *local(const struct archive *a, time_t t, char *buf, size_t len)
{
	return schedule_format(a->sch, t, buf, len);
}

/* The packets decoded as a loudspeaker that lost none would, then encoded into Ogg Opus. */
static int encode(const struct archive *a, const struct item *it, unsigned char **data,
		  size_t *len, char *err, size_t errlen)
{
	char title[96];
	int oe;
	OpusDecoder *dec = opus_decoder_create(TTS_RATE, 1, &oe);
	struct oggopus *o;
	const unsigned char *frame = it->audio;
	opus_int16 pcm[TTS_FRAME_SAMPLES * 6];

	if (!dec) {
		snprintf(err, errlen, "opus decoder: %s", opus_strerror(oe));
		return -1;
	}
	snprintf(title, sizeof(title), "bulletin %u, broadcast %u", it->bulletin, it->broadcast);
	o = oggopus_new(a->cfg->archive_bitrate, title, err, errlen);
	for (size_t i = 0; o && i < it->n_frames; i++) {
		int n = opus_decode(dec, frame, (opus_int32)it->lens[i], pcm,
				    TTS_FRAME_SAMPLES * 6, 0);

		frame += it->lens[i];
		if (n < 0)	/* cannot happen for our own packets; keep the time line */
			n = opus_decode(dec, NULL, 0, pcm, TTS_FRAME_SAMPLES, 0);
		if (n > 0 && oggopus_write(o, pcm, (size_t)n, err, errlen)) {
			oggopus_free(o);
			o = NULL;
		}
	}
	opus_decoder_destroy(dec);
	return o ? oggopus_finish(o, data, len, err, errlen) : -1;
}

/* tts_reading's two lines a sentence, as [{text, pinyin}]. */
static json_t *reading_of(const struct archive *a, const char *text)
{
	json_t *list = json_array();
	char *out = NULL, *line, *save = NULL;

	if (tts_reading(engine_tts(a->e), text, &out) != TTS_OK)
		return list;
	line = strtok_r(out, "\n", &save);
	while (list && line) {
		char *pinyin = strtok_r(NULL, "\n", &save);

		json_array_append_new(list, json_pack("{s:s, s:s}", "text", line, "pinyin",
						      pinyin ? pinyin : ""));
		line = strtok_r(NULL, "\n", &save);
	}
	free(out);
	return list;
}

/* Who asked for it: the note written when it was accepted, else what the engine knows. */
static void origin(const struct archive *a, const struct item *it, json_t *rec)
{
	char name[32], *text;
	json_t *note;

	snprintf(name, sizeof(name), "%u.json", it->bulletin);
	text = state_read(a->notes, name, NULL);
	note = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (json_is_object(note)) {
		json_object_set(rec, "operator", json_object_get(note, "operator"));
		json_object_set(rec, "source", json_object_get(note, "source"));
	} else if (*it->slot) {
		json_object_set_new(rec, "operator", json_string(""));
		json_object_set_new(rec, "source", json_sprintf("slot %s", it->slot));
	} else {
		json_object_set_new(rec, "operator", json_string(""));
		json_object_set_new(rec, "source", json_string(it->kind == PROTO_KIND_WARNING ?
				    "head-end: re-broadcast of an active warning" : "head-end"));
	}
	json_decref(note);
}

static json_t *places(const struct archive *a, const struct item *it, json_t **towns)
{
	json_t *codes = json_array();
	long last = -1;

	*towns = json_array();
	for (size_t i = 0; codes && *towns && i < it->n_villages; i++) {
		const struct zones_village *v = &a->z->villages[it->villages[i]];

		json_array_append_new(codes, json_integer((json_int_t)v->code));
		if ((long)v->town != last)
			json_array_append_new(*towns, json_string(a->z->towns[v->town].name));
		last = (long)v->town;
	}
	return codes;
}

static json_t *record_of(const struct archive *a, const struct item *it, const char *id,
			 const char *audio, size_t audio_len)
{
	char acc[32], start[32], end[32];
	json_t *towns, *villages = places(a, it, &towns);
	json_t *rec = json_pack("{s:s, s:i, s:i, s:s, s:s, s:s, s:o, s:o, s:i, s:s, s:s, s:s, "
				"s:I, s:I, s:f, s:s, s:{s:s, s:I, s:i}}",
				"id", id, "bulletin", (json_int_t)it->bulletin, "broadcast",
				(json_int_t)it->broadcast, "kind", proto_kind_name(it->kind),
				"text", it->text, "targets", it->targets, "towns", towns,
				"villages", villages, "endpoints", (json_int_t)it->endpoints,
				"accepted", local(a, it->accepted, acc, sizeof(acc)),
				"started", local(a, (time_t)(it->started_ms / 1000), start,
						 sizeof(start)),
				"ended", local(a, (time_t)(it->ended_ms / 1000), end, sizeof(end)),
				"started_unix", (json_int_t)(it->started_ms / 1000),
				"ended_unix", (json_int_t)(it->ended_ms / 1000),
				"seconds", it->n_frames * 0.02, "result", it->result,
				"audio", "file", audio, "bytes", (json_int_t)audio_len,
				"bitrate", a->cfg->archive_bitrate);

	if (!rec)
		return NULL;
	json_object_set_new(rec, "time_zone", json_string(a->sch->zone));
	if (it->kind == PROTO_KIND_WARNING)
		json_object_set_new(rec, "warning", json_pack("{s:s, s:s, s:s, s:s}", "signal",
				    proto_signal_key(it->signal), "name",
				    a->cfg->signals.types[it->signal ? it->signal - 1 : 0].name,
				    "colour", proto_colour_name(it->colour), "action",
				    proto_action_name(it->action)));
	if (*it->slot)
		json_object_set_new(rec, "slot", json_string(it->slot));
	json_object_set_new(rec, "plays", json_integer(it->repeat + 1));
	json_object_set_new(rec, "reading", reading_of(a, it->text));
	origin(a, it, rec);
	return rec;
}

/* "2014-05-19 14:40:05" -> folder "2014-05-19", base "144005-42" (or "-42-2" for a second
 * part of the same broadcast started in the same second), id "20140519-144005-42". */
static void names(const struct archive *a, const char *start, uint32_t broadcast, char *day,
		  char *base, size_t base_len, char *id)
{
	char dir[PATH_MAX + 16], path[PATH_MAX + 64];
	char hms[7] = { start[11], start[12], start[14], start[15], start[17], start[18], 0 };
	struct stat st;

	memcpy(day, start, DAY_LEN);
	day[DAY_LEN] = '\0';
	snprintf(dir, sizeof(dir), "%s/%s", a->dir, day);
	snprintf(base, base_len, "%s-%u", hms, broadcast);
	for (int part = 2; part < 100; part++) {
		snprintf(path, sizeof(path), "%s/%s.json", dir, base);
		if (stat(path, &st))
			break;
		snprintf(base, base_len, "%s-%u-%d", hms, broadcast, part);
	}
	snprintf(id, ARCHIVE_ID_MAX, "%.4s%.2s%.2s-%.24s", day, day + 5, day + 8, base);
}

static void write_item(struct archive *a, const struct item *it)
{
	char start[32], day[DAY_LEN + 1], base[32], id[ARCHIVE_ID_MAX], file[48];
	char dir[PATH_MAX + 16], err[256];
	unsigned char *audio = NULL;
	size_t audio_len = 0;
	json_t *rec = NULL;
	char *text = NULL;

	local(a, (time_t)(it->started_ms / 1000), start, sizeof(start));
	if (strlen(start) != 19) {
		log_error("archive: broadcast %u: no local time for it; not kept", it->broadcast);
		return;
	}
	names(a, start, it->broadcast, day, base, sizeof(base), id);
	snprintf(dir, sizeof(dir), "%s/%s", a->dir, day);
	snprintf(file, sizeof(file), "%s.opus", base);
	if (state_open(dir, err, sizeof(err)) ||
	    encode(a, it, &audio, &audio_len, err, sizeof(err))) {
		log_error("archive: broadcast %u (bulletin %u): %s; not kept", it->broadcast,
			  it->bulletin, err);
		goto out;
	}
	rec = record_of(a, it, id, file, audio_len);
	text = rec ? json_dumps(rec, JSON_INDENT(1)) : NULL;
	errno = ENOMEM;
	if (text && !state_write(dir, file, audio, audio_len)) {
		snprintf(file, sizeof(file), "%s.json", base);
		if (!state_write(dir, file, text, strlen(text)))
			errno = 0;
	}
	if (errno) {
		log_error("archive: broadcast %u (bulletin %u): cannot write %s/%s: %s",
			  it->broadcast, it->bulletin, dir, file, strerror(errno));
		goto out;
	}
	log_info("archive: broadcast %u (bulletin %u) to %s kept as %s (%.1f s, %zu bytes)",
		 it->broadcast, it->bulletin, it->targets, id, it->n_frames * 0.02, audio_len);
out:
	free(text);
	json_decref(rec);
	free(audio);
}

/* Retention */

static int is_day(const char *s)
{
	static const char form[] = "dddd-dd-dd";

	for (size_t i = 0; i < DAY_LEN; i++)
		if (form[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-')
			return 0;
	return s[DAY_LEN] == '\0';
}

static void remove_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char file[PATH_MAX + 300];

	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.') {
			if (snprintf(file, sizeof(file), "%s/%s", path, de->d_name) <
			    (int)sizeof(file))
				unlink(file);
		}
	if (d)
		closedir(d);
	if (rmdir(path))
		log_warn("archive: cannot remove %s: %s", path, strerror(errno));
}

/* Days before the retention's first, and notes older than it, go. */
static void sweep(struct archive *a, time_t now)
{
	time_t cut = now - (time_t)a->cfg->archive_days * 86400;
	char first[32], path[PATH_MAX + 300];
	DIR *d;
	struct dirent *de;
	struct stat st;
	int gone = 0;

	if (!a->cfg->archive_days)
		return;
	local(a, cut, first, sizeof(first));
	first[DAY_LEN] = '\0';
	for (d = opendir(a->dir); d && (de = readdir(d));)
		if (is_day(de->d_name) && strcmp(de->d_name, first) < 0) {
			snprintf(path, sizeof(path), "%s/%s", a->dir, de->d_name);
			remove_dir(path);
			gone++;
		}
	if (d)
		closedir(d);
	for (d = opendir(a->notes); d && (de = readdir(d));) {
		snprintf(path, sizeof(path), "%s/%s", a->notes, de->d_name);
		if (de->d_name[0] != '.' && !stat(path, &st) && st.st_mtime < cut)
			unlink(path);
	}
	if (d)
		closedir(d);
	if (gone)
		log_info("archive: %d days before %s removed (retention %d days)", gone, first,
			 a->cfg->archive_days);
}

static void *run(void *arg)
{
	struct archive *a = arg;
	time_t swept = time(NULL);

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct item *it = a->head;
		struct timespec until = { .tv_sec = swept + SWEEP_S };

		if (!it && a->stop)
			break;
		if (!it) {
			if (pthread_cond_timedwait(&a->wake, &a->lock, &until) == ETIMEDOUT) {
				pthread_mutex_unlock(&a->lock);
				sweep(a, swept = time(NULL));
				pthread_mutex_lock(&a->lock);
			}
			continue;
		}
		a->head = it->next;
		if (!a->head)
			a->tail = &a->head;
		a->busy = 1;
		pthread_mutex_unlock(&a->lock);
		write_item(a, it);
		item_free(it);
		pthread_mutex_lock(&a->lock);
		a->busy = 0;
		pthread_cond_broadcast(&a->done);
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

int archive_open(struct archive **out, const struct headend_config *cfg,
		 const struct schedule *sch, const struct zones *z, struct engine *e, char *err,
		 size_t errlen)
{
	struct archive *a = calloc(1, sizeof(*a));
	int rc;

	*out = NULL;
	if (!a)
		return snprintf(err, errlen, "out of memory"), -1;
	*a = (struct archive){ .cfg = cfg, .sch = sch, .z = z, .e = e };
	a->tail = &a->head;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	pthread_cond_init(&a->done, NULL);
	if (snprintf(a->dir, sizeof(a->dir), "%s/archive", cfg->state_dir) >=
	    (int)sizeof(a->dir) ||
	    snprintf(a->notes, sizeof(a->notes), "%s/notes", a->dir) >= (int)sizeof(a->notes)) {
		snprintf(err, errlen, "state directory name %s is too long", cfg->state_dir);
		goto fail;
	}
	if (state_open(a->notes, err, errlen))
		goto fail;
	sweep(a, time(NULL));
	if ((rc = pthread_create(&a->thread, NULL, run, a))) {
		snprintf(err, errlen, "archive: cannot start its thread: %s", strerror(rc));
		goto fail;
	}
	a->running = 1;
	engine_on_played(e, played, a);
	*out = a;
	return 0;
fail:
	archive_close(a);
	return -1;
}

void archive_close(struct archive *a)
{
	if (!a)
		return;
	if (a->running) {
		engine_on_played(a->e, NULL, NULL);
		pthread_mutex_lock(&a->lock);
		a->stop = 1;
		pthread_cond_signal(&a->wake);
		pthread_mutex_unlock(&a->lock);
		pthread_join(a->thread, NULL);
	}
	while (a->head) {
		struct item *it = a->head;

		a->head = it->next;
		item_free(it);
	}
	pthread_cond_destroy(&a->wake);
	pthread_cond_destroy(&a->done);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int archive_idle(struct archive *a, int timeout_ms)
{
	struct timespec until;
	int idle;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&a->lock);
	while ((a->head || a->busy) &&
	       pthread_cond_timedwait(&a->done, &a->lock, &until) != ETIMEDOUT)
		;
	idle = !a->head && !a->busy;
	pthread_mutex_unlock(&a->lock);
	return idle;
}

int archive_note(struct archive *a, uint32_t bulletin, const char *operator, const char *source)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "operator", operator, "source", source, "at",
			      (json_int_t)time(NULL));
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL, name[32];
	int rc = -1;

	snprintf(name, sizeof(name), "%u.json", bulletin);
	errno = ENOMEM;
	if (text)
		rc = state_write(a->notes, name, text, strlen(text));
	free(text);
	json_decref(o);
	return rc;
}

/* Reading */

static int by_name_desc(const void *x, const void *y)
{
	return strcmp(*(char *const *)y, *(char *const *)x);
}

/* Names in dir passing keep(), newest (greatest) first; *n of them. NULL if none. */
static char **listing(const char *dir, int (*keep)(const char *), size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **list = NULL;
	size_t cap = 0;

	*n = 0;
	while (d && (de = readdir(d))) {
		if (!keep(de->d_name))
			continue;
		if (*n == cap) {
			char **p = realloc(list, (cap = cap ? 2 * cap : 64) * sizeof(*list));

			if (!p)
				break;
			list = p;
		}
		if (!(list[*n] = strdup(de->d_name)))
			break;
		(*n)++;
	}
	if (d)
		closedir(d);
	if (list)
		qsort(list, *n, sizeof(*list), by_name_desc);
	return list;
}

static void listing_free(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static int is_record(const char *name)
{
	size_t n = strlen(name);

	return n > 12 && n < 32 && !strcmp(name + n - 5, ".json") && name[6] == '-';
}

static json_t *load(const struct archive *a, const char *day, const char *file)
{
	char dir[PATH_MAX + 16], *text;
	json_t *rec;

	snprintf(dir, sizeof(dir), "%s/%s", a->dir, day);
	text = state_read(dir, file, NULL);
	rec = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* What lists show of a record: all but the long parts. */
static json_t *summary(json_t *rec)
{
	json_object_del(rec, "reading");
	json_object_del(rec, "villages");
	return rec;
}

json_t *archive_latest(struct archive *a, size_t limit)
{
	json_t *list = json_array();
	size_t n_days, n;
	char **days = listing(a->dir, is_day, &n_days);

	for (size_t d = 0; list && d < n_days && json_array_size(list) < limit; d++) {
		char dir[PATH_MAX + 16], **files;

		snprintf(dir, sizeof(dir), "%s/%s", a->dir, days[d]);
		files = listing(dir, is_record, &n);
		for (size_t f = 0; f < n && json_array_size(list) < limit; f++) {
			json_t *rec = load(a, days[d], files[f]);

			if (rec)
				json_array_append_new(list, summary(rec));
		}
		listing_free(files, n);
	}
	listing_free(days, n_days);
	return list;
}

/* day +/- delta days; calendar days need no zone. */
static void day_add(const char *day, int delta, char out[DAY_LEN + 1])
{
	struct tm tm = { .tm_hour = 12 };
	time_t t;

	if (sscanf(day, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) {
		snprintf(out, DAY_LEN + 1, "%s", day);
		return;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm) + (time_t)delta * 86400;
	gmtime_r(&t, &tm);
	strftime(out, DAY_LEN + 1, "%Y-%m-%d", &tm);
}

/* How many of the record's villages are among codes. */
static size_t overlap(json_t *rec, const uint64_t *codes, size_t n)
{
	json_t *v;
	size_t i, hits = 0;

	json_array_foreach(json_object_get(rec, "villages"), i, v)
		for (size_t k = 0; k < n; k++)
			if ((uint64_t)json_integer_value(v) == codes[k]) {
				hits++;
				break;
			}
	return hits;
}

struct heard {
	const uint64_t *codes;
	size_t n;
	const char *from, *to;
	json_t *list, *before, *after;
};

static const char *field(json_t *rec, const char *key)
{
	const char *s = json_string_value(json_object_get(rec, key));

	return s ? s : "";
}

static void consider(struct heard *h, json_t *rec)
{
	size_t hits = overlap(rec, h->codes, h->n);
	const char *start = field(rec, "started"), *end = field(rec, "ended");

	if (!hits) {
		json_decref(rec);
		return;
	}
	json_object_set_new(rec, "villages_heard", json_integer((json_int_t)hits));
	summary(rec);
	if (strcmp(start, h->to) <= 0 && strcmp(end, h->from) >= 0) {
		json_array_append_new(h->list, rec);
	} else if (strcmp(end, h->from) < 0) {
		if (!h->before || strcmp(end, field(h->before, "ended")) > 0) {
			json_decref(h->before);
			h->before = rec;
		} else {
			json_decref(rec);
		}
	} else if (!h->after || strcmp(start, field(h->after, "started")) < 0) {
		json_decref(h->after);
		h->after = rec;
	} else {
		json_decref(rec);
	}
}

static void scan_day(struct archive *a, const char *day, struct heard *h)
{
	char dir[PATH_MAX + 16], **files;
	size_t n;

	snprintf(dir, sizeof(dir), "%s/%s", a->dir, day);
	files = listing(dir, is_record, &n);
	for (size_t f = n; f-- > 0;) {
		json_t *rec = load(a, day, files[f]);

		if (rec)
			consider(h, rec);
	}
	listing_free(files, n);
}

json_t *archive_heard(struct archive *a, const uint64_t *codes, size_t n, const char *from,
		      const char *to)
{
	struct heard h = { codes, n, from, to, json_array(), NULL, NULL };
	char first[DAY_LEN + 1], last[DAY_LEN + 1], day[DAY_LEN + 1];

	/* A broadcast heard at from may have started the day before. */
	day_add(from, -1, first);
	day_add(to, 0, last);
	snprintf(day, sizeof(day), "%s", first);
	for (int i = 0; i < 400 && strcmp(day, last) <= 0; i++) {
		scan_day(a, day, &h);
		day_add(day, 1, day);
	}
	for (int i = 0; i < NEAR_DAYS && !h.before; i++) {
		day_add(first, -1 - i, day);
		scan_day(a, day, &h);
	}
	for (int i = 0; i < NEAR_DAYS && !h.after; i++) {
		day_add(last, 1 + i, day);
		scan_day(a, day, &h);
	}
	return json_pack("{s:o, s:o, s:o}", "heard", h.list,
			 "before", h.before ? h.before : json_null(),
			 "after", h.after ? h.after : json_null());
}

/* "20140519-144005-42[-2]" -> day "2014-05-19", base "144005-42[-2]"; -1 if malformed. */
static int split_id(const char *id, char *day, char *base, size_t base_len)
{
	size_t n = strlen(id);

	if (n < 17 || n >= ARCHIVE_ID_MAX || id[8] != '-' || id[15] != '-')
		return -1;
	for (size_t i = 0; i < n; i++)
		if ((id[i] < '0' || id[i] > '9') && id[i] != '-')
			return -1;
	snprintf(day, DAY_LEN + 1, "%.4s-%.2s-%.2s", id, id + 4, id + 6);
	snprintf(base, base_len, "%s", id + 9);
	return 0;
}

json_t *archive_record(struct archive *a, const char *id)
{
	char day[DAY_LEN + 1], base[ARCHIVE_ID_MAX], file[ARCHIVE_ID_MAX + 8];

	if (split_id(id, day, base, sizeof(base)))
		return NULL;
	snprintf(file, sizeof(file), "%s.json", base);
	return load(a, day, file);
}

int archive_audio(struct archive *a, const char *id, char **data, size_t *len)
{
	char day[DAY_LEN + 1], base[ARCHIVE_ID_MAX], file[ARCHIVE_ID_MAX + 8];
	char dir[PATH_MAX + 16];

	if (split_id(id, day, base, sizeof(base)))
		return -1;
	snprintf(file, sizeof(file), "%s.opus", base);
	snprintf(dir, sizeof(dir), "%s/%s", a->dir, day);
	*data = state_read(dir, file, len);
	return *data ? 0 : -1;
}

int archive_span(const char *s, char *from, char *to)
{
	static const char form[] = "dddd-dd-dd dd:dd:dd";
	size_t n = strlen(s);

	if (n != 10 && n != 16 && n != 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int ok = form[i] == 'd' ? s[i] >= '0' && s[i] <= '9' :
			 form[i] == ' ' ? s[i] == ' ' || s[i] == 'T' : s[i] == form[i];

		if (!ok)
			return -1;
	}
	snprintf(from, ARCHIVE_TIME_MAX, "%.10s %s", s, n == 10 ? "00:00:00" : "");
	snprintf(to, ARCHIVE_TIME_MAX, "%.10s %s", s, n == 10 ? "23:59:59" : "");
	if (n > 10) {
		snprintf(from + 11, ARCHIVE_TIME_MAX - 11, "%.5s:%s", s + 11, n == 19 ? s + 17 :
			 "00");
		snprintf(to + 11, ARCHIVE_TIME_MAX - 11, "%.5s:%s", s + 11, n == 19 ? s + 17 :
			 "59");
	}
	return 0;
}
