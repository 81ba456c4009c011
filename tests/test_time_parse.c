#include "time_parse.h"

#include <math.h>
#include <time.h>

#include "test.h"

/* 2026-11-23T10:00:00Z */
#define T_2026_11_23 INT64_C(1795428000000)

static int64_t rfc(const char *text)
{
    char err[128] = "";
    int64_t ms = -1;
    if (time_parse_rfc3339(text, &ms, err, sizeof err) != 0) {
        fprintf(stderr, "unexpected error for %s: %s\n", text, err);
        return -1;
    }
    return ms;
}

/* The error reason for a text RFC 3339 refuses. */
static const char *rfc_error(const char *text, char *err, size_t errlen)
{
    int64_t ms = 0;
    if (time_parse_rfc3339(text, &ms, err, errlen) == 0)
        snprintf(err, errlen, "(accepted as %" PRId64 ")", ms);
    return err;
}

static int64_t rtl(const char *text)
{
    char err[128] = "";
    int64_t ms = -1;
    if (time_parse_rtl433(text, &ms, err, sizeof err) != 0) {
        fprintf(stderr, "unexpected error for %s: %s\n", text, err);
        return -1;
    }
    return ms;
}

static const char *rtl_error(const char *text, char *err, size_t errlen)
{
    int64_t ms = 0;
    if (time_parse_rtl433(text, &ms, err, errlen) == 0)
        snprintf(err, errlen, "(accepted as %" PRId64 ")", ms);
    return err;
}

static int64_t unix_number(double value)
{
    char err[128] = "";
    int64_t ms = -1;
    if (time_from_unix_number(value, true, &ms, err, sizeof err) != 0) {
        fprintf(stderr, "unexpected error for %.17g: %s\n", value, err);
        return -1;
    }
    return ms;
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void test_unix_seconds_and_ms(void)
{
    ASSERT_INT_EQ(unix_number(1795430400), INT64_C(1795430400000));
    ASSERT_INT_EQ(unix_number(1795430400.25), INT64_C(1795430400250));
    ASSERT_INT_EQ(unix_number(1700000000.0004), INT64_C(1700000000000)); /* rounds down */
    ASSERT_INT_EQ(unix_number(1700000000.0006), INT64_C(1700000000001)); /* rounds up */
    ASSERT_INT_EQ(unix_number(1795430400123.0), INT64_C(1795430400123)); /* > 1e12: ms */
    ASSERT_INT_EQ(unix_number(1795430400123.6), INT64_C(1795430400124));
    ASSERT_INT_EQ(unix_number(0), 0);
    ASSERT_INT_EQ(unix_number(-1.5), -1500);
}

static void test_unix_number_errors(void)
{
    char err[128];
    int64_t ms = 0;
    ASSERT_INT_EQ(time_from_unix_number(INFINITY, true, &ms, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "must be a finite number");
    ASSERT_INT_EQ(time_from_unix_number(NAN, true, &ms, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "must be a finite number");
    /* exactly 1e12 is still seconds: year 33658 */
    ASSERT_INT_EQ(time_from_unix_number(1e12, true, &ms, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "1000000000000 is after the year 9999");
    ASSERT_INT_EQ(time_from_unix_number(1e20, true, &ms, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "1e+20 is after the year 9999");
    ASSERT_INT_EQ(time_from_unix_number(-1e12, true, &ms, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "-1000000000000 is before the year 1");
    /* seconds only (rtl_433's time): a large value is not taken as ms */
    ASSERT_INT_EQ(time_from_unix_number(1795428000000.0, false, &ms, err, sizeof err), -1);
    ASSERT_STR_EQ(err, "1795428000000 is after the year 9999");
    ASSERT_INT_EQ(time_from_unix_number(1795428000000.0, true, &ms, err, sizeof err), 0);
    ASSERT_INT_EQ(ms, INT64_C(1795428000000));
}

static void test_rfc3339_forms(void)
{
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00Z"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("2026-11-23t10:00:00z"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("2026-11-23 10:00:00Z"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("2026-11-23T18:00:00+08:00"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("2026-11-23T04:30:00-05:30"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00-00:00"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("2026-11-24T09:59:00+23:59"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("2026-11-22T10:01:00-23:59"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("1970-01-01T00:00:00Z"), 0);
    ASSERT_INT_EQ(rfc("1999-01-01T00:00:00Z"), INT64_C(915148800000));
}

static void test_rfc3339_fractions_round_to_ms(void)
{
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00.5Z"), T_2026_11_23 + 500);
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00.25Z"), T_2026_11_23 + 250);
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00.123Z"), T_2026_11_23 + 123);
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00.1234Z"), T_2026_11_23 + 123);
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00.1235Z"), T_2026_11_23 + 124);
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00.123456789Z"), T_2026_11_23 + 123);
    ASSERT_INT_EQ(rfc("2026-11-23T10:00:00.0004999999Z"), T_2026_11_23);
    ASSERT_INT_EQ(rfc("2026-11-23T09:59:59.9996Z"), T_2026_11_23);           /* carries a second */
    ASSERT_INT_EQ(rfc("2026-12-31T23:59:59.9999Z"), INT64_C(1798761600000)); /* and a year */
}

static void test_rfc3339_calendar(void)
{
    char err[128];
    ASSERT_INT_EQ(rfc("2024-02-29T00:00:00Z"), INT64_C(1709164800000));
    ASSERT_INT_EQ(rfc("2000-02-29T00:00:00Z"), INT64_C(951782400000)); /* 400-year rule */
    ASSERT_STR_EQ(rfc_error("2023-02-29T00:00:00Z", err, sizeof err),
                  "day 29 is out of range for 2023-02");
    ASSERT_STR_EQ(rfc_error("1900-02-29T00:00:00Z", err, sizeof err),
                  "day 29 is out of range for 1900-02"); /* 100-year rule */
    ASSERT_STR_EQ(rfc_error("2026-04-31T00:00:00Z", err, sizeof err),
                  "day 31 is out of range for 2026-04");
    ASSERT_STR_EQ(rfc_error("2026-01-32T00:00:00Z", err, sizeof err),
                  "day 32 is out of range for 2026-01");
    ASSERT_STR_EQ(rfc_error("2026-01-00T00:00:00Z", err, sizeof err),
                  "day 0 is out of range for 2026-01");
    ASSERT_STR_EQ(rfc_error("2026-13-01T00:00:00Z", err, sizeof err), "month 13 is out of range");
    ASSERT_STR_EQ(rfc_error("2026-00-01T00:00:00Z", err, sizeof err), "month 0 is out of range");
    ASSERT_STR_EQ(rfc_error("2026-11-23T24:00:00Z", err, sizeof err), "hour 24 is out of range");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:60:00Z", err, sizeof err), "minute 60 is out of range");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:61Z", err, sizeof err), "second 61 is out of range");
}

static void test_rfc3339_leap_second_is_59_999(void)
{
    ASSERT_INT_EQ(rfc("2016-12-31T23:59:60Z"), INT64_C(1483228799999));
    ASSERT_INT_EQ(rfc("2016-12-31T23:59:60.5Z"), INT64_C(1483228799999));
}

static void test_rfc3339_zone_rules(void)
{
    char err[128];
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:00", err, sizeof err),
                  "text time needs a zone (Z or +HH:MM)");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:00.5", err, sizeof err),
                  "text time needs a zone (Z or +HH:MM)");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:00+0800", err, sizeof err),
                  "expected Z, +HH:MM or -HH:MM after the seconds");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:00Zx", err, sizeof err),
                  "expected Z, +HH:MM or -HH:MM after the seconds");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:00+08", err, sizeof err),
                  "expected Z, +HH:MM or -HH:MM after the seconds");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:00 Z", err, sizeof err),
                  "expected Z, +HH:MM or -HH:MM after the seconds");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:00+24:00", err, sizeof err),
                  "zone offset +24:00 is out of range");
    ASSERT_STR_EQ(rfc_error("2026-11-23T10:00:00-08:60", err, sizeof err),
                  "zone offset -08:60 is out of range");
}

static void test_rfc3339_malformed(void)
{
    static const char *const texts[] = {
        "",
        "2026-11-23",
        "2026-1-23T10:00:00Z",
        "2026-11-23X10:00:00Z",
        "2026-11-23T10:00Z",
        "2026-11-23T10:00:00.Z",
        " 2026-11-23T10:00:00Z",
        "+2026-11-23T10:00:00Z",
        "1795430400",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char err[128];
        ASSERT_STR_EQ(rfc_error(texts[i], err, sizeof err),
                      "expected an RFC 3339 time like 2026-11-23T10:00:00Z");
    }
}

static void test_rtl433_unix_text(void)
{
    char err[128];
    ASSERT_INT_EQ(rtl("1795430400"), INT64_C(1795430400000));
    ASSERT_INT_EQ(rtl("1795430400.123456"), INT64_C(1795430400123));
    ASSERT_INT_EQ(rtl("1795430400.9996"), INT64_C(1795430401000));
    ASSERT_STR_EQ(rtl_error("1795430400123", err, sizeof err), "Unix time is after the year 9999");
    ASSERT_STR_EQ(rtl_error("999999999999", err, sizeof err), "Unix time is after the year 9999");
    ASSERT_STR_EQ(rtl_error("1795430400.", err, sizeof err),
                  "expected Unix seconds or YYYY-MM-DD HH:MM:SS with optional Z, +HH:MM or +HHMM");
}

static void test_rtl433_zones(void)
{
    char err[128];
    set_tz("CET-1CEST,M3.5.0,M10.5.0/3"); /* an offset must not depend on TZ */
    ASSERT_INT_EQ(rtl("2026-11-23 10:00:00Z"), T_2026_11_23);
    ASSERT_INT_EQ(rtl("2026-11-23T10:00:00z"), T_2026_11_23);
    ASSERT_INT_EQ(rtl("2026-11-23 18:00:00+08:00"), T_2026_11_23);
    ASSERT_INT_EQ(rtl("2026-11-23 18:00:00+0800"), T_2026_11_23);
    ASSERT_INT_EQ(rtl("2026-11-23 04:30:00-0530"), T_2026_11_23);
    ASSERT_INT_EQ(rtl("2026-11-23 10:00:00.250Z"), T_2026_11_23 + 250);
    ASSERT_STR_EQ(rtl_error("2026-11-23 18:00:00+2400", err, sizeof err),
                  "zone offset +2400 is out of range");
    ASSERT_STR_EQ(rtl_error("2026-11-23 18:00:00+08", err, sizeof err),
                  "expected Z, +HH:MM or +HHMM after the seconds");
    ASSERT_STR_EQ(rtl_error("2026-02-30 18:00:00", err, sizeof err),
                  "day 30 is out of range for 2026-02");
    ASSERT_STR_EQ(rtl_error("yesterday", err, sizeof err),
                  "expected Unix seconds or YYYY-MM-DD HH:MM:SS with optional Z, +HH:MM or +HHMM");
    set_tz("UTC0");
}

static void test_rtl433_local_time_follows_tz(void)
{
    set_tz("UTC0");
    ASSERT_INT_EQ(rtl("2024-05-01 12:34:56"), INT64_C(1714566896000));
    ASSERT_INT_EQ(rtl("2024-01-15 11:00:00.5"), INT64_C(1705316400500));
    set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
    ASSERT_INT_EQ(rtl("2024-05-01 12:34:56"), INT64_C(1714559696000)); /* CEST, +02:00 */
    ASSERT_INT_EQ(rtl("2024-01-15 12:00:00"), INT64_C(1705316400000)); /* CET, +01:00 */
    ASSERT_INT_EQ(rtl("2024-01-15T12:00:00.125"), INT64_C(1705316400125));
    set_tz("UTC0");
}

static void test_format_utc(void)
{
    char buf[32];
    time_format_utc(0, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "1970-01-01T00:00:00.000Z");
    time_format_utc(INT64_C(1795430400123), buf, sizeof buf);
    ASSERT_STR_EQ(buf, "2026-11-23T10:40:00.123Z");
    time_format_utc(-1, buf, sizeof buf);
    ASSERT_STR_EQ(buf, "1969-12-31T23:59:59.999Z");
    time_format_utc(INT64_C(951782400000), buf, sizeof buf);
    ASSERT_STR_EQ(buf, "2000-02-29T00:00:00.000Z");
    time_format_utc(INT64_C(253402300799999), buf, sizeof buf);
    ASSERT_STR_EQ(buf, "9999-12-31T23:59:59.999Z");
    char small[11];
    time_format_utc(0, small, sizeof small); /* truncates, stays terminated */
    ASSERT_STR_EQ(small, "1970-01-01");
}

/* Formatting and parsing agree on every day from 1970 to 2100. */
static void test_format_parse_round_trip(void)
{
    int mismatches = 0;
    for (int64_t ms = 0; ms < INT64_C(4102444800000); ms += INT64_C(86400000) + 3661001) {
        char buf[32];
        time_format_utc(ms, buf, sizeof buf);
        if (rfc(buf) != ms && mismatches++ < 3)
            fprintf(stderr, "round trip of %" PRId64 " gave %s\n", ms, buf);
    }
    ASSERT_INT_EQ(mismatches, 0);
}

int main(void)
{
    set_tz("UTC0");
    RUN(test_unix_seconds_and_ms);
    RUN(test_unix_number_errors);
    RUN(test_rfc3339_forms);
    RUN(test_rfc3339_fractions_round_to_ms);
    RUN(test_rfc3339_calendar);
    RUN(test_rfc3339_leap_second_is_59_999);
    RUN(test_rfc3339_zone_rules);
    RUN(test_rfc3339_malformed);
    RUN(test_rtl433_unix_text);
    RUN(test_rtl433_zones);
    RUN(test_rtl433_local_time_follows_tz);
    RUN(test_format_utc);
    RUN(test_format_parse_round_trip);
    return test_summary();
}
