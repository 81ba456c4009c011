#include "frame_decode.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_members.h"
#include "time_parse.h"

/* Largest seq: 2^53 - 1, the largest integer every JSON reader keeps exactly. */
#define SEQ_MAX UINT64_C(9007199254740991)

/* Frames with more members than this find duplicate keys by sorting, so a
 * frame of thousands of tiny members costs n log n, not n^2, comparisons. */
#define DUPLICATE_PAIRWISE_MAX 16

/* Longest piece of a client's key quoted in an error message, in bytes. */
#define MESSAGE_QUOTE_MAX 40

/* The members the decoder consumes; every other one is F_OTHER. */
enum field {
    F_SEQ,
    F_SENSOR,
    F_LOCATION,
    F_TEMP,
    F_HUM,
    F_TS,
    F_MODEL,
    F_ID,
    F_CHANNEL,
    F_TIME,
    F_TEMPERATURE_C,
    F_TEMPERATURE_F,
    F_HUMIDITY,
    F_CMD,
    F_TOKEN,
    F_DATA,
    F_OTHER,
};

enum frame_class { CLASS_READING, CLASS_RTL433, CLASS_COMMAND };

/* Each field's key and the kind of frame that consumes it. In a frame of
 * another kind it is an ordinary member: an rtl_433 frame's seq, ts or
 * location goes to extra, as PROTOCOL.md "rtl_433 frames" says. */
static const struct {
    const char *key;
    enum frame_class consumer;
} fields[F_OTHER] = {
    [F_SEQ] = {"seq", CLASS_READING},
    [F_SENSOR] = {"sensor", CLASS_READING},
    [F_LOCATION] = {"location", CLASS_READING},
    [F_TEMP] = {"temp", CLASS_READING},
    [F_HUM] = {"hum", CLASS_READING},
    [F_TS] = {"ts", CLASS_READING},
    [F_MODEL] = {"model", CLASS_RTL433},
    [F_ID] = {"id", CLASS_RTL433},
    [F_CHANNEL] = {"channel", CLASS_RTL433},
    [F_TIME] = {"time", CLASS_RTL433},
    [F_TEMPERATURE_C] = {"temperature_C", CLASS_RTL433},
    [F_TEMPERATURE_F] = {"temperature_F", CLASS_RTL433},
    [F_HUMIDITY] = {"humidity", CLASS_RTL433},
    [F_CMD] = {"cmd", CLASS_COMMAND},
    [F_TOKEN] = {"token", CLASS_COMMAND},
    [F_DATA] = {"data", CLASS_COMMAND},
};

/* The known members of one frame (absent: NULL item) and the size of the
 * unknown ones as extra text. */
struct members {
    const cJSON *item[F_OTHER];      /* decoded value */
    struct json_member raw[F_OTHER]; /* key and value as sent */
    size_t other_size;               /* "key":value of the F_OTHER members, each + 1 */
};

static void refuse(struct decoded_frame *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void refuse(struct decoded_frame *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->error, sizeof out->error, fmt, ap);
    va_end(ap);
    out->kind = FRAME_REFUSED;
}

static enum field field_of(const char *key)
{
    for (size_t f = 0; f < F_OTHER; f++) {
        if (key[0] == fields[f].key[0] && strcmp(key, fields[f].key) == 0)
            return (enum field)f;
    }
    return F_OTHER;
}

/* A member goes to extra when the frame's kind does not consume it. */
static bool is_extra(enum frame_class cls, enum field field)
{
    return field == F_OTHER || fields[field].consumer != cls;
}

/* Numbers in messages in their shortest form that reads back exactly: 140, 25.5, -50. */
static const char *format_number(double value, char *buf, size_t cap)
{
    snprintf(buf, cap, "%.15g", value);
    if (strtod(buf, NULL) != value)
        snprintf(buf, cap, "%.17g", value);
    return buf;
}

static size_t utf8_char_count(const char *s)
{
    size_t count = 0;
    for (; *s; s++)
        count += ((unsigned char)*s & 0xC0) != 0x80;
    return count;
}

/* Copies at most max_bytes of src into dst, cutting only at a character
 * boundary so the copy stays valid UTF-8; returns the bytes copied. */
static size_t copy_utf8_prefix(char *dst, const char *src, size_t max_bytes)
{
    size_t len = strlen(src);
    if (len > max_bytes) {
        len = max_bytes;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
    return len;
}

/* A client's text for an error message, shortened ("...") when long; empty
 * text reads "" so the message still names it. */
static const char *quote_for_message(const char *text, char *buf)
{
    if (text[0] == '\0')
        return "\"\"";
    if (copy_utf8_prefix(buf, text, MESSAGE_QUOTE_MAX) < strlen(text))
        strcat(buf, "...");
    return buf;
}

static const char *find_duplicate_pairwise(const cJSON *root)
{
    for (const cJSON *item = root->child; item; item = item->next) {
        for (const cJSON *earlier = root->child; earlier != item; earlier = earlier->next) {
            if (earlier->string[0] == item->string[0] && strcmp(earlier->string, item->string) == 0)
                return item->string;
        }
    }
    return NULL;
}

struct indexed_key {
    const char *key;
    size_t index; /* position in the frame */
};

static int compare_indexed_keys(const void *a, const void *b)
{
    const struct indexed_key *x = a, *y = b;
    int order = strcmp(x->key, y->key);
    if (order != 0)
        return order;
    return (x->index > y->index) - (x->index < y->index);
}

/* The first key (in frame order) that repeats an earlier one, or NULL.
 * Compares decoded keys, so "t\u0065mp" duplicates "temp". */
static const char *find_duplicate_key(const cJSON *root)
{
    size_t count = 0;
    for (const cJSON *item = root->child; item; item = item->next)
        count++;
    struct indexed_key *keys = NULL;
    if (count > DUPLICATE_PAIRWISE_MAX)
        keys = malloc(count * sizeof *keys);
    if (keys == NULL) /* small frame, or no memory for the fast way */
        return find_duplicate_pairwise(root);

    size_t n = 0;
    for (const cJSON *item = root->child; item; item = item->next, n++)
        keys[n] = (struct indexed_key){item->string, n};
    qsort(keys, count, sizeof *keys, compare_indexed_keys);
    const char *duplicate = NULL;
    size_t duplicate_index = count;
    for (size_t i = 1; i < count; i++) {
        if (keys[i].index < duplicate_index && strcmp(keys[i - 1].key, keys[i].key) == 0) {
            duplicate = keys[i].key;
            duplicate_index = keys[i].index;
        }
    }
    free(keys);
    return duplicate;
}

/* Whether key names more than one top-level member. */
static bool member_repeats(const cJSON *root, const char *key)
{
    int seen = 0;
    for (const cJSON *item = root->child; item; item = item->next) {
        if (strcmp(item->string, key) == 0 && ++seen > 1)
            return true;
    }
    return false;
}

/* Walks cJSON's members and the raw members side by side (both in frame
 * order), recording the known ones. Returns 0, or -1 with *bad_offset when
 * the raw scan fails. */
static int collect_members(const cJSON *root, const char *frame, size_t len, struct members *m,
                           size_t *bad_offset)
{
    struct json_members scan;
    struct json_member raw;
    memset(m, 0, sizeof *m);
    *bad_offset = 0;
    if (json_members_begin(&scan, frame, len) != 0)
        return -1;
    for (const cJSON *item = root->child; item; item = item->next) {
        if (json_members_next(&scan, &raw) != 1) {
            *bad_offset = (size_t)(scan.pos - frame);
            return -1;
        }
        enum field field = field_of(item->string);
        if (field == F_OTHER) {
            m->other_size += raw.key.len + 1 + raw.value.len + 1;
        } else {
            m->item[field] = item;
            m->raw[field] = raw;
        }
    }
    return 0;
}

/* Bytes of extra for a frame of kind cls: each "key":value with the '{' or
 * ',' before it, and the closing '}'; 0 when there is nothing to keep. */
static size_t extra_size(enum frame_class cls, const struct members *m)
{
    size_t size = m->other_size;
    for (size_t f = 0; f < F_OTHER; f++) {
        if (m->item[f] && is_extra(cls, (enum field)f))
            size += m->raw[f].key.len + 1 + m->raw[f].value.len + 1;
    }
    return size > 0 ? size + 1 : 0;
}

/* extra: the members the decoder did not consume, copied as sent into one
 * object, so numbers keep their exact text. */
static char *build_extra(enum frame_class cls, const cJSON *root, const char *frame, size_t len,
                         size_t size)
{
    char *extra = malloc(size + 1);
    if (extra == NULL)
        return NULL;
    struct json_members scan;
    struct json_member raw;
    char *p = extra;
    /* collect_members already walked the same text without a failure. */
    json_members_begin(&scan, frame, len);
    for (const cJSON *item = root->child; item; item = item->next) {
        json_members_next(&scan, &raw);
        if (!is_extra(cls, field_of(item->string)))
            continue;
        char separator = p == extra ? '{' : ',';
        *p++ = separator;
        memcpy(p, raw.key.ptr, raw.key.len);
        p += raw.key.len;
        *p++ = ':';
        memcpy(p, raw.value.ptr, raw.value.len);
        p += raw.value.len;
    }
    *p++ = '}';
    *p = '\0';
    return extra;
}

/* seq is checked on its text: cJSON reads 17.0, 1e1 and 2^53 + 1 as doubles
 * that look like valid integers. */
static bool parse_seq_text(struct json_span text, int64_t *seq)
{
    if (text.len == 0 || text.len > 16)
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < text.len; i++) {
        char c = text.ptr[i];
        if (c < '0' || c > '9')
            return false;
        value = value * 10 + (uint64_t)(c - '0');
    }
    if (value > SEQ_MAX)
        return false;
    *seq = (int64_t)value;
    return true;
}

static int decode_seq(const struct members *m, struct decoded_frame *out)
{
    if (m->item[F_SEQ] == NULL)
        return 0;
    if (!parse_seq_text(m->raw[F_SEQ].value, &out->seq)) {
        refuse(out, "seq: must be an integer in 0..9007199254740991");
        return -1;
    }
    out->has_seq = true;
    out->reading.has_seq = true;
    out->reading.seq = out->seq;
    return 0;
}

static bool is_sensor_id(const char *s)
{
    size_t len = 0;
    for (; s[len]; len++) {
        char c = s[len];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok || len == READING_NAME_MAX_CHARS)
            return false;
    }
    return len > 0;
}

static bool is_name_length_ok(const char *s)
{
    size_t chars = utf8_char_count(s);
    return chars >= 1 && chars <= READING_NAME_MAX_CHARS;
}

/* The room from the config's sensors map, or empty (the store then keeps the
 * sensor's last known room). */
static void set_configured_room(const struct decode_rules *rules, struct reading *r)
{
    const char *room = sensor_rooms_lookup(rules->rooms, r->sensor);
    if (room)
        copy_utf8_prefix(r->location, room, READING_NAME_CAP - 1);
}

/* A number member within [min, max], named field in messages. */
static int decode_number(const cJSON *item, const char *field, double min, double max,
                         double *value, struct decoded_frame *out)
{
    if (!cJSON_IsNumber(item)) {
        refuse(out, "%s: must be a number", field);
        return -1;
    }
    double v = item->valuedouble;
    if (!isfinite(v)) {
        refuse(out, "%s: must be a finite number", field);
        return -1;
    }
    if (v < min || v > max) {
        char vbuf[32], minbuf[32], maxbuf[32];
        refuse(out, "%s: %s is out of range [%s, %s]", field, format_number(v, vbuf, sizeof vbuf),
               format_number(min, minbuf, sizeof minbuf),
               format_number(max, maxbuf, sizeof maxbuf));
        return -1;
    }
    *value = v;
    return 0;
}

/* A time with the milliseconds dropped when there are none:
 * 1999-01-01T00:00:00Z, 2026-11-23T10:00:00.250Z. */
static const char *format_time_for_message(int64_t ms, char *buf, size_t cap)
{
    time_format_utc(ms, buf, cap);
    char *fraction = strstr(buf, ".000Z");
    if (fraction)
        strcpy(fraction, "Z");
    return buf;
}

/* The measurement time from ts (readings) or time (rtl_433), checked
 * against 2000-01-01 and the hub's clock; absent: the receive time. */
static int decode_time(const cJSON *item, const char *field, bool rtl433,
                       const struct decode_rules *rules, int64_t now_ms, struct reading *r,
                       struct decoded_frame *out)
{
    r->ts_ms = now_ms;
    if (item == NULL)
        return 0;
    char err[160];
    int64_t ms = 0;
    int rc;
    if (cJSON_IsNumber(item)) {
        rc = time_from_unix_number(item->valuedouble, !rtl433, &ms, err, sizeof err);
    } else if (cJSON_IsString(item)) {
        if (rtl433 && item->valuestring[0] == '@')
            return 0; /* rtl_433's -M time:rel: not a time, use the receive time */
        if (rtl433)
            rc = time_parse_rtl433(item->valuestring, &ms, err, sizeof err);
        else
            rc = time_parse_rfc3339(item->valuestring, &ms, err, sizeof err);
    } else {
        refuse(out, "%s: must be a number or a string", field);
        return -1;
    }
    if (rc != 0) {
        refuse(out, "%s: %s", field, err);
        return -1;
    }
    char tbuf[40];
    if (ms < READING_MIN_TS_MS) {
        refuse(out, "%s: %s is before 2000-01-01", field,
               format_time_for_message(ms, tbuf, sizeof tbuf));
        return -1;
    }
    int64_t max_future_ms = rules->max_future_s > (INT64_MAX - now_ms) / 1000
                                ? INT64_MAX
                                : now_ms + rules->max_future_s * 1000;
    if (ms > max_future_ms) {
        refuse(out, "%s: %s is more than %" PRId64 " s ahead of the hub's clock", field,
               format_time_for_message(ms, tbuf, sizeof tbuf), rules->max_future_s);
        return -1;
    }
    r->ts_ms = ms;
    r->has_ts = true;
    return 0;
}

static int decode_reading(const struct decode_rules *rules, const struct members *m, int64_t now_ms,
                          struct decoded_frame *out)
{
    struct reading *r = &out->reading;
    const cJSON *sensor = m->item[F_SENSOR];
    const cJSON *location = m->item[F_LOCATION];
    if (decode_seq(m, out) != 0)
        return -1;
    if (sensor) {
        if (!cJSON_IsString(sensor)) {
            refuse(out, "sensor: must be a string");
            return -1;
        }
        if (!is_sensor_id(sensor->valuestring)) {
            refuse(out, "sensor: must be 1..64 characters of A-Z a-z 0-9 . _ : -");
            return -1;
        }
    }
    if (location) {
        if (!cJSON_IsString(location)) {
            refuse(out, "location: must be a string");
            return -1;
        }
        if (!is_name_length_ok(location->valuestring)) {
            refuse(out, "location: must be 1..64 characters");
            return -1;
        }
    }
    if (sensor == NULL && location == NULL) {
        refuse(out, "a reading needs sensor or location");
        return -1;
    }
    /* Both fit: at most 64 characters of at most 4 bytes. */
    strcpy(r->sensor, sensor ? sensor->valuestring : location->valuestring);
    if (location)
        strcpy(r->location, location->valuestring);
    else
        set_configured_room(rules, r);

    if (m->item[F_TEMP]) {
        if (decode_number(m->item[F_TEMP], "temp", rules->temp_min, rules->temp_max, &r->temp_c,
                          out) != 0)
            return -1;
        r->has_temp = true;
    }
    if (m->item[F_HUM]) {
        if (decode_number(m->item[F_HUM], "hum", 0, 100, &r->hum_pct, out) != 0)
            return -1;
        r->has_hum = true;
    }
    if (!r->has_temp && !r->has_hum) {
        refuse(out, "a reading needs temp or hum");
        return -1;
    }
    return decode_time(m->item[F_TS], "ts", false, rules, now_ms, r, out);
}

/* An rtl_433 id or channel as it reads in a sensor name: 91, 2, "A". */
static int format_name_part(const cJSON *item, const char *field, char *buf, size_t cap,
                            struct decoded_frame *out)
{
    buf[0] = '\0';
    if (item == NULL)
        return 0;
    if (cJSON_IsString(item)) {
        if (strlen(item->valuestring) >= cap) {
            refuse(out, "model: the sensor name model-id-channel must be 1..64 characters");
            return -1;
        }
        strcpy(buf, item->valuestring);
        return 0;
    }
    if (!cJSON_IsNumber(item)) {
        refuse(out, "%s: must be a number or a string", field);
        return -1;
    }
    double v = item->valuedouble;
    if (!isfinite(v)) {
        refuse(out, "%s: must be a finite number", field);
        return -1;
    }
    if (v == floor(v) && fabs(v) < 9e18)
        snprintf(buf, cap, "%" PRId64, (int64_t)v);
    else
        format_number(v, buf, cap);
    return 0;
}

/* sensor = model-id-channel, model-id, model-channel or model. */
static int decode_rtl433_name(const struct members *m, struct reading *r, struct decoded_frame *out)
{
    const cJSON *model = m->item[F_MODEL];
    char id[READING_NAME_CAP], channel[READING_NAME_CAP];
    if (!cJSON_IsString(model)) {
        refuse(out, "model: must be a string");
        return -1;
    }
    if (format_name_part(m->item[F_ID], "id", id, sizeof id, out) != 0 ||
        format_name_part(m->item[F_CHANNEL], "channel", channel, sizeof channel, out) != 0)
        return -1;
    int n = snprintf(r->sensor, sizeof r->sensor, "%s%s%s%s%s", model->valuestring,
                     id[0] ? "-" : "", id, channel[0] ? "-" : "", channel);
    if (n < 0 || (size_t)n >= sizeof r->sensor || !is_name_length_ok(r->sensor)) {
        r->sensor[0] = '\0';
        refuse(out, "model: the sensor name model-id-channel must be 1..64 characters");
        return -1;
    }
    return 0;
}

/* A Fahrenheit bound for messages, to 0.01 degree. */
static double celsius_to_fahrenheit_bound(double celsius)
{
    return round((celsius * 9.0 / 5.0 + 32.0) * 100.0) / 100.0;
}

static int decode_rtl433_temperature(const struct decode_rules *rules, const struct members *m,
                                     struct reading *r, struct decoded_frame *out)
{
    if (m->item[F_TEMPERATURE_C]) {
        if (decode_number(m->item[F_TEMPERATURE_C], "temperature_C", rules->temp_min,
                          rules->temp_max, &r->temp_c, out) != 0)
            return -1;
        r->has_temp = true;
        return 0;
    }
    if (m->item[F_TEMPERATURE_F] == NULL)
        return 0;
    double fahrenheit;
    if (decode_number(m->item[F_TEMPERATURE_F], "temperature_F", -INFINITY, INFINITY, &fahrenheit,
                      out) != 0)
        return -1;
    double celsius = (fahrenheit - 32.0) * 5.0 / 9.0;
    if (celsius < rules->temp_min || celsius > rules->temp_max) {
        char vbuf[32], minbuf[32], maxbuf[32];
        refuse(out, "temperature_F: %s is out of range [%s, %s]",
               format_number(fahrenheit, vbuf, sizeof vbuf),
               format_number(celsius_to_fahrenheit_bound(rules->temp_min), minbuf, sizeof minbuf),
               format_number(celsius_to_fahrenheit_bound(rules->temp_max), maxbuf, sizeof maxbuf));
        return -1;
    }
    r->temp_c = celsius;
    r->has_temp = true;
    return 0;
}

static int decode_rtl433(const struct decode_rules *rules, const struct members *m, int64_t now_ms,
                         struct decoded_frame *out)
{
    struct reading *r = &out->reading;
    if (decode_rtl433_name(m, r, out) != 0)
        return -1;
    set_configured_room(rules, r);
    if (decode_rtl433_temperature(rules, m, r, out) != 0)
        return -1;
    if (m->item[F_HUMIDITY]) {
        if (decode_number(m->item[F_HUMIDITY], "humidity", 0, 100, &r->hum_pct, out) != 0)
            return -1;
        r->has_hum = true;
    }
    if (!r->has_temp && !r->has_hum) {
        refuse(out, "an rtl_433 frame needs temperature_C, temperature_F or humidity");
        return -1;
    }
    return decode_time(m->item[F_TIME], "time", true, rules, now_ms, r, out);
}

static char *copy_span(struct json_span span)
{
    return strndup(span.ptr, span.len);
}

/* Commands. cmd_json is kept on refusals too, so the answer names the cmd. */
static void decode_command(const struct members *m, struct decoded_frame *out)
{
    const cJSON *cmd = m->item[F_CMD];
    const cJSON *token = m->item[F_TOKEN];
    out->cmd_json = copy_span(m->raw[F_CMD].value);
    if (out->cmd_json == NULL) {
        refuse(out, "the hub is out of memory");
        return;
    }
    if (!cJSON_IsString(cmd)) {
        refuse(out, "cmd: must be a string");
        return;
    }
    out->kind = FRAME_COMMAND;
    const char *name = cmd->valuestring;
    if (strcmp(name, "ping") == 0) {
        out->command = COMMAND_PING;
    } else if (strcmp(name, "hello") == 0) {
        out->command = COMMAND_HELLO;
        /* A token that is not a string is no token: without auth_token the
         * hello is still accepted, with one it is a bad token. */
        if (!cJSON_IsString(token))
            return;
        out->token = strdup(token->valuestring);
        if (out->token == NULL)
            refuse(out, "the hub is out of memory");
    } else if (strcmp(name, "echo") == 0) {
        out->command = COMMAND_ECHO;
        out->echo_json = m->item[F_DATA] ? copy_span(m->raw[F_DATA].value) : strdup("null");
        if (out->echo_json == NULL)
            refuse(out, "the hub is out of memory");
    } else {
        out->command = COMMAND_UNKNOWN;
    }
}

static void decode_object(const struct decode_rules *rules, const cJSON *root, const char *frame,
                          size_t len, int64_t now_ms, struct decoded_frame *out)
{
    if (!cJSON_IsObject(root)) {
        refuse(out, "a frame must be a JSON object");
        return;
    }
    struct members m;
    size_t bad_offset;
    if (collect_members(root, frame, len, &m, &bad_offset) != 0) {
        refuse(out, "invalid JSON at byte %zu", bad_offset);
        return;
    }
    enum frame_class cls = CLASS_READING;
    if (m.item[F_CMD])
        cls = CLASS_COMMAND;
    else if (m.item[F_MODEL])
        cls = CLASS_RTL433;
    const char *duplicate = find_duplicate_key(root);
    if (duplicate) {
        /* The ack of a reading echoes its seq whenever that is valid; a
         * repeated seq is not (which one would it be?), even when another
         * member repeats first and is the one reported. */
        if (cls == CLASS_READING && !member_repeats(root, "seq"))
            decode_seq(&m, out);
        /* Every command answer names its cmd: the last one when it repeats,
         * as JSON readers that keep the last duplicate see the frame. */
        if (cls == CLASS_COMMAND)
            out->cmd_json = copy_span(m.raw[F_CMD].value);
        char quoted[MESSAGE_QUOTE_MAX + 4];
        refuse(out, "%s: duplicate member", quote_for_message(duplicate, quoted));
        return;
    }
    if (cls == CLASS_COMMAND) {
        decode_command(&m, out);
        return;
    }
    out->reading.recv_ms = now_ms;
    int rc = cls == CLASS_RTL433 ? decode_rtl433(rules, &m, now_ms, out)
                                 : decode_reading(rules, &m, now_ms, out);
    if (rc != 0)
        return;
    size_t size = extra_size(cls, &m);
    if (size > 0) {
        out->reading.extra = build_extra(cls, root, frame, len, size);
        if (out->reading.extra == NULL) {
            refuse(out, "the hub is out of memory");
            return;
        }
    }
    out->kind = FRAME_READING;
}

void frame_decode(const struct decode_rules *rules, const char *frame, size_t len, int64_t now_ms,
                  struct decoded_frame *out)
{
    memset(out, 0, sizeof *out);
    const char *parse_end = frame;
    cJSON *root = cJSON_ParseWithLengthOpts(frame, len, &parse_end, false);
    if (root == NULL) {
        refuse(out, "invalid JSON at byte %zu", (size_t)(parse_end - frame));
        return;
    }
    decode_object(rules, root, frame, len, now_ms, out);
    cJSON_Delete(root);
}

void decoded_frame_free(struct decoded_frame *out)
{
    free(out->reading.extra);
    free(out->cmd_json);
    free(out->token);
    free(out->echo_json);
    out->reading.extra = NULL;
    out->cmd_json = NULL;
    out->token = NULL;
    out->echo_json = NULL;
}

char *decoded_frame_take_extra(struct decoded_frame *out)
{
    char *extra = out->reading.extra;
    out->reading.extra = NULL;
    return extra;
}
