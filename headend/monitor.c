/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The local monitor's thread: one socket joined to a listener's groups, the protocol's checks
 * (docs/protocol.md, section 6) through proto/verify.c, one Opus decoder and the ALSA device.
 * A lost packet is concealed (its successor's in-band FEC first); a broadcast ends with its END
 * addressed to the listener, with another broadcast's START, or after 3 s without a packet.
 * Changing the zone stops the thread and starts another: it wakes every 200 ms to look. */
#include "headend/monitor.h"

#include <alsa/asoundlib.h>
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <opus/opus.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "headend/clock.h"
#include "headend/keys.h"
#include "headend/log.h"
#include "proto/sign.h"
#include "proto/verify.h"

#define RATE 48000
#define FRAME 960
#define QUIET_MS 3000		/* a broadcast without packets this long is over */
#define CONCEAL_MAX 25		/* lost frames concealed in one gap, at most */
#define CLOCK_TOLERANCE_MS 10000

struct heard {			/* counters of what the monitor played and refused */
	unsigned long broadcasts, frames, lost, concealed, rejected, alsa_errors;
};

struct monitor {
	const struct headend_config *cfg;
	const struct zones *z;
	pthread_mutex_t lock;	/* guards what GET /v1/monitor reads */
	pthread_mutex_t change;	/* one change of zone at a time */

	/* the running thread's, set before it starts */
	pthread_t thread;
	int running;
	volatile int stop;
	int sock;
	snd_pcm_t *pcm;
	OpusDecoder *dec;
	struct proto_verifier ver;
	uint64_t listener;	/* the loudspeaker the monitor listens as */
	char zone[CONFIG_STR_MAX];

	/* the broadcast being played, thread only */
	int playing;
	uint32_t broadcast;
	uint16_t expect;	/* sequence number of the next packet */
	int any;		/* a packet of it has been played */
	uint64_t last_ms;

	/* under lock */
	struct heard heard;
	uint32_t now_playing;
	char now_kind[16];
	char last_error[CONFIG_STR_MAX + 64];
};

static void count(struct monitor *m, unsigned long *what, unsigned long n)
{
	pthread_mutex_lock(&m->lock);
	*what += n;
	pthread_mutex_unlock(&m->lock);
}

/* n samples to the device; an underrun between broadcasts is normal and mended. */
static void out(struct monitor *m, const opus_int16 *pcm, int n)
{
	snd_pcm_sframes_t w = snd_pcm_writei(m->pcm, pcm, (snd_pcm_uframes_t)n);

	if (w < 0 && snd_pcm_recover(m->pcm, (int)w, 1) == 0)
		w = snd_pcm_writei(m->pcm, pcm, (snd_pcm_uframes_t)n);
	if (w < 0) {
		pthread_mutex_lock(&m->lock);
		if (!m->heard.alsa_errors++)
			log_warn("monitor: ALSA playback device \"%s\": %s",
				 m->cfg->monitor_device, snd_strerror((int)w));
		snprintf(m->last_error, sizeof(m->last_error), "ALSA playback device \"%s\": %s",
			 m->cfg->monitor_device, snd_strerror((int)w));
		pthread_mutex_unlock(&m->lock);
	}
}

/* payload NULL: a frame lost and concealed; fec: the frame before payload's, from it. */
static void play(struct monitor *m, const unsigned char *payload, size_t len, int fec)
{
	opus_int16 pcm[FRAME];
	int n = opus_decode(m->dec, payload, (opus_int32)len, pcm, FRAME, fec);

	if (n <= 0) {
		count(m, &m->heard.rejected, 1);
		return;
	}
	out(m, pcm, n);
	count(m, payload && !fec ? &m->heard.frames : &m->heard.concealed, 1);
}

static void over(struct monitor *m, const char *how)
{
	if (!m->playing)
		return;
	m->playing = 0;
	log_info("monitor: broadcast %u in %s over (%s)", m->broadcast, m->zone, how);
	pthread_mutex_lock(&m->lock);
	m->now_playing = 0;
	m->now_kind[0] = '\0';
	pthread_mutex_unlock(&m->lock);
}

static void begin(struct monitor *m, const struct proto_control *c)
{
	if (m->playing && m->broadcast == c->broadcast)
		return;
	over(m, "another broadcast started");
	m->playing = 1;
	m->broadcast = c->broadcast;
	m->expect = c->seq;
	m->any = 0;
	m->last_ms = clock_mono_ms();
	opus_decoder_ctl(m->dec, OPUS_RESET_STATE);
	log_info("monitor: broadcast %u (%s) heard in %s", c->broadcast, proto_kind_name(c->kind),
		 m->zone);
	pthread_mutex_lock(&m->lock);
	m->heard.broadcasts++;
	m->now_playing = c->broadcast;
	snprintf(m->now_kind, sizeof(m->now_kind), "%s", proto_kind_name(c->kind));
	pthread_mutex_unlock(&m->lock);
}

static void on_control(struct monitor *m, const unsigned char *buf, size_t len)
{
	struct proto_control c;

	if (proto_verifier_control(&m->ver, buf, len, clock_wall_ms(), &c) != PROTO_ACCEPT) {
		count(m, &m->heard.rejected, 1);
		return;
	}
	if ((c.type != PROTO_START && c.type != PROTO_END) ||
	    !proto_control_addresses(&c, m->listener))
		return;
	if (c.type == PROTO_START)
		begin(m, &c);
	else if (m->playing && c.broadcast == m->broadcast)
		over(m, "END");
}

static void on_audio(struct monitor *m, const unsigned char *buf, size_t len)
{
	struct proto_rtp r;
	int16_t ahead;

	if (proto_rtp_parse(buf, len, &r) != PROTO_OK) {
		count(m, &m->heard.rejected, 1);
		return;
	}
	if (!m->playing || r.ssrc != m->broadcast)
		return;
	ahead = (int16_t)(r.seq - m->expect);
	if (ahead < 0)
		return;		/* a second copy of what has played */
	if (proto_verifier_audio(&m->ver, buf, len, &r) != PROTO_ACCEPT) {
		count(m, &m->heard.rejected, 1);
		return;
	}
	if (m->any && ahead > 0) {
		count(m, &m->heard.lost, (unsigned long)ahead);
		for (int k = 1; k < ahead && k <= CONCEAL_MAX; k++)
			play(m, NULL, 0, 0);
		play(m, r.payload, r.payload_len, 1);
	}
	play(m, r.payload, r.payload_len, 0);
	m->any = 1;
	m->expect = (uint16_t)(r.seq + 1);
	m->last_ms = clock_mono_ms();
}

/* Every datagram waiting on the socket, each to its parser. */
static void drain(struct monitor *m)
{
	unsigned char buf[PROTO_MAX_PACKET + 1];
	ssize_t n;

	while ((n = recv(m->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC)) > 0) {
		if ((size_t)n > PROTO_MAX_PACKET)
			count(m, &m->heard.rejected, 1);
		else if (proto_classify(buf, (size_t)n) == PROTO_PACKET_RTP)
			on_audio(m, buf, (size_t)n);
		else if (proto_classify(buf, (size_t)n) == PROTO_PACKET_CONTROL)
			on_control(m, buf, (size_t)n);
	}
}

static void *monitor_main(void *arg)
{
	struct monitor *m = arg;

	while (!m->stop) {
		struct pollfd p = { .fd = m->sock, .events = POLLIN };

		if (poll(&p, 1, 200) > 0)
			drain(m);
		if (m->playing && clock_mono_ms() - m->last_ms > QUIET_MS)
			over(m, "no packet for 3 s");
	}
	over(m, "monitor stopped");
	return NULL;
}

/* The socket of the listener's groups, joined on multicast.interface. IP_MULTICAST_ALL is
 * off, or the socket would also hear the groups other sockets of this host joined. */
static int open_socket(struct monitor *m, const struct in_addr *groups, size_t n, char *err,
		       size_t errlen)
{
	struct sockaddr_in at = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)m->cfg->mc_port) };
	int one = 1, zero = 0;
	char g[INET_ADDRSTRLEN], i[INET_ADDRSTRLEN];

	m->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (m->sock < 0 || setsockopt(m->sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(m->sock, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    bind(m->sock, (struct sockaddr *)&at, sizeof(at))) {
		snprintf(err, errlen, "monitor socket on port %d: %s", m->cfg->mc_port,
			 strerror(errno));
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		struct ip_mreq mr = { .imr_multiaddr = groups[k],
				      .imr_interface = m->cfg->mc_interface };

		if (setsockopt(m->sock, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr))) {
			snprintf(err, errlen, "monitor: join %s on %s: %s",
				 inet_ntop(AF_INET, &groups[k], g, sizeof(g)),
				 inet_ntop(AF_INET, &m->cfg->mc_interface, i, sizeof(i)),
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The loudspeaker the monitor listens as: the first of the directory that zone reaches. */
static int listener_of(struct monitor *m, const char *zone, uint32_t *ep, char *err,
		       size_t errlen)
{
	struct zones_selection sel;
	int rc = -1;

	if (zones_selection_init(&sel, m->z) != ZONES_OK) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (zones_resolve(m->z, zone, &sel, err, errlen) == ZONES_OK)
		for (uint32_t k = 0; rc && k < m->z->n_endpoints; k++)
			if (zones_selection_has(m->z, &sel, k)) {
				*ep = k;
				rc = 0;
			}
	zones_selection_free(&sel);
	return rc;
}

static void release(struct monitor *m)
{
	if (m->sock >= 0)
		close(m->sock);
	m->sock = -1;
	if (m->pcm) {
		snd_pcm_drain(m->pcm);
		snd_pcm_close(m->pcm);
	}
	m->pcm = NULL;
	if (m->dec)
		opus_decoder_destroy(m->dec);
	m->dec = NULL;
}

/* Under change: stop the thread of the zone monitored until now. */
static void halt(struct monitor *m)
{
	if (!m->running)
		return;
	m->stop = 1;
	pthread_join(m->thread, NULL);
	m->running = 0;
	m->stop = 0;
	release(m);
	log_info("monitor: stopped listening in %s", m->zone);
	pthread_mutex_lock(&m->lock);
	m->zone[0] = '\0';
	pthread_mutex_unlock(&m->lock);
}

/* Under change: what a new zone needs, then its thread. */
static int start(struct monitor *m, const char *zone, char *err, size_t errlen)
{
	char key[PATH_MAX + 16];
	unsigned char pk[PROTO_PUBLIC_KEY];
	struct in_addr groups[ZONES_MAX_GROUPS];
	uint32_t ep;
	int oe, rc;

	if (listener_of(m, zone, &ep, err, errlen))
		return 422;
	snprintf(key, sizeof(key), "%s/%s", m->cfg->state_dir, KEYS_PUBLIC_FILE);
	if (proto_key_load(key, pk, err, errlen))
		return 503;
	proto_verifier_init(&m->ver, pk, CLOCK_TOLERANCE_MS, clock_wall_ms());
	m->listener = m->z->endpoints[ep].id;
	zones_endpoint_groups(m->z, ep, m->cfg->mc_base, groups);
	m->dec = opus_decoder_create(RATE, 1, &oe);
	if (!m->dec) {
		snprintf(err, errlen, "opus decoder: %s", opus_strerror(oe));
		return 503;
	}
	/* Not blocking on a device another program holds (EBUSY at once); writes then block. */
	rc = snd_pcm_open(&m->pcm, m->cfg->monitor_device, SND_PCM_STREAM_PLAYBACK,
			  SND_PCM_NONBLOCK);
	if (rc >= 0)
		rc = snd_pcm_nonblock(m->pcm, 0);
	if (rc >= 0)
		rc = snd_pcm_set_params(m->pcm, SND_PCM_FORMAT_S16_LE,
					SND_PCM_ACCESS_RW_INTERLEAVED, 1, RATE, 1, 200000);
	if (rc < 0) {
		snprintf(err, errlen, "cannot open ALSA playback device \"%s\": %s",
			 m->cfg->monitor_device, snd_strerror(rc));
		if (m->pcm)
			snd_pcm_close(m->pcm);
		m->pcm = NULL;
		release(m);
		return 503;
	}
	if (open_socket(m, groups, ZONES_MAX_GROUPS, err, errlen)) {
		release(m);
		return 503;
	}
	pthread_mutex_lock(&m->lock);
	snprintf(m->zone, sizeof(m->zone), "%s", zone);
	memset(&m->heard, 0, sizeof(m->heard));
	m->last_error[0] = '\0';
	pthread_mutex_unlock(&m->lock);
	m->playing = 0;
	rc = pthread_create(&m->thread, NULL, monitor_main, m);
	if (rc) {
		snprintf(err, errlen, "cannot start the monitor thread: %s", strerror(rc));
		release(m);
		return 503;
	}
	m->running = 1;
	log_info("monitor: listening in %s as endpoint %llu, playing on ALSA device \"%s\"",
		 zone, (unsigned long long)m->listener, m->cfg->monitor_device);
	return 0;
}

int monitor_set(struct monitor *m, const char *zone, char *err, size_t errlen)
{
	int rc = 0;

	char was[sizeof(m->zone)], why[256];
	uint32_t ep;

	pthread_mutex_lock(&m->change);
	/* A zone the directory does not know changes nothing. */
	if (*zone && listener_of(m, zone, &ep, err, errlen)) {
		pthread_mutex_unlock(&m->change);
		return 422;
	}
	pthread_mutex_lock(&m->lock);
	snprintf(was, sizeof(was), "%s", m->zone);
	pthread_mutex_unlock(&m->lock);
	halt(m);
	if (*zone)
		rc = start(m, zone, err, errlen);
	/* Nor does a device that will not open: the duty officer keeps what was heard. */
	if (rc && *was && start(m, was, why, sizeof(why)))
		log_warn("monitor: cannot listen in %s again: %s", was, why);
	pthread_mutex_unlock(&m->change);
	return rc;
}

char *monitor_json(struct monitor *m)
{
	json_t *o;
	char *text;

	pthread_mutex_lock(&m->lock);
	o = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "zone", m->zone,
		      "device", m->cfg->monitor_device, "on", m->zone[0] != '\0',
		      "broadcasts", (json_int_t)m->heard.broadcasts,
		      "frames", (json_int_t)m->heard.frames, "lost", (json_int_t)m->heard.lost,
		      "concealed", (json_int_t)m->heard.concealed,
		      "rejected", (json_int_t)m->heard.rejected,
		      "alsa_errors", (json_int_t)m->heard.alsa_errors);
	if (o && m->zone[0])
		json_object_set_new(o, "listener", json_sprintf("%llu",
				    (unsigned long long)m->listener));
	if (o && m->now_playing)
		json_object_set_new(o, "playing", json_pack("{s:i, s:s}", "broadcast",
				    (json_int_t)m->now_playing, "kind", m->now_kind));
	if (o && m->last_error[0])
		json_object_set_new(o, "last_error", json_string(m->last_error));
	pthread_mutex_unlock(&m->lock);
	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	json_decref(o);
	return text;
}

int monitor_open(struct monitor **out, const struct headend_config *cfg, const struct zones *z,
		 char *err, size_t errlen)
{
	struct monitor *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->cfg = cfg;
	m->z = z;
	m->sock = -1;
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->change, NULL);
	/* The head-end broadcasts without its duty officer's speaker: a monitor that cannot
	 * start is a warning, not a reason to stay off the air. */
	if (cfg->monitor_zone[0] && monitor_set(m, cfg->monitor_zone, err, errlen))
		log_warn("monitor: monitor.zone \"%s\" with monitor.device \"%s\" does not "
			 "start, the monitor is off (POST /v1/monitor starts it): %s",
			 cfg->monitor_zone, cfg->monitor_device, err);
	*out = m;
	return 0;
}

void monitor_close(struct monitor *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->change);
	halt(m);
	pthread_mutex_unlock(&m->change);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->change);
	free(m);
}
