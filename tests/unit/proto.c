/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Unit tests of proto/: RTP and version 2 control packets packed and parsed back, byte for byte
 * against the worked example of docs/protocol.md (signature included), every malformed packet
 * refused, and the address test an endpoint applies. Signature checks and replay windows are
 * tests/unit/verify.c's. Random sweeps print their seed; set CX_SEED to repeat one. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "proto/proto.h"
#include "proto/sign.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define YANGHE 440608101ull		/* 杨和镇 */
#define MINGCHENG 440608102ull		/* 明城镇 */
#define ANY_ERROR (-1)			/* a table row that only needs the packet refused */

#define BODY PROTO_ENVELOPE			/* where a START's body begins */
#define TARGETS (BODY + PROTO_BROADCAST_BODY)	/* and its targets */
#define EXAMPLE_KEY_ID 0x9d24e2eeu		/* of the example key, seed 00 01 .. 1f */

/* The START of docs/protocol.md: hail orange, issued, to 杨和镇 and 明城镇, signed with the
 * example key. */
static const unsigned char example_start[] = {
	0xcc, 0x58, 0x02, 0x01, 0x9d, 0x24, 0xe2, 0xee,
	0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x04, 0xd2,
	0x00, 0x00, 0x01, 0x46, 0x13, 0x35, 0x52, 0x00,
	0x00, 0x00, 0x00, 0x2a, 0x03, 0x09, 0x04, 0x01,
	0x5b, 0xa0, 0x00, 0x00, 0xbb, 0x40, 0xe6, 0x4d,
	0x00, 0x00, 0x0a, 0xc9, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x1a, 0x43, 0x25, 0x65,
	0x00, 0x00, 0x00, 0x00, 0x1a, 0x43, 0x25, 0x66,
	0x21, 0xe7, 0x69, 0xe8, 0x1c, 0x3d, 0x4c, 0xee,
	0x9a, 0x01, 0xa8, 0x08, 0x8a, 0xf4, 0x5f, 0x57,
	0x41, 0xf7, 0x66, 0xde, 0x22, 0xd7, 0x2d, 0xd1,
	0x56, 0x8b, 0xa7, 0xc7, 0xb3, 0xbd, 0x56, 0xc3,
	0x3e, 0x73, 0x6a, 0xc5, 0x0e, 0x7d, 0xa8, 0x74,
	0x32, 0x16, 0x27, 0x4e, 0xe2, 0x58, 0xc9, 0x85,
	0x5e, 0xfb, 0xa4, 0x8c, 0xa8, 0xfb, 0x82, 0x28,
	0x6e, 0x15, 0x92, 0x92, 0xb4, 0x6c, 0xcd, 0x05,
};

/* Bytes of a START or END with n targets, signature included. */
static size_t broadcast_len(unsigned n)
{
	return TARGETS + 8u * n + PROTO_SIGNATURE;
}

static void example_control(struct proto_control *c)
{
	memset(c, 0, sizeof(*c));
	c->type = PROTO_START;
	c->key_id = EXAMPLE_KEY_ID;
	c->epoch = 7;
	c->serial = 1234;
	c->broadcast = 42;
	c->sent_ms = 1400481600000ull;	/* 2014-05-19 14:40 in Guangdong */
	c->kind = PROTO_KIND_WARNING;
	c->signal = 9;
	c->colour = PROTO_COLOUR_ORANGE;
	c->action = PROTO_ACTION_ISSUE;
	c->seq = 23456;
	c->timestamp = 3141592653u;
	c->frames = 2761;
	c->n_targets = 2;
	c->targets[0] = YANGHE;
	c->targets[1] = MINGCHENG;
}

static unsigned seed_from_env(void)
{
	const char *s = getenv("CX_SEED");

	return s ? (unsigned)strtoul(s, NULL, 10) : (unsigned)time(NULL);
}

/* RTP */

static void test_rtp_round_trip(void **state)
{
	static const struct {
		int marker;
		uint16_t seq;
		uint32_t timestamp, ssrc;
		size_t payload_len;
	} rows[] = {
		{ 1, 0, 0, 1, 1 },
		{ 1, 23456, 3141592653u, 42, 60 },
		{ 0, 23457, 3141593613u, 42, 60 },
		{ 0, 65535, 0xffffffffu, 0xffffffffu, 120 },
		{ 0, 1, 960, 7, 1275 },
	};
	unsigned char payload[1275], buf[PROTO_MAX_PACKET];

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (unsigned char)(i * 37 + 11);

	for (size_t i = 0; i < N(rows); i++) {
		struct proto_rtp in = {
			.marker = rows[i].marker, .seq = rows[i].seq,
			.timestamp = rows[i].timestamp, .ssrc = rows[i].ssrc,
			.payload = payload, .payload_len = rows[i].payload_len,
		};
		struct proto_rtp out;
		size_t n = proto_rtp_pack(&in, buf, sizeof(buf));

		/* version 2, nothing optional, then marker and payload type 96 */
		assert_int_equal(n, PROTO_RTP_HEADER + rows[i].payload_len);
		assert_int_equal(buf[0], 0x80);
		assert_int_equal(buf[1], (rows[i].marker ? 0x80 : 0) | 96);
		assert_int_equal(buf[2], rows[i].seq >> 8);
		assert_int_equal(buf[8], rows[i].ssrc >> 24);
		assert_int_equal(proto_classify(buf, n), PROTO_PACKET_RTP);

		assert_int_equal(proto_rtp_parse(buf, n, &out), PROTO_OK);
		assert_int_equal(out.marker, rows[i].marker);
		assert_int_equal(out.seq, rows[i].seq);
		assert_int_equal(out.timestamp, rows[i].timestamp);
		assert_int_equal(out.ssrc, rows[i].ssrc);
		assert_ptr_equal(out.payload, buf + PROTO_RTP_HEADER);
		assert_int_equal(out.payload_len, rows[i].payload_len);
		assert_memory_equal(out.payload, payload, rows[i].payload_len);
	}
}

/* A stream across the 16-bit sequence and 32-bit timestamp wrap, as a pacer sends it. */
static void test_rtp_seq_wrap(void **state)
{
	unsigned char payload[60] = { 0xfc }, buf[PROTO_MAX_PACKET];
	uint16_t seq = 65533, prev_seq = 0;
	uint32_t ts = 0xffffffffu - 2 * PROTO_FRAME_TICKS + 1, prev_ts = 0;

	for (int i = 0; i < 6; i++) {
		struct proto_rtp in = {
			.marker = i == 0, .seq = seq, .timestamp = ts, .ssrc = 42,
			.payload = payload, .payload_len = sizeof(payload),
		};
		struct proto_rtp out;
		size_t n = proto_rtp_pack(&in, buf, sizeof(buf));

		assert_int_equal(proto_rtp_parse(buf, n, &out), PROTO_OK);
		assert_int_equal(out.seq, seq);
		assert_int_equal(out.timestamp, ts);
		assert_int_equal(out.marker, i == 0);
		if (i > 0) {
			assert_int_equal((uint16_t)(out.seq - prev_seq), 1);
			assert_int_equal((uint32_t)(out.timestamp - prev_ts), PROTO_FRAME_TICKS);
		}
		if (i == 3)
			assert_int_equal(out.seq, 0);	/* 65533, 65534, 65535, 0 */
		prev_seq = out.seq;
		prev_ts = out.timestamp;
		seq++;
		ts += PROTO_FRAME_TICKS;
	}
}

static void test_rtp_pack_space(void **state)
{
	unsigned char payload[60] = { 0 }, buf[PROTO_RTP_HEADER + 60];
	struct proto_rtp in = { .seq = 1, .ssrc = 1, .payload = payload, .payload_len = 60 };

	assert_int_equal(proto_rtp_pack(&in, buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(proto_rtp_pack(&in, buf, sizeof(buf) - 1), 0);
	assert_int_equal(proto_rtp_pack(&in, buf, 0), 0);
}

static void test_rtp_reject(void **state)
{
	static const struct {
		const char *what;
		unsigned char b0, b1;	/* first two bytes */
		size_t len;
		int expect;
	} rows[] = {
		{ "valid", 0x80, 0x60, 72, PROTO_OK },
		{ "valid with marker", 0x80, 0xe0, 72, PROTO_OK },
		{ "one-byte payload", 0x80, 0x60, 13, PROTO_OK },
		{ "largest Opus packet", 0x80, 0x60, 12 + 1275, PROTO_OK },
		{ "padding bit", 0xa0, 0x60, 72, PROTO_ERR_RTP },
		{ "extension bit", 0x90, 0x60, 72, PROTO_ERR_RTP },
		{ "one CSRC", 0x81, 0x60, 72, PROTO_ERR_RTP },
		{ "fifteen CSRCs", 0x8f, 0x60, 72, PROTO_ERR_RTP },
		{ "all optional bits", 0xbf, 0x60, 72, PROTO_ERR_RTP },
		{ "version 1", 0x40, 0x60, 72, PROTO_ERR_RTP },
		{ "version 0", 0x00, 0x60, 72, PROTO_ERR_RTP },
		{ "version 3", 0xc0, 0x60, 72, PROTO_ERR_RTP },
		{ "payload type 0", 0x80, 0x00, 72, PROTO_ERR_RTP },
		{ "payload type 97", 0x80, 0x61, 72, PROTO_ERR_RTP },
		{ "payload type 111 with marker", 0x80, 0xef, 72, PROTO_ERR_RTP },
		{ "payload type 127", 0x80, 0x7f, 72, PROTO_ERR_RTP },
		{ "empty payload", 0x80, 0x60, 12, PROTO_ERR_SHORT },
		{ "header cut short", 0x80, 0x60, 11, PROTO_ERR_SHORT },
		{ "over-long payload", 0x80, 0x60, 12 + 1276, PROTO_ERR_FIELD },
		{ "a full Ethernet frame", 0x80, 0x60, PROTO_MAX_PACKET, PROTO_ERR_FIELD },
	};
	static unsigned char buf[PROTO_MAX_PACKET];
	struct proto_rtp out;

	for (size_t i = 0; i < N(rows); i++) {
		memset(buf, 0x5a, sizeof(buf));
		buf[0] = rows[i].b0;
		buf[1] = rows[i].b1;
		if ((int)proto_rtp_parse(buf, rows[i].len, &out) != rows[i].expect)
			fail_msg("%s: expected %s", rows[i].what,
				 proto_strerror((enum proto_result)rows[i].expect));
	}

	/* every length short of a header and one payload byte */
	for (size_t len = 0; len <= PROTO_RTP_HEADER; len++) {
		buf[0] = 0x80;
		buf[1] = 0x60;
		assert_int_equal(proto_rtp_parse(buf, len, &out), PROTO_ERR_SHORT);
	}
}

/* Demultiplexing */

static void test_classify(void **state)
{
	static const struct {
		const char *what;
		unsigned char b0, b1;
		size_t len;
		enum proto_packet expect;
	} rows[] = {
		{ "RTP", 0x80, 0x60, 72, PROTO_PACKET_RTP },
		{ "RTP header only", 0x80, 0xe0, 12, PROTO_PACKET_RTP },
		{ "RTP with padding: still RTP, the parser refuses it", 0xa0, 0x60, 72,
		  PROTO_PACKET_RTP },
		{ "RTP shorter than its header", 0x80, 0x60, 11, PROTO_PACKET_OTHER },
		{ "control", 0xcc, 0x58, 52, PROTO_PACKET_CONTROL },
		{ "control, magic only", 0xcc, 0x58, 2, PROTO_PACKET_CONTROL },
		{ "half a magic", 0xcc, 0x58, 1, PROTO_PACKET_OTHER },
		{ "wrong second magic byte", 0xcc, 0x59, 52, PROTO_PACKET_OTHER },
		{ "RTP version 3 without our magic", 0xc0, 0x58, 52, PROTO_PACKET_OTHER },
		{ "RTP version 1", 0x40, 0x60, 72, PROTO_PACKET_OTHER },
		{ "STUN", 0x00, 0x01, 20, PROTO_PACKET_OTHER },
		{ "DTLS", 0x16, 0xfe, 60, PROTO_PACKET_OTHER },
		{ "empty datagram", 0x80, 0x60, 0, PROTO_PACKET_OTHER },
	};
	unsigned char buf[128];

	for (size_t i = 0; i < N(rows); i++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = rows[i].b0;
		buf[1] = rows[i].b1;
		if (proto_classify(buf, rows[i].len) != rows[i].expect)
			fail_msg("%s: classified as %d", rows[i].what,
				 proto_classify(buf, rows[i].len));
	}
	assert_int_equal(proto_classify(example_start, sizeof(example_start)),
			 PROTO_PACKET_CONTROL);
}

/* Control packets */

static void assert_control_equal(const struct proto_control *a, const struct proto_control *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->key_id, b->key_id);
	assert_int_equal(a->epoch, b->epoch);
	assert_int_equal(a->serial, b->serial);
	assert_int_equal(a->broadcast, b->broadcast);
	assert_true(a->sent_ms == b->sent_ms);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->signal, b->signal);
	assert_int_equal(a->colour, b->colour);
	assert_int_equal(a->action, b->action);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->timestamp, b->timestamp);
	assert_int_equal(a->frames, b->frames);
	assert_int_equal(a->n_targets, b->n_targets);
	for (unsigned i = 0; i < a->n_targets; i++)
		assert_true(a->targets[i] == b->targets[i]);
}

static void test_control_example(void **state)
{
	struct proto_control c, out;
	unsigned char buf[PROTO_MAX_PACKET], seed[PROTO_SEED], pk[PROTO_PUBLIC_KEY];
	unsigned char sk[PROTO_SECRET_KEY];
	size_t n;

	for (unsigned i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)i;
	assert_int_equal(proto_crypto_init(), 0);
	crypto_sign_seed_keypair(pk, sk, seed);
	assert_int_equal(proto_key_id(pk), EXAMPLE_KEY_ID);

	example_control(&c);
	n = proto_control_pack(&c, buf, sizeof(buf));
	assert_int_equal(n, sizeof(example_start));
	assert_memory_equal(buf, example_start, sizeof(example_start) - PROTO_SIGNATURE);
	for (size_t i = n - PROTO_SIGNATURE; i < n; i++)
		assert_int_equal(buf[i], 0);
	proto_sign(buf, n, sk);
	assert_memory_equal(buf, example_start, sizeof(example_start));

	assert_int_equal(proto_control_parse(example_start, sizeof(example_start), &out),
			 PROTO_OK);
	assert_control_equal(&out, &c);
}

static void test_control_round_trip(void **state)
{
	static const struct {
		enum proto_type type;
		enum proto_kind kind;
		uint8_t signal, colour, action;
		uint16_t seq;
		uint32_t timestamp, frames;
		uint8_t n_targets;
		uint64_t targets[4];
	} rows[] = {
		{ PROTO_START, PROTO_KIND_FORECAST, 0, 0, 0, 0, 0, 0, 1, { 440608 } },
		{ PROTO_START, PROTO_KIND_NOWCAST, 0, 0, 0, 65535, 0xffffffffu, 1500, 1,
		  { 440608001 } },
		{ PROTO_START, PROTO_KIND_WARNING, 1, PROTO_COLOUR_WHITE, PROTO_ACTION_ISSUE, 1, 2,
		  3, 1, { 440608101206 } },
		{ PROTO_START, PROTO_KIND_WARNING, 10, PROTO_COLOUR_RED, PROTO_ACTION_CHANGE, 100,
		  200, 300, 1, { 440608101206001 } },
		{ PROTO_START, PROTO_KIND_WARNING, 4, PROTO_COLOUR_YELLOW, PROTO_ACTION_LIFT, 7, 8,
		  9, 4, { 440608, 440608101, 440608101206, 440608101206001 } },
		{ PROTO_END, PROTO_KIND_WARNING, 9, PROTO_COLOUR_ORANGE, PROTO_ACTION_ISSUE, 65535,
		  0, 2761, 2, { YANGHE, MINGCHENG } },
		{ PROTO_END, PROTO_KIND_FORECAST, 0, 0, 0, 0, 0, 0, 3,
		  { 100000, 999999999, 999999999999999 } },
		{ PROTO_START, PROTO_KIND_LIVE, 0, 0, 0, 12, 34, 0, 1, { 440608101 } },
		{ PROTO_END, PROTO_KIND_LIVE, 0, 0, 0, 13, 34, 250, 1, { 440608101 } },
		{ PROTO_KEEPALIVE, 0, 0, 0, 0, 0, 0, 0, 0, { 0 } },
	};
	unsigned char buf[PROTO_MAX_PACKET];

	for (size_t i = 0; i < N(rows); i++) {
		struct proto_control c = {
			.type = rows[i].type, .key_id = 0xfedcba98u - (uint32_t)i,
			.epoch = (uint32_t)i + 1, .serial = 0xffffffffu - (uint32_t)i,
			.broadcast = (uint32_t)(i + 1) * 0x01020304u,
			.sent_ms = 1733302800000ull + i, .kind = rows[i].kind,
			.signal = rows[i].signal, .colour = (enum proto_colour)rows[i].colour,
			.action = (enum proto_action)rows[i].action, .seq = rows[i].seq,
			.timestamp = rows[i].timestamp, .frames = rows[i].frames,
			.n_targets = rows[i].n_targets,
		};
		struct proto_control out;
		size_t n;

		memcpy(c.targets, rows[i].targets, sizeof(rows[i].targets));
		if (rows[i].type == PROTO_KEEPALIVE)
			c.broadcast = 0;	/* a KEEPALIVE has no body */
		n = proto_control_pack(&c, buf, sizeof(buf));
		assert_int_equal(buf[0], 0xcc);
		assert_int_equal(buf[1], 0x58);
		assert_int_equal(buf[2], 2);
		assert_int_equal(buf[3], rows[i].type);
		if (rows[i].type == PROTO_KEEPALIVE) {
			assert_int_equal(n, PROTO_ENVELOPE + PROTO_SIGNATURE);
		} else {
			assert_int_equal(n, broadcast_len(rows[i].n_targets));
			assert_int_equal(buf[BODY + 10] | buf[BODY + 11] | buf[BODY + 21] |
					 buf[BODY + 22] | buf[BODY + 23], 0);
			assert_int_equal(buf[BODY + 20], rows[i].n_targets);
		}
		assert_int_equal(proto_classify(buf, n), PROTO_PACKET_CONTROL);

		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(proto_control_parse(buf, n, &out), PROTO_OK);
		assert_control_equal(&out, &c);
	}
}

static void test_control_max_targets(void **state)
{
	struct proto_control c, out;
	unsigned char buf[PROTO_MAX_PACKET];
	size_t n;

	example_control(&c);
	c.type = PROTO_END;
	c.n_targets = PROTO_MAX_TARGETS;
	for (unsigned i = 0; i < PROTO_MAX_TARGETS; i++)
		c.targets[i] = 440608101201001ull + i;
	n = proto_control_pack(&c, buf, sizeof(buf));
	assert_int_equal(n, broadcast_len(PROTO_MAX_TARGETS));
	assert_true(n <= PROTO_MAX_PACKET);
	assert_int_equal(proto_control_parse(buf, n, &out), PROTO_OK);
	assert_control_equal(&out, &c);

	assert_int_equal(proto_control_pack(&c, buf, n - 1), 0);
	assert_int_equal(proto_control_pack(&c, buf, TARGETS), 0);
}

/* MANIFEST and KEY, the packets version 2 adds, at their limits. */
static void test_control_manifest_key(void **state)
{
	struct proto_control c, out;
	unsigned char buf[PROTO_MAX_PACKET];
	size_t n;

	memset(&c, 0, sizeof(c));
	c.type = PROTO_MANIFEST;
	c.key_id = EXAMPLE_KEY_ID;
	c.epoch = 7;
	c.serial = 1235;
	c.sent_ms = 1400481600020ull;
	c.broadcast = 42;
	c.seq = 65530;		/* the list runs across the wrap */
	c.n_hashes = PROTO_MANIFEST_MAX;
	for (unsigned i = 0; i < PROTO_MANIFEST_MAX; i++)
		memset(c.hashes[i], (int)i + 1, PROTO_HASH);
	n = proto_control_pack(&c, buf, sizeof(buf));
	assert_int_equal(n, PROTO_ENVELOPE + PROTO_MANIFEST_BODY + 16 * 50 + PROTO_SIGNATURE);
	assert_int_equal(n, 896);
	assert_int_equal(proto_control_parse(buf, n, &out), PROTO_OK);
	assert_int_equal(out.broadcast, 42);
	assert_int_equal(out.seq, 65530);
	assert_int_equal(out.n_hashes, 50);
	assert_memory_equal(out.hashes, c.hashes, sizeof(c.hashes));

	c.n_hashes = 0;
	assert_int_equal(proto_control_pack(&c, buf, sizeof(buf)), 0);
	c.n_hashes = PROTO_MANIFEST_MAX + 1;
	assert_int_equal(proto_control_pack(&c, buf, sizeof(buf)), 0);

	memset(&c, 0, sizeof(c));
	c.type = PROTO_KEY;
	c.key_id = EXAMPLE_KEY_ID;
	c.epoch = 7;
	c.serial = 1236;
	c.new_key_id = 0x01020304u;
	memset(c.new_key, 0xab, sizeof(c.new_key));
	n = proto_control_pack(&c, buf, sizeof(buf));
	assert_int_equal(n, 124);
	assert_int_equal(proto_control_parse(buf, n, &out), PROTO_OK);
	assert_int_equal(out.new_key_id, 0x01020304u);
	assert_memory_equal(out.new_key, c.new_key, sizeof(c.new_key));
	assert_int_equal(proto_control_parse(buf, n - 1, &out), PROTO_ERR_SHORT);
	assert_int_equal(proto_control_parse(buf, n + 1, &out), PROTO_ERR_LENGTH);
}

/* Packets the head-end must never build, whatever the caller passes. */
static void test_control_pack_refuses(void **state)
{
	static const struct {
		const char *what;
		int type, kind, signal, colour, action, n_targets;
		uint64_t target;
	} rows[] = {
		{ "type 0", 0, 3, 9, 4, 1, 2, YANGHE },
		{ "type 6", 6, 3, 9, 4, 1, 2, YANGHE },
		{ "MANIFEST without hashes", PROTO_MANIFEST, 3, 9, 4, 1, 2, YANGHE },
		{ "START of kind 0", PROTO_START, 0, 0, 0, 0, 2, YANGHE },
		{ "kind 5", PROTO_START, 5, 0, 0, 0, 2, YANGHE },
		{ "signal 11", PROTO_START, 3, 11, 4, 1, 2, YANGHE },
		{ "colour 6", PROTO_START, 3, 9, 6, 1, 2, YANGHE },
		{ "action 4", PROTO_START, 3, 9, 4, 4, 2, YANGHE },
		{ "START without targets", PROTO_START, 3, 9, 4, 1, 0, YANGHE },
		{ "END without targets", PROTO_END, 3, 9, 4, 1, 0, YANGHE },
		{ "129 targets", PROTO_END, 3, 9, 4, 1, 129, YANGHE },
		{ "KEEPALIVE with targets", PROTO_KEEPALIVE, 0, 0, 0, 0, 1, YANGHE },
		{ "KEEPALIVE with a kind", PROTO_KEEPALIVE, 1, 0, 0, 0, 0, YANGHE },
		{ "a five-digit target", PROTO_START, 3, 9, 4, 1, 2, 44060 },
		{ "a seven-digit target", PROTO_START, 3, 9, 4, 1, 2, 4406081 },
		{ "a sixteen-digit target", PROTO_START, 3, 9, 4, 1, 2, 4406081012060010ull },
	};
	unsigned char buf[PROTO_MAX_PACKET];
	struct proto_control c0;

	for (size_t i = 0; i < N(rows); i++) {
		struct proto_control c;

		example_control(&c);
		c.type = (enum proto_type)rows[i].type;
		c.kind = (enum proto_kind)rows[i].kind;
		c.signal = (uint8_t)rows[i].signal;
		c.colour = (enum proto_colour)rows[i].colour;
		c.action = (enum proto_action)rows[i].action;
		c.n_targets = (uint8_t)rows[i].n_targets;
		for (unsigned t = 0; t < PROTO_MAX_TARGETS; t++)
			c.targets[t] = YANGHE;
		c.targets[1] = rows[i].target;
		if (proto_control_pack(&c, buf, sizeof(buf)) != 0)
			fail_msg("%s: packed although the parser refuses it", rows[i].what);
	}

	/* epoch and serial 0 mean "never set": the head-end numbers from 1 */
	example_control(&c0);
	c0.epoch = 0;
	assert_int_equal(proto_control_pack(&c0, buf, sizeof(buf)), 0);
	example_control(&c0);
	c0.serial = 0;
	assert_int_equal(proto_control_pack(&c0, buf, sizeof(buf)), 0);
}

/* Every prefix of a valid packet is refused as short, whatever the length. */
static void test_control_truncated(void **state)
{
	struct proto_control c, out;
	unsigned char buf[PROTO_MAX_PACKET];
	size_t full;

	assert_int_equal(proto_control_parse(example_start, sizeof(example_start), &out),
			 PROTO_OK);
	for (size_t len = 0; len < sizeof(example_start); len++)
		if (proto_control_parse(example_start, len, &out) != PROTO_ERR_SHORT)
			fail_msg("START cut to %zu bytes not refused as short", len);

	example_control(&c);
	c.n_targets = PROTO_MAX_TARGETS;
	for (unsigned i = 0; i < PROTO_MAX_TARGETS; i++)
		c.targets[i] = 440608103206001ull + i;
	full = proto_control_pack(&c, buf, sizeof(buf));
	assert_int_equal(full, 48 + 8 * 128 + 64);
	for (size_t len = 0; len < full; len++)
		if (proto_control_parse(buf, len, &out) != PROTO_ERR_SHORT)
			fail_msg("START of 128 targets cut to %zu bytes not refused", len);

	memset(&c, 0, sizeof(c));
	c.type = PROTO_KEEPALIVE;
	c.epoch = 1;
	c.serial = 1;
	full = proto_control_pack(&c, buf, sizeof(buf));
	assert_int_equal(full, PROTO_ENVELOPE + PROTO_SIGNATURE);
	for (size_t len = 0; len < full; len++)
		if (proto_control_parse(buf, len, &out) != PROTO_ERR_SHORT)
			fail_msg("KEEPALIVE cut to %zu bytes not refused", len);
}

/* One change to the example START per row: a byte set, the length changed, or a target
 * replaced. The parser does not look at the signature, so none of these is refused for it. */
static void test_control_malformed(void **state)
{
	static const struct {
		const char *what;
		int offset, value;	/* offset -1: no byte change */
		int len_delta;
		int target;		/* which target to replace, -1 none */
		uint64_t code;
		int expect;
	} rows[] = {
		{ "first magic byte", 0, 0xcd, 0, -1, 0, PROTO_ERR_MAGIC },
		{ "second magic byte", 1, 0x59, 0, -1, 0, PROTO_ERR_MAGIC },
		{ "magic of RTP", 0, 0x80, 0, -1, 0, PROTO_ERR_MAGIC },
		{ "version 0", 2, 0, 0, -1, 0, PROTO_ERR_VERSION },
		{ "version 1, unsigned", 2, 1, 0, -1, 0, PROTO_ERR_VERSION },
		{ "version 3", 2, 3, 0, -1, 0, PROTO_ERR_VERSION },
		{ "version 255", 2, 255, 0, -1, 0, PROTO_ERR_VERSION },
		{ "type 0", 3, 0, 0, -1, 0, PROTO_ERR_TYPE },
		{ "type 6", 3, 6, 0, -1, 0, PROTO_ERR_TYPE },
		{ "type 255", 3, 255, 0, -1, 0, PROTO_ERR_TYPE },
		{ "a START read as KEEPALIVE", 3, PROTO_KEEPALIVE, 0, -1, 0, PROTO_ERR_LENGTH },
		{ "a START read as MANIFEST", 3, PROTO_MANIFEST, 0, -1, 0, ANY_ERROR },
		{ "a START read as KEY", 3, PROTO_KEY, 0, -1, 0, PROTO_ERR_LENGTH },
		{ "epoch 0", 11, 0, 0, -1, 0, PROTO_ERR_FIELD },
		{ "n_targets 3 for two", BODY + 20, 3, 0, -1, 0, PROTO_ERR_SHORT },
		{ "n_targets 0 for two", BODY + 20, 0, 0, -1, 0, ANY_ERROR },
		{ "n_targets 1 for two", BODY + 20, 1, 0, -1, 0, ANY_ERROR },
		{ "n_targets 255 for two", BODY + 20, 255, 0, -1, 0, PROTO_ERR_SHORT },
		{ "one trailing byte", -1, 0, 1, -1, 0, PROTO_ERR_LENGTH },
		{ "a trailing target", -1, 0, 8, -1, 0, PROTO_ERR_LENGTH },
		{ "one byte short", -1, 0, -1, -1, 0, PROTO_ERR_SHORT },
		{ "no signature", -1, 0, -64, -1, 0, PROTO_ERR_SHORT },
		{ "reserved byte 34", BODY + 10, 1, 0, -1, 0, PROTO_ERR_FIELD },
		{ "reserved byte 35", BODY + 11, 0x80, 0, -1, 0, PROTO_ERR_FIELD },
		{ "reserved byte 45", BODY + 21, 1, 0, -1, 0, PROTO_ERR_FIELD },
		{ "reserved byte 46", BODY + 22, 0x40, 0, -1, 0, PROTO_ERR_FIELD },
		{ "reserved byte 47", BODY + 23, 0xff, 0, -1, 0, PROTO_ERR_FIELD },
		{ "START of kind 0", BODY + 4, 0, 0, -1, 0, PROTO_ERR_FIELD },
		{ "kind 5", BODY + 4, 5, 0, -1, 0, PROTO_ERR_FIELD },
		{ "kind 255", BODY + 4, 255, 0, -1, 0, PROTO_ERR_FIELD },
		{ "signal 11", BODY + 5, 11, 0, -1, 0, PROTO_ERR_FIELD },
		{ "signal 255", BODY + 5, 255, 0, -1, 0, PROTO_ERR_FIELD },
		{ "colour 6", BODY + 6, 6, 0, -1, 0, PROTO_ERR_FIELD },
		{ "colour 255", BODY + 6, 255, 0, -1, 0, PROTO_ERR_FIELD },
		{ "action 4", BODY + 7, 4, 0, -1, 0, PROTO_ERR_FIELD },
		{ "action 255", BODY + 7, 255, 0, -1, 0, PROTO_ERR_FIELD },
		{ "target 0", -1, 0, 0, 0, 0, PROTO_ERR_FIELD },
		{ "five digits", -1, 0, 0, 1, 99999, PROTO_ERR_FIELD },
		{ "seven digits", -1, 0, 0, 0, 4406081, PROTO_ERR_FIELD },
		{ "eight digits", -1, 0, 0, 1, 44060810, PROTO_ERR_FIELD },
		{ "ten digits", -1, 0, 0, 0, 4406081012ull, PROTO_ERR_FIELD },
		{ "eleven digits", -1, 0, 0, 1, 44060810120ull, PROTO_ERR_FIELD },
		{ "thirteen digits", -1, 0, 0, 0, 4406081012060ull, PROTO_ERR_FIELD },
		{ "fourteen digits", -1, 0, 0, 1, 44060810120600ull, PROTO_ERR_FIELD },
		{ "sixteen digits", -1, 0, 0, 0, 4406081012060010ull, PROTO_ERR_FIELD },
		{ "largest u64", -1, 0, 0, 1, UINT64_MAX, PROTO_ERR_FIELD },
	};
	unsigned char buf[sizeof(example_start) + 8];
	struct proto_control out;

	for (size_t i = 0; i < N(rows); i++) {
		size_t len = sizeof(example_start) + (size_t)rows[i].len_delta;
		enum proto_result r;

		memset(buf, 0, sizeof(buf));
		memcpy(buf, example_start, sizeof(example_start));
		if (rows[i].len_delta == 8)
			memcpy(buf + sizeof(example_start), example_start + TARGETS, 8);
		if (rows[i].offset >= 0)
			buf[rows[i].offset] = (unsigned char)rows[i].value;
		if (rows[i].offset == 11)
			buf[8] = buf[9] = buf[10] = 0;
		if (rows[i].target >= 0)
			for (int b = 0; b < 8; b++)
				buf[TARGETS + 8 * rows[i].target + b] =
					(unsigned char)(rows[i].code >> (56 - 8 * b));

		r = proto_control_parse(buf, len, &out);
		if (rows[i].expect == ANY_ERROR ? r == PROTO_OK : (int)r != rows[i].expect)
			fail_msg("%s: got \"%s\"", rows[i].what, proto_strerror(r));
	}
}

/* Type-specific rules on packets of their own length. */
static void test_control_type_rules(void **state)
{
	unsigned char buf[PROTO_MAX_PACKET];
	struct proto_control out;
	size_t manifest = PROTO_ENVELOPE + PROTO_MANIFEST_BODY + PROTO_HASH + PROTO_SIGNATURE;

	/* START and END without targets: a broadcast addressed to nobody */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, example_start, TARGETS);
	buf[BODY + 20] = 0;
	assert_int_equal(proto_control_parse(buf, broadcast_len(0), &out), PROTO_ERR_FIELD);
	buf[3] = PROTO_END;
	assert_int_equal(proto_control_parse(buf, broadcast_len(0), &out), PROTO_ERR_FIELD);

	/* KEEPALIVE: the envelope and a signature, nothing else */
	buf[3] = PROTO_KEEPALIVE;
	assert_int_equal(proto_control_parse(buf, PROTO_ENVELOPE + PROTO_SIGNATURE, &out),
			 PROTO_OK);
	assert_int_equal(out.type, PROTO_KEEPALIVE);
	assert_int_equal(out.n_targets, 0);
	assert_int_equal(out.serial, 1234);
	assert_int_equal(proto_control_parse(buf, PROTO_ENVELOPE + PROTO_SIGNATURE + 1, &out),
			 PROTO_ERR_LENGTH);

	/* MANIFEST: 1..50 hashes, byte 31 reserved */
	memset(buf + BODY, 0, sizeof(buf) - BODY);
	buf[3] = PROTO_MANIFEST;
	buf[BODY + 6] = 1;
	assert_int_equal(proto_control_parse(buf, manifest, &out), PROTO_OK);
	buf[BODY + 7] = 1;
	assert_int_equal(proto_control_parse(buf, manifest, &out), PROTO_ERR_FIELD);
	buf[BODY + 7] = 0;
	buf[BODY + 6] = 0;
	assert_int_equal(proto_control_parse(buf, manifest - PROTO_HASH, &out), PROTO_ERR_FIELD);
	buf[BODY + 6] = 51;
	assert_int_equal(proto_control_parse(buf, manifest + 50 * PROTO_HASH, &out),
			 PROTO_ERR_FIELD);

	/* KEY: exactly a key id and a public key */
	buf[3] = PROTO_KEY;
	assert_int_equal(proto_control_parse(buf, 124, &out), PROTO_OK);
	assert_int_equal(proto_control_parse(buf, 123, &out), PROTO_ERR_SHORT);
}

static int valid_code(uint64_t v)
{
	return (v >= 100000ull && v <= 999999ull) || (v >= 100000000ull && v <= 999999999ull) ||
	       (v >= 100000000000ull && v <= 999999999999ull) ||
	       (v >= 100000000000000ull && v <= 999999999999999ull);
}

/* What any accepted packet must satisfy, so a receiver can index tables by these fields. */
static int control_sane(const struct proto_control *c, size_t len)
{
	if (c->epoch == 0 || c->serial == 0)
		return 0;
	switch (c->type) {
	case PROTO_KEEPALIVE:
		return len == 88 && c->kind == 0 && c->n_targets == 0;
	case PROTO_KEY:
		return len == 124;
	case PROTO_MANIFEST:
		return c->n_hashes >= 1 && c->n_hashes <= PROTO_MANIFEST_MAX &&
		       len == 96u + PROTO_HASH * c->n_hashes;
	case PROTO_START:
	case PROTO_END:
		break;
	default:
		return 0;
	}
	if (c->signal > 10 || c->colour > PROTO_COLOUR_RED || c->action > PROTO_ACTION_LIFT ||
	    c->kind < PROTO_KIND_FORECAST || c->kind > PROTO_KIND_LIVE ||
	    c->n_targets < 1 || c->n_targets > PROTO_MAX_TARGETS ||
	    len != broadcast_len(c->n_targets))
		return 0;
	for (unsigned i = 0; i < c->n_targets; i++)
		if (!valid_code(c->targets[i]))
			return 0;
	return 1;
}

/* Each of the 1,024 bits of the example flipped alone: refused, or accepted with every field
 * in range. Bits of the bytes that have one legal value must always be refused. */
static void test_bit_flip_sweep(void **state)
{
	static const int fixed[] = { 0, 1, 2, BODY + 10, BODY + 11, BODY + 20, BODY + 21,
				     BODY + 22, BODY + 23 };
	unsigned char buf[sizeof(example_start)];
	size_t accepted = 0;

	for (size_t bit = 0; bit < 8 * sizeof(buf); bit++) {
		struct proto_control out;
		enum proto_result r;

		memcpy(buf, example_start, sizeof(buf));
		buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		r = proto_control_parse(buf, sizeof(buf), &out);
		for (size_t f = 0; f < N(fixed); f++)
			if ((int)(bit / 8) == fixed[f] && r == PROTO_OK)
				fail_msg("flip of bit %zu in byte %d accepted", bit % 8, fixed[f]);
		if (r != PROTO_OK)
			continue;
		accepted++;
		if (!control_sane(&out, sizeof(buf)))
			fail_msg("flip of bit %zu in byte %zu accepted out of range", bit % 8,
				 bit / 8);
	}

	/* key id, epoch, serial, clock, id, seq, timestamp, frames and the signature take any
	 * value: 4+4+4+8+4+2+4+4+64 bytes (the signature is tests/unit/verify.c's) */
	assert_true(accepted >= 8 * 98);
}

/* Random bytes and random mutations of the example through both parsers. */
static void test_random_sweep(void **state)
{
	unsigned seed = seed_from_env();
	static unsigned char buf[PROTO_MAX_PACKET];

	srand(seed);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand() % 200;
		struct proto_control c;
		struct proto_rtp r;

		if (round % 2) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (unsigned char)rand();
			if (round % 4 == 1 && len >= 4)
				memcpy(buf, example_start, 4);
		} else {
			memcpy(buf, example_start, sizeof(example_start));
			len = sizeof(example_start) - (size_t)(rand() % 3 == 0) * (rand() % 8);
			for (int k = rand() % 4; k >= 0; k--)
				buf[(size_t)rand() % sizeof(example_start)] =
					(unsigned char)rand();
		}
		if (proto_control_parse(buf, len, &c) == PROTO_OK && !control_sane(&c, len))
			fail_msg("seed %u round %d: accepted a bad control packet", seed, round);
		if (proto_rtp_parse(buf, len, &r) == PROTO_OK &&
		    (buf[0] != 0x80 || r.payload_len == 0 || r.payload_len > 1275))
			fail_msg("seed %u round %d: accepted a bad RTP packet", seed, round);
	}
}

/* Addressing */

static void test_code_covers(void **state)
{
	static const struct {
		const char *what;
		uint64_t code, id;
		int expect;
	} rows[] = {
		{ "district covers an endpoint", 440608, 440608101206001, 1 },
		{ "district covers a town", 440608, 440608102, 1 },
		{ "town covers its village", 440608101, 440608101206, 1 },
		{ "town covers its endpoint", 440608101, 440608101206002, 1 },
		{ "village covers its endpoint", 440608101206, 440608101206001, 1 },
		{ "an endpoint covers itself", 440608101206001, 440608101206001, 1 },
		{ "a town covers itself", 440608101, 440608101, 1 },
		{ "a district covers itself", 440608, 440608, 1 },
		{ "village misses another town's endpoint", 440608101206, 440608103205001, 0 },
		{ "same village number, other town", 440608101206, 440608103206001, 0 },
		{ "town misses another town's village", 440608101, 440608102201, 0 },
		{ "district misses another district", 440608, 440609101206001, 0 },
		{ "endpoint misses its sibling", 440608101206001, 440608101206002, 0 },
		{ "village misses the next village", 440608101206, 440608101207001, 0 },
		{ "endpoint never covers its village", 440608101206001, 440608101206, 0 },
		{ "village never covers its town", 440608101206, 440608101, 0 },
		{ "town never covers its district", 440608101, 440608, 0 },
		{ "endpoint never covers its district", 440608101206001, 440608, 0 },
	};

	for (size_t i = 0; i < N(rows); i++)
		if (proto_code_covers(rows[i].code, rows[i].id) != rows[i].expect)
			fail_msg("%s: %" PRIu64 " and %" PRIu64, rows[i].what, rows[i].code,
				 rows[i].id);
}

static void test_control_addresses(void **state)
{
	struct proto_control c;

	example_control(&c);
	assert_true(proto_control_addresses(&c, 440608101206001));	/* 杨和镇 新圩村 */
	assert_true(proto_control_addresses(&c, 440608102201001));	/* 明城镇 明城村 */
	assert_false(proto_control_addresses(&c, 440608103205001));	/* 更合镇 新圩村 */
	assert_false(proto_control_addresses(&c, 440608001001001));	/* 荷城街道 */

	/* one loudspeaker of a village: its neighbours hear the packets and stay silent */
	c.n_targets = 1;
	c.targets[0] = 440608101206001;
	assert_true(proto_control_addresses(&c, 440608101206001));
	assert_false(proto_control_addresses(&c, 440608101206002));

	c.targets[0] = 440608;
	assert_true(proto_control_addresses(&c, 440608103206005));

	c.n_targets = 0;
	assert_false(proto_control_addresses(&c, 440608101206001));
}

static void test_names(void **state)
{
	static const char *const signals[] = {
		"?", "typhoon", "rainstorm", "heat", "cold", "fog", "haze", "thunderstorm-gale",
		"road-icing", "hail", "forest-fire", "?",
	};

	for (unsigned i = 0; i < N(signals); i++)
		assert_string_equal(proto_signal_key(i), signals[i]);
	assert_string_equal(proto_signal_key(255), "?");
	assert_string_equal(proto_kind_name(PROTO_KIND_FORECAST), "forecast");
	assert_string_equal(proto_kind_name(PROTO_KIND_NOWCAST), "nowcast");
	assert_string_equal(proto_kind_name(PROTO_KIND_WARNING), "warning");
	assert_string_equal(proto_kind_name(PROTO_KIND_LIVE), "live");
	assert_string_equal(proto_kind_name((enum proto_kind)9), "?");
	assert_string_equal(proto_colour_name(PROTO_COLOUR_NONE), "none");
	assert_string_equal(proto_colour_name(PROTO_COLOUR_WHITE), "white");
	assert_string_equal(proto_colour_name(PROTO_COLOUR_RED), "red");
	assert_string_equal(proto_colour_name((enum proto_colour)6), "?");
	assert_string_equal(proto_action_name(PROTO_ACTION_ISSUE), "issue");
	assert_string_equal(proto_action_name(PROTO_ACTION_CHANGE), "change");
	assert_string_equal(proto_action_name(PROTO_ACTION_LIFT), "lift");
	assert_string_equal(proto_action_name((enum proto_action)4), "?");
	for (int a = PROTO_OK; a <= PROTO_ERR_SPACE; a++)
		for (int b = a + 1; b <= PROTO_ERR_SPACE; b++)
			assert_string_not_equal(proto_strerror((enum proto_result)a),
						proto_strerror((enum proto_result)b));
}

/* A count byte above 128 with a length to match: 129..255 codes do not fit the struct, so the
 * parser must refuse before storing any of them. The guard sits right after the struct. */
static void test_control_too_many_targets(void **state)
{
	static struct {
		struct proto_control c;
		unsigned char guard[8 * 128];
	} g;
	static const unsigned counts[] = { 129, 200, 255 };
	static unsigned char buf[TARGETS + 8 * 255 + PROTO_SIGNATURE];
	unsigned char clean[sizeof(g.guard)];

	memset(clean, 0x5a, sizeof(clean));
	for (size_t k = 0; k < N(counts); k++) {
		size_t len = broadcast_len(counts[k]);

		memset(buf, 0, sizeof(buf));
		memcpy(buf, example_start, TARGETS);
		buf[BODY + 20] = (unsigned char)counts[k];
		for (unsigned i = 0; i < counts[k]; i++)
			memcpy(buf + TARGETS + 8 * i, example_start + TARGETS, 8);
		memset(g.guard, 0x5a, sizeof(g.guard));

		assert_int_equal(proto_control_parse(buf, len, &g.c), PROTO_ERR_FIELD);
		if (memcmp(g.guard, clean, sizeof(clean)))
			fail_msg("%u targets: the parser wrote past the struct", counts[k]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtp_round_trip),
		cmocka_unit_test(test_rtp_seq_wrap),
		cmocka_unit_test(test_rtp_pack_space),
		cmocka_unit_test(test_rtp_reject),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_control_example),
		cmocka_unit_test(test_control_round_trip),
		cmocka_unit_test(test_control_max_targets),
		cmocka_unit_test(test_control_manifest_key),
		cmocka_unit_test(test_control_pack_refuses),
		cmocka_unit_test(test_control_truncated),
		cmocka_unit_test(test_control_malformed),
		cmocka_unit_test(test_control_type_rules),
		cmocka_unit_test(test_bit_flip_sweep),
		cmocka_unit_test(test_random_sweep),
		cmocka_unit_test(test_code_covers),
		cmocka_unit_test(test_control_addresses),
		cmocka_unit_test(test_names),
		/* last: with the sanitizers an overflow here ends the program */
		cmocka_unit_test(test_control_too_many_targets),
	};

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL) ? EXIT_FAILURE
								      : EXIT_SUCCESS;
}
