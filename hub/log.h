#ifndef SENSORHUB_LOG_H
#define SENSORHUB_LOG_H

#include <stddef.h>

/* One logging function with levels. Every line goes to stderr as
 *   2026-11-29T13:49:54.123Z info  client 7 127.0.0.1:50312: connected
 * in a single write, so lines from the store thread never interleave. */
enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

/* The threshold is set once at start-up, before any thread exists. */
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

/* Parses "error", "warn", "info" or "debug"; returns 0 on success, -1 otherwise. */
int log_level_parse(const char *text, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled(LOG_DEBUG))                                                                \
            log_msg(LOG_DEBUG, __VA_ARGS__);                                                       \
    } while (0)

/* Copies untrusted bytes into dst as printable ASCII for a log line: quotes,
 * backslashes and non-printable bytes are escaped (\xNN), and the text is cut
 * with "..." when it does not fit. dst is always NUL-terminated (cap >= 4). */
void log_escape(char *dst, size_t cap, const char *src, size_t len);

#endif
