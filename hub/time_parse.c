#include "time_parse.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#define MS_PER_DAY INT64_C(86400000)

/* The times these parsers produce lie in years 0001..9999, so every later
 * computation (ranges, formatting, int64 arithmetic) stays well defined. */
#define TIME_MIN_MS INT64_C(-62135596800000)
#define TIME_MAX_MS INT64_C(253402300799999)

/* A calendar time as written, before any zone is applied. */
struct civil_time {
    int64_t year, month, day, hour, minute, second;
    int64_t ms; /* fraction rounded to ms: 0..1000 (1000 carries into the next second) */
};

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil), so UTC needs neither timegm nor the process's TZ. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t days_in_month(int64_t year, int64_t month)
{
    static const int64_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly n digits at *p. */
static bool read_digits(const char **p, int n, int64_t *out)
{
    int64_t value = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (!is_digit(c))
            return false;
        value = value * 10 + (c - '0');
    }
    *p += n;
    *out = value;
    return true;
}

static bool expect_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* Reads ".digits" of any length at *p as milliseconds, rounded to nearest
 * (half up): the fourth digit decides, the ones after it cannot change that. */
static bool read_fraction_ms(const char **p, int64_t *ms)
{
    *ms = 0;
    if (**p != '.')
        return true;
    (*p)++;
    if (!is_digit(**p))
        return false;
    int64_t scale = 100;
    for (int i = 0; is_digit(**p); i++, (*p)++) {
        if (i < 3) {
            *ms += ((**p) - '0') * scale;
            scale /= 10;
        } else if (i == 3 && **p >= '5') {
            *ms += 1;
        }
    }
    return true;
}

/* Reads YYYY-MM-DD[Tt ]HH:MM:SS[.frac] at *p, fields unchecked. */
static bool read_date_time(const char **p, struct civil_time *t)
{
    return read_digits(p, 4, &t->year) && expect_char(p, '-') && read_digits(p, 2, &t->month) &&
           expect_char(p, '-') && read_digits(p, 2, &t->day) &&
           (expect_char(p, 'T') || expect_char(p, 't') || expect_char(p, ' ')) &&
           read_digits(p, 2, &t->hour) && expect_char(p, ':') && read_digits(p, 2, &t->minute) &&
           expect_char(p, ':') && read_digits(p, 2, &t->second) && read_fraction_ms(p, &t->ms);
}

static int check_civil(const struct civil_time *t, char *err, size_t errlen)
{
    if (t->month < 1 || t->month > 12) {
        snprintf(err, errlen, "month %" PRId64 " is out of range", t->month);
        return -1;
    }
    if (t->day < 1 || t->day > days_in_month(t->year, t->month)) {
        snprintf(err, errlen, "day %" PRId64 " is out of range for %04" PRId64 "-%02" PRId64,
                 t->day, t->year, t->month);
        return -1;
    }
    if (t->hour > 23) {
        snprintf(err, errlen, "hour %" PRId64 " is out of range", t->hour);
        return -1;
    }
    if (t->minute > 59) {
        snprintf(err, errlen, "minute %" PRId64 " is out of range", t->minute);
        return -1;
    }
    if (t->second > 60) {
        snprintf(err, errlen, "second %" PRId64 " is out of range", t->second);
        return -1;
    }
    return 0;
}

/* Seconds and ms within the minute. A leap second (:60) is stored as :59.999,
 * so it keeps its place between the seconds around it. */
static int64_t ms_of_minute(const struct civil_time *t)
{
    if (t->second == 60)
        return 59999;
    return t->second * 1000 + t->ms;
}

static int64_t civil_to_unix_ms(const struct civil_time *t, int64_t offset_minutes)
{
    int64_t minutes = (days_from_civil(t->year, t->month, t->day) * 24 + t->hour) * 60 + t->minute -
                      offset_minutes;
    return minutes * 60000 + ms_of_minute(t);
}

enum zone_form { ZONE_NONE, ZONE_FOUND, ZONE_MALFORMED, ZONE_OUT_OF_RANGE };

/* Reads the zone that ends a time: Z/z, +HH:MM or -HH:MM (and +HHMM when
 * compact_ok), followed by the end of the text. Writes err only for an
 * offset out of range. */
static enum zone_form read_zone(const char *p, bool compact_ok, int64_t *offset_minutes, char *err,
                                size_t errlen)
{
    if (*p == '\0')
        return ZONE_NONE;
    *offset_minutes = 0;
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return ZONE_FOUND;
    if (*p != '+' && *p != '-')
        return ZONE_MALFORMED;
    char sign = *p++;
    int64_t hours, minutes;
    if (!read_digits(&p, 2, &hours))
        return ZONE_MALFORMED;
    bool colon = expect_char(&p, ':');
    if (!colon && !compact_ok)
        return ZONE_MALFORMED;
    if (!read_digits(&p, 2, &minutes) || *p != '\0')
        return ZONE_MALFORMED;
    if (hours > 23 || minutes > 59) {
        snprintf(err, errlen, "zone offset %c%02" PRId64 "%s%02" PRId64 " is out of range", sign,
                 hours, colon ? ":" : "", minutes);
        return ZONE_OUT_OF_RANGE;
    }
    *offset_minutes = (hours * 60 + minutes) * (sign == '-' ? -1 : 1);
    return ZONE_FOUND;
}

int time_from_unix_number(double value, bool large_is_ms, int64_t *ms, char *err, size_t errlen)
{
    if (!isfinite(value)) {
        snprintf(err, errlen, "must be a finite number");
        return -1;
    }
    double value_ms = large_is_ms && value > 1e12 ? value : value * 1000.0;
    if (value_ms > (double)TIME_MAX_MS) {
        snprintf(err, errlen, "%.15g is after the year 9999", value);
        return -1;
    }
    if (value_ms < (double)TIME_MIN_MS) {
        snprintf(err, errlen, "%.15g is before the year 1", value);
        return -1;
    }
    *ms = (int64_t)llround(value_ms);
    return 0;
}

static int local_to_unix_ms(const struct civil_time *t, int64_t *ms, char *err, size_t errlen);

/* Ends a parse at p, where the zone must be: converts t with it. Without a
 * zone, RFC 3339 refuses the time and rtl_433 (which also allows +HHMM) reads
 * it in the local time zone. */
static int convert_at_zone(const char *p, const struct civil_time *t, bool rtl433, int64_t *ms,
                           char *err, size_t errlen)
{
    int64_t offset_minutes = 0;
    switch (read_zone(p, rtl433, &offset_minutes, err, errlen)) {
    case ZONE_NONE:
        if (rtl433)
            return local_to_unix_ms(t, ms, err, errlen);
        snprintf(err, errlen, "text time needs a zone (Z or +HH:MM)");
        return -1;
    case ZONE_MALFORMED:
        snprintf(err, errlen,
                 rtl433 ? "expected Z, +HH:MM or +HHMM after the seconds"
                        : "expected Z, +HH:MM or -HH:MM after the seconds");
        return -1;
    case ZONE_OUT_OF_RANGE:
        return -1;
    case ZONE_FOUND:
        break;
    }
    *ms = civil_to_unix_ms(t, offset_minutes);
    return 0;
}

int time_parse_rfc3339(const char *text, int64_t *ms, char *err, size_t errlen)
{
    struct civil_time t;
    const char *p = text;
    if (!read_date_time(&p, &t)) {
        snprintf(err, errlen, "expected an RFC 3339 time like 2026-11-23T10:00:00Z");
        return -1;
    }
    if (check_civil(&t, err, errlen) != 0)
        return -1;
    return convert_at_zone(p, &t, false, ms, err, errlen);
}

/* rtl_433's `-M time:unix` form: digits with an optional fraction, parsed
 * exactly (no double rounding of the microseconds it prints). */
static int parse_unix_seconds_text(const char *text, int64_t *ms, char *err, size_t errlen)
{
    const char *p = text;
    int64_t seconds = 0;
    int digits = 0;
    for (; is_digit(*p); p++, digits++) {
        if (digits == 12) {
            snprintf(err, errlen, "Unix time is after the year 9999");
            return -1;
        }
        seconds = seconds * 10 + (*p - '0');
    }
    int64_t fraction_ms;
    if (digits == 0 || !read_fraction_ms(&p, &fraction_ms) || *p != '\0')
        return 1;
    int64_t total = seconds * 1000 + fraction_ms;
    if (total > TIME_MAX_MS) {
        snprintf(err, errlen, "Unix time is after the year 9999");
        return -1;
    }
    *ms = total;
    return 0;
}

/* A time without a zone, in the process's local time zone (TZ); mktime
 * resolves DST itself (tm_isdst = -1). */
static int local_to_unix_ms(const struct civil_time *t, int64_t *ms, char *err, size_t errlen)
{
    struct tm tm = {0};
    tm.tm_year = (int)(t->year - 1900);
    tm.tm_mon = (int)(t->month - 1);
    tm.tm_mday = (int)t->day;
    tm.tm_hour = (int)t->hour;
    tm.tm_min = (int)t->minute;
    tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t minute_start = mktime(&tm);
    if (minute_start == (time_t)-1) {
        snprintf(err, errlen, "local time cannot be converted in this time zone");
        return -1;
    }
    *ms = (int64_t)minute_start * 1000 + ms_of_minute(t);
    return 0;
}

int time_parse_rtl433(const char *text, int64_t *ms, char *err, size_t errlen)
{
    int unix_result = parse_unix_seconds_text(text, ms, err, errlen);
    if (unix_result <= 0)
        return unix_result;

    struct civil_time t;
    const char *p = text;
    if (!read_date_time(&p, &t)) {
        snprintf(err, errlen,
                 "expected Unix seconds or YYYY-MM-DD HH:MM:SS with optional Z, +HH:MM or +HHMM");
        return -1;
    }
    if (check_civil(&t, err, errlen) != 0)
        return -1;
    return convert_at_zone(p, &t, true, ms, err, errlen);
}

void time_format_utc(int64_t ms, char *buf, size_t cap)
{
    int64_t days = ms / MS_PER_DAY;
    int64_t ms_of_day = ms % MS_PER_DAY;
    if (ms_of_day < 0) { /* floor, not truncation, for times before 1970 */
        days--;
        ms_of_day += MS_PER_DAY;
    }
    int64_t year, month, day;
    civil_from_days(days, &year, &month, &day);
    snprintf(buf, cap,
             "%04" PRId64 "-%02" PRId64 "-%02" PRId64 "T%02" PRId64 ":%02" PRId64 ":%02" PRId64
             ".%03" PRId64 "Z",
             year, month, day, ms_of_day / 3600000, ms_of_day / 60000 % 60, ms_of_day / 1000 % 60,
             ms_of_day % 1000);
}
