#include "sim_options.h"
#include "test.h"

/* Parses a NULL-terminated list of arguments (program name added). */
#define PARSE(opts, err, ...)                                                                      \
    parse_args((opts), (err), (const char *[]){"sensor-sim", __VA_ARGS__, NULL})

static enum sim_options_outcome parse_args(struct sim_options *opts, char *err, const char **args)
{
    char *argv[32];
    int argc = 0;
    while (args[argc] != NULL && argc < 31) {
        argv[argc] = (char *)args[argc];
        argc++;
    }
    argv[argc] = NULL;
    err[0] = '\0';
    return sim_options_parse(argc, argv, opts, err, 256);
}

static void expect_error(const char *want, const char **args)
{
    struct sim_options opts;
    char err[256];
    ASSERT_INT_EQ(parse_args(&opts, err, args), SIM_OPTIONS_ERROR);
    ASSERT_STR_EQ(err, want);
}

#define EXPECT_ERROR(want, ...)                                                                    \
    expect_error((want), (const char *[]){"sensor-sim", __VA_ARGS__, NULL})

static void test_defaults(void)
{
    struct sim_options opts;
    char err[256];
    char *argv[] = {"sensor-sim", NULL};
    ASSERT_INT_EQ(sim_options_parse(1, argv, &opts, err, sizeof(err)), SIM_OPTIONS_RUN);
    ASSERT_STR_EQ(opts.host, "127.0.0.1");
    ASSERT_INT_EQ(opts.port, 8080);
    ASSERT_INT_EQ(opts.sensors, 4);
    ASSERT_DBL_EQ(opts.rate, 1.0);
    ASSERT(!opts.count_mode);
    ASSERT_DBL_EQ(opts.duration_s, 10.0);
    ASSERT_INT_EQ(opts.window, 1);
    ASSERT_DBL_EQ(opts.drain_timeout_s, 5.0);
    ASSERT_INT_EQ(opts.location_count, 4);
    ASSERT_STR_EQ(opts.locations[0], "living_room");
    ASSERT_STR_EQ(opts.locations[1], "bedroom");
    ASSERT_STR_EQ(opts.locations[2], "kitchen");
    ASSERT_STR_EQ(opts.locations[3], "office");
    ASSERT_INT_EQ(opts.seed, 1);
    ASSERT(!opts.json);
    ASSERT(!opts.quiet);
}

static void test_every_flag(void)
{
    struct sim_options opts;
    char err[256];
    ASSERT_INT_EQ(PARSE(&opts, err, "--host", "hub.local", "--port", "9000", "--sensors", "100",
                        "--rate", "0.5", "--duration", "2.5", "--window", "32", "--locations",
                        "garage,attic", "--seed", "18446744073709551615", "--drain-timeout", "0",
                        "--json", "--quiet"),
                  SIM_OPTIONS_RUN);
    ASSERT_STR_EQ(err, "");
    ASSERT_STR_EQ(opts.host, "hub.local");
    ASSERT_INT_EQ(opts.port, 9000);
    ASSERT_INT_EQ(opts.sensors, 100);
    ASSERT_DBL_EQ(opts.rate, 0.5);
    ASSERT_DBL_EQ(opts.duration_s, 2.5);
    ASSERT(!opts.count_mode);
    ASSERT_INT_EQ(opts.window, 32);
    ASSERT_INT_EQ(opts.location_count, 2);
    ASSERT_STR_EQ(opts.locations[0], "garage");
    ASSERT_STR_EQ(opts.locations[1], "attic");
    ASSERT(opts.seed == UINT64_MAX);
    ASSERT_DBL_EQ(opts.drain_timeout_s, 0.0);
    ASSERT(opts.json);
    ASSERT(opts.quiet);
}

static void test_equals_form_and_count(void)
{
    struct sim_options opts;
    char err[256];
    ASSERT_INT_EQ(PARSE(&opts, err, "--count=500", "--rate=0", "--locations=lab"), SIM_OPTIONS_RUN);
    ASSERT(opts.count_mode);
    ASSERT_INT_EQ(opts.count, 500);
    ASSERT_DBL_EQ(opts.rate, 0.0);
    ASSERT_INT_EQ(opts.location_count, 1);
    ASSERT_STR_EQ(opts.locations[0], "lab");
}

static void test_help_and_version(void)
{
    struct sim_options opts;
    char err[256];
    ASSERT_INT_EQ(PARSE(&opts, err, "--help"), SIM_OPTIONS_HELP);
    ASSERT_INT_EQ(PARSE(&opts, err, "--version"), SIM_OPTIONS_VERSION);
    ASSERT_INT_EQ(PARSE(&opts, err, "--rate", "5", "--help"), SIM_OPTIONS_HELP);
}

/* The parser restarts getopt_long on every call. */
static void test_parses_twice(void)
{
    struct sim_options opts;
    char err[256];
    ASSERT_INT_EQ(PARSE(&opts, err, "--sensors", "7"), SIM_OPTIONS_RUN);
    ASSERT_INT_EQ(PARSE(&opts, err, "--sensors", "9"), SIM_OPTIONS_RUN);
    ASSERT_INT_EQ(opts.sensors, 9);
}

static void test_flag_errors(void)
{
    EXPECT_ERROR("unknown option \"--bogus\"", "--bogus");
    EXPECT_ERROR("unknown option \"--bogus\"", "--bogus=1");
    EXPECT_ERROR("unknown option \"-x\"", "-x");
    EXPECT_ERROR("--rate needs a value", "--rate");
    EXPECT_ERROR("--json takes no value", "--json=yes");
    EXPECT_ERROR("unexpected argument \"extra\"; every setting is a --flag", "extra");
    EXPECT_ERROR("--duration and --count cannot be used together; give one", "--duration", "5",
                 "--count", "10");
    EXPECT_ERROR("--duration and --count cannot be used together; give one", "--count", "10",
                 "--duration", "5");
}

static void test_number_errors(void)
{
    EXPECT_ERROR("--sensors: \"abc\" is not a whole number", "--sensors", "abc");
    EXPECT_ERROR("--sensors: \"-1\" is not a whole number", "--sensors", "-1");
    EXPECT_ERROR("--sensors: \"4x\" is not a whole number", "--sensors", "4x");
    EXPECT_ERROR("--sensors: \"0\" is out of range [1, 10000]", "--sensors", "0");
    EXPECT_ERROR("--sensors: \"10001\" is out of range [1, 10000]", "--sensors", "10001");
    EXPECT_ERROR("--port: \"65536\" is out of range [1, 65535]", "--port", "65536");
    EXPECT_ERROR("--port: \"\" is not a whole number", "--port", "");
    EXPECT_ERROR("--window: \"0\" is out of range [1, 4096]", "--window", "0");
    EXPECT_ERROR("--count: \"0\" is out of range [1, 1000000000000]", "--count", "0");
    EXPECT_ERROR("--seed: \"18446744073709551616\" is out of range [0, 18446744073709551615]",
                 "--seed", "18446744073709551616");
    EXPECT_ERROR("--rate: \"fast\" is not a number", "--rate", "fast");
    EXPECT_ERROR("--rate: \"inf\" is not a number", "--rate", "inf");
    EXPECT_ERROR("--rate: \" 5\" is not a number", "--rate", " 5");
    EXPECT_ERROR("--rate: \"-1\" is out of range [0, 1000000]", "--rate", "-1");
    EXPECT_ERROR("--duration: \"0\" is out of range (0, 10000000]", "--duration", "0");
    EXPECT_ERROR("--drain-timeout: \"3601\" is out of range [0, 3600]", "--drain-timeout", "3601");
}

static void test_text_errors(void)
{
    EXPECT_ERROR("--host: must not be empty", "--host", "");
    EXPECT_ERROR("--locations: empty name in \"a,,b\"", "--locations", "a,,b");
    EXPECT_ERROR("--locations: empty name in \"a,\"", "--locations", "a,");
    EXPECT_ERROR("--locations: \"living room\" may only use letters, digits, '.', '_', ':' and '-'",
                 "--locations", "kitchen,living room");
    EXPECT_ERROR("--locations: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is longer than 40 "
                 "characters",
                 "--locations", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    char many[SIM_MAX_LOCATIONS * 3 + 8] = "";
    for (int i = 0; i <= SIM_MAX_LOCATIONS; i++)
        strcat(many, i == 0 ? "r" : ",r");
    EXPECT_ERROR("--locations: more than 64 locations", "--locations", many);
}

static void test_in_flight_cap(void)
{
    EXPECT_ERROR("--sensors 10000 x --window 4096 is 40960000 frames in flight; keep it at most "
                 "1048576",
                 "--sensors", "10000", "--window", "4096");
    struct sim_options opts;
    char err[256];
    ASSERT_INT_EQ(PARSE(&opts, err, "--sensors", "256", "--window", "4096"), SIM_OPTIONS_RUN);
}

int main(void)
{
    RUN(test_defaults);
    RUN(test_every_flag);
    RUN(test_equals_form_and_count);
    RUN(test_help_and_version);
    RUN(test_parses_twice);
    RUN(test_flag_errors);
    RUN(test_number_errors);
    RUN(test_text_errors);
    RUN(test_in_flight_cap);
    return test_summary();
}
