/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Bulletin records as files through headend/state.c (temporary file, fsync, rename, fsync of
 * the directory), so that a record is either whole on disk or absent. */
#include "headend/store.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "headend/state.h"

struct store {
	char queue[PATH_MAX], done[PATH_MAX];
};

struct ids {
	uint32_t *v;
	size_t n, cap;
};

const char *store_strerror(enum store_result r)
{
	switch (r) {
	case STORE_OK: return "success";
	case STORE_ERR_IO: return "cannot read or write the state directory";
	case STORE_ERR_NOMEM: return "out of memory";
	}
	return "unknown error";
}

enum store_result store_open(struct store **out, const char *state_dir, char *err,
			     size_t errlen)
{
	struct store *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return STORE_ERR_NOMEM;
	if (snprintf(s->queue, sizeof(s->queue), "%s/queue", state_dir) >= (int)sizeof(s->queue) ||
	    snprintf(s->done, sizeof(s->done), "%s/done", state_dir) >= (int)sizeof(s->done)) {
		snprintf(err, errlen, "state directory name %s is too long", state_dir);
		free(s);
		return STORE_ERR_IO;
	}
	if (state_open(s->queue, err, errlen) || state_open(s->done, err, errlen)) {
		free(s);
		return STORE_ERR_IO;
	}
	*out = s;
	return STORE_OK;
}

void store_close(struct store *s)
{
	free(s);
}

static void file_name(uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%u.json", id);
}

static enum store_result write_json(const char *dir, uint32_t id, const json_t *rec)
{
	char name[32], *text = json_dumps(rec, JSON_COMPACT);
	int rc;

	if (!text)
		return STORE_ERR_NOMEM;
	file_name(id, name, sizeof(name));
	rc = state_write(dir, name, text, strlen(text));
	free(text);
	return rc ? STORE_ERR_IO : STORE_OK;
}

static json_t *read_json(const char *dir, uint32_t id)
{
	char name[32], *text;
	json_t *rec;

	file_name(id, name, sizeof(name));
	text = state_read(dir, name, NULL);
	if (!text)
		return NULL;
	rec = json_loads(text, 0, NULL);
	free(text);
	return json_is_object(rec) ? rec : (json_decref(rec), NULL);
}

enum store_result store_put(struct store *s, uint32_t id, const json_t *rec)
{
	return write_json(s->queue, id, rec);
}

enum store_result store_finish(struct store *s, uint32_t id, const json_t *outcome)
{
	json_t *rec = read_json(s->queue, id);
	enum store_result rc;
	char name[32];

	if (!rec)
		rec = json_pack("{s:i}", "id", (json_int_t)id);
	if (!rec || json_object_update(rec, (json_t *)outcome)) {
		json_decref(rec);
		return STORE_ERR_NOMEM;
	}
	rc = write_json(s->done, id, rec);
	json_decref(rec);
	file_name(id, name, sizeof(name));
	if (!rc && state_remove(s->queue, name))
		rc = STORE_ERR_IO;
	return rc;
}

/* Listing */

static int add_id(struct ids *ids, uint32_t id)
{
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? 2 * ids->cap : 64;
		uint32_t *grown = realloc(ids->v, cap * sizeof(*grown));

		if (!grown)
			return -1;
		ids->v = grown;
		ids->cap = cap;
	}
	ids->v[ids->n++] = id;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The ids of dir's <id>.json files, sorted; temporary files and anything else are skipped. */
static enum store_result list_ids(const char *dir, struct ids *ids)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	enum store_result rc = STORE_OK;

	if (!d)
		return STORE_ERR_IO;
	while (!rc && (ent = readdir(d))) {
		char *end;
		unsigned long id = strtoul(ent->d_name, &end, 10);

		if (ent->d_name[0] < '1' || ent->d_name[0] > '9' || strcmp(end, ".json") ||
		    id > UINT32_MAX)
			continue;
		if (add_id(ids, (uint32_t)id))
			rc = STORE_ERR_NOMEM;
	}
	closedir(d);
	if (ids->n)
		qsort(ids->v, ids->n, sizeof(*ids->v), by_id);
	return rc;
}

static int has_id(const struct ids *ids, uint32_t id)
{
	return ids->n && bsearch(&id, ids->v, ids->n, sizeof(*ids->v), by_id);
}

/* Done records: old ones go, the others are handed to fn. */
static enum store_result scan_done(struct store *s, const struct ids *done, time_t now,
				   store_fn fn, void *arg)
{
	for (size_t i = 0; i < done->n; i++) {
		json_t *rec = read_json(s->done, done->v[i]);
		json_int_t finished = json_integer_value(json_object_get(rec, "finished"));
		char name[32];
		int stop = 0;

		if (rec && finished && finished < now - STORE_KEEP_DAYS * 86400) {
			file_name(done->v[i], name, sizeof(name));
			if (state_remove(s->done, name))
				return STORE_ERR_IO;
		} else {
			stop = fn(arg, done->v[i], rec, 0);
		}
		json_decref(rec);
		if (stop)
			break;
	}
	return STORE_OK;
}

static enum store_result scan_queue(struct store *s, const struct ids *queue,
				    const struct ids *done, store_fn fn, void *arg)
{
	for (size_t i = 0; i < queue->n; i++) {
		char name[32];
		json_t *rec;
		int stop;

		file_name(queue->v[i], name, sizeof(name));
		if (has_id(done, queue->v[i])) {
			if (state_remove(s->queue, name))
				return STORE_ERR_IO;
			continue;
		}
		rec = read_json(s->queue, queue->v[i]);
		stop = fn(arg, queue->v[i], rec, 1);
		json_decref(rec);
		if (stop)
			break;
	}
	return STORE_OK;
}

enum store_result store_scan(struct store *s, time_t now, store_fn fn, void *arg)
{
	struct ids queue = { 0 }, done = { 0 };
	enum store_result rc = list_ids(s->queue, &queue);

	if (!rc)
		rc = list_ids(s->done, &done);
	if (!rc)
		rc = scan_done(s, &done, now, fn, arg);
	if (!rc)
		rc = scan_queue(s, &queue, &done, fn, arg);
	free(queue.v);
	free(done.v);
	return rc;
}
