/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A faulty link for tests: joins every group of the addressing plan on one interface,
 * passes what arrives through a seeded fault model (tools/impair.c: loss, outages, delay,
 * jitter, duplication, reordering) and multicasts it again, to the same group, out of a
 * second interface with TTL 1. Meant to sit between network namespaces a test created; on
 * one interface it needs a second port, or it would hear itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"
#include "tools/common.h"
#include "tools/impair.h"
#include "zones/zones.h"

#define JOINS_PER_SOCKET 16	/* under the kernel's default of 20 memberships a socket */
#define MAX_SOCKETS 128
#define MAX_GROUPS (JOINS_PER_SOCKET * MAX_SOCKETS)

struct options {
	struct in_addr in, out, base;
	int port, out_port;
	const char *zones, *faults;
	uint64_t seed;
	double pace, seconds;
};

struct relay {
	struct options o;
	struct impair im;
	struct delayq *q;
	struct in_addr groups[MAX_GROUPS];
	size_t n_groups;
	int rx[MAX_SOCKETS], n_rx, tx;
	unsigned long received, sent;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: relay --in ADDR --out ADDR [--port P] [--out-port P] [--zones FILE]\n"
		"             [--base ADDR] [--faults SPEC] [--seed N] [--pace X] [--seconds S]\n"
		"  --in       address of the interface to join the plan's groups on\n"
		"  --out      address of the interface to send them on again (TTL 1)\n"
		"  --port     UDP port heard (default 5004)\n"
		"  --out-port UDP port sent to (default the same)\n"
		"  --zones    the directory whose groups are relayed (default etc/zones.csv)\n"
		"  --faults   e.g. loss=5, or loss=5,burst=3,jitter=50,dup=1,reorder=1\n"
		"  --pace     the head-end's pace, for the length of an outage (default 1.0)\n");
}

static int parse_option(int c, const char *arg, struct options *o)
{
	double v;

	switch (c) {
	case 'i': return inet_pton(AF_INET, arg, &o->in) == 1 ? 0 : -1;
	case 'o': return inet_pton(AF_INET, arg, &o->out) == 1 ? 0 : -1;
	case 'b': return inet_pton(AF_INET, arg, &o->base) == 1 ? 0 : -1;
	case 'p': return tool_number(arg, 1, 65535, &v) ? -1 : (o->port = (int)v, 0);
	case 'P': return tool_number(arg, 1, 65535, &v) ? -1 : (o->out_port = (int)v, 0);
	case 'z': o->zones = arg; return 0;
	case 'f': o->faults = arg; return 0;
	case 's': return tool_number(arg, 0, 1e15, &v) ? -1 : (o->seed = (uint64_t)v, 0);
	case 'a': return tool_number(arg, 1, 50, &o->pace);
	case 't': return tool_number(arg, 0.1, 1e6, &o->seconds);
	}
	return -1;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' }, { "out", required_argument, NULL, 'o' },
		{ "base", required_argument, NULL, 'b' }, { "port", required_argument, NULL, 'p' },
		{ "out-port", required_argument, NULL, 'P' },
		{ "zones", required_argument, NULL, 'z' },
		{ "faults", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' }, { "pace", required_argument, NULL, 'a' },
		{ "seconds", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, have_in = 0, have_out = 0;

	*o = (struct options){ .port = 5004, .zones = "etc/zones.csv", .faults = "none",
			       .seed = 1, .pace = 1.0 };
	inet_pton(AF_INET, "239.192.0.0", &o->base);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (c == '?' || parse_option(c, optarg, o)) {
			fprintf(stderr, "relay: bad value \"%s\"\n", optarg ? optarg : "");
			usage(stderr);
			exit(64);
		}
		have_in |= c == 'i';
		have_out |= c == 'o';
	}
	if (!have_in || !have_out || optind != argc) {
		usage(stderr);
		exit(64);
	}
	if (!o->out_port)
		o->out_port = o->port;
}

static void add_group(struct relay *r, struct in_addr g)
{
	for (size_t i = 0; i < r->n_groups; i++)
		if (r->groups[i].s_addr == g.s_addr)
			return;
	if (r->n_groups < MAX_GROUPS)
		r->groups[r->n_groups++] = g;
}

/* Every group of the plan: each village's, its town's and the district's, through the
 * directory's own mapping. */
static int plan_groups(struct relay *r, char *err, size_t errlen)
{
	struct zones *z;

	if (zones_load(&z, r->o.zones, err, errlen) != ZONES_OK)
		return -1;
	for (size_t v = 0; v < z->n_villages; v++) {
		struct in_addr g[ZONES_MAX_GROUPS];
		size_t n = zones_endpoint_groups(z, z->villages[v].first_endpoint, r->o.base, g);

		for (size_t i = 0; i < n; i++)
			add_group(r, g[i]);
	}
	zones_free(z);
	return 0;
}

static int listener(struct relay *r, size_t from, size_t n, char *err, size_t errlen)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)r->o.port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, zero = 0;
	int rcvbuf = 1 << 20;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any))) {
		snprintf(err, errlen, "socket on port %d: %s", r->o.port, strerror(errno));
		goto fail;
	}
	for (size_t i = from; i < from + n; i++) {
		struct ip_mreq m = { .imr_multiaddr = r->groups[i], .imr_interface = r->o.in };

		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m))) {
			char g[INET_ADDRSTRLEN], in[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &r->groups[i], g, sizeof(g));
			inet_ntop(AF_INET, &r->o.in, in, sizeof(in));
			snprintf(err, errlen, "join %s on %s: %s", g, in, strerror(errno));
			goto fail;
		}
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Sends by the named interface with TTL 1: into the next namespace and no further. */
static int sender(const struct relay *r, char *err, size_t errlen)
{
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = r->o.out };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned char ttl = 1, loop = r->o.out_port != r->o.port;

	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &r->o.out, sizeof(r->o.out)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) ||
	    bind(fd, (struct sockaddr *)&local, sizeof(local))) {
		snprintf(err, errlen, "sender on %s: %s", inet_ntoa(r->o.out), strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int setup(struct relay *r, char *err, size_t errlen)
{
	struct impair_config c;

	if (impair_parse(r->o.faults, &c, err, errlen) || plan_groups(r, err, errlen))
		return -1;
	impair_init(&r->im, &c, 20.0 / r->o.pace, r->o.seed);
	r->q = delayq_new();
	if (!r->q)
		return snprintf(err, errlen, "out of memory"), -1;
	for (size_t i = 0; i < r->n_groups; i += JOINS_PER_SOCKET) {
		size_t n = r->n_groups - i < JOINS_PER_SOCKET ? r->n_groups - i : JOINS_PER_SOCKET;

		if (r->n_rx == MAX_SOCKETS)
			return snprintf(err, errlen, "too many groups"), -1;
		r->rx[r->n_rx] = listener(r, i, n, err, errlen);
		if (r->rx[r->n_rx] < 0)
			return -1;
		r->n_rx++;
	}
	r->tx = sender(r, err, errlen);
	return r->tx < 0 ? -1 : 0;
}

static void send_to(struct relay *r, struct in_addr group, const unsigned char *p, size_t n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr = group,
				  .sin_port = htons((uint16_t)r->o.out_port) };

	if (sendto(r->tx, p, n, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)n)
		r->sent++;
}

/* One datagram in: its fate, then out now or later. The group rides along as the tag. */
static void pass(struct relay *r, struct in_addr group, const unsigned char *p, size_t n,
		 double now)
{
	double delay[2];
	int copies = impair_packet(&r->im, now, delay);

	r->received++;
	for (int k = 0; k < copies; k++) {
		if (delay[k] <= 0)
			send_to(r, group, p, n);
		else if (delayq_push(r->q, now + delay[k], group.s_addr, p, n))
			r->im.lost++;
	}
}

static void drain(struct relay *r, int fd, double now)
{
	unsigned char buf[PROTO_MAX_PACKET + 1];
	char ctl[CMSG_SPACE(sizeof(struct in_pktinfo))];

	for (;;) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };
		struct in_addr group = { 0 };
		ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);

		if (n < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				group = pi.ipi_addr;
			}
		if (group.s_addr && (size_t)n <= PROTO_MAX_PACKET)
			pass(r, group, buf, (size_t)n, now);
	}
}

static void release_due(struct relay *r, double now)
{
	unsigned char buf[PROTO_MAX_PACKET + 1];
	uint64_t tag;
	double due;
	long n;

	while ((n = delayq_pop(r->q, now, &tag, &due, buf, sizeof(buf))) >= 0) {
		struct in_addr group = { .s_addr = (in_addr_t)tag };

		send_to(r, group, buf, (size_t)n);
	}
}

static void run(struct relay *r)
{
	struct pollfd p[MAX_SOCKETS];
	double start = tool_mono_ms();

	for (int i = 0; i < r->n_rx; i++)
		p[i] = (struct pollfd){ .fd = r->rx[i], .events = POLLIN };
	while (!stopping && (r->o.seconds <= 0 || tool_mono_ms() - start < r->o.seconds * 1e3)) {
		double due = delayq_next(r->q), now = tool_mono_ms();
		int wait = due < 0 ? 100 : due <= now ? 0 : (int)ceil(due - now);

		if (poll(p, (nfds_t)r->n_rx, wait < 100 ? wait : 100) > 0)
			for (int i = 0; i < r->n_rx; i++)
				if (p[i].revents & POLLIN)
					drain(r, r->rx[i], tool_mono_ms());
		release_due(r, tool_mono_ms());
	}
}

int main(int argc, char **argv)
{
	static struct relay r;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[512], in[INET_ADDRSTRLEN], out[INET_ADDRSTRLEN];

	parse_args(argc, argv, &r.o);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r.tx = -1;
	if (setup(&r, err, sizeof(err))) {
		fprintf(stderr, "relay: %s\n", err);
		return 1;
	}
	inet_ntop(AF_INET, &r.o.in, in, sizeof(in));
	inet_ntop(AF_INET, &r.o.out, out, sizeof(out));
	printf("relay: ready, %zu groups joined on %s port %d, sent on %s port %d, faults %s, "
	       "seed %llu\n", r.n_groups, in, r.o.port, out, r.o.out_port, r.im.c.name,
	       (unsigned long long)r.o.seed);
	fflush(stdout);
	run(&r);
	printf("relay: received %lu, sent %lu, lost %lu (%.2f %%), duplicated %lu, held back %lu, "
	       "still queued %zu\n", r.received, r.sent, r.im.lost,
	       r.received ? 100.0 * (double)r.im.lost / (double)r.received : 0, r.im.duplicated,
	       r.im.delayed, delayq_count(r.q));
	for (int i = 0; i < r.n_rx; i++)
		close(r.rx[i]);
	close(r.tx);
	delayq_free(r.q);
	return 0;
}
