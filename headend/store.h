/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Accepted bulletins on disk, one JSON file each: queue/<id>.json from acceptance (written and
 * synced before the API answers) until the bulletin is played or given up, then done/<id>.json
 * with its outcome. What a record means is the engine's business; docs/durability.md says why
 * files and not a database. */
#ifndef CX_HEADEND_STORE_H
#define CX_HEADEND_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define STORE_KEEP_DAYS 7	/* done records, and so client ids, are kept this long */

enum store_result {
	STORE_OK = 0,
	STORE_ERR_IO,		/* errno says more */
	STORE_ERR_NOMEM,
};

struct store;

/* One record met by store_scan: rec is NULL if the file does not parse; pending is 1 for
 * queue/, 0 for done/. Return non-zero to stop the scan. */
typedef int (*store_fn)(void *arg, uint32_t id, json_t *rec, int pending);

/* Open (creating) queue/ and done/ under state_dir. */
__attribute__((warn_unused_result))
enum store_result store_open(struct store **out, const char *state_dir, char *err,
			     size_t errlen);
void store_close(struct store *s);

/* Write rec as queue/<id>.json, durably: file and directory synced. */
__attribute__((warn_unused_result))
enum store_result store_put(struct store *s, uint32_t id, const json_t *rec);

/* Move id from queue/ to done/, with the keys of outcome added to its record. The done file is
 * synced before the queue file goes, so a crash leaves one or both, never neither. */
__attribute__((warn_unused_result))
enum store_result store_finish(struct store *s, uint32_t id, const json_t *outcome);

/* Every record in id order, done/ first: a queued id that is also done (a crash between the two
 * steps of store_finish) is removed and not reported. done/ records older than
 * STORE_KEEP_DAYS before now are removed. Returns STORE_OK or the first I/O error. */
__attribute__((warn_unused_result))
enum store_result store_scan(struct store *s, time_t now, store_fn fn, void *arg);

const char *store_strerror(enum store_result r);

#endif
