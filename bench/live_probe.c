/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The microphone and the ear of the live-announcement tests and of bench/live_latency.sh.
 *   feed FIFO HZ SECONDS [RATE]   a sine of HZ for SECONDS, then silence, 20 ms every 20 ms;
 *                                 RATE 1.05 writes 5 % faster (a microphone whose clock runs
 *                                 fast against the head-end's), 0.95 5 % slower
 *   clicks FIFO N EVERY_MS LOG    silence with a click every EVERY_MS, N times; LOG gets the
 *                                 CLOCK_MONOTONIC time (ns) each click was written
 *   listen PORT N LOG [KEY GROUP...]   decodes RTP/Opus on PORT (joined to the GROUPs on
 *                                 127.0.0.1, checked against the head-end's KEY as an endpoint
 *                                 checks it; without KEY plain RTP on 127.0.0.1, as a peer
 *                                 sends it) and writes the time each of N clicks was decoded
 * A writer keeps the FIFO open with silence after its part until it is killed, so that the
 * head-end's capture stays paced. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <opus/opus.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"
#include "proto/sign.h"
#include "proto/verify.h"

#define RATE 48000
#define CHUNK 960
#define CLICK_SAMPLES 240	/* 5 ms, nearly full scale */
#define LOUD 8000		/* a decoded sample above this is the click */
#define QUIET_FRAMES 5		/* quiet frames before a click counts as a new one */

static int64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static long period_ns = 20000000L;	/* 20 ms of audio written every period_ns */

static void tick(struct timespec *next)
{
	next->tv_nsec += period_ns;
	if (next->tv_nsec >= 1000000000L) {
		next->tv_nsec -= 1000000000L;
		next->tv_sec++;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
		;
}

static int put(FILE *f, const int16_t *pcm)
{
	return fwrite(pcm, sizeof(*pcm), CHUNK, f) == CHUNK && fflush(f) == 0 ? 0 : -1;
}

/* Chunk after chunk on the 20 ms clock; make fills chunk i, returning 1 for the last one of
 * its part. Silence follows until the reader goes or the writer is killed. */
static int writer(const char *fifo, int (*make)(void *, long, int16_t *), void *arg)
{
	FILE *f = fopen(fifo, "wb");
	int16_t pcm[CHUNK];
	struct timespec next;
	int done = 0;

	if (!f) {
		fprintf(stderr, "live_probe: %s: %s\n", fifo, strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (long i = 0;; i++) {
		memset(pcm, 0, sizeof(pcm));
		if (!done)
			done = make(arg, i, pcm);
		if (put(f, pcm))
			break;
		tick(&next);
	}
	fclose(f);
	return 0;
}

struct tone {
	double hz;
	long chunks;
};

static int make_tone(void *arg, long i, int16_t *pcm)
{
	const struct tone *t = arg;

	for (int k = 0; k < CHUNK; k++)
		pcm[k] = (int16_t)(12000 * sin(2 * M_PI * t->hz * (double)(i * CHUNK + k) / RATE));
	return i + 1 >= t->chunks;
}

struct clicks {
	long n, every;		/* clicks, chunks between them */
	FILE *log;
};

static int make_click(void *arg, long i, int16_t *pcm)
{
	struct clicks *c = arg;

	if (i < 25 || (i - 25) % c->every)
		return 0;
	/* a burst of 1 kHz, well inside the band the speech encoder keeps */
	for (int k = 0; k < CLICK_SAMPLES; k++)
		pcm[k] = (int16_t)(30000 * sin(2 * M_PI * 1000.0 * k / RATE));
	fprintf(c->log, "%lld\n", (long long)mono_ns());
	fflush(c->log);
	return (i - 25) / c->every + 1 >= c->n;
}

static int join(int fd, const char *group)
{
	struct ip_mreq m = { .imr_interface.s_addr = htonl(INADDR_LOOPBACK) };

	if (inet_pton(AF_INET, group, &m.imr_multiaddr) != 1)
		return -1;
	return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
}

/* The ear: every verified (or, for a peer, every) RTP packet is decoded at once, in order of
 * arrival; a click is the first loud sample after quiet. */
static int listen_clicks(int port, long n, const char *logpath, const char *key, char **groups,
			 int n_groups)
{
	struct sockaddr_in at = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, zero = 0, oe, quiet = QUIET_FRAMES;
	OpusDecoder *dec = opus_decoder_create(RATE, 1, &oe);
	struct proto_verifier v;
	unsigned char pk[PROTO_PUBLIC_KEY], buf[PROTO_MAX_PACKET];
	FILE *log = fopen(logpath, "w");
	char err[256];
	long heard = 0;
	int64_t deadline = mono_ns() + (int64_t)(n * 3 + 30) * 1000000000;

	at.sin_addr.s_addr = htonl(key ? INADDR_ANY : INADDR_LOOPBACK);
	if (fd < 0 || !dec || !log ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&at, sizeof(at))) {
		fprintf(stderr, "live_probe: listen on port %d: %s\n", port, strerror(errno));
		return 1;
	}
	for (int g = 0; g < n_groups; g++)
		if (join(fd, groups[g])) {
			fprintf(stderr, "live_probe: join %s: %s\n", groups[g], strerror(errno));
			return 1;
		}
	if (key) {
		if (proto_crypto_init() || proto_key_load(key, pk, err, sizeof(err))) {
			fprintf(stderr, "live_probe: %s\n", err);
			return 1;
		}
		proto_verifier_init(&v, pk, 10000, (uint64_t)time(NULL) * 1000u);
	}
	while (heard < n && mono_ns() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct proto_control c;
		struct proto_rtp r;
		opus_int16 pcm[CHUNK * 3];
		ssize_t len;
		int loud = 0, got;

		if (poll(&p, 1, 500) <= 0 || (len = recv(fd, buf, sizeof(buf), 0)) <= 0)
			continue;
		if (key && proto_classify(buf, (size_t)len) == PROTO_PACKET_CONTROL) {
			struct timespec w;

			clock_gettime(CLOCK_REALTIME, &w);
			/* MANIFESTs teach the verifier the hashes of the audio to come */
			proto_verifier_control(&v, buf, (size_t)len, (uint64_t)w.tv_sec * 1000u +
					       (uint64_t)w.tv_nsec / 1000000u, &c);
			continue;
		}
		if (proto_classify(buf, (size_t)len) != PROTO_PACKET_RTP ||
		    len <= PROTO_RTP_HEADER)
			continue;
		r.payload = buf + PROTO_RTP_HEADER;
		r.payload_len = (size_t)len - PROTO_RTP_HEADER;
		if (key && (proto_rtp_parse(buf, (size_t)len, &r) != PROTO_OK ||
			    proto_verifier_audio(&v, buf, (size_t)len, &r) != PROTO_ACCEPT))
			continue;
		got = opus_decode(dec, r.payload, (opus_int32)r.payload_len, pcm, CHUNK * 3, 0);
		for (int k = 0; k < got; k++)
			loud |= pcm[k] > LOUD || pcm[k] < -LOUD;
		if (loud && quiet >= QUIET_FRAMES) {
			fprintf(log, "%lld\n", (long long)mono_ns());
			fflush(log);
			heard++;
		}
		quiet = loud ? 0 : quiet + 1;
	}
	fclose(log);
	opus_decoder_destroy(dec);
	close(fd);
	return heard == n ? 0 : 2;
}

int main(int argc, char **argv)
{
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "feed")) {
		struct tone t = { strtod(argv[3], NULL), (long)(strtod(argv[4], NULL) * 50) };
		double rate = argc == 6 ? strtod(argv[5], NULL) : 1.0;

		if (rate < 0.5 || rate > 2.0)
			return 64;
		period_ns = (long)(20000000.0 / rate);

		return writer(argv[2], make_tone, &t);
	}
	if (argc == 6 && !strcmp(argv[1], "clicks")) {
		struct clicks c = { strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10) / 20,
				    fopen(argv[5], "w") };

		if (!c.log || c.every < 1)
			return 64;
		return writer(argv[2], make_click, &c);
	}
	if (argc >= 5 && !strcmp(argv[1], "listen"))
		return listen_clicks((int)strtol(argv[2], NULL, 10), strtol(argv[3], NULL, 10),
				     argv[4], argc > 5 ? argv[5] : NULL, argv + 6,
				     argc > 6 ? argc - 6 : 0);
	fprintf(stderr, "usage: live_probe feed FIFO HZ SECONDS [RATE] |\n"
		"       clicks FIFO N EVERY_MS LOG |\n"
		"       listen PORT N LOG [KEY GROUP...]\n");
	return 64;
}
