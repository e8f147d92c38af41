/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The reference loudspeaker that firmware follows: joins its district, town and village groups,
 * verifies every packet against the head-end's key (signatures, replay and clock windows, audio
 * hashes), follows START/END control packets, decodes Opus with loss concealment and in-band
 * FEC, and writes what it hears to a WAV file or an ALSA device. It counts what it rejects, by
 * reason, and reports its state to the head-end, signed with a key of its own (回传).
 * docs/protocol.md is its specification. */
#include <alsa/asoundlib.h>
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <netinet/in.h>
#include <opus/opus.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"
#include "proto/report.h"
#include "proto/sign.h"
#include "proto/verify.h"
#include "tools/common.h"
#include "zones/zones.h"

#define RATE 48000
#define FRAME 960
#define RECENT 16
#define VERSION "cx-endpoint " CX_VERSION	/* sent in every status report */

struct options {
	const char *config, *out, *alsa;
	uint64_t id;
	long count;		/* 0: run until signalled */
	double timeout;		/* seconds, 0: none */
};

struct settings {
	char zones[512];
	char key[512];		/* the head-end's public key file */
	struct in_addr interface, base;
	int port;
	int silence_ms;
	int tolerance_ms;	/* clock difference allowed between head-end and endpoint */
	int report;		/* 0: report.address is "", no status reports */
	struct in_addr report_address;
	int report_port, report_period_s;
	char report_key[512];	/* this endpoint's seed file, or the folder of ID.key files */
};

struct reporter {		/* status reports to the head-end, docs/protocol.md section 8 */
	int sock;
	struct sockaddr_in to;
	unsigned char sk[PROTO_SECRET_KEY];
	uint32_t key_id, seq;
	uint64_t boot;
	double started, next;	/* monotonic: start, next periodic report */
	int now;		/* the state changed: report at once */
	int failing;		/* the last send failed (said once) */
	uint32_t last;		/* the broadcast last played to its end or cut */
	int alsa_fault;		/* the sound device fails */
	int recovered;		/* a fault cleared: the next report says so */
};

struct counts {
	unsigned long received, lost, frames;
	unsigned long rejected[PROTO_REJECT_COUNT];	/* by reason; [PROTO_ACCEPT] unused */
	unsigned long ignored;		/* harmless: another broadcast's, or a duplicate */
	unsigned long duplicates;	/* audio behind the playing point: a second copy */
	unsigned long missed;		/* frames before the first one heard (a late join) */
};

struct broadcast {
	int active;
	struct proto_control start;
	uint16_t next_seq;
	int have_seq;
	struct counts c;
	double last_packet;
};

struct endpoint {
	struct options opt;
	struct settings set;
	int sock;
	OpusDecoder *dec;
	FILE *wav;
	unsigned long wav_samples;
	int wav_error;			/* errno of the first failed write, 0 if none */
	snd_pcm_t *pcm;
	struct broadcast cur;
	uint32_t finished[RECENT];	/* ids already played, so late START copies are ignored */
	unsigned n_finished;
	long played;
	struct counts total;		/* finished broadcasts and the time between them */
	struct proto_verifier ver;
	struct reporter rep;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The clock packets' sent_ms is compared with: ms since 1970 UTC. */
static void usage(FILE *f)
{
	fprintf(f, "usage: endpoint --id ENDPOINT_ID [--config FILE] [--out FILE.wav] "
		"[--alsa DEVICE]\n                [--count N] [--timeout SECONDS]\n"
		"  --id       15-digit endpoint id from the directory\n"
		"  --config   settings (default etc/endpoint.cfg)\n"
		"  --out      write every broadcast into this WAV file (48 kHz mono), one after\n"
		"             the other; the file is replaced at start\n"
		"  --alsa     play through this ALSA device\n"
		"  --count    exit with status 0 after N broadcasts\n"
		"  --timeout  exit with status 2 if fewer than N were played by then\n");
}

static int parse_id(const char *s, uint64_t *id)
{
	uint64_t v = 0;

	if (strlen(s) != 15)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*id = v;
	return 0;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' }, { "config", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' }, { "alsa", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, have_id = 0;
	double v;

	o->config = "etc/endpoint.cfg";
	while ((c = getopt_long(argc, argv, "i:c:o:a:n:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_id(optarg, &o->id))
				goto bad;
			have_id = 1;
			break;
		case 'c': o->config = optarg; break;
		case 'o': o->out = optarg; break;
		case 'a': o->alsa = optarg; break;
		case 'n':
			if (tool_number(optarg, 1, 1e6, &v) || v != (long)v)
				goto bad;
			o->count = (long)v;
			break;
		case 't':
			if (tool_number(optarg, 0.001, 1e7, &o->timeout))
				goto bad;
			break;
		case 'h': usage(stdout); exit(0);
		default: goto bad;
		}
	}
	if (have_id && optind == argc)
		return;
bad:
	if (optind > 0 && optind <= argc && optarg)
		fprintf(stderr, "endpoint: bad value \"%s\"\n", optarg);
	usage(stderr);
	exit(64);
}

/* Which head-end to believe, and how far its clock may be from ours. */
static int load_trust(config_t *cf, const char *path, struct settings *s, char *err,
		      size_t errlen)
{
	const char *key = "var/headend.pub";
	int tolerance = 10000;

	config_lookup_string(cf, "key", &key);
	if (!*key || strlen(key) >= sizeof(s->key)) {
		snprintf(err, errlen, "%s: key must name the head-end's public key file", path);
		return -1;
	}
	if ((config_lookup(cf, "clock_tolerance_ms") &&
	     !config_lookup_int(cf, "clock_tolerance_ms", &tolerance)) ||
	    tolerance < 100 || tolerance > 3600000) {
		snprintf(err, errlen, "%s: clock_tolerance_ms must be an integer 100..3600000",
			 path);
		return -1;
	}
	memcpy(s->key, key, strlen(key) + 1);
	s->tolerance_ms = tolerance;
	return 0;
}

/* The line of setting name in cf, 0 if it is not there. */
static int line_of(config_t *cf, const char *name)
{
	const config_setting_t *set = config_lookup(cf, name);

	return set ? config_setting_source_line(set) : 0;
}

/* Where status reports go, how often, and the key that signs them. */
static int load_report(config_t *cf, const char *path, struct settings *s, char *err,
		       size_t errlen)
{
	const char *address = "127.0.0.1", *key = "var/endpoint-keys";
	int port = 5005, period = 30;
	uint32_t a;

	if (config_lookup(cf, "report") && !config_setting_is_group(config_lookup(cf, "report"))) {
		snprintf(err, errlen, "%s:%d: report must be a group { address = ...; port = ...; "
			 "period_s = ...; key = ...; }", path, line_of(cf, "report"));
		return -1;
	}
	if ((config_lookup(cf, "report.address") &&
	     !config_lookup_string(cf, "report.address", &address)) ||
	    (*address && inet_pton(AF_INET, address, &s->report_address) != 1) ||
	    (*address && ((a = ntohl(s->report_address.s_addr)) == INADDR_ANY ||
			  IN_MULTICAST(a) || a == INADDR_BROADCAST))) {
		snprintf(err, errlen, "%s:%d: report.address must be the head-end's unicast IPv4 "
			 "address, or \"\" for no reports", path, line_of(cf, "report.address"));
		return -1;
	}
	if ((config_lookup(cf, "report.port") && !config_lookup_int(cf, "report.port", &port)) ||
	    port < 1 || port > 65535) {
		snprintf(err, errlen, "%s:%d: report.port must be an integer 1..65535", path,
			 line_of(cf, "report.port"));
		return -1;
	}
	if ((config_lookup(cf, "report.period_s") &&
	     !config_lookup_int(cf, "report.period_s", &period)) || period < 1 || period > 3600) {
		snprintf(err, errlen, "%s:%d: report.period_s must be an integer 1..3600 (the "
			 "head-end's reports.period_s)", path, line_of(cf, "report.period_s"));
		return -1;
	}
	if ((config_lookup(cf, "report.key") && !config_lookup_string(cf, "report.key", &key)) ||
	    !*key || strlen(key) >= sizeof(s->report_key)) {
		snprintf(err, errlen, "%s:%d: report.key must name this endpoint's report key "
			 "file, or the folder of ID.key files", path, line_of(cf, "report.key"));
		return -1;
	}
	s->report = *address != '\0';
	s->report_port = port;
	s->report_period_s = period;
	memcpy(s->report_key, key, strlen(key) + 1);
	return 0;
}

/* Reads etc/endpoint.cfg; an error names the file, the line if known, and the setting. */
/* A misspelt setting would leave its default in force without a word, and the loudspeaker
 * would listen on the wrong port: refuse it, naming it and its line. */
static int check_names(const config_setting_t *group, const char *path, char *err,
		       size_t errlen)
{
	static const char *const known[] = {
		"zones", "multicast", "silence_ms", "key", "clock_tolerance_ms",
		"multicast.interface", "multicast.base", "multicast.port", "report",
		"report.address", "report.port", "report.period_s", "report.key",
	};

	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *parent = config_setting_name(group);
		char name[128];
		size_t k = 0;

		snprintf(name, sizeof(name), "%s%s%s", parent ? parent : "", parent ? "." : "",
			 config_setting_name(s));
		while (k < sizeof(known) / sizeof(known[0]) && strcmp(name, known[k]))
			k++;
		if (k == sizeof(known) / sizeof(known[0])) {
			snprintf(err, errlen, "%s:%d: unknown setting %s", path,
				 config_setting_source_line(s), name);
			return -1;
		}
		if (config_setting_is_group(s) && check_names(s, path, err, errlen))
			return -1;
	}
	return 0;
}

static int load_settings(const char *path, struct settings *s, char *err, size_t errlen)
{
	config_t cf;
	const char *zones = "etc/zones.csv";
	int rc = -1, port = 5004, silence = 3000;

	inet_pton(AF_INET, "127.0.0.1", &s->interface);
	inet_pton(AF_INET, "239.192.0.0", &s->base);
	if (tool_config_read(&cf, path, err, errlen))
		goto out;
	if (check_names(config_root_setting(&cf), path, err, errlen))
		goto out;
	config_lookup_string(&cf, "zones", &zones);
	if (strlen(zones) >= sizeof(s->zones) ||
	    (config_lookup(&cf, "multicast.port") && !config_lookup_int(&cf, "multicast.port",
									&port)) ||
	    port < 1 || port > 65535) {
		snprintf(err, errlen, "%s: zones or multicast.port is not valid", path);
		goto out;
	}
	if (tool_config_address(&cf, "multicast.interface", &s->interface) ||
	    tool_config_address(&cf, "multicast.base", &s->base)) {
		snprintf(err, errlen, "%s: multicast.interface and multicast.base must be IPv4 "
			 "addresses", path);
		goto out;
	}

	/* The same rules as the head-end's: a /14 of 239.0.0.0/8, a unicast interface. */
	if ((ntohl(s->base.s_addr) >> 24) != 239 || (ntohl(s->base.s_addr) & 0x3ffffu) ||
	    ntohl(s->base.s_addr) == 0xeffc0000u) {
		snprintf(err, errlen, "%s: multicast.base must start a /14 of 239.0.0.0/8, as the "
			 "head-end's does", path);
		goto out;
	}
	if (s->interface.s_addr == INADDR_ANY || IN_MULTICAST(ntohl(s->interface.s_addr))) {
		snprintf(err, errlen, "%s: multicast.interface must be the unicast IPv4 "
			 "address of one interface", path);
		goto out;
	}
	if ((config_lookup(&cf, "silence_ms") && !config_lookup_int(&cf, "silence_ms",
								    &silence)) ||
	    silence < 100 || silence > 600000) {
		snprintf(err, errlen, "%s: silence_ms must be an integer 100..600000", path);
		goto out;
	}
	if (load_trust(&cf, path, s, err, errlen) || load_report(&cf, path, s, err, errlen))
		goto out;
	memcpy(s->zones, zones, strlen(zones) + 1);
	s->port = port;
	s->silence_ms = silence;
	rc = 0;
out:
	config_destroy(&cf);
	return rc;
}

/* One socket joined to the endpoint's groups on the named interface. IP_MULTICAST_ALL off:
 * otherwise a socket bound to the port hears every group anyone on this host has joined. */
static int open_socket(const struct settings *s, const struct in_addr *groups, size_t n,
		       char *err, size_t errlen)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)s->port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, zero = 0;
	int rcvbuf = 1 << 20;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any))) {
		snprintf(err, errlen, "socket on port %d: %s", s->port, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct ip_mreq m = { .imr_multiaddr = groups[i], .imr_interface = s->interface };

		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m))) {
			char g[INET_ADDRSTRLEN], a[INET_ADDRSTRLEN];

			snprintf(err, errlen, "join %s on interface %s: %s",
				 inet_ntop(AF_INET, &groups[i], g, sizeof(g)),
				 inet_ntop(AF_INET, &s->interface, a, sizeof(a)), strerror(errno));
			goto fail;
		}
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void put_le(unsigned char *p, uint32_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Rewrite the RIFF header for the samples so far, so the file is valid after every broadcast
 * and not only after a clean exit. */
static void wav_header(struct endpoint *ep)
{
	unsigned char h[44];
	uint32_t data = (uint32_t)(ep->wav_samples * 2);

	memcpy(h, "RIFF", 4);
	put_le(h + 4, 36 + data, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le(h + 16, 16, 4);
	put_le(h + 20, 1, 2);		/* PCM */
	put_le(h + 22, 1, 2);		/* mono */
	put_le(h + 24, RATE, 4);
	put_le(h + 28, RATE * 2, 4);
	put_le(h + 32, 2, 2);
	put_le(h + 34, 16, 2);
	memcpy(h + 36, "data", 4);
	put_le(h + 40, data, 4);
	if (fseek(ep->wav, 0, SEEK_SET) || fwrite(h, sizeof(h), 1, ep->wav) != 1 ||
	    fseek(ep->wav, 0, SEEK_END) || fflush(ep->wav))
		fprintf(stderr, "endpoint: writing %s: %s\n", ep->opt.out, strerror(errno));
}

static int open_alsa(struct endpoint *ep, char *err, size_t errlen)
{
	int rc = snd_pcm_open(&ep->pcm, ep->opt.alsa, SND_PCM_STREAM_PLAYBACK, 0);

	if (rc >= 0)
		rc = snd_pcm_set_params(ep->pcm, SND_PCM_FORMAT_S16_LE,
					SND_PCM_ACCESS_RW_INTERLEAVED, 1, RATE, 1, 200000);
	if (rc < 0)
		snprintf(err, errlen, "ALSA device %s: %s", ep->opt.alsa, snd_strerror(rc));
	return rc < 0 ? -1 : 0;
}

static void play(struct endpoint *ep, const opus_int16 *pcm, int samples)
{
	if (ep->wav && !ep->wav_error) {
		/* One line for a full disk, not one a frame; the exit status says it too. */
		if (fwrite(pcm, sizeof(*pcm), (size_t)samples, ep->wav) != (size_t)samples) {
			ep->wav_error = errno ? errno : EIO;
			fprintf(stderr, "endpoint: writing %s: %s; no more audio is written "
				"there\n", ep->opt.out, strerror(ep->wav_error));
		}
		ep->wav_samples += (unsigned long)samples;

		/* Kept valid every second, so a loudspeaker killed mid-broadcast leaves a file
		 * that plays up to its last second. */
		if (ep->wav_samples % RATE < (unsigned long)samples)
			wav_header(ep);
	}
	if (ep->pcm) {
		snd_pcm_sframes_t n = snd_pcm_writei(ep->pcm, pcm, (snd_pcm_uframes_t)samples);

		if (n < 0 && snd_pcm_recover(ep->pcm, (int)n, 1) < 0) {
			if (!ep->rep.alsa_fault)
				ep->rep.now = 1;
			ep->rep.alsa_fault = 1;
			fprintf(stderr, "endpoint: ALSA %s: %s\n", ep->opt.alsa,
				snd_strerror((int)n));
		} else if (n >= 0 && ep->rep.alsa_fault) {
			ep->rep.alsa_fault = 0;
			ep->rep.recovered = ep->rep.now = 1;
		}
	}
	ep->cur.c.frames++;
}

/* Rejections count against the broadcast on air, else against the time between broadcasts. */
static void reject(struct endpoint *ep, enum proto_reject why)
{
	if (ep->cur.active)
		ep->cur.c.rejected[why]++;
	else
		ep->total.rejected[why]++;
}

static void ignore(struct endpoint *ep)
{
	if (ep->cur.active)
		ep->cur.c.ignored++;
	else
		ep->total.ignored++;
}

/* data NULL: conceal one lost frame; fec: recover the previous frame from this packet. A
 * verified packet that Opus cannot decode is the sender's fault: counted as malformed. */
static void decode(struct endpoint *ep, const unsigned char *data, size_t len, int fec)
{
	opus_int16 pcm[FRAME * 6];
	int n = opus_decode(ep->dec, data, (opus_int32)len, pcm, FRAME, fec);

	if (n < 0) {
		reject(ep, PROTO_REJECT_MALFORMED);
		return;
	}
	play(ep, pcm, n);
}

static unsigned long rejected(const struct counts *c)
{
	unsigned long n = 0;

	for (int r = PROTO_ACCEPT + 1; r < PROTO_REJECT_COUNT; r++)
		n += c->rejected[r];
	return n;
}

static uint32_t rejected_total(const struct endpoint *ep)
{
	return (uint32_t)(rejected(&ep->total) + rejected(&ep->cur.c));
}

/* "rejected 3 [bad signature 1, unknown key 0, ...]" */
static void print_rejected(const struct counts *c)
{
	printf("rejected %lu [", rejected(c));
	for (int r = PROTO_ACCEPT + 1; r < PROTO_REJECT_COUNT; r++)
		printf("%s%s %lu", r > PROTO_ACCEPT + 1 ? ", " : "",
		       proto_reject_name((enum proto_reject)r), c->rejected[r]);
	printf("]");
}

static void print_broadcast(const struct broadcast *b, const char *how)
{
	const struct proto_control *s = &b->start;

	printf("broadcast %u: %s", s->broadcast, proto_kind_name(s->kind));
	if (s->kind == PROTO_KIND_WARNING)
		printf(" %s %s %s", proto_signal_key(s->signal), proto_colour_name(s->colour),
		       proto_action_name(s->action));
	printf(", %.2f s of audio, packets received %lu, lost %lu, ", b->c.frames * 0.02,
	       b->c.received, b->c.lost);
	print_rejected(&b->c);
	printf(", duplicates %lu", b->c.duplicates);
	if (b->c.missed)
		printf(", joined late: missed the first %lu frames (%.2f s)", b->c.missed,
		       b->c.missed * 0.02);
	printf(" (%s)\n", how);
	fflush(stdout);
}

static void finish(struct endpoint *ep, const char *how)
{
	struct broadcast *b = &ep->cur;

	if (!b->active)
		return;
	print_broadcast(b, how);
	ep->total.received += b->c.received;
	ep->total.lost += b->c.lost;
	ep->total.frames += b->c.frames;
	ep->total.ignored += b->c.ignored;
	ep->total.duplicates += b->c.duplicates;
	for (int r = 0; r < PROTO_REJECT_COUNT; r++)
		ep->total.rejected[r] += b->c.rejected[r];
	ep->finished[ep->n_finished++ % RECENT] = b->start.broadcast;
	ep->rep.last = b->start.broadcast;
	ep->rep.now = 1;
	if (ep->wav)
		wav_header(ep);
	ep->played++;
	b->active = 0;
}

static int seen_before(const struct endpoint *ep, uint32_t id)
{
	for (unsigned i = 0; i < RECENT && i < ep->n_finished; i++)
		if (ep->finished[i] == id)
			return 1;
	return 0;
}

static void on_start(struct endpoint *ep, const struct proto_control *c)
{
	struct broadcast *b = &ep->cur;

	if (b->active && b->start.broadcast == c->broadcast) {
		b->start.frames = c->frames;
		return;
	}
	if (seen_before(ep, c->broadcast))
		return;
	finish(ep, "replaced by another broadcast");
	memset(b, 0, sizeof(*b));
	b->active = 1;
	b->start = *c;
	b->next_seq = c->seq;
	b->last_packet = tool_mono_s();
	opus_decoder_ctl(ep->dec, OPUS_RESET_STATE);
	ep->rep.now = 1;
}

/* A verified control packet. KEEPALIVE, MANIFEST and KEY have done their work in the
 * verifier; START and END count only where they address this endpoint. */
static void on_control(struct endpoint *ep, const struct proto_control *c)
{
	struct broadcast *b = &ep->cur;
	uint16_t tail;

	if (c->type != PROTO_START && c->type != PROTO_END)
		return;
	if (!proto_control_addresses(c, ep->opt.id)) {
		ignore(ep);
		return;
	}
	if (c->type == PROTO_START) {
		on_start(ep, c);
		return;
	}
	if (!b->active || b->start.broadcast != c->broadcast)
		return;

	/* Frames after the last one received never arrived: count them. */
	tail = (uint16_t)(c->seq + 1 - b->next_seq);
	if (tail < 0x8000)
		b->c.lost += tail;
	finish(ep, "end");
}

/* Audio plays only once its hash has matched a signed MANIFEST; nothing about an unverified
 * packet, not even its sequence number, changes what the endpoint does next. */
static void on_rtp(struct endpoint *ep, const unsigned char *buf, size_t len,
		   const struct proto_rtp *r)
{
	struct broadcast *b = &ep->cur;
	enum proto_reject why;
	int16_t gap;

	if (!b->active || r->ssrc != b->start.broadcast) {
		ignore(ep);
		return;
	}
	gap = (int16_t)(r->seq - b->next_seq);
	if (gap < 0) {
		/* A second copy (multicast.second_copy) or a late packet of a frame played or
		 * concealed already: dropped before the verifier, which takes each hash once. */
		b->c.duplicates++;
		ignore(ep);
		return;
	}
	why = proto_verifier_audio(&ep->ver, buf, len, r);
	if (why != PROTO_ACCEPT) {
		reject(ep, why);
		return;
	}
	b->c.received++;
	b->last_packet = tool_mono_s();
	if (b->c.received == 1)
		b->c.missed = (unsigned long)gap;	/* joined late: never heard, not lost */
	else
		b->c.lost += (unsigned long)gap;

	/* Joined late: start at this packet. Otherwise conceal the gap and take the frame just
	 * before this one from its in-band FEC. */
	if (gap > 0 && b->c.received > 1) {
		for (int i = 0; i < gap - 1 && i < 500; i++)
			decode(ep, NULL, 0, 0);
		decode(ep, r->payload, r->payload_len, 1);
	}
	decode(ep, r->payload, r->payload_len, 0);
	b->next_seq = (uint16_t)(r->seq + 1);
}

/* len may exceed the buffer: recv reports a datagram's full size, and oversize is malformed. */
static void on_packet(struct endpoint *ep, const unsigned char *buf, size_t len)
{
	struct proto_control c;
	struct proto_rtp r;
	enum proto_reject why = PROTO_REJECT_MALFORMED;

	if (len > PROTO_MAX_PACKET) {
		reject(ep, why);
		return;
	}
	switch (proto_classify(buf, len)) {
	case PROTO_PACKET_RTP:
		if (proto_rtp_parse(buf, len, &r) == PROTO_OK) {
			on_rtp(ep, buf, len, &r);
			return;
		}
		break;
	case PROTO_PACKET_CONTROL:
		why = proto_verifier_control(&ep->ver, buf, len, tool_wall_ms(), &c);
		if (why == PROTO_ACCEPT) {
			on_control(ep, &c);
			return;
		}
		break;
	default:
		break;
	}
	reject(ep, why);
}

/* report.key names this endpoint's seed file, or a folder of ID.key files (where the
 * head-end provisions the demo keys). A key that cannot be used stops the start: an endpoint
 * whose reports are all rejected would look offline for ever. */
static int open_reporter(struct endpoint *ep, char *err, size_t errlen)
{
	struct reporter *r = &ep->rep;
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = ep->set.interface };
	char path[600], why[512], a[INET_ADDRSTRLEN];
	struct stat st;

	if (!stat(ep->set.report_key, &st) && S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/%015llu.key", ep->set.report_key,
			 (unsigned long long)ep->opt.id);
	else
		snprintf(path, sizeof(path), "%s", ep->set.report_key);
	if (access(path, R_OK)) {
		snprintf(err, errlen, "report key %.300s: %s; give this endpoint its key "
			 "(headendctl endpoint-key %015llu makes one; the head-end's first start "
			 "makes demo keys in its state directory's endpoint-keys), or set "
			 "report.address = \"\" to send no reports", path, strerror(errno),
			 (unsigned long long)ep->opt.id);
		return -1;
	}
	if (proto_seed_load(path, r->sk, why, sizeof(why))) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	r->key_id = proto_key_id(r->sk + PROTO_SEED);

	/* Reports leave by the interface that faces the head-end, as the groups are joined. */
	r->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (r->sock < 0 || bind(r->sock, (struct sockaddr *)&local, sizeof(local))) {
		snprintf(err, errlen, "report socket on %s: %s",
			 inet_ntop(AF_INET, &ep->set.interface, a, sizeof(a)), strerror(errno));
		return -1;
	}
	r->to.sin_family = AF_INET;
	r->to.sin_addr = ep->set.report_address;
	r->to.sin_port = htons((uint16_t)ep->set.report_port);

	/* Firmware would keep a start counter in flash; the start time in ms grows as well,
	 * which is all the head-end asks of boot. */
	r->boot = tool_wall_ms();
	r->started = tool_mono_s();
	fprintf(stderr, "report: every %d s to %s:%d, signed with key %08x (%s)\n",
		ep->set.report_period_s, inet_ntop(AF_INET, &r->to.sin_addr, a, sizeof(a)),
		ep->set.report_port, r->key_id, path);
	return 0;
}

/* One report of the endpoint's state now (off when it is stopping), signed and sent. */
static void send_report(struct endpoint *ep, int off)
{
	struct reporter *r = &ep->rep;
	const struct broadcast *b = &ep->cur;
	unsigned char buf[PROTO_REPORT_MAX];
	struct proto_report rp = {
		.state = PROTO_STATE_NORMAL, .endpoint = ep->opt.id, .key_id = r->key_id,
		.boot = r->boot, .seq = ++r->seq, .sent_ms = tool_wall_ms(), .last = r->last,
		.uptime_s = (uint32_t)(tool_mono_s() - r->started),
		.received = (uint32_t)(ep->total.received + b->c.received),
		.lost = (uint32_t)(ep->total.lost + b->c.lost),
		.rejected = rejected_total(ep),
	};
	size_t n;

	if (off)
		rp.state = PROTO_STATE_OFF;
	else if (ep->wav_error || r->alsa_fault)
		rp.state = PROTO_STATE_FAULT;
	else if (b->active)
		rp.state = PROTO_STATE_BROADCASTING;
	else if (r->recovered)
		rp.state = PROTO_STATE_RECOVERED;
	if (rp.state == PROTO_STATE_BROADCASTING)
		rp.broadcast = b->start.broadcast;
	if (rp.state != PROTO_STATE_FAULT)
		r->recovered = 0;
	snprintf(rp.version, sizeof(rp.version), "%s", VERSION);
	n = proto_report_pack(&rp, buf, sizeof(buf));
	if (!n)
		return;
	proto_sign(buf, n, r->sk);
	if (sendto(r->sock, buf, n, 0, (struct sockaddr *)&r->to, sizeof(r->to)) < 0) {
		if (!r->failing)
			fprintf(stderr, "endpoint: report to the head-end: %s; trying again every "
				"report\n", strerror(errno));
		r->failing = 1;
	} else if (r->failing) {
		fprintf(stderr, "endpoint: reports reach the head-end again\n");
		r->failing = 0;
	}
	r->now = 0;
	/* The periodic reports keep the phase of the endpoint's start: were the period counted
	 * again from every report, a broadcast's START and END reports would line up every
	 * loudspeaker of a district into one burst at the head-end, period after period. */
	if (tool_mono_s() >= r->next) {
		r->next += ep->set.report_period_s;
		if (r->next <= tool_mono_s())
			r->next = tool_mono_s() + ep->set.report_period_s;
	}
}

/* Every period, and at once when a broadcast starts or ends or a fault comes or goes. */
static void report_due(struct endpoint *ep)
{
	if (ep->set.report && (ep->rep.now || tool_mono_s() >= ep->rep.next))
		send_report(ep, 0);
}

static int setup(struct endpoint *ep, char *err, size_t errlen)
{
	struct zones *z = NULL;
	struct in_addr groups[ZONES_MAX_GROUPS];
	unsigned char pk[PROTO_PUBLIC_KEY];
	size_t n;
	long idx;
	int oe, rc = -1;

	if (load_settings(ep->opt.config, &ep->set, err, errlen))
		return -1;
	if (proto_crypto_init()) {
		snprintf(err, errlen, "libsodium cannot start");
		return -1;
	}
	if (proto_key_load(ep->set.key, pk, err, errlen) ||
	    (ep->set.report && open_reporter(ep, err, errlen)))
		return -1;
	proto_verifier_init(&ep->ver, pk, (uint64_t)ep->set.tolerance_ms, tool_wall_ms());
	if (zones_load(&z, ep->set.zones, err, errlen) != ZONES_OK)
		return -1;
	idx = zones_find_endpoint(z, ep->opt.id);
	if (idx < 0) {
		snprintf(err, errlen, "endpoint %llu is not in %s", (unsigned long long)ep->opt.id,
			 ep->set.zones);
		goto out;
	}
	n = zones_endpoint_groups(z, (uint32_t)idx, ep->set.base, groups);
	ep->sock = open_socket(&ep->set, groups, n, err, errlen);
	if (ep->sock < 0)
		goto out;
	ep->dec = opus_decoder_create(RATE, 1, &oe);
	if (!ep->dec) {
		snprintf(err, errlen, "opus decoder: %s", opus_strerror(oe));
		goto out;
	}
	if (ep->opt.out && !(ep->wav = fopen(ep->opt.out, "w+b"))) {
		snprintf(err, errlen, "%s: %s", ep->opt.out, strerror(errno));
		goto out;
	}
	if (ep->wav)
		wav_header(ep);
	if (ep->opt.alsa && open_alsa(ep, err, errlen))
		goto out;
	rc = 0;
out:
	zones_free(z);
	return rc;
}

/* Milliseconds poll may sleep: until the silence limit of the broadcast on air or the
 * overall timeout, whichever is first; a second at most so signals are seen. */
static int wait_ms(const struct endpoint *ep, double started)
{
	double t = tool_mono_s(), left = 1.0;

	if (ep->cur.active && ep->cur.last_packet + ep->set.silence_ms / 1e3 - t < left)
		left = ep->cur.last_packet + ep->set.silence_ms / 1e3 - t;
	if (ep->opt.timeout > 0 && started + ep->opt.timeout - t < left)
		left = started + ep->opt.timeout - t;
	if (ep->set.report && ep->rep.next - t < left)
		left = ep->rep.next - t;
	return left > 0 ? (int)(left * 1e3) + 1 : 0;
}

static int run(struct endpoint *ep)
{
	double started = tool_mono_s();
	unsigned char buf[PROTO_MAX_PACKET + 1];
	int rc = -1;

	report_due(ep);
	while (!stopping && rc < 0) {
		struct pollfd p = { .fd = ep->sock, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, wait_ms(ep, started)) > 0) {
			while ((n = recv(ep->sock, buf, sizeof(buf),
					 MSG_DONTWAIT | MSG_TRUNC)) >= 0)
				on_packet(ep, buf, (size_t)n);
		}
		if (ep->cur.active &&
		    tool_mono_s() - ep->cur.last_packet > ep->set.silence_ms / 1e3)
			finish(ep, "silence after its last packet");
		if (ep->opt.count && ep->played >= ep->opt.count)
			rc = 0;
		else if (ep->opt.timeout > 0 && tool_mono_s() - started >= ep->opt.timeout)
			rc = 2;
		else
			report_due(ep);
	}
	finish(ep, "interrupted");
	/* Going away on purpose: the head-end shows "off", not an outage. */
	if (ep->set.report)
		send_report(ep, 1);
	if (rc < 0)
		rc = ep->opt.count && ep->played < ep->opt.count ? 2 : 0;
	return rc;
}

int main(int argc, char **argv)
{
	struct endpoint ep = { .sock = -1, .rep.sock = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	char err[1024];
	int rc;

	parse_args(argc, argv, &ep.opt);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (setup(&ep, err, sizeof(err))) {
		fprintf(stderr, "endpoint: %s\n", err);
		return 1;
	}
	rc = run(&ep);
	printf("endpoint %llu: %ld broadcasts, %.2f s of audio, packets received %lu, lost %lu, ",
	       (unsigned long long)ep.opt.id, ep.played, ep.total.frames * 0.02,
	       ep.total.received, ep.total.lost);
	print_rejected(&ep.total);
	printf(", ignored %lu (duplicates %lu)%s\n", ep.total.ignored, ep.total.duplicates,
	       rc == 2 ? " (timed out)" : "");
	if (ep.wav && (fclose(ep.wav) || ep.wav_error) && rc == 0) {
		fprintf(stderr, "endpoint: %s is incomplete\n", ep.opt.out);
		rc = 1;
	}
	if (ep.pcm) {
		snd_pcm_drain(ep.pcm);
		snd_pcm_close(ep.pcm);
	}
	opus_decoder_destroy(ep.dec);
	close(ep.sock);
	if (ep.rep.sock >= 0)
		close(ep.rep.sock);
	sodium_memzero(ep.rep.sk, sizeof(ep.rep.sk));
	return rc;
}
