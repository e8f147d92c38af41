/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Key files, epoch counter and rotation. Every file is replaced through state_write, so a crash
 * leaves the old or the new key, never half of one; a rotation interrupted by a crash resumes
 * its announcements on the next start. */
#include "headend/keys.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "headend/log.h"
#include "headend/state.h"
#include "proto/sign.h"

struct key {
	unsigned char sk[PROTO_SECRET_KEY], pk[PROTO_PUBLIC_KEY];
	uint32_t id;
};

struct keys {
	pthread_mutex_t lock;
	char dir[PATH_MAX];
	struct key cur, next;
	int rotating, preparing, announced;
	uint64_t announce_ms, due_ms;
	uint32_t epoch, serial;
};

/* dir/name into path (PATH_MAX bytes); -1 with errno set if it does not fit. */
static int join(char *path, const char *dir, const char *name)
{
	if (snprintf(path, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void key_from_seed(struct key *k, const unsigned char seed[PROTO_SEED])
{
	crypto_sign_seed_keypair(k->pk, k->sk, seed);
	k->id = proto_key_id(k->pk);
}

static int key_store(const char *dir, const char *name, const struct key *k)
{
	char hex[2 * PROTO_SEED + 2];

	/* libsodium's secret key begins with the seed. */
	proto_hex(k->sk, PROTO_SEED, hex);
	hex[2 * PROTO_SEED] = '\n';
	hex[2 * PROTO_SEED + 1] = '\0';
	return state_write(dir, name, hex, strlen(hex));
}

/* 1 loaded, 0 no such file, -1 with err set. A secret key others can read is refused. */
static int key_load(const char *dir, const char *name, struct key *k, char *err, size_t errlen)
{
	char path[PATH_MAX], *text;
	unsigned char seed[PROTO_SEED];
	size_t len, got = 0;
	const char *end;
	struct stat st;

	if (join(path, dir, name) || stat(path, &st))
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path,
						       strerror(errno)), -1);
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: mode %03o lets others read the signing key; "
			 "chmod 600 it (and make a new key if others may have read it)", path,
			 (unsigned)st.st_mode & 0777);
		return -1;
	}
	text = state_read(dir, name, &len);
	if (!text) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (sodium_hex2bin(seed, sizeof(seed), text, len, NULL, &got, &end) ||
	    got != sizeof(seed) || strspn(end, "\r\n") != strlen(end)) {
		sodium_memzero(text, len);
		free(text);
		snprintf(err, errlen, "%s: not a key (64 hex digits)", path);
		return -1;
	}
	sodium_memzero(text, len);
	free(text);
	key_from_seed(k, seed);
	sodium_memzero(seed, sizeof(seed));
	return 1;
}

static int key_create(const char *dir, const char *name, struct key *k)
{
	unsigned char seed[PROTO_SEED];
	int rc;

	randombytes_buf(seed, sizeof(seed));
	key_from_seed(k, seed);
	sodium_memzero(seed, sizeof(seed));
	rc = key_store(dir, name, k);
	return rc;
}

/* The public key is for anyone, endpoints first: readable by all. */
static int write_public(const char *dir, const struct key *k)
{
	char hex[2 * PROTO_PUBLIC_KEY + 2], path[PATH_MAX];

	proto_hex(k->pk, PROTO_PUBLIC_KEY, hex);
	hex[2 * PROTO_PUBLIC_KEY] = '\n';
	hex[2 * PROTO_PUBLIC_KEY + 1] = '\0';
	if (join(path, dir, KEYS_PUBLIC_FILE) ||
	    state_write(dir, KEYS_PUBLIC_FILE, hex, strlen(hex)) || chmod(path, 0644))
		return -1;
	return 0;
}

/* The epoch is written and synced before anything is signed under it. */
static int take_epoch(struct keys *k)
{
	char *text = state_read(k->dir, KEYS_EPOCH_FILE, NULL), *end, line[16];
	unsigned long v = 0;

	if (text) {
		errno = 0;
		v = strtoul(text, &end, 10);
		if (errno || end == text || (*end && *end != '\n') || v >= UINT32_MAX) {
			free(text);
			errno = EINVAL;
			return -1;
		}
		free(text);
	} else if (errno != ENOENT) {
		return -1;
	}
	snprintf(line, sizeof(line), "%lu\n", v + 1);
	if (state_write(k->dir, KEYS_EPOCH_FILE, line, strlen(line)))
		return -1;
	k->epoch = (uint32_t)(v + 1);
	k->serial = 0;
	return 0;
}

static void remove_next(const char *dir)
{
	char path[PATH_MAX];

	if (!join(path, dir, KEYS_NEXT_FILE))
		unlink(path);
}

static int load_keys(struct keys *k, char *err, size_t errlen)
{
	int rc = key_load(k->dir, KEYS_FILE, &k->cur, err, errlen);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		if (key_create(k->dir, KEYS_FILE, &k->cur)) {
			snprintf(err, errlen, "%s/%s: cannot create the signing key: %s", k->dir,
				 KEYS_FILE, strerror(errno));
			return -1;
		}
		log_info("key %08" PRIx32 ": created in %s/%s", k->cur.id, k->dir, KEYS_FILE);
	}

	/* A crash after the switch leaves the new key in both files: nothing to resume. */
	rc = key_load(k->dir, KEYS_NEXT_FILE, &k->next, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 1 && k->next.id == k->cur.id)
		remove_next(k->dir);
	else if (rc == 1) {
		k->rotating = 1;
		log_info("key %08" PRIx32 ": rotation to %08" PRIx32 " was under way, announcing "
			 "it again", k->cur.id, k->next.id);
	}
	return 0;
}

int keys_open(struct keys **out, const char *dir, uint64_t announce_ms, char *err,
	      size_t errlen)
{
	struct keys *k;

	*out = NULL;
	if (proto_crypto_init()) {
		snprintf(err, errlen, "libsodium cannot start");
		return -1;
	}
	k = sodium_malloc(sizeof(*k));
	if (!k) {
		snprintf(err, errlen, "out of memory for the signing key");
		return -1;
	}
	memset(k, 0, sizeof(*k));
	snprintf(k->dir, sizeof(k->dir), "%s", dir);
	k->announce_ms = announce_ms ? announce_ms : 1;
	if (load_keys(k, err, errlen))
		goto fail;
	if (write_public(dir, &k->cur)) {
		snprintf(err, errlen, "%s/%s: %s", dir, KEYS_PUBLIC_FILE, strerror(errno));
		goto fail;
	}
	if (take_epoch(k)) {
		snprintf(err, errlen, "%s/%s: cannot take a new epoch: %s", dir, KEYS_EPOCH_FILE,
			 strerror(errno));
		goto fail;
	}
	pthread_mutex_init(&k->lock, NULL);
	log_info("key %08" PRIx32 ": signs epoch %" PRIu32 "; endpoints trust %s/%s",
		 k->cur.id, k->epoch, dir, KEYS_PUBLIC_FILE);
	*out = k;
	return 0;
fail:
	sodium_free(k);
	return -1;
}

void keys_close(struct keys *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	sodium_free(k);		/* zeroes the secret keys */
}

static size_t seal_locked(struct keys *k, struct proto_control *c, unsigned char *out,
			  size_t outlen)
{
	size_t n;

	/* Four billion packets in one run: start a new epoch rather than wrap. */
	if (k->serial == UINT32_MAX && take_epoch(k)) {
		log_error("key: cannot take a new epoch in %s: %s; nothing is signed",
			  k->dir, strerror(errno));
		return 0;
	}
	c->key_id = k->cur.id;
	c->epoch = k->epoch;
	c->serial = ++k->serial;
	n = proto_control_pack(c, out, outlen);
	if (n)
		proto_sign(out, n, k->cur.sk);
	return n;
}

size_t keys_seal(struct keys *k, struct proto_control *c, unsigned char *out, size_t outlen)
{
	size_t n;

	pthread_mutex_lock(&k->lock);
	n = seal_locked(k, c, out, outlen);
	pthread_mutex_unlock(&k->lock);
	return n;
}

/* The new key is written outside the lock: an fsync must not hold up the pacer. */
int keys_rotate(struct keys *k, uint32_t *id, char *err, size_t errlen)
{
	struct key next;
	int rc = -1, busy;

	pthread_mutex_lock(&k->lock);
	busy = k->rotating || k->preparing;
	if (busy)
		snprintf(err, errlen, "a key rotation is under way already");
	else
		k->preparing = 1;
	pthread_mutex_unlock(&k->lock);
	if (busy)
		return -1;

	if (key_create(k->dir, KEYS_NEXT_FILE, &next))
		snprintf(err, errlen, "%s/%s: %s", k->dir, KEYS_NEXT_FILE, strerror(errno));
	else
		rc = 0;

	pthread_mutex_lock(&k->lock);
	k->preparing = 0;
	if (rc == 0) {
		k->next = next;
		k->rotating = 1;
		k->announced = 0;
		k->due_ms = 0;
		*id = next.id;
	}
	pthread_mutex_unlock(&k->lock);
	sodium_memzero(&next, sizeof(next));
	return rc;
}

/* The new key signs from here on; the old one is forgotten. Files first, so that a crash
 * never leaves the head-end signing with a key it has not stored. */
static void switch_keys(struct keys *k)
{
	uint32_t old = k->cur.id;

	if (key_store(k->dir, KEYS_FILE, &k->next) || write_public(k->dir, &k->next)) {
		log_error("key %08" PRIx32 ": cannot store it in %s: %s; still signing with "
			  "%08" PRIx32, k->next.id, k->dir, strerror(errno), old);
		return;
	}
	remove_next(k->dir);
	k->cur = k->next;
	sodium_memzero(&k->next, sizeof(k->next));
	k->rotating = 0;
	log_info("key %08" PRIx32 ": now signing, replacing %08" PRIx32 " after %d "
		 "announcements", k->cur.id, old, KEYS_ANNOUNCEMENTS);
}

size_t keys_poll(struct keys *k, uint64_t now_ms, unsigned char *out, size_t outlen)
{
	struct proto_control c = { .type = PROTO_KEY };
	struct timespec ts;
	size_t n = 0;

	pthread_mutex_lock(&k->lock);
	if (!k->rotating || now_ms < k->due_ms)
		goto out;
	k->due_ms = now_ms + k->announce_ms;
	if (k->announced == KEYS_ANNOUNCEMENTS) {
		switch_keys(k);
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	c.sent_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	c.new_key_id = k->next.id;
	memcpy(c.new_key, k->next.pk, PROTO_PUBLIC_KEY);
	n = seal_locked(k, &c, out, outlen);
	if (n)
		k->announced++;
out:
	pthread_mutex_unlock(&k->lock);
	return n;
}

int keys_rotating(struct keys *k)
{
	int r;

	pthread_mutex_lock(&k->lock);
	r = k->rotating;
	pthread_mutex_unlock(&k->lock);
	return r;
}

uint32_t keys_id(struct keys *k)
{
	uint32_t id;

	pthread_mutex_lock(&k->lock);
	id = k->cur.id;
	pthread_mutex_unlock(&k->lock);
	return id;
}

uint32_t keys_epoch(struct keys *k)
{
	uint32_t e;

	pthread_mutex_lock(&k->lock);
	e = k->epoch;
	pthread_mutex_unlock(&k->lock);
	return e;
}
