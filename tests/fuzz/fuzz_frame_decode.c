/* Fuzzes the frame decoder (hub/frame_decode.h) the way the hub runs it: the
 * input is a connection's bytes, the framer cuts them into frames, and every
 * frame it accepts is decoded. The decoder's contract only covers frames the
 * framer validated, so raw bytes never reach it directly.
 *
 * Each frame is decoded under two sets of rules (the defaults with a sensors
 * map, and narrow ones without) and twice under each, and the result must obey
 * PROTOCOL.md whatever the input: a reading has a 1..64 character name, a
 * temp and hum inside their ranges, a ts inside [2000-01-01, now +
 * max_future_s], a seq inside 0..2^53-1, and an extra that is a JSON object
 * holding exactly the members the decoder did not consume; a command names
 * its cmd; a refusal says why in UTF-8, and never "invalid JSON" (the framer
 * already checked that). The same frame decodes the same way twice. */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame_decode.h"
#include "framer.h"
#include "fuzz_check.h"
#include "json_members.h"

#define DEFAULT_MAX_FRAME_BYTES 4096
#define SEQ_MAX INT64_C(9007199254740991)

/* The hub's clock for every decode: 2026-11-23T10:01:00Z, a minute after the
 * ts of PROTOCOL.md's example frame. */
#define NOW_MS INT64_C(1795430460000)

/* The members each kind of frame consumes; every other member goes to extra. */
static const char *const reading_members[] = {"sensor", "location", "temp", "hum", "ts", "seq"};
static const char *const rtl433_members[] = {
    "model", "id", "channel", "time", "temperature_C", "temperature_F", "humidity"};

static bool is_consumed(const char *key, bool rtl433)
{
    const char *const *names = rtl433 ? rtl433_members : reading_members;
    size_t count = rtl433 ? sizeof rtl433_members / sizeof rtl433_members[0]
                          : sizeof reading_members / sizeof reading_members[0];
    for (size_t i = 0; i < count; i++) {
        if (strcmp(key, names[i]) == 0)
            return true;
    }
    return false;
}

static size_t member_count(const cJSON *object)
{
    size_t count = 0;
    for (const cJSON *item = object->child; item; item = item->next)
        count++;
    return count;
}

static void check_name(const char *name, bool may_be_empty, const char *what)
{
    long chars = fuzz_utf8_chars(name);
    FUZZ_CHECK(chars >= 0, "%s is not UTF-8", what);
    FUZZ_CHECK((may_be_empty && chars == 0) || (chars >= 1 && chars <= 64),
               "%s \"%s\" has %ld characters", what, name, chars);
}

/* extra holds, as one object, exactly the frame's members the decoder did not
 * consume: no more (a consumed member stored twice) and no fewer. */
static void check_extra(const struct reading *r, const cJSON *frame, bool rtl433, size_t len)
{
    size_t expected = 0;
    for (const cJSON *item = frame->child; item; item = item->next)
        expected += !is_consumed(item->string, rtl433);
    if (r->extra == NULL) {
        FUZZ_CHECK(expected == 0, "no extra, yet %zu members were not consumed", expected);
        return;
    }
    FUZZ_CHECK(strlen(r->extra) <= len, "extra of %zu bytes from a frame of %zu", strlen(r->extra),
               len);
    cJSON *extra = cJSON_Parse(r->extra);
    FUZZ_CHECK(extra != NULL && cJSON_IsObject(extra), "extra is not a JSON object: %s", r->extra);
    FUZZ_CHECK(member_count(extra) == expected, "extra has %zu members, expected %zu: %s",
               member_count(extra), expected, r->extra);
    for (const cJSON *item = extra->child; item; item = item->next)
        FUZZ_CHECK(!is_consumed(item->string, rtl433), "extra holds consumed member \"%s\"",
                   item->string);
    cJSON_Delete(extra);
}

static void check_reading(const struct decode_rules *rules, const struct decoded_frame *out,
                          const cJSON *frame, size_t len)
{
    const struct reading *r = &out->reading;
    bool rtl433 = cJSON_GetObjectItemCaseSensitive(frame, "model") != NULL;
    check_name(r->sensor, false, "sensor");
    check_name(r->location, true, "location");
    FUZZ_CHECK(r->has_temp || r->has_hum, "a reading without temp and hum");
    if (r->has_temp)
        FUZZ_CHECK(isfinite(r->temp_c) && r->temp_c >= rules->temp_min &&
                       r->temp_c <= rules->temp_max,
                   "temp %.17g outside [%g, %g]", r->temp_c, rules->temp_min, rules->temp_max);
    if (r->has_hum)
        FUZZ_CHECK(isfinite(r->hum_pct) && r->hum_pct >= 0 && r->hum_pct <= 100,
                   "hum %.17g outside [0, 100]", r->hum_pct);
    FUZZ_CHECK(r->recv_ms == NOW_MS, "recv_ms %lld", (long long)r->recv_ms);
    if (r->has_ts)
        FUZZ_CHECK(r->ts_ms >= READING_MIN_TS_MS && r->ts_ms <= NOW_MS + rules->max_future_s * 1000,
                   "ts_ms %lld out of range", (long long)r->ts_ms);
    else
        FUZZ_CHECK(r->ts_ms == NOW_MS, "ts_ms %lld without a ts", (long long)r->ts_ms);
    FUZZ_CHECK(r->has_seq == out->has_seq && (!r->has_seq || r->seq == out->seq),
               "reading.seq and seq disagree");
    if (out->has_seq)
        FUZZ_CHECK(out->seq >= 0 && out->seq <= SEQ_MAX, "seq %lld", (long long)out->seq);
    FUZZ_CHECK(!rtl433 || !out->has_seq, "an rtl_433 frame's seq is extra, never echoed");
    if (!rtl433) {
        /* The name is the sensor as sent, else the location as sent. */
        const cJSON *sensor = cJSON_GetObjectItemCaseSensitive(frame, "sensor");
        const cJSON *location = cJSON_GetObjectItemCaseSensitive(frame, "location");
        const cJSON *name = sensor ? sensor : location;
        FUZZ_CHECK(cJSON_IsString(name) && strcmp(name->valuestring, r->sensor) == 0,
                   "sensor \"%s\" is not the one sent", r->sensor);
        if (location)
            FUZZ_CHECK(strcmp(location->valuestring, r->location) == 0,
                       "location \"%s\" is not the one sent", r->location);
    }
    check_extra(r, frame, rtl433, len);
}

static void check_command(const struct decoded_frame *out, const cJSON *frame)
{
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(frame, "cmd");
    FUZZ_CHECK(!out->has_seq, "a command with has_seq");
    FUZZ_CHECK(cJSON_IsString(cmd) && out->cmd_json != NULL, "command without a string cmd");
    cJSON *cmd_copy = cJSON_Parse(out->cmd_json);
    FUZZ_CHECK(cJSON_IsString(cmd_copy) && strcmp(cmd_copy->valuestring, cmd->valuestring) == 0,
               "cmd_json %s is not the cmd sent", out->cmd_json);
    cJSON_Delete(cmd_copy);
    const char *name = cmd->valuestring;
    switch (out->command) {
    case COMMAND_PING:
        FUZZ_CHECK(strcmp(name, "ping") == 0, "ping for cmd \"%s\"", name);
        break;
    case COMMAND_HELLO: {
        FUZZ_CHECK(strcmp(name, "hello") == 0, "hello for cmd \"%s\"", name);
        const cJSON *token = cJSON_GetObjectItemCaseSensitive(frame, "token");
        FUZZ_CHECK(cJSON_IsString(token) ? out->token && strcmp(out->token, token->valuestring) == 0
                                         : out->token == NULL,
                   "hello token is not the one sent");
        break;
    }
    case COMMAND_ECHO: {
        FUZZ_CHECK(strcmp(name, "echo") == 0, "echo for cmd \"%s\"", name);
        cJSON *data = cJSON_Parse(out->echo_json);
        FUZZ_CHECK(data != NULL, "echo_json is not JSON: %s", out->echo_json);
        cJSON_Delete(data);
        break;
    }
    case COMMAND_UNKNOWN:
        FUZZ_CHECK(strcmp(name, "ping") != 0 && strcmp(name, "hello") != 0 &&
                       strcmp(name, "echo") != 0,
                   "known cmd \"%s\" decoded as unknown", name);
        break;
    }
}

/* What PROTOCOL.md says the ack must echo: the seq of a reading (not an
 * rtl_433 frame, not a command) that holds exactly one seq, written as an
 * integer in 0..2^53-1 (no fraction, exponent or sign). Read from the raw
 * text, since cJSON keeps only a double. Returns true with *seq set when the
 * ack must carry it. */
static bool expected_seq(const cJSON *frame, const char *bytes, size_t len, int64_t *seq)
{
    if (cJSON_GetObjectItemCaseSensitive(frame, "cmd") ||
        cJSON_GetObjectItemCaseSensitive(frame, "model"))
        return false;
    struct json_members scan;
    struct json_member raw;
    FUZZ_CHECK(json_members_begin(&scan, bytes, len) == 0, "frame does not start with '{'");
    int count = 0;
    bool valid = false;
    for (const cJSON *item = frame->child; item; item = item->next) {
        FUZZ_CHECK(json_members_next(&scan, &raw) == 1, "raw scan and cJSON disagree");
        if (strcmp(item->string, "seq") != 0)
            continue;
        count++;
        valid = raw.value.len >= 1 && raw.value.len <= 16;
        int64_t value = 0;
        for (size_t i = 0; valid && i < raw.value.len; i++) {
            char c = raw.value.ptr[i];
            valid = c >= '0' && c <= '9';
            value = value * 10 + (c - '0');
        }
        valid = valid && value <= SEQ_MAX;
        *seq = value;
    }
    return count == 1 && valid;
}

/* The fields whose rules a refusal may name, as "FIELD: rule". */
static const char *const refusal_fields[] = {
    "seq", "sensor",  "location",      "temp",          "hum",      "ts",   "model",
    "id",  "channel", "temperature_C", "temperature_F", "humidity", "time", "cmd",
};

/* A refusal names the field and the rule (PROTOCOL.md "Acks"), or is one of
 * the few messages about the frame as a whole. */
static bool is_known_refusal(const char *error)
{
    static const char *const whole_frame[] = {
        "a reading needs sensor or location",
        "a reading needs temp or hum",
        "an rtl_433 frame needs temperature_C, temperature_F or humidity",
        "the hub is out of memory",
    };
    for (size_t i = 0; i < sizeof whole_frame / sizeof whole_frame[0]; i++) {
        if (strcmp(error, whole_frame[i]) == 0)
            return true;
    }
    size_t len = strlen(error);
    static const char duplicate[] = ": duplicate member";
    if (len > sizeof duplicate - 1 && strcmp(error + len - (sizeof duplicate - 1), duplicate) == 0)
        return true;
    for (size_t i = 0; i < sizeof refusal_fields / sizeof refusal_fields[0]; i++) {
        size_t n = strlen(refusal_fields[i]);
        if (strncmp(error, refusal_fields[i], n) == 0 && error[n] == ':' && error[n + 1] == ' ' &&
            error[n + 2] != '\0')
            return true;
    }
    return false;
}

static void check_refusal(const struct decoded_frame *out)
{
    FUZZ_CHECK(out->error[0] != '\0', "refused without a reason");
    FUZZ_CHECK(fuzz_utf8_chars(out->error) >= 0, "error is not UTF-8: %s", out->error);
    FUZZ_CHECK(!fuzz_starts_with(out->error, "invalid JSON"),
               "decoder calls a frame the framer accepted invalid: \"%s\"", out->error);
    FUZZ_CHECK(is_known_refusal(out->error), "refusal names no field: \"%s\"", out->error);
    if (out->has_seq)
        FUZZ_CHECK(out->seq >= 0 && out->seq <= SEQ_MAX, "seq %lld", (long long)out->seq);
}

static bool same_string(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Decoding is pure: the same frame gives the same answer. */
static void check_same(const struct decoded_frame *a, const struct decoded_frame *b)
{
    const struct reading *x = &a->reading, *y = &b->reading;
    bool same = a->kind == b->kind && a->has_seq == b->has_seq && a->seq == b->seq &&
                strcmp(a->error, b->error) == 0 && same_string(a->cmd_json, b->cmd_json) &&
                same_string(a->token, b->token) && same_string(a->echo_json, b->echo_json) &&
                (a->kind != FRAME_COMMAND || a->command == b->command);
    if (a->kind == FRAME_READING)
        same = same && strcmp(x->sensor, y->sensor) == 0 && strcmp(x->location, y->location) == 0 &&
               x->has_temp == y->has_temp && x->has_hum == y->has_hum && x->has_ts == y->has_ts &&
               x->ts_ms == y->ts_ms && (!x->has_temp || x->temp_c == y->temp_c) &&
               (!x->has_hum || x->hum_pct == y->hum_pct) && same_string(x->extra, y->extra);
    FUZZ_CHECK(same, "two decodes of one frame differ");
}

static void decode_and_check(const struct decode_rules *rules, const char *bytes, size_t len,
                             const cJSON *frame)
{
    struct decoded_frame out, again;
    frame_decode(rules, bytes, len, NOW_MS, &out);
    frame_decode(rules, bytes, len, NOW_MS, &again);
    check_same(&out, &again);
    int64_t seq = -1;
    bool echo_seq = expected_seq(frame, bytes, len, &seq);
    FUZZ_CHECK(out.has_seq == echo_seq && (!echo_seq || out.seq == seq),
               "has_seq %d seq %lld, but PROTOCOL.md wants %s %lld (%s)", out.has_seq,
               (long long)out.seq, echo_seq ? "seq" : "no seq", (long long)seq,
               out.kind == FRAME_REFUSED ? out.error : "accepted");
    switch (out.kind) {
    case FRAME_READING:
        FUZZ_CHECK(cJSON_GetObjectItemCaseSensitive(frame, "cmd") == NULL,
                   "a frame with cmd decoded as a reading");
        check_reading(rules, &out, frame, len);
        break;
    case FRAME_COMMAND:
        check_command(&out, frame);
        break;
    case FRAME_REFUSED:
        check_refusal(&out);
        break;
    default:
        FUZZ_CHECK(false, "unknown frame kind %d", (int)out.kind);
    }
    free(decoded_frame_take_extra(&out));
    FUZZ_CHECK(out.reading.extra == NULL, "take_extra left extra behind");
    decoded_frame_free(&out);
    decoded_frame_free(&again);
}

static void decode_frame(const char *bytes, size_t len)
{
    /* Sorted by name, as sensor_rooms_lookup expects. */
    static struct sensor_room room_items[] = {
        {"0x00158d00036c1821", "bedroom"},
        {"Acurite-Tower-1234-A", "porch"},
        {"Nexus-TH-91-2", "garden"},
        {"lr-1", "living_room"},
    };
    static const struct sensor_rooms rooms = {room_items, sizeof room_items / sizeof room_items[0]};
    static const struct decode_rules default_rules = {-50, 100, 300, &rooms};
    static const struct decode_rules narrow_rules = {0, 35, 0, NULL};

    /* The framer's own fuzzer checks that cJSON reads every frame. */
    cJSON *frame = cJSON_ParseWithLength(bytes, len);
    FUZZ_CHECK(cJSON_IsObject(frame), "cJSON cannot read a frame: %.*s", (int)len, bytes);
    decode_and_check(&default_rules, bytes, len, frame);
    decode_and_check(&narrow_rules, bytes, len, frame);
    cJSON_Delete(frame);
}

/* rtl_433 times without a zone are local time: a zone with DST makes mktime
 * work through its gaps and overlaps. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct framer f;
    framer_init(&f, DEFAULT_MAX_FRAME_BYTES);
    size_t pos = 0;
    while (pos < size) {
        struct framer_event ev;
        pos += framer_feed(&f, (const char *)data + pos, size - pos, &ev);
        if (ev.kind == FRAMER_FRAME)
            decode_frame(ev.frame, ev.len);
    }
    framer_free(&f);
    return 0;
}
