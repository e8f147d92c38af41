/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Status reports: layout, strict parsing, the head-end's acceptance rules, and key files. */
#include "proto/report.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/bytes.h"

int proto_is_report(const unsigned char *buf, size_t len)
{
	return len >= 2 && buf[0] == PROTO_MAGIC0 && buf[1] == PROTO_REPORT_MAGIC1;
}

static int printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

static int fields_ok(const struct proto_report *r, size_t version_len)
{
	return r->state >= PROTO_STATE_NORMAL && r->state <= PROTO_STATE_BROADCASTING &&
	       r->endpoint >= 100000000000000ull && r->endpoint <= 999999999999999ull &&
	       r->boot != 0 && r->seq != 0 &&
	       (r->state == PROTO_STATE_BROADCASTING) == (r->broadcast != 0) &&
	       version_len <= PROTO_REPORT_VERSION_MAX && printable(r->version, version_len);
}

size_t proto_report_pack(const struct proto_report *r, unsigned char *out, size_t outlen)
{
	size_t v = strnlen(r->version, sizeof(r->version));
	size_t n = PROTO_REPORT_BODY + v + PROTO_SIGNATURE;

	if (!fields_ok(r, v) || n > outlen)
		return 0;
	memset(out, 0, n);
	out[0] = PROTO_MAGIC0;
	out[1] = PROTO_REPORT_MAGIC1;
	out[2] = PROTO_REPORT_VERSION;
	out[3] = (unsigned char)r->state;
	put64(out + 4, r->endpoint);
	put32(out + 12, r->key_id);
	put64(out + 16, r->boot);
	put32(out + 24, r->seq);
	put64(out + 28, r->sent_ms);
	put32(out + 36, r->broadcast);
	put32(out + 40, r->last);
	put32(out + 44, r->uptime_s);
	put32(out + 48, r->received);
	put32(out + 52, r->lost);
	put32(out + 56, r->rejected);
	out[60] = (unsigned char)v;
	memcpy(out + PROTO_REPORT_BODY, r->version, v);
	return n;
}

enum proto_result proto_report_parse(const unsigned char *buf, size_t len,
				      struct proto_report *r)
{
	size_t v;

	if (len < 3)
		return PROTO_ERR_SHORT;
	if (!proto_is_report(buf, len))
		return PROTO_ERR_MAGIC;
	if (buf[2] != PROTO_REPORT_VERSION)
		return PROTO_ERR_VERSION;
	if (len < PROTO_REPORT_BODY + PROTO_SIGNATURE)
		return PROTO_ERR_SHORT;
	v = buf[60];
	if (v > PROTO_REPORT_VERSION_MAX)
		return PROTO_ERR_FIELD;
	if (len < PROTO_REPORT_BODY + v + PROTO_SIGNATURE)
		return PROTO_ERR_SHORT;
	if (len > PROTO_REPORT_BODY + v + PROTO_SIGNATURE)
		return PROTO_ERR_LENGTH;
	memset(r, 0, sizeof(*r));
	r->state = buf[3];
	r->endpoint = get64(buf + 4);
	r->key_id = get32(buf + 12);
	r->boot = get64(buf + 16);
	r->seq = get32(buf + 24);
	r->sent_ms = get64(buf + 28);
	r->broadcast = get32(buf + 36);
	r->last = get32(buf + 40);
	r->uptime_s = get32(buf + 44);
	r->received = get32(buf + 48);
	r->lost = get32(buf + 52);
	r->rejected = get32(buf + 56);
	memcpy(r->version, buf + PROTO_REPORT_BODY, v);
	r->version[v] = '\0';
	return fields_ok(r, v) ? PROTO_OK : PROTO_ERR_FIELD;
}

/* (boot, seq) in that order: a new start must carry a larger boot. */
static int newer(const struct proto_report_peer *p, const struct proto_report *r)
{
	return !p->heard || r->boot > p->boot || (r->boot == p->boot && r->seq > p->seq);
}

enum proto_reject proto_report_check(struct proto_report_peer *peer, const unsigned char *buf,
				     size_t len, uint64_t now_ms, uint64_t tolerance_ms,
				     struct proto_report *r)
{
	struct proto_report got;

	if (proto_report_parse(buf, len, &got) != PROTO_OK)
		return PROTO_REJECT_MALFORMED;
	if (!peer || !peer->keyed || got.key_id != peer->key_id)
		return PROTO_REJECT_KEY;
	if (!proto_verify(buf, len, peer->pk))
		return PROTO_REJECT_SIGNATURE;
	if (got.sent_ms + tolerance_ms < now_ms || got.sent_ms > now_ms + tolerance_ms)
		return PROTO_REJECT_STALE;
	if (!newer(peer, &got))
		return PROTO_REJECT_REPLAY;
	peer->heard = 1;
	peer->boot = got.boot;
	peer->seq = got.seq;
	*r = got;
	return PROTO_ACCEPT;
}

const char *proto_state_name(enum proto_state s)
{
	static const char *const names[] = {
		[PROTO_STATE_NORMAL] = "normal", [PROTO_STATE_OFF] = "off",
		[PROTO_STATE_FAULT] = "fault", [PROTO_STATE_RECOVERED] = "recovered",
		[PROTO_STATE_BROADCASTING] = "broadcasting",
	};

	return s >= PROTO_STATE_NORMAL && s <= PROTO_STATE_BROADCASTING ? names[s] : "?";
}

int proto_seed_load(const char *path, unsigned char sk[PROTO_SECRET_KEY], char *err,
		    size_t errlen)
{
	char text[2 * PROTO_SEED + 8];
	unsigned char seed[PROTO_SEED], pk[PROTO_PUBLIC_KEY];
	size_t n, got = 0;
	const char *end;
	struct stat st;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "report key %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || (st.st_mode & 077)) {
		fclose(f);
		snprintf(err, errlen, "report key %s: others may read it (mode %03o); "
			 "chmod 600 it, and provision a new key if they may have", path,
			 (unsigned)st.st_mode & 0777);
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (sodium_hex2bin(seed, sizeof(seed), text, n, NULL, &got, &end) ||
	    got != sizeof(seed) || strspn(end, " \t\r\n") != strlen(end)) {
		sodium_memzero(text, sizeof(text));
		snprintf(err, errlen, "report key %s: not a key (64 hex digits)", path);
		return -1;
	}
	sodium_memzero(text, sizeof(text));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

/* A new seed written to path itself when in_place, else to path.tmp renamed over path. */
static int seed_write(const char *path, unsigned char pk[PROTO_PUBLIC_KEY], int in_place)
{
	unsigned char seed[PROTO_SEED], sk[PROTO_SECRET_KEY];
	char hex[2 * PROTO_SEED + 2], tmp[PATH_MAX];
	int fd, saved;
	ssize_t w;

	if (snprintf(tmp, sizeof(tmp), "%s%s", path, in_place ? "" : ".tmp") >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	randombytes_buf(seed, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_bin2hex(hex, sizeof(hex) - 1, seed, sizeof(seed));
	hex[2 * PROTO_SEED] = '\n';
	hex[2 * PROTO_SEED + 1] = '\0';
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(sk, sizeof(sk));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (in_place ? O_EXCL : 0), 0600);
	/* A file left over keeps its mode when opened: replace it, so the new one is 0600. */
	if (fd < 0 && in_place && errno == EEXIST && !unlink(tmp))
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	w = write(fd, hex, strlen(hex));
	saved = errno;
	if (close(fd) || w != (ssize_t)strlen(hex)) {
		errno = w < 0 ? saved : EIO;
		unlink(tmp);
		goto fail;
	}
	if (!in_place && rename(tmp, path)) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto fail;
	}
	sodium_memzero(hex, sizeof(hex));
	return 0;
fail:
	sodium_memzero(hex, sizeof(hex));
	return -1;
}

int proto_seed_create(const char *path, unsigned char pk[PROTO_PUBLIC_KEY])
{
	return seed_write(path, pk, 0);
}

int proto_seed_create_in_place(const char *path, unsigned char pk[PROTO_PUBLIC_KEY])
{
	return seed_write(path, pk, 1);
}
