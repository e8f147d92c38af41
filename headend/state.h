/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Files under the state directory, each replaced atomically (temporary file, fsync, rename,
 * fsync of the directory) so a crash leaves the old or the new contents, never a mix. */
#ifndef CX_HEADEND_STATE_H
#define CX_HEADEND_STATE_H

#include <stddef.h>
#include <stdint.h>

/* Create the state directory (and parents) if missing. Returns 0 or -1 with err set. */
__attribute__((warn_unused_result))
int state_open(const char *dir, char *err, size_t errlen);

/* Claim dir for this process for its whole life (an flock on dir/lock), and check that state
 * can be written there and that dir/next-id, if present, is sound. Two head-ends sharing one
 * state directory would hand out the same bulletin ids. Returns 0 or -1 with err set. */
__attribute__((warn_unused_result))
int state_lock(const char *dir, char *err, size_t errlen);

/* Replace dir/name with data. Returns 0, or -1 with errno set. */
__attribute__((warn_unused_result))
int state_write(const char *dir, const char *name, const void *data, size_t len);

/* Remove dir/name durably (the directory is synced); a missing file is no error. Returns 0,
 * or -1 with errno set. */
__attribute__((warn_unused_result))
int state_remove(const char *dir, const char *name);

/* Read dir/name into a NUL-terminated buffer the caller frees. NULL with errno on failure. */
char *state_read(const char *dir, const char *name, size_t *len);

/* Take the next bulletin id from dir/next-id, durably, so no id is ever handed out twice,
 * crashes included. Returns 0 or -1 with errno set. */
__attribute__((warn_unused_result))
int state_next_id(const char *dir, uint32_t *id);

#endif
