/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every loudspeaker of the directory in one process: one socket per endpoint joined to its
 * district, town and village groups on the named interface, all read through one epoll loop.
 * Each endpoint feeds one receiver per fault lane (tools/fleet_rx.c); a sample per village
 * verifies and decodes, the rest account every packet. With --status-to, every endpoint also
 * sends its signed status reports to the head-end (tools/fleet_report.c), from one socket and
 * one timer heap, and chosen villages can fall silent. Prints one line per endpoint and
 * broadcast to a report file and summary lines for tests and benchmarks. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <libconfig.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/sign.h"
#include "tools/common.h"
#include "tools/fleet.h"
#include "tools/fleet_report.h"
#include "tools/impair.h"
#include "zones/zones.h"

#define MAX_LANES 32
#define BATCH 16		/* datagrams per recvmmsg */
#define EVENTS 256
#define TICK_MS 10.0
#define MAX_BROADCASTS 256
#define MAX_STATUS_TO 2		/* the head-end, and a peer measured beside it */
#define MAX_SILENCES 8
#define REPORT_BATCH 64		/* reports per sendmmsg */

/* --silence TARGETS[@AT[+FOR]]: the endpoints of TARGETS stop reporting AT s after the
 * start (without AT: at SIGUSR1), for FOR s or for good. They go on listening. */
struct silence {
	const char *targets;
	double at, span;	/* span < 0: for good */
	int on_signal;
};

struct options {
	const char *config, *report, *expect;
	int sample;		/* sampled endpoints per village; -1: all */
	int depth, copy_delay, rcvbuf;
	double pace, timeout_s;
	uint64_t seed;
	struct impair_config lanes[MAX_LANES];
	int n_lanes;
	double reboot_share, reboot_at, reboot_down;	/* seconds after the first audio */
	struct sockaddr_in status_to[MAX_STATUS_TO];
	int n_status_to;
	double status_period;	/* s */
	const char *status_keys;
	struct silence silences[MAX_SILENCES];
	int n_silences;
};

struct settings {
	char zones[512], key[512];
	struct in_addr interface, base;
	int port, silence_ms, tolerance_ms;
};

struct endpoint {
	uint32_t index;		/* in the directory */
	int fd, sample, expected, reboots, down;
	uint32_t overflow;	/* datagrams the kernel dropped on a full socket buffer */
	struct fleet_rx *rx;	/* one per lane */

	/* Status reports, from lane 0's receiver. */
	uint32_t silenced_by;	/* bit k: --silence k covers it */
	int quiet;		/* silences in force over it */
	uint32_t generation;	/* of its periodic timer: a power cut starts a new one */
	size_t results_from;	/* lane 0 results since its last start */
	unsigned long reports;
	uint64_t last_report_wall;
	uint8_t named[MAX_BROADCASTS / 8];	/* heard[] indexes its reports named */

	/* The packet clock: sender ticks counted by the newest RTP sequence number, so that an
	 * outage of n slots takes what n ticks sent, however the sender bunched them. */
	int clock_set;
	uint32_t clock_ssrc;
	uint16_t clock_seq;
	int64_t slot;
	double anchor;		/* arrival minus slot time, at its latest: where slot 0 was */
};

struct heard {			/* a broadcast some endpoint was told about */
	uint32_t id;
	struct proto_control start;
};

struct fleet {
	struct options opt;
	struct settings set;
	struct zones *z;
	unsigned char pk[PROTO_PUBLIC_KEY];
	struct endpoint *eps;
	size_t n_eps, n_sampled;
	int epfd;
	struct delayq *q;
	struct fleet_params params;
	struct heard heard[MAX_BROADCASTS];
	size_t n_heard;

	unsigned char bufs[BATCH][PROTO_MAX_PACKET + 1];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	char ctl[BATCH][CMSG_SPACE(sizeof(uint32_t)) + CMSG_SPACE(sizeof(struct timespec))];

	double started, first_audio, next_tick, rebooted_at;
	int reboot_done, back_done;
	unsigned long datagrams;
	struct rusage ru0;
	double cpu_from;

	/* Status reports: one socket, one heap of periodic timers (tag: endpoint index and
	 * timer generation), sealed reports gathered for sendmmsg. */
	struct fleet_reporter *reps;	/* NULL: the fleet does not report */
	struct delayq *timers;
	int report_fd;
	unsigned char batch[REPORT_BATCH][PROTO_REPORT_MAX];
	size_t batch_len[REPORT_BATCH], n_batch;
	struct mmsghdr out[REPORT_BATCH * MAX_STATUS_TO];
	struct iovec out_iov[REPORT_BATCH];
	unsigned long reports_sent, report_errors;
	int silence_begun[MAX_SILENCES], silence_ended[MAX_SILENCES];
	double silence_at[MAX_SILENCES];	/* when it began, monotonic ms */
};

static volatile sig_atomic_t stopping, silence_signal;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		silence_signal = 1;
	else
		stopping = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fleet [--config FILE] [--sample N|all] [--depth FRAMES] [--pace X]\n"
		"             [--lane FAULTS]... [--seed N] [--copy-delay K] [--expect TARGETS]\n"
		"             [--reboot SHARE@AT+DOWN] [--report FILE] [--timeout S]\n"
		"             [--rcvbuf BYTES] [--status-to ADDR:PORT]... [--status-period S]\n"
		"             [--status-keys DIR] [--silence TARGETS[@AT[+FOR]]]...\n"
		"  --config      endpoint settings, as the reference endpoint's "
		"(default etc/endpoint.cfg)\n"
		"  --sample      endpoints per village that verify and decode (default 1)\n"
		"  --depth       jitter buffer in frames (default 5: 100 ms at pace 1)\n"
		"  --pace        the head-end's multicast.pace (default 1.0)\n"
		"  --lane        faults on each endpoint's own path, e.g. loss=5,burst=3 or\n"
		"                jitter=50; one receiver per lane and endpoint (default: none)\n"
		"  --copy-delay  the head-end's multicast.second_copy, to tell copies apart\n"
		"  --expect      comma-separated targets the test meant (names or codes)\n"
		"  --reboot      a share of endpoints loses power AT s after the first audio\n"
		"                packet and comes back DOWN s later, e.g. 0.1@3+1\n"
		"  --report      one line per endpoint and broadcast to FILE\n"
		"  --timeout     stop after S seconds (else at SIGINT or SIGTERM)\n"
		"  --rcvbuf      socket receive buffer in bytes (default 262144)\n"
		"  --status-to   every endpoint sends its signed status reports there (UDP);\n"
		"                a second --status-to gets a copy of each (default: no reports)\n"
		"  --status-period  seconds between an endpoint's reports (default 30); the\n"
		"                first ones are spread over the first period\n"
		"  --status-keys directory of the endpoints' report keys, ID.key\n"
		"  --silence     comma-separated targets whose endpoints stop reporting AT s\n"
		"                after the start (without @AT: at SIGUSR1), for FOR s or for\n"
		"                good; they go on listening\n"
		"On exit: \"summary\" lines of key=value per lane and broadcast, per lane, for\n"
		"the reports and for the costs; with --report, a line per endpoint and per\n"
		"broadcast it heard.\n");
}

static int parse_reboot(const char *s, struct options *o)
{
	double share, at, down;
	int used = 0;

	if (sscanf(s, "%lf@%lf+%lf%n", &share, &at, &down, &used) != 3 || s[used] ||
	    share <= 0 || share > 1 || at < 0 || down < 0)
		return -1;
	o->reboot_share = share;
	o->reboot_at = at;
	o->reboot_down = down;
	return 0;
}

static int parse_address(const char *s, struct options *o)
{
	const char *colon = strrchr(s, ':');
	struct sockaddr_in *a = &o->status_to[o->n_status_to];
	char host[INET_ADDRSTRLEN];
	double port;

	if (o->n_status_to == MAX_STATUS_TO || !colon || colon - s >= (long)sizeof(host) ||
	    tool_number(colon + 1, 1, 65535, &port))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*a = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
		return -1;
	o->n_status_to++;
	return 0;
}

static int parse_silence(char *s, struct options *o)
{
	struct silence *q = &o->silences[o->n_silences];
	char *at = strrchr(s, '@'), *plus;

	if (o->n_silences == MAX_SILENCES)
		return -1;
	*q = (struct silence){ .targets = s, .span = -1, .on_signal = !at };
	if (at) {
		*at++ = '\0';
		plus = strchr(at, '+');
		if (plus) {
			*plus++ = '\0';
			if (tool_number(plus, 0, 1e6, &q->span))
				return -1;
		}
		if (tool_number(at, 0, 1e6, &q->at))
			return -1;
	}
	if (!*s)
		return -1;
	o->n_silences++;
	return 0;
}

static int parse_option(int c, char *arg, struct options *o, char *err, size_t errlen)
{
	double v;

	switch (c) {
	case 'c': o->config = arg; return 0;
	case 'r': o->report = arg; return 0;
	case 'e': o->expect = arg; return 0;
	case 's':
		if (!strcmp(arg, "all"))
			return o->sample = -1, 0;
		return tool_number(arg, 0, 1000, &v) ? -1 : (o->sample = (int)v, 0);
	case 'd': return tool_number(arg, 1, FLEET_MAX_DEPTH, &v) ? -1 : (o->depth = (int)v, 0);
	case 'p': return tool_number(arg, 1, 50, &o->pace);
	case 'k': return tool_number(arg, -1, 16, &v) ? -1 : (o->copy_delay = (int)v, 0);
	case 'b': return tool_number(arg, 4096, 64 << 20, &v) ? -1 : (o->rcvbuf = (int)v, 0);
	case 't': return tool_number(arg, 0.1, 1e6, &o->timeout_s);
	case 'S': return tool_number(arg, 0, 1e15, &v) ? -1 : (o->seed = (uint64_t)v, 0);
	case 'R': return parse_reboot(arg, o);
	case 'T': return parse_address(arg, o);
	case 'P': return tool_number(arg, 0.05, 3600, &o->status_period);
	case 'K': o->status_keys = arg; return 0;
	case 'Q': return parse_silence(arg, o);
	case 'l':
		if (o->n_lanes == MAX_LANES)
			return snprintf(err, errlen, "at most %d lanes", MAX_LANES), -1;
		return impair_parse(arg, &o->lanes[o->n_lanes++], err, errlen);
	}
	return -1;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "sample", required_argument, NULL, 's' },
		{ "depth", required_argument, NULL, 'd' },
		{ "pace", required_argument, NULL, 'p' },
		{ "lane", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 'S' },
		{ "copy-delay", required_argument, NULL, 'k' },
		{ "expect", required_argument, NULL, 'e' },
		{ "reboot", required_argument, NULL, 'R' },
		{ "report", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "rcvbuf", required_argument, NULL, 'b' },
		{ "status-to", required_argument, NULL, 'T' },
		{ "status-period", required_argument, NULL, 'P' },
		{ "status-keys", required_argument, NULL, 'K' },
		{ "silence", required_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256] = "";
	int c;

	*o = (struct options){ .config = "etc/endpoint.cfg", .sample = 1, .depth = 5,
			       .copy_delay = -1, .rcvbuf = 256 << 10, .pace = 1.0, .seed = 1,
			       .status_period = 30 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || parse_option(c, optarg, o, err, sizeof(err))) {
			fprintf(stderr, "fleet: bad value \"%s\"%s%s\n", optarg ? optarg : "",
				*err ? ": " : "", err);
			usage(stderr);
			exit(64);
		}
	}
	if (optind != argc || (o->n_status_to && !o->status_keys) ||
	    (o->n_silences && !o->n_status_to)) {
		if (optind == argc)
			fprintf(stderr, "fleet: --status-to needs --status-keys; --silence needs "
				"--status-to\n");
		usage(stderr);
		exit(64);
	}
	if (!o->n_lanes && impair_parse("none", &o->lanes[o->n_lanes++], err, sizeof(err)))
		exit(70);
}

static int int_setting(config_t *cf, const char *path, int min, int max, int *out)
{
	if (config_lookup(cf, path) && !config_lookup_int(cf, path, out))
		return -1;
	return *out < min || *out > max ? -1 : 0;
}

static int string_setting(config_t *cf, const char *path, char *out, size_t size)
{
	const char *v = out;

	config_lookup_string(cf, path, &v);
	if (strlen(v) >= size)
		return -1;
	memmove(out, v, strlen(v) + 1);
	return 0;
}

/* The endpoint's own settings file: the fleet is every endpoint, configured alike. */
static int load_settings(const char *path, struct settings *s, char *err, size_t errlen)
{
	config_t cf;
	int rc = -1;

	*s = (struct settings){ .zones = "etc/zones.csv", .key = "var/headend.pub", .port = 5004,
				.silence_ms = 3000, .tolerance_ms = 10000 };
	inet_pton(AF_INET, "127.0.0.1", &s->interface);
	inet_pton(AF_INET, "239.192.0.0", &s->base);
	if (tool_config_read(&cf, path, err, errlen))
		goto out;
	if (string_setting(&cf, "zones", s->zones, sizeof(s->zones)) ||
	    string_setting(&cf, "key", s->key, sizeof(s->key)) ||
	    tool_config_address(&cf, "multicast.interface", &s->interface) ||
	    tool_config_address(&cf, "multicast.base", &s->base) ||
	    int_setting(&cf, "multicast.port", 1, 65535, &s->port) ||
	    int_setting(&cf, "silence_ms", 100, 600000, &s->silence_ms) ||
	    int_setting(&cf, "clock_tolerance_ms", 100, 3600000, &s->tolerance_ms)) {
		snprintf(err, errlen, "%s: zones, key, multicast.interface, multicast.base, "
			 "multicast.port, silence_ms or clock_tolerance_ms is not valid", path);
		goto out;
	}
	rc = 0;
out:
	config_destroy(&cf);
	return rc;
}

/* A process may hold few descriptors by default; the fleet needs one per endpoint. */
static int raise_fd_limit(size_t need, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return snprintf(err, errlen, "getrlimit: %s", strerror(errno)), -1;
	if (rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max < need) {
		snprintf(err, errlen, "%zu endpoints need %zu descriptors; the hard limit is %llu",
			 need - 64, need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return snprintf(err, errlen, "setrlimit: %s", strerror(errno)), -1;
	return 0;
}

/* One socket per endpoint, as a loudspeaker has: bound to the port, joined to its three
 * groups on the named interface, deaf to groups joined by its neighbours in this process. */
static int open_socket(struct fleet *f, struct endpoint *e, char *err, size_t errlen)
{
	struct sockaddr_in any = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)f->set.port) };
	struct in_addr groups[ZONES_MAX_GROUPS];
	size_t n = zones_endpoint_groups(f->z, e->index, f->set.base, groups);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, zero = 0;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(e - f->eps) };

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &f->opt.rcvbuf, sizeof(f->opt.rcvbuf)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any))) {
		snprintf(err, errlen, "socket on port %d: %s", f->set.port, strerror(errno));
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct ip_mreq m = { .imr_multiaddr = groups[i],
				     .imr_interface = f->set.interface };

		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m))) {
			char g[INET_ADDRSTRLEN], in[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &groups[i], g, sizeof(g));
			inet_ntop(AF_INET, &f->set.interface, in, sizeof(in));
			snprintf(err, errlen, "join %s on %s: %s", g, in, strerror(errno));
			goto fail;
		}
	}
	if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	e->fd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static void note_start(void *arg, const struct proto_control *c)
{
	struct fleet *f = arg;

	for (size_t i = 0; i < f->n_heard; i++)
		if (f->heard[i].id == c->broadcast)
			return;
	if (f->n_heard == MAX_BROADCASTS)
		return;
	f->heard[f->n_heard].id = c->broadcast;
	f->heard[f->n_heard++].start = *c;
}

/* Comma-separated targets (names or codes) resolved through the directory into sel. */
static int resolve_list(const struct fleet *f, const char *what, const char *targets,
			struct zones_selection *sel, char *err, size_t errlen)
{
	char list[1024], *save = NULL;

	if (strlen(targets) >= sizeof(list) || zones_selection_init(sel, f->z) != ZONES_OK)
		return snprintf(err, errlen, "%s: too long", what), -1;
	memcpy(list, targets, strlen(targets) + 1);
	for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (zones_resolve(f->z, t, sel, err, errlen) != ZONES_OK) {
			zones_selection_free(sel);
			return -1;
		}
	}
	return 0;
}

/* The endpoints the test meant: --expect resolved through the directory, independently of
 * what the head-end put into its STARTs; and those each --silence covers. */
static int mark_expected(struct fleet *f, char *err, size_t errlen)
{
	struct zones_selection sel;

	if (f->opt.expect) {
		if (resolve_list(f, "--expect", f->opt.expect, &sel, err, errlen))
			return -1;
		for (size_t i = 0; i < f->n_eps; i++)
			f->eps[i].expected = zones_selection_has(f->z, &sel, f->eps[i].index);
		zones_selection_free(&sel);
	}
	for (int k = 0; k < f->opt.n_silences; k++) {
		if (resolve_list(f, "--silence", f->opt.silences[k].targets, &sel, err, errlen))
			return -1;
		for (size_t i = 0; i < f->n_eps; i++)
			if (zones_selection_has(f->z, &sel, f->eps[i].index))
				f->eps[i].silenced_by |= 1u << k;
		zones_selection_free(&sel);
	}
	return 0;
}

/* Status reports: every endpoint's own key, and one socket on the fleet's interface address
 * (the endpoints' address on a real network) from which all of them send. */
static int setup_reports(struct fleet *f, char *err, size_t errlen)
{
	struct sockaddr_in self = { .sin_family = AF_INET, .sin_addr = f->set.interface };
	int sndbuf = 1 << 20;

	if (!f->opt.n_status_to)
		return 0;
	f->reps = calloc(f->n_eps, sizeof(*f->reps));
	f->timers = delayq_new();
	if (!f->reps || !f->timers)
		return snprintf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < f->n_eps; i++) {
		struct fleet_reporter *r = &f->reps[i];
		char path[1024];

		r->id = f->z->endpoints[f->eps[i].index].id;
		if (snprintf(path, sizeof(path), "%s/%llu.key", f->opt.status_keys,
			     (unsigned long long)r->id) >= (int)sizeof(path))
			return snprintf(err, errlen, "--status-keys: too long"), -1;
		if (proto_seed_load(path, r->sk, err, errlen))
			return -1;
		/* libsodium's secret key ends with the public key. */
		r->key_id = proto_key_id(r->sk + PROTO_SEED);
	}
	f->report_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f->report_fd < 0 ||
	    setsockopt(f->report_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) ||
	    bind(f->report_fd, (struct sockaddr *)&self, sizeof(self)))
		return snprintf(err, errlen, "report socket on %s: %s", inet_ntoa(self.sin_addr),
				strerror(errno)), -1;
	return 0;
}

/* The first n endpoints of each village verify and decode. */
static int is_sample(const struct fleet *f, uint32_t ep)
{
	const struct zones_village *v = &f->z->villages[f->z->endpoints[ep].village];

	return f->opt.sample < 0 || ep - v->first_endpoint < (uint32_t)f->opt.sample;
}

static int setup_endpoint(struct fleet *f, struct endpoint *e, uint32_t index, char *err,
			  size_t errlen)
{
	uint64_t wall = tool_wall_ms();

	e->index = index;
	e->fd = -1;
	e->sample = is_sample(f, index);
	f->n_sampled += e->sample;
	e->rx = calloc((size_t)f->opt.n_lanes, sizeof(*e->rx));
	if (!e->rx)
		return snprintf(err, errlen, "out of memory"), -1;
	for (int l = 0; l < f->opt.n_lanes; l++) {
		uint64_t seed = f->opt.seed * 1000003u + f->z->endpoints[index].id * 31u +
				(uint64_t)l;

		if (fleet_rx_init(&e->rx[l], &f->opt.lanes[l], f->params.period_ms, seed,
				  e->sample && l == 0, f->pk, (uint64_t)f->set.tolerance_ms, wall))
			return snprintf(err, errlen, "out of memory or no Opus decoder"), -1;
	}
	return open_socket(f, e, err, errlen);
}

static int setup(struct fleet *f, char *err, size_t errlen)
{
	if (load_settings(f->opt.config, &f->set, err, errlen))
		return -1;
	if (proto_crypto_init())
		return snprintf(err, errlen, "libsodium cannot start"), -1;
	if (proto_key_load(f->set.key, f->pk, err, errlen))
		return -1;
	if (zones_load(&f->z, f->set.zones, err, errlen) != ZONES_OK)
		return -1;
	if (raise_fd_limit(f->z->n_endpoints + 64, err, errlen))
		return -1;
	f->params = (struct fleet_params){ f->opt.depth, 20.0 / f->opt.pace,
					   (double)f->set.silence_ms, f->opt.copy_delay,
					   note_start, f };
	f->epfd = epoll_create1(EPOLL_CLOEXEC);
	f->q = delayq_new();
	f->eps = calloc(f->z->n_endpoints, sizeof(*f->eps));
	if (f->epfd < 0 || !f->q || !f->eps)
		return snprintf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < f->z->n_endpoints; i++) {
		if (setup_endpoint(f, &f->eps[i], (uint32_t)i, err, errlen))
			return -1;
		f->n_eps++;
	}
	return mark_expected(f, err, errlen) || setup_reports(f, err, errlen) ? -1 : 0;
}

/* Datagrams in: each lane's faults decide whether, when and how often its receiver gets one. */

static uint64_t ep_id(const struct fleet *f, const struct endpoint *e)
{
	return f->z->endpoints[e->index].id;
}

/* Advances the packet clock; returns the slot time in ms. A new broadcast starts well clear
 * of the last one. */
static double packet_clock(const struct fleet *f, struct endpoint *e, const unsigned char *buf,
			   size_t len)
{
	struct proto_rtp r;

	if (proto_classify(buf, len) == PROTO_PACKET_RTP && proto_rtp_parse(buf, len, &r) == 0) {
		if (!e->clock_set || r.ssrc != e->clock_ssrc) {
			e->clock_set = 1;
			e->clock_ssrc = r.ssrc;
			e->clock_seq = r.seq;
			e->slot += 1000;
			e->anchor = -1e18;
		} else if ((int16_t)(r.seq - e->clock_seq) > 0) {
			e->slot += (int16_t)(r.seq - e->clock_seq);
			e->clock_seq = r.seq;
		}
	}
	return (double)e->slot * f->params.period_ms;
}

/* A datagram that arrived at arrival (monotonic ms, from the kernel's receive time, so that
 * a busy fleet does not bunch its arrivals). Bursts are decided on the packet clock, and
 * delay and jitter count from the slot's time, not from the arrival, so that a sender that
 * stalled and caught up does not look like network jitter. A lane with delay or jitter
 * queues the packet even when it is due already, so that its receiver gets packets in the
 * order of their due times. */
static void dispatch(struct fleet *f, struct endpoint *e, const unsigned char *buf, size_t len,
		     double arrival, uint64_t wall)
{
	double slot_ms = packet_clock(f, e, buf, len);
	double sent;

	if (arrival - slot_ms > e->anchor)
		e->anchor = arrival - slot_ms;
	sent = e->clock_set ? e->anchor + slot_ms : arrival;

	f->datagrams++;
	if (f->first_audio < 0 && proto_classify(buf, len) == PROTO_PACKET_RTP)
		f->first_audio = arrival;
	for (int l = 0; l < f->opt.n_lanes; l++) {
		struct fleet_rx *rx = &e->rx[l];
		const struct impair_config *c = &rx->im.c;
		double delay[2];
		int copies = impair_packet(&rx->im, c->burst > 1 ? slot_ms : arrival, delay);

		if (!copies)
			fleet_rx_lost(rx, buf, len);
		for (int k = 0; k < copies; k++) {
			uint64_t tag = (uint64_t)(e - f->eps) << 8 | (uint64_t)l;

			if (c->delay_ms <= 0 && c->jitter_ms <= 0 && c->reorder <= 0 && k == 0)
				fleet_rx_packet(rx, &f->params, ep_id(f, e), buf, len, arrival,
						wall);
			else if (delayq_push(f->q, sent + delay[k], tag, buf, len))
				fleet_rx_lost(rx, buf, len);
		}
	}
}

/* Status reports out. */

static void flush_reports(struct fleet *f)
{
	size_t total = f->n_batch * (size_t)f->opt.n_status_to, done = 0;

	for (size_t i = 0; i < f->n_batch; i++) {
		f->out_iov[i] = (struct iovec){ f->batch[i], f->batch_len[i] };
		for (int d = 0; d < f->opt.n_status_to; d++)
			f->out[i * (size_t)f->opt.n_status_to + (size_t)d].msg_hdr =
				(struct msghdr){ .msg_name = &f->opt.status_to[d],
						 .msg_namelen = sizeof(f->opt.status_to[d]),
						 .msg_iov = &f->out_iov[i], .msg_iovlen = 1 };
	}
	while (done < total) {
		int n = sendmmsg(f->report_fd, f->out + done, (unsigned)(total - done), 0);

		if (n > 0) {
			done += (size_t)n;
		} else if (errno != EINTR) {
			f->report_errors++;	/* this one is lost; the rest still go */
			done++;
		}
	}
	f->n_batch = 0;
}

static void name_broadcast(struct fleet *f, struct endpoint *e, uint32_t id)
{
	for (size_t b = 0; id && b < f->n_heard; b++)
		if (f->heard[b].id == id)
			e->named[b / 8] |= (uint8_t)(1u << (b % 8));
}

/* Seal endpoint e's next report into the batch, unless it is off or silenced. */
static void send_report(struct fleet *f, struct endpoint *e, double now, uint64_t wall)
{
	struct fleet_reporter *r = &f->reps[e - f->eps];
	uint32_t counts[3];
	size_t n;

	if (e->down || e->quiet)
		return;
	fleet_report_counts(&e->rx[0], counts);
	n = fleet_report_seal(r, now, wall, counts, f->batch[f->n_batch]);
	if (!n) {
		f->report_errors++;
		return;
	}
	f->batch_len[f->n_batch++] = n;
	f->reports_sent++;
	e->reports++;
	e->last_report_wall = wall;
	name_broadcast(f, e, r->playing);
	name_broadcast(f, e, r->last);
	if (f->n_batch == REPORT_BATCH)
		flush_reports(f);
}

/* Lane 0's receiver is what the endpoint reports on: a report at once when it starts playing
 * a broadcast (a START taken) or finishes one. */
static void follow(struct fleet *f, struct endpoint *e, double now, uint64_t wall)
{
	const struct fleet_rx *rx = &e->rx[0];
	uint32_t playing = rx->active ? rx->bc : 0, finished = 0;

	if (!f->reps)
		return;
	if (rx->n_results > e->results_from)
		finished = rx->results[rx->n_results - 1].broadcast;
	if (fleet_reporter_follow(&f->reps[e - f->eps], playing, finished))
		send_report(f, e, now, wall);
}

static void schedule_report(struct fleet *f, size_t i, double due)
{
	unsigned char none = 0;
	uint64_t tag = (uint64_t)f->eps[i].generation << 32 | i;

	if (delayq_push(f->timers, due, tag, &none, 0))
		f->report_errors++;
}

/* An endpoint starts (or starts again after a power cut): first report at first_ms. */
static void start_reporting(struct fleet *f, size_t i, double now, uint64_t wall,
			    double first_ms)
{
	struct endpoint *e = &f->eps[i];
	uint32_t counts[3];

	fleet_report_counts(&e->rx[0], counts);
	fleet_reporter_start(&f->reps[i], now, wall, counts);
	e->results_from = e->rx[0].n_results;
	e->generation++;
	schedule_report(f, i, first_ms);
}

static void periodic_reports(struct fleet *f, double now, uint64_t wall)
{
	unsigned char none;
	uint64_t tag;
	double due;

	while (f->reps && delayq_pop(f->timers, now, &tag, &due, &none, 0) >= 0) {
		size_t i = (size_t)(tag & 0xffffffffu);
		struct endpoint *e = &f->eps[i];

		if ((uint32_t)(tag >> 32) != e->generation || e->down)
			continue;	/* a timer from before a power cut */
		send_report(f, e, now, wall);
		/* From the due time, not from now, so that a busy moment does not shift the
		 * endpoint's phase for good. */
		schedule_report(f, i, due + f->opt.status_period * 1e3);
	}
	if (f->n_batch)
		flush_reports(f);
}

/* --silence: a group of endpoints stops reporting, and perhaps starts again. */
static void silence_group(struct fleet *f, int k, int on, double now, uint64_t wall)
{
	const struct silence *q = &f->opt.silences[k];
	uint64_t newest = 0;
	size_t n = 0;

	for (size_t i = 0; i < f->n_eps; i++) {
		struct endpoint *e = &f->eps[i];

		if (!(e->silenced_by & (1u << k)))
			continue;
		e->quiet += on ? 1 : -1;
		n++;
		if (e->last_report_wall > newest)
			newest = e->last_report_wall;
	}
	if (on)
		printf("fleet: silenced %zu endpoints of %s at wall_ms=%llu (%.3f s after the "
		       "start); their last report at wall_ms=%llu\n", n, q->targets,
		       (unsigned long long)wall, (now - f->started) / 1e3,
		       (unsigned long long)newest);
	else
		printf("fleet: %zu endpoints of %s report again at wall_ms=%llu\n", n, q->targets,
		       (unsigned long long)wall);
	fflush(stdout);
}

static void silences(struct fleet *f, double now, uint64_t wall)
{
	for (int k = 0; k < f->opt.n_silences; k++) {
		const struct silence *q = &f->opt.silences[k];

		if (!f->silence_begun[k] && (q->on_signal ? silence_signal :
					     now - f->started >= q->at * 1e3)) {
			f->silence_begun[k] = 1;
			f->silence_at[k] = now;
			silence_group(f, k, 1, now, wall);
		} else if (f->silence_begun[k] && !f->silence_ended[k] && q->span >= 0 &&
			   now - f->silence_at[k] >= q->span * 1e3) {
			f->silence_ended[k] = 1;
			silence_group(f, k, 0, now, wall);
		}
	}
}

/* The kernel's count of datagrams dropped on a full buffer, and the receive time. */
static double read_cmsgs(struct endpoint *e, struct msghdr *m, double now, double mono_minus_real)
{
	double arrival = now;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t n;

			memcpy(&n, CMSG_DATA(c), sizeof(n));
			if (n > e->overflow)
				e->overflow = n;
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			arrival = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6 + mono_minus_real;
		}
	}
	return arrival < now ? arrival : now;
}

static void drain(struct fleet *f, struct endpoint *e, double now, uint64_t wall)
{
	double mono_minus_real = now - (double)wall;
	int n;

	do {
		for (int i = 0; i < BATCH; i++) {
			f->iov[i] = (struct iovec){ f->bufs[i], sizeof(f->bufs[i]) };
			f->msgs[i].msg_hdr = (struct msghdr){
				.msg_iov = &f->iov[i], .msg_iovlen = 1, .msg_control = f->ctl[i],
				.msg_controllen = sizeof(f->ctl[i]) };
		}
		n = e->fd < 0 ? -1 : recvmmsg(e->fd, f->msgs, BATCH, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			size_t len = f->msgs[i].msg_len;

			double at = read_cmsgs(e, &f->msgs[i].msg_hdr, now, mono_minus_real);

			if (f->msgs[i].msg_hdr.msg_flags & MSG_TRUNC)
				len = sizeof(f->bufs[i]);
			dispatch(f, e, f->bufs[i], len, at, wall);
		}
	} while (n == BATCH);
	follow(f, e, now, wall);
}

static void deliver_due(struct fleet *f, double now, uint64_t wall)
{
	unsigned char buf[PROTO_MAX_PACKET + 1];
	uint64_t tag;
	double due;
	long len;

	while ((len = delayq_pop(f->q, now, &tag, &due, buf, sizeof(buf))) >= 0) {
		struct endpoint *e = &f->eps[tag >> 8];

		if (!e->down) {
			fleet_rx_packet(&e->rx[tag & 0xff], &f->params, ep_id(f, e), buf,
					(size_t)len, due, wall);
			follow(f, e, now, wall);
		}
	}
}

/* Reboots: every k-th endpoint goes dark at once and comes back together. */

static int reboots(const struct fleet *f, size_t i)
{
	size_t step = (size_t)lround(1.0 / f->opt.reboot_share);

	return f->opt.reboot_share > 0 && i % (step ? step : 1) == step / 2;
}

static void power_off(struct fleet *f, double now)
{
	for (size_t i = 0; i < f->n_eps; i++) {
		struct endpoint *e = &f->eps[i];

		if (!reboots(f, i))
			continue;
		close(e->fd);
		e->fd = -1;
		e->down = 1;
		e->reboots++;
		for (int l = 0; l < f->opt.n_lanes; l++)
			fleet_rx_reboot(&e->rx[l], &f->params, now);
	}
	f->reboot_done = 1;
	printf("fleet: %.0f s after the first audio packet, every %ld-th endpoint lost power\n",
	       f->opt.reboot_at, lround(1.0 / f->opt.reboot_share));
	fflush(stdout);
}

static void power_on(struct fleet *f, double now)
{
	char err[256];

	for (size_t i = 0; i < f->n_eps; i++) {
		struct endpoint *e = &f->eps[i];

		if (!e->down)
			continue;
		if (open_socket(f, e, err, sizeof(err))) {
			fprintf(stderr, "fleet: endpoint %llu stays off: %s\n",
				(unsigned long long)ep_id(f, e), err);
			continue;
		}
		e->down = 0;
		for (int l = 0; l < f->opt.n_lanes; l++)
			fleet_rx_back(&e->rx[l], now, (uint64_t)f->set.tolerance_ms,
				      tool_wall_ms());
		/* Its first report at once, as at any start-up. */
		if (f->reps)
			start_reporting(f, i, now, tool_wall_ms(), now);
	}
	f->back_done = 1;
}

static void timers(struct fleet *f, double now, uint64_t wall)
{
	double since = f->first_audio < 0 ? -1 : (now - f->first_audio) / 1e3;

	for (size_t i = 0; i < f->n_eps; i++) {
		for (int l = 0; l < f->opt.n_lanes; l++)
			fleet_rx_tick(&f->eps[i].rx[l], &f->params, now);
		follow(f, &f->eps[i], now, wall);
	}
	if (f->opt.reboot_share > 0 && since >= f->opt.reboot_at && !f->reboot_done)
		power_off(f, now);
	if (f->reboot_done && !f->back_done && since >= f->opt.reboot_at + f->opt.reboot_down)
		power_on(f, now);
}

static int wait_for(const struct fleet *f, double now)
{
	double until = f->next_tick, due = delayq_next(f->q);

	if (due >= 0 && due < until)
		until = due;
	due = f->reps ? delayq_next(f->timers) : -1;
	if (due >= 0 && due < until)
		until = due;
	return until <= now ? 0 : (int)ceil(until - now);
}

static void run(struct fleet *f)
{
	struct epoll_event ev[EVENTS];

	f->next_tick = tool_mono_ms() + TICK_MS;
	while (!stopping) {
		int n = epoll_wait(f->epfd, ev, EVENTS, wait_for(f, tool_mono_ms()));
		double now = tool_mono_ms();
		uint64_t wall = tool_wall_ms();

		for (int i = 0; i < n; i++)
			drain(f, &f->eps[ev[i].data.u32], now, wall);
		deliver_due(f, now, wall);

		/* Timers only once every ready socket is drained: a receiver whose packets still
		 * wait in its socket has not gone silent. */
		if (now >= f->next_tick && n < EVENTS) {
			timers(f, now, wall);
			f->next_tick = now + TICK_MS;
		}
		silences(f, now, wall);
		periodic_reports(f, now, wall);
		if (f->opt.timeout_s > 0 && now - f->started >= f->opt.timeout_s * 1e3)
			break;
	}
}

/* Reports. */

static void print_result(FILE *out, const struct fleet *f, const struct endpoint *e, int lane,
			 const struct fleet_result *r)
{
	fprintf(out, "result ep=%llu lane=%d sample=%d expected=%d broadcast=%u end=%s frames=%u "
		"planned=%u missed=%u packet=%u fec=%u copy=%u concealed=%u run=%u run_at=%u "
		"received=%u "
		"duplicates=%u late=%u rejected=%u decode_errors=%u join_ms=%.0f complete=%d\n",
		(unsigned long long)ep_id(f, e), lane, e->rx[lane].sample, e->expected,
		r->broadcast, fleet_end_name(r->how), r->frames, r->planned, r->missed, r->packet,
		r->fec, r->copy, r->concealed, r->longest_run, r->run_at, r->received,
		r->duplicates, r->late,
		r->rejected, r->decode_errors, r->join_ms, fleet_result_complete(r));
}

static void write_report(const struct fleet *f)
{
	FILE *out = f->opt.report ? fopen(f->opt.report, "w") : NULL;

	if (!f->opt.report)
		return;
	if (!out) {
		fprintf(stderr, "fleet: %s: %s\n", f->opt.report, strerror(errno));
		return;
	}
	for (size_t i = 0; i < f->n_eps; i++) {
		const struct endpoint *e = &f->eps[i];

		for (int l = 0; l < f->opt.n_lanes; l++) {
			const struct fleet_rx *rx = &e->rx[l];

			fprintf(out, "endpoint ep=%llu lane=%d sample=%d expected=%d results=%zu "
				"foreign=%lu stray=%lu idle_rejects=%lu overflow=%u reboots=%d "
				"reports=%lu\n",
				(unsigned long long)ep_id(f, e), l, rx->sample, e->expected,
				rx->n_results, rx->foreign, rx->stray, rx->idle_rejects,
				e->overflow, e->reboots, l == 0 ? e->reports : 0);
			for (size_t k = 0; k < rx->n_results; k++)
				print_result(out, f, e, l, &rx->results[k]);
		}
	}
	fclose(out);
}

/* The last result of broadcast id at this receiver (after a reboot, the part after it). */
static const struct fleet_result *last_result(const struct fleet_rx *rx, uint32_t id)
{
	for (size_t k = rx->n_results; k-- > 0;)
		if (rx->results[k].broadcast == id)
			return &rx->results[k];
	return NULL;
}

struct tally {
	size_t addressed, heard, complete, late, rejoined, cut;
	uint64_t frames, packet, fec, copy, concealed, duplicates, rejected, decode_errors;
	uint64_t rtp_bytes, rtp_packets, control_bytes, control_packets, missed;
	uint32_t frames_min, frames_max, run_max;
	double join_max;
};

static void add_result(struct tally *t, const struct fleet_result *r)
{
	t->heard += r->frames > 0;
	t->complete += fleet_result_complete(r);
	t->cut += r->how != FLEET_END;
	t->late += r->missed > 0;
	t->missed += r->missed;
	t->frames += r->frames;
	t->packet += r->packet;
	t->fec += r->fec;
	t->copy += r->copy;
	t->concealed += r->concealed;
	t->duplicates += r->duplicates;
	t->rejected += r->rejected;
	t->decode_errors += r->decode_errors;
	t->rtp_bytes += r->rtp_bytes;
	t->rtp_packets += r->rtp_packets;
	t->control_bytes += r->control_bytes;
	t->control_packets += r->control_packets;
	if (r->frames < t->frames_min)
		t->frames_min = r->frames;
	if (r->frames > t->frames_max)
		t->frames_max = r->frames;
	if (r->longest_run > t->run_max)
		t->run_max = r->longest_run;
	if (r->join_ms >= 0) {
		t->rejoined++;
		if (r->join_ms > t->join_max)
			t->join_max = r->join_ms;
	}
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

/* kbit/s at the IP layer (20 bytes IPv4 + 8 UDP per datagram) over the audio's duration. */
static double kbps(uint64_t bytes, uint64_t packets, uint64_t frames)
{
	return frames ? (double)(bytes + 28 * packets) * 8 / ((double)frames * 0.02) / 1e3 : 0;
}

static void print_broadcast(const struct fleet *f, int lane, const struct heard *h)
{
	struct tally t = { .frames_min = UINT32_MAX };

	for (size_t i = 0; i < f->n_eps; i++) {
		const struct endpoint *e = &f->eps[i];
		const struct fleet_result *r = last_result(&e->rx[lane], h->id);

		if (!proto_control_addresses(&h->start, ep_id(f, e)))
			continue;
		t.addressed++;
		if (r)
			add_result(&t, r);
	}
	printf("summary lane=%d faults=%s broadcast=%u addressed=%zu heard=%zu complete=%zu "
	       "share=%.3f not_to_end=%zu late_joined=%zu missed_frames=%llu rejoined=%zu "
	       "join_ms_max=%.0f "
	       "frames_min=%u frames_max=%u packet_pct=%.3f fec_pct=%.3f copy_pct=%.3f "
	       "concealed_pct=%.4f run_max=%u duplicates=%llu rejected=%llu decode_errors=%llu "
	       "rtp_kbps=%.1f control_kbps=%.1f\n",
	       lane, f->opt.lanes[lane].name, h->id, t.addressed, t.heard, t.complete,
	       pct(t.complete, t.addressed), t.cut, t.late, (unsigned long long)t.missed,
	       t.rejoined,
	       t.join_max, t.frames_min == UINT32_MAX ? 0 : t.frames_min, t.frames_max,
	       pct(t.packet, t.frames), pct(t.fec, t.frames), pct(t.copy, t.frames),
	       pct(t.concealed, t.frames), t.run_max, (unsigned long long)t.duplicates,
	       (unsigned long long)t.rejected, (unsigned long long)t.decode_errors,
	       kbps(t.rtp_bytes, t.rtp_packets, t.frames),
	       kbps(t.control_bytes, t.control_packets, t.frames));
}

/* An endpoint heard something it should not have: it played audio of a broadcast that does
 * not address it, or (with --expect) any audio at all when the test did not mean it. */
static int wrong(const struct fleet *f, const struct endpoint *e, int lane)
{
	const struct fleet_rx *rx = &e->rx[lane];

	for (size_t k = 0; k < rx->n_results; k++) {
		const struct fleet_result *r = &rx->results[k];

		if (r->frames == 0)
			continue;
		if (f->opt.expect && !e->expected)
			return 1;
		for (size_t b = 0; b < f->n_heard; b++)
			if (f->heard[b].id == r->broadcast &&
			    !proto_control_addresses(&f->heard[b].start, ep_id(f, e)))
				return 1;
	}
	return 0;
}

/* Per lane, over the whole run: with --expect, how the meant endpoints fared; otherwise
 * the endpoints any broadcast addressed. */
static void print_lane(const struct fleet *f, int lane)
{
	size_t expected = 0, complete = 0, heard = 0, wrongs = 0, silent = 0;
	unsigned long foreign = 0, stray = 0, rejects = 0;

	for (size_t i = 0; i < f->n_eps; i++) {
		const struct endpoint *e = &f->eps[i];
		const struct fleet_rx *rx = &e->rx[lane];
		int meant = f->opt.expect ? e->expected : rx->n_results > 0;
		int all = rx->n_results > 0;

		for (size_t k = 0; k < rx->n_results; k++) {
			const struct fleet_result *r = &rx->results[k];

			all = all && (fleet_result_complete(r) ||
				      last_result(rx, r->broadcast) != r);
		}
		expected += meant;
		heard += meant && rx->n_results > 0;
		complete += meant && all;
		wrongs += wrong(f, e, lane);
		silent += !meant && rx->n_results == 0;
		foreign += rx->foreign;
		stray += rx->stray;
		rejects += rx->idle_rejects;
	}
	printf("summary lane=%d faults=%s endpoints=%zu expected=%zu heard=%zu complete=%zu "
	       "share=%.3f wrong=%zu silent_others=%zu foreign=%lu stray=%lu idle_rejects=%lu\n",
	       lane, f->opt.lanes[lane].name, f->n_eps, expected, heard, complete,
	       pct(complete, expected), wrongs, silent, foreign, stray, rejects);
}

/* What the endpoints told the head-end: per broadcast, how many named it in a report they
 * sent (playing it, or as the last one they finished), which the head-end's played count
 * must match. */
static void print_reports(const struct fleet *f, double now)
{
	size_t quiet = 0;

	if (!f->reps)
		return;
	for (size_t i = 0; i < f->n_eps; i++)
		quiet += f->eps[i].quiet > 0;
	printf("summary reports endpoints=%zu sent=%lu send_errors=%lu silenced=%zu period_s=%g "
	       "per_s=%.1f\n", f->n_eps, f->reports_sent, f->report_errors, quiet,
	       f->opt.status_period,
	       now > f->started ? f->reports_sent * 1e3 / (now - f->started) : 0);
	for (size_t b = 0; b < f->n_heard; b++) {
		size_t addressed = 0, reported = 0, of_addressed = 0;

		for (size_t i = 0; i < f->n_eps; i++) {
			const struct endpoint *e = &f->eps[i];
			int named = e->named[b / 8] >> (b % 8) & 1;
			int meant = proto_control_addresses(&f->heard[b].start, ep_id(f, e));

			addressed += meant;
			reported += named;
			of_addressed += named && meant;
		}
		printf("summary reports broadcast=%u addressed=%zu reported=%zu "
		       "reported_addressed=%zu\n", f->heard[b].id, addressed, reported,
		       of_addressed);
	}
}

static void print_costs(const struct fleet *f, double now)
{
	struct rusage ru;
	double cpu, decode_ns = 0;
	unsigned long decoded = 0, overflow = 0;

	getrusage(RUSAGE_SELF, &ru);
	cpu = (double)(ru.ru_utime.tv_sec - f->ru0.ru_utime.tv_sec) +
	      (double)(ru.ru_stime.tv_sec - f->ru0.ru_stime.tv_sec) +
	      (double)(ru.ru_utime.tv_usec - f->ru0.ru_utime.tv_usec) / 1e6 +
	      (double)(ru.ru_stime.tv_usec - f->ru0.ru_stime.tv_usec) / 1e6;
	for (size_t i = 0; i < f->n_eps; i++) {
		decode_ns += f->eps[i].rx[0].decode_ns;
		decoded += f->eps[i].rx[0].decoded;
		overflow += f->eps[i].overflow;
	}
	printf("summary costs cpu_s=%.2f wall_s=%.1f datagrams=%lu us_per_datagram=%.2f "
	       "decoded_frames=%lu decode_us_per_frame=%.1f socket_overflow=%lu max_rss_kib=%ld\n",
	       cpu, (now - f->started) / 1e3, f->datagrams,
	       f->datagrams ? cpu * 1e6 / (double)f->datagrams : 0, decoded,
	       decoded ? decode_ns / 1e3 / (double)decoded : 0, overflow, ru.ru_maxrss);
}

static void report(struct fleet *f)
{
	double now = tool_mono_ms();

	for (size_t i = 0; i < f->n_eps; i++)
		for (int l = 0; l < f->opt.n_lanes; l++)
			fleet_rx_close(&f->eps[i].rx[l], &f->params, now);
	write_report(f);
	for (int l = 0; l < f->opt.n_lanes; l++) {
		for (size_t b = 0; b < f->n_heard; b++)
			print_broadcast(f, l, &f->heard[b]);
		print_lane(f, l);
	}
	print_reports(f, now);
	print_costs(f, now);
}

static void release(struct fleet *f)
{
	for (size_t i = 0; i < f->n_eps; i++) {
		if (f->eps[i].fd >= 0)
			close(f->eps[i].fd);
		for (int l = 0; l < f->opt.n_lanes && f->eps[i].rx; l++)
			fleet_rx_free(&f->eps[i].rx[l]);
		free(f->eps[i].rx);
	}
	free(f->eps);
	delayq_free(f->q);
	if (f->reps)
		sodium_memzero(f->reps, f->n_eps * sizeof(*f->reps));
	free(f->reps);
	delayq_free(f->timers);
	if (f->report_fd >= 0)
		close(f->report_fd);
	if (f->epfd >= 0)
		close(f->epfd);
	zones_free(f->z);
}

int main(int argc, char **argv)
{
	static struct fleet f = { .epfd = -1, .first_audio = -1, .report_fd = -1 };
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512];

	parse_args(argc, argv, &f.opt);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (setup(&f, err, sizeof(err))) {
		fprintf(stderr, "fleet: %s\n", err);
		release(&f);
		return 1;
	}
	printf("fleet: %zu endpoints, %zu sampled (Opus decoder and signature checks on lane 0; "
	       "the first %d of each village), %zu accounting only (every packet parsed and "
	       "counted, no decoding, no signature checks); jitter buffer %d frames; %d lane(s)\n",
	       f.n_eps, f.n_sampled, f.opt.sample < 0 ? 999 : f.opt.sample,
	       f.n_eps - f.n_sampled, f.opt.depth, f.opt.n_lanes);
	if (f.reps) {
		printf("fleet: every endpoint reports to %s:%d%s every %g s with its own key; the "
		       "first reports spread over the first period\n",
		       inet_ntoa(f.opt.status_to[0].sin_addr), ntohs(f.opt.status_to[0].sin_port),
		       f.opt.n_status_to > 1 ? " (and a copy to a second address)" : "",
		       f.opt.status_period);
		fflush(stdout);
	}
	printf("fleet: ready, %zu sockets joined %zu groups on %s port %d\n", f.n_eps,
	       f.n_eps * ZONES_MAX_GROUPS, inet_ntoa(f.set.interface), f.set.port);
	fflush(stdout);
	getrusage(RUSAGE_SELF, &f.ru0);
	f.started = tool_mono_ms();
	for (size_t i = 0; f.reps && i < f.n_eps; i++)
		start_reporting(&f, i, f.started, tool_wall_ms(),
				f.started + fleet_report_offset(i, f.opt.status_period * 1e3));
	run(&f);
	report(&f);
	release(&f);
	return 0;
}
