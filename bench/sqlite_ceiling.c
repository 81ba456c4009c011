/* sqlite_ceiling: how many readings per second SQLite itself can store in the
 * hub's own database, so the hub's rate can be read against it.
 *
 *   sqlite_ceiling raw DB SECONDS   prepared INSERT into readings, 1000 per
 *                                   transaction, nothing else (the ceiling)
 *   sqlite_ceiling db DB SECONDS    the hub's db_commit_batch() in batches of
 *                                   1000: duplicate lookup, sensor cache and
 *                                   sensor row update included
 *
 * DB must not exist: it is created by db_open(), so the schema, indexes, WAL
 * mode and synchronous=FULL are exactly the hub's. Prints one JSON object. */

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "bench_clock.h"

/* Rows per transaction, as the issue asks (the hub's group commits are of
 * whatever arrived during the previous commit). */
#define BATCH_ROWS 1000
/* Sensors the rows are spread over, as with 100 simulated connections. */
#define SENSOR_COUNT 100

/* Values that look like a room's: a fixed pattern, no randomness needed. */
static double temp_of(uint64_t n)
{
    return 18.0 + (double)(n % 700) / 100.0;
}

static double hum_of(uint64_t n)
{
    return 40.0 + (double)(n % 2000) / 100.0;
}

static int exec_or_report(sqlite3 *conn, const char *sql)
{
    char *message = NULL;
    if (sqlite3_exec(conn, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ceiling: %s: %s\n", sql, message != NULL ? message : "?");
        sqlite3_free(message);
        return -1;
    }
    return 0;
}

/* Creates the sensors' rows and prepares the INSERT the hub itself uses. */
static int prepare_raw(sqlite3 *conn, sqlite3_stmt **insert)
{
    if (exec_or_report(conn, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON") != 0 ||
        exec_or_report(conn, "BEGIN IMMEDIATE") != 0)
        return -1;
    for (int i = 1; i <= SENSOR_COUNT; i++) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO sensors(id, name, location, first_seen_ms, last_seen_ms) "
                 "VALUES (%d, 'bench-%d', 'living_room', 0, 0)",
                 i, i);
        if (exec_or_report(conn, sql) != 0)
            return -1;
    }
    if (exec_or_report(conn, "COMMIT") != 0)
        return -1;
    if (sqlite3_prepare_v3(conn,
                           "INSERT INTO readings(sensor_id, ts_ms, recv_ms, temp_c, hum_pct, seq, "
                           "extra) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                           -1, SQLITE_PREPARE_PERSISTENT, insert, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_ceiling: cannot prepare the insert: %s\n", sqlite3_errmsg(conn));
        return -1;
    }
    return 0;
}

/* One transaction of BATCH_ROWS plain inserts; *n counts rows across calls. */
static int insert_raw_batch(sqlite3 *conn, sqlite3_stmt *insert, uint64_t *n, int64_t base_ms)
{
    if (exec_or_report(conn, "BEGIN IMMEDIATE") != 0)
        return -1;
    for (int i = 0; i < BATCH_ROWS; i++, (*n)++) {
        int64_t ts = base_ms + (int64_t)(*n / SENSOR_COUNT);
        sqlite3_bind_int64(insert, 1, (int64_t)(*n % SENSOR_COUNT) + 1);
        sqlite3_bind_int64(insert, 2, ts);
        sqlite3_bind_int64(insert, 3, ts);
        sqlite3_bind_double(insert, 4, temp_of(*n));
        sqlite3_bind_double(insert, 5, hum_of(*n));
        sqlite3_bind_int64(insert, 6, (int64_t)(*n / SENSOR_COUNT));
        sqlite3_bind_null(insert, 7);
        int rc = sqlite3_step(insert);
        sqlite3_reset(insert);
        if (rc != SQLITE_DONE) {
            fprintf(stderr, "sqlite_ceiling: insert: %s\n", sqlite3_errmsg(conn));
            return -1;
        }
    }
    return exec_or_report(conn, "COMMIT");
}

static int run_raw(const char *path, double seconds, uint64_t *rows, double *elapsed)
{
    sqlite3 *conn = NULL;
    sqlite3_stmt *insert = NULL;
    int status = -1;
    if (sqlite3_open_v2(path, &conn, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "sqlite_ceiling: %s: %s\n", path, sqlite3_errmsg(conn));
    } else if (prepare_raw(conn, &insert) == 0) {
        int64_t base_ms = wall_ms();
        double start = now_s();
        status = 0;
        do {
            if (insert_raw_batch(conn, insert, rows, base_ms) != 0) {
                status = -1;
                break;
            }
            *elapsed = now_s() - start;
        } while (*elapsed < seconds);
    }
    sqlite3_finalize(insert);
    sqlite3_close(conn);
    return status;
}

/* The same rows through the hub's own db layer, as the store thread calls it. */
static int run_db(struct db *db, double seconds, uint64_t *rows, double *elapsed)
{
    static struct reading readings[BATCH_ROWS];
    static struct db_entry entries[BATCH_ROWS];
    int64_t base_ms = wall_ms();
    double start = now_s();
    do {
        for (int i = 0; i < BATCH_ROWS; i++) {
            uint64_t n = *rows + (uint64_t)i;
            struct reading *r = &readings[i];
            memset(r, 0, sizeof(*r));
            snprintf(r->sensor, sizeof(r->sensor), "bench-%d", (int)(n % SENSOR_COUNT) + 1);
            snprintf(r->location, sizeof(r->location), "%s", "living_room");
            r->has_temp = r->has_hum = r->has_ts = r->has_seq = true;
            r->temp_c = temp_of(n);
            r->hum_pct = hum_of(n);
            r->ts_ms = r->recv_ms = base_ms + (int64_t)(n / SENSOR_COUNT);
            r->seq = (int64_t)(n / SENSOR_COUNT);
            entries[i].reading = r;
        }
        char err[256];
        if (db_commit_batch(db, entries, BATCH_ROWS, err, sizeof(err)) != DB_OK) {
            fprintf(stderr, "sqlite_ceiling: db_commit_batch: %s\n", err);
            return -1;
        }
        for (int i = 0; i < BATCH_ROWS; i++) {
            if (entries[i].status != DB_STORED) {
                fprintf(stderr, "sqlite_ceiling: row %" PRIu64 " was not stored as new\n",
                        *rows + (uint64_t)i);
                return -1;
            }
        }
        *rows += BATCH_ROWS;
        *elapsed = now_s() - start;
    } while (*elapsed < seconds);
    return 0;
}

int main(int argc, char **argv)
{
    double seconds = argc == 4 ? strtod(argv[3], NULL) : 0.0;
    if (argc != 4 || (strcmp(argv[1], "raw") != 0 && strcmp(argv[1], "db") != 0) ||
        !(seconds > 0.0)) {
        fputs("usage: sqlite_ceiling raw|db NEW_DB_FILE SECONDS\n", stderr);
        return 2;
    }
    const char *mode = argv[1], *path = argv[2];
    char err[512];
    struct db *db = db_open(path, err, sizeof(err));
    if (db == NULL) {
        fprintf(stderr, "sqlite_ceiling: %s\n", err);
        return 1;
    }
    uint64_t rows = 0;
    double elapsed = 0.0;
    int status;
    if (strcmp(mode, "db") == 0) {
        status = run_db(db, seconds, &rows, &elapsed);
        db_close(db);
    } else {
        db_close(db); /* only its schema and settings were wanted */
        status = run_raw(path, seconds, &rows, &elapsed);
    }
    if (status != 0)
        return 1;
    printf("{\"mode\":\"%s\",\"rows\":%" PRIu64 ",\"batch\":%d,\"seconds\":%.3f,"
           "\"rows_per_s\":%.1f,\"sqlite\":\"%s\"}\n",
           mode, rows, BATCH_ROWS, elapsed, (double)rows / elapsed, sqlite3_libversion());
    return 0;
}
