#ifndef SENSORHUB_STORE_H
#define SENSORHUB_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "db.h"
#include "reading.h"

/* The store: a thread that owns the database and commits readings in groups,
 * so the event-loop thread never waits on the disk. The loop submits items;
 * everything submitted while a commit runs goes into the next transaction.
 * When a transaction ends, the items come back to the loop thread through a
 * uv_async_t, in submission order, each saying what became of it: that is the
 * report of what was committed (acks now; later the live feed). */

struct store;

struct store_item {
    struct store_item *next; /* list link, owned by whoever holds the item */
    struct reading reading;  /* input; reading.extra is freed with the item */
    enum db_status status;   /* output */
    const char *error;       /* output when DB_FAILED: "storage full" or "storage error" */
    void *owner;             /* the submitter's context (the client) */
};

/* Called on the loop thread with the items of one or more finished
 * transactions (a list in submission order: everything finished since the
 * last call). The callee owns the items and frees each with
 * store_item_free(). */
typedef void (*store_done_cb)(struct store_item *items, void *data);

/* Starts the store thread on an opened database (the store owns it from now
 * on). Returns NULL with a message in err; the database is then still the
 * caller's. */
struct store *store_start(uv_loop_t *loop, struct db *db, store_done_cb done, void *data, char *err,
                          size_t errlen);

/* Loop thread: queues a list of count items, first to last linked through
 * next, for the next transaction (takes ownership). The items of one call
 * have one owner (never NULL): one call per client's read keeps the lock and
 * the wake-up off the per-frame path. */
void store_submit(struct store *store, struct store_item *first, struct store_item *last,
                  size_t count);

/* Loop thread: items submitted and not yet reported done. */
size_t store_pending(const struct store *store);

/* Counters since store_start, for the stats command and tests. */
struct store_stats {
    uint64_t transactions; /* committed transactions (group commits) */
    uint64_t stored;       /* items stored as new rows */
    uint64_t duplicates;   /* items that were already stored */
    uint64_t failed;       /* items refused: storage full or error */
    uint64_t busy_retries; /* commits retried because another writer held the lock */
    uint64_t held;         /* commits held back to gather until the wait's time was up */
};

/* Any thread: a consistent snapshot of the counters. */
void store_get_stats(struct store *store, struct store_stats *out);

/* Loop thread: the hub is stopping. What is queued is still committed, but
 * commits wait for a locked database only a few more seconds. */
void store_begin_stop(struct store *store);

/* Loop thread: commits what is queued, stops the thread, closes the async
 * handle. The last items are still reported through done. Call once, when no
 * more items will be submitted; free with store_free() after uv_run returns. */
void store_stop(struct store *store);

/* Frees the store and closes the database (after the loop has run out). */
void store_free(struct store *store);

struct store_item *store_item_new(void);
void store_item_free(struct store_item *item);

#endif
