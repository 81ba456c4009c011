#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "log.h"
#include "test.h"

#define TEST_FILE "test.json"

/* Applies text over the defaults; the config must be freed by the caller. */
static int parse_text(struct config *cfg, const char *text, char *err, size_t errlen)
{
    if (config_init(cfg) != 0) {
        TEST_FAIL_("config_init failed");
        return -1;
    }
    err[0] = '\0';
    return config_parse(cfg, TEST_FILE, text, strlen(text), err, errlen);
}

/* Checks that text is refused with exactly the expected message. */
static void expect_error(const char *text, const char *expected)
{
    struct config cfg;
    char err[512];
    if (parse_text(&cfg, text, err, sizeof err) != -1)
        TEST_FAIL_("accepted: %s", text);
    else if (strcmp(err, expected) != 0)
        TEST_FAIL_("for %s\n  got      \"%s\"\n  expected \"%s\"", text, err, expected);
    config_free(&cfg);
}

/* Checks the fields of a config holding exactly the documented defaults. */
static void assert_defaults(const struct config *cfg)
{
    struct config defaults;
    ASSERT_INT_EQ(config_init(&defaults), 0);
    ASSERT_INT_EQ(cfg->listen_count, 1);
    ASSERT_STR_EQ(cfg->listen[0].host, "0.0.0.0");
    ASSERT_INT_EQ(cfg->listen[0].port, 8080);
    ASSERT_STR_EQ(cfg->db, "sensorhub.db");
    ASSERT_INT_EQ(cfg->log_level, LOG_INFO);
    ASSERT_INT_EQ(cfg->max_connections, 1024);
    ASSERT_INT_EQ(cfg->max_frame_bytes, 4096);
    ASSERT_INT_EQ(cfg->idle_timeout_s, 600);
    ASSERT_INT_EQ(cfg->max_unacked, 256);
    ASSERT_INT_EQ(cfg->max_errors_per_minute, 100);
    ASSERT_INT_EQ(cfg->write_timeout_s, 60);
    ASSERT(cfg->auth_token == NULL);
    ASSERT_DBL_EQ(cfg->temp_min, -50);
    ASSERT_DBL_EQ(cfg->temp_max, 100);
    ASSERT_INT_EQ(cfg->max_future_s, 300);
    ASSERT_INT_EQ(cfg->sensors.count, 0);
    ASSERT_INT_EQ(cfg->allowed_sources.count, defaults.allowed_sources.count);
    for (size_t i = 0; i < cfg->allowed_sources.count && i < defaults.allowed_sources.count; i++) {
        const struct cidr *got = &cfg->allowed_sources.items[i];
        const struct cidr *want = &defaults.allowed_sources.items[i];
        ASSERT_INT_EQ(got->family, want->family);
        ASSERT_INT_EQ(got->prefix, want->prefix);
        ASSERT_MEM_EQ(got->addr, sizeof got->addr, want->addr, sizeof want->addr);
    }
    config_free(&defaults);
}

static void test_defaults(void)
{
    struct config cfg;
    ASSERT_INT_EQ(config_init(&cfg), 0);
    assert_defaults(&cfg);
    ASSERT_INT_EQ(cfg.allowed_sources.count, 8);
    config_free(&cfg);

    /* An empty object changes nothing. */
    char err[256];
    ASSERT_INT_EQ(parse_text(&cfg, "{}", err, sizeof err), 0);
    assert_defaults(&cfg);
    config_free(&cfg);
}

static void test_every_key(void)
{
    static const char text[] =
        "{\"listen\": \"tcp://127.0.0.1:9000\", \"db\": \"/var/lib/sensorhub/hub.db\",\n"
        " \"log_level\": \"debug\", \"max_connections\": 10, \"max_frame_bytes\": 64,\n"
        " \"idle_timeout_s\": 30, \"max_unacked\": 65536, \"max_errors_per_minute\": 5,\n"
        " \"write_timeout_s\": 2, \"allowed_sources\": [\"10.0.0.0/8\", \"::1\"],\n"
        " \"auth_token\": \"s3cret\", \"temp_min\": -40.5, \"temp_max\": 85,\n"
        " \"max_future_s\": 0, \"sensors\": {\"lr-1\": \"living_room\"}}";
    struct config cfg;
    char err[256];
    ASSERT_INT_EQ(parse_text(&cfg, text, err, sizeof err), 0);
    ASSERT_STR_EQ(err, "");
    ASSERT_INT_EQ(cfg.listen_count, 1);
    ASSERT_STR_EQ(cfg.listen[0].host, "127.0.0.1");
    ASSERT_INT_EQ(cfg.listen[0].port, 9000);
    ASSERT_STR_EQ(cfg.db, "/var/lib/sensorhub/hub.db");
    ASSERT_INT_EQ(cfg.log_level, LOG_DEBUG);
    ASSERT_INT_EQ(cfg.max_connections, 10);
    ASSERT_INT_EQ(cfg.max_frame_bytes, 64);
    ASSERT_INT_EQ(cfg.idle_timeout_s, 30);
    ASSERT_INT_EQ(cfg.max_unacked, 65536);
    ASSERT_INT_EQ(cfg.max_errors_per_minute, 5);
    ASSERT_INT_EQ(cfg.write_timeout_s, 2);
    ASSERT_INT_EQ(cfg.allowed_sources.count, 2);
    ASSERT_INT_EQ(cfg.allowed_sources.items[1].family, AF_INET6);
    ASSERT_STR_EQ(cfg.auth_token, "s3cret");
    ASSERT_DBL_EQ(cfg.temp_min, -40.5);
    ASSERT_DBL_EQ(cfg.temp_max, 85);
    ASSERT_INT_EQ(cfg.max_future_s, 0);
    ASSERT_INT_EQ(cfg.sensors.count, 1);
    ASSERT_STR_EQ(sensor_rooms_lookup(&cfg.sensors, "lr-1"), "living_room");
    ASSERT_INT_EQ(config_check(&cfg, TEST_FILE, err, sizeof err), 0);
    config_free(&cfg);
}

/* Every integer key: wrong types, fractions, both ends of its range. */
static void test_integer_keys(void)
{
    static const struct {
        const char *key;
        long long min;
        long long max;
    } keys[] = {
        {"max_connections", 1, 1000000},       {"max_frame_bytes", 64, 1048576},
        {"idle_timeout_s", 1, 31536000},       {"max_unacked", 1, 65536},
        {"max_errors_per_minute", 1, 65536}, {"write_timeout_s", 1, 31536000},
        {"max_future_s", 0, 31536000},
    };
    static const char *const not_integers[] = {"\"10\"", "1.5", "true", "null", "[1]", "{}"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char text[128], expected[256];
        for (size_t j = 0; j < sizeof not_integers / sizeof not_integers[0]; j++) {
            snprintf(text, sizeof text, "{\"%s\": %s}", keys[i].key, not_integers[j]);
            snprintf(expected, sizeof expected, TEST_FILE ": %s: must be an integer", keys[i].key);
            expect_error(text, expected);
        }
        snprintf(text, sizeof text, "{\"%s\": %lld}", keys[i].key, keys[i].min - 1);
        snprintf(expected, sizeof expected, TEST_FILE ": %s: %lld is out of range %lld..%lld",
                 keys[i].key, keys[i].min - 1, keys[i].min, keys[i].max);
        expect_error(text, expected);
        snprintf(text, sizeof text, "{\"%s\": %lld}", keys[i].key, keys[i].max + 1);
        snprintf(expected, sizeof expected, TEST_FILE ": %s: %lld is out of range %lld..%lld",
                 keys[i].key, keys[i].max + 1, keys[i].min, keys[i].max);
        expect_error(text, expected);

        /* Both ends are accepted. */
        struct config cfg;
        char err[256];
        snprintf(text, sizeof text, "{\"%s\": %lld}", keys[i].key, keys[i].min);
        ASSERT_INT_EQ(parse_text(&cfg, text, err, sizeof err), 0);
        config_free(&cfg);
        snprintf(text, sizeof text, "{\"%s\": %lld}", keys[i].key, keys[i].max);
        ASSERT_INT_EQ(parse_text(&cfg, text, err, sizeof err), 0);
        config_free(&cfg);
    }
    expect_error("{\"max_unacked\": 0}", TEST_FILE ": max_unacked: 0 is out of range 1..65536");
    expect_error("{\"max_connections\": 1e30}",
                 TEST_FILE ": max_connections: 1e+30 is out of range 1..1000000");
    expect_error("{\"max_connections\": -1e999}",
                 TEST_FILE ": max_connections: must be an integer");

    /* An exponent that still names a whole number is that number. */
    struct config cfg;
    char err[256];
    ASSERT_INT_EQ(parse_text(&cfg, "{\"max_connections\": 2e3, \"max_frame_bytes\": 8192.0}", err,
                             sizeof err),
                  0);
    ASSERT_INT_EQ(cfg.max_connections, 2000);
    ASSERT_INT_EQ(cfg.max_frame_bytes, 8192);
    config_free(&cfg);
}

static void test_other_key_errors(void)
{
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        {"{\"db\": 1}", TEST_FILE ": db: must be a string"},
        {"{\"db\": null}", TEST_FILE ": db: must be a string"},
        {"{\"db\": \"\"}", TEST_FILE ": db: must not be empty"},
        {"{\"log_level\": 3}", TEST_FILE ": log_level: must be a string"},
        {"{\"log_level\": \"loud\"}",
         TEST_FILE ": log_level: \"loud\" is not a log level (error, warn, info, debug)"},
        {"{\"log_level\": \"INFO\"}",
         TEST_FILE ": log_level: \"INFO\" is not a log level (error, warn, info, debug)"},
        {"{\"auth_token\": 5}", TEST_FILE ": auth_token: must be a string or null"},
        {"{\"auth_token\": \"\"}",
         TEST_FILE ": auth_token: must not be empty (null means no token)"},
        {"{\"temp_min\": \"cold\"}", TEST_FILE ": temp_min: must be a number"},
        {"{\"temp_max\": 1e999}", TEST_FILE ": temp_max: must be a number"},
        {"{\"temp_max\": null}", TEST_FILE ": temp_max: must be a number"},
        {"{\"allowed_sources\": \"10.0.0.0/8\"}",
         TEST_FILE ": allowed_sources: must be a list of address ranges (strings)"},
        {"{\"allowed_sources\": [\"10.0.0.0/8\", 7]}",
         TEST_FILE ": allowed_sources: must be a list of address ranges (strings)"},
        {"{\"allowed_sources\": []}",
         TEST_FILE ": allowed_sources: an empty list would refuse every client; to allow all, "
                   "write [\"0.0.0.0/0\", \"::/0\"]"},
        {"{\"allowed_sources\": [\"10.0.0.0/33\"]}",
         TEST_FILE ": allowed_sources: \"10.0.0.0/33\": prefix 33 is longer than 32"},
        {"{\"allowed_sources\": [\"my-laptop\"]}",
         TEST_FILE ": allowed_sources: \"my-laptop\": not an IPv4 or IPv6 address"},
        {"{\"listen\": 8080}", TEST_FILE ": listen: must be a string or a list of strings"},
        {"{\"listen\": [\"tcp://127.0.0.1:1\", 2]}",
         TEST_FILE ": listen: must be a string or a list of strings"},
        {"{\"listen\": []}",
         TEST_FILE ": listen: must name at least one endpoint, such as \"tcp://0.0.0.0:8080\""},
        {"{\"listen\": \"udp://0.0.0.0:9000\"}",
         TEST_FILE ": listen: \"udp://0.0.0.0:9000\": udp:// endpoints are not supported yet; "
                   "use tcp://HOST:PORT"},
        {"{\"listen\": [\"tcp://[::1]:8080\", \"unix:/run/sensorhub.sock\"]}",
         TEST_FILE ": listen: \"unix:/run/sensorhub.sock\": unix: endpoints are not supported "
                   "yet; use tcp://HOST:PORT"},
        {"{\"listen\": \"tcp://0.0.0.0:70000\"}",
         TEST_FILE ": listen: \"tcp://0.0.0.0:70000\": the port must be a number 0..65535"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].text, cases[i].error);

    /* null clears a token set earlier. */
    struct config cfg;
    char err[256];
    ASSERT_INT_EQ(parse_text(&cfg, "{\"auth_token\": \"x\"}", err, sizeof err), 0);
    ASSERT_INT_EQ(config_parse(&cfg, TEST_FILE, "{\"auth_token\": null}", 20, err, sizeof err), 0);
    ASSERT(cfg.auth_token == NULL);
    config_free(&cfg);
}

static void test_unknown_keys(void)
{
    expect_error("{\"max_unaked\": 5}",
                 TEST_FILE ": max_unaked: unknown key (did you mean max_unacked?)");
    expect_error("{\"Listen\": \"tcp://0.0.0.0:1\"}",
                 TEST_FILE ": Listen: unknown key (did you mean listen?)");
    expect_error("{\"log-level\": \"info\"}",
                 TEST_FILE ": log-level: unknown key (did you mean log_level?)");
    expect_error("{\"idle_timeout\": 5}",
                 TEST_FILE ": idle_timeout: unknown key (did you mean idle_timeout_s?)");
    expect_error("{\"dv\": \"x\"}", TEST_FILE ": dv: unknown key (did you mean db?)");
    /* Keys of features not built yet are unknown like any other (CONFIG.md). */
    expect_error("{\"mqtt\": null}", TEST_FILE ": mqtt: unknown key");
    expect_error("{\"retention_days\": 90}", TEST_FILE ": retention_days: unknown key");
    expect_error("{\"port\": 8080}", TEST_FILE ": port: unknown key");
    /* A key's odd bytes are escaped in the message. */
    expect_error("{\"a\\nb\": 1}", TEST_FILE ": a\\x0ab: unknown key");
    /* The first problem in file order is the one reported. */
    expect_error("{\"db\": \"x\", \"bogus\": 1, \"max_unacked\": 0}",
                 TEST_FILE ": bogus: unknown key");
}

static void test_duplicate_keys(void)
{
    expect_error("{\"db\": \"a.db\", \"db\": \"b.db\"}", TEST_FILE ": db: duplicate key");
    expect_error("{\"max_unacked\": 5, \"db\": \"a\", \"max_unacked\": 5}",
                 TEST_FILE ": max_unacked: duplicate key");
    expect_error("{\"sensors\": {\"a\": \"x\", \"b\": \"y\", \"a\": \"z\"}}",
                 TEST_FILE ": sensors.a: duplicate key");
}

static void test_comments(void)
{
    static const char text[] = "// sensorhub config\n"
                               "{\n"
                               "  /* where readings go:\n"
                               "     a file */ \"db\": \"http://example//x.db\", // trailing\n"
                               "  \"auth_token\": \"a/*b*/c\" /* after */,\n"
                               "  \"sensors\": {\"q\\\"//\": \"r\"} // a \"quoted\" comment\n"
                               "}\n"
                               "// after the object\n";
    struct config cfg;
    char err[256];
    ASSERT_INT_EQ(parse_text(&cfg, text, err, sizeof err), 0);
    ASSERT_STR_EQ(err, "");
    ASSERT_STR_EQ(cfg.db, "http://example//x.db");
    ASSERT_STR_EQ(cfg.auth_token, "a/*b*/c");
    ASSERT_STR_EQ(sensor_rooms_lookup(&cfg.sensors, "q\"//"), "r");
    config_free(&cfg);

    expect_error("{\"db\": \"x\"} /* never closed\n",
                 TEST_FILE ": line 1, column 13: /* comment is never closed with */");
    expect_error("// only a comment\n",
                 TEST_FILE ": the file is empty; {} is the shortest config (all defaults)");
    expect_error("", TEST_FILE ": the file is empty; {} is the shortest config (all defaults)");
}

static void test_syntax_errors(void)
{
    /* The bare word info starts at line 3, column 16. */
    expect_error("{\n  \"db\": \"x\",\n  \"log_level\": info\n}",
                 TEST_FILE ": line 3, column 16: invalid JSON");
    /* A trailing comma, the commonest slip, is named and pointed at. */
    expect_error("{\"db\": \"x\", // the database\n}",
                 TEST_FILE ": line 1, column 11: invalid JSON: a comma before } or ] (JSON allows "
                           "no trailing comma)");
    expect_error("{\"listen\": [\"tcp://0.0.0.0:1\",]}",
                 TEST_FILE ": line 1, column 30: invalid JSON: a comma before } or ] (JSON allows "
                           "no trailing comma)");
    /* Positions count lines inside comments that were blanked out. */
    expect_error("/* one\n two\n three */ {\"db\": }",
                 TEST_FILE ": line 3, column 18: invalid JSON");
    /* Columns count characters, not bytes. */
    expect_error("{\"db\": \"\xc3\xa9\xc3\xa9\" x}", TEST_FILE ": line 1, column 13: invalid JSON");
    /* A missing closing brace is reported at the end of the file. */
    expect_error("{\"db\": \"x\"", TEST_FILE ": line 1, column 11: invalid JSON");
    expect_error("{\"db\": \"x\"} {}", TEST_FILE ": line 1, column 13: invalid JSON");
    expect_error("[{\"db\": \"x\"}]",
                 TEST_FILE ": the file must hold one JSON object: { \"key\": value, ... }");
    expect_error("\"db\"",
                 TEST_FILE ": the file must hold one JSON object: { \"key\": value, ... }");

    struct config cfg;
    char err[256];
    ASSERT_INT_EQ(config_init(&cfg), 0);
    ASSERT_INT_EQ(config_parse(&cfg, TEST_FILE, "{}\0{}", 5, err, sizeof err), -1);
    ASSERT_STR_EQ(err, TEST_FILE ": line 1, column 3: NUL byte; is this a text file?");
    config_free(&cfg);
}

static void test_listen_forms(void)
{
    static const struct {
        const char *text;
        const char *host;
        int port;
    } good[] = {
        {"tcp://0.0.0.0:8080", "0.0.0.0", 8080},
        {"tcp://127.0.0.1:0", "127.0.0.1", 0},
        {"tcp://[::1]:9000", "::1", 9000},
        {"tcp://[::]:65535", "::", 65535},
        {"tcp://[fe80::1:2]:1", "fe80::1:2", 1},
        {"192.168.1.10:8080", "192.168.1.10", 8080},
        {"[::1]:8080", "::1", 8080},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        struct listen_endpoint endpoint = {0};
        char err[160] = "";
        if (config_parse_endpoint(good[i].text, &endpoint, err, sizeof err) != 0) {
            TEST_FAIL_("%s: %s", good[i].text, err);
            continue;
        }
        ASSERT_STR_EQ(endpoint.host, good[i].host);
        ASSERT_INT_EQ(endpoint.port, good[i].port);
        free(endpoint.host);
    }

    static const struct {
        const char *text;
        const char *error;
    } bad[] = {
        {"udp://0.0.0.0:9000", "udp:// endpoints are not supported yet; use tcp://HOST:PORT"},
        {"unix:/run/sensorhub.sock", "unix: endpoints are not supported yet; use tcp://HOST:PORT"},
        {"unixgram:/run/s.sock", "unixgram: endpoints are not supported yet; use tcp://HOST:PORT"},
        {"http://0.0.0.0:80", "unknown scheme; use tcp://HOST:PORT"},
        {"tcp://0.0.0.0", "missing :PORT (as in tcp://0.0.0.0:8080)"},
        {"", "missing :PORT (as in tcp://0.0.0.0:8080)"},
        {"tcp://::1:8080", "an IPv6 address needs brackets, as in tcp://[::1]:8080"},
        {"tcp://[::1:8080", "missing ] after the IPv6 address"},
        {"tcp://[::1]8080", "missing :PORT after ] (as in tcp://[::1]:8080)"},
        {"tcp://[1.2.3.4]:80", "not an IPv6 address between [ and ]"},
        {"tcp://[]:80", "missing host (0.0.0.0 listens on every IPv4 address)"},
        {"tcp://:8080", "missing host (0.0.0.0 listens on every IPv4 address)"},
        {"tcp://localhost:8080",
         "the host must be an IP address, such as 0.0.0.0, 127.0.0.1 or [::1]"},
        {"tcp://1.2.3:8080", "the host must be an IP address, such as 0.0.0.0, 127.0.0.1 or [::1]"},
        {"tcp://0.0.0.0:", "missing port after :"},
        {"tcp://0.0.0.0:65536", "the port must be a number 0..65535"},
        {"tcp://0.0.0.0:99999999999999999999", "the port must be a number 0..65535"},
        {"tcp://0.0.0.0:80x", "the port must be a number 0..65535"},
        {"tcp://0.0.0.0:-1", "the port must be a number 0..65535"},
        {"tcp://0.0.0.0:+80", "the port must be a number 0..65535"},
        {"tcp://0.0.0.0:80/", "the port must be a number 0..65535"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct listen_endpoint endpoint = {0};
        char err[160] = "";
        ASSERT_INT_EQ(config_parse_endpoint(bad[i].text, &endpoint, err, sizeof err), -1);
        ASSERT_STR_EQ(err, bad[i].error);
        ASSERT(endpoint.host == NULL);
    }

    /* A list replaces the default; the order is kept. */
    struct config cfg;
    char err[256];
    ASSERT_INT_EQ(parse_text(&cfg, "{\"listen\": [\"tcp://127.0.0.1:8080\", \"tcp://[::1]:8081\"]}",
                             err, sizeof err),
                  0);
    ASSERT_INT_EQ(cfg.listen_count, 2);
    ASSERT_STR_EQ(cfg.listen[0].host, "127.0.0.1");
    ASSERT_INT_EQ(cfg.listen[0].port, 8080);
    ASSERT_STR_EQ(cfg.listen[1].host, "::1");
    ASSERT_INT_EQ(cfg.listen[1].port, 8081);

    struct listen_endpoint endpoint;
    ASSERT_INT_EQ(config_parse_endpoint("[::]:1", &endpoint, err, sizeof err), 0);
    config_set_listen(&cfg, &endpoint);
    ASSERT(endpoint.host == NULL);
    ASSERT_INT_EQ(cfg.listen_count, 1);
    ASSERT_STR_EQ(cfg.listen[0].host, "::");
    ASSERT_INT_EQ(config_parse_endpoint("1.2.3.4:2", &endpoint, err, sizeof err), 0);
    ASSERT_INT_EQ(config_add_listen(&cfg, &endpoint), 0);
    ASSERT_INT_EQ(cfg.listen_count, 2);
    ASSERT_STR_EQ(cfg.listen[1].host, "1.2.3.4");
    ASSERT_INT_EQ(cfg.listen[1].port, 2);
    config_free(&cfg);
}

static void test_sensors_map(void)
{
    struct config cfg;
    char err[512];
    ASSERT_INT_EQ(
        parse_text(&cfg,
                   "{\"sensors\": {\"0x00158d00036c1821\": \"bedroom\", "
                   "\"Nexus-TH-91-2\": \"garden\", \"k\xc3\xbc\x63he\": \"K\xc3\xbc\x63he\"}}",
                   err, sizeof err),
        0);
    ASSERT_INT_EQ(cfg.sensors.count, 3);
    ASSERT_STR_EQ(sensor_rooms_lookup(&cfg.sensors, "0x00158d00036c1821"), "bedroom");
    ASSERT_STR_EQ(sensor_rooms_lookup(&cfg.sensors, "Nexus-TH-91-2"), "garden");
    ASSERT_STR_EQ(sensor_rooms_lookup(&cfg.sensors, "k\xc3\xbc\x63he"), "K\xc3\xbc\x63he");
    ASSERT(sensor_rooms_lookup(&cfg.sensors, "nexus-th-91-2") == NULL);
    config_free(&cfg);

    /* 64 characters pass even at 2 bytes each; 65 do not. */
    char name64[2 * 64 + 1] = "", name65[65 + 1];
    for (int i = 0; i < 64; i++)
        strcat(name64, "\xc3\xa9");
    memset(name65, 'n', 65);
    name65[65] = '\0';
    char text[512], expected[512];
    snprintf(text, sizeof text, "{\"sensors\": {\"%s\": \"%s\"}}", name64, name64);
    ASSERT_INT_EQ(parse_text(&cfg, text, err, sizeof err), 0);
    ASSERT_STR_EQ(sensor_rooms_lookup(&cfg.sensors, name64), name64);
    config_free(&cfg);

    snprintf(text, sizeof text, "{\"sensors\": {\"%s\": \"x\"}}", name65);
    snprintf(expected, sizeof expected,
             TEST_FILE ": sensors: \"%s\": a sensor name must be 1..64 characters of UTF-8",
             name65);
    expect_error(text, expected);
    snprintf(text, sizeof text, "{\"sensors\": {\"lr\": \"%s\"}}", name65);
    expect_error(text, TEST_FILE ": sensors.lr: a room must be 1..64 characters of UTF-8");

    expect_error("{\"sensors\": []}",
                 TEST_FILE ": sensors: must be an object of sensor name to room");
    expect_error("{\"sensors\": null}",
                 TEST_FILE ": sensors: must be an object of sensor name to room");
    expect_error("{\"sensors\": {\"bedroom-1\": 5}}",
                 TEST_FILE ": sensors.bedroom-1: must be a string");
    expect_error("{\"sensors\": {\"bedroom-1\": {\"room\": \"x\"}}}",
                 TEST_FILE ": sensors.bedroom-1: must be a string");
    expect_error("{\"sensors\": {\"\": \"x\"}}",
                 TEST_FILE ": sensors: \"\": a sensor name must be 1..64 characters of UTF-8");
    expect_error("{\"sensors\": {\"lr\": \"\"}}",
                 TEST_FILE ": sensors.lr: a room must be 1..64 characters of UTF-8");
    expect_error("{\"sensors\": {\"bad\xff\": \"x\"}}", TEST_FILE
                 ": sensors: \"bad\\xff\": a sensor name must be 1..64 characters of UTF-8");
}

/* Found by fuzz_config: names and rooms go into readings and SQLite TEXT, so
 * "UTF-8" means well-formed UTF-8, as the framer reads it: no overlong
 * forms, no encoded surrogates, nothing above U+10FFFF. */
static void test_sensors_map_refuses_ill_formed_utf8(void)
{
    expect_error("{\"sensors\": {\"\xf0\x8c\x9f\xa1\": \"x\"}}",
                 TEST_FILE ": sensors: \"\\xf0\\x8c\\x9f\\xa1\": a sensor name must be 1..64 "
                           "characters of UTF-8");
    expect_error("{\"sensors\": {\"a\\/\xc0\xaf\": \"x\"}}",
                 TEST_FILE ": sensors: \"a/\\xc0\\xaf\": a sensor name must be 1..64 "
                           "characters of UTF-8");
    expect_error("{\"sensors\": {\"lr\": \"\xe0\x80\xaf\"}}",
                 TEST_FILE ": sensors.lr: a room must be 1..64 characters of UTF-8");
    expect_error("{\"sensors\": {\"lr\": \"\xed\xa0\x80\"}}",
                 TEST_FILE ": sensors.lr: a room must be 1..64 characters of UTF-8");
    expect_error("{\"sensors\": {\"lr\": \"\xf4\x90\x80\x80\"}}",
                 TEST_FILE ": sensors.lr: a room must be 1..64 characters of UTF-8");

    /* The edges of each range stay accepted. */
    struct config cfg;
    char err[512];
    ASSERT_INT_EQ(parse_text(&cfg,
                             "{\"sensors\": {\"\xe0\xa0\x80\": \"\xed\x9f\xbf\", "
                             "\"\xf0\x90\x80\x80\": \"\xf4\x8f\xbf\xbf\"}}",
                             err, sizeof err),
                  0);
    ASSERT_INT_EQ(cfg.sensors.count, 2);
    ASSERT_STR_EQ(sensor_rooms_lookup(&cfg.sensors, "\xf0\x90\x80\x80"), "\xf4\x8f\xbf\xbf");
    config_free(&cfg);
}

static void test_check(void)
{
    struct config cfg;
    char err[256];
    ASSERT_INT_EQ(parse_text(&cfg, "{\"temp_min\": 100, \"temp_max\": 50}", err, sizeof err), 0);
    ASSERT_INT_EQ(config_check(&cfg, TEST_FILE, err, sizeof err), -1);
    ASSERT_STR_EQ(err, TEST_FILE ": temp_min: 100 must be below temp_max (50)");
    config_free(&cfg);
    ASSERT_INT_EQ(parse_text(&cfg, "{\"temp_min\": 20.5, \"temp_max\": 20.5}", err, sizeof err), 0);
    ASSERT_INT_EQ(config_check(&cfg, TEST_FILE, err, sizeof err), -1);
    ASSERT_STR_EQ(err, TEST_FILE ": temp_min: 20.5 must be below temp_max (20.5)");
    config_free(&cfg);
    ASSERT_INT_EQ(parse_text(&cfg, "{\"temp_min\": -100}", err, sizeof err), 0);
    ASSERT_INT_EQ(config_check(&cfg, TEST_FILE, err, sizeof err), 0);
    config_free(&cfg);
}

/* The documented example, config/sensorhub.json, found next to this file's
 * directory (CMake passes absolute source paths, so __FILE__ is one). */
static void test_example_file_holds_the_defaults(void)
{
    char path[PATH_MAX];
    const char *slash = strrchr(__FILE__, '/');
    int dir_len = slash != NULL ? (int)(slash - __FILE__) : 1;
    snprintf(path, sizeof path, "%.*s/../config/sensorhub.json", dir_len,
             slash != NULL ? __FILE__ : ".");
    struct config cfg;
    char err[512] = "";
    ASSERT_INT_EQ(config_init(&cfg), 0);
    if (config_load_file(&cfg, path, err, sizeof err) != 0) {
        TEST_FAIL_("%s", err);
    } else {
        assert_defaults(&cfg);
        ASSERT_INT_EQ(config_check(&cfg, path, err, sizeof err), 0);
    }
    config_free(&cfg);
}

static void test_load_file_errors(void)
{
    struct config cfg;
    char err[512];
    ASSERT_INT_EQ(config_init(&cfg), 0);
    ASSERT_INT_EQ(config_load_file(&cfg, "/nonexistent/sensorhub.json", err, sizeof err), -1);
    ASSERT_STR_EQ(err, "/nonexistent/sensorhub.json: cannot read: No such file or directory");
    ASSERT_INT_EQ(config_load_file(&cfg, "/", err, sizeof err), -1);
    ASSERT_STR_EQ(err, "/: cannot read: Is a directory");
    config_free(&cfg);
}

/* A temporary file holding text; the caller unlinks it. */
static void write_temp_file(char *path, size_t cap, const char *text)
{
    snprintf(path, cap, "/tmp/sensorhub-test-config-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        TEST_FAIL_("mkstemp failed");
        return;
    }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len)
        TEST_FAIL_("write to %s failed", path);
    close(fd);
}

/* The outcome of one cli_parse run: what it printed to out and to err. */
struct cli_run {
    enum cli_outcome outcome;
    char *out;
    char *err;
};

/* Runs cli_parse over a NULL-terminated argument list (argv[0] added). */
static struct cli_run run_cli(struct config *cfg, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = strdup("sensorhub");
    for (; args[argc - 1] != NULL && argc < 31; argc++)
        argv[argc] = strdup(args[argc - 1]);
    argv[argc] = NULL;

    struct cli_run run = {CLI_ERROR, NULL, NULL};
    size_t out_len, err_len;
    FILE *out = open_memstream(&run.out, &out_len);
    FILE *err = open_memstream(&run.err, &err_len);
    if (config_init(cfg) != 0)
        TEST_FAIL_("config_init failed");
    run.outcome = cli_parse(argc, argv, cfg, out, err);
    fclose(out);
    fclose(err);
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return run;
}

static void free_run(struct cli_run *run, struct config *cfg)
{
    free(run->out);
    free(run->err);
    config_free(cfg);
}

/* Checks that args are refused with exactly one message on err. */
static void expect_cli_error(const char *const *args, const char *expected)
{
    struct config cfg;
    struct cli_run run = run_cli(&cfg, args);
    ASSERT_INT_EQ(run.outcome, CLI_ERROR);
    ASSERT_STR_EQ(run.err, expected);
    ASSERT_STR_EQ(run.out, "");
    free_run(&run, &cfg);
}

static void test_cli_no_flags(void)
{
    struct config cfg;
    const char *const args[] = {NULL};
    struct cli_run run = run_cli(&cfg, args);
    ASSERT_INT_EQ(run.outcome, CLI_RUN);
    ASSERT_STR_EQ(run.out, "");
    ASSERT_STR_EQ(run.err, "");
    assert_defaults(&cfg);
    free_run(&run, &cfg);
}

static void test_cli_help_and_version(void)
{
    struct config cfg;
    const char *const version[] = {"--version", NULL};
    struct cli_run run = run_cli(&cfg, version);
    ASSERT_INT_EQ(run.outcome, CLI_EXIT);
    ASSERT_STR_EQ(run.out, "sensorhub " SENSORHUB_VERSION "\n");
    ASSERT_STR_EQ(run.err, "");
    free_run(&run, &cfg);

    /* --help wins over everything else, even a config file that is missing. */
    const char *const help[] = {"--config", "/nonexistent.json", "--help", "--version", NULL};
    run = run_cli(&cfg, help);
    ASSERT_INT_EQ(run.outcome, CLI_EXIT);
    ASSERT_STR_EQ(run.err, "");
    static const char *const mentions[] = {
        "Usage: sensorhub",
        "\n  --config FILE ",
        "\n  --listen ADDR ",
        "\n  --port N ",
        "\n  --db PATH ",
        "\n  --log-level LEVEL ",
        "\n  --help ",
        "\n  --version ",
        "default tcp://0.0.0.0:8080",
        "default sensorhub.db",
        "default info",
        "config/sensorhub.json",
        "README.md",
    };
    for (size_t i = 0; i < sizeof mentions / sizeof mentions[0]; i++) {
        if (run.out == NULL || strstr(run.out, mentions[i]) == NULL)
            TEST_FAIL_("--help does not mention \"%s\"", mentions[i]);
    }
    /* Every line fits an 80-column terminal. */
    for (const char *line = run.out; line != NULL && *line != '\0';) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > 80)
            TEST_FAIL_("help line longer than 80: %.*s", (int)len, line);
        line = end ? end + 1 : NULL;
    }
    free_run(&run, &cfg);
}

static void test_cli_flags_override_file(void)
{
    char path[64];
    write_temp_file(path, sizeof path,
                    "// test config\n"
                    "{\"listen\": [\"tcp://127.0.0.1:7000\", \"tcp://[::1]:7001\"],\n"
                    " \"db\": \"file.db\", \"log_level\": \"warn\", \"max_unacked\": 10}\n");

    /* --config after the flags it is overridden by. */
    struct config cfg;
    const char *const flags_first[] = {"--db",     "flag.db", "--log-level", "debug",
                                       "--config", path,      NULL};
    struct cli_run run = run_cli(&cfg, flags_first);
    ASSERT_INT_EQ(run.outcome, CLI_RUN);
    ASSERT_STR_EQ(run.err, "");
    ASSERT_STR_EQ(cfg.db, "flag.db");
    ASSERT_INT_EQ(cfg.log_level, LOG_DEBUG);
    ASSERT_INT_EQ(cfg.max_unacked, 10);
    ASSERT_INT_EQ(cfg.listen_count, 2);
    ASSERT_INT_EQ(cfg.listen[0].port, 7000);
    free_run(&run, &cfg);

    /* --config first; --port rewrites every endpoint of the file. */
    const char *const file_first[] = {"--config", path, "--port", "9000", NULL};
    run = run_cli(&cfg, file_first);
    ASSERT_INT_EQ(run.outcome, CLI_RUN);
    ASSERT_STR_EQ(cfg.db, "file.db");
    ASSERT_INT_EQ(cfg.log_level, LOG_WARN);
    ASSERT_INT_EQ(cfg.listen_count, 2);
    ASSERT_STR_EQ(cfg.listen[0].host, "127.0.0.1");
    ASSERT_INT_EQ(cfg.listen[0].port, 9000);
    ASSERT_STR_EQ(cfg.listen[1].host, "::1");
    ASSERT_INT_EQ(cfg.listen[1].port, 9000);
    free_run(&run, &cfg);

    /* --listen replaces the file's list; --port applies to it, before or after. */
    const char *const listen_flags[] = {"--port",   "0",       "--config", path,
                                        "--listen", "[::]:80", "--listen", "tcp://10.0.0.1:81",
                                        NULL};
    run = run_cli(&cfg, listen_flags);
    ASSERT_INT_EQ(run.outcome, CLI_RUN);
    ASSERT_STR_EQ(run.err, "");
    ASSERT_INT_EQ(cfg.listen_count, 2);
    ASSERT_STR_EQ(cfg.listen[0].host, "::");
    ASSERT_INT_EQ(cfg.listen[0].port, 0);
    ASSERT_STR_EQ(cfg.listen[1].host, "10.0.0.1");
    ASSERT_INT_EQ(cfg.listen[1].port, 0);
    ASSERT_STR_EQ(cfg.db, "file.db");
    free_run(&run, &cfg);

    /* The --name=value form works too. */
    const char *const equals[] = {"--db=eq.db", "--port=1234", NULL};
    run = run_cli(&cfg, equals);
    ASSERT_INT_EQ(run.outcome, CLI_RUN);
    ASSERT_STR_EQ(cfg.db, "eq.db");
    ASSERT_INT_EQ(cfg.listen[0].port, 1234);
    free_run(&run, &cfg);
    unlink(path);
}

static void test_cli_errors(void)
{
    const char *const port_range[] = {"--port", "70000", NULL};
    expect_cli_error(port_range, "sensorhub: --port: 70000 is not a port (0..65535)\n");
    const char *const port_text[] = {"--port", "http", NULL};
    expect_cli_error(port_text, "sensorhub: --port: http is not a port (0..65535)\n");
    const char *const port_missing[] = {"--port", NULL};
    expect_cli_error(port_missing, "sensorhub: --port needs a value (see sensorhub --help)\n");
    const char *const level[] = {"--log-level", "loud", NULL};
    expect_cli_error(
        level, "sensorhub: --log-level: loud is not a log level (error, warn, info, debug)\n");
    const char *const db[] = {"--db", "", NULL};
    expect_cli_error(db, "sensorhub: --db: the database path must not be empty\n");
    const char *const listen[] = {"--listen", "udp://0.0.0.0:9000", NULL};
    expect_cli_error(listen, "sensorhub: --listen: udp://0.0.0.0:9000: udp:// endpoints are not "
                             "supported yet; use tcp://HOST:PORT\n");
    const char *const unknown[] = {"--verbose", NULL};
    expect_cli_error(unknown, "sensorhub: unknown option --verbose (see sensorhub --help)\n");
    const char *const short_unknown[] = {"-x", NULL};
    expect_cli_error(short_unknown, "sensorhub: unknown option -x (see sensorhub --help)\n");
    const char *const help_value[] = {"--help=yes", NULL};
    expect_cli_error(help_value, "sensorhub: --help=yes takes no value\n");
    const char *const positional[] = {"--db", "a.db", "sensorhub.json", NULL};
    expect_cli_error(positional, "sensorhub: unexpected argument \"sensorhub.json\"; sensorhub "
                                 "takes only options (see sensorhub --help)\n");
    const char *const two_configs[] = {"--config", "a.json", "--config", "b.json", NULL};
    expect_cli_error(two_configs, "sensorhub: --config: given twice; name one file\n");
    const char *const missing_file[] = {"--config", "/nonexistent/sensorhub.json", NULL};
    expect_cli_error(missing_file,
                     "/nonexistent/sensorhub.json: cannot read: No such file or directory\n");

    char path[64], expected[256];
    write_temp_file(path, sizeof path, "{\"max_unacked\": 0}");
    const char *const bad_key[] = {"--config", path, NULL};
    snprintf(expected, sizeof expected, "%s: max_unacked: 0 is out of range 1..65536\n", path);
    expect_cli_error(bad_key, expected);
    unlink(path);

    write_temp_file(path, sizeof path, "{\"temp_min\": 30, \"temp_max\": 20}");
    const char *const bad_range[] = {"--config", path, NULL};
    snprintf(expected, sizeof expected, "%s: temp_min: 30 must be below temp_max (20)\n", path);
    expect_cli_error(bad_range, expected);
    unlink(path);
}

/* getopt keeps its position in globals: cli_parse must restart it. */
static void test_cli_runs_repeatedly(void)
{
    const char *const args[] = {"--db", "again.db", "--port", "7", NULL};
    for (int i = 0; i < 3; i++) {
        struct config cfg;
        struct cli_run run = run_cli(&cfg, args);
        ASSERT_INT_EQ(run.outcome, CLI_RUN);
        ASSERT_STR_EQ(cfg.db, "again.db");
        ASSERT_INT_EQ(cfg.listen[0].port, 7);
        free_run(&run, &cfg);
    }
}

/* Runs log_msg with stderr sent to a temporary file; returns what it wrote. */
static char *capture_log(void (*emit)(void))
{
    char path[] = "/tmp/sensorhub-test-log-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    emit();
    dup2(saved, STDERR_FILENO);
    close(saved);

    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc((size_t)size + 1, 1);
    if (text != NULL && pread(fd, text, (size_t)size, 0) != size) {
        free(text);
        text = NULL;
    }
    close(fd);
    return text;
}

static void emit_lines(void)
{
    log_set_level(LOG_INFO);
    log_msg(LOG_INFO, "client %d connected", 7);
    log_debug("not shown at level %s", "info");
    log_msg(LOG_DEBUG, "not shown either");
    log_warn("two\nlines\r");
    log_error("e");
}

static void emit_long_line(void)
{
    char long_text[5000];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    log_info("%s", long_text);
}

/* Checks "YYYY-MM-DDTHH:MM:SS.mmmZ " at the start of a line. */
static void assert_timestamp(const char *line)
{
    static const char pattern[] = "dddd-dd-ddTdd:dd:dd.dddZ ";
    for (size_t i = 0; i < sizeof pattern - 1; i++) {
        bool ok = pattern[i] == 'd' ? (line[i] >= '0' && line[i] <= '9') : line[i] == pattern[i];
        if (!ok) {
            TEST_FAIL_("timestamp: unexpected '%c' at %zu in %.30s", line[i], i, line);
            return;
        }
    }
}

static void test_log_lines(void)
{
    char *text = capture_log(emit_lines);
    ASSERT(text != NULL);
    if (text == NULL)
        return;
    const char *line = text;
    static const char *const bodies[] = {"info  client 7 connected\n", "warn  two lines \n",
                                         "error e\n"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        assert_timestamp(line);
        size_t body_len = strlen(bodies[i]);
        ASSERT_MEM_EQ(line + 25, body_len, bodies[i], body_len);
        line += 25 + body_len;
    }
    ASSERT_STR_EQ(line, "");
    free(text);

    /* A message too long for one line is cut, still ending in a newline. */
    text = capture_log(emit_long_line);
    ASSERT(text != NULL);
    if (text != NULL) {
        ASSERT_INT_EQ(strlen(text), 2048);
        ASSERT_STR_EQ(text + 2048 - 6, "aa...\n");
        free(text);
    }
}

static void test_log_escape(void)
{
    char out[32];
    log_escape(out, sizeof out, "plain text", 10);
    ASSERT_STR_EQ(out, "plain text");
    log_escape(out, sizeof out, "a\"b\\c", 5);
    ASSERT_STR_EQ(out, "a\\\"b\\\\c");
    log_escape(out, sizeof out, "tab\there\n", 9);
    ASSERT_STR_EQ(out, "tab\\x09here\\x0a");
    log_escape(out, sizeof out, "nul\0x", 5);
    ASSERT_STR_EQ(out, "nul\\x00x");
    log_escape(out, sizeof out, "caf\xc3\xa9", 5);
    ASSERT_STR_EQ(out, "caf\\xc3\\xa9");
    log_escape(out, sizeof out, "\x7f~", 2);
    ASSERT_STR_EQ(out, "\\x7f~");
    log_escape(out, sizeof out, "", 0);
    ASSERT_STR_EQ(out, "");

    /* Exactly full: 31 characters fit in 32 bytes without a cut. */
    log_escape(out, sizeof out, "0123456789012345678901234567890", 31);
    ASSERT_STR_EQ(out, "0123456789012345678901234567890");
    /* One more and the text is cut, the "..." within the 31. */
    log_escape(out, sizeof out, "01234567890123456789012345678901", 32);
    ASSERT_STR_EQ(out, "0123456789012345678901234567...");
    /* An escape is never split by the cut. */
    char small[8];
    log_escape(small, sizeof small, "ab\x01zzzzz", 8);
    ASSERT_STR_EQ(small, "ab...");
    log_escape(small, sizeof small, "abcd\x01", 5);
    ASSERT_STR_EQ(small, "abcd...");
    char tiny[4];
    log_escape(tiny, sizeof tiny, "abcdef", 6);
    ASSERT_STR_EQ(tiny, "...");
    log_escape(tiny, sizeof tiny, "abc", 3);
    ASSERT_STR_EQ(tiny, "abc");
}

static void test_log_levels(void)
{
    enum log_level level;
    ASSERT_INT_EQ(log_level_parse("error", &level), 0);
    ASSERT_INT_EQ(level, LOG_ERROR);
    ASSERT_INT_EQ(log_level_parse("warn", &level), 0);
    ASSERT_INT_EQ(level, LOG_WARN);
    ASSERT_INT_EQ(log_level_parse("info", &level), 0);
    ASSERT_INT_EQ(level, LOG_INFO);
    ASSERT_INT_EQ(log_level_parse("debug", &level), 0);
    ASSERT_INT_EQ(level, LOG_DEBUG);
    ASSERT_INT_EQ(log_level_parse("Info", &level), -1);
    ASSERT_INT_EQ(log_level_parse("warning", &level), -1);
    ASSERT_INT_EQ(log_level_parse("", &level), -1);
    ASSERT_STR_EQ(log_level_name(LOG_WARN), "warn");
    ASSERT_STR_EQ(log_level_name(LOG_DEBUG), "debug");

    log_set_level(LOG_WARN);
    ASSERT(log_enabled(LOG_ERROR));
    ASSERT(log_enabled(LOG_WARN));
    ASSERT(!log_enabled(LOG_INFO));
    ASSERT(!log_enabled(LOG_DEBUG));
    log_set_level(LOG_INFO);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_every_key);
    RUN(test_integer_keys);
    RUN(test_other_key_errors);
    RUN(test_unknown_keys);
    RUN(test_duplicate_keys);
    RUN(test_comments);
    RUN(test_syntax_errors);
    RUN(test_listen_forms);
    RUN(test_sensors_map);
    RUN(test_sensors_map_refuses_ill_formed_utf8);
    RUN(test_check);
    RUN(test_example_file_holds_the_defaults);
    RUN(test_load_file_errors);
    RUN(test_cli_no_flags);
    RUN(test_cli_help_and_version);
    RUN(test_cli_flags_override_file);
    RUN(test_cli_errors);
    RUN(test_cli_runs_repeatedly);
    RUN(test_log_lines);
    RUN(test_log_escape);
    RUN(test_log_levels);
    return test_summary();
}
