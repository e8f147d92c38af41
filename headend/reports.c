/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Status reports in, the endpoint table out. One thread owns the UDP socket; one mutex guards
 * the table, which the thread, the engine's callback and HTTP requests share. The rules live
 * in roster.c; here are the files, the socket, the log and the JSON. */
#include "headend/reports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "headend/log.h"
#include "headend/roster.h"
#include "headend/state.h"
#include "proto/sign.h"

#define REJECT_LOG_MS 10000	/* at most one line about rejected reports this often */
#define BATCH 256		/* datagrams taken before the table is looked over again */
#define KEY_URL_HEAD "/v1/endpoints/"
#define KEY_URL_TAIL "/key"

struct reports {
	const struct headend_config *cfg;
	const struct zones *z;
	pthread_mutex_t lock;		/* the roster */
	pthread_mutex_t key_lock;	/* one registry write at a time */
	struct roster roster;
	int sock, wake[2];
	pthread_t thread;
	int running;
	uint64_t reject_logged_ms;	/* the last line about rejections */
	unsigned long reject_quiet;	/* rejections since, not yet in a line */
};

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* "2024-05-19T06:40:00.123Z" */
static json_t *iso_ms(uint64_t ms)
{
	time_t t = (time_t)(ms / 1000u);
	struct tm tm;
	char buf[40];
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%03uZ", (unsigned)(ms % 1000u));
	return json_string(buf);
}

/* The registry: "ID HEXKEY" per line for every endpoint that has a key. NULL out of memory. */
static char *registry_text(const struct reports *r, size_t *len)
{
	const struct zones *z = r->z;
	size_t cap = 256 + z->n_endpoints * (16 + 2 * PROTO_PUBLIC_KEY + 2), n;
	char *text = malloc(cap), hex[2 * PROTO_PUBLIC_KEY + 1];

	if (!text)
		return NULL;
	n = (size_t)snprintf(text, cap, "# Report keys of the endpoints: endpoint id, Ed25519 "
			     "public key (docs/protocol.md, section 8).\n");
	for (size_t i = 0; i < z->n_endpoints; i++) {
		if (!r->roster.ep[i].peer.keyed)
			continue;
		proto_hex(r->roster.ep[i].peer.pk, PROTO_PUBLIC_KEY, hex);
		n += (size_t)snprintf(text + n, cap - n, "%015" PRIu64 " %s\n",
				      z->endpoints[i].id, hex);
	}
	*len = n;
	return text;
}

/* First start: a seed file for every endpoint, synced once at the end (one syncfs instead of
 * 2,350 fsyncs), then the registry, whose presence says the provisioning is complete. Until
 * then a crash leaves nothing that counts, so the files are written in place, without the
 * temporary file and rename of each (half the directory updates). */
static int provision(struct reports *r, char *err, size_t errlen)
{
	const char *state = r->cfg->state_dir;
	char dir[PATH_MAX], path[PATH_MAX + 32], *text;
	unsigned char pk[PROTO_PUBLIC_KEY];
	uint64_t t0 = clock_ms(CLOCK_MONOTONIC);
	size_t len;
	int fd, rc;

	if (snprintf(dir, sizeof(dir), "%s/%s", state, REPORTS_KEY_DIR) >= (int)sizeof(dir))
		return fail(err, errlen, "%s: path too long", state);
	if ((mkdir(dir, 0700) && errno != EEXIST) || chmod(dir, 0700))
		return fail(err, errlen, "%s: %s", dir, strerror(errno));
	for (size_t i = 0; i < r->z->n_endpoints; i++) {
		snprintf(path, sizeof(path), "%s/%015" PRIu64 ".key", dir, r->z->endpoints[i].id);
		if (proto_seed_create_in_place(path, pk))
			return fail(err, errlen, "cannot write the report key %s: %s", path,
				    strerror(errno));
		roster_set_key(&r->roster, (uint32_t)i, pk);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rc = fd < 0 ? -1 : syncfs(fd);
	if (fd >= 0)
		close(fd);
	if (rc)
		return fail(err, errlen, "cannot sync the report keys in %s: %s", dir,
			    strerror(errno));
	text = registry_text(r, &len);
	if (!text)
		return fail(err, errlen, "out of memory");
	rc = state_write(state, REPORTS_REGISTRY, text, len);
	free(text);
	if (rc)
		return fail(err, errlen, "cannot write %s/%s: %s", state, REPORTS_REGISTRY,
			    strerror(errno));
	log_info("reports: first start: made a report key for each of the %zu endpoints in %s "
		 "(%" PRIu64 " ms) and registered their public keys in %s/%s. These secrets are "
		 "for the one-machine demo and tests; a real site keeps none: it removes %s and "
		 "provisions each loudspeaker with headendctl endpoint-key ID", r->z->n_endpoints,
		 dir, clock_ms(CLOCK_MONOTONIC) - t0, state, REPORTS_REGISTRY, dir);
	return 0;
}

/* One line of the registry; 1 if it names an endpoint of the directory, 0 if not, -1 if it
 * is not a registry line. */
static int registry_line(struct reports *r, const char *line, size_t n)
{
	unsigned char pk[PROTO_PUBLIC_KEY];
	char buf[128], *end;
	unsigned long long id;
	size_t got = 0;
	long i;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	errno = 0;
	id = strtoull(buf, &end, 10);
	if (errno || end - buf != 15 || *end != ' ' ||
	    sodium_hex2bin(pk, sizeof(pk), end + 1, strlen(end + 1), NULL, &got, NULL) ||
	    got != sizeof(pk) || strlen(end + 1) != 2 * sizeof(pk))
		return -1;
	i = zones_find_endpoint(r->z, id);
	if (i < 0)
		return 0;
	roster_set_key(&r->roster, (uint32_t)i, pk);
	return 1;
}

static int load_registry(struct reports *r, const char *text, char *err, size_t errlen)
{
	size_t keyed = 0, strangers = 0, line = 0;

	for (const char *p = text; *p; ) {
		size_t n = strcspn(p, "\n");
		int rc = 0;

		line++;
		if (n && *p != '#')
			rc = registry_line(r, p, n);
		if (rc < 0)
			return fail(err, errlen, "%s/%s:%zu: not \"ENDPOINT_ID HEX_PUBLIC_KEY\" "
				    "(15 digits, a space, 64 hex digits); correct the line, or "
				    "register the endpoint's key again (headendctl endpoint-key)",
				    r->cfg->state_dir, REPORTS_REGISTRY, line);
		keyed += rc == 1;
		strangers += rc == 0 && n && *p != '#';
		p += n + (p[n] == '\n');
	}
	if (strangers)
		log_warn("reports: %s/%s lists %zu endpoints the directory does not have; their "
			 "lines are ignored", r->cfg->state_dir, REPORTS_REGISTRY, strangers);
	if (keyed < r->z->n_endpoints)
		log_warn("reports: %zu of the %zu endpoints have no report key, so their reports "
			 "are rejected; register one for each with headendctl endpoint-key ID",
			 r->z->n_endpoints - keyed, r->z->n_endpoints);
	log_info("reports: report keys of %zu endpoints loaded from %s/%s", keyed,
		 r->cfg->state_dir, REPORTS_REGISTRY);
	return 0;
}

int reports_open(struct reports **out, const struct headend_config *cfg, const struct zones *z,
		 char *err, size_t errlen)
{
	struct reports *r = calloc(1, sizeof(*r));
	char *text;
	int rc;

	*out = NULL;
	if (!r || roster_init(&r->roster, z, (unsigned)cfg->report_period_s,
			      (unsigned)cfg->report_missed, cfg->report_alarm,
			      (uint64_t)cfg->report_tolerance_ms, clock_ms(CLOCK_MONOTONIC))) {
		free(r);
		return fail(err, errlen, "out of memory");
	}
	r->cfg = cfg;
	r->z = z;
	r->sock = r->wake[0] = r->wake[1] = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->key_lock, NULL);
	text = state_read(cfg->state_dir, REPORTS_REGISTRY, NULL);
	if (!text && errno != ENOENT)
		rc = fail(err, errlen, "%s/%s: %s", cfg->state_dir, REPORTS_REGISTRY,
			  strerror(errno));
	else
		rc = text ? load_registry(r, text, err, errlen) : provision(r, err, errlen);
	free(text);
	if (rc) {
		reports_close(r);
		return -1;
	}
	*out = r;
	return 0;
}

static const char *endpoint_place(const struct reports *r, uint32_t i, char *buf, size_t n)
{
	const struct zones_village *v = &r->z->villages[r->z->endpoints[i].village];

	snprintf(buf, n, "%015" PRIu64 " (%s/%s)", r->z->endpoints[i].id,
		 r->z->towns[v->town].name, v->name);
	return buf;
}

/* Under r->lock, from roster_sweep: one log line per change worth a person's attention. A
 * first report, and the normal/broadcasting round of every broadcast, are not. */
static void on_event(void *arg, const struct roster_event *ev)
{
	struct reports *r = arg;
	const struct zones *z = r->z;
	const struct zones_village *vil;
	char who[ZONES_NAME_MAX * 2 + 40];
	double pct = ev->of ? 100.0 * (double)ev->count / (double)ev->of : 0.0;

	switch (ev->kind) {
	case ROSTER_EVENT_ENDPOINT:
		endpoint_place(r, ev->index, who, sizeof(who));
		if (ev->to == ROSTER_OFFLINE)
			log_warn("endpoint %s: offline, no report for %d s (%d missed)", who,
				 r->cfg->report_missed * r->cfg->report_period_s,
				 r->cfg->report_missed);
		else if (ev->to == ROSTER_OFF)
			log_info("endpoint %s: off, switched off on purpose", who);
		else if (ev->to == ROSTER_FAULT)
			log_warn("endpoint %s: fault, it reports that it cannot play", who);
		else if (!ev->first && !roster_able(ev->from))
			log_info("endpoint %s: back, %s", who, roster_state_name(ev->to));
		break;
	case ROSTER_EVENT_BELOW:
	case ROSTER_EVENT_BACK:
		vil = &z->villages[ev->index];
		if (ev->kind == ROSTER_EVENT_BELOW)
			log_warn("village %012" PRIu64 " %s/%s: %zu of %zu endpoints able to play "
				 "(%.0f %%), below %.0f %%", vil->code, z->towns[vil->town].name,
				 vil->name, ev->count, ev->of, pct, r->cfg->report_alarm * 100);
		else
			log_info("village %012" PRIu64 " %s/%s: %zu of %zu endpoints able to play "
				 "(%.0f %%), back at or above %.0f %%", vil->code,
				 z->towns[vil->town].name, vil->name, ev->count, ev->of, pct,
				 r->cfg->report_alarm * 100);
		break;
	case ROSTER_EVENT_COUNTED:
		log_info("broadcast %u: played at %zu of %zu targeted endpoints", ev->broadcast,
			 ev->count, ev->of);
		break;
	}
}

static void log_rejected_since(struct reports *r, uint64_t now)
{
	const unsigned long *n = r->roster.rejected;

	log_warn("reports: %lu more reports rejected in the last %" PRIu64 " s; since the start: "
		 "bad signature %lu, unknown key %lu, replay %lu, stale %lu, malformed %lu",
		 r->reject_quiet, (now - r->reject_logged_ms + 500) / 1000,
		 n[PROTO_REJECT_SIGNATURE], n[PROTO_REJECT_KEY], n[PROTO_REJECT_REPLAY],
		 n[PROTO_REJECT_STALE], n[PROTO_REJECT_MALFORMED]);
	r->reject_logged_ms = now;
	r->reject_quiet = 0;
}

/* Rejections are counted one by one, but logged at most once per REJECT_LOG_MS: a flood of
 * forgeries must not flood the log as well. */
static void note_rejected(struct reports *r, enum proto_reject why, long index,
			  const struct sockaddr_in *from, uint64_t now)
{
	char who[ZONES_NAME_MAX * 2 + 40], addr[INET_ADDRSTRLEN];

	if (r->reject_logged_ms && now - r->reject_logged_ms < REJECT_LOG_MS) {
		r->reject_quiet++;
		return;
	}
	inet_ntop(AF_INET, &from->sin_addr, addr, sizeof(addr));
	log_warn("reports: rejected a report from %s:%u naming %s: %s (further rejections "
		 "within %d s are counted, not logged)", addr, ntohs(from->sin_port),
		 index >= 0 ? endpoint_place(r, (uint32_t)index, who, sizeof(who)) :
		 "no endpoint of the directory", proto_reject_name(why), REJECT_LOG_MS / 1000);
	r->reject_logged_ms = now;
	r->reject_quiet = 0;
}

static void receive(struct reports *r)
{
	unsigned char buf[PROTO_REPORT_MAX + 1];

	for (int k = 0; k < BATCH; k++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(r->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &flen);
		enum proto_reject why;
		uint64_t now;
		long index;

		if (n < 0)
			return;
		now = clock_ms(CLOCK_MONOTONIC);
		pthread_mutex_lock(&r->lock);
		/* MSG_TRUNC gives a datagram's full size: one too long for the buffer is
		 * refused by the parser on its length alone. */
		why = roster_receive(&r->roster, buf, (size_t)n < sizeof(buf) ? (size_t)n :
				     sizeof(buf), clock_ms(CLOCK_REALTIME), now, &index);
		if (why != PROTO_ACCEPT)
			note_rejected(r, why, index, &from, now);
		pthread_mutex_unlock(&r->lock);
	}
}

static void *reports_main(void *arg)
{
	struct reports *r = arg;
	/* Often enough that an endpoint is seen offline within a tenth of a period. */
	uint64_t tick = (uint64_t)r->cfg->report_period_s * 100u, next = 0;

	if (tick > 1000)
		tick = 1000;
	for (;;) {
		struct pollfd p[2] = { { r->sock, POLLIN, 0 }, { r->wake[0], POLLIN, 0 } };
		uint64_t now = clock_ms(CLOCK_MONOTONIC);

		if (poll(p, 2, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
			log_error("reports: poll: %s", strerror(errno));
		if (p[1].revents)
			break;
		if (p[0].revents & POLLIN)
			receive(r);
		now = clock_ms(CLOCK_MONOTONIC);
		if (now < next)
			continue;
		pthread_mutex_lock(&r->lock);
		roster_sweep(&r->roster, now, on_event, r);
		if (r->reject_quiet && now - r->reject_logged_ms >= REJECT_LOG_MS)
			log_rejected_since(r, now);
		pthread_mutex_unlock(&r->lock);
		next = now + tick;
	}
	return NULL;
}

int reports_start(struct reports *r, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr = r->cfg->report_address,
				 .sin_port = htons((uint16_t)r->cfg->report_port) };
	char addr[INET_ADDRSTRLEN];
	int rcvbuf = 1 << 20, rc;

	inet_ntop(AF_INET, &a.sin_addr, addr, sizeof(addr));
	r->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->sock < 0 || setsockopt(r->sock, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(r->sock, (struct sockaddr *)&a, sizeof(a)))
		return fail(err, errlen, "reports: cannot listen on UDP %s:%d (reports.address, "
			    "reports.port): %s", addr, r->cfg->report_port, strerror(errno));
	if (pipe2(r->wake, O_CLOEXEC))
		return fail(err, errlen, "reports: %s", strerror(errno));
	rc = pthread_create(&r->thread, NULL, reports_main, r);
	if (rc)
		return fail(err, errlen, "reports: cannot start a thread: %s", strerror(rc));
	r->running = 1;
	/* Endpoints can be heard from now on, not from the head-end's start: the alarms wait
	 * for missed reports counted from here. */
	pthread_mutex_lock(&r->lock);
	r->roster.quiet_until_ms = clock_ms(CLOCK_MONOTONIC) + (uint64_t)r->cfg->report_missed *
				   (uint64_t)r->cfg->report_period_s * 1000u;
	pthread_mutex_unlock(&r->lock);
	log_info("reports: listening on UDP %s:%d; an endpoint is offline after %d missed reports "
		 "of %d s; a village alarms below %.0f %% of its endpoints able to play", addr,
		 r->cfg->report_port, r->cfg->report_missed, r->cfg->report_period_s,
		 r->cfg->report_alarm * 100);
	return 0;
}

void reports_close(struct reports *r)
{
	if (!r)
		return;
	if (r->running) {
		if (write(r->wake[1], "x", 1) != 1)
			log_error("reports: cannot wake the thread: %s", strerror(errno));
		pthread_join(r->thread, NULL);
	}
	for (int i = 0; i < 2; i++)
		if (r->wake[i] >= 0)
			close(r->wake[i]);
	if (r->sock >= 0)
		close(r->sock);
	roster_free(&r->roster);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->key_lock);
	free(r);
}

void reports_on_air(void *arg, const struct engine_air *a)
{
	struct reports *r = arg;
	uint64_t now = clock_ms(CLOCK_MONOTONIC);

	pthread_mutex_lock(&r->lock);
	if (!a->on)
		roster_off_air(&r->roster, a->broadcast, now);
	else if (roster_on_air(&r->roster, a->broadcast, a->codes, a->n_codes, now))
		log_error("broadcast %u: out of memory; who played it is not counted",
			  a->broadcast);
	pthread_mutex_unlock(&r->lock);
}

/* The API */

static unsigned refuse(char *err, size_t errlen, unsigned status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}

static json_t *endpoint_json(const struct roster *ro, uint32_t i, uint64_t now)
{
	const struct roster_endpoint *e = &ro->ep[i];
	const struct proto_report *l = &e->last;
	json_t *o = json_pack("{s:I, s:s}", "id", (json_int_t)ro->z->endpoints[i].id, "state",
			      roster_state_name(roster_state(ro, i, now)));

	if (!o)
		return NULL;
	if (!l->seq) {
		json_object_set_new(o, "last_report", json_null());
		return o;
	}
	json_object_set_new(o, "last_report", iso_ms(e->wall_ms));
	json_object_update_new(o, json_pack("{s:i, s:i, s:I, s:I, s:I, s:I, s:s}",
					    "broadcast", (json_int_t)l->broadcast,
					    "last", (json_int_t)l->last,
					    "received", (json_int_t)l->received,
					    "lost", (json_int_t)l->lost,
					    "rejected", (json_int_t)l->rejected,
					    "uptime_s", (json_int_t)l->uptime_s,
					    "version", l->version));
	return o;
}

static json_t *rejected_json(const struct roster *ro)
{
	json_t *o = json_object();

	for (int k = PROTO_ACCEPT + 1; k < PROTO_REJECT_COUNT; k++)
		if (k != PROTO_REJECT_UNVERIFIED)	/* an endpoint's reason, not ours */
			json_object_set_new(o, proto_reject_name((enum proto_reject)k),
					    json_integer((json_int_t)ro->rejected[k]));
	return o;
}

static int village_in(const unsigned char *sel, const struct zones_village *v)
{
	for (uint32_t i = v->first_endpoint; sel && i < v->first_endpoint + v->n_endpoints; i++)
		if (sel[i])
			return 1;
	return !sel;
}

/* The table of ro (a copy taken under r->lock), for the endpoints flagged in sel (all when sel
 * is NULL). */
static json_t *table_json(const struct reports *r, const struct roster *ro,
			  const unsigned char *sel, uint64_t now)
{
	const struct zones *z = r->z;
	json_t *list = json_array(), *below = json_array(), *counts = json_object(), *o;
	size_t by_state[ROSTER_STATES] = { 0 };

	for (uint32_t i = 0; i < z->n_endpoints; i++) {
		if (sel && !sel[i])
			continue;
		by_state[roster_state(ro, i, now)]++;
		json_array_append_new(list, endpoint_json(ro, i, now));
	}
	for (int s = 0; s < ROSTER_STATES; s++)
		json_object_set_new(counts, roster_state_name((enum roster_state)s),
				    json_integer((json_int_t)by_state[s]));
	for (uint32_t v = 0; v < z->n_villages; v++) {
		const struct zones_village *vil = &z->villages[v];
		size_t able = roster_village_able(ro, v, now);

		if (!village_in(sel, vil) ||
		    (double)able >= r->cfg->report_alarm * (double)vil->n_endpoints)
			continue;
		json_array_append_new(below, json_pack("{s:I, s:s, s:s, s:i, s:i}", "code",
				      (json_int_t)vil->code, "town", z->towns[vil->town].name,
				      "name", vil->name, "able", (json_int_t)able, "endpoints",
				      (json_int_t)vil->n_endpoints));
	}
	o = json_pack("{s:i, s:i, s:f, s:o, s:o, s:o, s:o}", "period_s",
		      (json_int_t)r->cfg->report_period_s, "missed",
		      (json_int_t)r->cfg->report_missed, "village_alarm", r->cfg->report_alarm,
		      "counts", counts, "rejected", rejected_json(ro), "villages_below",
		      below, "endpoints", list);
	return o;
}

/* Under r->lock: who of a broadcast's targeted endpoints played it, and who did not say so. */
static json_t *broadcast_json(const struct reports *r, const struct roster_broadcast *b)
{
	json_t *missing = json_array();

	for (size_t i = 0; i < r->z->n_endpoints; i++)
		if (b->marks[i] == ROSTER_TARGETED)
			json_array_append_new(missing, json_integer(
					      (json_int_t)r->z->endpoints[i].id));
	return json_pack("{s:i, s:b, s:b, s:i, s:i, s:o}", "broadcast", (json_int_t)b->id,
			 "on_air", !b->ended_ms, "final", b->counted, "played",
			 (json_int_t)b->played, "targeted", (json_int_t)b->targeted,
			 "not_reported", missing);
}

static unsigned get_table(struct reports *r, const char *target, const char *broadcast,
			  char **answer, char *err, size_t errlen)
{
	unsigned char *sel = NULL;
	struct zones_selection zs;
	json_t *o = NULL;
	uint64_t now = clock_ms(CLOCK_MONOTONIC);
	unsigned long id = 0;
	char *end;

	if (broadcast) {
		errno = 0;
		id = strtoul(broadcast, &end, 10);
		if (errno || end == broadcast || *end || id == 0 || id > UINT32_MAX)
			return refuse(err, errlen, 422, "broadcast must be a broadcast id, 1 or "
				      "more");
	}
	if (target) {
		if (zones_selection_init(&zs, r->z) != ZONES_OK)
			return refuse(err, errlen, 500, "out of memory");
		if (zones_resolve(r->z, target, &zs, err, errlen) != ZONES_OK) {
			zones_selection_free(&zs);
			return 422;
		}
		sel = calloc(r->z->n_endpoints ? r->z->n_endpoints : 1, 1);
		for (uint32_t i = 0; sel && i < r->z->n_endpoints; i++)
			sel[i] = zones_selection_has(r->z, &zs, i);
		zones_selection_free(&zs);
		if (!sel)
			return refuse(err, errlen, 500, "out of memory");
	}
	pthread_mutex_lock(&r->lock);
	if (broadcast) {
		const struct roster_broadcast *b = roster_broadcast(&r->roster, (uint32_t)id);

		o = b ? broadcast_json(r, b) : NULL;
		pthread_mutex_unlock(&r->lock);
		free(sel);
		if (!b)
			return refuse(err, errlen, 404, "broadcast %lu has not gone on air since "
				      "the head-end started, or is older than the last %d", id,
				      ROSTER_RING);
	} else {
		/* 2,350 JSON objects take milliseconds: they are built from a copy, so that
		 * neither reports nor the pacer (reports_on_air) wait for them. */
		struct roster copy = r->roster;

		copy.ep = malloc(r->z->n_endpoints * sizeof(*copy.ep) + 1);
		if (copy.ep)
			memcpy(copy.ep, r->roster.ep, r->z->n_endpoints * sizeof(*copy.ep));
		pthread_mutex_unlock(&r->lock);
		o = copy.ep ? table_json(r, &copy, sel, now) : NULL;
		free(copy.ep);
		free(sel);
	}
	*answer = o ? json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) : NULL;
	json_decref(o);
	return *answer ? 200 : refuse(err, errlen, 500, "out of memory");
}

/* POST /v1/endpoints/ID/key: the registry is rewritten and synced before the new key is used,
 * so an answer of 200 survives a crash; the head-end's copy of a demo secret for the endpoint,
 * which no longer matches, is removed. */
static unsigned post_key(struct reports *r, const char *url, const char *who, const char *body,
			 size_t len, char **answer, char *err, size_t errlen)
{
	const char *idtext = url + strlen(KEY_URL_HEAD), *hex, *key;
	unsigned char pk[PROTO_PUBLIC_KEY];
	struct roster_endpoint saved;
	char path[PATH_MAX + 64], idhex[9], *text;
	json_error_t je;
	json_t *o, *v;
	size_t got = 0, n;
	unsigned long long id;
	long i;
	int rc;

	errno = 0;
	id = strtoull(idtext, NULL, 10);
	if (strspn(idtext, "0123456789") != 15 || errno)
		return refuse(err, errlen, 404, "no such endpoint: an endpoint id has 15 digits");
	if (strcmp(idtext + 15, KEY_URL_TAIL))
		return refuse(err, errlen, 404, "no such resource: an endpoint's key is "
			      "POST /v1/endpoints/ID%s", KEY_URL_TAIL);
	i = zones_find_endpoint(r->z, id);
	if (i < 0)
		return refuse(err, errlen, 404, "endpoint %015llu is not in the directory", id);
	o = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return refuse(err, errlen, 400, "the body must be a JSON object "
			      "{\"public_key\": \"64 hex digits\"}");
	}
	json_object_foreach(o, key, v)
		if (strcmp(key, "public_key")) {
			refuse(err, errlen, 400, "unknown key \"%s\"", key);
			json_decref(o);
			return 400;
		}
	hex = json_string_value(json_object_get(o, "public_key"));
	if (!hex || strlen(hex) != 2 * PROTO_PUBLIC_KEY ||
	    sodium_hex2bin(pk, sizeof(pk), hex, strlen(hex), NULL, &got, NULL) ||
	    got != sizeof(pk) || !crypto_core_ed25519_is_valid_point(pk)) {
		json_decref(o);
		return refuse(err, errlen, 422, "\"public_key\" must be an Ed25519 public key in "
			      "64 hex digits (headendctl endpoint-key makes one)");
	}
	json_decref(o);

	pthread_mutex_lock(&r->key_lock);
	pthread_mutex_lock(&r->lock);
	/* Each endpoint signs with a key of its own, or one stolen device could speak for
	 * another. */
	for (size_t k = 0; k < r->z->n_endpoints; k++)
		if ((long)k != i && r->roster.ep[k].peer.keyed &&
		    !memcmp(r->roster.ep[k].peer.pk, pk, sizeof(pk))) {
			pthread_mutex_unlock(&r->lock);
			pthread_mutex_unlock(&r->key_lock);
			return refuse(err, errlen, 409, "this public key is endpoint %015llu's "
				      "already; every endpoint needs a key of its own",
				      (unsigned long long)r->z->endpoints[k].id);
		}
	saved = r->roster.ep[i];
	roster_set_key(&r->roster, (uint32_t)i, pk);
	text = registry_text(r, &n);
	r->roster.ep[i] = saved;	/* not in force until it is on disk */
	pthread_mutex_unlock(&r->lock);
	rc = text ? state_write(r->cfg->state_dir, REPORTS_REGISTRY, text, n) : -1;
	free(text);
	if (!rc) {
		pthread_mutex_lock(&r->lock);
		roster_set_key(&r->roster, (uint32_t)i, pk);
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&r->key_lock);
	if (rc)
		return refuse(err, errlen, 500, "cannot write %s/%s: %s; the old key stays",
			      r->cfg->state_dir, REPORTS_REGISTRY, strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/%015llu.key", r->cfg->state_dir, REPORTS_KEY_DIR, id);
	if (unlink(path) && errno != ENOENT)
		log_warn("reports: cannot remove %s, the demo key it replaces: %s", path,
			 strerror(errno));
	snprintf(idhex, sizeof(idhex), "%08" PRIx32, proto_key_id(pk));
	log_info("http %s POST %s: endpoint %015llu reports with key %s from now on; reports "
		 "signed otherwise are rejected", who, url, id, idhex);
	o = json_pack("{s:I, s:s}", "endpoint", (json_int_t)id, "key_id", idhex);
	*answer = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return *answer ? 200 : refuse(err, errlen, 500, "out of memory");
}

int reports_owns(const char *url)
{
	return !strcmp(url, "/v1/endpoints") || !strncmp(url, KEY_URL_HEAD, strlen(KEY_URL_HEAD));
}

unsigned reports_handle(struct reports *r, const char *method, const char *url,
			const char *target, const char *broadcast, const char *who,
			const char *body, size_t len, char **answer, char *err, size_t errlen)
{
	*answer = NULL;
	if (!r)
		return refuse(err, errlen, 503, "status reports are not running");
	if (!strcmp(url, "/v1/endpoints")) {
		if (strcmp(method, "GET") && strcmp(method, "HEAD"))
			return refuse(err, errlen, 405, "use GET for /v1/endpoints");
		return get_table(r, target, broadcast, answer, err, errlen);
	}
	if (strcmp(method, "POST"))
		return refuse(err, errlen, 405, "use POST for /v1/endpoints/ID/key");
	return post_key(r, url, who, body, len, answer, err, errlen);
}

static void annotate(struct reports *r, json_t *list)
{
	size_t k;
	json_t *item;

	json_array_foreach(list, k, item) {
		json_int_t id = json_integer_value(json_object_get(item, "broadcast"));
		const struct roster_broadcast *b = id > 0 && id <= UINT32_MAX ?
			roster_broadcast(&r->roster, (uint32_t)id) : NULL;

		if (b)
			json_object_set_new(item, "reports", json_pack("{s:i, s:i, s:b}",
					    "played", (json_int_t)b->played, "targeted",
					    (json_int_t)b->targeted, "final", b->counted));
	}
}

void reports_annotate(struct reports *r, json_t *status)
{
	if (!r || !status)
		return;
	pthread_mutex_lock(&r->lock);
	annotate(r, json_object_get(status, "playing"));
	annotate(r, json_object_get(status, "recent"));
	pthread_mutex_unlock(&r->lock);
}
