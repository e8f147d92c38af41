/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Endpoint status reports (回传): the small signed datagram every loudspeaker sends its head-end
 * by unicast UDP, its byte layout, the per-endpoint key files, and the checks the head-end runs
 * before it believes one. docs/protocol.md, section 8, is the normative description. */
#ifndef CX_PROTO_REPORT_H
#define CX_PROTO_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"
#include "proto/sign.h"
#include "proto/verify.h"

#define PROTO_REPORT_MAGIC1 0x52	/* 'R', after PROTO_MAGIC0 */
#define PROTO_REPORT_VERSION 1
#define PROTO_REPORT_BODY 61		/* fixed fields, up to and with the version's length */
#define PROTO_REPORT_VERSION_MAX 32	/* bytes of the software version text */
#define PROTO_REPORT_MAX (PROTO_REPORT_BODY + PROTO_REPORT_VERSION_MAX + PROTO_SIGNATURE)

/* The states as the county-platform standards number them. */
enum proto_state {
	PROTO_STATE_NORMAL = 1,		/* idle and able to play */
	PROTO_STATE_OFF = 2,		/* shutting down on purpose: its last report */
	PROTO_STATE_FAULT = 3,		/* cannot play: its output or decoder is failing */
	PROTO_STATE_RECOVERED = 4,	/* the first report after a fault cleared */
	PROTO_STATE_BROADCASTING = 5,	/* playing the broadcast named in the report */
};

struct proto_report {
	enum proto_state state;
	uint64_t endpoint;	/* its 15-digit code */
	uint32_t key_id;	/* proto_key_id of the key that signs it */
	uint64_t boot;		/* grows with every start of the endpoint */
	uint32_t seq;		/* reports sent since that start, from 1 */
	uint64_t sent_ms;	/* the endpoint's wall clock, ms since 1970 UTC */
	uint32_t broadcast;	/* playing now (state 5), else 0 */
	uint32_t last;		/* the last broadcast it played to its end or was cut from, or 0 */
	uint32_t uptime_s;
	uint32_t received, lost, rejected;	/* packets since it started */
	char version[PROTO_REPORT_VERSION_MAX + 1];	/* printable ASCII */
};

/* 1 if buf starts like a report (for demultiplexing), else 0. */
int proto_is_report(const unsigned char *buf, size_t len);

/* Pack r with its signature bytes zeroed, for proto_sign. Returns the length, or 0 if out is too
 * small or a field is out of range. */
size_t proto_report_pack(const struct proto_report *r, unsigned char *out, size_t outlen);

/* Parse strictly: every field checked, no trailing bytes; the signature is not checked. */
__attribute__((warn_unused_result))
enum proto_result proto_report_parse(const unsigned char *buf, size_t len,
				      struct proto_report *r);

/* What the head-end remembers of one endpoint between reports. */
struct proto_report_peer {
	int keyed;			/* pk is this endpoint's key */
	unsigned char pk[PROTO_PUBLIC_KEY];
	uint32_t key_id;
	int heard;			/* a report has been accepted since the head-end started */
	uint64_t boot;			/* of the newest accepted report */
	uint32_t seq;
};

/* Check a report at wall-clock time now_ms against the peer it names (the caller has looked it
 * up by the report's endpoint code, NULL if the directory has no such endpoint): key, signature,
 * clock window, then (boot, seq) newer than the last accepted. On PROTO_ACCEPT r holds it and
 * peer has moved on; otherwise nothing has changed. A report of an endpoint the directory lacks
 * or of another key is PROTO_REJECT_KEY. */
enum proto_reject proto_report_check(struct proto_report_peer *peer, const unsigned char *buf,
				     size_t len, uint64_t now_ms, uint64_t tolerance_ms,
				     struct proto_report *r);

/* "normal", "off", "fault", "recovered", "broadcasting"; "?" otherwise. */
const char *proto_state_name(enum proto_state s);

/* An endpoint's report key file: 64 hex digits of an Ed25519 seed, mode 0600. Load fills sk
 * (libsodium's 64-byte secret key) and returns 0; -1 with err naming the file and the problem,
 * a file others may read included. */
__attribute__((warn_unused_result))
int proto_seed_load(const char *path, unsigned char sk[PROTO_SECRET_KEY], char *err,
		    size_t errlen);

/* Write a new random seed to path (mode 0600, written whole then renamed into place) and fill
 * pk with its public key. Not flushed to disk: a caller writing many syncs once at the end.
 * Returns 0, or -1 with errno set. */
__attribute__((warn_unused_result))
int proto_seed_create(const char *path, unsigned char pk[PROTO_PUBLIC_KEY]);

/* proto_seed_create without the temporary file: path is written where it is, which halves
 * the directory updates of a caller filling a new folder with thousands of keys. Only for a
 * folder that counts as complete once the caller has synced it and recorded so elsewhere: a
 * crash can leave a file half written. */
__attribute__((warn_unused_result))
int proto_seed_create_in_place(const char *path, unsigned char pk[PROTO_PUBLIC_KEY]);

#endif
