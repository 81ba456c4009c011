#include "latency_histogram.h"
#include "test.h"

/* Within rel (relative) of want. */
static int close_to(double got, double want, double rel)
{
    return fabs(got - want) <= rel * want;
}

static void test_empty_reports_zero(void)
{
    struct latency_histogram h;
    latency_histogram_init(&h);
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 50.0), 0);
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 100.0), 0);
}

static void test_small_values_are_exact(void)
{
    struct latency_histogram h;
    latency_histogram_init(&h);
    latency_histogram_record(&h, 5);
    latency_histogram_record(&h, 7);
    latency_histogram_record(&h, 9);
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 0.0), 5);
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 50.0), 7);
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 99.0), 9);
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 100.0), 9);
}

/* Every magnitude from 1 us to 100 s, in 0.1% steps: the one value recorded
 * comes back within 0.4%, and the maximum exactly. */
static void test_one_value_within_half_percent_across_range(void)
{
    int bad = 0;
    for (double v = 1000.0; v <= 1e11; v *= 1.001) {
        struct latency_histogram h;
        latency_histogram_init(&h);
        uint64_t ns = (uint64_t)v;
        latency_histogram_record(&h, ns);
        double p50 = (double)latency_histogram_percentile(&h, 50.0);
        if (!close_to(p50, (double)ns, 0.004) || latency_histogram_percentile(&h, 100.0) != ns)
            bad++;
    }
    ASSERT_INT_EQ(bad, 0);
}

static void test_uniform_distribution_percentiles(void)
{
    static struct latency_histogram h;
    latency_histogram_init(&h);
    /* 1 ms .. 100 ms in 1 us steps, shuffled order does not matter. */
    for (uint64_t us = 1000; us <= 100000; us++)
        latency_histogram_record(&h, us * 1000);
    ASSERT(close_to((double)latency_histogram_percentile(&h, 50.0), 50.5e6, 0.01));
    ASSERT(close_to((double)latency_histogram_percentile(&h, 99.0), 99.01e6, 0.01));
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 100.0), UINT64_C(100000000));
}

/* A log-uniform spread over 1 us .. 100 s against percentiles computed by
 * sorting: p1 .. p99 all within 1%. */
static void test_log_uniform_distribution_percentiles(void)
{
    enum { N = 100001 };
    static uint64_t values[N];
    static struct latency_histogram h;
    latency_histogram_init(&h);
    /* Values in increasing order, so the sorted array is the array itself. */
    for (int i = 0; i < N; i++) {
        values[i] = (uint64_t)(1000.0 * pow(1e8, (double)i / (N - 1)));
        latency_histogram_record(&h, values[i]);
    }
    int bad = 0;
    for (int p = 1; p <= 99; p++) {
        uint64_t rank = (uint64_t)ceil(p / 100.0 * N);
        double want = (double)values[rank - 1];
        if (!close_to((double)latency_histogram_percentile(&h, p), want, 0.01)) {
            bad++;
            fprintf(stderr, "p%d: %llu, want %.0f\n", p,
                    (unsigned long long)latency_histogram_percentile(&h, p), want);
        }
    }
    ASSERT_INT_EQ(bad, 0);
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 100.0), values[N - 1]);
}

static void test_bimodal_p50_and_p99(void)
{
    struct latency_histogram h;
    latency_histogram_init(&h);
    for (int i = 0; i < 980; i++)
        latency_histogram_record(&h, 200000); /* 0.2 ms */
    for (int i = 0; i < 20; i++)
        latency_histogram_record(&h, 30000000); /* 30 ms */
    ASSERT(close_to((double)latency_histogram_percentile(&h, 50.0), 200000.0, 0.01));
    ASSERT(close_to((double)latency_histogram_percentile(&h, 98.0), 200000.0, 0.01));
    ASSERT(close_to((double)latency_histogram_percentile(&h, 99.0), 30000000.0, 0.01));
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 100.0), 30000000);
}

/* Beyond 100 s values share the top bucket, but the maximum stays exact and no
 * percentile exceeds it. */
static void test_values_above_range_keep_exact_max(void)
{
    struct latency_histogram h;
    latency_histogram_init(&h);
    latency_histogram_record(&h, UINT64_C(250000000000));
    latency_histogram_record(&h, UINT64_C(300000000000));
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 100.0), UINT64_C(300000000000));
    ASSERT(close_to((double)latency_histogram_percentile(&h, 50.0), 1e11, 0.01));
    latency_histogram_record(&h, UINT64_MAX);
    ASSERT(latency_histogram_percentile(&h, 100.0) == UINT64_MAX);
}

/* A percentile never reports more than the largest value recorded, even when
 * the bucket's middle lies above it. */
static void test_percentile_capped_at_max(void)
{
    struct latency_histogram h;
    latency_histogram_init(&h);
    latency_histogram_record(&h, 1000000); /* first value of its bucket */
    ASSERT_INT_EQ(latency_histogram_percentile(&h, 50.0), 1000000);
}

int main(void)
{
    RUN(test_empty_reports_zero);
    RUN(test_small_values_are_exact);
    RUN(test_one_value_within_half_percent_across_range);
    RUN(test_uniform_distribution_percentiles);
    RUN(test_log_uniform_distribution_percentiles);
    RUN(test_bimodal_p50_and_p99);
    RUN(test_values_above_range_keep_exact_max);
    RUN(test_percentile_capped_at_max);
    return test_summary();
}
