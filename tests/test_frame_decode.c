/* Tests of the frame decoder. Every message it can refuse a frame with:
 *
 *   invalid JSON at byte N                  cJSON (or the raw member scan) failed at byte N
 *   a frame must be a JSON object           valid JSON that is not an object
 *   KEY: duplicate member                   a top-level key repeats (decoded keys compared)
 *   seq: must be an integer in 0..9007199254740991
 *   sensor: must be a string
 *   sensor: must be 1..64 characters of A-Z a-z 0-9 . _ : -
 *   location: must be a string
 *   location: must be 1..64 characters
 *   a reading needs sensor or location
 *   temp: must be a number                  (also hum, temperature_C, temperature_F, humidity)
 *   temp: must be a finite number           1e400 and the like
 *   temp: 120 is out of range [-50, 100]    hum [0, 100]; temperature_F in Fahrenheit
 *   a reading needs temp or hum
 *   ts: must be a number or a string        (and time:)
 *   ts: must be a finite number
 *   ts: 1e+20 is after the year 9999        ts: -1e+12 is before the year 1
 *   ts: text time needs a zone (Z or +HH:MM)
 *   ts: expected an RFC 3339 time like 2026-11-23T10:00:00Z
 *   ts: expected Z, +HH:MM or -HH:MM after the seconds
 *   ts: zone offset +24:00 is out of range
 *   ts: month 13 is out of range            also day (day 30 is out of range for 2026-02),
 *                                           hour, minute, second
 *   ts: 1999-01-01T00:00:00Z is before 2000-01-01
 *   ts: 2040-01-01T00:00:00Z is more than 300 s ahead of the hub's clock
 *   model: must be a string
 *   id: must be a number or a string        (and channel)
 *   id: must be a finite number             (and channel)
 *   model: the sensor name model-id-channel must be 1..64 characters
 *   an rtl_433 frame needs temperature_C, temperature_F or humidity
 *   time: <as for ts>                       time: Unix time is after the year 9999,
 *   time: expected Unix seconds or YYYY-MM-DD HH:MM:SS with optional Z, +HH:MM or +HHMM,
 *   time: expected Z, +HH:MM or +HHMM after the seconds,
 *   time: local time cannot be converted in this time zone
 *   cmd: must be a string
 *   the hub is out of memory
 */
#include "frame_decode.h"

#include <time.h>

#include "json_members.h"

#include "test.h"

/* 64 characters, the longest name */
#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* The hub's clock in these tests: 2026-11-23T10:40:00Z. */
#define NOW INT64_C(1795430400000)

static struct decode_rules default_rules(void)
{
    return (struct decode_rules){
        .temp_min = -50, .temp_max = 100, .max_future_s = 300, .rooms = NULL};
}

static void decode_with(const struct decode_rules *rules, const char *frame,
                        struct decoded_frame *out)
{
    frame_decode(rules, frame, strlen(frame), NOW, out);
}

static void decode(const char *frame, struct decoded_frame *out)
{
    struct decode_rules rules = default_rules();
    decode_with(&rules, frame, out);
}

/* The error a frame is refused with, or a note that it was not refused. */
static const char *refusal(const char *frame, char *buf, size_t cap)
{
    struct decoded_frame out;
    decode(frame, &out);
    snprintf(buf, cap, "%s", out.kind == FRAME_REFUSED ? out.error : "(not refused)");
    decoded_frame_free(&out);
    return buf;
}

#define ASSERT_REFUSED(frame, message)                                                             \
    do {                                                                                           \
        char buf_[300];                                                                            \
        ASSERT_STR_EQ(refusal(frame, buf_, sizeof buf_), message);                                 \
    } while (0)

/* The reading a frame decodes to; the test fails when it is not one. */
#define DECODE_READING(frame, out)                                                                 \
    do {                                                                                           \
        decode(frame, out);                                                                        \
        if ((out)->kind != FRAME_READING)                                                          \
            TEST_FAIL_("%s: not a reading: %s", frame, (out)->error);                              \
    } while (0)

static void test_seed_frame_is_valid(void)
{
    struct decoded_frame out;
    DECODE_READING("{\"location\":\"living_room\",\"temp\":25.5,\"hum\":60}", &out);
    ASSERT_STR_EQ(out.reading.sensor, "living_room");
    ASSERT_STR_EQ(out.reading.location, "living_room");
    ASSERT(out.reading.has_temp && out.reading.has_hum);
    ASSERT_DBL_EQ(out.reading.temp_c, 25.5);
    ASSERT_DBL_EQ(out.reading.hum_pct, 60);
    ASSERT(!out.reading.has_ts);
    ASSERT_INT_EQ(out.reading.ts_ms, NOW);
    ASSERT_INT_EQ(out.reading.recv_ms, NOW);
    ASSERT(!out.has_seq && !out.reading.has_seq);
    ASSERT(out.reading.extra == NULL);
    decoded_frame_free(&out);
}

static void test_protocol_example_frame(void)
{
    struct decoded_frame out;
    DECODE_READING("{\"sensor\":\"lr-1\",\"location\":\"living_room\",\"temp\":25.5,\"hum\":60,"
                   "\"ts\":1795430400,\"seq\":17}",
                   &out);
    ASSERT_STR_EQ(out.reading.sensor, "lr-1");
    ASSERT_STR_EQ(out.reading.location, "living_room");
    ASSERT_DBL_EQ(out.reading.temp_c, 25.5);
    ASSERT_DBL_EQ(out.reading.hum_pct, 60);
    ASSERT(out.reading.has_ts);
    ASSERT_INT_EQ(out.reading.ts_ms, INT64_C(1795430400000));
    ASSERT_INT_EQ(out.reading.recv_ms, NOW);
    ASSERT(out.has_seq && out.reading.has_seq);
    ASSERT_INT_EQ(out.seq, 17);
    ASSERT_INT_EQ(out.reading.seq, 17);
    ASSERT(out.reading.extra == NULL);
    decoded_frame_free(&out);
}

static void test_frame_length_is_respected(void)
{
    /* the bytes after len are not part of the frame */
    static const char text[] = "{\"sensor\":\"a\",\"hum\":1}{\"garbage";
    struct decode_rules rules = default_rules();
    struct decoded_frame out;
    frame_decode(&rules, text, strlen("{\"sensor\":\"a\",\"hum\":1}"), NOW, &out);
    ASSERT_INT_EQ(out.kind, FRAME_READING);
    ASSERT(out.reading.extra == NULL);
    decoded_frame_free(&out);
}

static void test_invalid_json(void)
{
    ASSERT_REFUSED("{\"a\":}", "invalid JSON at byte 5");
    ASSERT_REFUSED("[1,2]", "a frame must be a JSON object");
    ASSERT_REFUSED("\"text\"", "a frame must be a JSON object");
}

static void test_sensor_rules(void)
{
    struct decoded_frame out;
    DECODE_READING("{\"sensor\":\"AZaz09._:-\",\"hum\":1}", &out);
    ASSERT_STR_EQ(out.reading.sensor, "AZaz09._:-");
    ASSERT_STR_EQ(out.reading.location, "");
    decoded_frame_free(&out);
    DECODE_READING("{\"sensor\":\"lr\\u002d1\",\"hum\":1}", &out); /* escapes are decoded */
    ASSERT_STR_EQ(out.reading.sensor, "lr-1");
    decoded_frame_free(&out);
    DECODE_READING("{\"sensor\":\"" A64 "\",\"hum\":1}", &out);
    ASSERT_INT_EQ(strlen(out.reading.sensor), 64);
    decoded_frame_free(&out);

    static const char *const bad[] = {
        "{\"sensor\":\"" A64 "a\",\"hum\":1}",
        "{\"sensor\":\"\",\"hum\":1}",
        "{\"sensor\":\"lr 1\",\"hum\":1}",
        "{\"sensor\":\"lr/1\",\"hum\":1}",
        "{\"sensor\":\"k\xc3\xbc\x63he\",\"hum\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_REFUSED(bad[i], "sensor: must be 1..64 characters of A-Z a-z 0-9 . _ : -");
    ASSERT_REFUSED("{\"sensor\":12,\"hum\":1}", "sensor: must be a string");
    ASSERT_REFUSED("{\"sensor\":null,\"hum\":1}", "sensor: must be a string");
}

static void test_location_rules(void)
{
    /* 64 two-byte and 64 four-byte characters: counted as characters, not bytes */
    char frame[600], location[300];
    location[0] = '\0';
    for (int i = 0; i < 64; i++)
        strcat(location, "\xc3\xbc");
    snprintf(frame, sizeof frame, "{\"location\":\"%s\",\"hum\":1}", location);
    struct decoded_frame out;
    DECODE_READING(frame, &out);
    ASSERT_STR_EQ(out.reading.location, location);
    ASSERT_STR_EQ(out.reading.sensor, location);
    decoded_frame_free(&out);
    snprintf(frame, sizeof frame, "{\"location\":\"%s\xc3\xbc\",\"hum\":1}", location);
    ASSERT_REFUSED(frame, "location: must be 1..64 characters");

    location[0] = '\0';
    for (int i = 0; i < 64; i++)
        strcat(location, "\xf0\x9f\x8c\xa1");
    snprintf(frame, sizeof frame, "{\"location\":\"%s\",\"hum\":1}", location);
    DECODE_READING(frame, &out);
    ASSERT_INT_EQ(strlen(out.reading.sensor), 256);
    ASSERT_STR_EQ(out.reading.location, location);
    decoded_frame_free(&out);

    DECODE_READING("{\"sensor\":\"k1\",\"location\":\"K\\u00fcche 2\",\"hum\":1}", &out);
    ASSERT_STR_EQ(out.reading.sensor, "k1");
    ASSERT_STR_EQ(out.reading.location, "K\xc3\xbc"
                                        "che 2");
    decoded_frame_free(&out);

    ASSERT_REFUSED("{\"location\":\"\",\"hum\":1}", "location: must be 1..64 characters");
    ASSERT_REFUSED("{\"location\":[\"x\"],\"hum\":1}", "location: must be a string");
    ASSERT_REFUSED("{\"temp\":1,\"hum\":1}", "a reading needs sensor or location");
}

static void test_configured_rooms(void)
{
    struct sensor_rooms rooms = {0};
    ASSERT_INT_EQ(sensor_rooms_add(&rooms, "lr-1", "living_room"), 0);
    ASSERT_INT_EQ(sensor_rooms_add(&rooms, "attic", "loft"), 0);
    ASSERT_INT_EQ(sensor_rooms_add(&rooms, "Nexus-TH-91-2", "garden"), 0);
    sensor_rooms_sort(&rooms);
    struct decode_rules rules = default_rules();
    rules.rooms = &rooms;
    struct decoded_frame out;

    decode_with(&rules, "{\"sensor\":\"lr-1\",\"temp\":20}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_READING);
    ASSERT_STR_EQ(out.reading.location, "living_room");
    decoded_frame_free(&out);
    /* a location sent wins over the map */
    decode_with(&rules, "{\"sensor\":\"lr-1\",\"location\":\"hall\",\"temp\":20}", &out);
    ASSERT_STR_EQ(out.reading.location, "hall");
    decoded_frame_free(&out);
    /* not in the map: empty, the store keeps the last known room */
    decode_with(&rules, "{\"sensor\":\"lr-2\",\"temp\":20}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_READING);
    ASSERT_STR_EQ(out.reading.location, "");
    decoded_frame_free(&out);
    /* rtl_433 frames: the map is the only source of a location */
    decode_with(&rules,
                "{\"model\":\"Nexus-TH\",\"id\":91,\"channel\":2,\"temperature_C\":5,"
                "\"location\":\"ignored\"}",
                &out);
    ASSERT_INT_EQ(out.kind, FRAME_READING);
    ASSERT_STR_EQ(out.reading.location, "garden");
    ASSERT_STR_EQ(out.reading.extra, "{\"location\":\"ignored\"}");
    decoded_frame_free(&out);
    sensor_rooms_free(&rooms);
}

static void test_temp_and_hum_rules(void)
{
    struct decoded_frame out;
    DECODE_READING("{\"sensor\":\"a\",\"temp\":-50,\"hum\":0}", &out);
    ASSERT_DBL_EQ(out.reading.temp_c, -50);
    ASSERT_DBL_EQ(out.reading.hum_pct, 0);
    decoded_frame_free(&out);
    DECODE_READING("{\"sensor\":\"a\",\"temp\":100,\"hum\":100}", &out);
    decoded_frame_free(&out);
    DECODE_READING("{\"sensor\":\"a\",\"temp\":21.5}", &out);
    ASSERT(out.reading.has_temp && !out.reading.has_hum);
    decoded_frame_free(&out);
    DECODE_READING("{\"sensor\":\"a\",\"hum\":40}", &out);
    ASSERT(!out.reading.has_temp && out.reading.has_hum);
    decoded_frame_free(&out);

    ASSERT_REFUSED("{\"sensor\":\"a\",\"hum\":140}", "hum: 140 is out of range [0, 100]");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"hum\":-0.5}", "hum: -0.5 is out of range [0, 100]");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"temp\":100.5}", "temp: 100.5 is out of range [-50, 100]");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"temp\":-50.25}", "temp: -50.25 is out of range [-50, 100]");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"temp\":1e3}", "temp: 1000 is out of range [-50, 100]");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"temp\":\"25\"}", "temp: must be a number");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"temp\":null}", "temp: must be a number");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"hum\":true}", "hum: must be a number");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"temp\":1e400}", "temp: must be a finite number");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"hum\":-1e400}", "hum: must be a finite number");
    ASSERT_REFUSED("{\"sensor\":\"a\"}", "a reading needs temp or hum");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"battery\":3}", "a reading needs temp or hum");

    struct decode_rules rules = default_rules();
    rules.temp_min = -40;
    rules.temp_max = 85;
    decode_with(&rules, "{\"sensor\":\"a\",\"temp\":85.5}", &out);
    ASSERT_STR_EQ(out.error, "temp: 85.5 is out of range [-40, 85]");
    decoded_frame_free(&out);
}

static void test_check_order(void)
{
    /* duplicates (with seq still echoed), then seq, then sensor, location, temp, hum, ts */
    ASSERT_REFUSED("{\"seq\":-1,\"a\":1,\"a\":2}", "a: duplicate member");
    ASSERT_REFUSED("{\"ts\":0,\"hum\":140,\"temp\":\"x\",\"location\":\"\",\"sensor\":\"b c\","
                   "\"seq\":1.5}",
                   "seq: must be an integer in 0..9007199254740991");
    ASSERT_REFUSED("{\"ts\":0,\"hum\":140,\"temp\":\"x\",\"location\":\"\",\"sensor\":\"b c\"}",
                   "sensor: must be 1..64 characters of A-Z a-z 0-9 . _ : -");
    ASSERT_REFUSED("{\"ts\":0,\"hum\":140,\"temp\":\"x\",\"location\":\"\",\"sensor\":\"b\"}",
                   "location: must be 1..64 characters");
    ASSERT_REFUSED("{\"ts\":0,\"hum\":140,\"temp\":\"x\",\"sensor\":\"b\"}",
                   "temp: must be a number");
    ASSERT_REFUSED("{\"ts\":0,\"hum\":140,\"sensor\":\"b\"}", "hum: 140 is out of range [0, 100]");
    ASSERT_REFUSED("{\"ts\":0,\"sensor\":\"b\"}", "a reading needs temp or hum");
    ASSERT_REFUSED("{\"ts\":0,\"sensor\":\"b\",\"hum\":1}",
                   "ts: 1970-01-01T00:00:00Z is before 2000-01-01");
}

/* ts_ms of a reading frame with the given ts member text, or -1 when refused. */
static int64_t ts_of(const char *ts_json)
{
    char frame[200];
    snprintf(frame, sizeof frame, "{\"sensor\":\"a\",\"hum\":1,\"ts\":%s}", ts_json);
    struct decoded_frame out;
    decode(frame, &out);
    int64_t ts = -1;
    if (out.kind == FRAME_READING && out.reading.has_ts)
        ts = out.reading.ts_ms;
    else
        fprintf(stderr, "ts %s: %s\n", ts_json, out.error);
    decoded_frame_free(&out);
    return ts;
}

static const char *ts_refusal(const char *ts_json, char *buf, size_t cap)
{
    char frame[200];
    snprintf(frame, sizeof frame, "{\"sensor\":\"a\",\"hum\":1,\"ts\":%s}", ts_json);
    return refusal(frame, buf, cap);
}

#define ASSERT_TS_REFUSED(ts_json, message)                                                        \
    do {                                                                                           \
        char buf_[300];                                                                            \
        ASSERT_STR_EQ(ts_refusal(ts_json, buf_, sizeof buf_), message);                            \
    } while (0)

static void test_ts_forms(void)
{
    ASSERT_INT_EQ(ts_of("1795430000"), INT64_C(1795430000000));
    ASSERT_INT_EQ(ts_of("1795430000.25"), INT64_C(1795430000250));
    ASSERT_INT_EQ(ts_of("1795430000.0004"), INT64_C(1795430000000));
    ASSERT_INT_EQ(ts_of("1795430000.0006"), INT64_C(1795430000001));
    ASSERT_INT_EQ(ts_of("1.79543e9"), INT64_C(1795430000000));
    ASSERT_INT_EQ(ts_of("1795430000123"), INT64_C(1795430000123)); /* > 1e12: ms */
    ASSERT_INT_EQ(ts_of("\"2026-11-23T10:00:00Z\""), INT64_C(1795428000000));
    ASSERT_INT_EQ(ts_of("\"2026-11-23t10:00:00z\""), INT64_C(1795428000000));
    ASSERT_INT_EQ(ts_of("\"2026-11-23T18:00:00+08:00\""), INT64_C(1795428000000));
    ASSERT_INT_EQ(ts_of("\"2026-11-23T05:00:00-05:00\""), INT64_C(1795428000000));
    ASSERT_INT_EQ(ts_of("\"2026-11-23T10:00:00.1236Z\""), INT64_C(1795428000124));
    ASSERT_INT_EQ(ts_of("946684800"), READING_MIN_TS_MS); /* 2000-01-01 itself */

    struct decoded_frame out;
    DECODE_READING("{\"sensor\":\"a\",\"hum\":1}", &out);
    ASSERT(!out.reading.has_ts);
    ASSERT_INT_EQ(out.reading.ts_ms, NOW);
    decoded_frame_free(&out);
}

static void test_ts_limits(void)
{
    char future[40];
    snprintf(future, sizeof future, "%" PRId64, NOW + 300000);
    ASSERT_INT_EQ(ts_of(future), NOW + 300000); /* exactly max_future_s ahead */
    snprintf(future, sizeof future, "%" PRId64, NOW + 300001);
    ASSERT_TS_REFUSED(future,
                      "ts: 2026-11-23T10:45:00.001Z is more than 300 s ahead of the hub's clock");
    ASSERT_INT_EQ(ts_of("\"2026-11-23T10:45:00Z\""), NOW + 300000);
    ASSERT_TS_REFUSED("\"2040-01-01T00:00:00Z\"",
                      "ts: 2040-01-01T00:00:00Z is more than 300 s ahead of the hub's clock");
    ASSERT_TS_REFUSED("\"1999-01-01T00:00:00Z\"", "ts: 1999-01-01T00:00:00Z is before 2000-01-01");
    ASSERT_TS_REFUSED("915148800", "ts: 1999-01-01T00:00:00Z is before 2000-01-01");
    ASSERT_TS_REFUSED("946684799.999", "ts: 1999-12-31T23:59:59.999Z is before 2000-01-01");
    ASSERT_TS_REFUSED("-5", "ts: 1969-12-31T23:59:55Z is before 2000-01-01");

    struct decode_rules rules = default_rules();
    rules.max_future_s = 10;
    struct decoded_frame out;
    decode_with(&rules, "{\"sensor\":\"a\",\"hum\":1,\"ts\":1795430411}", &out);
    ASSERT_STR_EQ(out.error, "ts: 2026-11-23T10:40:11Z is more than 10 s ahead of the hub's clock");
    decoded_frame_free(&out);
}

static void test_ts_errors(void)
{
    ASSERT_TS_REFUSED("\"2026-11-23T10:00:00\"", "ts: text time needs a zone (Z or +HH:MM)");
    ASSERT_TS_REFUSED("\"2026-11-23 10:00:00.5\"", "ts: text time needs a zone (Z or +HH:MM)");
    ASSERT_TS_REFUSED("\"2026-11-23T10:00:00+0800\"",
                      "ts: expected Z, +HH:MM or -HH:MM after the seconds");
    ASSERT_TS_REFUSED("\"2026-11-23T10:00:00+24:00\"", "ts: zone offset +24:00 is out of range");
    ASSERT_TS_REFUSED("\"2026-02-30T10:00:00Z\"", "ts: day 30 is out of range for 2026-02");
    ASSERT_TS_REFUSED("\"2026-13-01T10:00:00Z\"", "ts: month 13 is out of range");
    ASSERT_TS_REFUSED("\"1795430400\"", "ts: expected an RFC 3339 time like 2026-11-23T10:00:00Z");
    ASSERT_TS_REFUSED("\"now\"", "ts: expected an RFC 3339 time like 2026-11-23T10:00:00Z");
    ASSERT_TS_REFUSED("true", "ts: must be a number or a string");
    ASSERT_TS_REFUSED("null", "ts: must be a number or a string");
    ASSERT_TS_REFUSED("{\"s\":1}", "ts: must be a number or a string");
    ASSERT_TS_REFUSED("1e400", "ts: must be a finite number");
    ASSERT_TS_REFUSED("1e20", "ts: 1e+20 is after the year 9999");
    ASSERT_TS_REFUSED("-1e12", "ts: -1000000000000 is before the year 1");
}

/* The seq of a frame with the given seq member text, or -1 when refused. */
static int64_t seq_of(const char *seq_json)
{
    char frame[200];
    snprintf(frame, sizeof frame, "{\"sensor\":\"a\",\"hum\":1,\"seq\":%s}", seq_json);
    struct decoded_frame out;
    decode(frame, &out);
    int64_t seq = -1;
    if (out.kind == FRAME_READING && out.has_seq && out.reading.has_seq &&
        out.reading.seq == out.seq)
        seq = out.seq;
    decoded_frame_free(&out);
    return seq;
}

static void test_seq_rules(void)
{
    ASSERT_INT_EQ(seq_of("17"), 17);
    ASSERT_INT_EQ(seq_of("0"), 0);
    ASSERT_INT_EQ(seq_of("9007199254740991"), INT64_C(9007199254740991));

    static const char *const bad[] = {
        "17.0",
        "1e2",
        "1E2",
        "-1",
        "-0",
        "1.5",
        "9007199254740992",
        "12345678901234567",
        "99999999999999999999",
        "\"17\"",
        "null",
        "true",
        "[17]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char frame[200];
        snprintf(frame, sizeof frame, "{\"sensor\":\"a\",\"hum\":1,\"seq\":%s}", bad[i]);
        struct decoded_frame out;
        decode(frame, &out);
        ASSERT_INT_EQ(out.kind, FRAME_REFUSED);
        ASSERT_STR_EQ(out.error, "seq: must be an integer in 0..9007199254740991");
        ASSERT(!out.has_seq);
        decoded_frame_free(&out);
    }
}

static void test_refusal_keeps_valid_seq(void)
{
    struct decoded_frame out;
    decode("{\"seq\":17,\"sensor\":\"a\",\"hum\":140}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_REFUSED);
    ASSERT_STR_EQ(out.error, "hum: 140 is out of range [0, 100]");
    ASSERT(out.has_seq);
    ASSERT_INT_EQ(out.seq, 17);
    decoded_frame_free(&out);

    decode("{\"sensor\":\"a\",\"hum\":1,\"ts\":\"2026-11-23T10:00:00\",\"seq\":9}", &out);
    ASSERT_STR_EQ(out.error, "ts: text time needs a zone (Z or +HH:MM)");
    ASSERT(out.has_seq);
    ASSERT_INT_EQ(out.seq, 9);
    decoded_frame_free(&out);

    /* PROTOCOL.md: every ack for a reading echoes a valid seq, so a frame
     * refused for a duplicate member still carries its seq ... */
    decode("{\"seq\":17,\"sensor\":\"a\",\"hum\":1,\"hum\":2}", &out);
    ASSERT_STR_EQ(out.error, "hum: duplicate member");
    ASSERT(out.has_seq);
    ASSERT_INT_EQ(out.seq, 17);
    decoded_frame_free(&out);

    /* ... unless seq itself is the repeated member (which one is meant?) */
    decode("{\"seq\":17,\"sensor\":\"a\",\"hum\":1,\"seq\":18}", &out);
    ASSERT_STR_EQ(out.error, "seq: duplicate member");
    ASSERT(!out.has_seq);
    decoded_frame_free(&out);
}

/* Found by fuzz_frame_decode: a repeated seq is never echoed, also when
 * another member repeats first and is the one the error names. */
static void test_repeated_seq_not_echoed_behind_other_duplicate(void)
{
    struct decoded_frame out;
    decode("{\"sensor\":\"a\",\"hum\":1,\"hum\":2,\"seq\":17,\"seq\":18}", &out);
    ASSERT_STR_EQ(out.error, "hum: duplicate member");
    ASSERT(!out.has_seq);
    decoded_frame_free(&out);

    decode("{\"seq\":17,\"a\":1,\"a\":2,\"s\\u0065q\":17}", &out);
    ASSERT_STR_EQ(out.error, "a: duplicate member");
    ASSERT(!out.has_seq);
    decoded_frame_free(&out);
}

/* Found by fuzz_frame_decode: a repeated empty key was refused with
 * ": duplicate member", which names nothing. */
static void test_duplicate_empty_key_is_named(void)
{
    ASSERT_REFUSED("{\"\":\"x\",\"sensor\":\"a\",\"temp\":1,\"\":\"y\"}", "\"\": duplicate member");
}

static void test_extra_keeps_text_as_sent(void)
{
    struct decoded_frame out;
    DECODE_READING("{\"sensor\":\"a\",\"temp\":1,\"battery\":3.70,\"rssi\":-61,\"big\":1E+2,"
                   "\"tags\":[\"x\", \"y\"],\"cfg\":{\"a\" : {\"b\":[1,{}]}},\"note\":\"}{,\\\"\","
                   "\"ok\":true,\"none\":null}",
                   &out);
    ASSERT_STR_EQ(
        out.reading.extra,
        "{\"battery\":3.70,\"rssi\":-61,\"big\":1E+2,\"tags\":[\"x\", \"y\"],"
        "\"cfg\":{\"a\" : {\"b\":[1,{}]}},\"note\":\"}{,\\\"\",\"ok\":true,\"none\":null}");
    char *extra = decoded_frame_take_extra(&out);
    ASSERT(out.reading.extra == NULL);
    decoded_frame_free(&out);
    free(extra);

    /* whitespace between members goes; keys stay as sent, escapes included */
    DECODE_READING("{ \"sensor\" : \"a\" ,\t\"hum\" : 1 , \"pr\\u0065ssure\" : 1013.25 }", &out);
    ASSERT_STR_EQ(out.reading.extra, "{\"pr\\u0065ssure\":1013.25}");
    decoded_frame_free(&out);

    /* an escaped known key is that key, not extra */
    DECODE_READING("{\"sensor\":\"a\",\"t\\u0065mp\":7}", &out);
    ASSERT_DBL_EQ(out.reading.temp_c, 7);
    ASSERT(out.reading.extra == NULL);
    decoded_frame_free(&out);

    DECODE_READING("{\"sensor\":\"a\",\"temp\":1,\"x\":{}}", &out);
    ASSERT_STR_EQ(out.reading.extra, "{\"x\":{}}");
    decoded_frame_free(&out);
}

static void test_duplicate_members(void)
{
    ASSERT_REFUSED("{\"sensor\":\"a\",\"temp\":1,\"temp\":2}", "temp: duplicate member");
    ASSERT_REFUSED("{\"temp\":1,\"t\\u0065mp\":2,\"sensor\":\"a\"}", "temp: duplicate member");
    ASSERT_REFUSED("{\"sensor\":\"a\",\"temp\":1,\"x\":1,\"y\":1,\"x\":2}", "x: duplicate member");
    ASSERT_REFUSED("{\"cmd\":\"ping\",\"cmd\":\"ping\"}", "cmd: duplicate member");
    /* the first repeat in frame order is named */
    ASSERT_REFUSED("{\"b\":1,\"a\":1,\"a\":2,\"b\":2}", "a: duplicate member");
    ASSERT_REFUSED("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1,"
                   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":2}",
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: duplicate member");
    /* a long key is cut at a character boundary: 39 ASCII bytes, then a 2-byte character */
    ASSERT_REFUSED("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xbc\":1,"
                   "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xbc\":2}",
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...: duplicate member");
}

/* Frames with many members take the sorting path and name the same member. */
static void test_duplicate_members_in_large_frame(void)
{
    char frame[2000] = "{\"sensor\":\"a\",\"hum\":1";
    for (int i = 0; i < 100; i++) {
        char member[40];
        snprintf(member, sizeof member, ",\"k%d\":%d", i, i);
        strcat(frame, member);
        if (i == 60)
            strcat(frame, ",\"k50\":0");
        if (i == 40)
            strcat(frame, ",\"k10\":0");
    }
    strcat(frame, ",\"k40\":0,\"hum\":2}");
    ASSERT_REFUSED(frame, "k10: duplicate member");

    /* and without duplicates the whole frame is a reading */
    char unique[2000] = "{\"sensor\":\"a\",\"hum\":1";
    for (int i = 0; i < 100; i++) {
        char member[40];
        snprintf(member, sizeof member, ",\"k%d\":%d", i, i);
        strcat(unique, member);
    }
    strcat(unique, "}");
    struct decoded_frame out;
    DECODE_READING(unique, &out);
    ASSERT(out.reading.extra != NULL && strncmp(out.reading.extra, "{\"k0\":0,\"k1\":1,", 15) == 0);
    ASSERT(out.reading.extra != NULL && strlen(out.reading.extra) == strlen(unique) - 21);
    decoded_frame_free(&out);
}

/* The members of text as "key=value;" pairs, or "error" when the scan fails. */
static const char *scan_members(const char *text, size_t len, char *buf, size_t cap)
{
    struct json_members scan;
    struct json_member m;
    buf[0] = '\0';
    if (json_members_begin(&scan, text, len) != 0)
        return "error";
    int rc;
    while ((rc = json_members_next(&scan, &m)) == 1) {
        size_t used = strlen(buf);
        snprintf(buf + used, cap - used, "%.*s=%.*s;", (int)m.key.len, m.key.ptr, (int)m.value.len,
                 m.value.ptr);
    }
    return rc == 0 ? buf : "error";
}

static void test_json_members_scan(void)
{
    char buf[300];
    static const char nested[] =
        " { \"a\" : 1 , \"b\\\"}\":\"x}\\\\\",\"c\":[1,{\"d\":\"]\"}],\"e\":{},\"f\":-1.5e3}";
    ASSERT_STR_EQ(scan_members(nested, strlen(nested), buf, sizeof buf),
                  "\"a\"=1;\"b\\\"}\"=\"x}\\\\\";\"c\"=[1,{\"d\":\"]\"}];\"e\"={};\"f\"=-1.5e3;");
    ASSERT_STR_EQ(scan_members("{}", 2, buf, sizeof buf), "");
    ASSERT_STR_EQ(scan_members("{\"t\":true}", 10, buf, sizeof buf), "\"t\"=true;");

    /* malformed or cut short: an error, never a read past len (ASan watches) */
    static const char *const bad[] = {
        "",
        "[1]",
        "{",
        "{\"a\"",
        "{\"a\":",
        "{\"a\":1",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":\"x",
        "{\"a\":[1,2",
        "{\"a\":1 \"b\":2}",
        "{\"a\":\"\\",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i]);
        char *copy = malloc(len ? len : 1); /* exactly len bytes, no NUL after them */
        memcpy(copy, bad[i], len);
        ASSERT_STR_EQ(scan_members(copy, len, buf, sizeof buf), "error");
        free(copy);
    }
}

static void test_sensor_rooms(void)
{
    struct sensor_rooms rooms = {0};
    ASSERT(sensor_rooms_lookup(&rooms, "x") == NULL);
    ASSERT(sensor_rooms_lookup(NULL, "x") == NULL);
    for (int i = 99; i >= 0; i--) {
        char name[16], room[16];
        snprintf(name, sizeof name, "s%d", i);
        snprintf(room, sizeof room, "room%d", i);
        ASSERT_INT_EQ(sensor_rooms_add(&rooms, name, room), 0);
    }
    sensor_rooms_sort(&rooms);
    ASSERT_INT_EQ(rooms.count, 100);
    for (int i = 0; i < 100; i++) {
        char name[16], room[16];
        snprintf(name, sizeof name, "s%d", i);
        snprintf(room, sizeof room, "room%d", i);
        ASSERT_STR_EQ(sensor_rooms_lookup(&rooms, name), room);
    }
    ASSERT(sensor_rooms_lookup(&rooms, "s100") == NULL);
    ASSERT(sensor_rooms_lookup(&rooms, "") == NULL);
    sensor_rooms_free(&rooms);
    ASSERT(rooms.items == NULL && rooms.count == 0);
}

static void set_tz(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static void test_rtl433_nexus(void)
{
    struct decoded_frame out;
    DECODE_READING("{\"time\":\"2026-11-23 10:39:00\",\"model\":\"Nexus-TH\",\"id\":91,"
                   "\"channel\":2,\"battery_ok\":1,\"temperature_C\":21.3,\"humidity\":45}",
                   &out);
    ASSERT_STR_EQ(out.reading.sensor, "Nexus-TH-91-2");
    ASSERT_STR_EQ(out.reading.location, "");
    ASSERT_DBL_EQ(out.reading.temp_c, 21.3);
    ASSERT_DBL_EQ(out.reading.hum_pct, 45);
    ASSERT(out.reading.has_ts);
    ASSERT_INT_EQ(out.reading.ts_ms, NOW - 60000);
    ASSERT_INT_EQ(out.reading.recv_ms, NOW);
    ASSERT(!out.has_seq);
    ASSERT_STR_EQ(out.reading.extra, "{\"battery_ok\":1}");
    decoded_frame_free(&out);
}

/* The sensor name an rtl_433 frame maps to. */
static const char *rtl433_name(const char *frame, char *buf, size_t cap)
{
    struct decoded_frame out;
    decode(frame, &out);
    snprintf(buf, cap, "%s", out.kind == FRAME_READING ? out.reading.sensor : out.error);
    decoded_frame_free(&out);
    return buf;
}

#define ASSERT_RTL433_NAME(frame, name)                                                            \
    do {                                                                                           \
        char buf_[300];                                                                            \
        ASSERT_STR_EQ(rtl433_name(frame, buf_, sizeof buf_), name);                                \
    } while (0)

static void test_rtl433_names(void)
{
    ASSERT_RTL433_NAME("{\"model\":\"Acurite-Tower\",\"id\":1234,\"temperature_C\":1}",
                       "Acurite-Tower-1234");
    ASSERT_RTL433_NAME("{\"model\":\"Oregon\",\"channel\":\"A\",\"temperature_C\":1}", "Oregon-A");
    ASSERT_RTL433_NAME("{\"model\":\"Generic\",\"temperature_C\":1}", "Generic");
    ASSERT_RTL433_NAME("{\"model\":\"M\",\"id\":\"0x1f\",\"channel\":3,\"humidity\":1}",
                       "M-0x1f-3");
    ASSERT_RTL433_NAME("{\"model\":\"M\",\"id\":1.5,\"humidity\":1}", "M-1.5");
    ASSERT_RTL433_NAME("{\"model\":\"M\",\"id\":-7,\"humidity\":1}", "M--7");
    ASSERT_RTL433_NAME("{\"model\":\"M\",\"id\":3e2,\"humidity\":1}", "M-300");
    /* derived names may hold any characters */
    ASSERT_RTL433_NAME("{\"model\":\"Fine Offset/WH2\",\"id\":7,\"humidity\":1}",
                       "Fine Offset/WH2-7");
    ASSERT_RTL433_NAME("{\"model\":\"M\",\"id\":true,\"humidity\":1}",
                       "id: must be a number or a string");
    ASSERT_RTL433_NAME("{\"model\":\"M\",\"channel\":null,\"humidity\":1}",
                       "channel: must be a number or a string");
    ASSERT_RTL433_NAME("{\"model\":\"M\",\"id\":1e400,\"humidity\":1}",
                       "id: must be a finite number");
    ASSERT_RTL433_NAME("{\"model\":7,\"humidity\":1}", "model: must be a string");
    ASSERT_RTL433_NAME("{\"model\":\"\",\"humidity\":1}",
                       "model: the sensor name model-id-channel must be 1..64 characters");
    ASSERT_RTL433_NAME(
        "{\"model\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"id\":123,\"humidity\":1}",
        "model: the sensor name model-id-channel must be 1..64 characters");
    ASSERT_RTL433_NAME(
        "{\"model\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\","
        "\"id\":12,\"humidity\":1}",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-12"); /* 64 */
}

static void test_rtl433_values(void)
{
    struct decoded_frame out;
    DECODE_READING("{\"model\":\"M\",\"temperature_F\":77,\"humidity\":50}", &out);
    ASSERT_DBL_EQ(out.reading.temp_c, 25);
    ASSERT(out.reading.extra == NULL);
    decoded_frame_free(&out);
    DECODE_READING("{\"model\":\"M\",\"temperature_F\":-40}", &out);
    ASSERT_DBL_EQ(out.reading.temp_c, -40);
    decoded_frame_free(&out);
    /* Celsius wins; Fahrenheit is consumed, not kept in extra */
    DECODE_READING("{\"model\":\"M\",\"temperature_C\":20,\"temperature_F\":99}", &out);
    ASSERT_DBL_EQ(out.reading.temp_c, 20);
    ASSERT(out.reading.extra == NULL);
    decoded_frame_free(&out);
    /* reading members are plain extra in an rtl_433 frame */
    DECODE_READING("{\"model\":\"M\",\"humidity\":5,\"seq\":3,\"temp\":\"x\",\"sensor\":\"?\"}",
                   &out);
    ASSERT(!out.has_seq && !out.reading.has_seq && !out.reading.has_temp);
    ASSERT_STR_EQ(out.reading.sensor, "M");
    ASSERT_STR_EQ(out.reading.extra, "{\"seq\":3,\"temp\":\"x\",\"sensor\":\"?\"}");
    decoded_frame_free(&out);

    ASSERT_REFUSED("{\"model\":\"M\",\"temperature_F\":300}",
                   "temperature_F: 300 is out of range [-58, 212]");
    ASSERT_REFUSED("{\"model\":\"M\",\"temperature_F\":\"hot\"}",
                   "temperature_F: must be a number");
    ASSERT_REFUSED("{\"model\":\"M\",\"temperature_C\":120}",
                   "temperature_C: 120 is out of range [-50, 100]");
    ASSERT_REFUSED("{\"model\":\"M\",\"humidity\":101}", "humidity: 101 is out of range [0, 100]");
    ASSERT_REFUSED("{\"model\":\"M\",\"id\":1,\"battery_ok\":1}",
                   "an rtl_433 frame needs temperature_C, temperature_F or humidity");
}

/* ts_ms of an rtl_433 frame with the given time member text, or -1 when refused. */
static int64_t rtl433_time_of(const char *time_json, bool *has_ts)
{
    char frame[200];
    snprintf(frame, sizeof frame, "{\"model\":\"M\",\"humidity\":1,\"time\":%s}", time_json);
    struct decoded_frame out;
    decode(frame, &out);
    int64_t ts = -1;
    if (out.kind == FRAME_READING) {
        ts = out.reading.ts_ms;
        *has_ts = out.reading.has_ts;
    } else {
        fprintf(stderr, "time %s: %s\n", time_json, out.error);
    }
    decoded_frame_free(&out);
    return ts;
}

static void test_rtl433_time(void)
{
    bool has_ts = false;
    set_tz("UTC0");
    ASSERT_INT_EQ(rtl433_time_of("\"2026-11-23 10:00:00\"", &has_ts), INT64_C(1795428000000));
    ASSERT(has_ts);
    ASSERT_INT_EQ(rtl433_time_of("\"2026-11-23T12:00:00+02:00\"", &has_ts), INT64_C(1795428000000));
    ASSERT_INT_EQ(rtl433_time_of("\"2026-11-23 12:00:00+0200\"", &has_ts), INT64_C(1795428000000));
    ASSERT_INT_EQ(rtl433_time_of("\"2026-11-23 10:00:00.250Z\"", &has_ts), INT64_C(1795428000250));
    ASSERT_INT_EQ(rtl433_time_of("\"1795428000.123456\"", &has_ts), INT64_C(1795428000123));
    ASSERT_INT_EQ(rtl433_time_of("1795428000", &has_ts), INT64_C(1795428000000));
    ASSERT_INT_EQ(rtl433_time_of("\"@0.512s\"", &has_ts), NOW); /* -M time:rel */
    ASSERT(!has_ts);

    /* local time without an offset follows TZ: CEST in July, CET in November */
    set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
    ASSERT_INT_EQ(rtl433_time_of("\"2026-07-01 12:00:00\"", &has_ts), INT64_C(1782900000000));
    ASSERT_INT_EQ(rtl433_time_of("\"2026-11-23 11:00:00\"", &has_ts), INT64_C(1795428000000));
    ASSERT_INT_EQ(rtl433_time_of("\"2026-11-23 12:00:00+0200\"", &has_ts), INT64_C(1795428000000));
    set_tz("UTC0");

    ASSERT_REFUSED("{\"model\":\"M\",\"humidity\":1,\"time\":\"yesterday\"}",
                   "time: expected Unix seconds or YYYY-MM-DD HH:MM:SS with optional Z, +HH:MM or "
                   "+HHMM");
    ASSERT_REFUSED("{\"model\":\"M\",\"humidity\":1,\"time\":\"1999-01-01 00:00:00\"}",
                   "time: 1999-01-01T00:00:00Z is before 2000-01-01");
    ASSERT_REFUSED("{\"model\":\"M\",\"humidity\":1,\"time\":\"2040-01-01 00:00:00\"}",
                   "time: 2040-01-01T00:00:00Z is more than 300 s ahead of the hub's clock");
    ASSERT_REFUSED("{\"model\":\"M\",\"humidity\":1,\"time\":\"2026-11-23 10:00:00+08\"}",
                   "time: expected Z, +HH:MM or +HHMM after the seconds");
    ASSERT_REFUSED("{\"model\":\"M\",\"humidity\":1,\"time\":[1]}",
                   "time: must be a number or a string");
    /* rtl_433's time is Unix seconds only (PROTOCOL.md), as a number too: a
     * ts-like value in ms is not taken as ms */
    ASSERT_REFUSED("{\"model\":\"M\",\"humidity\":1,\"time\":1795428000000}",
                   "time: 1795428000000 is after the year 9999");
}

static void test_commands(void)
{
    struct decoded_frame out;
    decode("{\"cmd\":\"ping\"}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_COMMAND);
    ASSERT_INT_EQ(out.command, COMMAND_PING);
    ASSERT_STR_EQ(out.cmd_json, "\"ping\"");
    decoded_frame_free(&out);
    ASSERT(out.cmd_json == NULL);

    decode("{\"cmd\":\"hello\",\"token\":\"s3cret\"}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_COMMAND);
    ASSERT_INT_EQ(out.command, COMMAND_HELLO);
    ASSERT_STR_EQ(out.token, "s3cret");
    decoded_frame_free(&out);

    decode("{\"cmd\":\"hello\"}", &out);
    ASSERT_INT_EQ(out.command, COMMAND_HELLO);
    ASSERT(out.token == NULL);
    decoded_frame_free(&out);

    /* A token that is not a string is no token: the hello is still a hello
     * (accepted without auth_token, a bad token with one). */
    decode("{\"cmd\":\"hello\",\"token\":5}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_COMMAND);
    ASSERT_INT_EQ(out.command, COMMAND_HELLO);
    ASSERT(out.token == NULL);
    ASSERT_STR_EQ(out.cmd_json, "\"hello\"");
    decoded_frame_free(&out);

    decode("{\"data\": {\"a\": [1, 2.50]} ,\"cmd\":\"echo\"}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_COMMAND);
    ASSERT_INT_EQ(out.command, COMMAND_ECHO);
    ASSERT_STR_EQ(out.echo_json, "{\"a\": [1, 2.50]}");
    decoded_frame_free(&out);

    decode("{\"cmd\":\"echo\"}", &out);
    ASSERT_STR_EQ(out.echo_json, "null");
    decoded_frame_free(&out);

    decode("{\"cmd\":\"stats\"}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_COMMAND);
    ASSERT_INT_EQ(out.command, COMMAND_UNKNOWN);
    ASSERT_STR_EQ(out.cmd_json, "\"stats\"");
    decoded_frame_free(&out);

    decode("{\"cmd\":\"p\\u0069ng\"}", &out);
    ASSERT_INT_EQ(out.command, COMMAND_PING);
    ASSERT_STR_EQ(out.cmd_json, "\"p\\u0069ng\"");
    decoded_frame_free(&out);

    decode("{\"cmd\":5}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_REFUSED);
    ASSERT_STR_EQ(out.error, "cmd: must be a string");
    ASSERT_STR_EQ(out.cmd_json, "5");
    decoded_frame_free(&out);

    /* a command refused for a repeated member still names its cmd
     * (PROTOCOL.md: every answer carries the cmd it answers); a repeated
     * cmd is named by its last value, as JSON readers that keep the last
     * duplicate see it */
    decode("{\"cmd\":\"ping\",\"x\":1,\"x\":2}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_REFUSED);
    ASSERT_STR_EQ(out.error, "x: duplicate member");
    ASSERT_STR_EQ(out.cmd_json, "\"ping\"");
    decoded_frame_free(&out);
    decode("{\"cmd\":\"ping\",\"cmd\":\"echo\"}", &out);
    ASSERT_STR_EQ(out.error, "cmd: duplicate member");
    ASSERT_STR_EQ(out.cmd_json, "\"echo\"");
    decoded_frame_free(&out);

    /* cmd makes it a command: model, seq and reading members are ignored */
    decode("{\"model\":\"M\",\"cmd\":\"ping\",\"seq\":17,\"temp\":999}", &out);
    ASSERT_INT_EQ(out.kind, FRAME_COMMAND);
    ASSERT_INT_EQ(out.command, COMMAND_PING);
    ASSERT(!out.has_seq);
    ASSERT(out.reading.extra == NULL);
    decoded_frame_free(&out);
}

int main(void)
{
    set_tz("UTC0");
    RUN(test_seed_frame_is_valid);
    RUN(test_protocol_example_frame);
    RUN(test_frame_length_is_respected);
    RUN(test_invalid_json);
    RUN(test_sensor_rules);
    RUN(test_location_rules);
    RUN(test_configured_rooms);
    RUN(test_temp_and_hum_rules);
    RUN(test_check_order);
    RUN(test_ts_forms);
    RUN(test_ts_limits);
    RUN(test_ts_errors);
    RUN(test_seq_rules);
    RUN(test_refusal_keeps_valid_seq);
    RUN(test_repeated_seq_not_echoed_behind_other_duplicate);
    RUN(test_duplicate_empty_key_is_named);
    RUN(test_extra_keeps_text_as_sent);
    RUN(test_duplicate_members);
    RUN(test_duplicate_members_in_large_frame);
    RUN(test_rtl433_nexus);
    RUN(test_rtl433_names);
    RUN(test_rtl433_values);
    RUN(test_rtl433_time);
    RUN(test_commands);
    RUN(test_json_members_scan);
    RUN(test_sensor_rooms);
    return test_summary();
}
