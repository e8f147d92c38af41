/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Queue, rendering and pacing of broadcasts. One mutex guards the job list; the render thread
 * fills a job's frames while the pacer already sends the first ones. Sockets and packets only
 * here; what a bulletin means is bulletin.c's. */
#include "headend/engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <opus/opus.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "headend/log.h"
#include "headend/state.h"
#include "proto/proto.h"
#include "tts/tts.h"

#define GROUPS_MAX 128
#define START_EVERY 50		/* ticks between repeated START packets: one a second */
#define END_COPIES 3		/* END is sent on this many consecutive ticks */
#define KEEPALIVE_S 10
#define RECENT_MAX 32

enum phase { PHASE_LEAD, PHASE_TONE, PHASE_TEXT, PHASE_GAP, PHASE_END, PHASE_DONE };

struct job {
	uint32_t id;
	struct bulletin b;
	struct in_addr groups[GROUPS_MAX];
	size_t n_groups;

	/* Opus frames back to back; frame i ends at frame_end[i]. Appended by the renderer. */
	unsigned char *audio;
	size_t audio_len, audio_cap;
	uint32_t *frame_end;
	size_t n_frames, frames_cap, tone_frames;
	enum { RENDER_WAIT, RENDER_BUSY, RENDER_DONE, RENDER_FAILED } render;

	int playing;
	enum phase phase;
	size_t pos, pass, tick;	/* position within the phase, play number, ticks on air */
	uint16_t seq;
	uint32_t ts, sent;
	size_t underruns;
	struct timespec accepted, first_packet;
	uint64_t started_ms;

	struct job *next;
};

struct record {			/* what is kept of a finished bulletin */
	uint32_t id;
	char client_id[BULLETIN_CLIENT_ID_MAX + 1];
};

struct engine {
	const struct headend_config *cfg;
	const struct zones *z;
	struct tts *tts;
	int sock;
	struct sockaddr_in district_group;
	unsigned char silence[64];
	size_t silence_len;

	pthread_mutex_t lock, submit_lock;
	pthread_cond_t wake_pacer, wake_render;
	pthread_t pacer, render;
	int stop;
	struct job *jobs;	/* in order of acceptance */
	uint32_t *busy;		/* per village: id of the broadcast on air there, or 0 */
	unsigned char *claimed;	/* per village, scratch for start_ready */
	struct record *records;
	size_t n_records, cap_records;
	json_t *recent;		/* finished broadcasts, newest last */
};

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void job_free(struct job *j)
{
	bulletin_free(&j->b);
	free(j->audio);
	free(j->frame_end);
	free(j);
}

/* Rendering: runs on its own thread so that synthesis never delays a packet. */

struct render_ctx {
	struct engine *e;
	struct job *j;
};

static int grow(void **buf, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 256;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n * size);
	if (!p)
		return -1;
	*buf = p;
	*cap = n;
	return 0;
}

static int append_frame(void *arg, const unsigned char *opus, size_t len)
{
	struct render_ctx *ctx = arg;
	struct job *j = ctx->j;
	int rc = -1;

	pthread_mutex_lock(&ctx->e->lock);
	if (ctx->e->stop)
		goto out;
	if (grow((void **)&j->audio, &j->audio_cap, j->audio_len + len, 1) ||
	    grow((void **)&j->frame_end, &j->frames_cap, j->n_frames + 1, sizeof(uint32_t)))
		goto out;
	memcpy(j->audio + j->audio_len, opus, len);
	j->audio_len += len;
	j->frame_end[j->n_frames++] = (uint32_t)j->audio_len;
	rc = 0;
out:
	pthread_mutex_unlock(&ctx->e->lock);
	return rc;
}

static enum tts_tone tone_for(const struct bulletin *b)
{
	static const enum tts_tone tones[] = {
		[PROTO_COLOUR_WHITE] = TTS_TONE_WHITE, [PROTO_COLOUR_BLUE] = TTS_TONE_BLUE,
		[PROTO_COLOUR_YELLOW] = TTS_TONE_YELLOW, [PROTO_COLOUR_ORANGE] = TTS_TONE_ORANGE,
		[PROTO_COLOUR_RED] = TTS_TONE_RED,
	};

	if (b->kind != PROTO_KIND_WARNING || b->colour == PROTO_COLOUR_NONE)
		return TTS_TONE_NONE;
	return tones[b->colour];
}

static void render_job(struct engine *e, struct job *j)
{
	struct render_ctx ctx = { e, j };
	struct tts_sink sink = { .on_frame = append_frame, .arg = &ctx };
	enum tts_tone tone = tone_for(&j->b);
	enum tts_result r = TTS_OK;
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (tone != TTS_TONE_NONE)
		r = tts_render_tone(e->tts, tone, &sink);
	pthread_mutex_lock(&e->lock);
	j->tone_frames = j->n_frames;
	pthread_mutex_unlock(&e->lock);
	if (r == TTS_OK)
		r = tts_render(e->tts, j->b.text, &sink);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	pthread_mutex_lock(&e->lock);
	j->render = r == TTS_OK ? RENDER_DONE : RENDER_FAILED;
	pthread_mutex_unlock(&e->lock);
	if (r != TTS_OK && r != TTS_ERR_ABORTED)
		log_error("bulletin %u: render failed: %s", j->id, tts_strerror(r));
	else if (r == TTS_OK)
		log_info("bulletin %u: rendered %zu frames (%.1f s of audio) in %.0f ms", j->id,
			 j->n_frames, j->n_frames * 0.02, elapsed_ms(&t0, &t1));
}

static void *render_main(void *arg)
{
	struct engine *e = arg;

	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		struct job *j;

		for (j = e->jobs; j && j->render != RENDER_WAIT; j = j->next)
			;
		if (!j) {
			pthread_cond_wait(&e->wake_render, &e->lock);
			continue;
		}
		j->render = RENDER_BUSY;
		pthread_mutex_unlock(&e->lock);
		render_job(e, j);
		pthread_mutex_lock(&e->lock);
		pthread_cond_signal(&e->wake_pacer);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* Pacing: one thread, one tick every 20 ms (shorter when cfg->pace > 1), every job on air
 * advancing one frame per tick. */

static void send_groups(struct engine *e, struct job *j, const unsigned char *buf, size_t len)
{
	for (size_t g = 0; g < j->n_groups; g++) {
		struct sockaddr_in to = e->district_group;

		to.sin_addr = j->groups[g];
		if (sendto(e->sock, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0 &&
		    j->tick < 2)
			log_warn("bulletin %u: send to %s: %s", j->id, inet_ntoa(to.sin_addr),
				 strerror(errno));
	}
}

static uint32_t planned_frames(const struct engine *e, const struct job *j)
{
	size_t lead = (size_t)e->cfg->lead_ms / 20, gap = (size_t)e->cfg->repeat_gap_ms / 20;
	size_t text = j->n_frames - j->tone_frames;

	if (j->render != RENDER_DONE)
		return 0;
	return (uint32_t)(lead + j->n_frames + (size_t)j->b.repeat * (gap + text));
}

static void send_control(struct engine *e, struct job *j, enum proto_type type)
{
	struct proto_control c = {
		.type = type, .broadcast = j->id, .sent_ms = wall_ms(), .kind = j->b.kind,
		.signal = j->b.signal, .colour = j->b.colour, .action = j->b.action,
		.n_targets = j->b.n_codes,
	};
	unsigned char buf[PROTO_MAX_PACKET];
	size_t len;

	c.seq = type == PROTO_START ? (uint16_t)(j->seq - j->sent) : (uint16_t)(j->seq - 1);
	c.timestamp = j->ts - j->sent * PROTO_FRAME_TICKS;
	c.frames = type == PROTO_START ? planned_frames(e, j) : j->sent;
	memcpy(c.targets, j->b.codes, sizeof(c.targets[0]) * c.n_targets);
	len = proto_control_pack(&c, buf, sizeof(buf));
	if (len)
		send_groups(e, j, buf, len);
}

static void send_frame(struct engine *e, struct job *j, const unsigned char *opus, size_t len)
{
	struct proto_rtp r = {
		.marker = j->sent == 0, .seq = j->seq, .timestamp = j->ts, .ssrc = j->id,
		.payload = opus, .payload_len = len,
	};
	unsigned char buf[PROTO_MAX_PACKET];
	size_t n = proto_rtp_pack(&r, buf, sizeof(buf));

	if (j->sent == 0)
		clock_gettime(CLOCK_MONOTONIC, &j->first_packet);
	send_groups(e, j, buf, n);
	j->seq++;
	j->ts += PROTO_FRAME_TICKS;
	j->sent++;
}

/* The frame this tick should carry: 1 with *frame set, 0 if the renderer is behind, -1 when
 * the audio is over. Phases move on here. */
static int next_frame(struct engine *e, struct job *j, const unsigned char **frame, size_t *len)
{
	size_t lead = (size_t)e->cfg->lead_ms / 20, gap = (size_t)e->cfg->repeat_gap_ms / 20;

	for (;;) {
		size_t i = (j->pass ? j->tone_frames : 0) + j->pos;

		switch (j->phase) {
		case PHASE_LEAD:
		case PHASE_GAP:
			if (j->pos < (j->phase == PHASE_LEAD ? lead : gap)) {
				j->pos++;
				*frame = e->silence;
				*len = e->silence_len;
				return 1;
			}
			j->pass += j->phase == PHASE_GAP;
			j->phase = PHASE_TEXT;
			j->pos = 0;
			continue;
		case PHASE_TEXT:
			if (i < j->n_frames) {
				*frame = j->audio + (i ? j->frame_end[i - 1] : 0);
				*len = j->frame_end[i] - (i ? j->frame_end[i - 1] : 0);
				j->pos++;
				return 1;
			}
			if (j->render == RENDER_WAIT || j->render == RENDER_BUSY)
				return 0;
			j->phase = j->render == RENDER_DONE && j->pass < (size_t)j->b.repeat ?
				   PHASE_GAP : PHASE_END;
			j->pos = 0;
			if (j->phase == PHASE_END)
				return -1;
			continue;
		default:
			return -1;
		}
	}
}

static void job_step(struct engine *e, struct job *j)
{
	const unsigned char *frame;
	size_t len;

	if (j->phase == PHASE_END) {
		send_control(e, j, PROTO_END);
		if (++j->pos == END_COPIES)
			j->phase = PHASE_DONE;
		j->tick++;
		return;
	}
	if (j->tick % START_EVERY == 0)
		send_control(e, j, PROTO_START);
	switch (next_frame(e, j, &frame, &len)) {
	case 1:
		send_frame(e, j, frame, len);
		break;
	case 0:
		j->underruns++;
		break;
	default:
		send_control(e, j, PROTO_END);
		j->pos = 1;
		break;
	}
	j->tick++;
}

static int village_of_job(const struct engine *e, const struct job *j, size_t v)
{
	if (j->b.sel.villages[v])
		return 1;
	for (size_t i = 0; i < j->b.sel.n_endpoints; i++)
		if (e->z->endpoints[j->b.sel.endpoints[i]].village == v)
			return 1;
	return 0;
}

static void claim_villages(struct engine *e, struct job *j, uint32_t id)
{
	for (size_t v = 0; v < e->z->n_villages; v++)
		if (village_of_job(e, j, v))
			e->busy[v] = id;
}

/* Queued jobs go on air in order of acceptance wherever their villages are free; a job never
 * overtakes an earlier one waiting for the same village. */
static void start_ready(struct engine *e)
{
	unsigned char *claimed = e->claimed;

	memset(claimed, 0, e->z->n_villages);
	for (struct job *j = e->jobs; j; j = j->next) {
		int free_here = 1;

		if (j->playing)
			continue;
		for (size_t v = 0; v < e->z->n_villages && free_here; v++)
			if (village_of_job(e, j, v) && (e->busy[v] || claimed[v]))
				free_here = 0;
		if (!free_here) {
			for (size_t v = 0; v < e->z->n_villages; v++)
				claimed[v] |= (unsigned char)village_of_job(e, j, v);
			continue;
		}
		j->playing = 1;
		j->started_ms = wall_ms();
		claim_villages(e, j, j->id);
	}
}

static void record_finished(struct engine *e, struct job *j, double seconds)
{
	json_t *r = json_pack("{s:i, s:s, s:s, s:i, s:f, s:i, s:f, s:s}", "id", (json_int_t)j->id,
			      "kind", proto_kind_name(j->b.kind), "targets", j->b.targets,
			      "endpoints", (json_int_t)j->b.endpoints, "seconds", seconds,
			      "frames", (json_int_t)j->sent, "first_packet_ms",
			      elapsed_ms(&j->accepted, &j->first_packet),
			      "result", j->render == RENDER_DONE ? "played" : "render failed");

	if (!r)
		return;
	if (j->b.kind == PROTO_KIND_WARNING)
		json_object_set_new(r, "warning", json_pack("{s:s, s:s, s:s}", "signal",
				    proto_signal_key(j->b.signal), "colour",
				    proto_colour_name(j->b.colour), "action",
				    proto_action_name(j->b.action)));
	json_array_append_new(e->recent, r);
	if (json_array_size(e->recent) > RECENT_MAX)
		json_array_remove(e->recent, 0);
}

static void finish_job(struct engine *e, struct job **link)
{
	struct job *j = *link;
	double seconds = j->sent * 0.02;

	claim_villages(e, j, 0);
	log_info("bulletin %u: %s to %s (%zu endpoints, %zu groups), %.1f s, %u frames, "
		 "first packet %.1f ms after accept%s", j->id, proto_kind_name(j->b.kind),
		 j->b.targets, j->b.endpoints, j->n_groups, seconds, j->sent,
		 elapsed_ms(&j->accepted, &j->first_packet),
		 j->render == RENDER_DONE ? "" : ", render failed");
	if (j->underruns)
		log_warn("bulletin %u: renderer fell behind the pacer %zu times", j->id,
			 j->underruns);
	record_finished(e, j, seconds);
	*link = j->next;
	job_free(j);
}

static void send_keepalive(struct engine *e)
{
	struct proto_control c = { .type = PROTO_KEEPALIVE, .sent_ms = wall_ms() };
	unsigned char buf[PROTO_CONTROL_HEADER];
	size_t len = proto_control_pack(&c, buf, sizeof(buf));

	if (len && sendto(e->sock, buf, len, 0, (struct sockaddr *)&e->district_group,
			  sizeof(e->district_group)) < 0)
		log_warn("keep-alive to %s: %s", inet_ntoa(e->district_group.sin_addr),
			 strerror(errno));
}

static void timespec_add(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

/* One tick over every job; returns how many are on air. */
static int pacer_tick(struct engine *e)
{
	struct job **link = &e->jobs;
	int on_air = 0;

	start_ready(e);
	while (*link) {
		struct job *j = *link;

		if (j->playing && j->phase == PHASE_DONE) {
			finish_job(e, link);
			start_ready(e);
			continue;
		}
		if (j->playing) {
			job_step(e, j);
			on_air++;
		}
		link = &j->next;
	}
	return on_air;
}

/* Sleep to the next absolute deadline; after a stall longer than a few ticks, start afresh
 * rather than burst the backlog out at once. */
static void pacer_sleep(struct engine *e, struct timespec *next, long period)
{
	struct timespec now;

	timespec_add(next, period);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (elapsed_ms(next, &now) > 5 * period / 1e6) {
		log_warn("pacer: %.1f ms behind, resynchronised", elapsed_ms(next, &now));
		*next = now;
	}
	pthread_mutex_unlock(&e->lock);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
		;
	pthread_mutex_lock(&e->lock);
}

static void *pacer_main(void *arg)
{
	struct engine *e = arg;
	long period = (long)(20e6 / e->cfg->pace);
	struct timespec next, keepalive;

	clock_gettime(CLOCK_MONOTONIC, &next);
	keepalive = next;
	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		if (elapsed_ms(&keepalive, &next) >= 0) {
			send_keepalive(e);
			keepalive = next;
			keepalive.tv_sec += KEEPALIVE_S;
		}
		if (pacer_tick(e)) {
			pacer_sleep(e, &next, period);
			continue;
		}
		pthread_cond_timedwait(&e->wake_pacer, &e->lock, &keepalive);
		clock_gettime(CLOCK_MONOTONIC, &next);
	}
	for (struct job *j = e->jobs; j; j = j->next)
		if (j->playing && j->sent)
			send_control(e, j, PROTO_END);
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static int find_client(const struct engine *e, const char *client_id, uint32_t *id)
{
	for (size_t i = 0; *client_id && i < e->n_records; i++)
		if (!strcmp(e->records[i].client_id, client_id)) {
			*id = e->records[i].id;
			return 1;
		}
	return 0;
}

static int remember(struct engine *e, uint32_t id, const char *client_id)
{
	if (!*client_id)
		return 0;
	if (grow((void **)&e->records, &e->cap_records, e->n_records + 1, sizeof(*e->records)))
		return -1;
	e->records[e->n_records].id = id;
	memcpy(e->records[e->n_records].client_id, client_id, strlen(client_id) + 1);
	e->n_records++;
	return 0;
}

/* Ids and client ids are taken under their own lock: the fsync of the id counter must not
 * hold up the pacer. */
static int take_id(struct engine *e, const struct bulletin *b, uint32_t *id, char *err,
		   size_t errlen)
{
	int rc = 1;

	pthread_mutex_lock(&e->submit_lock);
	if (find_client(e, b->client_id, id))
		goto out;
	rc = -1;
	if (state_next_id(e->cfg->state_dir, id) || remember(e, *id, b->client_id)) {
		snprintf(err, errlen, "cannot take a bulletin id in %s: %s", e->cfg->state_dir,
			 strerror(errno));
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&e->submit_lock);
	return rc;
}

int engine_submit(struct engine *e, struct bulletin *b, uint32_t *id, char *err, size_t errlen)
{
	struct job *j = calloc(1, sizeof(*j)), **tail;
	uint32_t r[2];
	int rc;

	if (!j) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = take_id(e, b, id, err, errlen);
	if (rc) {
		free(j);
		return rc;
	}
	j->id = *id;
	j->b = *b;
	memset(b, 0, sizeof(*b));
	j->n_groups = zones_groups(e->z, &j->b.sel, e->cfg->mc_base, j->groups, GROUPS_MAX);
	if (j->n_groups > GROUPS_MAX)
		j->n_groups = GROUPS_MAX;

	/* RFC 3550 asks for unpredictable initial sequence numbers and timestamps. */
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		r[0] = r[1] = j->id;
	j->seq = (uint16_t)r[0];
	j->ts = r[1];
	clock_gettime(CLOCK_MONOTONIC, &j->accepted);

	pthread_mutex_lock(&e->lock);
	for (tail = &e->jobs; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	pthread_cond_signal(&e->wake_render);
	pthread_cond_signal(&e->wake_pacer);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static json_t *job_json(const struct engine *e, const struct job *j)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:i, s:i}", "id", (json_int_t)j->id, "kind",
			      proto_kind_name(j->b.kind), "targets", j->b.targets, "endpoints",
			      (json_int_t)j->b.endpoints, "groups", (json_int_t)j->n_groups);

	if (o && j->b.kind == PROTO_KIND_WARNING)
		json_object_set_new(o, "warning", json_pack("{s:s, s:s, s:s}", "signal",
				    proto_signal_key(j->b.signal), "colour",
				    proto_colour_name(j->b.colour), "action",
				    proto_action_name(j->b.action)));
	if (o && j->playing) {
		json_object_set_new(o, "seconds_sent", json_real(j->sent * 0.02));
		json_object_set_new(o, "seconds_planned", json_real(planned_frames(e, j) * 0.02));
		json_object_set_new(o, "play", json_integer((json_int_t)j->pass + 1));
		json_object_set_new(o, "plays", json_integer(j->b.repeat + 1));
	}
	return o;
}

char *engine_status_json(struct engine *e)
{
	json_t *root = json_object(), *playing = json_array(), *queued = json_array();
	char *text;

	pthread_mutex_lock(&e->lock);
	for (const struct job *j = e->jobs; j; j = j->next)
		json_array_append_new(j->playing ? playing : queued, job_json(e, j));
	json_object_set_new(root, "playing", playing);
	json_object_set_new(root, "queued", queued);
	json_object_set_new(root, "recent", json_deep_copy(e->recent));
	pthread_mutex_unlock(&e->lock);
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	return text;
}

static int open_socket(struct engine *e, char *err, size_t errlen)
{
	const struct headend_config *c = e->cfg;
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = c->mc_interface };
	unsigned char ttl = (unsigned char)c->mc_ttl, loop = 1;

	e->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e->sock < 0 ||
	    setsockopt(e->sock, IPPROTO_IP, IP_MULTICAST_IF, &c->mc_interface,
		       sizeof(c->mc_interface)) ||
	    setsockopt(e->sock, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) ||
	    setsockopt(e->sock, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) ||
	    bind(e->sock, (struct sockaddr *)&local, sizeof(local))) {
		snprintf(err, errlen, "multicast socket on interface %s: %s",
			 inet_ntoa(c->mc_interface), strerror(errno));
		return -1;
	}
	e->district_group.sin_family = AF_INET;
	e->district_group.sin_port = htons((uint16_t)c->mc_port);
	e->district_group.sin_addr.s_addr = htonl(ntohl(c->mc_base.s_addr) + 1);
	return 0;
}

/* One encoded frame of digital silence, sent in the lead-in and between plays. */
static int make_silence(struct engine *e, char *err, size_t errlen)
{
	opus_int16 zero[TTS_FRAME_SAMPLES] = { 0 };
	int oe, n;
	OpusEncoder *enc = opus_encoder_create(TTS_RATE, 1, OPUS_APPLICATION_VOIP, &oe);

	if (!enc) {
		snprintf(err, errlen, "opus encoder: %s", opus_strerror(oe));
		return -1;
	}
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(e->cfg->tts.bitrate));
	opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
	n = opus_encode(enc, zero, TTS_FRAME_SAMPLES, e->silence, sizeof(e->silence));
	opus_encoder_destroy(enc);
	if (n < 0) {
		snprintf(err, errlen, "opus encoder: %s", opus_strerror(n));
		return -1;
	}
	e->silence_len = (size_t)n;
	return 0;
}

static int start_threads(struct engine *e, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->wake_pacer, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&e->wake_render, NULL);
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->submit_lock, NULL);
	rc = pthread_create(&e->render, NULL, render_main, e);
	if (!rc && (rc = pthread_create(&e->pacer, NULL, pacer_main, e))) {
		pthread_mutex_lock(&e->lock);
		e->stop = 1;
		pthread_cond_signal(&e->wake_render);
		pthread_mutex_unlock(&e->lock);
		pthread_join(e->render, NULL);
	}
	if (rc)
		snprintf(err, errlen, "cannot start threads: %s", strerror(rc));
	return rc ? -1 : 0;
}

int engine_open(struct engine **out, const struct headend_config *cfg, const struct zones *z,
		char *err, size_t errlen)
{
	struct engine *e = calloc(1, sizeof(*e));
	enum tts_result r;

	*out = NULL;
	if (!e)
		return snprintf(err, errlen, "out of memory"), -1;
	e->cfg = cfg;
	e->z = z;
	e->sock = -1;
	e->busy = calloc(z->n_villages, sizeof(*e->busy));
	e->claimed = calloc(z->n_villages, 1);
	e->recent = json_array();
	if (!e->busy || !e->claimed || !e->recent) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((r = tts_open(&e->tts, &cfg->tts)) != TTS_OK) {
		snprintf(err, errlen, "speech engine (voice %s): %s", cfg->tts.voice,
			 tts_strerror(r));
		goto fail;
	}
	if (open_socket(e, err, errlen) || make_silence(e, err, errlen) ||
	    start_threads(e, err, errlen))
		goto fail;
	*out = e;
	return 0;
fail:
	if (e->tts)
		tts_close(e->tts);
	if (e->sock >= 0)
		close(e->sock);
	json_decref(e->recent);
	free(e->busy);
	free(e->claimed);
	free(e);
	return -1;
}

void engine_close(struct engine *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stop = 1;
	pthread_cond_signal(&e->wake_render);
	pthread_cond_signal(&e->wake_pacer);
	pthread_mutex_unlock(&e->lock);
	pthread_join(e->render, NULL);
	pthread_join(e->pacer, NULL);
	while (e->jobs) {
		struct job *j = e->jobs;

		e->jobs = j->next;
		job_free(j);
	}
	tts_close(e->tts);
	close(e->sock);
	json_decref(e->recent);
	free(e->records);
	free(e->busy);
	free(e->claimed);
	free(e);
}
