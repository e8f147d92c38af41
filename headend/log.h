/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One line per event on stderr: ISO-8601 UTC time, level, then the object the line is about. */
#ifndef CX_HEADEND_LOG_H
#define CX_HEADEND_LOG_H

__attribute__((format(printf, 1, 2))) void log_info(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void log_warn(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void log_error(const char *fmt, ...);

#endif
