#include "latency_histogram.h"

#include <math.h>
#include <string.h>

#define EXACT_LIMIT 256u
#define SUB_BUCKETS (1u << LATENCY_HISTOGRAM_SUB_BITS)

void latency_histogram_init(struct latency_histogram *h)
{
    memset(h, 0, sizeof(*h));
}

/* Bucket of a value: exact below 256; above, the power of two picks a group
 * of 128 buckets and the 7 bits after the leading one pick the bucket. */
static unsigned bucket_of(uint64_t ns)
{
    if (ns < EXACT_LIMIT)
        return (unsigned)ns;
    if (ns > LATENCY_HISTOGRAM_MAX_NS)
        ns = LATENCY_HISTOGRAM_MAX_NS;
    unsigned power = 63u - (unsigned)__builtin_clzll(ns);
    unsigned sub = (unsigned)(ns >> (power - LATENCY_HISTOGRAM_SUB_BITS)) & (SUB_BUCKETS - 1u);
    return EXACT_LIMIT + (power - 8u) * SUB_BUCKETS + sub;
}

/* The middle of a bucket, the value a percentile falling in it reports. */
static uint64_t bucket_middle(unsigned bucket)
{
    if (bucket < EXACT_LIMIT)
        return bucket;
    unsigned power = 8u + (bucket - EXACT_LIMIT) / SUB_BUCKETS;
    uint64_t sub = (bucket - EXACT_LIMIT) % SUB_BUCKETS;
    unsigned shift = power - LATENCY_HISTOGRAM_SUB_BITS;
    uint64_t low = (SUB_BUCKETS + sub) << shift;
    return low + ((UINT64_C(1) << shift) >> 1);
}

void latency_histogram_record(struct latency_histogram *h, uint64_t ns)
{
    h->counts[bucket_of(ns)]++;
    h->total++;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

uint64_t latency_histogram_percentile(const struct latency_histogram *h, double percent)
{
    if (h->total == 0)
        return 0;
    if (percent >= 100.0)
        return h->max_ns;
    if (percent < 0.0)
        percent = 0.0;
    /* The rank of the value asked for, counting from 1 (nearest-rank method). */
    uint64_t rank = (uint64_t)ceil(percent / 100.0 * (double)h->total);
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < LATENCY_HISTOGRAM_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen >= rank) {
            uint64_t middle = bucket_middle(b);
            return middle < h->max_ns ? middle : h->max_ns;
        }
    }
    return h->max_ns;
}
