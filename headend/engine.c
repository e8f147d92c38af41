/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Queue, rendering and pacing of broadcasts. One mutex guards the job list; the render thread
 * fills a job's frames while the pacer already sends the first ones, and the pacer carries out
 * the arbitration plan of arbiter.c on every tick. Accepted bulletins are kept by store.c before
 * they are queued. Sockets and packets only here; what a bulletin means is bulletin.c's. */
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

#include "headend/arbiter.h"
#include "headend/clock.h"
#include "headend/copies.h"
#include "headend/keys.h"
#include "headend/live.h"
#include "headend/log.h"
#include "headend/lookahead.h"
#include "headend/state.h"
#include "headend/store.h"
#include "headend/warnings.h"
#include "proto/proto.h"
#include "tts/tts.h"

#define GROUPS_MAX 128
#define START_EVERY 50		/* ticks between repeated START packets: one a second */
#define END_COPIES 3		/* END is sent on this many consecutive ticks */
#define KEEPALIVE_S 10
#define RECENT_MAX 32
#define LIVE_BACKLOG_MAX 25	/* frames captured and not yet sent: more are dropped at once */
#define LIVE_WINDOW 50		/* ticks over which a standing backlog is measured */

enum phase { PHASE_LEAD, PHASE_TONE, PHASE_TEXT, PHASE_GAP, PHASE_END, PHASE_DONE };

struct job {
	uint32_t id;		/* the broadcast's on the wire (RTP SSRC); 0 until one is taken */
	uint32_t bulletin;	/* the bulletin's, as the API answered it */
	struct bulletin b;
	struct arbiter_item item;
	unsigned char *villages;	/* n_villages flags: where it plays or is to play */
	time_t accepted_at, expires;	/* wall clock; not on air by expires: dropped */
	char slot[16];		/* a daily slot's "17:00", else "" */
	int wait;		/* a slot's seconds of waiting for its villages */
	int gap_ms;		/* silence between plays */
	size_t resume_pass, resume_pos;	/* where the text starts after the lead-in */
	int dropped;		/* expired: to be finished without playing */
	const char *result;	/* how it ended when not simply played */
	uint32_t blocked_by;	/* bulletin on air in its way when it last had to wait */
	struct in_addr groups[GROUPS_MAX];
	size_t n_groups;

	/* Opus frames back to back; frame i ends at frame_end[i]. Appended by the renderer. */
	unsigned char *audio;
	size_t audio_len, audio_cap;
	uint32_t *frame_end;
	size_t n_frames, frames_cap, tone_frames;
	enum { RENDER_WAIT, RENDER_BUSY, RENDER_DONE, RENDER_FAILED, RENDER_LIVE } render;

	/* A live announcement (RENDER_LIVE): its frames come from the capture thread, not the
	 * renderer. audio keeps the frames sent, in order, for the archive. */
	struct live *live;	/* the engine's; NULL for a bulletin */
	size_t cursor;		/* the next captured frame to build */
	size_t backlog_min;	/* fewest frames waiting to be built over this window */
	int64_t stamp[LOOKAHEAD_MAX];	/* capture time of the packets built, by count */

	int playing;
	enum phase phase;
	size_t pos, pass, tick;	/* position within the phase, play number, ticks on air */
	uint16_t seq;
	uint32_t ts, sent;
	size_t underruns;
	struct timespec starved_since;	/* renderer behind since; 0 when it is not */
	struct timespec accepted, first_packet;
	uint64_t started_ms;
	struct lookahead *ahead;	/* packets built before their tick, for MANIFESTs */
	struct copies *copies;		/* second copies owed (multicast.second_copy) */

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
	long *owner, *claim;	/* per village, scratch of the arbitration plan */
	unsigned char *shared;	/* per village, scratch of a preemption */
	struct arbiter_entry *entries;
	struct job **planned;	/* the job of each entry */
	struct arbiter_action *actions;
	size_t cap_entries, cap_actions;
	struct outcome *outcomes;	/* finished bulletins for the render thread to record */
	struct store *store;	/* accepted bulletins on disk */
	struct warnings *warnings;	/* guarded by submit_lock */
	json_t *notes;		/* slots skipped, bulletins expired: newest last */
	struct timespec alive;	/* the pacer's last round */
	struct record *records;
	size_t n_records, cap_records;
	json_t *recent;		/* finished broadcasts, newest last */
	struct keys *keys;	/* signs every control packet */
	struct live *live;	/* the last live announcement, until the next one starts */
	uint32_t live_bulletin;
	char live_targets[BULLETIN_TARGETS_MAX];
	uint64_t live_started_ms, live_ended_ms;	/* wall clock, for people */
	double live_seconds;	/* how long it lasted, once it has ended */
	uint64_t live_start_mono, live_deadline_mono;	/* monotonic ms: start, live.max_s on */
	const char *live_end;	/* why it ended or ends: "stopped", "max duration", ... */
	engine_played_fn on_played;	/* the archive, told of every broadcast that ends */
	void *on_played_arg;
	engine_air_fn on_air;		/* endpoint reports, told what goes on air and ends */
	void *on_air_arg;
};

static int flush_outcomes(struct engine *e);
static int give_ids(struct engine *e);

static double elapsed_ms(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1e3 + (b->tv_nsec - a->tv_nsec) / 1e6;
}

static void job_free(struct job *j)
{
	bulletin_free(&j->b);
	free(j->villages);
	lookahead_free(j->ahead);
	copies_free(j->copies);
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

static enum tts_tone tone_for(const struct signals *sig, const struct bulletin *b)
{
	static const enum tts_tone tones[] = {
		[PROTO_COLOUR_WHITE] = TTS_TONE_WHITE, [PROTO_COLOUR_BLUE] = TTS_TONE_BLUE,
		[PROTO_COLOUR_YELLOW] = TTS_TONE_YELLOW, [PROTO_COLOUR_ORANGE] = TTS_TONE_ORANGE,
		[PROTO_COLOUR_RED] = TTS_TONE_RED,
	};

	if (b->kind != PROTO_KIND_WARNING || b->colour == PROTO_COLOUR_NONE ||
	    !sig->colours[b->colour].tone)
		return TTS_TONE_NONE;
	return tones[sig->colours[b->colour].tone];
}

static void render_job(struct engine *e, struct job *j)
{
	struct render_ctx ctx = { e, j };
	struct tts_sink sink = { .on_frame = append_frame, .arg = &ctx };
	enum tts_tone tone = tone_for(&e->cfg->signals, &j->b);
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
		log_error("bulletin %u: render failed: %s", j->bulletin, tts_strerror(r));
	else if (r == TTS_OK)
		log_info("bulletin %u: rendered %zu frames (%.1f s of audio) in %.0f ms",
			 j->bulletin, j->n_frames, j->n_frames * 0.02, elapsed_ms(&t0, &t1));
}

/* What to render next: a job on air first (it sends silence until its frames come), then the
 * highest priority, then the earliest. */
static struct job *next_to_render(struct engine *e)
{
	struct job *best = NULL;

	for (struct job *j = e->jobs; j; j = j->next) {
		if (j->render != RENDER_WAIT || j->dropped)
			continue;
		if (!best || (j->playing && !best->playing) ||
		    (j->playing == best->playing &&
		     arbiter_priority(&j->item) > arbiter_priority(&best->item)))
			best = j;
	}
	return best;
}

static void *render_main(void *arg)
{
	struct engine *e = arg;

	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		struct job *j;

		if (flush_outcomes(e) || give_ids(e))
			continue;
		j = next_to_render(e);
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
	size_t lead = (size_t)e->cfg->lead_ms / 20, gap = (size_t)j->gap_ms / 20;
	size_t text = j->n_frames - j->tone_frames;
	size_t skipped = j->resume_pass ?
			 j->n_frames + (j->resume_pass - 1) * (gap + text) + gap : 0;

	if (j->render != RENDER_DONE)
		return 0;
	return (uint32_t)(lead + j->n_frames + (size_t)j->b.repeat * (gap + text) - skipped -
			  j->resume_pos);
}

/* multicast.second_copy and control_copies (headend/copies.c): the RTP packet sent that
 * many ticks ago goes out once more, so that a lost packet or a short outage costs no audio
 * at an endpoint that buffers that long; START and MANIFEST go out again, sealed afresh.
 * Without memory, no copies. */
static struct copies *job_copies(struct engine *e, struct job *j)
{
	if (e->cfg->second_copy < 0 && !e->cfg->control_copies)
		return NULL;
	if (!j->copies)
		j->copies = copies_new(e->cfg->second_copy, e->cfg->control_copies);
	return j->copies;
}

/* pkt just sent, or NULL after the last one: the copy due now, if any, goes out. */
static void send_copy(struct engine *e, struct job *j, const unsigned char *pkt, size_t len)
{
	struct copies *c = job_copies(e, j);
	const unsigned char *again = NULL;
	size_t n;

	if (c)
		again = pkt ? copies_push(c, pkt, len, &n) : copies_flush(c, &n);
	if (again)
		send_groups(e, j, again, n);
}

static void owe_control(struct engine *e, struct job *j, const struct proto_control *pc)
{
	struct copies *c = job_copies(e, j);

	if (c)
		copies_control(c, pc, j->tick);
}

static void send_owed(struct engine *e, struct job *j)
{
	struct proto_control c;
	unsigned char buf[PROTO_MAX_PACKET];
	size_t len;

	while (j->copies && copies_control_due(j->copies, j->tick, &c)) {
		c.sent_ms = clock_wall_ms();
		len = keys_seal(e->keys, &c, buf, sizeof(buf));
		if (len)
			send_groups(e, j, buf, len);
	}
}

static void send_control(struct engine *e, struct job *j, enum proto_type type)
{
	struct proto_control c = {
		.type = type, .broadcast = j->id, .sent_ms = clock_wall_ms(), .kind = j->b.kind,
		.signal = j->b.signal, .colour = j->b.colour, .action = j->b.action,
		.n_targets = j->b.n_codes,
	};
	unsigned char buf[PROTO_MAX_PACKET];
	size_t len;

	c.seq = type == PROTO_START ? (uint16_t)(j->seq - j->sent) : (uint16_t)(j->seq - 1);
	c.timestamp = j->ts - j->sent * PROTO_FRAME_TICKS;
	c.frames = type == PROTO_START ? planned_frames(e, j) : j->sent;
	memcpy(c.targets, j->b.codes, sizeof(c.targets[0]) * c.n_targets);
	len = keys_seal(e->keys, &c, buf, sizeof(buf));
	if (len)
		send_groups(e, j, buf, len);
	if (len && type == PROTO_START)
		owe_control(e, j, &c);
}

/* A live packet just sent: its capture-to-send latency counted, its frame kept for the
 * archive (what went out, in order, silence of ours included). */
static void keep_live(struct engine *e, struct job *j, const unsigned char *pkt, size_t len)
{
	int64_t stamp = j->stamp[j->sent % LOOKAHEAD_MAX];

	live_sent(j->live, stamp < 0 ? -1.0 : (double)(clock_mono_ns() - stamp) / 1e6);
	if (grow((void **)&j->audio, &j->audio_cap, j->audio_len + len, 1) ||
	    grow((void **)&j->frame_end, &j->frames_cap, j->n_frames + 1, sizeof(uint32_t))) {
		if (e->on_played)
			log_error("bulletin %u: out of memory; a live frame is not archived",
				  j->bulletin);
		return;
	}
	memcpy(j->audio + j->audio_len, pkt + PROTO_RTP_HEADER, len - PROTO_RTP_HEADER);
	j->audio_len += len - PROTO_RTP_HEADER;
	j->frame_end[j->n_frames++] = (uint32_t)j->audio_len;
}

/* The packet built for this tick, if any; seq, timestamp and sent move on. */
static int send_frame(struct engine *e, struct job *j)
{
	size_t len;
	const unsigned char *pkt = lookahead_peek(j->ahead, &len);

	if (!pkt)
		return 0;
	if (j->sent == 0)
		clock_gettime(CLOCK_MONOTONIC, &j->first_packet);
	send_groups(e, j, pkt, len);
	if (j->live)
		keep_live(e, j, pkt, len);
	send_copy(e, j, pkt, len);
	lookahead_pop(j->ahead);
	j->seq++;
	j->ts += PROTO_FRAME_TICKS;
	j->sent++;
	return 1;
}

/* The frame this tick should carry: 1 with *frame set, 0 if the renderer is behind, -1 when
 * the audio is over. Phases move on here. */
static int next_frame(struct engine *e, struct job *j, const unsigned char **frame, size_t *len)
{
	size_t lead = (size_t)e->cfg->lead_ms / 20, gap = (size_t)j->gap_ms / 20;

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
			j->pos = j->phase == PHASE_LEAD ? j->resume_pos : 0;
			j->pass = j->phase == PHASE_LEAD ? j->resume_pass : j->pass + 1;
			j->phase = PHASE_TEXT;
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

/* The renderer is behind, busy with a long bulletin. A short wait only delays the audio; but
 * after a second with nothing on the wire, one frame of encoded silence goes out (and one
 * more each second after), or endpoints would take the pause for the end of the broadcast. */
static int starved_long(struct job *j)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!j->starved_since.tv_sec) {
		j->starved_since = now;
		return 0;
	}
	if (elapsed_ms(&j->starved_since, &now) < 1000)
		return 0;
	j->starved_since = now;
	return 1;
}

/* One packet of a live announcement built, its capture time noted (-1: silence of ours). */
static void push_live(struct job *j, const unsigned char *frame, size_t len, int64_t stamp)
{
	uint32_t k = (uint32_t)lookahead_count(j->ahead);
	struct proto_rtp r = {
		.marker = j->sent + k == 0, .seq = (uint16_t)(j->seq + k),
		.timestamp = j->ts + k * PROTO_FRAME_TICKS, .ssrc = j->id,
		.payload = frame, .payload_len = len,
	};

	if (lookahead_push(j->ahead, &r))
		log_warn("bulletin %u: a live frame of %zu bytes is too long for RTP, dropped",
			 j->id, len);
	else
		j->stamp[(j->sent + k) % LOOKAHEAD_MAX] = stamp;
}

/* Frames captured and not yet built beyond what jitter explains are a clock running ahead of
 * the pacer's (or a stall): the oldest go, counted, so that latency stays bounded. A backlog
 * that never fell to zero over a whole window is standing, not jitter. */
static void bound_live(struct job *j, size_t captured)
{
	size_t backlog = captured > j->cursor ? captured - j->cursor : 0, drop = 0;

	if (backlog > LIVE_BACKLOG_MAX)
		drop = backlog;
	else if (j->tick % LIVE_WINDOW == 0 && j->backlog_min != (size_t)-1)
		drop = j->backlog_min < backlog ? j->backlog_min : backlog;
	if (j->tick % LIVE_WINDOW == 0)
		j->backlog_min = (size_t)-1;
	if (drop) {
		j->cursor += drop;
		live_dropped(j->live, drop);
	}
}

/* A live announcement: the lead-in, then captured frames until live.buffer_frames are built
 * ahead of their tick, so that a MANIFEST lists them before they go out. */
static void fill_live(struct engine *e, struct job *j)
{
	size_t lead = (size_t)e->cfg->lead_ms / 20, want = (size_t)e->cfg->live_buffer;
	size_t captured = live_count(j->live), len;
	unsigned char frame[PROTO_MAX_OPUS];
	int64_t stamp;
	int rc = 1;

	while (j->phase == PHASE_LEAD && lookahead_count(j->ahead) < want) {
		if (j->pos < lead) {
			push_live(j, e->silence, e->silence_len, -1);
			j->pos++;
			continue;
		}
		/* Speech starts with the newest frame: what was said before is not sent. */
		j->phase = PHASE_TEXT;
		j->cursor = captured ? captured - 1 : 0;
		j->backlog_min = (size_t)-1;
	}
	if (j->phase != PHASE_TEXT)
		return;
	bound_live(j, captured);
	while (lookahead_count(j->ahead) < want &&
	       (rc = live_frame(j->live, j->cursor, frame, &len, &stamp)) == 1) {
		push_live(j, frame, len, stamp);
		j->cursor++;
	}
	if ((captured > j->cursor ? captured - j->cursor : 0) < j->backlog_min)
		j->backlog_min = captured > j->cursor ? captured - j->cursor : 0;
	if (rc < 0) {
		j->phase = PHASE_END;
		j->pos = 0;
		return;
	}
	if (!lookahead_count(j->ahead)) {
		/* The capture is late for this tick: a frame of silence keeps the stream whole. */
		push_live(j, e->silence, e->silence_len, -1);
		live_inserted(j->live, 1);
	}
}

/* Build packets ahead of their ticks for as far as the renderer has frames, so that their
 * MANIFEST can precede them. */
static void fill_ahead(struct engine *e, struct job *j)
{
	const unsigned char *frame;
	size_t len;

	if (j->live) {
		fill_live(e, j);
		return;
	}
	while (j->phase != PHASE_END && !lookahead_full(j->ahead)) {
		uint32_t k = (uint32_t)lookahead_count(j->ahead);
		struct proto_rtp r = {
			.marker = j->sent + k == 0, .seq = (uint16_t)(j->seq + k),
			.timestamp = j->ts + k * PROTO_FRAME_TICKS, .ssrc = j->id,
		};

		switch (next_frame(e, j, &frame, &len)) {
		case 1:
			j->starved_since.tv_sec = 0;
			break;
		case 0:
			if (k > 0 || !starved_long(j))
				return;
			frame = e->silence;
			len = e->silence_len;
			j->underruns++;
			break;
		default:
			return;
		}
		r.payload = frame;
		r.payload_len = len;
		if (lookahead_push(j->ahead, &r))
			log_warn("bulletin %u: a frame of %zu bytes is too long for RTP, dropped",
				 j->id, len);
	}
}

static void send_manifest(struct engine *e, struct job *j)
{
	struct proto_control c = { .type = PROTO_MANIFEST };
	unsigned char buf[PROTO_MAX_PACKET];
	size_t len;

	if (!lookahead_manifest(j->ahead, &c))
		return;
	c.sent_ms = clock_wall_ms();
	len = keys_seal(e->keys, &c, buf, sizeof(buf));
	if (len)
		send_groups(e, j, buf, len);
	if (len)
		owe_control(e, j, &c);
}

/* Per tick: START once a second, a MANIFEST when due, then one RTP packet. END follows the
 * last packet built, on END_COPIES ticks in a row. */
static void job_step(struct engine *e, struct job *j)
{
	send_owed(e, j);
	if (j->phase == PHASE_END && j->pos > 0) {
		send_copy(e, j, NULL, 0);
		send_control(e, j, PROTO_END);
		if (++j->pos == END_COPIES)
			j->phase = PHASE_DONE;
		j->tick++;
		return;
	}
	if (!j->ahead && !(j->ahead = lookahead_new())) {
		log_error("bulletin %u: out of memory for its audio; ending it", j->id);
		j->phase = PHASE_END;
	}
	if (j->tick % START_EVERY == 0)
		send_control(e, j, PROTO_START);
	if (j->ahead) {
		fill_ahead(e, j);
		send_manifest(e, j);
	}
	if (j->ahead && send_frame(e, j)) {
		/* sent */
	} else if (j->phase == PHASE_END) {
		send_copy(e, j, NULL, 0);
		send_control(e, j, PROTO_END);
		j->pos = 1;
	} else {
		j->underruns++;
	}
	j->tick++;
}

/* Records: finished bulletins are moved to done/ by the render thread, so that no fsync ever
 * holds up the pacer. Until that happens a restart plays them again, which is the safe side. */

struct outcome {
	uint32_t bulletin;
	json_t *rec;
	struct outcome *next;
};

static json_t *iso_time(time_t t)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* Under e->lock. The status keeps the last RECENT_MAX of these. */
static void add_note(struct engine *e, json_t *note)
{
	if (!note)
		return;
	json_object_set_new(note, "at", iso_time(time(NULL)));
	json_array_append_new(e->notes, note);
	if (json_array_size(e->notes) > RECENT_MAX)
		json_array_remove(e->notes, 0);
}

static void note_job(struct engine *e, const struct job *j, const char *reason)
{
	json_t *n = json_pack("{s:i, s:s, s:s, s:s}", "bulletin", (json_int_t)j->bulletin, "kind",
			      proto_kind_name(j->item.kind), "targets", j->b.targets, "reason",
			      reason);

	if (n && *j->slot)
		json_object_set_new(n, "slot", json_string(j->slot));
	add_note(e, n);
}

void engine_note(struct engine *e, json_t *note)
{
	pthread_mutex_lock(&e->lock);
	add_note(e, note);
	pthread_mutex_unlock(&e->lock);
}

/* Under e->lock: j's bulletin is over everywhere (no part of it is left in the queue). */
static void archive(struct engine *e, const struct job *j, const char *result)
{
	struct outcome *o, **tail;

	if (j->live)	/* never in the store: a restart must not replay a live voice */
		return;
	o = malloc(sizeof(*o));
	for (const struct job *k = e->jobs; k; k = k->next)
		if (k != j && k->bulletin == j->bulletin) {
			free(o);
			return;
		}
	if (o)
		o->rec = json_pack("{s:s, s:I, s:i, s:i}", "result", result, "finished",
				   (json_int_t)time(NULL), "broadcast", (json_int_t)j->id,
				   "frames", (json_int_t)j->sent);
	if (!o || !o->rec) {
		log_error("bulletin %u: out of memory for its record; a restart plays it again",
			  j->bulletin);
		free(o);
		return;
	}
	o->bulletin = j->bulletin;
	o->next = NULL;
	for (tail = &e->outcomes; *tail; tail = &(*tail)->next)
		;
	*tail = o;
	pthread_cond_signal(&e->wake_render);
}

/* Write the outcomes out with the lock released. Returns 1 if there were any. */
static int flush_outcomes(struct engine *e)
{
	struct outcome *list = e->outcomes;

	if (!list)
		return 0;
	e->outcomes = NULL;
	pthread_mutex_unlock(&e->lock);
	while (list) {
		struct outcome *o = list;

		list = o->next;
		if (store_finish(e->store, o->bulletin, o->rec))
			log_error("bulletin %u: cannot record its outcome in %s: %s; a restart "
				  "plays it again", o->bulletin, e->cfg->state_dir,
				  strerror(errno));
		json_decref(o->rec);
		free(o);
	}
	pthread_mutex_lock(&e->lock);
	return 1;
}

/* Broadcast ids for parts of a bulletin split by a preemption, taken with the lock released
 * (the id counter is synced to disk). Returns 1 if it gave any. */
static int give_ids(struct engine *e)
{
	struct job *j;
	uint32_t id;
	int rc;

	for (j = e->jobs; j && (j->id || j->dropped); j = j->next)
		;
	if (!j)
		return 0;
	pthread_mutex_unlock(&e->lock);
	rc = state_next_id(e->cfg->state_dir, &id);
	pthread_mutex_lock(&e->lock);
	if (rc) {
		log_error("bulletin %u: cannot take a broadcast id in %s: %s", j->bulletin,
			  e->cfg->state_dir, strerror(errno));
		return 0;
	}
	for (struct job *k = e->jobs; k; k = k->next)
		if (k == j && !k->id) {
			k->id = id;
			pthread_cond_signal(&e->wake_pacer);
		}
	return 1;
}

/* Arbitration: headend/arbiter.c plans who plays where, here the plan is carried out. */

static void job_villages(const struct engine *e, struct job *j)
{
	for (size_t v = 0; v < e->z->n_villages; v++)
		j->villages[v] = j->b.sel.villages[v];
	for (size_t i = 0; i < j->b.sel.n_endpoints; i++)
		j->villages[e->z->endpoints[j->b.sel.endpoints[i]].village] = 1;
}

static void job_groups(const struct engine *e, struct job *j)
{
	j->n_groups = zones_groups(e->z, &j->b.sel, e->cfg->mc_base, j->groups, GROUPS_MAX);
	if (j->n_groups > GROUPS_MAX)
		j->n_groups = GROUPS_MAX;
}

/* RFC 3550 asks for unpredictable initial sequence numbers and timestamps. */
static void job_randomise(struct job *j)
{
	uint32_t r[2];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		r[0] = r[1] = j->bulletin;
	j->seq = (uint16_t)r[0];
	j->ts = r[1];
}

/* Where villages that stop hearing j take it up again: the frame after the last one sent, as
 * a play number and a position in that play's frames. */
static void resume_point(const struct engine *e, const struct job *j, size_t *pass, size_t *pos)
{
	size_t lead = (size_t)e->cfg->lead_ms / 20, gap = (size_t)j->gap_ms / 20;
	size_t text = j->n_frames - j->tone_frames, s = j->sent;

	*pass = *pos = 0;
	if (s <= lead)
		return;
	s -= lead;
	if (s < j->n_frames || j->render != RENDER_DONE || gap + text == 0) {
		*pos = s;
		return;
	}
	s -= j->n_frames;
	*pass = s / (gap + text) + 1;
	*pos = s % (gap + text) < gap ? 0 : s % (gap + text) - gap;
}

/* A finished rendering serves the rest as it is; an unfinished one is done again. */
static void copy_audio(struct job *r, const struct job *p)
{
	if (p->render != RENDER_DONE || !p->n_frames)
		return;
	r->audio = malloc(p->audio_len);
	r->frame_end = malloc(p->n_frames * sizeof(*r->frame_end));
	if (!r->audio || !r->frame_end) {
		free(r->audio);
		free(r->frame_end);
		r->audio = NULL;
		r->frame_end = NULL;
		return;
	}
	memcpy(r->audio, p->audio, p->audio_len);
	memcpy(r->frame_end, p->frame_end, p->n_frames * sizeof(*r->frame_end));
	r->audio_len = r->audio_cap = p->audio_len;
	r->n_frames = r->frames_cap = p->n_frames;
	r->tone_frames = p->tone_frames;
	r->render = RENDER_DONE;
}

/* What p still owes the villages of part, queued right behind p under a broadcast id of its
 * own (endpoints there have finished p's). The render thread gives it that id. */
static struct job *rest_of(struct engine *e, struct job *p, struct bulletin *part,
			   enum arbiter_fate fate)
{
	struct job *r = calloc(1, sizeof(*r));

	if (!r || !(r->villages = calloc(e->z->n_villages, 1))) {
		free(r);
		return NULL;
	}
	r->b = *part;
	memset(part, 0, sizeof(*part));
	r->bulletin = p->bulletin;
	r->item = p->item;
	r->gap_ms = p->gap_ms;
	r->wait = p->wait;
	memcpy(r->slot, p->slot, sizeof(r->slot));
	r->accepted = p->accepted;
	r->accepted_at = p->accepted_at;
	r->expires = p->wait ? time(NULL) + p->wait : p->expires;
	if (fate == ARBITER_RESUME)
		resume_point(e, p, &r->resume_pass, &r->resume_pos);
	if (p->live) {
		r->live = p->live;
		r->render = RENDER_LIVE;
		r->expires = 0;
	}
	copy_audio(r, p);
	job_villages(e, r);
	job_groups(e, r);
	job_randomise(r);
	r->next = p->next;
	p->next = r;
	pthread_cond_signal(&e->wake_render);
	return r;
}

/* One END for p on the groups of part, addressed to part's targets only: those endpoints stop
 * p, the others play on. */
static void end_part(struct engine *e, const struct job *p, const struct bulletin *part)
{
	struct job tmp = *p;

	if (!p->sent)
		return;
	tmp.b = *part;
	job_groups(e, &tmp);
	send_control(e, &tmp, PROTO_END);
}

/* Under e->lock: tell the archive that j is over where villages says, with the frames it
 * sent, found by replaying its phases on a copy so they are exactly what went out. */
static void tell_played(struct engine *e, const struct job *j, const struct bulletin *b,
			const unsigned char *villages, const char *result)
{
	const unsigned char **frame = e->on_played && j->sent ? calloc(j->sent, sizeof(*frame)) :
				      NULL;
	size_t *len = frame ? calloc(j->sent, sizeof(*len)) : NULL, n = 0, any = 0;
	struct job replay = *j;

	if (!e->on_played)
		return;
	for (size_t v = 0; v < e->z->n_villages; v++)
		any += villages[v];
	replay.phase = PHASE_LEAD;
	replay.pos = replay.pass = 0;
	for (; j->live && len && n < j->sent && n < j->n_frames; n++) {
		frame[n] = j->audio + (n ? j->frame_end[n - 1] : 0);
		len[n] = j->frame_end[n] - (n ? j->frame_end[n - 1] : 0);
	}
	while (!j->live && len && n < j->sent && next_frame(e, &replay, &frame[n], &len[n]) == 1)
		n++;
	if (any && n)
		e->on_played(e->on_played_arg, &(struct engine_played){
			j->bulletin, j->id, b, villages, j->slot, j->accepted_at, j->started_ms,
			clock_wall_ms(), result, n, frame, len });
	else if (any && j->sent)
		log_error("bulletin %u: out of memory; broadcast %u is not archived", j->bulletin,
			  j->id);
	free(frame);
	free(len);
}

static void log_preempt(const struct job *p, const struct job *by, const char *where,
			enum arbiter_fate fate)
{
	static const char *const what[] = {
		[ARBITER_RESUME] = "resumes there from where it stopped",
		[ARBITER_RESTART] = "restarts there from the beginning",
		[ARBITER_DROP] = "is dropped there",
		[ARBITER_REJOIN] = "rejoins the announcement there as it is then, without what "
				   "was said meanwhile",
	};

	log_info("bulletin %u: %s preempted in %s by bulletin %u (%s %s %s); once that is over "
		 "it %s", p->bulletin, proto_kind_name(p->item.kind), where, by->bulletin,
		 proto_kind_name(by->item.kind), proto_signal_key(by->item.signal),
		 proto_colour_name(by->item.colour), what[fate]);
}

/* p, on air, loses to by the villages they share: p plays on elsewhere on fewer groups. */
static void preempt(struct engine *e, struct job *p, struct job *by)
{
	enum arbiter_fate fate = arbiter_fate(e->cfg->preempted, &p->item, &by->item);
	struct bulletin part;
	size_t left = 0;
	char err[256];

	for (size_t v = 0; v < e->z->n_villages; v++) {
		e->shared[v] = p->villages[v] && by->villages[v];
		p->villages[v] = p->villages[v] && !e->shared[v];
		left += p->villages[v];
	}
	if (bulletin_copy(&part, &p->b, e->z) ||
	    bulletin_restrict(&part, e->z, e->shared, err, sizeof(err))) {
		log_error("bulletin %u: cannot split it for a preemption; it stops", p->bulletin);
		left = 0;
	} else {
		end_part(e, p, &part);
		tell_played(e, p, &part, e->shared, "preempted");
		log_preempt(p, by, part.targets, fate);
		if (fate != ARBITER_DROP && !rest_of(e, p, &part, fate))
			log_error("bulletin %u: out of memory, not played again in %s",
				  p->bulletin, part.targets);
	}
	bulletin_free(&part);
	if (left && !bulletin_restrict(&p->b, e->z, p->villages, err, sizeof(err))) {
		job_groups(e, p);
		return;
	}
	memset(p->villages, 0, e->z->n_villages);
	p->phase = PHASE_DONE;
	p->result = "preempted";
}

static void expire_job(struct engine *e, struct job *j)
{
	long waited = (long)(time(NULL) - j->accepted_at);

	j->dropped = 1;
	j->result = "expired";
	if (*j->slot)
		log_warn("bulletin %u: slot %s waited %ld s for its villages (bulletin %u on air "
			 "there), dropped", j->bulletin, j->slot, waited, j->blocked_by);
	else
		log_warn("bulletin %u: %s to %s not on air %ld s after it was accepted, expired "
			 "unplayed", j->bulletin, proto_kind_name(j->item.kind), j->b.targets,
			 waited);
	note_job(e, j, *j->slot ? "slot waited too long for a warning" :
		 "expired before it could play");
}

static void wait_job(struct job *j, const struct job *in_way)
{
	if (!in_way || j->blocked_by == in_way->bulletin)
		return;
	j->blocked_by = in_way->bulletin;
	if (*j->slot && in_way->item.kind == PROTO_KIND_WARNING)
		log_info("bulletin %u: slot %s falls while warning bulletin %u plays in its "
			 "villages; it waits up to %d s", j->bulletin, j->slot, in_way->bulletin,
			 j->wait);
}

static void carry_out(struct engine *e, const struct arbiter_action *a)
{
	struct job *j = e->planned[a->entry];
	struct job *other = a->other >= 0 ? e->planned[a->other] : NULL;

	switch (a->step) {
	case ARBITER_EXPIRE:
		expire_job(e, j);
		break;
	case ARBITER_PREEMPTS:
		preempt(e, j, other);
		break;
	case ARBITER_START:
		j->playing = 1;
		j->started_ms = clock_wall_ms();
		if (e->on_air)
			e->on_air(e->on_air_arg, &(struct engine_air){ j->id, 1, j->b.codes,
								   j->b.n_codes });
		break;
	case ARBITER_WAIT:
		wait_job(j, other);
		break;
	}
}

static int plan_room(struct engine *e, size_t n)
{
	size_t actions = n * n + 2 * n + 8;

	if (n > e->cap_entries) {
		struct arbiter_entry *en = realloc(e->entries, 2 * n * sizeof(*en));
		struct job **pl = en ? realloc(e->planned, 2 * n * sizeof(*pl)) : NULL;

		if (en)
			e->entries = en;
		if (!en || !pl)
			return -1;
		e->planned = pl;
		e->cap_entries = 2 * n;
	}
	if (actions > e->cap_actions) {
		struct arbiter_action *ac = realloc(e->actions, 2 * actions * sizeof(*ac));

		if (!ac)
			return -1;
		e->actions = ac;
		e->cap_actions = 2 * actions;
	}
	return 0;
}

/* Who goes on air now, who is preempted, who gives up waiting. */
static void arbitrate(struct engine *e)
{
	size_t n = 0, k;

	for (struct job *j = e->jobs; j; j = j->next)
		n += !j->dropped;
	if (plan_room(e, n))
		return;
	n = 0;
	for (struct job *j = e->jobs; j; j = j->next) {
		if (j->dropped)
			continue;
		e->planned[n] = j;
		e->entries[n++] = (struct arbiter_entry){
			j->item, j->villages, j->playing,
			j->playing &&
				(j->phase == PHASE_DONE || (j->phase == PHASE_END && j->pos)),
			j->id != 0, j->expires,
		};
	}
	k = arbiter_plan(e->entries, n, e->z->n_villages, time(NULL), e->owner, e->claim,
			 e->actions, e->cap_actions);
	for (size_t i = 0; i < k && i < e->cap_actions; i++)
		carry_out(e, &e->actions[i]);
}

static void record_finished(struct engine *e, struct job *j, double seconds, const char *result)
{
	json_t *r = json_pack("{s:i, s:i, s:s, s:s, s:i, s:f, s:i, s:f, s:s}", "id",
			      (json_int_t)j->bulletin, "broadcast", (json_int_t)j->id,
			      "kind", proto_kind_name(j->b.kind), "targets", j->b.targets,
			      "endpoints", (json_int_t)j->b.endpoints, "seconds", seconds,
			      "frames", (json_int_t)j->sent, "first_packet_ms",
			      elapsed_ms(&j->accepted, &j->first_packet),
			      "result", result);

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
	const char *result = j->result ? j->result : j->live ? "played" :
			     j->render == RENDER_DONE ? "played" : "render failed";

	if (!j->dropped)
		log_info("bulletin %u: %s to %s (%zu endpoints, %zu groups), %.1f s, %u frames, "
			 "first packet %.1f ms after accept, %s (broadcast %u)", j->bulletin,
			 proto_kind_name(j->b.kind), j->b.targets, j->b.endpoints, j->n_groups,
			 seconds, j->sent, elapsed_ms(&j->accepted, &j->first_packet), result,
			 j->id);
	if (j->underruns)
		log_warn("bulletin %u: renderer fell behind the pacer %zu times", j->bulletin,
			 j->underruns);
	if (!j->dropped)
		tell_played(e, j, &j->b, j->villages, result);
	if (j->playing && e->on_air)
		e->on_air(e->on_air_arg, &(struct engine_air){ j->id, 0, NULL, 0 });
	record_finished(e, j, seconds, result);
	archive(e, j, result);
	*link = j->next;
	job_free(j);
}

static void send_keepalive(struct engine *e)
{
	struct proto_control c = { .type = PROTO_KEEPALIVE, .sent_ms = clock_wall_ms() };
	unsigned char buf[PROTO_ENVELOPE + PROTO_SIGNATURE];
	size_t len = keys_seal(e->keys, &c, buf, sizeof(buf));

	if (len && sendto(e->sock, buf, len, 0, (struct sockaddr *)&e->district_group,
			  sizeof(e->district_group)) < 0)
		log_warn("keep-alive to %s: %s", inet_ntoa(e->district_group.sin_addr),
			 strerror(errno));
}

/* KEY announcements of a rotation go where every endpoint listens: the district group. */
static void send_key(struct engine *e, const struct timespec *now)
{
	unsigned char buf[PROTO_MAX_PACKET];
	size_t len = keys_poll(e->keys, (uint64_t)now->tv_sec * 1000u +
			       (uint64_t)now->tv_nsec / 1000000u, buf, sizeof(buf));

	if (len && sendto(e->sock, buf, len, 0, (struct sockaddr *)&e->district_group,
			  sizeof(e->district_group)) < 0)
		log_warn("key announcement to %s: %s", inet_ntoa(e->district_group.sin_addr),
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

/* Idle, the pacer sleeps to the next keep-alive, or a tick later while keys rotate. */
static const struct timespec *idle_until(struct engine *e, const struct timespec *keepalive,
					 struct timespec *soon, long period)
{
	if (!keys_rotating(e->keys))
		return keepalive;
	clock_gettime(CLOCK_MONOTONIC, soon);
	timespec_add(soon, period);
	return elapsed_ms(soon, keepalive) < 0 ? keepalive : soon;
}

/* Under e->lock: the live announcement's parts, on air or waiting, and whether any is on air. */
static size_t live_parts(const struct engine *e, int *on_air)
{
	size_t n = 0;

	*on_air = 0;
	for (const struct job *j = e->jobs; j; j = j->next)
		if (e->live && j->live == e->live && !j->dropped &&
		    !(j->playing && j->phase == PHASE_DONE)) {
			n++;
			*on_air |= j->playing;
		}
	return n;
}

/* Under e->lock: the live announcement ends (the operator, or live.max_s): capture stops, the
 * parts on air send what was captured and their END, the parts waiting are dropped. */
static void end_live(struct engine *e, const char *why)
{
	if (!e->live || e->live_end)
		return;
	e->live_end = why;
	live_stop(e->live);
	log_info("live: bulletin %u to %s ends: %s", e->live_bulletin, e->live_targets, why);
}

static void live_tick(struct engine *e)
{
	int on_air;

	if (!e->live || e->live_ended_ms)
		return;
	if (!e->live_end && clock_mono_ms() >= e->live_deadline_mono)
		end_live(e, "max duration");
	live_watch(e->live);
	for (struct job *j = e->jobs; e->live_end && j; j = j->next)
		if (j->live == e->live && !j->playing && !j->dropped) {
			j->dropped = 1;
			j->result = "live ended before it could play";
		}
	if (!live_parts(e, &on_air)) {
		e->live_ended_ms = clock_wall_ms();
		e->live_seconds = (clock_mono_ms() - e->live_start_mono) / 1e3;
		if (!e->live_end)
			end_live(e, "preempted everywhere");
	}
}

/* One tick over every job; returns how many are on air. */
static int pacer_tick(struct engine *e)
{
	struct job **link = &e->jobs;
	int on_air = 0;

	live_tick(e);
	arbitrate(e);
	while (*link) {
		struct job *j = *link;
		int over = j->dropped || (j->playing && j->phase == PHASE_DONE);

		if (!over && j->playing) {
			job_step(e, j);
			on_air++;
			/* Recorded in the tick it ends, so that the status never shows it
			 * neither playing nor finished. */
			over = j->phase == PHASE_DONE;
		}
		if (over && j->render != RENDER_BUSY) {
			finish_job(e, link);
			arbitrate(e);
			continue;
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
	struct timespec next, keepalive, soon;

	clock_gettime(CLOCK_MONOTONIC, &next);
	keepalive = next;
	pthread_mutex_lock(&e->lock);
	while (!e->stop) {
		clock_gettime(CLOCK_MONOTONIC, &e->alive);
		if (elapsed_ms(&keepalive, &next) >= 0) {
			send_keepalive(e);
			keepalive = next;
			keepalive.tv_sec += KEEPALIVE_S;
		}
		send_key(e, &next);
		if (pacer_tick(e)) {
			pacer_sleep(e, &next, period);
			continue;
		}
		pthread_cond_timedwait(&e->wake_pacer, &e->lock,
				       idle_until(e, &keepalive, &soon, period));
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
	if (!*client_id || strlen(client_id) > BULLETIN_CLIENT_ID_MAX)
		return 0;
	if (grow((void **)&e->records, &e->cap_records, e->n_records + 1, sizeof(*e->records)))
		return -1;
	e->records[e->n_records].id = id;
	memcpy(e->records[e->n_records].client_id, client_id, strlen(client_id) + 1);
	e->n_records++;
	return 0;
}

/* A job for b (whose contents it takes), accepted at now. NULL if out of memory. */
static struct job *job_new(struct engine *e, struct bulletin *b, const struct engine_origin *o,
			   uint32_t id, time_t now)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j || !(j->villages = calloc(e->z->n_villages, 1))) {
		free(j);
		return NULL;
	}
	j->id = j->bulletin = id;
	j->b = *b;
	memset(b, 0, sizeof(*b));
	j->item = (struct arbiter_item){ j->b.kind, j->b.colour, j->b.signal,
					  PROTO_COLOUR_NONE };
	j->gap_ms = j->b.kind == PROTO_KIND_WARNING ?
		    e->cfg->signals.colours[j->b.colour].gap_ms : e->cfg->repeat_gap_ms;
	j->accepted_at = now;
	j->expires = now + e->cfg->expire[j->b.kind];
	if (o && o->slot) {
		snprintf(j->slot, sizeof(j->slot), "%s", o->slot);
		j->wait = o->wait;
		j->expires = now + o->wait;
	}
	job_villages(e, j);
	job_groups(e, j);
	job_randomise(j);
	clock_gettime(CLOCK_MONOTONIC, &j->accepted);
	return j;
}

/* What is kept on disk of an accepted bulletin until it has played. */
static json_t *job_record(const struct job *j, const struct engine_origin *o, uint32_t again_of)
{
	json_t *rec = json_pack("{s:i, s:I, s:I, s:s, s:o}", "id", (json_int_t)j->bulletin,
				"accepted", (json_int_t)j->accepted_at, "expires",
				(json_int_t)j->expires, "targets_text", j->b.targets, "request",
				bulletin_request(&j->b));

	if (rec && o && o->slot)
		json_object_update_new(rec, json_pack("{s:s, s:I, s:i, s:s}", "slot", o->slot,
						  "occurrence", (json_int_t)o->occurrence, "wait",
						  o->wait, "text_from",
						  o->text_from ? o->text_from : ""));
	if (rec && again_of)
		json_object_set_new(rec, "again_of", json_integer(again_of));
	return rec;
}

static void enqueue(struct engine *e, struct job *j)
{
	struct job **tail;

	pthread_mutex_lock(&e->lock);
	for (tail = &e->jobs; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	pthread_cond_signal(&e->wake_render);
	pthread_cond_signal(&e->wake_pacer);
	pthread_mutex_unlock(&e->lock);
}

/* Under submit_lock. Failing to save is logged only: the queue holds what a restart needs. */
static void save_warnings(struct engine *e)
{
	json_t *saved = warnings_save(e->warnings);
	char *text = saved ? json_dumps(saved, JSON_COMPACT) : NULL;

	if (!text || state_write(e->cfg->state_dir, "warnings.json", text, strlen(text)))
		log_error("warnings: cannot save the active warnings in %s: %s; a restart "
			  "rebuilds them from the queue", e->cfg->state_dir,
			  text ? strerror(errno) : "out of memory");
	free(text);
	json_decref(saved);
}

/* Under submit_lock. A re-broadcast (again_of: the warning it repeats) neither checks nor
 * changes the warning state. */
static int submit_locked(struct engine *e, struct bulletin *b, const struct engine_origin *o,
			 uint32_t again_of, uint32_t *id, char *err, size_t errlen)
{
	struct job *j;
	json_t *rec;

	if (find_client(e, b->client_id, id))
		return 1;
	if (!again_of && warnings_check(e->warnings, b, err, errlen))
		return -2;
	if (state_next_id(e->cfg->state_dir, id)) {
		snprintf(err, errlen, "cannot take a bulletin id in %s: %s", e->cfg->state_dir,
			 strerror(errno));
		return -1;
	}
	j = job_new(e, b, o, *id, time(NULL));
	rec = j ? job_record(j, o, again_of) : NULL;
	if (!rec || store_put(e->store, *id, rec)) {
		snprintf(err, errlen, "cannot keep bulletin %u in %s: %s", *id, e->cfg->state_dir,
			 rec ? strerror(errno) : "out of memory");
		json_decref(rec);
		if (j)
			job_free(j);
		return -1;
	}
	json_decref(rec);
	if (!again_of && j->b.kind == PROTO_KIND_WARNING) {
		if (warnings_apply(e->warnings, &j->b, j->bulletin, j->accepted_at))
			log_error("bulletin %u: out of memory for the warning state", j->bulletin);
		save_warnings(e);
	}
	if (remember(e, *id, j->b.client_id))
		log_error("bulletin %u: out of memory for its client id", *id);
	enqueue(e, j);
	return 0;
}

int engine_submit_from(struct engine *e, struct bulletin *b, const struct engine_origin *origin,
		       uint32_t *id, char *err, size_t errlen)
{
	int rc;

	pthread_mutex_lock(&e->submit_lock);
	rc = submit_locked(e, b, origin, 0, id, err, errlen);
	pthread_mutex_unlock(&e->submit_lock);
	return rc;
}

int engine_submit(struct engine *e, struct bulletin *b, uint32_t *id, char *err, size_t errlen)
{
	return engine_submit_from(e, b, NULL, id, err, errlen);
}

/* Re-broadcasts of warnings still active */

struct again {
	struct engine *e;
	int queued;
};

static int rebroadcast_one(void *arg, uint32_t source, const char *text, uint8_t signal,
			   enum proto_colour colour, enum proto_action action,
			   const unsigned char *villages)
{
	struct again *a = arg;
	struct engine *e = a->e;
	struct bulletin b = { .kind = PROTO_KIND_WARNING, .signal = signal, .colour = colour,
			      .action = action, .repeat = e->cfg->signals.colours[colour].repeat };
	char err[256] = "out of memory", where[BULLETIN_TARGETS_MAX] = "";
	uint32_t id;
	int rc = -1;

	b.text = strdup(text);
	if (b.text && zones_selection_init(&b.sel, e->z) == ZONES_OK) {
		memset(b.sel.villages, 1, e->z->n_villages * sizeof(bool));
		if (!bulletin_restrict(&b, e->z, villages, err, sizeof(err))) {
			memcpy(where, b.targets, sizeof(where));
			rc = submit_locked(e, &b, NULL, source, &id, err, sizeof(err));
		}
	}
	if (rc)
		log_error("bulletin %u: cannot broadcast its warning again: %s", source, err);
	else
		log_info("bulletin %u: %s %s of bulletin %u still active in %s, broadcast again",
			 id, proto_signal_key(signal), proto_colour_name(colour), source, where);
	a->queued += !rc;
	bulletin_free(&b);
	return rc ? -1 : 0;
}

time_t engine_rebroadcast(struct engine *e, time_t now)
{
	struct again a = { e, 0 };
	time_t next;

	pthread_mutex_lock(&e->submit_lock);
	next = warnings_due(e->warnings, now, rebroadcast_one, &a);
	if (a.queued)
		save_warnings(e);
	pthread_mutex_unlock(&e->submit_lock);
	return next;
}

char *engine_warnings_json(struct engine *e)
{
	json_t *report;
	char *text;

	pthread_mutex_lock(&e->submit_lock);
	report = warnings_report(e->warnings);
	pthread_mutex_unlock(&e->submit_lock);
	text = report ? json_dumps(report, JSON_INDENT(2)) : NULL;
	json_decref(report);
	return text;
}

int engine_alive(struct engine *e, int max_s)
{
	struct timespec now;
	int alive;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&e->lock);
	alive = elapsed_ms(&e->alive, &now) < max_s * 1e3;
	pthread_mutex_unlock(&e->lock);
	return alive;
}

/* Restart: what was accepted and not yet played is queued again, in order, under new broadcast
 * ids; what expired meanwhile is reported; the warning state is brought up to date. */

struct restore {
	struct engine *e;
	time_t now;
	json_t *warnings;	/* records of warnings accepted after the saved state, by id */
	int queued, expired;
};

/* The bulletin a record holds, read back through the same parser as a request. */
static int record_bulletin(struct engine *e, const json_t *rec, struct bulletin *b, char *err,
			   size_t errlen)
{
	char *body = json_dumps(json_object_get(rec, "request"), JSON_COMPACT);
	const char *targets = json_string_value(json_object_get(rec, "targets_text"));
	int rc;

	if (!body) {
		snprintf(err, errlen, "the record has no request");
		return 422;
	}
	rc = bulletin_parse(body, strlen(body), e->z, e->cfg, b, err, errlen);
	free(body);
	if (!rc && targets)
		snprintf(b->targets, sizeof(b->targets), "%s", targets);
	return rc;
}

static void give_up(struct restore *r, uint32_t id, const json_t *rec, const char *result,
		    const char *reason)
{
	json_t *outcome = json_pack("{s:s, s:s, s:I}", "result", result, "reason", reason,
				    "finished", (json_int_t)r->now);
	json_t *note = json_pack("{s:i, s:s, s:s}", "bulletin", (json_int_t)id, "targets",
				 json_string_value(json_object_get(rec, "targets_text")) ?
				 json_string_value(json_object_get(rec, "targets_text")) : "",
				 "reason", reason);

	if (json_object_get(rec, "slot"))
		json_object_set(note, "slot", json_object_get(rec, "slot"));
	add_note(r->e, note);
	if (!outcome || store_finish(r->e->store, id, outcome))
		log_error("bulletin %u: cannot record that it was not played", id);
	json_decref(outcome);
	r->expired++;
}

static void requeue(struct restore *r, uint32_t id, const json_t *rec)
{
	struct engine *e = r->e;
	json_int_t expires = json_integer_value(json_object_get(rec, "expires"));
	struct engine_origin o = {
		json_string_value(json_object_get(rec, "slot")),
		(time_t)json_integer_value(json_object_get(rec, "occurrence")),
		(int)json_integer_value(json_object_get(rec, "wait")), NULL,
	};
	struct bulletin b;
	char err[256];
	struct job *j;

	if (expires && expires <= r->now) {
		log_warn("bulletin %u: expired %lld s ago while the head-end was down; not played",
			 id, (long long)(r->now - expires));
		give_up(r, id, rec, "expired", "expired while the head-end was down");
		return;
	}
	if (record_bulletin(e, rec, &b, err, sizeof(err))) {
		log_error("bulletin %u: its record cannot be read back (%s); not played", id, err);
		give_up(r, id, rec, "unreadable", err);
		return;
	}
	j = job_new(e, &b, &o, id, (time_t)json_integer_value(json_object_get(rec, "accepted")));
	bulletin_free(&b);
	if (!j || state_next_id(e->cfg->state_dir, &j->id)) {
		log_error("bulletin %u: cannot be queued again: %s", id, j ? strerror(errno) :
			  "out of memory");
		if (j)
			job_free(j);
		return;
	}
	if (expires)
		j->expires = (time_t)expires;
	log_info("bulletin %u: accepted before the head-end stopped, queued again as broadcast %u",
		 id, j->id);
	enqueue(e, j);
	r->queued++;
}

static int restore_record(void *arg, uint32_t id, json_t *rec, int pending)
{
	struct restore *r = arg;
	json_t *request = json_object_get(rec, "request");
	const char *client = json_string_value(json_object_get(request, "client_id"));
	const char *kind = json_string_value(json_object_get(request, "kind"));

	if (!rec) {
		log_error("bulletin %u: its record under %s/%s does not parse; left as it is", id,
			  r->e->cfg->state_dir, pending ? "queue" : "done");
		return 0;
	}
	if (client && remember(r->e, id, client))
		return 1;
	if (kind && !strcmp(kind, "warning") && !json_object_get(rec, "again_of") &&
	    id > warnings_applied(r->e->warnings))
		json_array_append(r->warnings, rec);
	if (pending)
		requeue(r, id, rec);
	return 0;
}

/* Warnings accepted after the state was last saved (a crash in between) are applied again. */
static void catch_up_warnings(struct restore *r)
{
	struct engine *e = r->e;
	json_t *rec;
	size_t i;

	json_array_foreach(r->warnings, i, rec) {
		struct bulletin b;
		char err[256];
		uint32_t id = (uint32_t)json_integer_value(json_object_get(rec, "id"));

		if (record_bulletin(e, rec, &b, err, sizeof(err)))
			continue;
		if (warnings_apply(e->warnings, &b, id,
				   (time_t)json_integer_value(json_object_get(rec, "accepted"))))
			log_error("bulletin %u: out of memory for the warning state", id);
		bulletin_free(&b);
	}
	if (json_array_size(r->warnings))
		save_warnings(e);
}

static int by_record_id(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "id"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "id"));

	return x < y ? -1 : x > y;
}

static void load_warnings(struct engine *e)
{
	char *text = state_read(e->cfg->state_dir, "warnings.json", NULL), err[256];
	json_t *saved = text ? json_loads(text, 0, NULL) : NULL;

	if (text && (!saved || warnings_restore(e->warnings, saved, err, sizeof(err))))
		log_error("warnings: %s/warnings.json cannot be read (%s); rebuilding the active "
			  "warnings from the queue", e->cfg->state_dir, saved ? err : "not JSON");
	free(text);
	json_decref(saved);
}

static int restore(struct engine *e, char *err, size_t errlen)
{
	struct restore r = { e, time(NULL), json_array(), 0, 0 };
	json_t **list;
	size_t n;

	load_warnings(e);
	if (!r.warnings || store_scan(e->store, r.now, restore_record, &r)) {
		snprintf(err, errlen, "cannot read the queue in %s: %s", e->cfg->state_dir,
			 r.warnings ? strerror(errno) : "out of memory");
		json_decref(r.warnings);
		return -1;
	}
	n = json_array_size(r.warnings);
	list = n ? malloc(n * sizeof(*list)) : NULL;
	for (size_t i = 0; list && i < n; i++)
		list[i] = json_array_get(r.warnings, i);
	if (list) {
		json_t *sorted = json_array();

		qsort(list, n, sizeof(*list), by_record_id);
		for (size_t i = 0; sorted && i < n; i++)
			json_array_append(sorted, list[i]);
		json_decref(r.warnings);
		r.warnings = sorted ? sorted : json_array();
	}
	free(list);
	catch_up_warnings(&r);
	json_decref(r.warnings);
	if (r.queued || r.expired)
		log_info("headend: %d bulletins queued again after the restart, %d expired",
			 r.queued, r.expired);
	return 0;
}

static json_t *job_json(const struct engine *e, const struct job *j)
{
	json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:i, s:i}", "id", (json_int_t)j->bulletin,
			      "broadcast", (json_int_t)j->id, "kind", proto_kind_name(j->b.kind),
			      "targets", j->b.targets, "endpoints", (json_int_t)j->b.endpoints,
			      "groups", (json_int_t)j->n_groups);

	if (o && *j->slot)
		json_object_set_new(o, "slot", json_string(j->slot));
	if (o && !j->playing && j->blocked_by)
		json_object_set_new(o, "waiting_for", json_integer(j->blocked_by));
	if (o && !j->playing && j->expires)
		json_object_set_new(o, "expires_in", json_integer((json_int_t)(j->expires -
										time(NULL))));

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

json_t *engine_status(struct engine *e)
{
	json_t *root = json_object(), *playing = json_array(), *queued = json_array();

	pthread_mutex_lock(&e->lock);
	for (const struct job *j = e->jobs; j; j = j->next)
		if (!j->dropped)	/* one that is over stays "playing" until it is recorded */
			json_array_append_new(j->playing ? playing : queued, job_json(e, j));
	json_object_set_new(root, "playing", playing);
	json_object_set_new(root, "queued", queued);
	json_object_set_new(root, "recent", json_deep_copy(e->recent));
	json_object_set_new(root, "skipped", json_deep_copy(e->notes));
	pthread_mutex_unlock(&e->lock);
	return root;
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

static int open_state(struct engine *e, char *err, size_t errlen)
{
	if (store_open(&e->store, e->cfg->state_dir, err, errlen))
		return -1;
	if (warnings_open(&e->warnings, e->z, &e->cfg->signals)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_mutex_init(&e->submit_lock, NULL);
	return restore(e, err, errlen);
}

/* Everything but the threads, the sockets and the speech engine. */
static void free_state(struct engine *e)
{
	while (e->jobs) {
		struct job *j = e->jobs;

		e->jobs = j->next;
		job_free(j);
	}
	store_close(e->store);
	warnings_close(e->warnings);
	json_decref(e->notes);
	free(e->owner);
	free(e->claim);
	free(e->shared);
	free(e->entries);
	free(e->planned);
	free(e->actions);
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
	e->owner = calloc(z->n_villages + 1, sizeof(*e->owner));
	e->claim = calloc(z->n_villages + 1, sizeof(*e->claim));
	e->shared = calloc(z->n_villages + 1, 1);
	e->recent = json_array();
	e->notes = json_array();
	if (!e->owner || !e->claim || !e->shared || !e->recent || !e->notes) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((r = tts_open(&e->tts, &cfg->tts)) != TTS_OK) {
		snprintf(err, errlen, "speech engine (voice %s): %s", cfg->tts.voice,
			 tts_strerror(r));
		goto fail;
	}
	if (cfg->lexicon[0] && tts_use_reading(e->tts, cfg->lexicon, cfg->reading_override[0] ?
					       cfg->reading_override : NULL, err, errlen))
		goto fail;
	if (keys_open(&e->keys, cfg->state_dir, (uint64_t)(1000 / cfg->pace), err, errlen) ||
	    open_socket(e, err, errlen) || make_silence(e, err, errlen) ||
	    open_state(e, err, errlen) ||
	    start_threads(e, err, errlen))
		goto fail;
	*out = e;
	return 0;
fail:
	keys_close(e->keys);
	free_state(e);
	if (e->tts)
		tts_close(e->tts);
	if (e->sock >= 0)
		close(e->sock);
	json_decref(e->recent);
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
	pthread_mutex_lock(&e->lock);
	flush_outcomes(e);
	pthread_mutex_unlock(&e->lock);
	free_state(e);
	live_release(e->live);
	keys_close(e->keys);
	tts_close(e->tts);
	close(e->sock);
	json_decref(e->recent);
	free(e->records);
	free(e);
}

/* Live announcements */

/* Under e->lock, j a live announcement just queued: where a broadcast it may not preempt is on
 * air, j waits as a part of its own that rejoins once those villages are free, and starts at
 * once everywhere else. (A whole announcement would otherwise wait for its busiest village.) */
static void start_where_free(struct engine *e, struct job *j)
{
	size_t blocked = 0, free_left = 0;
	unsigned char *keep = calloc(e->z->n_villages, 1);
	struct bulletin part = { 0 }, mine = { 0 };
	char err[256];

	memset(e->shared, 0, e->z->n_villages);
	for (const struct job *o = e->jobs; o && keep; o = o->next) {
		if (o == j || !o->playing || o->dropped || o->phase == PHASE_DONE ||
		    arbiter_decide(&o->item, &j->item) != ARBITER_QUEUE)
			continue;
		for (size_t v = 0; v < e->z->n_villages; v++)
			e->shared[v] |= o->villages[v] && j->villages[v];
	}
	for (size_t v = 0; keep && v < e->z->n_villages; v++) {
		keep[v] = j->villages[v] && !e->shared[v];
		blocked += e->shared[v];
		free_left += keep[v];
	}
	if (!blocked || !free_left)
		goto out;
	if (bulletin_copy(&part, &j->b, e->z) ||
	    bulletin_restrict(&part, e->z, e->shared, err, sizeof(err)) ||
	    bulletin_copy(&mine, &j->b, e->z) ||
	    bulletin_restrict(&mine, e->z, keep, err, sizeof(err))) {
		log_warn("bulletin %u: live cannot start apart from %zu busy villages; it waits "
			 "for all of them", j->bulletin, blocked);
		goto out;
	}
	log_info("bulletin %u: live waits in %s, where a broadcast it may not preempt is on air, "
		 "and starts at once in %s", j->bulletin, part.targets, mine.targets);
	bulletin_free(&j->b);
	j->b = mine;
	memset(&mine, 0, sizeof(mine));
	memcpy(j->villages, keep, e->z->n_villages);
	job_groups(e, j);
	if (!rest_of(e, j, &part, ARBITER_REJOIN))
		log_error("bulletin %u: out of memory, live not heard in %s", j->bulletin,
			  part.targets);
out:
	bulletin_free(&part);
	bulletin_free(&mine);
	free(keep);
}

/* 1 with err set if a live announcement is on air or waiting already. */
static int live_busy(struct engine *e, char *err, size_t errlen)
{
	int on_air, busy;

	pthread_mutex_lock(&e->lock);
	busy = live_parts(e, &on_air) != 0;
	if (busy)
		snprintf(err, errlen, "live announcement %u to %s is %s already; stop it first",
			 e->live_bulletin, e->live_targets, on_air ? "on air" : "waiting");
	pthread_mutex_unlock(&e->lock);
	return busy;
}

/* A just-started announcement until the pacer has planned it (a tick or two): each part on
 * air or waiting for a broadcast in its way, so that the answer to POST /v1/live says which,
 * not "waiting" for an announcement that is about to go on air. At most 100 ms. */
static void live_settle(struct engine *e)
{
	for (int tries = 0; tries < 5; tries++) {
		int planned = 1;

		pthread_mutex_lock(&e->lock);
		for (const struct job *j = e->jobs; j; j = j->next)
			if (j->live == e->live && !j->dropped && !j->playing && !j->blocked_by)
				planned = 0;
		pthread_mutex_unlock(&e->lock);
		if (planned)
			return;
		usleep(20000);
	}
}

int engine_live_start(struct engine *e, struct bulletin *b, uint32_t *id, char *err,
		      size_t errlen)
{
	struct live *l = NULL;
	struct job *j = NULL, **tail;
	int rc = -1;

	if (e->cfg->pace != 1.0) {
		/* the microphone gives 20 ms every 20 ms: faster ticks would only send silence */
		snprintf(err, errlen, "live announcements need multicast.pace = 1.0 (it is %.1f)",
			 e->cfg->pace);
		return -1;
	}
	if (live_busy(e, err, errlen))
		return -2;
	/* The device is opened outside submit_lock: however long it takes, bulletins and
	 * warnings are accepted meanwhile. */
	if (live_open(&l, e->cfg, err, errlen))
		return -1;
	pthread_mutex_lock(&e->submit_lock);
	if (live_busy(e, err, errlen)) {	/* another one started while this one opened */
		rc = -2;
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->villages = calloc(e->z->n_villages, 1))) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (state_next_id(e->cfg->state_dir, id)) {
		snprintf(err, errlen, "cannot take a bulletin id in %s: %s", e->cfg->state_dir,
			 strerror(errno));
		goto out;
	}
	j->id = j->bulletin = *id;
	j->b = *b;
	memset(b, 0, sizeof(*b));
	j->b.kind = PROTO_KIND_LIVE;
	j->b.repeat = 0;
	j->item = (struct arbiter_item){ PROTO_KIND_LIVE, PROTO_COLOUR_NONE, 0,
					  e->cfg->live_outranks };
	j->accepted_at = time(NULL);
	j->live = l;
	j->render = RENDER_LIVE;
	job_villages(e, j);
	job_groups(e, j);
	job_randomise(j);
	clock_gettime(CLOCK_MONOTONIC, &j->accepted);

	pthread_mutex_lock(&e->lock);
	live_release(e->live);
	e->live = l;
	e->live_bulletin = *id;
	snprintf(e->live_targets, sizeof(e->live_targets), "%s", j->b.targets);
	e->live_started_ms = clock_wall_ms();
	e->live_ended_ms = 0;
	e->live_start_mono = clock_mono_ms();
	e->live_deadline_mono = e->live_start_mono + (uint64_t)e->cfg->live_max_s * 1000u;
	e->live_end = NULL;
	for (tail = &e->jobs; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	start_where_free(e, j);
	pthread_cond_signal(&e->wake_pacer);
	pthread_mutex_unlock(&e->lock);
	log_info("live: bulletin %u to %s (%zu endpoints) from ALSA device \"%s\", at most %d s",
		 *id, j->b.targets, j->b.endpoints, e->cfg->live_device, e->cfg->live_max_s);
	l = NULL;
	j = NULL;
	rc = 0;
out:
	pthread_mutex_unlock(&e->submit_lock);
	if (j)
		job_free(j);
	live_release(l);
	if (!rc)
		live_settle(e);
	return rc;
}

int engine_live_stop(struct engine *e, uint32_t *id, char *err, size_t errlen)
{
	int on_air, rc = 0;

	pthread_mutex_lock(&e->lock);
	if (!live_parts(e, &on_air) || e->live_end) {
		snprintf(err, errlen, "no live announcement is on air or waiting");
		rc = -1;
	} else {
		*id = e->live_bulletin;
		end_live(e, "stopped");
		pthread_cond_signal(&e->wake_pacer);
	}
	pthread_mutex_unlock(&e->lock);
	return rc;
}

void engine_live_shutdown(struct engine *e, int timeout_ms)
{
	int on_air;

	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	if (live_parts(e, &on_air) && !e->live_end) {
		for (struct job *j = e->jobs; j; j = j->next)
			if (j->live == e->live && j->playing)
				j->result = "cut short by shutdown";
		end_live(e, "the head-end is stopping");
		pthread_cond_signal(&e->wake_pacer);
	}
	for (int waited = 0; waited < timeout_ms && live_parts(e, &on_air); waited += 20) {
		pthread_mutex_unlock(&e->lock);
		usleep(20000);
		pthread_mutex_lock(&e->lock);
	}
	pthread_mutex_unlock(&e->lock);
}

char *engine_live_json(struct engine *e)
{
	json_t *o, *parts = json_array();
	const char *state = "off";
	char *text;
	int on_air;

	pthread_mutex_lock(&e->lock);
	if (e->live)
		state = !live_parts(e, &on_air) ? "ended" : on_air ? "on_air" : "waiting";
	o = json_pack("{s:s, s:s, s:i, s:i, s:s}", "state", state, "device", e->cfg->live_device,
		      "buffer_frames", e->cfg->live_buffer, "max_s", e->cfg->live_max_s,
		      "outranks", proto_colour_name(e->cfg->live_outranks));
	for (const struct job *j = e->jobs; e->live && j; j = j->next) {
		if (j->live != e->live || j->dropped)
			continue;
		json_array_append_new(parts, json_pack("{s:i, s:s, s:s, s:f}", "broadcast",
				      (json_int_t)j->id, "targets", j->b.targets, "state",
				      j->playing ? "on_air" : "waiting", "seconds_sent",
				      j->sent * 0.02));
		if (!j->playing && j->blocked_by)
			json_object_set_new(json_array_get(parts, json_array_size(parts) - 1),
					    "waiting_for", json_integer(j->blocked_by));
	}
	if (o && e->live) {
		double seconds = e->live_ended_ms ? e->live_seconds :
				 (clock_mono_ms() - e->live_start_mono) / 1e3;

		json_object_update_new(o, json_pack("{s:i, s:s, s:I, s:I, s:o}", "bulletin",
				       (json_int_t)e->live_bulletin, "targets", e->live_targets,
				       "started_ms", (json_int_t)e->live_started_ms, "ended_ms",
				       (json_int_t)e->live_ended_ms, "counters",
				       live_json(e->live)));
		if (e->live_end)
			json_object_set_new(o, "ended_by", json_string(e->live_end));
		json_object_set_new(o, "seconds", json_real(seconds));
	}
	if (o)
		json_object_set_new(o, "parts", parts);
	else
		json_decref(parts);
	pthread_mutex_unlock(&e->lock);
	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	return text;
}

void engine_on_played(struct engine *e, engine_played_fn fn, void *arg)
{
	pthread_mutex_lock(&e->lock);
	e->on_played = fn;
	e->on_played_arg = arg;
	pthread_mutex_unlock(&e->lock);
}

void engine_on_air(struct engine *e, engine_air_fn fn, void *arg)
{
	pthread_mutex_lock(&e->lock);
	e->on_air = fn;
	e->on_air_arg = arg;
	pthread_mutex_unlock(&e->lock);
}

struct tts *engine_tts(struct engine *e)
{
	return e->tts;
}

int engine_rotate_key(struct engine *e, uint32_t *id, char *err, size_t errlen)
{
	if (keys_rotate(e->keys, id, err, errlen))
		return -1;
	pthread_mutex_lock(&e->lock);
	pthread_cond_signal(&e->wake_pacer);
	pthread_mutex_unlock(&e->lock);
	return 0;
}
