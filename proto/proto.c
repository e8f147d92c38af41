/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Byte layout of RTP/Opus and control packets, big-endian throughout. Parsers trust nothing:
 * every length and field is checked before use. */
#include "proto/proto.h"

#include <string.h>

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(unsigned char *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v & 0xffffffffu);
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const unsigned char *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

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
	if (len - PROTO_RTP_HEADER > 1275)
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

static int control_fields_ok(const struct proto_control *c)
{
	if (c->type < PROTO_START || c->type > PROTO_KEEPALIVE)
		return 0;
	if (c->n_targets > PROTO_MAX_TARGETS || c->signal > 10 || c->colour > PROTO_COLOUR_RED ||
	    c->action > PROTO_ACTION_LIFT)
		return 0;
	for (unsigned i = 0; i < c->n_targets; i++)
		if (!code_valid(c->targets[i]))
			return 0;
	if (c->type == PROTO_KEEPALIVE)
		return c->kind == 0 && c->n_targets == 0;
	return c->kind >= PROTO_KIND_FORECAST && c->kind <= PROTO_KIND_WARNING &&
	       c->n_targets > 0;
}

size_t proto_control_pack(const struct proto_control *c, unsigned char *out, size_t outlen)
{
	size_t n = PROTO_CONTROL_HEADER + 8u * c->n_targets;

	if (!control_fields_ok(c) || n > outlen)
		return 0;
	memset(out, 0, PROTO_CONTROL_HEADER);
	out[0] = PROTO_MAGIC0;
	out[1] = PROTO_MAGIC1;
	out[2] = PROTO_VERSION;
	out[3] = (unsigned char)c->type;
	put32(out + 4, c->broadcast);
	put64(out + 8, c->sent_ms);
	out[16] = (unsigned char)c->kind;
	out[17] = c->signal;
	out[18] = (unsigned char)c->colour;
	out[19] = (unsigned char)c->action;
	put16(out + 20, c->seq);
	put32(out + 24, c->timestamp);
	put32(out + 28, c->frames);
	out[32] = c->n_targets;
	for (unsigned i = 0; i < c->n_targets; i++)
		put64(out + PROTO_CONTROL_HEADER + 8 * i, c->targets[i]);
	return n;
}

enum proto_result proto_control_parse(const unsigned char *buf, size_t len,
				      struct proto_control *c)
{
	if (len < 4)
		return PROTO_ERR_SHORT;
	if (buf[0] != PROTO_MAGIC0 || buf[1] != PROTO_MAGIC1)
		return PROTO_ERR_MAGIC;
	if (buf[2] != PROTO_VERSION)
		return PROTO_ERR_VERSION;
	if (buf[3] < PROTO_START || buf[3] > PROTO_KEEPALIVE)
		return PROTO_ERR_TYPE;
	if (len < PROTO_CONTROL_HEADER || len < PROTO_CONTROL_HEADER + 8u * buf[32])
		return PROTO_ERR_SHORT;
	if (len > PROTO_CONTROL_HEADER + 8u * buf[32])
		return PROTO_ERR_LENGTH;
	if (buf[32] > PROTO_MAX_TARGETS)
		return PROTO_ERR_FIELD;
	if (buf[22] || buf[23] || buf[33] || buf[34] || buf[35])
		return PROTO_ERR_FIELD;

	memset(c, 0, sizeof(*c));
	c->type = (enum proto_type)buf[3];
	c->broadcast = get32(buf + 4);
	c->sent_ms = get64(buf + 8);
	c->kind = (enum proto_kind)buf[16];
	c->signal = buf[17];
	c->colour = (enum proto_colour)buf[18];
	c->action = (enum proto_action)buf[19];
	c->seq = get16(buf + 20);
	c->timestamp = get32(buf + 24);
	c->frames = get32(buf + 28);
	c->n_targets = buf[32];
	for (unsigned i = 0; i < c->n_targets; i++)
		c->targets[i] = get64(buf + PROTO_CONTROL_HEADER + 8 * i);
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
	static const char *const names[] = { "?", "forecast", "nowcast", "warning" };

	return (unsigned)k < 4 ? names[k] : "?";
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
