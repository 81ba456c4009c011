#ifndef SENSORHUB_TIME_PARSE_H
#define SENSORHUB_TIME_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pure parsers for the time forms sensors send (PROTOCOL.md `ts`, rtl_433
 * `time`). Each returns 0 and fills *ms (Unix milliseconds, fractions below
 * 1 ms rounded to nearest) or returns -1 and writes a short reason to err
 * (e.g. "month 13 is out of range"). They do not check the 2000..now range. */

/* A JSON number: Unix seconds (integer or fraction), or, when large_is_ms
 * (a frame's `ts`, not rtl_433's `time`), Unix ms when > 1e12. */
int time_from_unix_number(double value, bool large_is_ms, int64_t *ms, char *err, size_t errlen);

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac] followed by Z or +HH:MM / -HH:MM
 * (T may be t or a space, Z may be z). A time without a zone is an error. */
int time_parse_rfc3339(const char *text, int64_t *ms, char *err, size_t errlen);

/* rtl_433's `time`: Unix seconds as text (fraction allowed), or
 * YYYY-MM-DD[T ]HH:MM:SS[.f] with optional Z, +HH:MM or +HHMM; without a zone
 * it is local time of the process's time zone (TZ). */
int time_parse_rtl433(const char *text, int64_t *ms, char *err, size_t errlen);

/* Formats Unix ms as YYYY-MM-DDTHH:MM:SS.mmmZ into buf (at least 25 bytes). */
void time_format_utc(int64_t ms, char *buf, size_t cap);

#endif
