/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Byte layout of RTP/Opus and version 2 control packets, big-endian throughout. Parsers trust
 * nothing: every length and field is checked before use. Signatures are proto/sign.c's. */
#include "proto/proto.h"

#include <string.h>

#include "proto/bytes.h"

enum proto_packet proto_classify(const unsigned char *buf, size_t len)
{
	if (len >= PROTO_RTP_HEADER && (buf[0] & 0xc0) == 0x80)
		return PROTO_PACKET_RTP;
	if (len >= 2 && buf[0] == PROTO_MAGIC0 && buf[1] == PROTO_MAGIC1)
		return PROTO_PACKET_CONTROL;
	return PROTO_PACKET_OTHER;
}

size_t proto_rtp_pack(const struct proto_rtp *p, unsigned char *out, size_t outlen)
{
	size_t n = PROTO_RTP_HEADER + p->payload_len;

	if (n > outlen)
		return 0;
	out[0] = 0x80;
	out[1] = (unsigned char)((p->marker ? 0x80 : 0) | PROTO_RTP_PT);
	put16(out + 2, p->seq);
	put32(out + 4, p->timestamp);
	put32(out + 8, p->ssrc);
	memcpy(out + PROTO_RTP_HEADER, p->payload, p->payload_len);
	return n;
}

/* We never send padding, extensions or CSRCs; a packet that has them is not ours. */
enum proto_result proto_rtp_parse(const unsigned char *buf, size_t len, struct proto_rtp *p)
{
	if (len < PROTO_RTP_HEADER + 1)
		return PROTO_ERR_SHORT;
	if (buf[0] != 0x80 || (buf[1] & 0x7f) != PROTO_RTP_PT)
		return PROTO_ERR_RTP;
	if (len - PROTO_RTP_HEADER > PROTO_MAX_OPUS)
		return PROTO_ERR_FIELD;

	p->marker = buf[1] >> 7;
	p->seq = get16(buf + 2);
	p->timestamp = get32(buf + 4);
	p->ssrc = get32(buf + 8);
	p->payload = buf + PROTO_RTP_HEADER;
	p->payload_len = len - PROTO_RTP_HEADER;
	return PROTO_OK;
}

static int code_valid(uint64_t code)
{
	return (code >= 100000ull && code <= 999999ull) ||
	       (code >= 100000000ull && code <= 999999999ull) ||
	       (code >= 100000000000ull && code <= 999999999999ull) ||
	       (code >= 100000000000000ull && code <= 999999999999999ull);
}

/* Bytes of a control packet of this type, from its count byte; 0 for an unknown type. */
static size_t control_length(enum proto_type type, unsigned count)
{
	switch (type) {
	case PROTO_START:
	case PROTO_END:
		return PROTO_ENVELOPE + PROTO_BROADCAST_BODY + 8u * count + PROTO_SIGNATURE;
	case PROTO_KEEPALIVE:
		return PROTO_ENVELOPE + PROTO_SIGNATURE;
	case PROTO_MANIFEST:
		return PROTO_ENVELOPE + PROTO_MANIFEST_BODY + PROTO_HASH * count + PROTO_SIGNATURE;
	case PROTO_KEY:
		return PROTO_ENVELOPE + PROTO_KEY_BODY + PROTO_SIGNATURE;
	}
	return 0;
}

/* Where the count byte of a type sits, or 0 for types without one. */
static size_t count_offset(enum proto_type type)
{
	if (type == PROTO_START || type == PROTO_END)
		return PROTO_ENVELOPE + 20;
	return type == PROTO_MANIFEST ? PROTO_ENVELOPE + 6 : 0;
}

static int broadcast_fields_ok(const struct proto_control *c)
{
	if (c->kind < PROTO_KIND_FORECAST || c->kind > PROTO_KIND_LIVE || c->signal > 10 ||
	    c->colour > PROTO_COLOUR_RED || c->action > PROTO_ACTION_LIFT ||
	    c->n_targets == 0 || c->n_targets > PROTO_MAX_TARGETS)
		return 0;
	for (unsigned i = 0; i < c->n_targets; i++)
		if (!code_valid(c->targets[i]))
			return 0;
	return 1;
}

static int control_fields_ok(const struct proto_control *c)
{
	if (c->epoch == 0 || c->serial == 0)
		return 0;
	switch (c->type) {
	case PROTO_START:
	case PROTO_END:
		return broadcast_fields_ok(c);
	case PROTO_KEEPALIVE:
		return c->kind == 0 && c->n_targets == 0;
	case PROTO_KEY:
		return 1;
	case PROTO_MANIFEST:
		return c->n_hashes >= 1 && c->n_hashes <= PROTO_MANIFEST_MAX;
	}
	return 0;
}

static void pack_body(const struct proto_control *c, unsigned char *b)
{
	switch (c->type) {
	case PROTO_START:
	case PROTO_END:
		put32(b, c->broadcast);
		b[4] = (unsigned char)c->kind;
		b[5] = c->signal;
		b[6] = (unsigned char)c->colour;
		b[7] = (unsigned char)c->action;
		put16(b + 8, c->seq);
		put32(b + 12, c->timestamp);
		put32(b + 16, c->frames);
		b[20] = c->n_targets;
		for (unsigned i = 0; i < c->n_targets; i++)
			put64(b + PROTO_BROADCAST_BODY + 8 * i, c->targets[i]);
		break;
	case PROTO_MANIFEST:
		put32(b, c->broadcast);
		put16(b + 4, c->seq);
		b[6] = c->n_hashes;
		memcpy(b + PROTO_MANIFEST_BODY, c->hashes, (size_t)PROTO_HASH * c->n_hashes);
		break;
	case PROTO_KEY:
		put32(b, c->new_key_id);
		memcpy(b + 4, c->new_key, PROTO_PUBLIC_KEY);
		break;
	case PROTO_KEEPALIVE:
		break;
	}
}

size_t proto_control_pack(const struct proto_control *c, unsigned char *out, size_t outlen)
{
	unsigned count = c->type == PROTO_MANIFEST ? c->n_hashes : c->n_targets;
	size_t n = control_length(c->type, count);

	if (!control_fields_ok(c) || n == 0 || n > outlen)
		return 0;
	memset(out, 0, n);
	out[0] = PROTO_MAGIC0;
	out[1] = PROTO_MAGIC1;
	out[2] = PROTO_VERSION;
	out[3] = (unsigned char)c->type;
	put32(out + 4, c->key_id);
	put32(out + 8, c->epoch);
	put32(out + 12, c->serial);
	put64(out + 16, c->sent_ms);
	pack_body(c, out + PROTO_ENVELOPE);
	return n;
}

/* Reserved bytes of each type's body: all must be zero. */
static int reserved_clear(enum proto_type type, const unsigned char *b)
{
	if (type == PROTO_START || type == PROTO_END)
		return !(b[10] | b[11] | b[21] | b[22] | b[23]);
	if (type == PROTO_MANIFEST)
		return !b[7];
	return 1;
}

static void parse_body(const unsigned char *b, struct proto_control *c)
{
	switch (c->type) {
	case PROTO_START:
	case PROTO_END:
		c->broadcast = get32(b);
		c->kind = (enum proto_kind)b[4];
		c->signal = b[5];
		c->colour = (enum proto_colour)b[6];
		c->action = (enum proto_action)b[7];
		c->seq = get16(b + 8);
		c->timestamp = get32(b + 12);
		c->frames = get32(b + 16);
		c->n_targets = b[20];
		for (unsigned i = 0; i < c->n_targets && i < PROTO_MAX_TARGETS; i++)
			c->targets[i] = get64(b + PROTO_BROADCAST_BODY + 8 * i);
		break;
	case PROTO_MANIFEST:
		c->broadcast = get32(b);
		c->seq = get16(b + 4);
		c->n_hashes = b[6];
		if (c->n_hashes <= PROTO_MANIFEST_MAX)
			memcpy(c->hashes, b + PROTO_MANIFEST_BODY,
			       (size_t)PROTO_HASH * c->n_hashes);
		break;
	case PROTO_KEY:
		c->new_key_id = get32(b);
		memcpy(c->new_key, b + 4, PROTO_PUBLIC_KEY);
		break;
	case PROTO_KEEPALIVE:
		break;
	}
}

enum proto_result proto_control_parse(const unsigned char *buf, size_t len,
				      struct proto_control *c)
{
	enum proto_type type;
	size_t at, need;

	if (len < 4)
		return PROTO_ERR_SHORT;
	if (buf[0] != PROTO_MAGIC0 || buf[1] != PROTO_MAGIC1)
		return PROTO_ERR_MAGIC;
	if (buf[2] != PROTO_VERSION)
		return PROTO_ERR_VERSION;
	type = (enum proto_type)buf[3];
	if (control_length(type, 0) == 0)
		return PROTO_ERR_TYPE;
	at = count_offset(type);
	if (len < PROTO_ENVELOPE || (at && len <= at))
		return PROTO_ERR_SHORT;
	need = control_length(type, at ? buf[at] : 0);
	if (len < need)
		return PROTO_ERR_SHORT;
	if (len > need)
		return PROTO_ERR_LENGTH;
	if (!reserved_clear(type, buf + PROTO_ENVELOPE))
		return PROTO_ERR_FIELD;

	memset(c, 0, sizeof(*c));
	c->type = type;
	c->key_id = get32(buf + 4);
	c->epoch = get32(buf + 8);
	c->serial = get32(buf + 12);
	c->sent_ms = get64(buf + 16);
	parse_body(buf + PROTO_ENVELOPE, c);
	return control_fields_ok(c) ? PROTO_OK : PROTO_ERR_FIELD;
}

static int digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

int proto_code_covers(uint64_t code, uint64_t id)
{
	int shift = digits(id) - digits(code);

	if (shift < 0)
		return 0;
	while (shift-- > 0)
		id /= 10;
	return id == code;
}

int proto_control_addresses(const struct proto_control *c, uint64_t id)
{
	for (unsigned i = 0; i < c->n_targets; i++)
		if (proto_code_covers(c->targets[i], id))
			return 1;
	return 0;
}

const char *proto_signal_key(unsigned signal)
{
	static const char *const keys[] = {
		"?", "typhoon", "rainstorm", "heat", "cold", "fog", "haze", "thunderstorm-gale",
		"road-icing", "hail", "forest-fire",
	};

	return signal < sizeof(keys) / sizeof(keys[0]) ? keys[signal] : "?";
}

const char *proto_kind_name(enum proto_kind k)
{
	static const char *const names[] = { "?", "forecast", "nowcast", "warning", "live" };

	return (unsigned)k < 5 ? names[k] : "?";
}

const char *proto_colour_name(enum proto_colour c)
{
	static const char *const names[] = { "none", "white", "blue", "yellow", "orange", "red" };

	return (unsigned)c < 6 ? names[c] : "?";
}

const char *proto_action_name(enum proto_action a)
{
	static const char *const names[] = { "none", "issue", "change", "lift" };

	return (unsigned)a < 4 ? names[a] : "?";
}

const char *proto_strerror(enum proto_result r)
{
	switch (r) {
	case PROTO_OK: return "ok";
	case PROTO_ERR_SHORT: return "truncated packet";
	case PROTO_ERR_LENGTH: return "trailing bytes after the declared contents";
	case PROTO_ERR_MAGIC: return "not a control packet";
	case PROTO_ERR_VERSION: return "unsupported control version";
	case PROTO_ERR_TYPE: return "unknown control type";
	case PROTO_ERR_FIELD: return "field out of range";
	case PROTO_ERR_RTP: return "not our RTP profile";
	case PROTO_ERR_SPACE: return "buffer too small";
	}
	return "unknown error";
}
