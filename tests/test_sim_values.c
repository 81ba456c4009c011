#include "sim_values.h"
#include "test.h"

/* 2026-11-23T00:00:00Z in Unix milliseconds. */
#define DAY_START_MS INT64_C(1795392000000)
#define HOUR_MS INT64_C(3600000)
#define MINUTE_MS INT64_C(60000)

static const char *const default_rooms[] = {"living_room", "bedroom", "kitchen", "office"};

static void test_rng_streams_are_reproducible_and_distinct(void)
{
    struct sim_rng a, b, c;
    sim_rng_seed(&a, 1, 0);
    sim_rng_seed(&b, 1, 0);
    sim_rng_seed(&c, 1, 1);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_next(&a), y = sim_rng_next(&b), z = sim_rng_next(&c);
        same_ab += x == y;
        same_ac += x == z;
    }
    ASSERT_INT_EQ(same_ab, 1000);
    ASSERT_INT_EQ(same_ac, 0);
    /* Stream 1 of seed 1 is not stream 0 shifted by a step. */
    struct sim_rng d, e;
    sim_rng_seed(&d, 1, 0);
    sim_rng_seed(&e, 1, 1);
    sim_rng_next(&d);
    ASSERT(sim_rng_next(&d) != sim_rng_next(&e));
}

static void test_rng_uniform_in_unit_interval(void)
{
    struct sim_rng r;
    sim_rng_seed(&r, 42, 7);
    double sum = 0.0;
    int out_of_range = 0;
    for (int i = 0; i < 100000; i++) {
        double u = sim_rng_uniform(&r);
        out_of_range += u < 0.0 || u >= 1.0;
        sum += u;
    }
    ASSERT_INT_EQ(out_of_range, 0);
    ASSERT(fabs(sum / 100000 - 0.5) < 0.01);
}

static void test_same_seed_gives_same_values(void)
{
    struct sim_values a, b, c;
    sim_values_init(&a, "bedroom", 1, 3);
    sim_values_init(&b, "bedroom", 1, 3);
    sim_values_init(&c, "bedroom", 2, 3);
    int differ_ab = 0, differ_ac = 0;
    for (int64_t i = 0; i < 1000; i++) {
        int64_t ts = DAY_START_MS + i * 1000;
        struct sim_reading ra = sim_values_next(&a, ts), rb = sim_values_next(&b, ts),
                           rc = sim_values_next(&c, ts);
        differ_ab += ra.temp != rb.temp || ra.hum != rb.hum;
        differ_ac += ra.temp != rc.temp || ra.hum != rc.hum;
    }
    ASSERT_INT_EQ(differ_ab, 0);
    ASSERT(differ_ac > 900);
}

/* Same sensor, same starting state: 15:00 UTC is warmer than 03:00 UTC, for
 * every room and many seeds. */
static void test_afternoon_warmer_than_night(void)
{
    int colder = 0;
    for (uint64_t seed = 1; seed <= 50; seed++) {
        for (int r = 0; r < 4; r++) {
            struct sim_values night, afternoon;
            sim_values_init(&night, default_rooms[r], seed, (uint64_t)r);
            sim_values_init(&afternoon, default_rooms[r], seed, (uint64_t)r);
            double t_night = sim_values_next(&night, DAY_START_MS + 3 * HOUR_MS).temp;
            double t_afternoon = sim_values_next(&afternoon, DAY_START_MS + 15 * HOUR_MS).temp;
            colder += t_afternoon <= t_night + 1.0;
        }
    }
    ASSERT_INT_EQ(colder, 0);
}

/* Over a whole day at one reading a minute, with drift running, the afternoon
 * (13:00-17:00) averages warmer than the night (01:00-05:00). */
static void test_daily_cycle_over_a_day(void)
{
    struct sim_values v;
    sim_values_init(&v, "living_room", 1, 0);
    double night = 0.0, afternoon = 0.0;
    int n_night = 0, n_afternoon = 0;
    for (int64_t m = 0; m < 24 * 60; m++) {
        struct sim_reading r = sim_values_next(&v, DAY_START_MS + m * MINUTE_MS);
        int64_t hour = m / 60;
        if (hour >= 1 && hour < 5) {
            night += r.temp;
            n_night++;
        } else if (hour >= 13 && hour < 17) {
            afternoon += r.temp;
            n_afternoon++;
        }
    }
    ASSERT(afternoon / n_afternoon > night / n_night + 1.5);
}

/* Three days every 5 minutes for many rooms, outdoor ones included: values in
 * range and rounded to 2 decimals. */
static void test_values_in_range_and_rounded(void)
{
    static const char *const rooms[] = {"living_room", "bedroom", "kitchen", "office", "bathroom",
                                        "garden",      "outdoor", "garage",  "attic",  "lab-7"};
    int out_of_range = 0, not_rounded = 0;
    for (size_t r = 0; r < sizeof(rooms) / sizeof(rooms[0]); r++) {
        for (uint64_t seed = 1; seed <= 5; seed++) {
            struct sim_values v;
            sim_values_init(&v, rooms[r], seed, r);
            for (int64_t m = 0; m < 3 * 24 * 60; m += 5) {
                struct sim_reading x = sim_values_next(&v, DAY_START_MS + m * MINUTE_MS);
                out_of_range +=
                    x.hum < 0.0 || x.hum > 100.0 || x.temp < SIM_TEMP_MIN || x.temp > SIM_TEMP_MAX;
                not_rounded += fabs(x.temp * 100.0 - round(x.temp * 100.0)) > 1e-6 ||
                               fabs(x.hum * 100.0 - round(x.hum * 100.0)) > 1e-6;
            }
        }
    }
    ASSERT_INT_EQ(out_of_range, 0);
    ASSERT_INT_EQ(not_rounded, 0);
}

static double correlation(const double *x, const double *y, int n)
{
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    double sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

/* Relative humidity falls as the temperature rises. */
static void test_humidity_anticorrelated_with_temperature(void)
{
    enum { N = 2 * 24 * 60 / 5 };
    static double temps[N], hums[N];
    for (int r = 0; r < 4; r++) {
        struct sim_values v;
        sim_values_init(&v, default_rooms[r], 1, (uint64_t)r);
        for (int i = 0; i < N; i++) {
            struct sim_reading x = sim_values_next(&v, DAY_START_MS + i * 5 * MINUTE_MS);
            temps[i] = x.temp;
            hums[i] = x.hum;
        }
        double rho = correlation(temps, hums, N);
        if (!(rho < -0.5))
            fprintf(stderr, "%s: correlation %.3f\n", default_rooms[r], rho);
        ASSERT(rho < -0.5);
    }
}

/* Each room has its own climate: day means over 20 sensors per room (so the
 * per-sensor offsets average out) differ between the default rooms. */
static void test_rooms_differ(void)
{
    double mean[4];
    for (int r = 0; r < 4; r++) {
        double sum = 0.0;
        int n = 0;
        for (uint64_t s = 0; s < 20; s++) {
            struct sim_values v;
            sim_values_init(&v, default_rooms[r], 1, s * 4 + (uint64_t)r);
            for (int64_t m = 0; m < 24 * 60; m += 10) {
                sum += sim_values_next(&v, DAY_START_MS + m * MINUTE_MS).temp;
                n++;
            }
        }
        mean[r] = sum / n;
    }
    for (int a = 0; a < 4; a++) {
        for (int b = a + 1; b < 4; b++) {
            if (!(fabs(mean[a] - mean[b]) > 0.25))
                fprintf(stderr, "%s %.2f vs %s %.2f\n", default_rooms[a], mean[a], default_rooms[b],
                        mean[b]);
            ASSERT(fabs(mean[a] - mean[b]) > 0.25);
        }
    }
    /* The bedroom is the coolest of the four, the kitchen the warmest. */
    ASSERT(mean[1] < mean[0] && mean[1] < mean[2] && mean[1] < mean[3]);
    ASSERT(mean[2] > mean[0] && mean[2] > mean[3]);
}

static void test_frame_text_exact(void)
{
    char prefix[SIM_FRAME_MAX], frame[SIM_FRAME_MAX];
    size_t plen = sim_frame_prefix(prefix, sizeof(prefix), "sim-bedroom-2", "bedroom");
    const char *want_prefix = "{\"sensor\":\"sim-bedroom-2\",\"location\":\"bedroom\",";
    ASSERT_MEM_EQ(prefix, plen, want_prefix, strlen(want_prefix));
    struct sim_reading r = {21.37, 48.2};
    size_t len =
        sim_frame_format(frame, sizeof(frame), prefix, plen, r, INT64_C(1795430400123), 17);
    const char *want = "{\"sensor\":\"sim-bedroom-2\",\"location\":\"bedroom\",\"temp\":21.37,"
                       "\"hum\":48.20,\"ts\":1795430400123,\"seq\":17}\n";
    ASSERT_MEM_EQ(frame, len, want, strlen(want));
}

static void test_frame_numbers_signs_and_zeros(void)
{
    char prefix[SIM_FRAME_MAX], frame[SIM_FRAME_MAX];
    size_t plen = sim_frame_prefix(prefix, sizeof(prefix), "s", "l");
    struct {
        struct sim_reading r;
        const char *text;
    } cases[] = {
        {{-3.05, 0.0}, "\"temp\":-3.05,\"hum\":0.00,"},
        {{-0.5, 100.0}, "\"temp\":-0.50,\"hum\":100.00,"},
        {{0.0, 9.99}, "\"temp\":0.00,\"hum\":9.99,"},
        {{-40.0, 0.01}, "\"temp\":-40.00,\"hum\":0.01,"},
        {{60.0, 55.1}, "\"temp\":60.00,\"hum\":55.10,"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = sim_frame_format(frame, sizeof(frame), prefix, plen, cases[i].r, 0, 0);
        char want[SIM_FRAME_MAX];
        int n =
            snprintf(want, sizeof(want),
                     "{\"sensor\":\"s\",\"location\":\"l\",%s\"ts\":0,\"seq\":0}\n", cases[i].text);
        ASSERT_MEM_EQ(frame, len, want, (size_t)n);
    }
}

static void test_frame_too_small_buffer(void)
{
    char prefix[SIM_FRAME_MAX], frame[40];
    ASSERT_INT_EQ(sim_frame_prefix(prefix, 20, "sim-bedroom-2", "bedroom"), 0);
    size_t plen = sim_frame_prefix(prefix, sizeof(prefix), "sim-bedroom-2", "bedroom");
    struct sim_reading r = {21.0, 40.0};
    ASSERT_INT_EQ(sim_frame_format(frame, sizeof(frame), prefix, plen, r, 1, 1), 0);
}

int main(void)
{
    RUN(test_rng_streams_are_reproducible_and_distinct);
    RUN(test_rng_uniform_in_unit_interval);
    RUN(test_same_seed_gives_same_values);
    RUN(test_afternoon_warmer_than_night);
    RUN(test_daily_cycle_over_a_day);
    RUN(test_values_in_range_and_rounded);
    RUN(test_humidity_anticorrelated_with_temperature);
    RUN(test_rooms_differ);
    RUN(test_frame_text_exact);
    RUN(test_frame_numbers_signs_and_zeros);
    RUN(test_frame_too_small_buffer);
    return test_summary();
}
