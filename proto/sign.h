/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The cryptography of protocol version 2, all of it libsodium: Ed25519 signatures over control
 * packets, key ids, BLAKE2b-128 hashes of RTP packets, and the hex key files. Which keys to
 * trust and when is proto/verify.c's (endpoints) and headend/keys.c's (the head-end). */
#ifndef CX_PROTO_SIGN_H
#define CX_PROTO_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define PROTO_SECRET_KEY 64		/* libsodium's Ed25519 secret key: seed, then public key */
#define PROTO_SEED 32

/* Call once before anything below; 0 on success, -1 if libsodium cannot start. */
__attribute__((warn_unused_result))
int proto_crypto_init(void);

/* The 32-bit id of a public key: the first four bytes of its BLAKE2b-256 hash, big-endian. */
uint32_t proto_key_id(const unsigned char pk[PROTO_PUBLIC_KEY]);

/* Sign a packed control packet of len bytes in place: its last PROTO_SIGNATURE bytes receive
 * the Ed25519 signature of everything before them. */
void proto_sign(unsigned char *pkt, size_t len, const unsigned char sk[PROTO_SECRET_KEY]);

/* 1 if the last PROTO_SIGNATURE bytes of pkt sign the rest with pk, else 0. */
int proto_verify(const unsigned char *pkt, size_t len, const unsigned char pk[PROTO_PUBLIC_KEY]);

/* BLAKE2b-128 of a whole RTP packet, header included, as a MANIFEST lists it. */
void proto_rtp_hash(const unsigned char *pkt, size_t len, unsigned char out[PROTO_HASH]);

/* Read a public key file: 64 hex digits, optionally followed by white space. Returns 0, or -1
 * with err naming the file and the problem. */
__attribute__((warn_unused_result))
int proto_key_load(const char *path, unsigned char pk[PROTO_PUBLIC_KEY], char *err,
		   size_t errlen);

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void proto_hex(const unsigned char *in, size_t n, char *out);

#endif
