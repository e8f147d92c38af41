/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Atomic replacement of small state files and the durable bulletin id counter. */
#include "headend/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int state_open(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path)) {
		snprintf(err, errlen, "state directory name is empty or too long");
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; ; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			snprintf(err, errlen, "state directory %s: %s", path, strerror(errno));
			return -1;
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

int state_lock(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX], *text;
	int fd;

	snprintf(path, sizeof(path), "%s/lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "state directory %s cannot be written: %s", dir,
			 strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "state directory %s is in use by another head-end", dir);
		close(fd);
		return -1;
	}

	/* The descriptor stays open: the lock lasts until the process ends, crash included. A
	 * probe file, not the lock itself, tests writing: replacing the lock would free it. */
	if (state_write(dir, "write-test", "", 0) || state_remove(dir, "write-test")) {
		snprintf(err, errlen, "state directory %s cannot be written: %s", dir,
			 strerror(errno));
		return -1;
	}
	text = state_read(dir, "next-id", NULL);
	if (text && (strspn(text, "0123456789") == 0 || text[strspn(text, "0123456789")] > '\n')) {
		snprintf(err, errlen, "%s/next-id is damaged; it must hold the next bulletin id",
			 dir);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_write(const char *dir, const char *name, const void *data, size_t len)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd, dfd, saved;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp) ||
	    snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) || fsync(fd) || rename(tmp, path)) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	close(fd);

	/* The rename itself is durable only once the directory is synced. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	saved = fsync(dfd);
	close(dfd);
	return saved;
}

char *state_read(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX];
	char *buf = NULL;
	FILE *f;
	long size;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc((size_t)size + 1);
	if (!buf)
		goto out;
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
		errno = EIO;
		goto out;
	}
	buf[size] = '\0';
	if (len)
		*len = (size_t)size;
out:
	fclose(f);
	return buf;
}

int state_next_id(const char *dir, uint32_t *id)
{
	char *text = state_read(dir, "next-id", NULL), *end;
	char line[32];
	unsigned long v = 1;

	if (text) {
		errno = 0;
		v = strtoul(text, &end, 10);
		if (errno || end == text || (*end && *end != '\n') || v == 0 || v >= UINT32_MAX) {
			free(text);
			errno = EINVAL;
			return -1;
		}
		free(text);
	} else if (errno != ENOENT) {
		return -1;
	}
	snprintf(line, sizeof(line), "%lu\n", v + 1);
	if (state_write(dir, "next-id", line, strlen(line)))
		return -1;
	*id = (uint32_t)v;
	return 0;
}

int state_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int dfd, rc;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (unlink(path) && errno != ENOENT)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	rc = fsync(dfd);
	close(dfd);
	return rc;
}
