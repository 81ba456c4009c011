#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schema_migrations.h"

/* How long opening (the migrations) waits for another writer's lock (a
 * user's sqlite3 session, a backup tool, a second hub starting). */
#define DB_OPEN_BUSY_TIMEOUT_MS 5000

/* How long a commit waits for another writer's lock before failing with
 * DB_BUSY. The store then logs once that the database is locked and retries,
 * so this is how long a lock may hold readings back before the log says why. */
#define DB_COMMIT_BUSY_TIMEOUT_MS 1000

/* WAL checkpoints are taken out of the commit path (SQLite's automatic one
 * runs inside the COMMIT that crosses 1000 pages, delaying those acks): the
 * store checkpoints when it has nothing queued and the WAL holds this many
 * pages, and under unbroken load once it holds the larger number, which bounds
 * the WAL at about 40 MB with 4 KiB pages. */
#define DB_IDLE_CHECKPOINT_PAGES 1000
#define DB_BUSY_CHECKPOINT_PAGES 10000

/* What the batch knows about one sensor: its row id, so a batch does not
 * look the sensor up once per reading; its newest ts_ms, so a reading stamped
 * later (a sensor's normal case) needs no duplicate lookup; and what this
 * batch will write to its row once at the end. The hub is the only writer of
 * readings, so what it has seen of the table stays true until a rollback,
 * which empties the cache. */
struct sensor_entry {
    int64_t id;                        /* sensors.id */
    int64_t max_ts_ms;                 /* greatest ts_ms among its rows, INT64_MIN for none */
    uint64_t batch;                    /* the batch that last touched it */
    int64_t batch_last_seen_ms;        /* greatest recv_ms in that batch */
    const char *batch_location;        /* latest non-empty location in it, or NULL */
    struct sensor_entry *next_touched; /* list of the sensors the batch touched */
    char name[];                       /* sensors.name */
};

/* name -> sensor_entry, open addressing with linear probing. It holds one
 * entry per sensor the hub has stored since it opened (or since the last
 * rolled-back batch), so its size is bounded by the number of sensors. */
struct sensor_cache {
    struct sensor_entry **slots; /* capacity slots, NULL when empty */
    size_t capacity;             /* a power of two, or 0 before the first insert */
    size_t count;                /* entries in use, at most capacity / 2 */
};

struct db {
    sqlite3 *conn;                /* the one connection, used by the store thread only */
    char *path;                   /* the file, for messages */
    int schema_version;           /* user_version after migration */
    uint64_t batch;               /* number of the current or last batch */
    struct sensor_cache sensors;  /* see struct sensor_cache */
    sqlite3_stmt *begin;          /* BEGIN IMMEDIATE */
    sqlite3_stmt *commit;         /* COMMIT */
    sqlite3_stmt *rollback;       /* ROLLBACK */
    sqlite3_stmt *select_sensor;  /* sensor id by name */
    sqlite3_stmt *insert_sensor;  /* a new sensor's row */
    sqlite3_stmt *update_sensor;  /* last_seen_ms and location, once per batch */
    sqlite3_stmt *find_reading;   /* the duplicate lookup */
    sqlite3_stmt *newest_ts;      /* a known sensor's greatest ts_ms */
    sqlite3_stmt *insert_reading; /* a new reading's row */
    int wal_pages;                /* pages in the WAL after the last commit */
};

/* FNV-1a: short names, no adversary who can pick them to collide cheaply
 * enough to matter (a sensor name costs a stored row). */
static size_t hash_name(const char *name)
{
    uint64_t hash = 14695981039346656037u;
    for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
        hash ^= *p;
        hash *= 1099511628211u;
    }
    return (size_t)hash;
}

static struct sensor_entry *sensor_cache_find(const struct sensor_cache *cache, const char *name)
{
    if (cache->capacity == 0)
        return NULL;
    size_t mask = cache->capacity - 1;
    for (size_t i = hash_name(name) & mask; cache->slots[i] != NULL; i = (i + 1) & mask) {
        if (strcmp(cache->slots[i]->name, name) == 0)
            return cache->slots[i];
    }
    return NULL;
}

static void sensor_cache_place(struct sensor_entry **slots, size_t capacity,
                               struct sensor_entry *entry)
{
    size_t mask = capacity - 1;
    size_t i = hash_name(entry->name) & mask;
    while (slots[i] != NULL)
        i = (i + 1) & mask;
    slots[i] = entry;
}

/* Doubles the table when it would pass half full; returns -1 when out of memory. */
static int sensor_cache_reserve_one(struct sensor_cache *cache)
{
    if ((cache->count + 1) * 2 <= cache->capacity)
        return 0;
    size_t capacity = cache->capacity == 0 ? 64 : cache->capacity * 2;
    struct sensor_entry **slots = calloc(capacity, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t i = 0; i < cache->capacity; i++) {
        if (cache->slots[i] != NULL)
            sensor_cache_place(slots, capacity, cache->slots[i]);
    }
    free(cache->slots);
    cache->slots = slots;
    cache->capacity = capacity;
    return 0;
}

static struct sensor_entry *sensor_cache_add(struct sensor_cache *cache, const char *name,
                                             int64_t id)
{
    if (sensor_cache_reserve_one(cache) != 0)
        return NULL;
    size_t len = strlen(name);
    struct sensor_entry *entry = calloc(1, sizeof(*entry) + len + 1);
    if (entry == NULL)
        return NULL;
    entry->id = id;
    memcpy(entry->name, name, len + 1);
    sensor_cache_place(cache->slots, cache->capacity, entry);
    cache->count++;
    return entry;
}

/* Forgets every sensor: after a rollback the ids of sensors created in the
 * batch no longer exist, and the cache reloads from the table on demand. */
static void sensor_cache_clear(struct sensor_cache *cache)
{
    for (size_t i = 0; i < cache->capacity; i++)
        free(cache->slots[i]);
    free(cache->slots);
    cache->slots = NULL;
    cache->capacity = 0;
    cache->count = 0;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (errlen == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
}

/* Creates a missing file with mode 0640 (before umask) so the readings are
 * not world-readable, whatever mode SQLite would pick. An existing file is
 * left alone. */
static int create_if_missing(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    set_err(err, errlen, "%s: cannot create the database: %s", path, strerror(errno));
    return -1;
}

/* Runs one statement that returns a single text value (a PRAGMA) into out. */
static int query_text(sqlite3 *conn, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        snprintf(out, outlen, "%s", text != NULL ? (const char *)text : "");
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        snprintf(out, outlen, "%s", "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

static int query_int(sqlite3 *conn, const char *sql, int *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int(stmt, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* The first time SQLite reads the file: tells a file that is not a database
 * or is damaged from one that is merely unreadable, in words that say what to
 * do. */
static int check_file(sqlite3 *conn, const char *path, char *err, size_t errlen)
{
    char result[256];
    int rc = query_text(conn, "PRAGMA quick_check", result, sizeof(result));
    if (rc == SQLITE_NOTADB) {
        set_err(err, errlen, "%s: is not a SQLite database; move it away or choose another --db",
                path);
        return -1;
    }
    if (rc == SQLITE_CORRUPT) {
        set_err(err, errlen,
                "%s: fails PRAGMA quick_check (%s): the file is damaged; restore a backup or "
                "move it away",
                path, sqlite3_errmsg(conn));
        return -1;
    }
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "%s: cannot read the database: %s", path, sqlite3_errmsg(conn));
        return -1;
    }
    if (strcmp(result, "ok") != 0) {
        /* The first problem, on one line: the report starts with a header
         * line naming the schema, and a log line must stay one line. */
        static const char header[] = "*** in database main ***\n";
        const char *first = result;
        if (strncmp(first, header, sizeof(header) - 1) == 0)
            first += sizeof(header) - 1;
        for (char *c = result; *c != '\0'; c++) {
            if (*c == '\n' || *c == '\r')
                *c = ' ';
        }
        set_err(err, errlen,
                "%s: fails PRAGMA quick_check (%s): the file is damaged; restore a backup or "
                "move it away",
                path, first);
        return -1;
    }
    return 0;
}

/* WAL lets readers (dashboards, the sqlite3 CLI) run while the hub writes.
 * synchronous=FULL makes every COMMIT fsync the WAL: "ack means stored" must
 * hold across a power cut, and NORMAL in WAL mode may lose the last commits
 * then. Group commit keeps the fsyncs few. */
static int configure(sqlite3 *conn, const char *path, char *err, size_t errlen)
{
    char mode[32];
    int rc = query_text(conn, "PRAGMA journal_mode=WAL", mode, sizeof(mode));
    if (rc != SQLITE_OK || strcmp(mode, "wal") != 0) {
        set_err(err, errlen,
                "%s: cannot switch to WAL journal mode (%s); put the database on a local "
                "file system",
                path, rc != SQLITE_OK ? sqlite3_errmsg(conn) : mode);
        return -1;
    }
    char *message = NULL;
    rc =
        sqlite3_exec(conn, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON", NULL, NULL, &message);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(conn, DB_OPEN_BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "%s: cannot configure the connection: %s", path,
                message != NULL ? message : sqlite3_errmsg(conn));
        sqlite3_free(message);
        return -1;
    }
    return 0;
}

/* Applies migration `index` (user_version index -> index + 1) in one
 * transaction. The version is read again under the write lock, so a second
 * hub starting on the same file at the same moment does not apply it twice. */
static int apply_migration(sqlite3 *conn, const char *path, int index, char *err, size_t errlen)
{
    const struct schema_migration *migration = &schema_migrations[index];
    char *message = NULL;
    int rc = sqlite3_exec(conn, "BEGIN IMMEDIATE", NULL, NULL, &message);
    int version = 0;
    if (rc == SQLITE_OK)
        rc = query_int(conn, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK && version == index) {
        rc = sqlite3_exec(conn, migration->sql, NULL, NULL, &message);
        if (rc == SQLITE_OK) {
            char sql[64];
            snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", index + 1);
            rc = sqlite3_exec(conn, sql, NULL, NULL, &message);
        }
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(conn, "COMMIT", NULL, NULL, &message);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "%s: schema migration %s failed: %s", path, migration->name,
                message != NULL ? message : sqlite3_errmsg(conn));
        sqlite3_free(message);
        if (!sqlite3_get_autocommit(conn))
            sqlite3_exec(conn, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* Refuses a file from a newer sensorhub before anything is written to it
 * (switching to WAL already rewrites the header). */
static int check_version(sqlite3 *conn, const char *path, char *err, size_t errlen)
{
    int version = 0;
    if (query_int(conn, "PRAGMA user_version", &version) != SQLITE_OK) {
        set_err(err, errlen, "%s: cannot read the schema version: %s", path, sqlite3_errmsg(conn));
        return -1;
    }
    if (version > schema_migration_count || version < 0) {
        set_err(err, errlen,
                "%s: schema version %d is newer than this sensorhub knows (%d); upgrade "
                "sensorhub",
                path, version, schema_migration_count);
        return -1;
    }
    return 0;
}

static int migrate(struct db *db, const char *path, char *err, size_t errlen)
{
    int version = 0;
    if (query_int(db->conn, "PRAGMA user_version", &version) != SQLITE_OK) {
        set_err(err, errlen, "%s: cannot read the schema version: %s", path,
                sqlite3_errmsg(db->conn));
        return -1;
    }
    for (int i = version; i < schema_migration_count; i++) {
        if (apply_migration(db->conn, path, i, err, errlen) != 0)
            return -1;
    }
    db->schema_version = schema_migration_count;
    return 0;
}

static int prepare_statements(struct db *db, const char *path, char *err, size_t errlen)
{
    const struct {
        sqlite3_stmt **stmt;
        const char *sql;
    } statements[] = {
        {&db->begin, "BEGIN IMMEDIATE"},
        {&db->commit, "COMMIT"},
        {&db->rollback, "ROLLBACK"},
        {&db->select_sensor, "SELECT id FROM sensors WHERE name = ?1"},
        {&db->insert_sensor, "INSERT INTO sensors(name, location, first_seen_ms, last_seen_ms) "
                             "VALUES (?1, ?2, ?3, ?3)"},
        {&db->update_sensor, "UPDATE sensors SET last_seen_ms = ?2, "
                             "location = coalesce(?3, location) WHERE id = ?1"},
        {&db->find_reading, "SELECT 1 FROM readings WHERE sensor_id = ?1 AND ts_ms = ?2 LIMIT 1"},
        {&db->newest_ts, "SELECT max(ts_ms) FROM readings WHERE sensor_id = ?1"},
        {&db->insert_reading,
         "INSERT INTO readings(sensor_id, ts_ms, recv_ms, temp_c, hum_pct, seq, extra) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    };
    for (size_t i = 0; i < sizeof(statements) / sizeof(statements[0]); i++) {
        if (sqlite3_prepare_v3(db->conn, statements[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
                               statements[i].stmt, NULL) != SQLITE_OK) {
            set_err(err, errlen, "%s: cannot prepare \"%s\": %s", path, statements[i].sql,
                    sqlite3_errmsg(db->conn));
            return -1;
        }
    }
    return 0;
}

/* SQLite's wal hook: runs after each commit with the WAL's size. Setting it
 * also turns off the automatic checkpoint (db_checkpoint does that job). */
static int on_wal_commit(void *arg, sqlite3 *conn, const char *schema, int pages)
{
    (void)conn;
    (void)schema;
    ((struct db *)arg)->wal_pages = pages;
    return SQLITE_OK;
}

struct db *db_open(const char *path, char *err, size_t errlen)
{
    /* SQLite's allocation statistics take a global mutex on every malloc and
     * free; the hub never reads them. This must precede the library's
     * initialisation, so a later call (a second db_open) fails harmlessly. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (create_if_missing(path, err, errlen) != 0)
        return NULL;
    struct db *db = calloc(1, sizeof(*db));
    if (db != NULL)
        db->path = strdup(path);
    if (db == NULL || db->path == NULL) {
        set_err(err, errlen, "%s: out of memory", path);
        free(db);
        return NULL;
    }
    int rc = sqlite3_open_v2(
        path, &db->conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "%s: cannot open the database: %s", path,
                db->conn != NULL ? sqlite3_errmsg(db->conn) : sqlite3_errstr(rc));
        db_close(db);
        return NULL;
    }
    if (check_file(db->conn, path, err, errlen) != 0) {
        db_close(db);
        return NULL;
    }
    if (sqlite3_db_readonly(db->conn, "main") == 1) {
        set_err(err, errlen, "%s: is read-only for this user; the hub needs write access", path);
        db_close(db);
        return NULL;
    }
    if (check_version(db->conn, path, err, errlen) != 0 ||
        configure(db->conn, path, err, errlen) != 0 || migrate(db, path, err, errlen) != 0 ||
        prepare_statements(db, path, err, errlen) != 0) {
        db_close(db);
        return NULL;
    }
    /* Opened: from now on only commits wait for a lock (cannot fail on an
     * open connection). */
    sqlite3_busy_timeout(db->conn, DB_COMMIT_BUSY_TIMEOUT_MS);
    sqlite3_wal_hook(db->conn, on_wal_commit, db);
    return db;
}

void db_checkpoint(struct db *db, bool idle)
{
    if (db->wal_pages < (idle ? DB_IDLE_CHECKPOINT_PAGES : DB_BUSY_CHECKPOINT_PAGES))
        return;
    /* PASSIVE never waits for readers: what they still use stays in the WAL
     * for the next time. Errors are not the readings' business: the WAL just
     * grows until a checkpoint succeeds. */
    sqlite3_wal_checkpoint_v2(db->conn, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    db->wal_pages = 0;
}

int db_schema_version(const struct db *db)
{
    return db->schema_version;
}

long db_set_max_page_count(struct db *db, long pages)
{
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%ld", pages);
    sqlite3_stmt *stmt = NULL;
    long result = -1;
    if (sqlite3_prepare_v2(db->conn, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        result = (long)sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return result;
}

int db_set_busy_timeout(struct db *db, int ms)
{
    return sqlite3_busy_timeout(db->conn, ms) == SQLITE_OK ? 0 : -1;
}

/* Runs a statement that returns no rows (or whose rows do not matter). */
static int step_done(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* The sensor's entry, from the cache, the table, or a new row (first seen at
 * this reading's receive time). Sets *rc to the SQLite result on failure. */
static struct sensor_entry *find_or_create_sensor(struct db *db, const struct reading *reading,
                                                  int *rc)
{
    struct sensor_entry *entry = sensor_cache_find(&db->sensors, reading->sensor);
    if (entry != NULL)
        return entry;

    sqlite3_bind_text(db->select_sensor, 1, reading->sensor, -1, SQLITE_STATIC);
    int step = sqlite3_step(db->select_sensor);
    int64_t id = step == SQLITE_ROW ? sqlite3_column_int64(db->select_sensor, 0) : 0;
    sqlite3_reset(db->select_sensor);
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        *rc = step;
        return NULL;
    }
    int64_t max_ts_ms = INT64_MIN;
    if (step == SQLITE_ROW) {
        sqlite3_bind_int64(db->newest_ts, 1, id);
        int newest = sqlite3_step(db->newest_ts);
        if (newest == SQLITE_ROW && sqlite3_column_type(db->newest_ts, 0) != SQLITE_NULL)
            max_ts_ms = sqlite3_column_int64(db->newest_ts, 0);
        sqlite3_reset(db->newest_ts);
        if (newest != SQLITE_ROW) {
            *rc = newest;
            return NULL;
        }
    }
    if (step == SQLITE_DONE) {
        sqlite3_bind_text(db->insert_sensor, 1, reading->sensor, -1, SQLITE_STATIC);
        if (reading->location[0] != '\0')
            sqlite3_bind_text(db->insert_sensor, 2, reading->location, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(db->insert_sensor, 2);
        sqlite3_bind_int64(db->insert_sensor, 3, reading->recv_ms);
        *rc = step_done(db->insert_sensor);
        if (*rc != SQLITE_OK)
            return NULL;
        id = sqlite3_last_insert_rowid(db->conn);
    }
    entry = sensor_cache_add(&db->sensors, reading->sensor, id);
    if (entry == NULL)
        *rc = SQLITE_NOMEM;
    else
        entry->max_ts_ms = max_ts_ms;
    return entry;
}

/* Whether the sensor already has a reading at this ts_ms, stored earlier or
 * earlier in this batch (the transaction sees its own rows). */
static int reading_exists(struct db *db, int64_t sensor_id, int64_t ts_ms, bool *exists)
{
    sqlite3_bind_int64(db->find_reading, 1, sensor_id);
    sqlite3_bind_int64(db->find_reading, 2, ts_ms);
    int rc = sqlite3_step(db->find_reading);
    sqlite3_reset(db->find_reading);
    *exists = rc == SQLITE_ROW;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int insert_reading(struct db *db, int64_t sensor_id, const struct reading *reading)
{
    sqlite3_stmt *stmt = db->insert_reading;
    sqlite3_bind_int64(stmt, 1, sensor_id);
    sqlite3_bind_int64(stmt, 2, reading->ts_ms);
    sqlite3_bind_int64(stmt, 3, reading->recv_ms);
    if (reading->has_temp)
        sqlite3_bind_double(stmt, 4, reading->temp_c);
    else
        sqlite3_bind_null(stmt, 4);
    if (reading->has_hum)
        sqlite3_bind_double(stmt, 5, reading->hum_pct);
    else
        sqlite3_bind_null(stmt, 5);
    if (reading->has_seq)
        sqlite3_bind_int64(stmt, 6, reading->seq);
    else
        sqlite3_bind_null(stmt, 6);
    if (reading->extra != NULL)
        sqlite3_bind_text(stmt, 7, reading->extra, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, 7);
    return step_done(stmt);
}

/* Notes what this reading means for its sensor's row; the row is written once
 * per batch by update_touched_sensors. A duplicate still counts: the sensor
 * was seen, and its frame says where it is. */
static void touch_sensor(struct db *db, struct sensor_entry *entry, const struct reading *reading,
                         struct sensor_entry **touched)
{
    if (entry->batch != db->batch) {
        entry->batch = db->batch;
        entry->batch_last_seen_ms = reading->recv_ms;
        entry->batch_location = NULL;
        entry->next_touched = *touched;
        *touched = entry;
    } else if (reading->recv_ms > entry->batch_last_seen_ms) {
        entry->batch_last_seen_ms = reading->recv_ms;
    }
    if (reading->location[0] != '\0')
        entry->batch_location = reading->location;
}

static int update_touched_sensors(struct db *db, struct sensor_entry *touched)
{
    for (struct sensor_entry *entry = touched; entry != NULL; entry = entry->next_touched) {
        sqlite3_bind_int64(db->update_sensor, 1, entry->id);
        sqlite3_bind_int64(db->update_sensor, 2, entry->batch_last_seen_ms);
        if (entry->batch_location != NULL)
            sqlite3_bind_text(db->update_sensor, 3, entry->batch_location, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(db->update_sensor, 3);
        int rc = step_done(db->update_sensor);
        if (rc != SQLITE_OK)
            return rc;
    }
    return SQLITE_OK;
}

static int store_entries(struct db *db, struct db_entry *entries, size_t count)
{
    struct sensor_entry *touched = NULL;
    for (size_t i = 0; i < count; i++) {
        const struct reading *reading = entries[i].reading;
        int rc = SQLITE_OK;
        struct sensor_entry *sensor = find_or_create_sensor(db, reading, &rc);
        if (sensor == NULL)
            return rc;
        touch_sensor(db, sensor, reading, &touched);
        bool exists = false;
        if (reading->has_ts && reading->ts_ms <= sensor->max_ts_ms) {
            rc = reading_exists(db, sensor->id, reading->ts_ms, &exists);
            if (rc != SQLITE_OK)
                return rc;
        }
        if (exists) {
            entries[i].status = DB_DUPLICATE;
            continue;
        }
        rc = insert_reading(db, sensor->id, reading);
        if (rc != SQLITE_OK)
            return rc;
        if (reading->ts_ms > sensor->max_ts_ms)
            sensor->max_ts_ms = reading->ts_ms;
        entries[i].status = DB_STORED;
    }
    return update_touched_sensors(db, touched);
}

/* What a failed commit means for the readings. A full disk reaches SQLite as
 * SQLITE_FULL when write() fails with ENOSPC (so on a full tmpfs), but as an
 * I/O error when the kernel reports it elsewhere: ENOSPC at fsync (delayed
 * allocation, network file systems) or EDQUOT (a quota) at a write. Those
 * are "storage full" too: space must be freed. */
static enum db_failure failure_kind(int rc, int sys_errno)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return DB_FULL;
    case SQLITE_IOERR:
        return sys_errno == ENOSPC || sys_errno == EDQUOT ? DB_FULL : DB_ERROR;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return DB_BUSY;
    default:
        return DB_ERROR;
    }
}

/* The errno behind an I/O error. sqlite3_system_errno() stays 0 for errors
 * in the commit itself (writing and syncing the WAL), so this asks the file
 * that failed: the unix VFS keeps the errno of a file's last failed call. The
 * WAL first (commits write there), then the database file. 0 when unknown. */
static int io_errno(struct db *db)
{
    sqlite3_file *files[2] = {NULL, NULL};
    sqlite3_file_control(db->conn, "main", SQLITE_FCNTL_JOURNAL_POINTER, &files[0]);
    sqlite3_file_control(db->conn, "main", SQLITE_FCNTL_FILE_POINTER, &files[1]);
    for (size_t i = 0; i < 2; i++) {
        int last = 0;
        if (files[i] != NULL && files[i]->pMethods != NULL &&
            files[i]->pMethods->xFileControl(files[i], SQLITE_FCNTL_LAST_ERRNO, &last) ==
                SQLITE_OK &&
            last != 0)
            return last;
    }
    return sqlite3_system_errno(db->conn);
}

/* The file, SQLite's message and, for an I/O error, the system's reason. */
static void describe_failure(struct db *db, int rc, int sys_errno, char *err, size_t errlen)
{
    if (rc == SQLITE_NOMEM)
        set_err(err, errlen, "%s: out of memory", db->path);
    else if ((rc & 0xff) == SQLITE_IOERR && sys_errno != 0)
        set_err(err, errlen, "%s: %s (%s)", db->path, sqlite3_errmsg(db->conn),
                strerror(sys_errno));
    else
        set_err(err, errlen, "%s: %s", db->path, sqlite3_errmsg(db->conn));
}

enum db_failure db_commit_batch(struct db *db, struct db_entry *entries, size_t count, char *err,
                                size_t errlen)
{
    db->batch++;
    int rc = step_done(db->begin);
    if (rc == SQLITE_OK)
        rc = store_entries(db, entries, count);
    if (rc == SQLITE_OK)
        rc = step_done(db->commit);
    if (rc == SQLITE_OK)
        return DB_OK;

    /* Read before the rollback, which may fail and set it anew. */
    int sys_errno = (rc & 0xff) == SQLITE_IOERR ? io_errno(db) : 0;
    describe_failure(db, rc, sys_errno, err, errlen);
    /* SQLite may already have rolled back (it does for some SQLITE_FULL and
     * I/O errors); a failed COMMIT leaves the transaction open. */
    if (!sqlite3_get_autocommit(db->conn))
        step_done(db->rollback);
    sensor_cache_clear(&db->sensors);
    for (size_t i = 0; i < count; i++)
        entries[i].status = DB_FAILED;
    return failure_kind(rc, sys_errno);
}

void db_close(struct db *db)
{
    if (db == NULL)
        return;
    sqlite3_finalize(db->begin);
    sqlite3_finalize(db->commit);
    sqlite3_finalize(db->rollback);
    sqlite3_finalize(db->select_sensor);
    sqlite3_finalize(db->insert_sensor);
    sqlite3_finalize(db->update_sensor);
    sqlite3_finalize(db->find_reading);
    sqlite3_finalize(db->newest_ts);
    sqlite3_finalize(db->insert_reading);
    sqlite3_close(db->conn);
    sensor_cache_clear(&db->sensors);
    free(db->path);
    free(db);
}
