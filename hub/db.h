#ifndef SENSORHUB_DB_H
#define SENSORHUB_DB_H

#include <stddef.h>

#include "reading.h"

/* The SQLite side of the store: opening, checking and migrating the
 * database (SCHEMA.md), and committing a batch of readings in one
 * transaction. Blocking; only the store thread (and tests, benches) call it. */

struct db;

enum db_status {
    DB_STORED,    /* committed as a new row */
    DB_DUPLICATE, /* the sensor already has a reading with this sensor-supplied ts */
    DB_FAILED,    /* not stored: the batch was rolled back (see db_batch_result) */
};

/* One reading of a batch and, after db_commit_batch, what became of it. */
struct db_entry {
    const struct reading *reading; /* input, not modified */
    enum db_status status;         /* output */
};

/* What went wrong with a failed batch, for the error ack and the log. */
enum db_failure {
    DB_OK,
    DB_FULL,  /* no space: SQLITE_FULL (disk or max_page_count) or an I/O error
                 with ENOSPC or EDQUOT; ack "storage full" */
    DB_BUSY,  /* another writer held the lock past the busy timeout (1 s); retry */
    DB_ERROR, /* anything else; ack "storage error" */
};

/* Opens (creating when absent, mode 0640) the database at path, refuses a
 * file that is not a SQLite database, fails PRAGMA quick_check or has a newer
 * user_version than this binary knows, sets WAL mode, and applies the
 * migrations the file has not seen, each in one transaction. Returns NULL with
 * a message naming the file and what to do in err. Never deletes or rewrites
 * a user's file. */
struct db *db_open(const char *path, char *err, size_t errlen);

/* The schema version (PRAGMA user_version) after migration. */
int db_schema_version(const struct db *db);

/* Stores entries[0..count) in one transaction: per entry, a duplicate check
 * when reading->has_ts, the sensor's row created or its location and
 * last_seen_ms updated, the reading inserted. On success returns DB_OK and
 * every status is DB_STORED or DB_DUPLICATE. On failure the transaction is
 * rolled back, every status is DB_FAILED, and the failure kind is returned
 * with a message in err: the file, SQLite's message and, for an I/O error,
 * the system's reason ("/var/lib/sensorhub/sensorhub.db: database or disk is
 * full"). */
enum db_failure db_commit_batch(struct db *db, struct db_entry *entries, size_t count, char *err,
                                size_t errlen);

/* For tests and fault drills: caps the file at `pages` pages (PRAGMA
 * max_page_count; SQLite never sets it below the current size) so commits fail
 * with DB_FULL. Returns the cap now in force, or -1 on error. */
long db_set_max_page_count(struct db *db, long pages);

/* For tests and fault drills: how long a commit waits for another writer's
 * lock before failing with DB_BUSY (default 1000 ms). Returns 0 or -1. */
int db_set_busy_timeout(struct db *db, int ms);

/* Copies committed pages from the WAL into the database file when the WAL
 * has grown enough: a little when idle (nothing waits), more when the store
 * is busy (so a checkpoint never delays acks without need). */
void db_checkpoint(struct db *db, bool idle);

void db_close(struct db *db);

#endif
