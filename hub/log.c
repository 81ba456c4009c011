#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Longest log line, newline included. Below PIPE_BUF (4096), so a line written
 * to a pipe (journald, a shell redirect) arrives whole even when another
 * thread writes at the same moment. */
#define LOG_LINE_MAX 2048

/* The threshold is the one piece of process-wide state in the hub: every
 * module logs, from the loop thread and from the store thread, and passing a
 * logger through every call would add a parameter to every function for one
 * value. It is written once by main() at start-up, before any thread exists,
 * and only read afterwards, so it needs no lock. */
static enum log_level log_threshold = LOG_INFO;

static const char *const log_level_names[] = {
    [LOG_ERROR] = "error",
    [LOG_WARN] = "warn",
    [LOG_INFO] = "info",
    [LOG_DEBUG] = "debug",
};

#define LOG_LEVEL_COUNT (sizeof log_level_names / sizeof log_level_names[0])

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

int log_enabled(enum log_level level)
{
    return level <= log_threshold;
}

int log_level_parse(const char *text, enum log_level *out)
{
    for (size_t i = 0; i < LOG_LEVEL_COUNT; i++) {
        if (strcmp(text, log_level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    if ((size_t)level >= LOG_LEVEL_COUNT)
        return "?";
    return log_level_names[level];
}

/* Formats the whole line into one buffer and hands it to write(2) once: two
 * threads logging at the same time then never interleave within a line. A
 * message that does not fit is cut and ends in "...". */
void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;

    char line[LOG_LINE_MAX];
    struct timespec now;
    struct tm utc;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &utc);
    int head = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s ",
                        utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                        utc.tm_sec, now.tv_nsec / 1000000L, log_level_name(level));
    if (head < 0)
        return;

    /* The body may use every byte but the last, where the newline goes. */
    size_t body_start = (size_t)head;
    size_t body_room = sizeof line - 1 - body_start;
    va_list args;
    va_start(args, fmt);
    int body = vsnprintf(line + body_start, body_room + 1, fmt, args);
    va_end(args);
    if (body < 0)
        return;

    size_t body_len = (size_t)body;
    if (body_len > body_room) {
        body_len = body_room;
        memcpy(line + body_start + body_len - 3, "...", 3);
    }
    /* A message is one line whatever its arguments held. */
    for (size_t i = body_start; i < body_start + body_len; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    size_t len = body_start + body_len;
    line[len++] = '\n';

    ssize_t written;
    do {
        written = write(STDERR_FILENO, line, len);
    } while (written < 0 && errno == EINTR);
}

/* How many characters the escaped form of one byte takes. */
static size_t escaped_width(unsigned char c)
{
    if (c == '"' || c == '\\')
        return 2;
    if (c < 0x20 || c > 0x7e)
        return 4;
    return 1;
}

void log_escape(char *dst, size_t cap, const char *src, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    if (cap == 0)
        return;

    size_t room = cap - 1;
    size_t needed = 0;
    for (size_t i = 0; i < len && needed <= room; i++)
        needed += escaped_width((unsigned char)src[i]);
    int cut = needed > room;
    size_t limit = cut ? (room >= 3 ? room - 3 : 0) : room;

    size_t pos = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        size_t width = escaped_width(c);
        if (pos + width > limit)
            break;
        if (width == 1) {
            dst[pos++] = (char)c;
        } else if (width == 2) {
            dst[pos++] = '\\';
            dst[pos++] = (char)c;
        } else {
            dst[pos++] = '\\';
            dst[pos++] = 'x';
            dst[pos++] = hex[c >> 4];
            dst[pos++] = hex[c & 0x0f];
        }
    }
    if (cut) {
        for (int dots = 0; dots < 3 && pos < room; dots++)
            dst[pos++] = '.';
    }
    dst[pos] = '\0';
}
