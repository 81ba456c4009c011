/* Fuzzes the config parser (hub/config.h, config_parse) with arbitrary text.
 *
 * The input is a config file's contents. config_parse either succeeds, and
 * then every value is inside the range CONFIG.md gives it and applying the
 * same file again gives the same values, or it fails with one printable line starting
 * with the file name, as people read it on their terminal. A smaller error
 * buffer (its size derived from the input) gives the same verdict and a
 * prefix of the same message. config_check then either passes or names the
 * file. Every path must free what it allocated. */

#include <math.h>
#include <string.h>

#include "config.h"
#include "fuzz_check.h"
#include "reading.h"

#define FILE_NAME "fuzz.json"
#define MAX_DURATION_S 31536000

/* A message for a person: the file name, then printable ASCII only (the
 * parser escapes whatever it quotes from the file). */
static void check_message(const char *err)
{
    FUZZ_CHECK(fuzz_starts_with(err, FILE_NAME ": ") && err[sizeof FILE_NAME + 1] != '\0',
               "message does not start with the file name: \"%s\"", err);
    for (const char *p = err; *p; p++)
        FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e, "byte 0x%02x in message \"%s\"", (unsigned char)*p,
                   err);
}

static void check_sensors(const struct sensor_rooms *sensors)
{
    for (size_t i = 0; i < sensors->count; i++) {
        long name_chars = fuzz_utf8_chars(sensors->items[i].name);
        long room_chars = fuzz_utf8_chars(sensors->items[i].room);
        FUZZ_CHECK(name_chars >= 1 && name_chars <= READING_NAME_MAX_CHARS,
                   "sensor name of %ld characters", name_chars);
        FUZZ_CHECK(room_chars >= 1 && room_chars <= READING_NAME_MAX_CHARS,
                   "room of %ld characters", room_chars);
        /* Sorted and unique, as sensor_rooms_lookup's binary search needs. */
        if (i > 0)
            FUZZ_CHECK(strcmp(sensors->items[i - 1].name, sensors->items[i].name) < 0,
                       "sensors not sorted or not unique at \"%s\"", sensors->items[i].name);
    }
}

/* Every key inside the range config.c's table and CONFIG.md give it. */
static void check_config(const struct config *cfg)
{
    FUZZ_CHECK(cfg->listen != NULL && cfg->listen_count >= 1, "no listen endpoint");
    for (size_t i = 0; i < cfg->listen_count; i++)
        FUZZ_CHECK(cfg->listen[i].host != NULL && cfg->listen[i].host[0] != '\0',
                   "listen endpoint %zu without a host", i);
    FUZZ_CHECK(cfg->db != NULL && cfg->db[0] != '\0', "empty db");
    FUZZ_CHECK(cfg->log_level >= LOG_ERROR && cfg->log_level <= LOG_DEBUG, "log_level %d",
               (int)cfg->log_level);
    FUZZ_CHECK(cfg->max_connections >= 1 && cfg->max_connections <= 1000000, "max_connections %d",
               cfg->max_connections);
    FUZZ_CHECK(cfg->max_frame_bytes >= 64 && cfg->max_frame_bytes <= 1048576, "max_frame_bytes %zu",
               cfg->max_frame_bytes);
    FUZZ_CHECK(cfg->idle_timeout_s >= 1 && cfg->idle_timeout_s <= MAX_DURATION_S,
               "idle_timeout_s %d", cfg->idle_timeout_s);
    FUZZ_CHECK(cfg->max_unacked >= 1 && cfg->max_unacked <= 65536, "max_unacked %d",
               cfg->max_unacked);
    FUZZ_CHECK(cfg->max_errors_per_minute >= 1 && cfg->max_errors_per_minute <= 65536,
               "max_errors_per_minute %d", cfg->max_errors_per_minute);
    FUZZ_CHECK(cfg->write_timeout_s >= 1 && cfg->write_timeout_s <= MAX_DURATION_S,
               "write_timeout_s %d", cfg->write_timeout_s);
    FUZZ_CHECK(cfg->max_future_s >= 0 && cfg->max_future_s <= MAX_DURATION_S, "max_future_s %lld",
               (long long)cfg->max_future_s);
    FUZZ_CHECK(cfg->allowed_sources.count >= 1, "no allowed_sources");
    for (size_t i = 0; i < cfg->allowed_sources.count; i++) {
        const struct cidr *range = &cfg->allowed_sources.items[i];
        FUZZ_CHECK((range->family == AF_INET && range->prefix <= 32) ||
                       (range->family == AF_INET6 && range->prefix <= 128),
                   "allowed_sources[%zu]: family %d prefix %u", i, range->family, range->prefix);
    }
    FUZZ_CHECK(cfg->auth_token == NULL || cfg->auth_token[0] != '\0', "empty auth_token");
    FUZZ_CHECK(isfinite(cfg->temp_min) && isfinite(cfg->temp_max), "temp range not finite");
    check_sensors(&cfg->sensors);
}

/* The values that are not pointers, and the lengths of the lists. */
static bool same_values(const struct config *a, const struct config *b)
{
    return a->listen_count == b->listen_count && a->log_level == b->log_level &&
           a->max_connections == b->max_connections && a->max_frame_bytes == b->max_frame_bytes &&
           a->idle_timeout_s == b->idle_timeout_s && a->max_unacked == b->max_unacked &&
           a->max_errors_per_minute == b->max_errors_per_minute &&
           a->write_timeout_s == b->write_timeout_s &&
           a->allowed_sources.count == b->allowed_sources.count &&
           (a->auth_token == NULL) == (b->auth_token == NULL) && a->temp_min == b->temp_min &&
           a->temp_max == b->temp_max && a->max_future_s == b->max_future_s &&
           a->sensors.count == b->sensors.count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct config cfg;
    char err[512] = "";
    FUZZ_CHECK(config_init(&cfg) == 0, "config_init failed");
    int rc = config_parse(&cfg, FILE_NAME, text, size, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1, "config_parse returned %d", rc);
    if (rc == 0) {
        check_config(&cfg);
        /* Applying the file again replaces each value with an equal one:
         * lists are replaced, not appended to. */
        struct config first = cfg;
        FUZZ_CHECK(config_parse(&cfg, FILE_NAME, text, size, err, sizeof err) == 0,
                   "the file applies once but not twice: %s", err);
        check_config(&cfg);
        FUZZ_CHECK(same_values(&first, &cfg), "applying the file twice changed a value");
        char check_err[512] = "";
        if (config_check(&cfg, FILE_NAME, check_err, sizeof check_err) != 0)
            check_message(check_err);
    } else {
        check_message(err);
    }
    config_free(&cfg);

    /* A small buffer: the same verdict, the message cut short. */
    size_t small = 1 + (size > 0 ? data[size / 2] % 64 : 0);
    char short_err[65];
    memset(short_err, 'X', sizeof short_err);
    FUZZ_CHECK(config_init(&cfg) == 0, "config_init failed");
    int short_rc = config_parse(&cfg, FILE_NAME, text, size, short_err, small);
    FUZZ_CHECK(short_rc == rc, "errlen %zu changes the verdict", small);
    if (rc != 0)
        FUZZ_CHECK(memchr(short_err, '\0', small) != NULL &&
                       strncmp(short_err, err, strlen(short_err)) == 0 && short_err[small] == 'X',
                   "errlen %zu: \"%.*s\" is not a prefix of \"%s\"", small, (int)small, short_err,
                   err);
    config_free(&cfg);
    return 0;
}
