/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The head-end's signing key and replay counters: the Ed25519 key pair in the state directory
 * (created on first start), the epoch taken durably at each start, the serial of every signed
 * packet, and key rotation announced by KEY packets before the new key signs anything. */
#ifndef CX_HEADEND_KEYS_H
#define CX_HEADEND_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define KEYS_FILE "headend.key"		/* secret seed, hex, mode 0600 */
#define KEYS_NEXT_FILE "headend.key.next"	/* the seed a rotation is moving to */
#define KEYS_PUBLIC_FILE "headend.pub"	/* public key, hex: what endpoints are given */
#define KEYS_EPOCH_FILE "epoch"
#define KEYS_ANNOUNCEMENTS 3		/* KEY packets sent before the new key takes over */

struct keys;

/* Load the key from dir, or create it there; write the public key file; take a new epoch and
 * make it durable before returning, so no (epoch, serial) is ever used twice. KEY packets of a
 * rotation go out every announce_ms of the pacer's clock. Returns 0, or -1 with err set. */
__attribute__((warn_unused_result))
int keys_open(struct keys **out, const char *dir, uint64_t announce_ms, char *err,
	      size_t errlen);
void keys_close(struct keys *k);

/* Stamp c with key id, epoch and the next serial, pack it into out and sign it. Returns the
 * packet's length, or 0 if it cannot be packed. Safe from any thread. */
size_t keys_seal(struct keys *k, struct proto_control *c, unsigned char *out, size_t outlen);

/* Start a rotation: a new key is made and stored beside the old one. Returns 0 with *id the
 * new key's id; -1 with err set if one is under way already or the key cannot be stored. */
__attribute__((warn_unused_result))
int keys_rotate(struct keys *k, uint32_t *id, char *err, size_t errlen);

/* For the pacer, at monotonic time now_ms: a sealed KEY packet in out when one is due (its
 * length is returned), else 0. After the last announcement the next call switches keys. */
size_t keys_poll(struct keys *k, uint64_t now_ms, unsigned char *out, size_t outlen);

/* 1 while a rotation is under way: the pacer then wakes at least every announce_ms. */
int keys_rotating(struct keys *k);

/* The id of the key that signs now, and the epoch of this run. */
uint32_t keys_id(struct keys *k);
uint32_t keys_epoch(struct keys *k);

#endif
