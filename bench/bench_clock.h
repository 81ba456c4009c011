#ifndef SENSORHUB_BENCH_CLOCK_H
#define SENSORHUB_BENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Clocks for the bench programs: a monotonic one for timing runs, and the
 * wall clock in Unix ms for readings' timestamps. */

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
