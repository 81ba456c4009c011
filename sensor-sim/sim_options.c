#include "sim_options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum option_id {
    OPT_HOST = 1000,
    OPT_PORT,
    OPT_SENSORS,
    OPT_RATE,
    OPT_DURATION,
    OPT_COUNT,
    OPT_WINDOW,
    OPT_LOCATIONS,
    OPT_SEED,
    OPT_DRAIN_TIMEOUT,
    OPT_JSON,
    OPT_QUIET,
    OPT_HELP,
    OPT_VERSION,
};

static const struct option long_options[] = {
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"sensors", required_argument, NULL, OPT_SENSORS},
    {"rate", required_argument, NULL, OPT_RATE},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"count", required_argument, NULL, OPT_COUNT},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"locations", required_argument, NULL, OPT_LOCATIONS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static const char default_locations[] = "living_room,bedroom,kitchen,office";

void sim_options_usage(FILE *out)
{
    fputs("Usage: sensor-sim [FLAGS]\n"
          "Many fake temperature/humidity sensors, one TCP connection each, sending\n"
          "readings to a sensorhub and checking its acks.\n"
          "\n"
          "  --host HOST          hub's host or address (default 127.0.0.1)\n"
          "  --port N             hub's TCP port (default 8080)\n"
          "  --sensors N          fake sensors, one connection each (default 4, at most 10000)\n"
          "  --rate R             frames per second per sensor; 0 = as fast as the window\n"
          "                       allows (default 1)\n"
          "  --duration S         send for S seconds (default 10), or\n"
          "  --count N            send N frames per sensor and wait for all their acks\n"
          "  --window W           frames in flight (sent, not acked) per connection (default 1)\n"
          "  --locations A,B,...  rooms the sensors are spread over, round-robin\n"
          "                       (default living_room,bedroom,kitchen,office)\n"
          "  --seed N             seed of the values, for reproducible runs (default 1)\n"
          "  --drain-timeout S    after sending stops, wait up to S seconds for acks (default 5)\n"
          "  --json               print the summary as one JSON object on stdout\n"
          "  --quiet              no progress line\n"
          "  --help               this text\n"
          "  --version            the version\n"
          "\n"
          "Each frame's ts is the wall clock in ms, raised by 1 ms when a sensor sends\n"
          "faster than 1000 frames/s, so then it runs ahead of the clock (the hub refuses\n"
          "ts more than max_future_s ahead).\n"
          "\n"
          "Exit status: 0 when every frame sent got a positive ack, 1 otherwise, 2 for\n"
          "bad flags.\n",
          out);
}

__attribute__((format(printf, 3, 4))) static enum sim_options_outcome fail(char *err, size_t errlen,
                                                                           const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return SIM_OPTIONS_ERROR;
}

static const char *option_name(int id)
{
    for (const struct option *o = long_options; o->name != NULL; o++) {
        if (o->val == id)
            return o->name;
    }
    return "?";
}

/* A whole number in [lo, hi], digits only (strtoull alone would accept "-1",
 * spaces and a sign). Returns 0, or -1 with err filled. */
static int parse_uint(const char *flag, const char *text, uint64_t lo, uint64_t hi, uint64_t *out,
                      char *err, size_t errlen)
{
    if (text[0] < '0' || text[0] > '9') {
        fail(err, errlen, "--%s: \"%s\" is not a whole number", flag, text);
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (*end != '\0') {
        fail(err, errlen, "--%s: \"%s\" is not a whole number", flag, text);
        return -1;
    }
    if (errno == ERANGE || value < lo || value > hi) {
        fail(err, errlen, "--%s: \"%s\" is out of range [%llu, %llu]", flag, text,
             (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = value;
    return 0;
}

/* A finite decimal number in [lo, hi], or (lo, hi] when lo_open. */
static int parse_number(const char *flag, const char *text, double lo, bool lo_open, double hi,
                        double *out, char *err, size_t errlen)
{
    char *end;
    double value = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || !isfinite(value) ||
        strchr("0123456789.+-", text[0]) == NULL) {
        fail(err, errlen, "--%s: \"%s\" is not a number", flag, text);
        return -1;
    }
    if ((lo_open ? value <= lo : value < lo) || value > hi) {
        fail(err, errlen, "--%s: \"%s\" is out of range %c%.15g, %.15g]", flag, text,
             lo_open ? '(' : '[', lo, hi);
        return -1;
    }
    *out = value;
    return 0;
}

static bool location_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
}

/* Splits "a,b,c" into opts->locations. Names go into sensor names, so they
 * keep to the characters the hub allows there. */
static int parse_locations(const char *text, struct sim_options *opts, char *err, size_t errlen)
{
    unsigned count = 0;
    const char *p = text;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0) {
            fail(err, errlen, "--locations: empty name in \"%s\"", text);
            return -1;
        }
        if (count == SIM_MAX_LOCATIONS) {
            fail(err, errlen, "--locations: more than %d locations", SIM_MAX_LOCATIONS);
            return -1;
        }
        if (len > SIM_LOCATION_MAX) {
            fail(err, errlen, "--locations: \"%.*s\" is longer than %d characters", (int)len, p,
                 SIM_LOCATION_MAX);
            return -1;
        }
        for (size_t i = 0; i < len; i++) {
            if (!location_char_ok(p[i])) {
                fail(err, errlen,
                     "--locations: \"%.*s\" may only use letters, digits, '.', '_', ':' and '-'",
                     (int)len, p);
                return -1;
            }
        }
        memcpy(opts->locations[count], p, len);
        opts->locations[count][len] = '\0';
        count++;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    opts->location_count = count;
    return 0;
}

void sim_options_init(struct sim_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    strcpy(opts->host, "127.0.0.1");
    opts->port = 8080;
    opts->sensors = 4;
    opts->rate = 1.0;
    opts->count_mode = false;
    opts->duration_s = 10.0;
    opts->count = 0;
    opts->window = 1;
    opts->drain_timeout_s = 5.0;
    opts->seed = 1;
    char no_err[1];
    parse_locations(default_locations, opts, no_err, sizeof(no_err));
}

/* Applies one flag with a value; returns -1 with err filled when it is bad. */
static int apply_value(int id, const char *value, struct sim_options *opts, char *err,
                       size_t errlen)
{
    const char *flag = option_name(id);
    uint64_t n;
    switch (id) {
    case OPT_HOST:
        if (value[0] == '\0') {
            fail(err, errlen, "--host: must not be empty");
            return -1;
        }
        if (strlen(value) > SIM_HOST_MAX) {
            fail(err, errlen, "--host: longer than %d characters", SIM_HOST_MAX);
            return -1;
        }
        strcpy(opts->host, value);
        return 0;
    case OPT_PORT:
        if (parse_uint(flag, value, 1, 65535, &n, err, errlen) != 0)
            return -1;
        opts->port = (uint16_t)n;
        return 0;
    case OPT_SENSORS:
        if (parse_uint(flag, value, 1, SIM_MAX_SENSORS, &n, err, errlen) != 0)
            return -1;
        opts->sensors = (unsigned)n;
        return 0;
    case OPT_RATE:
        return parse_number(flag, value, 0.0, false, 1e6, &opts->rate, err, errlen);
    case OPT_DURATION:
        return parse_number(flag, value, 0.0, true, 1e7, &opts->duration_s, err, errlen);
    case OPT_COUNT:
        if (parse_uint(flag, value, 1, UINT64_C(1000000000000), &opts->count, err, errlen) != 0)
            return -1;
        return 0;
    case OPT_WINDOW:
        if (parse_uint(flag, value, 1, SIM_MAX_WINDOW, &n, err, errlen) != 0)
            return -1;
        opts->window = (unsigned)n;
        return 0;
    case OPT_LOCATIONS:
        return parse_locations(value, opts, err, errlen);
    case OPT_SEED:
        return parse_uint(flag, value, 0, UINT64_MAX, &opts->seed, err, errlen);
    case OPT_DRAIN_TIMEOUT:
        return parse_number(flag, value, 0.0, false, 3600.0, &opts->drain_timeout_s, err, errlen);
    default:
        fail(err, errlen, "--%s: not handled", flag);
        return -1;
    }
}

/* The message for an option getopt_long refused: a long option given a value
 * it does not take, or an unknown (or ambiguously abbreviated) one. */
static enum sim_options_outcome refuse_option(const char *arg, int short_opt, char *err,
                                              size_t errlen)
{
    /* getopt_long sets optopt to the letter of an unknown short option (argv
     * may still point at the same word), to the id of a long option given a
     * value it does not take, and to 0 for an unknown long option. */
    if (short_opt > 0 && short_opt < 128)
        return fail(err, errlen, "unknown option \"-%c\"", short_opt);
    if (strncmp(arg, "--", 2) == 0) {
        size_t name_len = strcspn(arg + 2, "=");
        for (const struct option *o = long_options; o->name != NULL; o++) {
            if (arg[2 + name_len] == '=' && o->has_arg == no_argument &&
                strlen(o->name) == name_len && strncmp(o->name, arg + 2, name_len) == 0)
                return fail(err, errlen, "--%s takes no value", o->name);
        }
        return fail(err, errlen, "unknown option \"--%.*s\"", (int)name_len, arg + 2);
    }
    return fail(err, errlen, "unknown option \"%s\"", arg);
}

enum sim_options_outcome sim_options_parse(int argc, char **argv, struct sim_options *opts,
                                           char *err, size_t errlen)
{
    sim_options_init(opts);
    bool duration_given = false;
    bool help = false, version = false;
    /* getopt_long keeps its cursor in globals: optind = 0 restarts it fully
     * (glibc), opterr = 0 leaves the messages to us. "+" stops at the first
     * operand instead of reordering argv, ":" reports a missing value. */
    optind = 0;
    opterr = 0;
    for (;;) {
        int id = getopt_long(argc, argv, "+:", long_options, NULL);
        if (id == -1)
            break;
        switch (id) {
        case ':':
            return fail(err, errlen, "--%s needs a value", option_name(optopt));
        case '?':
            return refuse_option(argv[optind - 1], optopt, err, errlen);
        case OPT_JSON:
            opts->json = true;
            break;
        case OPT_QUIET:
            opts->quiet = true;
            break;
        case OPT_HELP:
            help = true;
            break;
        case OPT_VERSION:
            version = true;
            break;
        default:
            if (apply_value(id, optarg, opts, err, errlen) != 0)
                return SIM_OPTIONS_ERROR;
            if (id == OPT_DURATION)
                duration_given = true;
            if (id == OPT_COUNT)
                opts->count_mode = true;
            break;
        }
    }
    if (optind < argc)
        return fail(err, errlen, "unexpected argument \"%s\"; every setting is a --flag",
                    argv[optind]);
    if (help)
        return SIM_OPTIONS_HELP;
    if (version)
        return SIM_OPTIONS_VERSION;
    if (duration_given && opts->count_mode)
        return fail(err, errlen, "--duration and --count cannot be used together; give one");
    if ((uint64_t)opts->sensors * opts->window > SIM_MAX_IN_FLIGHT)
        return fail(err, errlen,
                    "--sensors %u x --window %u is %llu frames in flight; keep it at most %u",
                    opts->sensors, opts->window, (unsigned long long)opts->sensors * opts->window,
                    SIM_MAX_IN_FLIGHT);
    return SIM_OPTIONS_RUN;
}
