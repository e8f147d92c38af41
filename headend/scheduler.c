/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Daily slots in the daemon. Each slot remembers the last occurrence dealt with (played or
 * skipped) in state_dir/slots.json, and a slot's bulletin carries a client id made of the slot
 * and its occurrence, so that a crash between the two cannot play a slot twice. Staged texts
 * live in state_dir/staged/, one file per slot. */
#include "headend/scheduler.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "headend/bulletin.h"
#include "headend/log.h"
#include "headend/state.h"

#define FETCH_MAX (256 * 1024)	/* bytes of a fetched text */
#define LOOP_MAX_S 30		/* the thread goes round at least this often */
#define CRON_EARLY_S 300	/* `play --slot` this early still means the coming occurrence */
#define RESULT_MAX 512
#define WHO_MAX 96

struct slot_state {
	time_t done;		/* last occurrence dealt with, played or skipped */
	time_t played;		/* last occurrence played */
	uint32_t bulletin;
	time_t at;		/* when the result below happened */
	char result[RESULT_MAX];
};

struct staged {
	char *text;		/* NULL: nothing staged */
	time_t staged_at, played;	/* played: the occurrence it served, 0 none yet */
	char who[WHO_MAX];
};

struct scheduler {
	const struct headend_config *cfg;
	const struct schedule *sch;
	const struct zones *z;
	struct engine *e;
	char staged_dir[PATH_MAX];
	pthread_mutex_t lock;	/* everything below */
	struct slot_state state[SCHEDULE_MAX_SLOTS];
	struct staged staged[SCHEDULE_MAX_SLOTS];
	struct timespec alive;
	int tfd, efd;
	pthread_t thread;
	int running;
};

struct fetched {
	char *data;
	size_t len;
};

static const char *when(const struct scheduler *s, time_t t, char *buf, size_t len)
{
	return schedule_format(s->sch, t, buf, len);
}

static const char *age_text(long seconds, char *buf, size_t len)
{
	if (seconds < 120)
		snprintf(buf, len, "%ld s", seconds);
	else if (seconds < 7200)
		snprintf(buf, len, "%ld min", seconds / 60);
	else
		snprintf(buf, len, "%.1f h", seconds / 3600.0);
	return buf;
}

/* "08:00" -> "0800.json" */
static void staged_name(const struct schedule_slot *slot, char *buf, size_t len)
{
	size_t n = 0;

	for (const char *p = slot->time; *p && n + 6 < len; p++)
		if (*p != ':')
			buf[n++] = *p;
	snprintf(buf + n, len - n, ".json");
}

/* The request body of slot i with text, as POST /v1/bulletins would take it. */
static json_t *slot_request(const struct scheduler *s, size_t i, const char *text,
			    const char *client_id)
{
	const struct schedule_slot *slot = &s->sch->slots[i];
	json_t *o = json_pack("{s:s, s:s}", "text", text, "kind",
			      schedule_product_name(slot->product));
	json_t *targets = json_array();

	for (size_t t = 0; o && targets && t < slot->n_targets; t++)
		json_array_append_new(targets, json_string(slot->targets[t]));
	if (o && slot->n_targets)
		json_object_set(o, "targets", targets);
	json_decref(targets);
	if (o && slot->repeat >= 0)
		json_object_set_new(o, "repeat", json_integer(slot->repeat));
	if (o && client_id)
		json_object_set_new(o, "client_id", json_string(client_id));
	return o;
}

/* Read a slot request through the bulletin parser. Returns 0 or an HTTP status with err. */
static int slot_bulletin(const struct scheduler *s, size_t i, const char *text,
			 const char *client_id, struct bulletin *b, char *err, size_t errlen)
{
	json_t *o = slot_request(s, i, text, client_id);
	char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = 500;

	snprintf(err, errlen, "the text is not valid UTF-8, or out of memory");
	if (body)
		rc = bulletin_parse(body, strlen(body), s->z, s->cfg, b, err, errlen);
	free(body);
	json_decref(o);
	return rc;
}

int scheduler_check(const struct schedule *sch, const struct zones *z,
		    const struct headend_config *cfg, char *err, size_t errlen)
{
	struct scheduler s = { .cfg = cfg, .sch = sch, .z = z };

	for (size_t i = 0; i < sch->n_slots; i++) {
		struct bulletin b;
		char why[512];

		if (slot_bulletin(&s, i, "高明区气象台天气预报。", NULL, &b, why, sizeof(why))) {
			snprintf(err, errlen, "%s: slot %s: %s", cfg->schedule_path,
				 sch->slots[i].time, why);
			return -1;
		}
		bulletin_free(&b);
	}
	return 0;
}

/* State on disk */

static void save_state(struct scheduler *s)
{
	json_t *root = json_object();
	char *text;

	for (size_t i = 0; root && i < s->sch->n_slots; i++) {
		const struct slot_state *st = &s->state[i];

		json_t *o = json_pack("{s:I, s:I, s:i, s:I, s:s}", "done", (json_int_t)st->done,
				      "played", (json_int_t)st->played, "bulletin",
				      (json_int_t)st->bulletin, "at", (json_int_t)st->at,
				      "result", st->result);

		json_object_set_new(root, s->sch->slots[i].time, o);
	}
	text = root ? json_dumps(root, JSON_INDENT(1)) : NULL;
	if (!text || state_write(s->cfg->state_dir, "slots.json", text, strlen(text)))
		log_error("slots: cannot save their state in %s: %s", s->cfg->state_dir,
			  text ? strerror(errno) : "out of memory");
	free(text);
	json_decref(root);
}

/* A slot never seen before counts everything up to grace ago as dealt with. */
static void load_state(struct scheduler *s, time_t now)
{
	char *text = state_read(s->cfg->state_dir, "slots.json", NULL);
	json_t *root = text ? json_loads(text, 0, NULL) : NULL;

	if (text && !root)
		log_error("slots: %s/slots.json does not parse; slots start afresh",
			  s->cfg->state_dir);
	for (size_t i = 0; i < s->sch->n_slots; i++) {
		struct slot_state *st = &s->state[i];
		json_t *o = json_object_get(root, s->sch->slots[i].time);
		const char *result = json_string_value(json_object_get(o, "result"));

		if (!o) {
			if (schedule_last(s->sch, i, now - s->sch->grace, &st->done))
				st->done = now - s->sch->grace;
			continue;
		}
		st->done = (time_t)json_integer_value(json_object_get(o, "done"));
		st->played = (time_t)json_integer_value(json_object_get(o, "played"));
		st->bulletin = (uint32_t)json_integer_value(json_object_get(o, "bulletin"));
		st->at = (time_t)json_integer_value(json_object_get(o, "at"));
		snprintf(st->result, sizeof(st->result), "%s", result ? result : "");
	}
	free(text);
	json_decref(root);
}

static int save_staged(struct scheduler *s, size_t i)
{
	const struct staged *st = &s->staged[i];
	json_t *o = json_pack("{s:s, s:I, s:I, s:s}", "text", st->text, "staged",
			      (json_int_t)st->staged_at, "played", (json_int_t)st->played, "who",
			      st->who);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL, name[32];
	int rc = -1;

	staged_name(&s->sch->slots[i], name, sizeof(name));
	if (text)
		rc = state_write(s->staged_dir, name, text, strlen(text));
	else
		errno = ENOMEM;
	free(text);
	json_decref(o);
	return rc;
}

static void load_staged(struct scheduler *s)
{
	for (size_t i = 0; i < s->sch->n_slots; i++) {
		struct staged *st = &s->staged[i];
		char name[32], *text;
		json_t *o;
		const char *t, *who;

		staged_name(&s->sch->slots[i], name, sizeof(name));
		text = state_read(s->staged_dir, name, NULL);
		o = text ? json_loads(text, 0, NULL) : NULL;
		t = json_string_value(json_object_get(o, "text"));
		who = json_string_value(json_object_get(o, "who"));
		if (t) {
			st->text = strdup(t);
			st->staged_at = (time_t)json_integer_value(json_object_get(o, "staged"));
			st->played = (time_t)json_integer_value(json_object_get(o, "played"));
			snprintf(st->who, sizeof(st->who), "%s", who ? who : "");
		} else if (text) {
			log_error("slot %s: staged text %s/%s does not parse; ignored",
				  s->sch->slots[i].time, s->staged_dir, name);
		}
		free(text);
		json_decref(o);
	}
}

/* Texts: staged, else fetched */

static size_t take(char *p, size_t size, size_t n, void *arg)
{
	struct fetched *f = arg;
	char *grown;

	if (f->len + size * n > FETCH_MAX)
		return 0;
	grown = realloc(f->data, f->len + size * n + 1);
	if (!grown)
		return 0;
	memcpy(grown + f->len, p, size * n);
	f->data = grown;
	f->len += size * n;
	f->data[f->len] = '\0';
	return size * n;
}

/* One fetch of url within the configured timeout. Returns 0 with *text (the caller frees it)
 * and *mtime (0 when the server does not say), or -1 with err. */
static int fetch(const struct scheduler *s, const char *url, char **text, time_t *mtime,
		 char *err, size_t errlen)
{
	CURL *c = curl_easy_init();
	struct fetched f = { 0 };
	curl_off_t filetime = -1;
	long code = 0;
	CURLcode rc = CURLE_OUT_OF_MEMORY;

	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https,file");
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->sch->fetch_timeout);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_FILETIME, 1L);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "127.0.0.1,localhost");
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(c, CURLINFO_FILETIME_T, &filetime);
		curl_easy_cleanup(c);
	}
	if (rc != CURLE_OK || (strncmp(url, "file:", 5) && code != 200) || !f.len) {
		snprintf(err, errlen, "fetching %s: %s", url, rc == CURLE_WRITE_ERROR ?
			 "larger than 256 KiB" : rc != CURLE_OK ? curl_easy_strerror(rc) :
			 code != 200 && strncmp(url, "file:", 5) ?
			 "the server did not answer 200" : "it is empty");
		free(f.data);
		return -1;
	}
	*text = f.data;
	*mtime = filetime > 0 ? (time_t)filetime : 0;
	return 0;
}

/* The staged text of slot i if it may serve occurrence occ; else NULL and why. */
static const char *staged_text(const struct scheduler *s, size_t i, time_t occ, time_t now,
			       char *why, size_t whylen)
{
	const struct staged *st = &s->staged[i];
	int max_age = s->sch->products[s->sch->slots[i].product].max_age;
	char a[32], b[32], c[32];

	if (!st->text)
		return NULL;
	if (st->played && st->played != occ)
		snprintf(why, whylen, "the text staged at %s played already at %s",
			 when(s, st->staged_at, a, sizeof(a)), when(s, st->played, b, sizeof(b)));
	else if (now - st->staged_at > max_age)
		snprintf(why, whylen, "the text staged at %s is %s old, over max_age %s",
			 when(s, st->staged_at, a, sizeof(a)),
			 age_text(now - st->staged_at, b, sizeof(b)),
			 age_text(max_age, c, sizeof(c)));
	else
		return st->text;
	return NULL;
}

/* The text for slot i at occurrence occ: 0 with *text (the caller frees it) and where it came
 * from, or -1 with why none may be played. */
static int pick_text(struct scheduler *s, size_t i, time_t occ, time_t now, char **text,
		     char *from, size_t fromlen, char *why, size_t whylen)
{
	const struct schedule_source *src = &s->sch->products[s->sch->slots[i].product];
	const char *staged = staged_text(s, i, occ, now, why, whylen);
	char err[512], a[32], b[32];
	time_t mtime;

	if (staged) {
		*text = strdup(staged);
		snprintf(from, fromlen, "staged at %s", when(s, s->staged[i].staged_at, a,
							      sizeof(a)));
		return *text ? 0 : -1;
	}
	if (!*src->url) {
		if (!s->staged[i].text)
			snprintf(why, whylen, "no text was staged for it and the %s has no url",
				 schedule_product_name(s->sch->slots[i].product));
		return -1;
	}
	if (fetch(s, src->url, text, &mtime, err, sizeof(err))) {
		snprintf(why, whylen, "%s%s%s", s->staged[i].text ? why : "",
			 s->staged[i].text ? "; " : "", err);
		return -1;
	}
	if (mtime && now - mtime > src->max_age) {
		snprintf(why, whylen, "%s was last changed at %s, %s ago, over max_age %s",
			 src->url, when(s, mtime, a, sizeof(a)),
			 age_text(now - mtime, b, sizeof(b)),
			 age_text(src->max_age, err, sizeof(err)));
		free(*text);
		return -1;
	}
	snprintf(from, fromlen, "%s%s", src->url, mtime ? "" : " (its age unknown)");
	return 0;
}

/* Outcomes */

static void note(struct scheduler *s, size_t i, time_t occ, const char *reason)
{
	char a[32];

	engine_note(s->e, json_pack("{s:s, s:s, s:s, s:s}", "slot", s->sch->slots[i].time,
				    "product", schedule_product_name(s->sch->slots[i].product),
				    "occurrence", when(s, occ, a, sizeof(a)), "reason", reason));
}

static void skip(struct scheduler *s, size_t i, time_t occ, time_t now, const char *why)
{
	struct slot_state *st = &s->state[i];
	char a[32];

	if (occ > st->done)
		st->done = occ;
	st->at = now;
	snprintf(st->result, sizeof(st->result), "skipped: %s", why);
	log_warn("slot %s (%s): skipped: %s", s->sch->slots[i].time, when(s, occ, a, sizeof(a)),
		 why);
	note(s, i, occ, why);
	save_state(s);
}

static void played(struct scheduler *s, size_t i, time_t occ, time_t now, uint32_t id,
		   const char *from, int used_staged)
{
	struct slot_state *st = &s->state[i];

	if (occ > st->done)
		st->done = occ;
	st->played = occ;
	st->bulletin = id;
	st->at = now;
	snprintf(st->result, sizeof(st->result), "played as bulletin %u, text %.400s", id, from);
	if (used_staged) {
		s->staged[i].played = occ;
		if (save_staged(s, i))
			log_error("slot %s: cannot mark its staged text played: %s",
				  s->sch->slots[i].time, strerror(errno));
	}
	save_state(s);
}

/* Queue slot i for occurrence occ. Returns 202 (*id is the bulletin), 409 when it was accepted
 * before (a restart between acceptance and the slot state), else a status with why. */
static unsigned submit_slot(struct scheduler *s, size_t i, time_t occ, const char *text,
			    const char *from, int force, uint32_t *id, char *why, size_t whylen)
{
	const struct schedule_slot *slot = &s->sch->slots[i];
	struct engine_origin o = { slot->time, occ, s->sch->wait, from };
	char client[BULLETIN_CLIENT_ID_MAX + 1], name[16], a[32];
	struct bulletin b;
	int rc;

	staged_name(slot, name, sizeof(name));
	name[strcspn(name, ".")] = '\0';
	if (force)
		snprintf(client, sizeof(client), "slot-%s-%lld-again-%lld", name, (long long)occ,
			 (long long)time(NULL));
	else
		snprintf(client, sizeof(client), "slot-%s-%lld", name, (long long)occ);
	rc = slot_bulletin(s, i, text, client, &b, why, whylen);
	if (rc)
		return rc == 500 ? 500 : 422;
	rc = engine_submit_from(s->e, &b, &o, id, why, whylen);
	if (rc)
		bulletin_free(&b);
	if (rc == 1)
		snprintf(why, whylen, "slot %s of %s was played already (bulletin %u); --force "
			 "plays it again", slot->time, when(s, occ, a, sizeof(a)), *id);
	return rc == 0 ? 202 : rc == 1 ? 409 : 503;
}

/* Play slot i for its occurrence occ now, as the timer or `headendctl play` asks. Returns the
 * HTTP status of what happened, with *id or why. Under s->lock. */
static unsigned play_slot(struct scheduler *s, size_t i, time_t occ, int force, uint32_t *id,
			  char *why, size_t whylen)
{
	const struct schedule_slot *slot = &s->sch->slots[i];
	char *text = NULL, from[SCHEDULE_URL_MAX + 64], a[32];
	time_t now = time(NULL);
	int used_staged;
	unsigned status;

	if (pick_text(s, i, occ, now, &text, from, sizeof(from), why, whylen)) {
		skip(s, i, occ, now, why);
		return 422;
	}
	used_staged = !strncmp(from, "staged", 6);
	status = submit_slot(s, i, occ, text, from, force, id, why, whylen);
	free(text);
	if (status == 202 || status == 409)
		played(s, i, occ, now, *id, from, used_staged);
	if (status == 202)
		log_info("slot %s (%s): bulletin %u, %s to %s, text %s", slot->time,
			 when(s, occ, a, sizeof(a)), *id, schedule_product_name(slot->product),
			 slot->n_targets ? slot->targets[0] : s->z->district_name, from);
	else if (status == 422)
		skip(s, i, occ, now, why);
	else if (status != 409)
		log_error("slot %s (%s): not queued, tried again shortly: %s", slot->time,
			  when(s, occ, a, sizeof(a)), why);
	return status;
}

/* The timer */

static void check_slots(struct scheduler *s)
{
	for (size_t i = 0; i < s->sch->n_slots; i++) {
		struct timespec t;
		enum schedule_verdict v;
		time_t occ;
		char why[RESULT_MAX], a[32], b[32];
		uint32_t id;

		clock_gettime(CLOCK_REALTIME, &t);
		if (schedule_check(s->sch, i, s->state[i].done, t.tv_sec, &v, &occ))
			continue;
		if (v == SCHEDULE_PLAY) {
			log_info("slot %s (%s): fired %.1f ms after its time",
				 s->sch->slots[i].time, when(s, occ, a, sizeof(a)),
				 (t.tv_sec - occ) * 1e3 + t.tv_nsec / 1e6);
			play_slot(s, i, occ, 0, &id, why, sizeof(why));
		} else if (v == SCHEDULE_MISSED) {
			snprintf(why, sizeof(why), "missed: found %s late (the head-end was "
				 "down or the clock jumped), over the grace of %s",
				 age_text(t.tv_sec - occ, a, sizeof(a)),
				 age_text(s->sch->grace, b, sizeof(b)));
			skip(s, i, occ, t.tv_sec, why);
		}
	}
}

static void arm(struct scheduler *s, time_t at)
{
	struct itimerspec its = { .it_value = { .tv_sec = at } };

	if (timerfd_settime(s->tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL))
		log_error("slots: cannot arm the timer: %s", strerror(errno));
}

/* When to wake next: the next slot, the next re-broadcast, or LOOP_MAX_S from now. */
static time_t round_once(struct scheduler *s)
{
	time_t now = time(NULL), next = now + LOOP_MAX_S, at, again;
	size_t i;

	pthread_mutex_lock(&s->lock);
	clock_gettime(CLOCK_MONOTONIC, &s->alive);
	if (s->sch->timer)
		check_slots(s);
	pthread_mutex_unlock(&s->lock);
	again = engine_rebroadcast(s->e, time(NULL));
	if (again && again < next)
		next = again;
	if (s->sch->timer && !schedule_next(s->sch, time(NULL), &i, &at) && at && at < next)
		next = at;
	return next;
}

static void *run(void *arg)
{
	struct scheduler *s = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = s->tfd, .events = POLLIN },
				       { .fd = s->efd, .events = POLLIN } };
		uint64_t n;

		arm(s, round_once(s));
		while (poll(p, 2, -1) < 0 && errno == EINTR)
			;
		if (p[1].revents)
			break;
		if (read(s->tfd, &n, sizeof(n)) < 0 && errno == ECANCELED)
			log_info("slots: the wall clock was set; every slot is checked again");
	}
	return NULL;
}

int scheduler_alive(struct scheduler *s)
{
	struct timespec now;
	int alive;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&s->lock);
	alive = now.tv_sec - s->alive.tv_sec < LOOP_MAX_S + s->sch->fetch_timeout + 30;
	pthread_mutex_unlock(&s->lock);
	return alive;
}

int scheduler_open(struct scheduler **out, const struct headend_config *cfg,
		   const struct schedule *sch, const struct zones *z, struct engine *e, char *err,
		   size_t errlen)
{
	struct scheduler *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s)
		return snprintf(err, errlen, "out of memory"), -1;
	*s = (struct scheduler){ .cfg = cfg, .sch = sch, .z = z, .e = e, .tfd = -1, .efd = -1 };
	pthread_mutex_init(&s->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &s->alive);
	if (snprintf(s->staged_dir, sizeof(s->staged_dir), "%s/staged", cfg->state_dir) >=
	    (int)sizeof(s->staged_dir)) {
		snprintf(err, errlen, "state directory name %s is too long", cfg->state_dir);
		goto fail;
	}
	if (state_open(s->staged_dir, err, errlen))
		goto fail;
	load_state(s, time(NULL));
	load_staged(s);
	s->tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC);
	s->efd = eventfd(0, EFD_CLOEXEC);
	if (s->tfd < 0 || s->efd < 0 || (rc = pthread_create(&s->thread, NULL, run, s))) {
		snprintf(err, errlen, "slots: cannot start the timer: %s", strerror(errno));
		goto fail;
	}
	s->running = 1;
	*out = s;
	return 0;
fail:
	scheduler_close(s);
	return -1;
}

void scheduler_close(struct scheduler *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->running && write(s->efd, &one, sizeof(one)) == sizeof(one))
		pthread_join(s->thread, NULL);
	if (s->tfd >= 0)
		close(s->tfd);
	if (s->efd >= 0)
		close(s->efd);
	for (size_t i = 0; i < SCHEDULE_MAX_SLOTS; i++)
		free(s->staged[i].text);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* HTTP */

int scheduler_owns(const char *url)
{
	return !strncmp(url, "/v1/products/", 13) || !strcmp(url, "/v1/slots/play") ||
	       !strcmp(url, "/v1/schedule") || !strcmp(url, "/v1/warnings");
}

static unsigned answer_json(json_t *o, char **answer, char *err, size_t errlen)
{
	*answer = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (*answer)
		return 200;
	snprintf(err, errlen, "out of memory");
	return 500;
}

/* The body as a JSON object with only the keys named; 0 or a status with err. */
static unsigned body_object(const char *body, size_t len, const char *const *keys, size_t n,
			    json_t **out, char *err, size_t errlen)
{
	json_error_t jerr;
	const char *key;
	json_t *v;

	*out = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(*out)) {
		snprintf(err, errlen, "the body must be a JSON object (%s)", *out ? "not one" :
			 jerr.text);
		json_decref(*out);
		return 400;
	}
	json_object_foreach(*out, key, v) {
		size_t k;

		for (k = 0; k < n && strcmp(key, keys[k]); k++)
			;
		if (k == n) {
			snprintf(err, errlen, "unknown key \"%s\"", key);
			json_decref(*out);
			return 400;
		}
	}
	return 0;
}

/* The occurrence a text staged now for slot i serves: one that fell within grace and has not
 * been dealt with (cron may be about to play it), else the next. */
static time_t serves(const struct scheduler *s, size_t i, time_t now)
{
	time_t last, next;

	if (!schedule_last(s->sch, i, now, &last) && last > s->state[i].done &&
	    now - last <= s->sch->grace)
		return last;
	return schedule_after(s->sch, i, now, &next) ? 0 : next;
}

/* Slot index for a staging: the one named, else the product's next. -1 with err if none. */
static long stage_slot(const struct scheduler *s, int product, const char *time, time_t now,
		       char *err, size_t errlen)
{
	long best = -1;
	time_t best_at = 0;

	if (time) {
		int i = schedule_find(s->sch, time);

		if (i < 0 || (int)s->sch->slots[i].product != product)
			snprintf(err, errlen, "there is no %s slot at %s", schedule_product_name(
				 (enum schedule_product)product), time);
		return i >= 0 && (int)s->sch->slots[i].product == product ? i : -1;
	}
	for (size_t i = 0; i < s->sch->n_slots; i++) {
		time_t at = s->sch->slots[i].product == (enum schedule_product)product ?
			    serves(s, i, now) : 0;

		if (at && (best < 0 || at < best_at)) {
			best = (long)i;
			best_at = at;
		}
	}
	if (best < 0)
		snprintf(err, errlen, "the schedule has no %s slot",
			 schedule_product_name((enum schedule_product)product));
	return best;
}

/* Keep text as slot i's staged text, on disk before this returns 0; on failure the text staged
 * before stays. Else an HTTP status with err. Under s->lock. */
static unsigned keep_staged(struct scheduler *s, size_t i, const char *text, const char *who,
			    char *err, size_t errlen)
{
	struct staged old = s->staged[i];
	struct bulletin b;
	unsigned rc = (unsigned)slot_bulletin(s, i, text, NULL, &b, err, errlen);

	if (rc)
		return rc;
	bulletin_free(&b);
	s->staged[i] = (struct staged){ strdup(text), time(NULL), 0, "" };
	snprintf(s->staged[i].who, sizeof(s->staged[i].who), "%s", who);
	if (s->staged[i].text && !save_staged(s, i)) {
		free(old.text);
		return 0;
	}
	snprintf(err, errlen, "cannot keep the text in %s: %s", s->staged_dir,
		 s->staged[i].text ? strerror(errno) : "out of memory");
	free(s->staged[i].text);
	s->staged[i] = old;
	return 503;
}

static unsigned staged_answer(struct scheduler *s, int product, size_t i, size_t bytes,
			      const char *who, char **answer, char *err, size_t errlen)
{
	const char *name = schedule_product_name((enum schedule_product)product);
	char a[32];

	when(s, serves(s, i, time(NULL)), a, sizeof(a));
	log_info("http %s: %s staged for slot %s (%s), %zu bytes", who, name,
		 s->sch->slots[i].time, a, bytes);
	return answer_json(json_pack("{s:s, s:s, s:s}", "product", name, "slot",
				     s->sch->slots[i].time, "for", a),
			   answer, err, errlen) == 200 ? 202 : 500;
}

static unsigned post_stage(struct scheduler *s, int product, const char *who, const char *body,
			   size_t len, char **answer, char *err, size_t errlen)
{
	static const char *const keys[] = { "text", "slot" };
	const char *text, *slot;
	json_t *o;
	unsigned rc = body_object(body, len, keys, 2, &o, err, errlen);
	long i;

	if (rc)
		return rc;
	text = json_string_value(json_object_get(o, "text"));
	slot = json_string_value(json_object_get(o, "slot"));
	if (!text || (json_object_get(o, "slot") && !slot)) {
		snprintf(err, errlen, "\"text\" must be a string, and \"slot\" \"HH:MM\" if "
			 "given");
		json_decref(o);
		return 422;
	}
	pthread_mutex_lock(&s->lock);
	i = stage_slot(s, product, slot, time(NULL), err, errlen);
	rc = i < 0 ? 422 : keep_staged(s, (size_t)i, text, who, err, errlen);
	if (!rc)
		rc = staged_answer(s, product, (size_t)i, strlen(text), who, answer, err, errlen);
	pthread_mutex_unlock(&s->lock);
	json_decref(o);
	return rc;
}

/* What `headendctl play --slot` asks: the slot's latest occurrence (or the one about to fall),
 * refused when played already unless forced, or too late for grace unless forced. */
static unsigned cron_play(struct scheduler *s, size_t i, int force, uint32_t *id, time_t *occ,
			  char *err, size_t errlen)
{
	const struct slot_state *st = &s->state[i];
	time_t now = time(NULL);
	char a[32], b[32], c[32];

	if (schedule_last(s->sch, i, now + CRON_EARLY_S, occ)) {
		snprintf(err, errlen, "calendar arithmetic failed in %s", s->sch->zone);
		return 500;
	}
	if (!force && st->played == *occ) {
		snprintf(err, errlen, "slot %s of %s was played already (bulletin %u); --force "
			 "plays it again", s->sch->slots[i].time, when(s, *occ, a, sizeof(a)),
			 st->bulletin);
		return 409;
	}
	if (!force && now - *occ > s->sch->grace) {
		snprintf(err, errlen, "slot %s of %s is %s late, over the grace of %s; --force "
			 "plays it anyway", s->sch->slots[i].time, when(s, *occ, a, sizeof(a)),
			 age_text(now - *occ, b, sizeof(b)),
			 age_text(s->sch->grace, c, sizeof(c)));
		return 422;
	}
	return play_slot(s, i, *occ, force, id, err, errlen);
}

/* The slot a play request names, and its force: the slot's index, or -1 with *rc and err. */
static int play_request(const struct scheduler *s, json_t *o, int *force, unsigned *rc,
			char *err, size_t errlen)
{
	const char *slot = json_string_value(json_object_get(o, "slot"));
	json_t *f = json_object_get(o, "force");
	int i = slot ? schedule_find(s->sch, slot) : -1;

	*force = json_is_true(f);
	if (!slot || (f && !json_is_boolean(f))) {
		snprintf(err, errlen, "\"slot\" (\"HH:MM\") is required and \"force\" must be "
			 "true or false");
		*rc = 422;
		return -1;
	}
	if (i < 0) {
		snprintf(err, errlen, "there is no slot at %s", slot);
		*rc = 404;
	}
	return i;
}

static unsigned played_answer(struct scheduler *s, size_t i, uint32_t id, time_t occ, int force,
			      const char *who, char **answer, char *err, size_t errlen)
{
	char a[32];

	when(s, occ, a, sizeof(a));
	log_info("http %s: slot %s (%s) played on request as bulletin %u%s", who,
		 s->sch->slots[i].time, a, id, force ? ", forced" : "");
	return answer_json(json_pack("{s:i, s:s, s:s}", "id", (json_int_t)id, "slot",
				     s->sch->slots[i].time, "occurrence", a),
			   answer, err, errlen) == 200 ? 202 : 500;
}

static unsigned post_play(struct scheduler *s, const char *who, const char *body, size_t len,
			  char **answer, char *err, size_t errlen)
{
	static const char *const keys[] = { "slot", "force" };
	uint32_t id = 0;
	time_t occ = 0;
	json_t *o;
	unsigned rc = body_object(body, len, keys, 2, &o, err, errlen);
	int i, force;

	if (rc)
		return rc;
	i = play_request(s, o, &force, &rc, err, errlen);
	if (i >= 0) {
		pthread_mutex_lock(&s->lock);
		rc = cron_play(s, (size_t)i, force, &id, &occ, err, errlen);
		pthread_mutex_unlock(&s->lock);
	}
	if (rc == 202)
		rc = played_answer(s, (size_t)i, id, occ, force, who, answer, err, errlen);
	json_decref(o);
	return rc;
}

static json_t *slot_json(const struct scheduler *s, size_t i, time_t now)
{
	const struct schedule_slot *slot = &s->sch->slots[i];
	const struct slot_state *st = &s->state[i];
	const struct staged *sg = &s->staged[i];
	char a[32], b[32], c[32];
	time_t next = 0;
	json_t *o;

	if (schedule_after(s->sch, i, now, &next))
		next = 0;
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "time", slot->time, "product",
		      schedule_product_name(slot->product), "next", when(s, next, a, sizeof(a)),
		      "last_done", when(s, st->done, b, sizeof(b)), "result", st->result);
	if (o && sg->text)
		json_object_set_new(o, "staged", json_pack("{s:s, s:I, s:b, s:s}", "at",
				    when(s, sg->staged_at, c, sizeof(c)), "age_s",
				    (json_int_t)(now - sg->staged_at), "played", sg->played != 0,
				    "by", sg->who));
	return o;
}

static unsigned get_schedule(struct scheduler *s, char **answer, char *err, size_t errlen)
{
	json_t *slots = json_array();
	time_t now = time(NULL);

	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; slots && i < s->sch->n_slots; i++)
		json_array_append_new(slots, slot_json(s, i, now));
	pthread_mutex_unlock(&s->lock);
	return answer_json(json_pack("{s:s, s:b, s:i, s:o}", "time_zone", s->sch->zone, "timer",
				     s->sch->timer, "grace", s->sch->grace, "slots", slots),
			   answer, err, errlen);
}

unsigned scheduler_handle(struct scheduler *s, const char *method, const char *url,
			  const char *who, const char *body, size_t len, char **answer, char *err,
			  size_t errlen)
{
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	int product = schedule_product_lookup(url + (strlen(url) > 13 ? 13 : strlen(url)));

	*answer = NULL;
	if (!strcmp(url, "/v1/warnings") || !strcmp(url, "/v1/schedule")) {
		if (!get) {
			snprintf(err, errlen, "use GET for %s", url);
			return 405;
		}
		if (!strcmp(url, "/v1/schedule"))
			return get_schedule(s, answer, err, errlen);
		*answer = engine_warnings_json(s->e);
		return *answer ? 200 : (snprintf(err, errlen, "out of memory"), 500);
	}
	if (strcmp(method, "POST")) {
		snprintf(err, errlen, "use POST for %s", url);
		return 405;
	}
	if (!strcmp(url, "/v1/slots/play"))
		return post_play(s, who, body, len, answer, err, errlen);
	if (strncmp(url, "/v1/products/", 13) || product < 0) {
		snprintf(err, errlen, "no such product (nowcast or forecast)");
		return 404;
	}
	return post_stage(s, product, who, body, len, answer, err, errlen);
}
