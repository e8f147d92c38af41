/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The security tests' attacker, on loopback only: records the head-end's packets, prints them,
 * replays a recording, and relays the live stream to an endpoint while tampering with it (bit
 * flips, truncation, oversize, duplicates, reordering, forged and wrongly keyed packets), with a
 * clean copy of the same stream to a second endpoint for comparison. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"
#include "proto/sign.h"
#include "tools/common.h"

#define MAX_GROUPS 8
#define HOLD 8			/* packets held back by the reorder attack */
#define BIG 2048		/* room for oversize packets */

enum attack { NONE, DUPLICATE, REORDER, FLIP, TRUNCATE, OVERSIZE, FORGE, WRONGKEY };

static const char *const attack_names[] = {
	"none", "duplicate", "reorder", "flip", "truncate", "oversize", "forge", "wrongkey",
};

struct options {
	int port, to, clean;
	struct in_addr groups[MAX_GROUPS];
	size_t n_groups;
	const char *file;
	enum attack attack;
	unsigned every;
	double seconds;
	const char *order;
};

/* What the relay has learnt of the genuine stream, to forge packets that look current. */
struct stream {
	uint32_t key_id, epoch, top, broadcast;
	uint32_t ssrc;			/* of the newest audio heard, and its highest seq */
	uint16_t top_seq;
	uint8_t n_targets;
	uint64_t targets[PROTO_MAX_TARGETS];
	int have_start;
};

struct relay {
	const struct options *o;
	int rx, tx;
	unsigned long genuine, tried;
	struct stream s;
	unsigned char held[HOLD][BIG];
	size_t held_len[HOLD], n_held;
	struct in_addr held_group[HOLD];
	unsigned char sk[PROTO_SECRET_KEY], pk[PROTO_PUBLIC_KEY];	/* the attacker's key */
	uint32_t forged_serial;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: wiretap record --port P --group G... --out FILE [--seconds S]\n"
		"       wiretap dump FILE\n"
		"       wiretap replay --to P --in FILE [--order recorded|reverse]\n"
		"       wiretap relay --port P --to P2 --clean P3 --group G... --attack CLASS\n"
		"                     [--every N] [--seconds S]\n"
		"CLASS: none duplicate reorder flip truncate oversize forge wrongkey.\n"
		"Everything stays on 127.0.0.1 with TTL 0.\n");
	exit(64);
}

/* A socket that hears groups on port, on the loopback interface only. */
static int listener(int port, const struct in_addr *groups, size_t n)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, zero = 0, buf = 1 << 20;
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf)) ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any))) {
		perror("wiretap: listening socket");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		struct ip_mreq m = { .imr_multiaddr = groups[i], .imr_interface = lo };

		if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m))) {
			perror("wiretap: join");
			exit(1);
		}
	}
	return fd;
}

/* A socket that sends on loopback only and never beyond this host. */
static int sender(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct in_addr lo = { htonl(INADDR_LOOPBACK) };
	unsigned char ttl = 0, loop = 1;

	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof(lo)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop))) {
		perror("wiretap: sending socket");
		exit(1);
	}
	return fd;
}

static void send_to(int fd, struct in_addr group, int port, const unsigned char *p, size_t n)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr = group };

	/* Administratively scoped groups only (239.0.0.0/8), and TTL 0: never another host. */
	if ((ntohl(group.s_addr) >> 24) != 239)
		return;
	if (sendto(fd, p, n, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		fprintf(stderr, "wiretap: send to %s:%d: %s\n", inet_ntoa(group), port,
			strerror(errno));
}

/* One datagram, waiting at most ms; its length, or -1 if none came. */
static ssize_t receive(int fd, unsigned char *buf, size_t size, struct in_addr *group, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct sockaddr_in from;
	struct msghdr mh = { 0 };
	struct iovec iov = { buf, size };
	char ctl[64];
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return -1;
	mh.msg_name = &from;
	mh.msg_namelen = sizeof(from);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl;
	mh.msg_controllen = sizeof(ctl);
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n >= 0 && c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			*group = ((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr;
	return n;
}

static void want_pktinfo(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
}

/* Recordings: "CXW1", then per packet its length (u32), group (4 bytes as on the wire),
 * microseconds since the recording began (u64) and the bytes. */
static int cmd_record(const struct options *o)
{
	int fd = listener(o->port, o->groups, o->n_groups);
	FILE *f = fopen(o->file, "wb");
	unsigned char buf[BIG], head[16];
	double start = tool_mono_s();
	unsigned long n = 0;

	if (!f) {
		perror(o->file);
		return 1;
	}
	want_pktinfo(fd);
	fwrite("CXW1", 1, 4, f);
	while (!stopping && (o->seconds <= 0 || tool_mono_s() - start < o->seconds)) {
		struct in_addr group = { 0 };
		ssize_t len = receive(fd, buf, sizeof(buf), &group, 100);
		uint64_t us = (uint64_t)((tool_mono_s() - start) * 1e6);

		if (len < 0)
			continue;
		for (int i = 0; i < 4; i++)
			head[i] = (unsigned char)((uint32_t)len >> (24 - 8 * i));
		memcpy(head + 4, &group.s_addr, 4);
		for (int i = 0; i < 8; i++)
			head[8 + i] = (unsigned char)(us >> (56 - 8 * i));
		fwrite(head, 1, sizeof(head), f);
		fwrite(buf, 1, (size_t)len, f);
		n++;
	}
	fclose(f);
	fprintf(stderr, "wiretap: recorded %lu packets\n", n);
	return 0;
}

struct packet {
	unsigned char data[BIG];
	size_t len;
	struct in_addr group;
	uint64_t us;
};

/* All packets of a recording, or NULL. */
static struct packet *load(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct packet *p = NULL;
	unsigned char head[16], magic[4];
	size_t cap = 0;

	*n = 0;
	if (!f || fread(magic, 1, 4, f) != 4 || memcmp(magic, "CXW1", 4)) {
		fprintf(stderr, "wiretap: %s: not a recording\n", path);
		if (f)
			fclose(f);
		return NULL;
	}
	while (fread(head, 1, sizeof(head), f) == sizeof(head)) {
		uint32_t len = (uint32_t)head[0] << 24 | (uint32_t)head[1] << 16 |
			       (uint32_t)head[2] << 8 | head[3];

		if (*n == cap) {
			struct packet *q = realloc(p, (cap = cap ? 2 * cap : 256) * sizeof(*p));

			if (!q)
				break;
			p = q;
		}
		if (len > BIG || fread(p[*n].data, 1, len, f) != len)
			break;
		p[*n].len = len;
		memcpy(&p[*n].group.s_addr, head + 4, 4);
		p[*n].us = 0;
		for (int i = 0; i < 8; i++)
			p[*n].us = p[*n].us << 8 | head[8 + i];
		(*n)++;
	}
	fclose(f);
	return p;
}

/* One line per packet: time, group, kind, and for control packets key, epoch and serial. */
static int cmd_dump(const struct options *o)
{
	size_t n;
	struct packet *p = load(o->file, &n);

	if (!p)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct proto_control c;
		struct proto_rtp r;

		printf("%.3f %s ", p[i].us / 1e6, inet_ntoa(p[i].group));
		if (proto_control_parse(p[i].data, p[i].len, &c) == PROTO_OK)
			printf("control type %d key %08x epoch %u serial %u broadcast %u\n",
			       c.type, c.key_id, c.epoch, c.serial, c.broadcast);
		else if (proto_rtp_parse(p[i].data, p[i].len, &r) == PROTO_OK)
			printf("rtp ssrc %u seq %u\n", r.ssrc, r.seq);
		else
			printf("other %zu bytes\n", p[i].len);
	}
	free(p);
	return 0;
}

/* Send a recording again to port, each packet to the group it was heard on. */
static int cmd_replay(const struct options *o)
{
	size_t n;
	struct packet *p = load(o->file, &n);
	int fd = sender(), reverse = o->order && !strcmp(o->order, "reverse");
	struct timespec gap = { 0, 200000 };

	if (!p)
		return 1;
	for (size_t i = 0; i < n && !stopping; i++) {
		const struct packet *q = &p[reverse ? n - 1 - i : i];

		send_to(fd, q->group, o->to, q->data, q->len);
		nanosleep(&gap, NULL);
	}
	printf("wiretap: replayed %zu packets (%s order)\n", n, reverse ? "reverse" : "recorded");
	free(p);
	close(fd);
	return 0;
}

/* Keep up with the genuine stream: its key, epoch, highest serial, current broadcast, and the
 * furthest its audio has gone (the head-end sends each packet twice, the copy later). */
static void learn(struct relay *r, const unsigned char *p, size_t n)
{
	struct proto_control c;
	struct proto_rtp a;

	if (proto_rtp_parse(p, n, &a) == PROTO_OK) {
		if (a.ssrc != r->s.ssrc || (int16_t)(a.seq - r->s.top_seq) > 0)
			r->s.top_seq = a.seq;
		r->s.ssrc = a.ssrc;
		return;
	}
	if (proto_control_parse(p, n, &c) != PROTO_OK)
		return;
	r->s.key_id = c.key_id;
	if (c.epoch > r->s.epoch)
		r->s.top = 0;
	if (c.epoch >= r->s.epoch) {
		r->s.epoch = c.epoch;
		if (c.serial > r->s.top)
			r->s.top = c.serial;
	}
	if (c.type == PROTO_START) {
		r->s.broadcast = c.broadcast;
		r->s.n_targets = c.n_targets;
		memcpy(r->s.targets, c.targets, sizeof(r->s.targets));
		r->s.have_start = 1;
	}
}

/* A control packet that passes every check but the key or the signature: the stream's epoch,
 * a serial ahead of it, the time now. own: signed with the attacker's key (claiming the
 * genuine key id if claim), else carrying random bytes for a signature. */
static size_t forge(struct relay *r, struct proto_control *c, int own, int claim,
		    unsigned char *out)
{
	size_t n;

	c->epoch = r->s.epoch;
	c->serial = r->s.top + 1000 + ++r->forged_serial;
	c->sent_ms = tool_wall_ms();
	c->key_id = own && !claim ? proto_key_id(r->pk) : r->s.key_id;
	n = proto_control_pack(c, out, BIG);
	if (n && own)
		proto_sign(out, n, r->sk);
	else if (n)
		randombytes_buf(out + n - PROTO_SIGNATURE, PROTO_SIGNATURE);
	return n;
}

static void inject(struct relay *r, struct in_addr group, const unsigned char *p, size_t n)
{
	if (!n)
		return;
	send_to(r->tx, group, r->o->to, p, n);
	r->tried++;
}

/* Audio for the broadcast on air, one packet ahead of the furthest genuine one: what a
 * speaker of someone else's words would send. */
static size_t splice(const struct proto_rtp *g, uint16_t top, unsigned char *out)
{
	unsigned char payload[PROTO_MAX_OPUS];
	struct proto_rtp r = *g;

	r.seq = (uint16_t)(top + 1);
	r.timestamp = g->timestamp + PROTO_FRAME_TICKS * (uint16_t)(top + 1 - g->seq);
	r.marker = 0;
	randombytes_buf(payload, g->payload_len);
	r.payload = payload;
	return proto_rtp_pack(&r, out, BIG);
}

/* forge and wrongkey: after each genuine START a START of a broadcast of our own and an END
 * of the genuine one; after every few RTP packets a MANIFEST and the audio it lists. */
static void counterfeit(struct relay *r, struct in_addr group, const unsigned char *p,
			size_t n, int own)
{
	struct proto_control c;
	struct proto_rtp g;
	unsigned char out[BIG];
	int claim = own && (r->tried / 2) % 2;

	if (!r->s.have_start)
		return;
	if (proto_control_parse(p, n, &c) == PROTO_OK && c.type == PROTO_START) {
		c.broadcast = r->s.broadcast + 1000;
		inject(r, group, out, forge(r, &c, own, claim, out));
		c.type = PROTO_END;
		c.broadcast = r->s.broadcast;
		inject(r, group, out, forge(r, &c, own, claim, out));
		return;
	}
	if (proto_rtp_parse(p, n, &g) != PROTO_OK || r->genuine % r->o->every)
		return;
	n = splice(&g, r->s.top_seq, out);
	memset(&c, 0, sizeof(c));
	c.type = PROTO_MANIFEST;
	c.broadcast = g.ssrc;
	c.seq = (uint16_t)(r->s.top_seq + 1);
	c.n_hashes = 1;
	proto_rtp_hash(out, n, c.hashes[0]);
	{
		unsigned char m[BIG];

		inject(r, group, m, forge(r, &c, own, claim, m));
	}
	inject(r, group, out, n);
}

/* flip, truncate, oversize: the endpoint gets the altered packet instead of the genuine one,
 * and the clean endpoint gets neither. */
static void alter(struct relay *r, struct in_addr group, const unsigned char *p, size_t n)
{
	unsigned char out[BIG];
	size_t len = n;

	memcpy(out, p, n);
	if (r->o->attack == FLIP) {
		uint32_t bit = randombytes_uniform((uint32_t)n * 8);

		out[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	} else if (r->o->attack == TRUNCATE) {
		len = randombytes_uniform((uint32_t)n);
	} else if (r->tried % 2) {
		len = 1600 + randombytes_uniform(BIG - 1600);	/* beyond any valid packet */
		randombytes_buf(out + n, len - n);
	} else {
		len = n + 1 + randombytes_uniform(64);
		randombytes_buf(out + n, len - n);
	}
	inject(r, group, out, len);
}

static void flush_held(struct relay *r)
{
	while (r->n_held) {
		r->n_held--;
		inject(r, r->held_group[r->n_held], r->held[r->n_held], r->held_len[r->n_held]);
	}
}

static void relay_packet(struct relay *r, struct in_addr group, const unsigned char *p, size_t n)
{
	enum attack a = r->o->attack;
	int replace = (a == FLIP || a == TRUNCATE || a == OVERSIZE) &&
		      r->genuine % r->o->every == 0;

	r->genuine++;
	learn(r, p, n);
	if (replace) {
		alter(r, group, p, n);
		return;
	}
	send_to(r->tx, group, r->o->to, p, n);
	send_to(r->tx, group, r->o->clean, p, n);
	if (a == DUPLICATE) {
		inject(r, group, p, n);
	} else if (a == REORDER) {
		memcpy(r->held[r->n_held], p, n);
		r->held_len[r->n_held] = n;
		r->held_group[r->n_held++] = group;
		if (r->n_held == HOLD)
			flush_held(r);
	} else if (a == FORGE || a == WRONGKEY) {
		counterfeit(r, group, p, n, a == WRONGKEY);
	}
}

static int cmd_relay(const struct options *o)
{
	struct relay *r = calloc(1, sizeof(*r));
	unsigned char buf[BIG];
	double start = tool_mono_s();

	if (!r)
		return 1;
	r->o = o;
	r->rx = listener(o->port, o->groups, o->n_groups);
	r->tx = sender();
	want_pktinfo(r->rx);
	crypto_sign_keypair(r->pk, r->sk);
	while (!stopping && (o->seconds <= 0 || tool_mono_s() - start < o->seconds)) {
		struct in_addr group = { 0 };
		ssize_t n = receive(r->rx, buf, sizeof(buf), &group, 100);

		if (n >= 0)
			relay_packet(r, group, buf, (size_t)n);
	}
	flush_held(r);
	printf("wiretap: relayed %lu genuine packets, tried %lu (attack %s)\n", r->genuine,
	       r->tried, attack_names[o->attack]);
	close(r->rx);
	close(r->tx);
	free(r);
	return 0;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "to", required_argument, NULL, 't' },
		{ "clean", required_argument, NULL, 'c' },
		{ "group", required_argument, NULL, 'g' },
		{ "out", required_argument, NULL, 'o' },
		{ "in", required_argument, NULL, 'i' },
		{ "attack", required_argument, NULL, 'a' },
		{ "every", required_argument, NULL, 'e' },
		{ "seconds", required_argument, NULL, 's' },
		{ "order", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->attack = NONE;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': o->port = (int)strtol(optarg, NULL, 10); break;
		case 't': o->to = (int)strtol(optarg, NULL, 10); break;
		case 'c': o->clean = (int)strtol(optarg, NULL, 10); break;
		case 'o':
		case 'i': o->file = optarg; break;
		case 'e': o->every = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': o->seconds = strtod(optarg, NULL); break;
		case 'r': o->order = optarg; break;
		case 'g':
			if (o->n_groups == MAX_GROUPS ||
			    inet_pton(AF_INET, optarg, &o->groups[o->n_groups++]) != 1)
				usage();
			break;
		case 'a':
			for (o->attack = NONE; o->attack <= WRONGKEY; o->attack++)
				if (!strcmp(optarg, attack_names[o->attack]))
					break;
			if (o->attack > WRONGKEY)
				usage();
			break;
		default: usage();
		}
	}
	if (!o->every)
		o->every = o->attack == FLIP || o->attack == TRUNCATE || o->attack == OVERSIZE ||
			   o->attack == FORGE || o->attack == WRONGKEY ? 5 : 1;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	const char *cmd = argc > 1 ? argv[1] : "";

	if (sodium_init() < 0)
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "dump") && argc == 3) {
		o.file = argv[2];
		return cmd_dump(&o);
	}
	parse_args(argc - 1, argv + 1, &o);
	if (!strcmp(cmd, "record") && o.port && o.n_groups && o.file)
		return cmd_record(&o);
	if (!strcmp(cmd, "replay") && o.to && o.file)
		return cmd_replay(&o);
	if (!strcmp(cmd, "relay") && o.port && o.to && o.clean && o.n_groups)
		return cmd_relay(&o);
	usage();
	return 64;
}
