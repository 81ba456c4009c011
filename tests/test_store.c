/* The store thread on a real libuv loop and a temporary database: every item
 * comes back exactly once, in submission order, with what became of it;
 * commits are grouped; a locked database delays items instead of failing
 * them; a full one fails them with "storage full"; a client waiting for its
 * answers is not held back to gather, a trickle of sensors is. */
#include <sqlite3.h>
#include <stdbool.h>
#include <unistd.h>
#include <uv.h>

#include "store.h"
#include "test.h"

#define ITEMS 10000
#define BURST 500

struct scratch {
    char dir[64];
    char path[96];
};

static void scratch_make(struct scratch *s)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/test_store.XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(s->path, sizeof(s->path), "%s/hub.db", s->dir);
}

static void scratch_remove(struct scratch *s)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    char path[128];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", s->path, suffixes[i]);
        unlink(path);
    }
    rmdir(s->dir);
}

static long long count_rows(const char *path, const char *sql)
{
    sqlite3 *conn = NULL;
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return value;
}

/* What one test run expects and has seen. */
struct run {
    uv_loop_t loop;
    struct store *store;
    uv_idle_t submitter;   /* submits the items in bursts */
    uv_timer_t stopper;    /* stops the store once everything came back */
    uv_timer_t watcher;    /* test_busy: releases the lock once the store retried */
    size_t total;          /* items to submit */
    size_t submitted;      /* items submitted so far */
    size_t received;       /* items reported done so far, in order */
    size_t done_calls;     /* calls of on_done */
    size_t extra_bytes;    /* size of each item's extra, 0 for small ones */
    bool expect_failure;   /* items come back DB_FAILED with "storage full" */
    sqlite3 *other_writer; /* test_busy: holds the write lock until released */
    bool released;         /* test_busy: the lock was released */
    bool stop_when_done;   /* on_done stops the store after the last item */
};

/* Item i: five sensors in turn; every tenth item repeats the ts of the item
 * five before it (same sensor), so it is a duplicate. */
static bool is_duplicate(size_t i)
{
    return i % 10 == 9;
}

static struct store_item *make_item(struct run *run, size_t i)
{
    struct store_item *item = store_item_new();
    if (item == NULL)
        exit(1);
    struct reading *r = &item->reading;
    snprintf(r->sensor, sizeof(r->sensor), "s%zu", i % 5);
    r->has_temp = true;
    r->temp_c = (double)i / 100.0;
    r->has_ts = true;
    size_t ts_index = is_duplicate(i) ? i - 5 : i;
    r->ts_ms = 1795430400000 + (int64_t)ts_index * 1000;
    r->recv_ms = 1795430400000 + (int64_t)i;
    r->has_seq = true;
    r->seq = (int64_t)i;
    if (run->extra_bytes > 0) {
        r->extra = malloc(run->extra_bytes + 1);
        memset(r->extra, 'x', run->extra_bytes);
        r->extra[run->extra_bytes] = '\0';
    } else if (i % 3 == 0) {
        r->extra = malloc(32);
        snprintf(r->extra, 32, "{\"n\":%zu}", i);
    }
    item->owner = run;
    return item;
}

/* Submits count items, alternating single items and lists of up to 7. */
static void submit(struct run *run, size_t count)
{
    size_t done = 0;
    while (done < count && run->submitted < run->total) {
        size_t n = 1 + (run->submitted % 2) * (run->submitted % 7);
        struct store_item *first = NULL, *last = NULL;
        size_t in_list = 0;
        for (; in_list < n && done < count && run->submitted < run->total; in_list++, done++) {
            struct store_item *item = make_item(run, run->submitted++);
            if (last)
                last->next = item;
            else
                first = item;
            last = item;
        }
        store_submit(run->store, first, last, in_list);
    }
}

static void on_stopper_closed(uv_handle_t *handle)
{
    (void)handle;
}

/* A stopper timer's data is the store it stops. */
static void on_stop_timer(uv_timer_t *timer)
{
    store_stop(timer->data);
    uv_close((uv_handle_t *)timer, on_stopper_closed);
}

static void on_done(struct store_item *items, void *data)
{
    struct run *run = data;
    run->done_calls++;
    while (items != NULL) {
        struct store_item *item = items;
        items = item->next;
        ASSERT(item->owner == run);
        ASSERT_INT_EQ(item->reading.seq, (long long)run->received);
        if (run->expect_failure) {
            ASSERT_INT_EQ(item->status, DB_FAILED);
            ASSERT_STR_EQ(item->error, "storage full");
        } else {
            ASSERT_INT_EQ(item->status, is_duplicate(run->received) ? DB_DUPLICATE : DB_STORED);
            ASSERT(item->error == NULL);
        }
        if (run->other_writer != NULL)
            ASSERT(run->released);
        run->received++;
        store_item_free(item);
    }
    ASSERT_INT_EQ(store_pending(run->store), run->submitted - run->received);
    if (run->stop_when_done && run->received == run->total)
        uv_timer_start(&run->stopper, on_stop_timer, 0, 0);
}

static void on_submitter_closed(uv_handle_t *handle)
{
    (void)handle;
}

/* One burst per loop iteration, so commits overlap with submissions. */
static void on_submit_idle(uv_idle_t *idle)
{
    struct run *run = idle->data;
    submit(run, BURST);
    if (run->submitted == run->total) {
        uv_idle_stop(idle);
        uv_close((uv_handle_t *)idle, on_submitter_closed);
    }
}

static struct store *start_store(struct run *run, struct db *db)
{
    char err[256] = "";
    run->store = store_start(&run->loop, db, on_done, run, err, sizeof(err));
    ASSERT(run->store != NULL);
    ASSERT_STR_EQ(err, "");
    return run->store;
}

static struct db *open_db(const struct scratch *s)
{
    char err[512] = "";
    struct db *db = db_open(s->path, err, sizeof(err));
    if (db == NULL) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return db;
}

static void run_init(struct run *run, size_t total)
{
    memset(run, 0, sizeof(*run));
    ASSERT_INT_EQ(uv_loop_init(&run->loop), 0);
    run->total = total;
}

/* Submits in bursts from an idle handle; stops the store when all is done. */
static void run_submit_in_bursts(struct run *run)
{
    run->stop_when_done = true;
    uv_idle_init(&run->loop, &run->submitter);
    run->submitter.data = run;
    uv_timer_init(&run->loop, &run->stopper);
    run->stopper.data = run->store;
    uv_idle_start(&run->submitter, on_submit_idle);
}

static void test_group_commit_in_order(void)
{
    struct scratch s;
    scratch_make(&s);
    struct run run;
    run_init(&run, ITEMS);
    start_store(&run, open_db(&s));
    run_submit_in_bursts(&run);

    ASSERT_INT_EQ(uv_run(&run.loop, UV_RUN_DEFAULT), 0);
    ASSERT_INT_EQ(run.received, ITEMS);
    ASSERT_INT_EQ(store_pending(run.store), 0);
    struct store_stats stats;
    store_get_stats(run.store, &stats);
    ASSERT_INT_EQ(stats.stored, ITEMS - ITEMS / 10);
    ASSERT_INT_EQ(stats.duplicates, ITEMS / 10);
    ASSERT_INT_EQ(stats.failed, 0);
    ASSERT_INT_EQ(stats.busy_retries, 0);
    /* Grouped: far fewer transactions than items (bursts of 500 arrive
     * while a commit with an fsync runs). */
    ASSERT(stats.transactions >= 3);
    ASSERT(stats.transactions < ITEMS / 10);
    ASSERT(run.done_calls <= stats.transactions);
    printf("     %zu items, %llu transactions, %zu done calls\n", run.received,
           (unsigned long long)stats.transactions, run.done_calls);
    ASSERT_INT_EQ(uv_loop_close(&run.loop), 0);
    store_free(run.store);

    ASSERT_INT_EQ(count_rows(s.path, "SELECT count(*) FROM readings"), ITEMS - ITEMS / 10);
    ASSERT_INT_EQ(count_rows(s.path, "SELECT count(*) FROM sensors"), 5);
    ASSERT_INT_EQ(count_rows(s.path, "SELECT count(*) FROM readings WHERE extra IS NOT NULL"),
                  count_rows(s.path, "SELECT count(*) FROM readings WHERE seq % 3 = 0"));
    scratch_remove(&s);
}

/* store_stop commits what is queued and reports it before returning, even
 * when the loop never ran. */
static void test_stop_reports_queued_items(void)
{
    struct scratch s;
    scratch_make(&s);
    struct run run;
    run_init(&run, 100);
    start_store(&run, open_db(&s));
    submit(&run, 100);
    ASSERT_INT_EQ(store_pending(run.store), 100);
    store_stop(run.store);
    ASSERT_INT_EQ(run.received, 100);
    ASSERT_INT_EQ(store_pending(run.store), 0);
    ASSERT_INT_EQ(uv_run(&run.loop, UV_RUN_DEFAULT), 0);
    ASSERT_INT_EQ(uv_loop_close(&run.loop), 0);
    store_free(run.store);
    ASSERT_INT_EQ(count_rows(s.path, "SELECT count(*) FROM readings"), 90);
    scratch_remove(&s);
}

static void on_watcher_closed(uv_handle_t *handle)
{
    (void)handle;
}

/* Releases the other writer's lock once the store has met it. */
static void on_watch_timer(uv_timer_t *timer)
{
    struct run *run = timer->data;
    struct store_stats stats;
    store_get_stats(run->store, &stats);
    if (stats.busy_retries < 2)
        return;
    ASSERT_INT_EQ(run->received, 0);
    ASSERT_INT_EQ(sqlite3_exec(run->other_writer, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    run->released = true;
    uv_timer_stop(timer);
    uv_close((uv_handle_t *)timer, on_watcher_closed);
}

static void test_busy_database_delays_items(void)
{
    struct scratch s;
    scratch_make(&s);
    struct run run;
    run_init(&run, 50);
    struct db *db = open_db(&s);
    ASSERT_INT_EQ(db_set_busy_timeout(db, 5), 0);
    ASSERT_INT_EQ(sqlite3_open_v2(s.path, &run.other_writer, SQLITE_OPEN_READWRITE, NULL),
                  SQLITE_OK);
    ASSERT_INT_EQ(sqlite3_exec(run.other_writer, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    start_store(&run, db);
    uv_timer_init(&run.loop, &run.watcher);
    run.watcher.data = &run;
    uv_timer_start(&run.watcher, on_watch_timer, 5, 5);
    run_submit_in_bursts(&run);

    ASSERT_INT_EQ(uv_run(&run.loop, UV_RUN_DEFAULT), 0);
    ASSERT(run.released);
    ASSERT_INT_EQ(run.received, 50);
    struct store_stats stats;
    store_get_stats(run.store, &stats);
    ASSERT(stats.busy_retries >= 2);
    ASSERT_INT_EQ(stats.failed, 0);
    ASSERT_INT_EQ(stats.stored, 45);
    ASSERT_INT_EQ(uv_loop_close(&run.loop), 0);
    store_free(run.store);
    sqlite3_close(run.other_writer);
    ASSERT_INT_EQ(count_rows(s.path, "SELECT count(*) FROM readings"), 45);
    scratch_remove(&s);
}

static void test_full_database_fails_items(void)
{
    struct scratch s;
    scratch_make(&s);
    struct run run;
    run_init(&run, 20);
    run.expect_failure = true;
    /* Larger than a page, so even a reading committed alone needs a page the
     * database may not grow (a 3000-byte one fitted in the table's first
     * page whenever the store happened to take it in a batch of its own). */
    run.extra_bytes = 5000;
    struct db *db = open_db(&s);
    ASSERT(db_set_max_page_count(db, 1) > 0);
    start_store(&run, db);
    run_submit_in_bursts(&run);

    ASSERT_INT_EQ(uv_run(&run.loop, UV_RUN_DEFAULT), 0);
    ASSERT_INT_EQ(run.received, 20);
    struct store_stats stats;
    store_get_stats(run.store, &stats);
    ASSERT_INT_EQ(stats.failed, 20);
    ASSERT_INT_EQ(stats.stored, 0);
    ASSERT_INT_EQ(stats.transactions, 0);
    ASSERT_INT_EQ(uv_loop_close(&run.loop), 0);
    store_free(run.store);
    ASSERT_INT_EQ(count_rows(s.path, "SELECT count(*) FROM readings"), 0);
    scratch_remove(&s);
}

/* A client that waits for each answer before it sends again, next to a
 * trickle of sensors (one new sensor's reading before each of its own): its
 * readings are never held back to gather (hub/gather.h), so hardly any commit
 * waits out the gathering time. */
#define PING_PONGS 200

struct mixed {
    uv_loop_t loop;
    struct store *store;
    uv_timer_t stopper;
    int pinger;              /* owner of the client that waits for its answers */
    int sensors[PING_PONGS]; /* owners of the trickle: one reading each */
    size_t answered;         /* the pinger's readings answered */
    size_t sent;             /* readings submitted, for distinct ts and seq */
};

static void mixed_submit(struct mixed *m, void *owner, const char *sensor)
{
    struct store_item *item = store_item_new();
    if (item == NULL)
        exit(1);
    snprintf(item->reading.sensor, sizeof(item->reading.sensor), "%s", sensor);
    item->reading.has_temp = true;
    item->reading.temp_c = 20.0;
    item->reading.has_ts = true;
    item->reading.ts_ms = 1795430400000 + (int64_t)m->sent * 1000;
    item->reading.recv_ms = 1795430400000;
    item->owner = owner;
    m->sent++;
    store_submit(m->store, item, item, 1);
}

static void mixed_send(struct mixed *m)
{
    char sensor[16];
    snprintf(sensor, sizeof(sensor), "trickle%zu", m->answered);
    mixed_submit(m, &m->sensors[m->answered], sensor);
    mixed_submit(m, &m->pinger, "pinger");
}

static void on_mixed_done(struct store_item *items, void *data)
{
    struct mixed *m = data;
    bool pinger_answered = false;
    while (items != NULL) {
        struct store_item *item = items;
        items = item->next;
        ASSERT_INT_EQ(item->status, DB_STORED);
        if (item->owner == &m->pinger) {
            m->answered++;
            pinger_answered = true;
        }
        store_item_free(item);
    }
    if (pinger_answered && m->answered < PING_PONGS)
        mixed_send(m);
    else if (pinger_answered)
        uv_timer_start(&m->stopper, on_stop_timer, 0, 0);
}

/* The other side: a trickle of sensors, each reading from a new sensor that
 * comes right after the previous commit, is held back to gather. */
#define TRICKLE 20

static void on_trickle_done(struct store_item *items, void *data)
{
    struct mixed *m = data;
    while (items != NULL) {
        struct store_item *item = items;
        items = item->next;
        ASSERT_INT_EQ(item->status, DB_STORED);
        m->answered++;
        store_item_free(item);
    }
    if (m->answered < TRICKLE) {
        char sensor[16];
        snprintf(sensor, sizeof(sensor), "trickle%zu", m->answered);
        mixed_submit(m, &m->sensors[m->answered], sensor);
    } else {
        uv_timer_start(&m->stopper, on_stop_timer, 0, 0);
    }
}

/* Runs one of the two tests above on a fresh database: start makes the first
 * submission, done drives the rest. Returns the store's counters. */
static struct store_stats run_mixed(store_done_cb done, void (*start)(struct mixed *))
{
    struct scratch s;
    scratch_make(&s);
    struct mixed m;
    memset(&m, 0, sizeof(m));
    ASSERT_INT_EQ(uv_loop_init(&m.loop), 0);
    char err[256] = "";
    m.store = store_start(&m.loop, open_db(&s), done, &m, err, sizeof(err));
    ASSERT(m.store != NULL);
    uv_timer_init(&m.loop, &m.stopper);
    m.stopper.data = m.store;
    start(&m);
    ASSERT_INT_EQ(uv_run(&m.loop, UV_RUN_DEFAULT), 0);
    struct store_stats stats;
    store_get_stats(m.store, &stats);
    printf("     %llu transactions, %llu held back to gather\n",
           (unsigned long long)stats.transactions, (unsigned long long)stats.held);
    ASSERT_INT_EQ(uv_loop_close(&m.loop), 0);
    store_free(m.store);
    scratch_remove(&s);
    return stats;
}

static void trickle_start(struct mixed *m)
{
    mixed_submit(m, &m->sensors[0], "trickle");
}

static void test_trickle_is_held_back(void)
{
    struct store_stats stats = run_mixed(on_trickle_done, trickle_start);
    ASSERT_INT_EQ(stats.stored, TRICKLE);
    /* Every reading after the first comes within microseconds of a commit's
     * end; a busy machine may delay a few past the gathering time. */
    ASSERT(stats.held * 2 >= TRICKLE);
}

static void test_waiting_client_is_not_held_back(void)
{
    struct store_stats stats = run_mixed(on_mixed_done, mixed_send);
    ASSERT_INT_EQ(stats.stored, 2 * PING_PONGS);
    /* Hardly ever: the pinger's first reading may be (it has had no answer
     * yet), and so may one whose submission a busy machine delayed past the
     * gathering time. Holding the pinger back held about a third. */
    ASSERT(stats.held * 10 <= stats.transactions);
}

int main(void)
{
    RUN(test_group_commit_in_order);
    RUN(test_stop_reports_queued_items);
    RUN(test_busy_database_delays_items);
    RUN(test_full_database_fails_items);
    RUN(test_waiting_client_is_not_held_back);
    RUN(test_trickle_is_held_back);
    return test_summary();
}
