#ifndef SENSOR_SIM_LATENCY_HISTOGRAM_H
#define SENSOR_SIM_LATENCY_HISTOGRAM_H

#include <stdint.h>

/* A latency histogram with bounded memory (32 KiB, no allocation) and about
 * 1% precision, in the manner of HdrHistogram: values are nanoseconds; below
 * 256 ns each value has its own bucket, above that every power of two is cut
 * into 128 equal buckets, so a bucket is at most 1/128 of the values in it
 * wide and a reported percentile is within 0.4% of the true one. Values above
 * LATENCY_HISTOGRAM_MAX_NS (100 s) are counted in the top bucket; the maximum
 * is kept exactly. */

#define LATENCY_HISTOGRAM_MAX_NS UINT64_C(100000000000)
#define LATENCY_HISTOGRAM_SUB_BITS 7
/* 256 exact buckets, then 128 buckets for each power of two from 2^8 to 2^36
 * (2^36 ns < 100 s < 2^37 ns). */
#define LATENCY_HISTOGRAM_BUCKETS (256 + (37 - 8) * 128)

struct latency_histogram {
    uint64_t counts[LATENCY_HISTOGRAM_BUCKETS]; /* values recorded per bucket */
    uint64_t total;                             /* values recorded */
    uint64_t max_ns;                            /* largest value recorded, exact */
};

/* Empties h. */
void latency_histogram_init(struct latency_histogram *h);

/* Counts one latency of ns nanoseconds. */
void latency_histogram_record(struct latency_histogram *h, uint64_t ns);

/* The value below or at which percent (0..100) of the recorded values lie, in
 * nanoseconds: the middle of the bucket holding that rank, never above the
 * exact maximum. 100 gives the exact maximum; an empty histogram gives 0. */
uint64_t latency_histogram_percentile(const struct latency_histogram *h, double percent);

#endif
