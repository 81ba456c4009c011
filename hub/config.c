#include "config.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reading.h"

/* A config file is a few kilobytes; anything near this size is the wrong file. */
#define CONFIG_MAX_FILE_BYTES (1024 * 1024)

/* Durations are whole seconds; a year is far beyond any sensible timeout and
 * keeps every duration, in milliseconds, well inside 64 bits. */
#define CONFIG_MAX_DURATION_S 31536000

/* Largest max_errors_per_minute: the hub keeps the time of each of a client's
 * last max_errors_per_minute errors (8 bytes each, hub/error_limit.h), so
 * this bounds that at 512 KiB for a client that sends errors. */
#define CONFIG_MAX_ERRORS_PER_MINUTE 65536

/* Room for a key or value from the file, escaped for a message. */
#define CONFIG_QUOTE_CAP 96

/* Longest key name that gets a "did you mean" suggestion. */
#define CONFIG_KEY_NAME_MAX 64

/* Where messages go while one file is applied. */
struct parse_ctx {
    const char *name; /* the file name messages start with */
    char *err;
    size_t errlen;
};

struct config_key;
typedef int (*config_key_parser)(const struct config_key *key, const cJSON *value,
                                 struct config *cfg, const struct parse_ctx *ctx);

/* One key of the file: its name, the parser for its type, and the field and
 * range the parser uses (a parser that needs neither ignores them). */
struct config_key {
    const char *name;
    config_key_parser parse;
    size_t offset; /* of the field in struct config */
    int64_t min;   /* integer keys: the accepted range */
    int64_t max;
};

/* Writes "NAME: PATH: message" to the caller's error buffer. */
static void key_error(const struct parse_ctx *ctx, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void key_error(const struct parse_ctx *ctx, const char *path, const char *fmt, ...)
{
    int head = snprintf(ctx->err, ctx->errlen, "%s: %s: ", ctx->name, path);
    if (head < 0 || (size_t)head >= ctx->errlen)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(ctx->err + head, ctx->errlen - (size_t)head, fmt, args);
    va_end(args);
}

static void *field_at(struct config *cfg, const struct config_key *key)
{
    return (char *)cfg + key->offset;
}

/* Number of UTF-8 characters in text, or -1 when it is not well-formed UTF-8.
 * The lead byte narrows the range of the byte after it, which rules out
 * overlong forms (E0 80, F0 80), encoded surrogates (ED A0) and code points
 * above U+10FFFF (F4 90), as the framer does for frames. */
static long utf8_length(const char *text)
{
    long chars = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (*p != '\0') {
        int extra;
        unsigned char lo = 0x80, hi = 0xbf; /* range of the next byte */
        if (*p < 0x80) {
            extra = 0;
        } else if (*p >= 0xc2 && *p <= 0xdf) {
            extra = 1;
        } else if (*p >= 0xe0 && *p <= 0xef) {
            extra = 2;
            lo = *p == 0xe0 ? 0xa0 : 0x80;
            hi = *p == 0xed ? 0x9f : 0xbf;
        } else if (*p >= 0xf0 && *p <= 0xf4) {
            extra = 3;
            lo = *p == 0xf0 ? 0x90 : 0x80;
            hi = *p == 0xf4 ? 0x8f : 0xbf;
        } else {
            return -1;
        }
        p++;
        for (int i = 0; i < extra; i++, p++) {
            if (*p < lo || *p > hi)
                return -1;
            lo = 0x80;
            hi = 0xbf;
        }
        chars++;
    }
    return chars;
}

/* Prints an integral double exactly as people wrote it (1e30 stays short). */
static void format_number(char *buf, size_t cap, double value)
{
    if (fabs(value) < 1e15)
        snprintf(buf, cap, "%.0f", value);
    else
        snprintf(buf, cap, "%g", value);
}

/* Reads an integral JSON number within [key->min, key->max]. */
static int read_integer(const struct config_key *key, const cJSON *value,
                        const struct parse_ctx *ctx, int64_t *out)
{
    if (!cJSON_IsNumber(value) || !isfinite(value->valuedouble) ||
        value->valuedouble != floor(value->valuedouble)) {
        key_error(ctx, key->name, "must be an integer");
        return -1;
    }
    double number = value->valuedouble;
    if (number < (double)key->min || number > (double)key->max) {
        char text[32];
        format_number(text, sizeof text, number);
        key_error(ctx, key->name, "%s is out of range %lld..%lld", text, (long long)key->min,
                  (long long)key->max);
        return -1;
    }
    *out = (int64_t)number;
    return 0;
}

static int parse_int(const struct config_key *key, const cJSON *value, struct config *cfg,
                     const struct parse_ctx *ctx)
{
    int64_t number;
    if (read_integer(key, value, ctx, &number) != 0)
        return -1;
    *(int *)field_at(cfg, key) = (int)number;
    return 0;
}

static int parse_size(const struct config_key *key, const cJSON *value, struct config *cfg,
                      const struct parse_ctx *ctx)
{
    int64_t number;
    if (read_integer(key, value, ctx, &number) != 0)
        return -1;
    *(size_t *)field_at(cfg, key) = (size_t)number;
    return 0;
}

static int parse_int64(const struct config_key *key, const cJSON *value, struct config *cfg,
                       const struct parse_ctx *ctx)
{
    int64_t number;
    if (read_integer(key, value, ctx, &number) != 0)
        return -1;
    *(int64_t *)field_at(cfg, key) = number;
    return 0;
}

static int parse_number(const struct config_key *key, const cJSON *value, struct config *cfg,
                        const struct parse_ctx *ctx)
{
    /* cJSON turns 1e999 into infinity; no temperature is infinite. */
    if (!cJSON_IsNumber(value) || !isfinite(value->valuedouble)) {
        key_error(ctx, key->name, "must be a number");
        return -1;
    }
    *(double *)field_at(cfg, key) = value->valuedouble;
    return 0;
}

/* Replaces the malloc'd string at *field with a copy of text. */
static int replace_string(char **field, const char *text, const struct parse_ctx *ctx)
{
    char *copy = strdup(text);
    if (copy == NULL) {
        snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->name);
        return -1;
    }
    free(*field);
    *field = copy;
    return 0;
}

static int parse_nonempty_string(const struct config_key *key, const cJSON *value,
                                 struct config *cfg, const struct parse_ctx *ctx)
{
    if (!cJSON_IsString(value)) {
        key_error(ctx, key->name, "must be a string");
        return -1;
    }
    if (value->valuestring[0] == '\0') {
        key_error(ctx, key->name, "must not be empty");
        return -1;
    }
    return replace_string(field_at(cfg, key), value->valuestring, ctx);
}

static int parse_token(const struct config_key *key, const cJSON *value, struct config *cfg,
                       const struct parse_ctx *ctx)
{
    char **field = field_at(cfg, key);
    if (cJSON_IsNull(value)) {
        free(*field);
        *field = NULL;
        return 0;
    }
    if (!cJSON_IsString(value)) {
        key_error(ctx, key->name, "must be a string or null");
        return -1;
    }
    if (value->valuestring[0] == '\0') {
        key_error(ctx, key->name, "must not be empty (null means no token)");
        return -1;
    }
    return replace_string(field, value->valuestring, ctx);
}

static int parse_log_level(const struct config_key *key, const cJSON *value, struct config *cfg,
                           const struct parse_ctx *ctx)
{
    if (!cJSON_IsString(value)) {
        key_error(ctx, key->name, "must be a string");
        return -1;
    }
    if (log_level_parse(value->valuestring, &cfg->log_level) != 0) {
        char quoted[CONFIG_QUOTE_CAP];
        log_escape(quoted, sizeof quoted, value->valuestring, strlen(value->valuestring));
        key_error(ctx, key->name, "\"%s\" is not a log level (error, warn, info, debug)", quoted);
        return -1;
    }
    return 0;
}

static void free_endpoints(struct listen_endpoint *endpoints, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(endpoints[i].host);
    free(endpoints);
}

/* `listen` is one endpoint or a non-empty list of them; it replaces the
 * default rather than adding to it. */
static int parse_listen(const struct config_key *key, const cJSON *value, struct config *cfg,
                        const struct parse_ctx *ctx)
{
    size_t count = 0;
    const cJSON *item;
    if (cJSON_IsString(value)) {
        count = 1;
        item = value;
    } else if (cJSON_IsArray(value)) {
        for (const cJSON *it = value->child; it != NULL; it = it->next)
            count++;
        item = value->child;
    } else {
        key_error(ctx, key->name, "must be a string or a list of strings");
        return -1;
    }
    if (count == 0) {
        key_error(ctx, key->name, "must name at least one endpoint, such as \"%s\"",
                  CONFIG_DEFAULT_LISTEN);
        return -1;
    }

    struct listen_endpoint *endpoints = calloc(count, sizeof *endpoints);
    if (endpoints == NULL) {
        snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->name);
        return -1;
    }
    for (size_t i = 0; i < count; i++, item = item->next) {
        if (!cJSON_IsString(item)) {
            key_error(ctx, key->name, "must be a string or a list of strings");
            free_endpoints(endpoints, i);
            return -1;
        }
        char reason[160];
        if (config_parse_endpoint(item->valuestring, &endpoints[i], reason, sizeof reason) != 0) {
            char quoted[CONFIG_QUOTE_CAP];
            log_escape(quoted, sizeof quoted, item->valuestring, strlen(item->valuestring));
            key_error(ctx, key->name, "\"%s\": %s", quoted, reason);
            free_endpoints(endpoints, i);
            return -1;
        }
    }
    free_endpoints(cfg->listen, cfg->listen_count);
    cfg->listen = endpoints;
    cfg->listen_count = count;
    return 0;
}

/* `allowed_sources` replaces the default ranges. An empty list would refuse
 * every client, which nobody means, so it is refused with the way to allow all. */
static int parse_sources(const struct config_key *key, const cJSON *value, struct config *cfg,
                         const struct parse_ctx *ctx)
{
    if (!cJSON_IsArray(value)) {
        key_error(ctx, key->name, "must be a list of address ranges (strings)");
        return -1;
    }
    if (value->child == NULL) {
        key_error(ctx, key->name,
                  "an empty list would refuse every client; to allow all, write "
                  "[\"0.0.0.0/0\", \"::/0\"]");
        return -1;
    }
    struct cidr_list sources = {0};
    for (const cJSON *item = value->child; item != NULL; item = item->next) {
        if (!cJSON_IsString(item)) {
            key_error(ctx, key->name, "must be a list of address ranges (strings)");
            cidr_list_free(&sources);
            return -1;
        }
        struct cidr range;
        char reason[96];
        if (cidr_parse(item->valuestring, &range, reason, sizeof reason) != 0) {
            char quoted[CONFIG_QUOTE_CAP];
            log_escape(quoted, sizeof quoted, item->valuestring, strlen(item->valuestring));
            key_error(ctx, key->name, "\"%s\": %s", quoted, reason);
            cidr_list_free(&sources);
            return -1;
        }
        if (cidr_list_add(&sources, &range) != 0) {
            snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->name);
            cidr_list_free(&sources);
            return -1;
        }
    }
    cidr_list_free(&cfg->allowed_sources);
    cfg->allowed_sources = sources;
    return 0;
}

/* Checks one sensor name or room: 1..64 characters of valid UTF-8. */
static bool valid_name(const char *text)
{
    long chars = utf8_length(text);
    return chars >= 1 && chars <= READING_NAME_MAX_CHARS;
}

/* Fills rooms from the `sensors` object; a name given twice is an error. */
static int read_sensor_rooms(const cJSON *value, struct sensor_rooms *rooms,
                             const struct parse_ctx *ctx)
{
    for (const cJSON *item = value->child; item != NULL; item = item->next) {
        char path[CONFIG_QUOTE_CAP + 16];
        char quoted[CONFIG_QUOTE_CAP];
        log_escape(quoted, sizeof quoted, item->string, strlen(item->string));
        if (!valid_name(item->string)) {
            key_error(ctx, "sensors", "\"%s\": a sensor name must be 1..%d characters of UTF-8",
                      quoted, READING_NAME_MAX_CHARS);
            return -1;
        }
        snprintf(path, sizeof path, "sensors.%s", quoted);
        if (!cJSON_IsString(item)) {
            key_error(ctx, path, "must be a string");
            return -1;
        }
        if (!valid_name(item->valuestring)) {
            key_error(ctx, path, "a room must be 1..%d characters of UTF-8",
                      READING_NAME_MAX_CHARS);
            return -1;
        }
        if (sensor_rooms_add(rooms, item->string, item->valuestring) != 0) {
            snprintf(ctx->err, ctx->errlen, "%s: out of memory", ctx->name);
            return -1;
        }
    }
    sensor_rooms_sort(rooms);
    /* Sorted by name, a repeated name sits next to itself. */
    for (size_t i = 1; i < rooms->count; i++) {
        if (strcmp(rooms->items[i - 1].name, rooms->items[i].name) == 0) {
            char path[CONFIG_QUOTE_CAP + 16];
            char quoted[CONFIG_QUOTE_CAP];
            log_escape(quoted, sizeof quoted, rooms->items[i].name, strlen(rooms->items[i].name));
            snprintf(path, sizeof path, "sensors.%s", quoted);
            key_error(ctx, path, "duplicate key");
            return -1;
        }
    }
    return 0;
}

static int parse_sensors(const struct config_key *key, const cJSON *value, struct config *cfg,
                         const struct parse_ctx *ctx)
{
    if (!cJSON_IsObject(value)) {
        key_error(ctx, key->name, "must be an object of sensor name to room");
        return -1;
    }
    struct sensor_rooms rooms = {0};
    if (read_sensor_rooms(value, &rooms, ctx) != 0) {
        sensor_rooms_free(&rooms);
        return -1;
    }
    sensor_rooms_free(&cfg->sensors);
    cfg->sensors = rooms;
    return 0;
}

/* Every key the file may hold. A feature's keys are added here with the
 * feature, never before (CONFIG.md). */
static const struct config_key config_keys[] = {
    {"listen", parse_listen, 0, 0, 0},
    {"db", parse_nonempty_string, offsetof(struct config, db), 0, 0},
    {"log_level", parse_log_level, 0, 0, 0},
    {"max_connections", parse_int, offsetof(struct config, max_connections), 1, 1000000},
    {"max_frame_bytes", parse_size, offsetof(struct config, max_frame_bytes), 64, 1048576},
    {"idle_timeout_s", parse_int, offsetof(struct config, idle_timeout_s), 1,
     CONFIG_MAX_DURATION_S},
    {"max_unacked", parse_int, offsetof(struct config, max_unacked), 1, 65536},
    {"max_errors_per_minute", parse_int, offsetof(struct config, max_errors_per_minute), 1,
     CONFIG_MAX_ERRORS_PER_MINUTE},
    {"write_timeout_s", parse_int, offsetof(struct config, write_timeout_s), 1,
     CONFIG_MAX_DURATION_S},
    {"allowed_sources", parse_sources, 0, 0, 0},
    {"auth_token", parse_token, offsetof(struct config, auth_token), 0, 0},
    {"temp_min", parse_number, offsetof(struct config, temp_min), 0, 0},
    {"temp_max", parse_number, offsetof(struct config, temp_max), 0, 0},
    {"max_future_s", parse_int64, offsetof(struct config, max_future_s), 0, CONFIG_MAX_DURATION_S},
    {"sensors", parse_sensors, 0, 0, 0},
};

#define CONFIG_KEY_COUNT (sizeof config_keys / sizeof config_keys[0])

/* Levenshtein distance, ignoring case, between two names of at most
 * CONFIG_KEY_NAME_MAX characters. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t a_len = strlen(a), b_len = strlen(b);
    size_t previous[CONFIG_KEY_NAME_MAX + 1], current[CONFIG_KEY_NAME_MAX + 1];
    for (size_t j = 0; j <= b_len; j++)
        previous[j] = j;
    for (size_t i = 1; i <= a_len; i++) {
        current[0] = i;
        for (size_t j = 1; j <= b_len; j++) {
            size_t substitute = previous[j - 1] + (tolower((unsigned char)a[i - 1]) !=
                                                   tolower((unsigned char)b[j - 1]));
            size_t best =
                previous[j] + 1 < current[j - 1] + 1 ? previous[j] + 1 : current[j - 1] + 1;
            current[j] = substitute < best ? substitute : best;
        }
        memcpy(previous, current, (b_len + 1) * sizeof previous[0]);
    }
    return previous[b_len];
}

/* The known key an unknown one is most likely a typo of, or NULL. Short keys
 * allow fewer typos, so "dv" suggests "db" but "mqtt" suggests nothing. */
static const char *closest_key(const char *unknown)
{
    if (strlen(unknown) > CONFIG_KEY_NAME_MAX)
        return NULL;
    const char *best = NULL;
    size_t best_distance = SIZE_MAX;
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        size_t distance = edit_distance(unknown, config_keys[i].name);
        if (distance < best_distance) {
            best_distance = distance;
            best = config_keys[i].name;
        }
    }
    size_t length = strlen(best);
    size_t allowed = length <= 4 ? 1 : length <= 10 ? 2 : 3;
    return best_distance <= allowed ? best : NULL;
}

static const struct config_key *find_key(const char *name)
{
    for (size_t i = 0; i < CONFIG_KEY_COUNT; i++) {
        if (strcmp(config_keys[i].name, name) == 0)
            return &config_keys[i];
    }
    return NULL;
}

/* Blanks out comments with spaces, keeping newlines, so cJSON sees plain JSON
 * while every byte keeps its offset and error positions still point into the
 * person's file. Strings are skipped the way cJSON reads them, so "http://x"
 * stays. Returns 0, or -1 with the offset of an unterminated comment. */
static int blank_comments(char *text, size_t len, size_t *open_comment)
{
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (text[i] == '\\')
                i++;
            else if (text[i] == '"')
                in_string = false;
        } else if (text[i] == '"') {
            in_string = true;
        } else if (text[i] == '/' && i + 1 < len && text[i + 1] == '/') {
            while (i < len && text[i] != '\n')
                text[i++] = ' ';
        } else if (text[i] == '/' && i + 1 < len && text[i + 1] == '*') {
            size_t start = i;
            text[i++] = ' ';
            text[i++] = ' ';
            while (i + 1 < len && !(text[i] == '*' && text[i + 1] == '/')) {
                if (text[i] != '\n')
                    text[i] = ' ';
                i++;
            }
            if (i + 1 >= len) {
                *open_comment = start;
                return -1;
            }
            text[i++] = ' ';
            text[i] = ' ';
        }
    }
    return 0;
}

/* Writes "NAME: line L, column C: what" for a byte offset into text; columns
 * count characters, as editors show them. */
static void position_error(const struct parse_ctx *ctx, const char *text, size_t offset,
                           const char *what)
{
    unsigned long line = 1, column = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
            column++;
        }
    }
    snprintf(ctx->err, ctx->errlen, "%s: line %lu, column %lu: %s", ctx->name, line, column, what);
}

/* A comma before a closing bracket is the commonest slip in a hand-edited
 * file. cJSON stops at that bracket or just past it; when that is the case,
 * finds the comma so the message can point at it. */
static bool find_trailing_comma(const char *plain, size_t len, size_t error_offset, size_t *comma)
{
    size_t i = error_offset;
    bool at_bracket = i < len && (plain[i] == '}' || plain[i] == ']');
    if (!at_bracket) {
        if (i == 0 || (plain[i - 1] != '}' && plain[i - 1] != ']'))
            return false;
        i--;
    }
    while (i > 0 && (plain[i - 1] == ' ' || plain[i - 1] == '\t' || plain[i - 1] == '\r' ||
                     plain[i - 1] == '\n'))
        i--;
    if (i == 0 || plain[i - 1] != ',')
        return false;
    *comma = i - 1;
    return true;
}

/* Applies each member of the top-level object through its key's parser. */
static int apply_keys(const cJSON *root, struct config *cfg, const struct parse_ctx *ctx)
{
    bool seen[CONFIG_KEY_COUNT] = {false};
    for (const cJSON *item = root->child; item != NULL; item = item->next) {
        const struct config_key *key = find_key(item->string);
        if (key == NULL) {
            char quoted[CONFIG_QUOTE_CAP];
            log_escape(quoted, sizeof quoted, item->string, strlen(item->string));
            const char *suggestion = closest_key(item->string);
            if (suggestion != NULL)
                key_error(ctx, quoted, "unknown key (did you mean %s?)", suggestion);
            else
                key_error(ctx, quoted, "unknown key");
            return -1;
        }
        size_t index = (size_t)(key - config_keys);
        if (seen[index]) {
            key_error(ctx, key->name, "duplicate key");
            return -1;
        }
        seen[index] = true;
        if (key->parse(key, item, cfg, ctx) != 0)
            return -1;
    }
    return 0;
}

int config_parse(struct config *cfg, const char *name, const char *text, size_t len, char *err,
                 size_t errlen)
{
    struct parse_ctx ctx = {name, err, errlen};
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        position_error(&ctx, text, (size_t)(nul - text), "NUL byte; is this a text file?");
        return -1;
    }
    char *plain = malloc(len + 1);
    if (plain == NULL) {
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    memcpy(plain, text, len);
    plain[len] = '\0';
    size_t open_comment;
    if (blank_comments(plain, len, &open_comment) != 0) {
        position_error(&ctx, text, open_comment, "/* comment is never closed with */");
        free(plain);
        return -1;
    }

    if (strspn(plain, " \t\r\n") == len) {
        snprintf(err, errlen, "%s: the file is empty; {} is the shortest config (all defaults)",
                 name);
        free(plain);
        return -1;
    }

    /* The length includes the NUL: with require_null_terminated, cJSON
     * checks that nothing but whitespace follows the object. */
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(plain, len + 1, &parse_end, true);
    if (root == NULL) {
        size_t offset = parse_end != NULL ? (size_t)(parse_end - plain) : 0;
        if (offset > len)
            offset = len;
        size_t comma;
        if (find_trailing_comma(plain, len, offset, &comma))
            position_error(&ctx, text, comma,
                           "invalid JSON: a comma before } or ] (JSON allows no trailing comma)");
        else
            position_error(&ctx, text, offset, "invalid JSON");
        free(plain);
        return -1;
    }
    free(plain);
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "%s: the file must hold one JSON object: { \"key\": value, ... }",
                 name);
        cJSON_Delete(root);
        return -1;
    }
    int result = apply_keys(root, cfg, &ctx);
    cJSON_Delete(root);
    return result;
}

/* Reads the whole file, refusing one larger than CONFIG_MAX_FILE_BYTES. */
static int read_file(const char *path, char **out, size_t *out_len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    char *data = malloc(CONFIG_MAX_FILE_BYTES + 1);
    if (data == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        close(fd);
        return -1;
    }
    size_t len = 0;
    while (len <= CONFIG_MAX_FILE_BYTES) {
        ssize_t got = read(fd, data + len, CONFIG_MAX_FILE_BYTES + 1 - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
            free(data);
            close(fd);
            return -1;
        }
        if (got == 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    if (len > CONFIG_MAX_FILE_BYTES) {
        snprintf(err, errlen, "%s: larger than %d bytes; is this the config file?", path,
                 CONFIG_MAX_FILE_BYTES);
        free(data);
        return -1;
    }
    *out = data;
    *out_len = len;
    return 0;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (read_file(path, &text, &len, err, errlen) != 0)
        return -1;
    int result = config_parse(cfg, path, text, len, err, errlen);
    free(text);
    return result;
}

int config_parse_port(const char *text, uint16_t *out)
{
    if (*text == '\0')
        return -1;
    unsigned long value = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (unsigned long)(*p - '0');
        if (value > 65535)
            return -1;
    }
    *out = (uint16_t)value;
    return 0;
}

/* Schemes CONFIG.md names whose listeners do not exist yet. */
static const char *const unsupported_schemes[] = {"udp://", "unixgram:", "unix:"};

int config_parse_endpoint(const char *text, struct listen_endpoint *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof unsupported_schemes / sizeof unsupported_schemes[0]; i++) {
        if (strncmp(text, unsupported_schemes[i], strlen(unsupported_schemes[i])) == 0) {
            snprintf(err, errlen, "%s endpoints are not supported yet; use tcp://HOST:PORT",
                     unsupported_schemes[i]);
            return -1;
        }
    }
    const char *rest = text;
    if (strncmp(text, "tcp://", 6) == 0) {
        rest = text + 6;
    } else if (strstr(text, "://") != NULL) {
        snprintf(err, errlen, "unknown scheme; use tcp://HOST:PORT");
        return -1;
    }

    const char *host, *host_end, *port;
    bool ipv6 = *rest == '[';
    if (ipv6) {
        host = rest + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL) {
            snprintf(err, errlen, "missing ] after the IPv6 address");
            return -1;
        }
        if (host_end[1] != ':') {
            snprintf(err, errlen, "missing :PORT after ] (as in tcp://[::1]:8080)");
            return -1;
        }
        port = host_end + 2;
    } else {
        host = rest;
        host_end = strrchr(rest, ':');
        if (host_end == NULL) {
            snprintf(err, errlen, "missing :PORT (as in tcp://0.0.0.0:8080)");
            return -1;
        }
        if (memchr(host, ':', (size_t)(host_end - host)) != NULL) {
            snprintf(err, errlen, "an IPv6 address needs brackets, as in tcp://[::1]:8080");
            return -1;
        }
        port = host_end + 1;
    }

    size_t host_len = (size_t)(host_end - host);
    char address[INET6_ADDRSTRLEN];
    unsigned char binary[sizeof(struct in6_addr)];
    if (host_len == 0) {
        snprintf(err, errlen, "missing host (0.0.0.0 listens on every IPv4 address)");
        return -1;
    }
    if (host_len < sizeof address) {
        memcpy(address, host, host_len);
        address[host_len] = '\0';
    }
    if (host_len >= sizeof address || inet_pton(ipv6 ? AF_INET6 : AF_INET, address, binary) != 1) {
        snprintf(err, errlen, "%s",
                 ipv6 ? "not an IPv6 address between [ and ]"
                      : "the host must be an IP address, such as 0.0.0.0, 127.0.0.1 or [::1]");
        return -1;
    }

    uint16_t port_number;
    if (*port == '\0') {
        snprintf(err, errlen, "missing port after :");
        return -1;
    }
    if (config_parse_port(port, &port_number) != 0) {
        snprintf(err, errlen, "the port must be a number 0..65535");
        return -1;
    }
    out->host = strdup(address);
    if (out->host == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    out->port = port_number;
    return 0;
}

void config_set_listen(struct config *cfg, struct listen_endpoint *ep)
{
    /* config_init leaves at least one slot, so replacing needs no allocation. */
    for (size_t i = 0; i < cfg->listen_count; i++)
        free(cfg->listen[i].host);
    cfg->listen[0] = *ep;
    cfg->listen_count = 1;
    ep->host = NULL;
}

int config_add_listen(struct config *cfg, struct listen_endpoint *ep)
{
    struct listen_endpoint *grown = realloc(cfg->listen, (cfg->listen_count + 1) * sizeof *grown);
    if (grown == NULL) {
        free(ep->host);
        ep->host = NULL;
        return -1;
    }
    grown[cfg->listen_count++] = *ep;
    cfg->listen = grown;
    ep->host = NULL;
    return 0;
}

int config_check(const struct config *cfg, const char *name, char *err, size_t errlen)
{
    if (!(cfg->temp_min < cfg->temp_max)) {
        snprintf(err, errlen, "%s: temp_min: %g must be below temp_max (%g)", name, cfg->temp_min,
                 cfg->temp_max);
        return -1;
    }
    return 0;
}

int config_init(struct config *cfg)
{
    char err[128];
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = calloc(1, sizeof *cfg->listen);
    if (cfg->listen == NULL)
        return -1;
    cfg->listen_count = 1;
    cfg->log_level = LOG_INFO;
    cfg->max_connections = 1024;
    cfg->max_frame_bytes = 4096;
    cfg->idle_timeout_s = 600;
    cfg->max_unacked = 256;
    cfg->max_errors_per_minute = 100;
    cfg->write_timeout_s = 60;
    cfg->temp_min = -50;
    cfg->temp_max = 100;
    cfg->max_future_s = 300;
    cfg->db = strdup(CONFIG_DEFAULT_DB);
    if (cfg->db == NULL ||
        config_parse_endpoint(CONFIG_DEFAULT_LISTEN, &cfg->listen[0], err, sizeof err) != 0 ||
        cidr_list_set_defaults(&cfg->allowed_sources) != 0) {
        config_free(cfg);
        return -1;
    }
    return 0;
}

void config_free(struct config *cfg)
{
    free_endpoints(cfg->listen, cfg->listen_count);
    free(cfg->db);
    cidr_list_free(&cfg->allowed_sources);
    free(cfg->auth_token);
    sensor_rooms_free(&cfg->sensors);
    memset(cfg, 0, sizeof *cfg);
}
