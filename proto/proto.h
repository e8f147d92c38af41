/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The wire format shared by the head-end and every receiver: RTP (RFC 3550) carrying Opus
 * (RFC 7587), and our signed control packets (version 2). Packing and strict parsing only;
 * signatures are proto/sign.c's, replay and key policy proto/verify.c's, sockets and timing the
 * callers'. docs/protocol.md is the normative description. */
#ifndef CX_PROTO_H
#define CX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROTO_RTP_HEADER 12
#define PROTO_RTP_PT 96			/* dynamic payload type for opus/48000/2 */
#define PROTO_RTP_CLOCK 48000		/* RFC 7587: always 48 kHz, whatever the coded rate */
#define PROTO_FRAME_TICKS 960		/* 20 ms at 48 kHz */
#define PROTO_MAX_PACKET 1500

#define PROTO_MAGIC0 0xCC		/* top bits 11 = RTP version 3: never valid RTP */
#define PROTO_MAGIC1 0x58		/* 'X' */
#define PROTO_VERSION 2
#define PROTO_ENVELOPE 24		/* magic, version, type, key id, epoch, serial, sent_ms */
#define PROTO_SIGNATURE 64		/* Ed25519, over every byte before it */
#define PROTO_BROADCAST_BODY 24		/* START and END before their targets */
#define PROTO_MANIFEST_BODY 8		/* MANIFEST before its hashes */
#define PROTO_KEY_BODY 36		/* KEY: new key id and public key */
#define PROTO_MAX_TARGETS 128
#define PROTO_MANIFEST_MAX 50		/* hashes in one MANIFEST: a second of audio */
#define PROTO_HASH 16			/* BLAKE2b-128 of one whole RTP packet */
#define PROTO_PUBLIC_KEY 32
#define PROTO_MAX_OPUS 1275		/* RFC 6716: the largest Opus packet */
#define PROTO_MAX_RTP (PROTO_RTP_HEADER + PROTO_MAX_OPUS)

enum proto_result {
	PROTO_OK = 0,
	PROTO_ERR_SHORT,	/* fewer bytes than the header or the declared contents */
	PROTO_ERR_LENGTH,	/* more bytes than the declared contents */
	PROTO_ERR_MAGIC,	/* not one of our packets */
	PROTO_ERR_VERSION,	/* a control version this build does not speak */
	PROTO_ERR_TYPE,		/* unknown control type */
	PROTO_ERR_FIELD,	/* a field outside its range */
	PROTO_ERR_RTP,		/* not RTP version 2 with our payload type, or padded/extended */
	PROTO_ERR_SPACE,	/* output buffer too small */
};

enum proto_packet { PROTO_PACKET_RTP, PROTO_PACKET_CONTROL, PROTO_PACKET_OTHER };

enum proto_type {
	PROTO_START = 1, PROTO_END = 2, PROTO_KEEPALIVE = 3, PROTO_MANIFEST = 4, PROTO_KEY = 5,
};

enum proto_kind {
	PROTO_KIND_FORECAST = 1, PROTO_KIND_NOWCAST = 2, PROTO_KIND_WARNING = 3,
	PROTO_KIND_LIVE = 4,		/* a live announcement from the head-end's microphone */
};

enum proto_colour {
	PROTO_COLOUR_NONE = 0, PROTO_COLOUR_WHITE, PROTO_COLOUR_BLUE, PROTO_COLOUR_YELLOW,
	PROTO_COLOUR_ORANGE, PROTO_COLOUR_RED,
};

enum proto_action {
	PROTO_ACTION_NONE = 0, PROTO_ACTION_ISSUE, PROTO_ACTION_CHANGE, PROTO_ACTION_LIFT,
};

struct proto_rtp {
	int marker;		/* set on the first packet of a broadcast */
	uint16_t seq;
	uint32_t timestamp;
	uint32_t ssrc;		/* equals the broadcast id */
	const unsigned char *payload;	/* points into the parsed buffer */
	size_t payload_len;
};

struct proto_control {
	enum proto_type type;
	uint32_t key_id;	/* of the key that signed it, proto_key_id */
	uint32_t epoch;		/* the head-end's start count, never reused */
	uint32_t serial;	/* signed packets sent in this epoch, from 1 */
	uint64_t sent_ms;	/* sender's wall clock, ms since 1970 UTC */

	uint32_t broadcast;	/* START, END, MANIFEST: id, also the RTP SSRC of its audio */
	enum proto_kind kind;	/* START and END from here to targets */
	uint8_t signal;		/* warning type 1..10, see proto_signal_key; 0 none */
	enum proto_colour colour;
	enum proto_action action;
	uint16_t seq;		/* START: first RTP seq; END: last; MANIFEST: first covered */
	uint32_t timestamp;	/* START: first RTP timestamp */
	uint32_t frames;	/* START: frames planned, 0 if unknown; END: frames sent */
	uint8_t n_targets;
	uint64_t targets[PROTO_MAX_TARGETS];	/* 6/9/12/15-digit codes */

	uint8_t n_hashes;	/* MANIFEST: hashes of RTP packets seq, seq + 1, ... */
	unsigned char hashes[PROTO_MANIFEST_MAX][PROTO_HASH];

	uint32_t new_key_id;	/* KEY: the key that will sign next */
	unsigned char new_key[PROTO_PUBLIC_KEY];
};

/* Which of our packets this is, from its first byte (RFC 7983 style demultiplexing). */
enum proto_packet proto_classify(const unsigned char *buf, size_t len);

/* Write an RTP header plus payload into out. Returns bytes written, or 0 if out is too small. */
size_t proto_rtp_pack(const struct proto_rtp *p, unsigned char *out, size_t outlen);

/* Parse RTP; the payload points into buf. */
__attribute__((warn_unused_result))
enum proto_result proto_rtp_parse(const unsigned char *buf, size_t len, struct proto_rtp *p);

/* Write a control packet with its signature bytes zeroed, for proto_sign to fill. Returns its
 * length (signature included), or 0 if out is too small or a field is bad. */
size_t proto_control_pack(const struct proto_control *c, unsigned char *out, size_t outlen);

/* Parse a control packet strictly: every field checked, no trailing bytes. The signature is not
 * checked here (proto_verify). */
__attribute__((warn_unused_result))
enum proto_result proto_control_parse(const unsigned char *buf, size_t len,
				       struct proto_control *c);

/* True if code (6, 9, 12 or 15 digits) is id itself or one of its administrative parents. */
int proto_code_covers(uint64_t code, uint64_t id);

/* True if any target of c covers endpoint id. */
int proto_control_addresses(const struct proto_control *c, uint64_t id);

/* Warning signal key by wire number 1..10 ("typhoon" … "forest-fire"), "?" otherwise. */
const char *proto_signal_key(unsigned signal);
const char *proto_kind_name(enum proto_kind k);
const char *proto_colour_name(enum proto_colour c);
const char *proto_action_name(enum proto_action a);
const char *proto_strerror(enum proto_result r);

#endif
