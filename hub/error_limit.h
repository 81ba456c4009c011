#ifndef SENSORHUB_ERROR_LIMIT_H
#define SENSORHUB_ERROR_LIMIT_H

#include <stdint.h>

/* max_errors_per_minute (PROTOCOL.md "Limits"): whether a client's error
 * acks reached the limit within any 60 s. Exact, to the millisecond: the
 * times of the last `limit` errors are kept, and the limit is reached when
 * the oldest of them is less than 60 s old. The ring is allocated at a
 * client's first error (most clients never make one): 8 bytes per error of
 * the limit. Pure: the clock is a parameter. */

#define ERROR_LIMIT_WINDOW_MS 60000

struct error_limit {
    int64_t *at_ms;    /* times of the last errors, a ring of `limit` slots; NULL until the first */
    uint32_t limit;    /* errors within the window that reach the limit */
    uint32_t next;     /* slot the next error goes to */
    uint32_t recorded; /* errors in the ring, at most limit */
};

/* Starts empty for a limit of at least 1; allocates nothing. */
void error_limit_init(struct error_limit *el, uint32_t limit);

/* Records an error at now_ms (a monotonic clock, in ms, never going back).
 * Returns 1 when it and the limit - 1 errors before it all fall within less
 * than ERROR_LIMIT_WINDOW_MS, 0 when not, and -1 when the ring cannot be
 * allocated (the error is not counted). */
int error_limit_add(struct error_limit *el, int64_t now_ms);

/* Frees the ring. */
void error_limit_free(struct error_limit *el);

#endif
