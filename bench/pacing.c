/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Inter-packet interval error of an RTP sender, captured on loopback with kernel receive
 * timestamps: joins one group on 127.0.0.1, records RTP arrivals until the stream pauses, and
 * prints how far each interval strays from 20 ms (p50, p99, max). Second copies of packets
 * (multicast.second_copy) are left out: only a sequence number's first arrival counts. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKETS 200000

static int join(const char *group, int port)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct ip_mreq m;
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, zero = 0;

	inet_pton(AF_INET, group, &m.imr_multiaddr);
	inet_pton(AF_INET, "127.0.0.1", &m.imr_interface);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any)) ||
	    setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m))) {
		perror("receiver socket");
		exit(1);
	}
	return fd;
}

/* Arrival time of one RTP packet in ns from the kernel's stamp; 0 for anything else, and for
 * a packet not newer than the newest so far (a second copy). */
static double receive(int fd)
{
	static int seen;
	static uint16_t newest;
	uint16_t seq;
	unsigned char buf[1600], ctl[256];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	ssize_t n = recvmsg(fd, &msg, 0);

	if (n < 12 || (buf[0] & 0xc0) != 0x80)
		return 0;
	/* ffmpeg's payload type is not ours: only the RTP fixed header is read (RFC 3550). */
	seq = (uint16_t)(buf[2] << 8 | buf[3]);
	if (seen && (int16_t)(seq - newest) <= 0)
		return 0;
	seen = 1;
	newest = seq;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return ts.tv_sec * 1e9 + ts.tv_nsec;
		}
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double *t = malloc(MAX_PACKETS * sizeof(*t)), *err;
	int fd, n = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_pacing NAME GROUP PORT\n");
		return 64;
	}
	fd = join(argv[2], (int)strtol(argv[3], NULL, 10));
	printf("ready\n");
	fflush(stdout);

	/* The first packet may take a while; after it, a 2 s pause ends the capture. */
	for (int wait = 60000; n < MAX_PACKETS; wait = 2000) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		double at;

		if (poll(&p, 1, wait) <= 0)
			break;
		if ((at = receive(fd)) > 0)
			t[n++] = at;
	}
	if (n < 3) {
		fprintf(stderr, "%s: %d packets captured\n", argv[1], n);
		return 1;
	}
	err = malloc((size_t)(n - 1) * sizeof(*err));
	for (int i = 1; i < n; i++)
		err[i - 1] = ((t[i] - t[i - 1]) - 20e6) / 1e3;
	for (int i = 0; i < n - 1; i++)
		err[i] = err[i] < 0 ? -err[i] : err[i];
	qsort(err, (size_t)(n - 1), sizeof(*err), cmp);
	printf("%s: %d packets, interval error p50 %.1f us, p99 %.1f us, max %.1f us\n", argv[1],
	       n, err[(n - 1) / 2], err[(n - 1) * 99 / 100], err[n - 2]);
	free(err);
	free(t);
	close(fd);
	return 0;
}
