#include "store.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gather.h"
#include "log.h"

/* Most items one transaction takes: a group commit stays short enough that
 * the items after it are not held back long, and the entry array stays
 * small. */
#define STORE_MAX_BATCH 4096

/* Pause between commit attempts while another writer holds the database lock.
 * Each attempt already waits up to the busy timeout inside SQLite, polling
 * the lock, so the pause is short: it only keeps a lock that fails at once
 * from spinning the thread, and a release is noticed soon. */
#define STORE_BUSY_PAUSE_MS 50

/* After the stop signal, how long commits keep waiting for another writer's
 * lock before the remaining readings are refused ("storage error"), so a
 * forgotten sqlite3 session cannot hold a stopping hub forever. */
#define STORE_STOP_BUSY_GRACE_US 5000000

struct store {
    struct db *db;                 /* owned; used by the store thread only while it runs */
    store_done_cb done;            /* reports finished items on the loop thread */
    void *data;                    /* passed to done */
    uv_async_t async;              /* wakes the loop thread when items are done */
    pthread_t thread;              /* the store thread */
    pthread_mutex_t lock;          /* guards the fields down to stats */
    pthread_cond_t wake;           /* signalled on submit and on stop */
    struct store_item *queue_head; /* submitted, not yet taken by the thread */
    struct store_item *queue_tail; /* last of them, for O(1) append */
    size_t queue_count;            /* items in the queue */
    bool waiter_queued;            /* one of them is from a client waiting for answers */
    size_t wake_at;                /* the thread sleeps until queue_count reaches this (or a
                                      waiter's item comes); 0: awake or signalled */
    struct gather gather;          /* who was answered when (hub/gather.h) */
    struct store_item *done_head;  /* finished, not yet reported to the loop */
    struct store_item *done_tail;  /* last of them */
    bool stopping;                 /* store_stop called: finish the queue and exit */
    struct store_stats stats;      /* counters, see store.h */
    struct db_entry *entries;      /* store thread: STORE_MAX_BATCH entries for db */
    /* Store thread: the trouble it is in, so each kind is logged once when
     * it starts and once when it ends, not once per batch. A lock and a
     * full disk are tracked apart: a lock taken while the disk is full is
     * its own short episode inside the long one. */
    enum db_failure failing;   /* DB_OK, or why the last commit refused its readings */
    uint64_t refused;          /* readings refused since failing was last DB_OK */
    bool busy;                 /* the last commit attempt met another writer's lock */
    uint64_t busy_attempts;    /* attempts that met it since busy was set */
    bool abandon_busy;         /* locked at shutdown, stop retrying */
    int64_t stop_requested_us; /* when store_begin_stop was called, or 0 */
    size_t pending;            /* loop thread: submitted, not yet reported */
    bool stopped;              /* loop thread: store_stop has run */
};

struct store_item *store_item_new(void)
{
    return calloc(1, sizeof(struct store_item));
}

void store_item_free(struct store_item *item)
{
    if (item == NULL)
        return;
    free(item->reading.extra);
    free(item);
}

/* Takes up to STORE_MAX_BATCH items off the queue, in order. Lock held. */
static struct store_item *take_batch(struct store *store, size_t *count)
{
    struct store_item *head = store->queue_head;
    struct store_item *last = head;
    size_t n = 1;
    while (last->next != NULL && n < STORE_MAX_BATCH) {
        last = last->next;
        n++;
    }
    store->queue_head = last->next;
    store->queue_count -= n;
    if (store->queue_head == NULL) {
        store->queue_tail = NULL;
        store->waiter_queued = false;
    }
    last->next = NULL;
    *count = n;
    return head;
}

static int64_t monotonic_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/* A deadline for pthread_cond_timedwait on the store's (monotonic) clock. */
static struct timespec monotonic_deadline(int64_t at_us)
{
    struct timespec deadline = {.tv_sec = (time_t)(at_us / 1000000),
                                .tv_nsec = (long)(at_us % 1000000) * 1000};
    return deadline;
}

/* Whether to give up on a locked database: the hub is stopping and has
 * waited STORE_STOP_BUSY_GRACE_US for the lock since the stop signal. */
static bool stop_grace_over(struct store *store)
{
    pthread_mutex_lock(&store->lock);
    bool over =
        store->stopping || (store->stop_requested_us != 0 &&
                            monotonic_us() - store->stop_requested_us >= STORE_STOP_BUSY_GRACE_US);
    pthread_mutex_unlock(&store->lock);
    return over;
}

/* Waits ms milliseconds, or less when store_stop wakes the thread. */
static void wait_or_stop(struct store *store, unsigned ms)
{
    struct timespec deadline = monotonic_deadline(monotonic_us() + (int64_t)ms * 1000);
    pthread_mutex_lock(&store->lock);
    int rc = 0;
    while (!store->stopping && rc == 0)
        rc = pthread_cond_timedwait(&store->wake, &store->lock, &deadline);
    pthread_mutex_unlock(&store->lock);
}

static const char *failure_name(enum db_failure failure)
{
    switch (failure) {
    case DB_FULL:
        return "storage full";
    case DB_BUSY:
        return "storage busy";
    default:
        return "storage error";
    }
}

/* The error ack of a refused reading. */
static const char *ack_error(enum db_failure failure)
{
    return failure == DB_FULL ? "storage full" : "storage error";
}

/* Logs the start of a run of refused batches once, with its first cause (and
 * again only if the cause changes kind). */
static void note_failure(struct store *store, enum db_failure failure, const char *err,
                         size_t count)
{
    if (store->failing != failure)
        log_error("%s: %s; refusing readings (\"%s\") until a commit succeeds",
                  failure_name(failure), err, ack_error(failure));
    if (store->failing == DB_OK)
        store->refused = 0;
    store->failing = failure;
    store->refused += count;
}

/* Logs the end of a run of refused batches. */
static void note_success(struct store *store)
{
    if (store->failing != DB_OK)
        log_info("storage works again: commits succeed (%" PRIu64 " readings were refused)",
                 store->refused);
    store->failing = DB_OK;
    store->refused = 0;
}

/* Logs that another writer holds the lock, once per episode. */
static void note_busy(struct store *store, const char *err)
{
    if (store->busy) {
        store->busy_attempts++;
        return;
    }
    log_warn("storage busy: %s; another process holds the database's write lock: readings "
             "wait (the hub stops reading at max_unacked) and the commit is retried",
             err);
    store->busy = true;
    store->busy_attempts = 1;
}

/* Logs the end of a lock episode: a commit got past the lock (whatever its
 * outcome). */
static void note_not_busy(struct store *store)
{
    if (store->busy)
        log_info("storage no longer busy: got the database lock after %" PRIu64 " failed attempts",
                 store->busy_attempts);
    store->busy = false;
}

/* Commits one batch. DB_BUSY is another process holding the write lock (a
 * user's sqlite3 session, a backup): the readings are fine, so the thread
 * waits and retries rather than refusing them, except at shutdown, where
 * waiting could hold the hub up forever. */
static enum db_failure commit_with_retry(struct store *store, size_t count, char *err,
                                         size_t errlen)
{
    for (;;) {
        if (store->abandon_busy) {
            for (size_t i = 0; i < count; i++)
                store->entries[i].status = DB_FAILED;
            snprintf(err, errlen, "the database stayed locked while stopping");
            return DB_BUSY;
        }
        enum db_failure failure = db_commit_batch(store->db, store->entries, count, err, errlen);
        if (failure != DB_BUSY) {
            note_not_busy(store);
            return failure;
        }
        if (stop_grace_over(store)) {
            store->abandon_busy = true;
            continue;
        }
        note_busy(store, err);
        pthread_mutex_lock(&store->lock);
        store->stats.busy_retries++;
        pthread_mutex_unlock(&store->lock);
        wait_or_stop(store, STORE_BUSY_PAUSE_MS);
    }
}

/* Stores a batch and moves it, with each item's outcome, to the done list,
 * noting when its owners were answered (hub/gather.h). */
static void process_batch(struct store *store, struct store_item *items, size_t count)
{
    size_t i = 0;
    for (struct store_item *item = items; item != NULL; item = item->next)
        store->entries[i++].reading = &item->reading;

    char err[256] = "";
    enum db_failure failure = commit_with_retry(store, count, err, sizeof(err));
    if (failure == DB_OK)
        note_success(store);
    else
        note_failure(store, failure, err, count);

    uint64_t stored = 0, duplicates = 0;
    i = 0;
    for (struct store_item *item = items; item != NULL; item = item->next) {
        item->status = store->entries[i++].status;
        item->error = NULL;
        if (item->status == DB_FAILED)
            item->error = ack_error(failure);
        else if (item->status == DB_DUPLICATE)
            duplicates++;
        else
            stored++;
    }

    int64_t answered_us = monotonic_us();
    pthread_mutex_lock(&store->lock);
    for (const struct store_item *item = items; item != NULL; item = item->next)
        gather_note_answered(&store->gather, item->owner, answered_us);
    if (store->done_tail != NULL)
        store->done_tail->next = items;
    else
        store->done_head = items;
    for (store->done_tail = items; store->done_tail->next != NULL;)
        store->done_tail = store->done_tail->next;
    if (failure == DB_OK)
        store->stats.transactions++;
    store->stats.stored += stored;
    store->stats.duplicates += duplicates;
    store->stats.failed += failure == DB_OK ? 0 : count;
    pthread_mutex_unlock(&store->lock);
    /* Sends coalesce; the callback always takes the whole done list. */
    uv_async_send(&store->async);
}

/* Sleeps (lock held) until there is a batch to commit: first while
 * hub/gather.h says to hold the next commit back (its time counts from
 * committed_us, when the previous commit and its checkpoint ended), then, if
 * nothing came, until anything does. */
static void wait_for_batch(struct store *store, int64_t committed_us)
{
    struct timespec deadline = monotonic_deadline(committed_us + GATHER_MAX_US);
    store->wake_at = GATHER_ENOUGH;
    while (!store->stopping &&
           gather_holds(store->queue_count, store->waiter_queued, committed_us, monotonic_us()))
        if (pthread_cond_timedwait(&store->wake, &store->lock, &deadline) != 0) {
            /* held to the end: readings came, but neither enough nor a waiter's */
            if (store->queue_count > 0 && !store->waiter_queued &&
                store->queue_count < GATHER_ENOUGH)
                store->stats.held++;
            break;
        }
    store->wake_at = 1;
    while (store->queue_head == NULL && !store->stopping)
        pthread_cond_wait(&store->wake, &store->lock);
    store->wake_at = 0;
}

/* The store thread: takes everything queued (up to STORE_MAX_BATCH) as one
 * transaction, so what arrives during a commit rides in the next one. */
static void *store_thread_main(void *arg)
{
    struct store *store = arg;
    pthread_mutex_lock(&store->lock);
    int64_t committed_us = monotonic_us();
    for (;;) {
        wait_for_batch(store, committed_us);
        if (store->queue_head == NULL)
            break;
        size_t count = 0;
        struct store_item *batch = take_batch(store, &count);
        pthread_mutex_unlock(&store->lock);
        process_batch(store, batch, count);
        pthread_mutex_lock(&store->lock);
        bool idle = store->queue_head == NULL;
        pthread_mutex_unlock(&store->lock);
        db_checkpoint(store->db, idle);
        committed_us = monotonic_us();
        pthread_mutex_lock(&store->lock);
    }
    pthread_mutex_unlock(&store->lock);
    return NULL;
}

/* Loop thread: hands the finished items to done, in submission order. */
static void deliver_done(struct store *store)
{
    pthread_mutex_lock(&store->lock);
    struct store_item *items = store->done_head;
    store->done_head = NULL;
    store->done_tail = NULL;
    pthread_mutex_unlock(&store->lock);
    if (items == NULL)
        return;
    for (struct store_item *item = items; item != NULL; item = item->next)
        store->pending--;
    store->done(items, store->data);
}

static void on_store_done(uv_async_t *handle)
{
    deliver_done(handle->data);
}

static void free_store_memory(struct store *store)
{
    pthread_cond_destroy(&store->wake);
    pthread_mutex_destroy(&store->lock);
    free(store->entries);
    free(store);
}

static void on_failed_start_closed(uv_handle_t *handle)
{
    free_store_memory(handle->data);
}

/* The thread starts with every signal blocked, so signals reach the loop
 * thread (libuv's signal handling) and never interrupt a commit. */
static int start_thread(struct store *store)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&store->thread, NULL, store_thread_main, store);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

struct store *store_start(uv_loop_t *loop, struct db *db, store_done_cb done, void *data, char *err,
                          size_t errlen)
{
    struct store *store = calloc(1, sizeof(*store));
    if (store == NULL) {
        snprintf(err, errlen, "store: out of memory");
        return NULL;
    }
    store->entries = calloc(STORE_MAX_BATCH, sizeof(*store->entries));
    pthread_condattr_t attr;
    bool sync_ok = store->entries != NULL && pthread_condattr_init(&attr) == 0;
    if (sync_ok) {
        sync_ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
                  pthread_cond_init(&store->wake, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (sync_ok && pthread_mutex_init(&store->lock, NULL) != 0) {
        pthread_cond_destroy(&store->wake);
        sync_ok = false;
    }
    if (!sync_ok) {
        snprintf(err, errlen, "store: out of memory");
        free(store->entries);
        free(store);
        return NULL;
    }
    gather_init(&store->gather);
    store->db = db;
    store->done = done;
    store->data = data;
    int rc = uv_async_init(loop, &store->async, on_store_done);
    if (rc != 0) {
        snprintf(err, errlen, "store: cannot create the wake-up handle: %s", uv_strerror(rc));
        free_store_memory(store);
        return NULL;
    }
    store->async.data = store;
    rc = start_thread(store);
    if (rc != 0) {
        snprintf(err, errlen, "store: cannot start the store thread: %s", strerror(rc));
        uv_close((uv_handle_t *)&store->async, on_failed_start_closed);
        return NULL;
    }
    return store;
}

void store_submit(struct store *store, struct store_item *first, struct store_item *last,
                  size_t count)
{
    last->next = NULL;
    store->pending += count;
    pthread_mutex_lock(&store->lock);
    store->queue_count += count;
    if (store->queue_tail != NULL)
        store->queue_tail->next = first;
    else
        store->queue_head = first;
    store->queue_tail = last;
    if (gather_owner_waits(&store->gather, first->owner, monotonic_us()))
        store->waiter_queued = true;
    /* Wake the thread only when it waits for what is now there: while it
     * gathers, a wake-up per reading would cost a context switch each. The
     * signal goes after the unlock, so the woken thread does not at once
     * block again on the lock this thread still holds. */
    bool wake =
        store->wake_at != 0 && (store->queue_count >= store->wake_at || store->waiter_queued);
    if (wake)
        store->wake_at = 0;
    pthread_mutex_unlock(&store->lock);
    if (wake)
        pthread_cond_signal(&store->wake);
}

size_t store_pending(const struct store *store)
{
    return store->pending;
}

void store_get_stats(struct store *store, struct store_stats *out)
{
    pthread_mutex_lock(&store->lock);
    *out = store->stats;
    pthread_mutex_unlock(&store->lock);
}

void store_begin_stop(struct store *store)
{
    pthread_mutex_lock(&store->lock);
    store->stop_requested_us = monotonic_us();
    pthread_mutex_unlock(&store->lock);
}

void store_stop(struct store *store)
{
    if (store->stopped)
        return;
    store->stopped = true;
    pthread_mutex_lock(&store->lock);
    store->stopping = true;
    pthread_cond_signal(&store->wake);
    pthread_mutex_unlock(&store->lock);
    pthread_join(store->thread, NULL);
    /* The thread's last uv_async_send may not have been seen yet: report
     * the rest now, before the handle closes. */
    deliver_done(store);
    uv_close((uv_handle_t *)&store->async, NULL);
}

void store_free(struct store *store)
{
    if (store == NULL)
        return;
    db_close(store->db);
    free_store_memory(store);
}
