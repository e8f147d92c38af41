/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Listens on multicast groups (joined on a named interface) and prints, for each broadcast,
 * the wall-clock time its first RTP packet arrived: "ssrc 42 1796443200.012345". bench/slots.sh
 * compares these with the slot times. Prints nothing else; stops after the given seconds. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"

#define SEEN_MAX 4096

static int join(int fd, const char *group, const char *interface)
{
	struct ip_mreq m;

	if (inet_pton(AF_INET, group, &m.imr_multiaddr) != 1 ||
	    inet_pton(AF_INET, interface, &m.imr_interface) != 1)
		return -1;
	return setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof(m));
}

static int open_socket(int port, const char *interface, char **groups, int n)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), one = 1, zero = 0;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof(zero)) ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any)))
		return -1;
	for (int i = 0; i < n; i++)
		if (join(fd, groups[i], interface))
			return -1;
	return fd;
}

static int seen_before(uint32_t *seen, size_t *n, uint32_t ssrc)
{
	for (size_t i = 0; i < *n; i++)
		if (seen[i] == ssrc)
			return 1;
	if (*n < SEEN_MAX)
		seen[(*n)++] = ssrc;
	return 0;
}

int main(int argc, char **argv)
{
	static uint32_t seen[SEEN_MAX];
	size_t n_seen = 0;
	unsigned char buf[PROTO_MAX_PACKET];
	time_t stop;
	int fd;

	if (argc < 5) {
		fprintf(stderr, "usage: bench_first_heard PORT INTERFACE SECONDS GROUP...\n");
		return 64;
	}
	fd = open_socket((int)strtol(argv[1], NULL, 10), argv[2], argv + 4, argc - 4);
	if (fd < 0) {
		perror("bench_first_heard: socket");
		return 1;
	}
	stop = time(NULL) + strtol(argv[3], NULL, 10);
	while (time(NULL) < stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct proto_rtp r;
		struct timespec t;
		ssize_t len;

		if (poll(&p, 1, 500) <= 0 || (len = recv(fd, buf, sizeof(buf), 0)) <= 0)
			continue;
		clock_gettime(CLOCK_REALTIME, &t);
		if (proto_classify(buf, (size_t)len) != PROTO_PACKET_RTP ||
		    proto_rtp_parse(buf, (size_t)len, &r) != PROTO_OK ||
		    seen_before(seen, &n_seen, r.ssrc))
			continue;
		printf("ssrc %u %lld.%06ld\n", r.ssrc, (long long)t.tv_sec, t.tv_nsec / 1000);
		fflush(stdout);
	}
	close(fd);
	return 0;
}
