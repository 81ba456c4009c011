#ifndef SENSORHUB_FUZZ_CHECK_H
#define SENSORHUB_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* What the fuzz targets share: an invariant check that stops the run (libFuzzer
 * then saves the input as a crash) and the checks several targets need. */

/* Every target defines the entry point libFuzzer calls. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant failure is a crash: print what broke and abort, so libFuzzer
 * saves the input and the report names the rule, not just a line number. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n  ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Characters in s if it is valid UTF-8 (no overlongs, surrogates or code
 * points above U+10FFFF), else -1: names and messages go into JSON acks and
 * SQLite text, which must be UTF-8. */
static inline long fuzz_utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long chars = 0;
    while (*p) {
        unsigned char c = *p;
        int more;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            more = 0;
        } else if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            lo = c == 0xE0 ? 0xA0 : 0x80;
            hi = c == 0xED ? 0x9F : 0xBF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            lo = c == 0xF0 ? 0x90 : 0x80;
            hi = c == 0xF4 ? 0x8F : 0xBF;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < more; i++, p++) {
            if (*p < lo || *p > hi)
                return -1;
            lo = 0x80;
            hi = 0xBF;
        }
        chars++;
    }
    return chars;
}

static inline bool fuzz_starts_with(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return false;
    return true;
}

#endif
