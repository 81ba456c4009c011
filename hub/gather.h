#ifndef SENSORHUB_GATHER_H
#define SENSORHUB_GATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* When the store thread holds a commit back to gather more readings into it
 * (PostgreSQL's commit_delay, made adaptive). A thousand sensors reporting
 * once a second each would otherwise cost a transaction and an fsync per
 * reading. But a client that waits for each ack before it sends again (a
 * sensor replaying its backlog, a script, sensor-sim with a window of one)
 * must never be held back: gathering would slow it to one reading per wait.
 *
 * The rule: after a commit, the thread waits at most GATHER_MAX_US (counted
 * from the end of that commit) for more readings, and commits at once when
 * GATHER_ENOUGH are queued (enough to share one fsync) or when one of them
 * comes from a client that is waiting: a client whose previous reading was
 * answered (its commit ended) less than GATHER_ANSWERED_US before the hub
 * received this one. A sensor that reports every few seconds or minutes is
 * not waiting; when it is alone, the previous commit is long over and
 * nothing is held either. What can still be held, for at most GATHER_MAX_US:
 * a client's first reading; one that comes back more than 10 ms after its
 * answer (a long round trip); one whose owner fell out of the ring below.
 *
 * Pure: the clock is a parameter, owners (never NULL) are compared, never
 * read. */

#define GATHER_MAX_US 10000
#define GATHER_ANSWERED_US 10000
#define GATHER_ENOUGH 16
/* Owners remembered, one slot per run of one owner's readings in a commit:
 * the last GATHER_OWNERS answered. A waiting client that falls out (more
 * than this many others answered after it) is held only while fewer than
 * GATHER_ENOUGH readings wait. */
#define GATHER_OWNERS 64

struct gather {
    struct {
        const void *owner; /* NULL: unused slot */
        int64_t answered_us;
    } answered[GATHER_OWNERS]; /* the owners answered last, a ring */
    unsigned next;             /* slot to overwrite next */
};

void gather_init(struct gather *g);

/* Notes that a reading of owner was answered (its commit ended) at now_us. */
void gather_note_answered(struct gather *g, const void *owner, int64_t now_us);

/* Whether owner, submitting at now_us, is waiting for its answers: one of its
 * readings was answered less than GATHER_ANSWERED_US ago. */
bool gather_owner_waits(const struct gather *g, const void *owner, int64_t now_us);

/* Whether to keep holding the next commit back at now_us, with queued
 * readings waiting, waiter_queued true when one is from a waiting client,
 * and the previous commit ended at committed_us. */
bool gather_holds(size_t queued, bool waiter_queued, int64_t committed_us, int64_t now_us);

#endif
