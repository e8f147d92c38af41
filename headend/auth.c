/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Accounts, tokens and sessions. Only hashes are kept: Argon2id for passwords, BLAKE2b-256 for
 * tokens (they are 256 random bits, so a fast hash is enough). The token in operator.token is
 * the one secret stored in the clear, as the first start needs it to be. */
#include "headend/auth.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "headend/clock.h"
#include "headend/state.h"

#define DIGEST 32
#define SOURCES 64
#define FORGET_MS (15 * 60 * 1000ull)	/* failures older than this are forgotten */
#define LOCK_MS 60000ull	/* first wait after too many failures; doubles, to an hour */
#define SESSION_KEEP_MS (24 * 3600 * 1000ull)	/* expired sessions still say "expired" */

struct account {
	char name[AUTH_NAME_MAX + 1];
	char hash[crypto_pwhash_STRBYTES];	/* empty: no console password */
};

struct token {
	unsigned char digest[DIGEST];
	char name[AUTH_NAME_MAX + 1];		/* the operator it acts for */
	char label[AUTH_NAME_MAX + 1];		/* empty for a login session */
	uint64_t expires_ms;			/* monotonic; 0 for API tokens */
};

struct source {
	char addr[48];
	unsigned failures;
	uint64_t last_ms, until_ms;
};

struct auth {
	pthread_mutex_t lock;
	pthread_mutex_t hash_lock;	/* one Argon2id at a time: 64 MiB each */
	char dir[PATH_MAX];
	unsigned session_s;
	struct account *accounts;
	size_t n_accounts;
	struct token *tokens;
	size_t n_tokens;
	struct source sources[SOURCES];
	char dummy[crypto_pwhash_STRBYTES];	/* checked for unknown names, to take as long */
};

int auth_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUTH_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '.' ||
		      *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static void digest_of(const char *token, unsigned char out[DIGEST])
{
	crypto_generichash(out, DIGEST, (const unsigned char *)token, strlen(token), NULL, 0);
}

/* "cx_" and 43 characters of base64url: 256 random bits. */
static void new_token(char token[AUTH_TOKEN_MAX])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	memcpy(token, "cx_", 3);
	sodium_bin2base64(token + 3, AUTH_TOKEN_MAX - 3, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static struct account *find_account(struct auth *a, const char *name)
{
	for (size_t i = 0; i < a->n_accounts; i++)
		if (!strcmp(a->accounts[i].name, name))
			return &a->accounts[i];
	return NULL;
}

static struct account *add_account(struct auth *a, const char *name)
{
	struct account *p = realloc(a->accounts, (a->n_accounts + 1) * sizeof(*p));

	if (!p)
		return NULL;
	a->accounts = p;
	p = &a->accounts[a->n_accounts++];
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

static struct token *find_label(struct auth *a, const char *label)
{
	for (size_t i = 0; i < a->n_tokens; i++)
		if (a->tokens[i].label[0] && !strcmp(a->tokens[i].label, label))
			return &a->tokens[i];
	return NULL;
}

static struct token *add_token(struct auth *a)
{
	struct token *p = realloc(a->tokens, (a->n_tokens + 1) * sizeof(*p));

	if (!p)
		return NULL;
	a->tokens = p;
	p = &a->tokens[a->n_tokens++];
	memset(p, 0, sizeof(*p));
	return p;
}

static void drop_token(struct auth *a, struct token *t)
{
	size_t i = (size_t)(t - a->tokens);

	memmove(t, t + 1, (a->n_tokens - i - 1) * sizeof(*t));
	a->n_tokens--;
}

/* Accounts and API tokens to operators.json; sessions stay in memory. Caller holds the lock. */
static int save(struct auth *a)
{
	json_t *root = json_object(), *ops = json_array(), *toks = json_array();
	char hex[2 * DIGEST + 1], *text;
	int rc = -1;

	json_object_set_new(root, "operators", ops);
	json_object_set_new(root, "tokens", toks);
	for (size_t i = 0; i < a->n_accounts; i++)
		json_array_append_new(ops, json_pack("{s:s, s:s}", "name", a->accounts[i].name,
						     "password", a->accounts[i].hash));
	for (size_t i = 0; i < a->n_tokens; i++) {
		if (!a->tokens[i].label[0])
			continue;
		sodium_bin2hex(hex, sizeof(hex), a->tokens[i].digest, DIGEST);
		json_array_append_new(toks, json_pack("{s:s, s:s, s:s}", "operator",
						      a->tokens[i].name, "label",
						      a->tokens[i].label, "blake2b", hex));
	}
	text = json_dumps(root, JSON_INDENT(2));
	if (text && !state_write(a->dir, AUTH_STORE_FILE, text, strlen(text)))
		rc = 0;
	else if (!text)
		errno = ENOMEM;
	free(text);
	json_decref(root);
	return rc;
}

static int load_account(struct auth *a, json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *hash = json_string_value(json_object_get(o, "password"));
	struct account *acc;

	if (!name || !hash || !auth_name_ok(name) || strlen(hash) >= crypto_pwhash_STRBYTES ||
	    find_account(a, name) || !(acc = add_account(a, name)))
		return -1;
	memcpy(acc->hash, hash, strlen(hash) + 1);
	return 0;
}

static int load_token(struct auth *a, json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "operator"));
	const char *label = json_string_value(json_object_get(o, "label"));
	const char *hex = json_string_value(json_object_get(o, "blake2b"));
	struct token *t;
	size_t got = 0;

	if (!name || !label || !hex || !auth_name_ok(name) || !auth_name_ok(label) ||
	    find_label(a, label) || !(t = add_token(a)))
		return -1;
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->label, sizeof(t->label), "%s", label);
	if (sodium_hex2bin(t->digest, DIGEST, hex, strlen(hex), NULL, &got, NULL) ||
	    got != DIGEST)
		return -1;
	return 0;
}

static int load(struct auth *a, char *err, size_t errlen)
{
	size_t len, i;
	char *text = state_read(a->dir, AUTH_STORE_FILE, &len);
	json_error_t je;
	json_t *root, *o;
	int rc = -1;

	if (!text && errno == ENOENT)
		return 0;
	if (!text) {
		snprintf(err, errlen, "%s/%s: %s", a->dir, AUTH_STORE_FILE, strerror(errno));
		return -1;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!root) {
		snprintf(err, errlen, "%s/%s:%d: %s", a->dir, AUTH_STORE_FILE, je.line, je.text);
		return -1;
	}
	json_array_foreach(json_object_get(root, "operators"), i, o)
		if (load_account(a, o))
			goto bad;
	json_array_foreach(json_object_get(root, "tokens"), i, o)
		if (load_token(a, o))
			goto bad;
	rc = 0;
	goto out;
bad:
	snprintf(err, errlen, "%s/%s: entry %zu is not a valid operator or token", a->dir,
		 AUTH_STORE_FILE, i + 1);
out:
	json_decref(root);
	return rc;
}

/* A new token under label for operator name, replacing one of that label. Caller holds the
 * lock and saves. */
static int issue(struct auth *a, const char *name, const char *label, char token[AUTH_TOKEN_MAX])
{
	struct token *t = find_label(a, label);

	if (!t && !(t = add_token(a)))
		return -1;
	new_token(token);
	digest_of(token, t->digest);
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(t->label, sizeof(t->label), "%s", label);
	t->expires_ms = 0;
	return 0;
}

static int write_token_file(struct auth *a, const char *token)
{
	char line[AUTH_TOKEN_MAX + 1];
	int n = snprintf(line, sizeof(line), "%s\n", token);
	int rc = state_write(a->dir, AUTH_TOKEN_FILE, line, (size_t)n);

	sodium_memzero(line, sizeof(line));
	return rc;
}

/* operator.token must hold a token the store knows; a missing or stale file gets a new one. */
static int check_token_file(struct auth *a, int *wrote, char *err, size_t errlen)
{
	char *text = state_read(a->dir, AUTH_TOKEN_FILE, NULL), token[AUTH_TOKEN_MAX];
	struct token *t = find_label(a, AUTH_TOKEN_FILE);
	unsigned char d[DIGEST];

	*wrote = 0;
	if (text) {
		text[strcspn(text, "\r\n")] = '\0';
		digest_of(text, d);
		sodium_memzero(text, strlen(text));
		free(text);
		if (t && !sodium_memcmp(d, t->digest, DIGEST))
			return 0;
	}
	if (issue(a, AUTH_FIRST_OPERATOR, AUTH_TOKEN_FILE, token) || save(a) ||
	    write_token_file(a, token)) {
		snprintf(err, errlen, "%s/%s: cannot write the operator token: %s", a->dir,
			 AUTH_TOKEN_FILE, strerror(errno));
		return -1;
	}
	sodium_memzero(token, sizeof(token));
	*wrote = 1;
	return 0;
}

int auth_open(struct auth **out, const char *dir, unsigned session_s, int *wrote, char *err,
	      size_t errlen)
{
	struct auth *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a || sodium_init() < 0) {
		snprintf(err, errlen, "out of memory, or libsodium cannot start");
		free(a);
		return -1;
	}
	snprintf(a->dir, sizeof(a->dir), "%s", dir);
	a->session_s = session_s;
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->hash_lock, NULL);
	if (load(a, err, errlen))
		goto fail;
	if (!find_account(a, AUTH_FIRST_OPERATOR) && !add_account(a, AUTH_FIRST_OPERATOR)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (check_token_file(a, wrote, err, errlen))
		goto fail;
	*out = a;
	return 0;
fail:
	auth_close(a);
	return -1;
}

void auth_close(struct auth *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->lock);
	pthread_mutex_destroy(&a->hash_lock);
	if (a->tokens)
		sodium_memzero(a->tokens, a->n_tokens * sizeof(*a->tokens));
	free(a->tokens);
	free(a->accounts);
	free(a);
}

static void who_of(const struct token *t, struct auth_who *who)
{
	snprintf(who->name, sizeof(who->name), "%s", t->name);
	if (t->label[0])
		snprintf(who->text, sizeof(who->text), "%s (token %s)", t->name, t->label);
	else
		snprintf(who->text, sizeof(who->text), "%s", t->name);
}

enum auth_result auth_check(struct auth *a, const char *header, struct auth_who *who)
{
	enum auth_result r = AUTH_UNKNOWN;
	const struct token *hit = NULL;
	unsigned char d[DIGEST];
	char token[AUTH_TOKEN_MAX];
	size_t n;

	if (!header)
		return AUTH_MISSING;
	if (strncasecmp(header, "Bearer ", 7))
		return AUTH_MALFORMED;
	header += 7;
	header += strspn(header, " ");
	n = strcspn(header, " \t");
	if (n == 0 || n >= sizeof(token) || header[n + strspn(header + n, " \t")])
		return AUTH_MALFORMED;
	memcpy(token, header, n);
	token[n] = '\0';
	digest_of(token, d);
	sodium_memzero(token, sizeof(token));

	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < a->n_tokens; i++)
		if (!sodium_memcmp(d, a->tokens[i].digest, DIGEST))
			hit = &a->tokens[i];
	if (hit && hit->expires_ms && hit->expires_ms <= clock_mono_ms())
		r = AUTH_EXPIRED;
	else if (hit) {
		who_of(hit, who);
		r = AUTH_OK;
	}
	pthread_mutex_unlock(&a->lock);
	return r;
}

const char *auth_strerror(enum auth_result r)
{
	switch (r) {
	case AUTH_OK: return "ok";
	case AUTH_MISSING: return "this request needs an Authorization: Bearer token";
	case AUTH_MALFORMED: return "the Authorization header is not \"Bearer TOKEN\"";
	case AUTH_UNKNOWN: return "unknown or revoked token";
	case AUTH_EXPIRED: return "token expired; log in again";
	}
	return "?";
}

/* The source's entry, a fresh one if it has none (the longest quiet one is given up). */
static struct source *source_of(struct auth *a, const char *peer, uint64_t now)
{
	struct source *oldest = &a->sources[0];

	for (size_t i = 0; i < SOURCES; i++) {
		struct source *s = &a->sources[i];

		if (!strcmp(s->addr, peer)) {
			if (now - s->last_ms > FORGET_MS && s->until_ms <= now)
				s->failures = 0;
			return s;
		}
		if (s->last_ms < oldest->last_ms)
			oldest = s;
	}
	memset(oldest, 0, sizeof(*oldest));
	snprintf(oldest->addr, sizeof(oldest->addr), "%s", peer);
	return oldest;
}

static void failed(struct source *s, uint64_t now)
{
	unsigned over;

	s->failures++;
	s->last_ms = now;
	if (s->failures < AUTH_FAILURES_ALLOWED)
		return;
	over = s->failures - AUTH_FAILURES_ALLOWED;
	s->until_ms = now + (LOCK_MS << (over < 6 ? over : 6));
}

/* Sessions long expired are forgotten; caller holds the lock. */
static void purge_sessions(struct auth *a, uint64_t now)
{
	for (size_t i = a->n_tokens; i-- > 0;)
		if (a->tokens[i].expires_ms && a->tokens[i].expires_ms + SESSION_KEEP_MS < now)
			drop_token(a, &a->tokens[i]);
}

/* Argon2id, one at a time. Unknown names are checked against a hash of nothing in
 * particular, so that they take as long as known ones. */
static int password_matches(struct auth *a, const char *hash, const char *password)
{
	int ok;

	pthread_mutex_lock(&a->hash_lock);
	if (!a->dummy[0] && crypto_pwhash_str(a->dummy, "-", 1, crypto_pwhash_OPSLIMIT_INTERACTIVE,
					      crypto_pwhash_MEMLIMIT_INTERACTIVE))
		a->dummy[0] = '\0';
	ok = crypto_pwhash_str_verify(hash[0] ? hash : a->dummy, password, strlen(password)) == 0;
	pthread_mutex_unlock(&a->hash_lock);
	return ok && hash[0];
}

static void sleep_until(uint64_t when)
{
	uint64_t now = clock_mono_ms();
	struct timespec ts;

	if (now >= when)
		return;
	ts.tv_sec = (time_t)((when - now) / 1000);
	ts.tv_nsec = (long)((when - now) % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

enum auth_login auth_login(struct auth *a, const char *peer, const char *name,
			   const char *password, char token[AUTH_TOKEN_MAX], unsigned *wait_s)
{
	uint64_t start = clock_mono_ms();
	char hash[crypto_pwhash_STRBYTES] = "";
	const struct account *acc;
	struct source *s;
	struct token *t;
	int ok;

	pthread_mutex_lock(&a->lock);
	s = source_of(a, peer, start);
	if (s->until_ms > start) {
		*wait_s = (unsigned)((s->until_ms - start + 999) / 1000);
		pthread_mutex_unlock(&a->lock);
		return AUTH_LOGIN_LIMITED;
	}
	acc = find_account(a, name);
	if (acc)
		memcpy(hash, acc->hash, sizeof(hash));
	pthread_mutex_unlock(&a->lock);

	ok = strlen(password) <= AUTH_PASSWORD_MAX && password_matches(a, hash, password);

	pthread_mutex_lock(&a->lock);
	s = source_of(a, peer, clock_mono_ms());
	if (ok) {
		s->failures = 0;
		purge_sessions(a, clock_mono_ms());
		t = add_token(a);
		ok = t != NULL;
	}
	if (ok) {
		new_token(token);
		digest_of(token, t->digest);
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->expires_ms = clock_mono_ms() + 1000ull * a->session_s;
	} else {
		failed(s, clock_mono_ms());
	}
	pthread_mutex_unlock(&a->lock);
	/* start was truncated to the millisecond: one more makes the delay never shorter */
	if (!ok)
		sleep_until(start + AUTH_FAILED_DELAY_MS + 1);
	return ok ? AUTH_LOGIN_OK : AUTH_LOGIN_REFUSED;
}

unsigned auth_session_s(const struct auth *a)
{
	return a->session_s;
}

int auth_set_password(struct auth *a, const char *name, const char *password, char *err,
		      size_t errlen)
{
	char hash[crypto_pwhash_STRBYTES];
	struct account *acc;
	size_t n = strlen(password);
	int rc = -1;

	if (!auth_name_ok(name))
		return snprintf(err, errlen, "an operator name is 1 to %d of a-z 0-9 . _ -",
				AUTH_NAME_MAX), -1;
	if (n < AUTH_PASSWORD_MIN || n > AUTH_PASSWORD_MAX)
		return snprintf(err, errlen, "a password has %d to %d bytes", AUTH_PASSWORD_MIN,
				AUTH_PASSWORD_MAX), -1;
	pthread_mutex_lock(&a->hash_lock);
	rc = crypto_pwhash_str(hash, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			       crypto_pwhash_MEMLIMIT_INTERACTIVE);
	pthread_mutex_unlock(&a->hash_lock);
	if (rc)
		return snprintf(err, errlen, "out of memory for Argon2id"), -1;

	pthread_mutex_lock(&a->lock);
	acc = find_account(a, name);
	if (!acc)
		acc = add_account(a, name);
	rc = -1;
	if (!acc)
		snprintf(err, errlen, "out of memory");
	else if (memcpy(acc->hash, hash, sizeof(hash)), save(a))
		snprintf(err, errlen, "%s/%s: %s", a->dir, AUTH_STORE_FILE, strerror(errno));
	else
		rc = 0;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int auth_token_create(struct auth *a, const char *operator, const char *label,
		      char token[AUTH_TOKEN_MAX], char *err, size_t errlen)
{
	int rc = -1;

	if (!auth_name_ok(label) || !strcmp(label, AUTH_TOKEN_FILE))
		return snprintf(err, errlen, "a token label is 1 to %d of a-z 0-9 . _ - (and not "
				"%s)", AUTH_NAME_MAX, AUTH_TOKEN_FILE), -1;
	pthread_mutex_lock(&a->lock);
	if (issue(a, operator, label, token) || save(a))
		snprintf(err, errlen, "%s/%s: %s", a->dir, AUTH_STORE_FILE, strerror(errno));
	else
		rc = 0;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int auth_token_revoke(struct auth *a, const char *label, char *err, size_t errlen)
{
	struct token *t;
	int rc = -1;

	if (!strcmp(label, AUTH_TOKEN_FILE))
		return snprintf(err, errlen, "%s is replaced, not revoked (token rotate)",
				AUTH_TOKEN_FILE), -1;
	pthread_mutex_lock(&a->lock);
	t = find_label(a, label);
	if (!t)
		snprintf(err, errlen, "no token is labelled \"%s\"", label);
	else if (drop_token(a, t), save(a))
		snprintf(err, errlen, "%s/%s: %s", a->dir, AUTH_STORE_FILE, strerror(errno));
	else
		rc = 0;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int auth_token_rotate(struct auth *a, char token[AUTH_TOKEN_MAX], char *err, size_t errlen)
{
	int rc = -1;

	pthread_mutex_lock(&a->lock);
	if (issue(a, AUTH_FIRST_OPERATOR, AUTH_TOKEN_FILE, token) || save(a) ||
	    write_token_file(a, token))
		snprintf(err, errlen, "%s/%s: %s", a->dir, AUTH_TOKEN_FILE, strerror(errno));
	else
		rc = 0;
	pthread_mutex_unlock(&a->lock);
	return rc;
}
