/* db.c on temporary files: opening, refusing files it must not touch,
 * migrations, batches (duplicates, sensors, locations) and the views. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "test.h"

#define MAX_BATCH 64

/* A temporary directory holding the database (and its -wal, -shm files). */
struct scratch {
    char dir[64];
    char path[96];
};

static void scratch_make(struct scratch *s)
{
    snprintf(s->dir, sizeof(s->dir), "/tmp/test_db.XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    snprintf(s->path, sizeof(s->path), "%s/hub.db", s->dir);
}

static void scratch_remove(struct scratch *s)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[128];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        snprintf(path, sizeof(path), "%s%s", s->path, suffixes[i]);
        unlink(path);
    }
    rmdir(s->dir);
}

static struct reading make_reading(const char *sensor, const char *location, bool has_ts,
                                   int64_t ts_ms, int64_t recv_ms)
{
    struct reading r;
    memset(&r, 0, sizeof(r));
    snprintf(r.sensor, sizeof(r.sensor), "%s", sensor);
    snprintf(r.location, sizeof(r.location), "%s", location);
    r.has_temp = true;
    r.temp_c = 21.5;
    r.has_ts = has_ts;
    r.ts_ms = has_ts ? ts_ms : recv_ms;
    r.recv_ms = recv_ms;
    return r;
}

/* Commits readings[0..count) and copies the statuses to statuses. */
static enum db_failure commit(struct db *db, const struct reading *readings, size_t count,
                              enum db_status *statuses, char *err, size_t errlen)
{
    struct db_entry entries[MAX_BATCH];
    for (size_t i = 0; i < count; i++) {
        entries[i].reading = &readings[i];
        entries[i].status = DB_STORED;
    }
    enum db_failure failure = db_commit_batch(db, entries, count, err, errlen);
    for (size_t i = 0; i < count; i++)
        statuses[i] = entries[i].status;
    return failure;
}

static sqlite3 *peek_open_flags(const char *path, int flags)
{
    sqlite3 *conn = NULL;
    if (sqlite3_open_v2(path, &conn, flags, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(conn));
        exit(1);
    }
    return conn;
}

static sqlite3 *peek_open(const char *path)
{
    return peek_open_flags(path, SQLITE_OPEN_READWRITE);
}

static sqlite3 *peek_open_create(const char *path)
{
    return peek_open_flags(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
}

static void peek_exec(const char *path, const char *sql)
{
    sqlite3 *conn = peek_open(path);
    char *message = NULL;
    if (sqlite3_exec(conn, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, message);
        exit(1);
    }
    sqlite3_close(conn);
}

/* The single integer a query returns, through a connection of its own (as a
 * user's sqlite3 session would see it). */
static long long peek_int(const char *path, const char *sql)
{
    sqlite3 *conn = peek_open(path);
    sqlite3_stmt *stmt = NULL;
    long long value = -12345;
    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    else
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(conn));
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return value;
}

/* The single text a query returns ("(null)" for NULL, "(none)" for no row). */
static void peek_text(const char *path, const char *sql, char *out, size_t outlen)
{
    sqlite3 *conn = peek_open(path);
    sqlite3_stmt *stmt = NULL;
    snprintf(out, outlen, "(none)");
    if (sqlite3_prepare_v2(conn, sql, -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(stmt, 0);
        snprintf(out, outlen, "%s", text != NULL ? (const char *)text : "(null)");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
}

/* The whole file, to show a refused file was left byte for byte as it was. */
static size_t read_file(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void test_fresh_open_creates_schema(void)
{
    struct scratch s;
    scratch_make(&s);
    mode_t old_mask = umask(022);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    umask(old_mask);
    ASSERT(db != NULL);
    ASSERT_STR_EQ(err, "");
    ASSERT_INT_EQ(db_schema_version(db), 1);

    struct stat st;
    ASSERT_INT_EQ(stat(s.path, &st), 0);
    ASSERT_INT_EQ(st.st_mode & 0777, 0640);

    char text[64];
    peek_text(s.path, "PRAGMA journal_mode", text, sizeof(text));
    ASSERT_STR_EQ(text, "wal");
    ASSERT_INT_EQ(peek_int(s.path, "PRAGMA user_version"), 1);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM sqlite_master WHERE "
                                   "(type = 'table' AND name IN ('sensors', 'readings')) OR "
                                   "(type = 'view' AND name IN ('readings_view', 'latest')) OR "
                                   "(type = 'index' AND name = 'readings_sensor_ts')"),
                  5);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings"), 0);

    enum db_status none[1];
    ASSERT_INT_EQ(commit(db, NULL, 0, none, err, sizeof(err)), DB_OK);
    db_close(db);
    scratch_remove(&s);
}

static void test_reopen_keeps_data(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    struct reading readings[2] = {
        make_reading("lr-1", "living_room", true, 1795430400000, 1795430401000),
        make_reading("lr-1", "", false, 0, 1795430402000),
    };
    enum db_status statuses[2];
    ASSERT_INT_EQ(commit(db, readings, 2, statuses, err, sizeof(err)), DB_OK);
    db_close(db);

    db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    ASSERT_INT_EQ(db_schema_version(db), 1);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings"), 2);
    /* The reopened hub finds the existing sensor rather than a second one. */
    struct reading again = make_reading("lr-1", "", true, 1795430400000, 1795430403000);
    ASSERT_INT_EQ(commit(db, &again, 1, statuses, err, sizeof(err)), DB_OK);
    ASSERT_INT_EQ(statuses[0], DB_DUPLICATE);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM sensors"), 1);
    db_close(db);
    scratch_remove(&s);
}

static void test_refuses_non_database(void)
{
    struct scratch s;
    scratch_make(&s);
    char text[100];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (char)('a' + i % 26);
    text[sizeof(text) - 1] = '\n';
    write_file(s.path, text, sizeof(text));

    char err[512] = "";
    ASSERT(db_open(s.path, err, sizeof(err)) == NULL);
    char expected[256];
    snprintf(expected, sizeof(expected),
             "%s: is not a SQLite database; move it away or choose another --db", s.path);
    ASSERT_STR_EQ(err, expected);

    char after[200];
    size_t n = read_file(s.path, after, sizeof(after));
    ASSERT_MEM_EQ(after, n, text, sizeof(text));
    scratch_remove(&s);
}

static void test_refuses_newer_schema(void)
{
    struct scratch s;
    scratch_make(&s);
    sqlite3 *conn = peek_open_create(s.path);
    ASSERT_INT_EQ(sqlite3_exec(conn, "CREATE TABLE t(x); PRAGMA user_version=99", NULL, NULL, NULL),
                  SQLITE_OK);
    sqlite3_close(conn);
    static char before[65536], after[65536];
    size_t before_len = read_file(s.path, before, sizeof(before));
    ASSERT(before_len > 0);

    char err[512] = "";
    ASSERT(db_open(s.path, err, sizeof(err)) == NULL);
    char expected[256];
    snprintf(expected, sizeof(expected),
             "%s: schema version 99 is newer than this sensorhub knows (1); upgrade sensorhub",
             s.path);
    ASSERT_STR_EQ(err, expected);
    size_t after_len = read_file(s.path, after, sizeof(after));
    ASSERT_MEM_EQ(after, after_len, before, before_len);
    ASSERT_INT_EQ(peek_int(s.path, "PRAGMA user_version"), 99);
    scratch_remove(&s);
}

static bool has_prefix(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *text, const char *suffix)
{
    size_t len = strlen(text), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(text + len - suffix_len, suffix) == 0;
}

static void test_refuses_damaged_file(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    db_close(db);
    peek_exec(s.path, "INSERT INTO sensors(id, name) VALUES (1, 'x');"
                      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                      "WHERE i < 3000) INSERT INTO readings(sensor_id, ts_ms, recv_ms, extra) "
                      "SELECT 1, i, i, printf('%0100d', i) FROM n");
    static char bytes[4 << 20];
    size_t len = read_file(s.path, bytes, sizeof(bytes));
    long long page_size = peek_int(s.path, "PRAGMA page_size");
    long long pages = peek_int(s.path, "PRAGMA page_count");
    ASSERT(pages > 20);
    ASSERT_INT_EQ((long long)len, pages * page_size);
    /* Scribble over a page in the middle: a readings b-tree page. */
    memset(bytes + (pages / 2) * page_size, 0xAB, (size_t)page_size);
    write_file(s.path, bytes, len);

    ASSERT(db_open(s.path, err, sizeof(err)) == NULL);
    char prefix[256];
    snprintf(prefix, sizeof(prefix), "%s: fails PRAGMA quick_check (", s.path);
    ASSERT(has_prefix(err, prefix));
    ASSERT(has_suffix(err, "): the file is damaged; restore a backup or move it away"));
    ASSERT(strchr(err, '\n') == NULL);
    ASSERT(strstr(err, "*** in database") == NULL);

    static char after[4 << 20];
    size_t after_len = read_file(s.path, after, sizeof(after));
    ASSERT(after_len == len && memcmp(after, bytes, len) == 0);
    scratch_remove(&s);
}

static void test_duplicates(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    struct reading first[5] = {
        make_reading("a", "", true, 1000000000000, 1795430400000),
        make_reading("a", "", true, 1000000000000, 1795430400001), /* same batch */
        make_reading("a", "", true, 1000000002000, 1795430400002),
        make_reading("b", "", true, 1000000000000, 1795430400003), /* other sensor */
        make_reading("a", "", false, 0, 1795430405000),            /* ts_ms = recv */
    };
    enum db_status statuses[MAX_BATCH];
    ASSERT_INT_EQ(commit(db, first, 5, statuses, err, sizeof(err)), DB_OK);
    ASSERT_INT_EQ(statuses[0], DB_STORED);
    ASSERT_INT_EQ(statuses[1], DB_DUPLICATE);
    ASSERT_INT_EQ(statuses[2], DB_STORED);
    ASSERT_INT_EQ(statuses[3], DB_STORED);
    ASSERT_INT_EQ(statuses[4], DB_STORED);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings"), 4);

    struct reading second[4] = {
        make_reading("a", "", true, 1000000002000, 1795430410000),
        make_reading("b", "", true, 1000000000000, 1795430410001),
        make_reading("b", "", true, 1000000003000, 1795430410002),
        /* a row whose ts_ms came from the receive time still counts */
        make_reading("a", "", true, 1795430405000, 1795430410003),
    };
    ASSERT_INT_EQ(commit(db, second, 4, statuses, err, sizeof(err)), DB_OK);
    ASSERT_INT_EQ(statuses[0], DB_DUPLICATE);
    ASSERT_INT_EQ(statuses[1], DB_DUPLICATE);
    ASSERT_INT_EQ(statuses[2], DB_STORED);
    ASSERT_INT_EQ(statuses[3], DB_DUPLICATE);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings"), 5);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings JOIN sensors "
                                   "ON sensors.id = sensor_id WHERE name = 'a'"),
                  3);
    /* The stored copy is the first one: its recv_ms, not the duplicate's. */
    ASSERT_INT_EQ(peek_int(s.path, "SELECT recv_ms FROM readings WHERE ts_ms = 1000000002000"),
                  1795430400002);
    db_close(db);
    scratch_remove(&s);
}

static void test_no_ts_is_never_duplicate(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    struct reading same_ms[2] = {
        make_reading("a", "", false, 0, 1795430400000),
        make_reading("a", "", false, 0, 1795430400000),
    };
    enum db_status statuses[MAX_BATCH];
    ASSERT_INT_EQ(commit(db, same_ms, 2, statuses, err, sizeof(err)), DB_OK);
    ASSERT_INT_EQ(statuses[0], DB_STORED);
    ASSERT_INT_EQ(statuses[1], DB_STORED);
    ASSERT_INT_EQ(commit(db, same_ms, 1, statuses, err, sizeof(err)), DB_OK);
    ASSERT_INT_EQ(statuses[0], DB_STORED);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings WHERE ts_ms = 1795430400000"), 3);
    db_close(db);
    scratch_remove(&s);
}

static void test_sensor_rows_and_locations(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    enum db_status statuses[MAX_BATCH];
    char text[128];

    struct reading first[2] = {
        make_reading("t-1", "kitchen", false, 0, 1795430400100),
        make_reading("nowhere", "", false, 0, 1795430400200),
    };
    ASSERT_INT_EQ(commit(db, first, 2, statuses, err, sizeof(err)), DB_OK);
    peek_text(s.path, "SELECT location FROM sensors WHERE name = 't-1'", text, sizeof(text));
    ASSERT_STR_EQ(text, "kitchen");
    peek_text(s.path, "SELECT location FROM sensors WHERE name = 'nowhere'", text, sizeof(text));
    ASSERT_STR_EQ(text, "(null)");
    ASSERT_INT_EQ(peek_int(s.path, "SELECT first_seen_ms FROM sensors WHERE name = 't-1'"),
                  1795430400100);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT last_seen_ms FROM sensors WHERE name = 't-1'"),
                  1795430400100);

    /* Without a location the sensor keeps its room; last_seen moves on. */
    struct reading quiet = make_reading("t-1", "", false, 0, 1795430460000);
    ASSERT_INT_EQ(commit(db, &quiet, 1, statuses, err, sizeof(err)), DB_OK);
    peek_text(s.path, "SELECT location FROM sensors WHERE name = 't-1'", text, sizeof(text));
    ASSERT_STR_EQ(text, "kitchen");
    ASSERT_INT_EQ(peek_int(s.path, "SELECT first_seen_ms FROM sensors WHERE name = 't-1'"),
                  1795430400100);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT last_seen_ms FROM sensors WHERE name = 't-1'"),
                  1795430460000);

    /* In one batch the latest non-empty location wins; a duplicate frame
     * still shows the sensor was seen. */
    struct reading moves[4] = {
        make_reading("t-1", "hall", true, 1795430000000, 1795430470000),
        make_reading("t-1", "attic", false, 0, 1795430470001),
        make_reading("t-1", "", false, 0, 1795430470002),
        make_reading("t-1", "", true, 1795430000000, 1795430470003),
    };
    ASSERT_INT_EQ(commit(db, moves, 4, statuses, err, sizeof(err)), DB_OK);
    ASSERT_INT_EQ(statuses[3], DB_DUPLICATE);
    peek_text(s.path, "SELECT location FROM sensors WHERE name = 't-1'", text, sizeof(text));
    ASSERT_STR_EQ(text, "attic");
    ASSERT_INT_EQ(peek_int(s.path, "SELECT last_seen_ms FROM sensors WHERE name = 't-1'"),
                  1795430470003);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM sensors"), 2);
    /* The views show the sensor's current room for every past reading. */
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings_view WHERE sensor = 't-1' "
                                   "AND location = 'attic'"),
                  5);
    db_close(db);
    scratch_remove(&s);
}

static void test_optional_columns(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    struct reading full = make_reading("a", "", true, 1795430400000, 1795430400500);
    full.temp_c = -12.25;
    full.has_hum = true;
    full.hum_pct = 60;
    full.has_seq = true;
    full.seq = 9007199254740991;
    char extra[] = "{\"battery\":3.1,\"rssi\":-70}";
    full.extra = extra;
    struct reading bare = make_reading("a", "", true, 1795430401000, 1795430401500);
    bare.has_temp = false;
    bare.has_hum = true;
    bare.hum_pct = 40.5;
    struct reading batch[2] = {full, bare};
    enum db_status statuses[MAX_BATCH];
    ASSERT_INT_EQ(commit(db, batch, 2, statuses, err, sizeof(err)), DB_OK);

    char text[128];
    peek_text(s.path,
              "SELECT printf('%s|%s|%s|%s|%s|%s', typeof(temp_c), temp_c, hum_pct, seq, "
              "extra, recv_ms) FROM readings WHERE ts_ms = 1795430400000",
              text, sizeof(text));
    ASSERT_STR_EQ(text, "real|-12.25|60.0|9007199254740991|{\"battery\":3.1,\"rssi\":-70}|"
                        "1795430400500");
    peek_text(s.path,
              "SELECT printf('%s|%s|%s|%s', typeof(temp_c), hum_pct, typeof(seq), "
              "typeof(extra)) FROM readings WHERE ts_ms = 1795430401000",
              text, sizeof(text));
    ASSERT_STR_EQ(text, "null|40.5|null|null");
    db_close(db);
    scratch_remove(&s);
}

static int64_t wall_clock_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int64_t floor_div_1000(int64_t value)
{
    return value >= 0 ? value / 1000 : -((999 - value) / 1000);
}

static void test_readings_view(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    static const struct {
        int64_t ts_ms;
        const char *time;
    } times[] = {
        {1795430400999, "2026-11-23T10:40:00.999Z"}, {946684800000, "2000-01-01T00:00:00.000Z"},
        {1795430400001, "2026-11-23T10:40:00.001Z"}, {951782399999, "2000-02-28T23:59:59.999Z"},
        {951782400500, "2000-02-29T00:00:00.500Z"},  {1700000000007, "2023-11-14T22:13:20.007Z"},
        {4102444799999, "2099-12-31T23:59:59.999Z"},
    };
    size_t count = sizeof(times) / sizeof(times[0]);
    struct reading readings[8];
    for (size_t i = 0; i < count; i++) {
        readings[i] = make_reading("v", "porch", true, times[i].ts_ms, 1795430400000);
        readings[i].has_seq = true;
        readings[i].seq = (int64_t)i;
    }
    enum db_status statuses[MAX_BATCH];
    ASSERT_INT_EQ(commit(db, readings, count, statuses, err, sizeof(err)), DB_OK);

    sqlite3 *conn = peek_open(s.path);
    sqlite3_stmt *stmt = NULL;
    ASSERT_INT_EQ(sqlite3_prepare_v2(conn, "SELECT * FROM readings_view", -1, &stmt, NULL),
                  SQLITE_OK);
    static const char *const names[] = {"sensor", "location", "time",  "temp_c", "hum_pct",
                                        "seq",    "extra",    "ts_ms", "recv_ms"};
    ASSERT_INT_EQ(sqlite3_column_count(stmt), 9);
    for (int i = 0; i < 9; i++)
        ASSERT_STR_EQ(sqlite3_column_name(stmt, i), names[i]);
    /* Rows come in ts_ms order: check each against its table entry. */
    int64_t previous = 0;
    size_t rows = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        int64_t ts_ms = sqlite3_column_int64(stmt, 7);
        ASSERT(ts_ms > previous);
        previous = ts_ms;
        size_t i = (size_t)sqlite3_column_int64(stmt, 5);
        ASSERT(i < count);
        ASSERT_INT_EQ(ts_ms, times[i].ts_ms);
        ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 0), "v");
        ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 1), "porch");
        ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 2), times[i].time);
        ASSERT_DBL_EQ(sqlite3_column_double(stmt, 3), 21.5);
        ASSERT_INT_EQ(sqlite3_column_type(stmt, 4), SQLITE_NULL);
        ASSERT_INT_EQ(sqlite3_column_type(stmt, 6), SQLITE_NULL);
        ASSERT_INT_EQ(sqlite3_column_int64(stmt, 8), 1795430400000);
        rows++;
    }
    ASSERT_INT_EQ(rows, count);
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    db_close(db);
    scratch_remove(&s);
}

static void test_latest_view(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    int64_t now = wall_clock_ms();
    int64_t past = now - 10500, future = now + 100500;
    struct reading readings[6] = {
        make_reading("b-past", "den", true, past, now),
        make_reading("b-past", "", true, past - 60000, now), /* older, inserted later */
        make_reading("a-tie", "", false, 0, 1795430400000),
        make_reading("a-tie", "", false, 0, 1795430400000), /* same ts_ms: greatest id */
        make_reading("c-future", "roof", true, future, now),
        make_reading("c-future", "", true, past, now),
    };
    readings[2].temp_c = 1;
    readings[3].temp_c = 2;
    readings[4].temp_c = 3;
    enum db_status statuses[MAX_BATCH];
    ASSERT_INT_EQ(commit(db, readings, 6, statuses, err, sizeof(err)), DB_OK);

    sqlite3 *conn = peek_open(s.path);
    sqlite3_stmt *stmt = NULL;
    ASSERT_INT_EQ(sqlite3_prepare_v2(conn, "SELECT * FROM latest", -1, &stmt, NULL), SQLITE_OK);
    static const char *const names[] = {"sensor", "location", "time", "temp_c", "hum_pct", "age_s"};
    ASSERT_INT_EQ(sqlite3_column_count(stmt), 6);
    for (int i = 0; i < 6; i++)
        ASSERT_STR_EQ(sqlite3_column_name(stmt, i), names[i]);

    /* age_s is floor((now - ts_ms) / 1000) by the clock at query time, which
     * lies between these two readings of it. */
    int64_t before = wall_clock_ms();
    ASSERT_INT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    int64_t after = wall_clock_ms();
    ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 0), "a-tie");
    ASSERT_INT_EQ(sqlite3_column_type(stmt, 1), SQLITE_NULL);
    ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 2), "2026-11-23T10:40:00.000Z");
    ASSERT_DBL_EQ(sqlite3_column_double(stmt, 3), 2);
    ASSERT_INT_EQ(sqlite3_column_type(stmt, 5), SQLITE_INTEGER);
    int64_t age = sqlite3_column_int64(stmt, 5);
    ASSERT(age >= floor_div_1000(before - 1795430400000) &&
           age <= floor_div_1000(after - 1795430400000));

    ASSERT_INT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 0), "b-past");
    ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 1), "den");
    ASSERT_INT_EQ(sqlite3_column_type(stmt, 4), SQLITE_NULL);
    age = sqlite3_column_int64(stmt, 5);
    ASSERT(age >= floor_div_1000(before - past) && age <= floor_div_1000(after - past));
    ASSERT(age >= 10);

    /* A reading stamped 100.5 s ahead is -101 s old (floor), not -100. */
    ASSERT_INT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 0), "c-future");
    ASSERT_STR_EQ((const char *)sqlite3_column_text(stmt, 1), "roof");
    ASSERT_DBL_EQ(sqlite3_column_double(stmt, 3), 3);
    age = sqlite3_column_int64(stmt, 5);
    ASSERT(age >= floor_div_1000(before - future) && age <= floor_div_1000(after - future));
    if (after - before < 400)
        ASSERT_INT_EQ(age, -101);

    ASSERT_INT_EQ(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);

    /* The view walks the index once per sensor, never the whole table. */
    ASSERT_INT_EQ(
        sqlite3_prepare_v2(conn, "EXPLAIN QUERY PLAN SELECT * FROM latest", -1, &stmt, NULL),
        SQLITE_OK);
    bool uses_index = false, scans_readings = false;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(stmt, 3);
        if (strstr(detail, "USING COVERING INDEX readings_sensor_ts (sensor_id=?)") != NULL)
            uses_index = true;
        if (strstr(detail, "SCAN r") != NULL || strstr(detail, "SCAN readings") != NULL)
            scans_readings = true;
    }
    ASSERT(uses_index);
    ASSERT(!scans_readings);
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    db_close(db);
    scratch_remove(&s);
}

/* Large rows so that a few readings need new pages. */
static void fill_batch(struct reading *readings, size_t count, const char *sensor, char *extra)
{
    for (size_t i = 0; i < count; i++) {
        readings[i] = make_reading(sensor, "cellar", false, 0, 1795430400000 + (int64_t)i);
        readings[i].extra = extra;
    }
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* Checkpoints happen when db_checkpoint says, never inside a commit: the
 * database file stays as it was while the WAL grows, a busy store leaves a
 * WAL of some thousand pages alone, and an idle one copies it over. */
static void test_checkpoints_leave_the_commit_path(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    off_t empty_size = file_size(s.path);
    static struct reading readings[MAX_BATCH];
    enum db_status statuses[MAX_BATCH];
    int64_t ts = 1000000000000;
    for (int batch = 0; batch < 800; batch++) {
        for (size_t i = 0; i < MAX_BATCH; i++)
            readings[i] = make_reading("a", "", true, ts++, 1795430400000);
        ASSERT_INT_EQ(commit(db, readings, MAX_BATCH, statuses, err, sizeof(err)), DB_OK);
    }
    char wal[128];
    snprintf(wal, sizeof(wal), "%s-wal", s.path);
    /* Well past SQLite's automatic 1000-page checkpoint, yet not copied. */
    ASSERT(file_size(wal) > 1000 * 4096);
    ASSERT_INT_EQ(file_size(s.path), empty_size);
    db_checkpoint(db, false);
    ASSERT_INT_EQ(file_size(s.path), empty_size);
    db_checkpoint(db, true);
    ASSERT(file_size(s.path) > empty_size + 256 * 4096);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings"), 800 * MAX_BATCH);
    db_close(db);
    scratch_remove(&s);
}

static void test_storage_full(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    static char extra[2001];
    memset(extra, 'x', sizeof(extra) - 1);
    struct reading readings[MAX_BATCH];
    enum db_status statuses[MAX_BATCH];
    fill_batch(readings, 4, "old", extra);
    ASSERT_INT_EQ(commit(db, readings, 4, statuses, err, sizeof(err)), DB_OK);

    long pages = db_set_max_page_count(db, 1);
    ASSERT(pages >= 2);
    /* A new sensor first in the failed batch: its row is rolled back, and
     * later batches must not reuse the id it had, which SQLite hands to the
     * next new sensor ("other"). */
    fill_batch(readings, 40, "new", extra);
    readings[39] = make_reading("old", "", false, 0, 1795430500000);
    ASSERT_INT_EQ(commit(db, readings, 40, statuses, err, sizeof(err)), DB_FULL);
    char expected[256];
    snprintf(expected, sizeof(expected), "%s: database or disk is full", s.path);
    ASSERT_STR_EQ(err, expected);
    for (size_t i = 0; i < 40; i++)
        ASSERT_INT_EQ(statuses[i], DB_FAILED);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings"), 4);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM sensors"), 1);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT last_seen_ms FROM sensors"), 1795430400003);

    ASSERT(db_set_max_page_count(db, 1000000) == 1000000);
    struct reading other = make_reading("other", "", false, 0, 1795430600000);
    ASSERT_INT_EQ(commit(db, &other, 1, statuses, err, sizeof(err)), DB_OK);
    ASSERT_INT_EQ(commit(db, readings, 40, statuses, err, sizeof(err)), DB_OK);
    for (size_t i = 0; i < 40; i++)
        ASSERT_INT_EQ(statuses[i], DB_STORED);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings"), 45);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings JOIN sensors "
                                   "ON sensors.id = sensor_id WHERE name = 'new'"),
                  39);
    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    db_close(db);
    scratch_remove(&s);
}

/* A VFS over the default one that makes writes or syncs of the -wal file fail
 * the way the unix VFS reports a system error it has no code of its own for:
 * an SQLITE_IOERR_* result, with the errno kept for SQLITE_FCNTL_LAST_ERRNO.
 * (ENOSPC at write() is SQLITE_FULL already; ENOSPC at fsync and EDQUOT
 * anywhere come as I/O errors.) */
struct fault_vfs {
    sqlite3_vfs base; /* first: SQLite hands this pointer back */
    sqlite3_vfs *real;
    int write_errno; /* nonzero: writes to the -wal file fail with this errno */
    int sync_errno;  /* nonzero: syncs of the -wal file fail with this errno */
};

struct fault_file {
    sqlite3_file base; /* first: SQLite hands this pointer back */
    struct fault_vfs *vfs;
    sqlite3_file *real; /* the real VFS's file, right after this struct */
    bool is_wal;
    int last_errno; /* of the last injected failure, as the unix VFS keeps it */
};

static sqlite3_file *real_file(sqlite3_file *file)
{
    return ((struct fault_file *)file)->real;
}

static int fault_close(sqlite3_file *file)
{
    return real_file(file)->pMethods->xClose(real_file(file));
}

static int fault_read(sqlite3_file *file, void *buf, int amount, sqlite3_int64 offset)
{
    return real_file(file)->pMethods->xRead(real_file(file), buf, amount, offset);
}

static int fault_write(sqlite3_file *file, const void *buf, int amount, sqlite3_int64 offset)
{
    struct fault_file *f = (struct fault_file *)file;
    if (f->is_wal && f->vfs->write_errno != 0) {
        f->last_errno = f->vfs->write_errno;
        return SQLITE_IOERR_WRITE;
    }
    return f->real->pMethods->xWrite(f->real, buf, amount, offset);
}

static int fault_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    return real_file(file)->pMethods->xTruncate(real_file(file), size);
}

static int fault_sync(sqlite3_file *file, int flags)
{
    struct fault_file *f = (struct fault_file *)file;
    if (f->is_wal && f->vfs->sync_errno != 0) {
        f->last_errno = f->vfs->sync_errno;
        return SQLITE_IOERR_FSYNC;
    }
    return f->real->pMethods->xSync(f->real, flags);
}

static int fault_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    return real_file(file)->pMethods->xFileSize(real_file(file), size);
}

static int fault_lock(sqlite3_file *file, int level)
{
    return real_file(file)->pMethods->xLock(real_file(file), level);
}

static int fault_unlock(sqlite3_file *file, int level)
{
    return real_file(file)->pMethods->xUnlock(real_file(file), level);
}

static int fault_check_reserved_lock(sqlite3_file *file, int *out)
{
    return real_file(file)->pMethods->xCheckReservedLock(real_file(file), out);
}

static int fault_file_control(sqlite3_file *file, int op, void *arg)
{
    struct fault_file *f = (struct fault_file *)file;
    if (op == SQLITE_FCNTL_LAST_ERRNO && f->last_errno != 0) {
        *(int *)arg = f->last_errno;
        return SQLITE_OK;
    }
    return real_file(file)->pMethods->xFileControl(real_file(file), op, arg);
}

static int fault_sector_size(sqlite3_file *file)
{
    return real_file(file)->pMethods->xSectorSize(real_file(file));
}

static int fault_device_characteristics(sqlite3_file *file)
{
    return real_file(file)->pMethods->xDeviceCharacteristics(real_file(file));
}

static int fault_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
    return real_file(file)->pMethods->xShmMap(real_file(file), region, size, extend, out);
}

static int fault_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    return real_file(file)->pMethods->xShmLock(real_file(file), offset, n, flags);
}

static void fault_shm_barrier(sqlite3_file *file)
{
    real_file(file)->pMethods->xShmBarrier(real_file(file));
}

static int fault_shm_unmap(sqlite3_file *file, int delete_flag)
{
    return real_file(file)->pMethods->xShmUnmap(real_file(file), delete_flag);
}

static int fault_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
    return real_file(file)->pMethods->xFetch(real_file(file), offset, amount, out);
}

static int fault_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
    return real_file(file)->pMethods->xUnfetch(real_file(file), offset, page);
}

static const sqlite3_io_methods fault_io_methods = {
    3,
    fault_close,
    fault_read,
    fault_write,
    fault_truncate,
    fault_sync,
    fault_file_size,
    fault_lock,
    fault_unlock,
    fault_check_reserved_lock,
    fault_file_control,
    fault_sector_size,
    fault_device_characteristics,
    fault_shm_map,
    fault_shm_lock,
    fault_shm_barrier,
    fault_shm_unmap,
    fault_fetch,
    fault_unfetch,
};

static int fault_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                      int *out_flags)
{
    struct fault_vfs *fv = (struct fault_vfs *)vfs;
    struct fault_file *f = (struct fault_file *)file;
    f->vfs = fv;
    f->real = (sqlite3_file *)(f + 1);
    f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
    f->last_errno = 0;
    int rc = fv->real->xOpen(fv->real, name, f->real, flags, out_flags);
    f->base.pMethods = f->real->pMethods != NULL ? &fault_io_methods : NULL;
    return rc;
}

/* Makes the fault VFS the default one (db_open uses the default). */
static void fault_vfs_install(struct fault_vfs *fv)
{
    memset(fv, 0, sizeof(*fv));
    fv->real = sqlite3_vfs_find(NULL);
    ASSERT(fv->real != NULL);
    fv->base = *fv->real;
    fv->base.pNext = NULL;
    fv->base.zName = "fault";
    fv->base.szOsFile = (int)sizeof(struct fault_file) + fv->real->szOsFile;
    fv->base.xOpen = fault_open;
    ASSERT_INT_EQ(sqlite3_vfs_register(&fv->base, 1), SQLITE_OK);
}

static void fault_vfs_remove(struct fault_vfs *fv)
{
    sqlite3_vfs_unregister(&fv->base);
    sqlite3_vfs_register(fv->real, 1);
}

/* Commits one new reading (ts = recv = at) with the fault set and returns the
 * failure; the statuses and the table must show nothing stored. */
static enum db_failure commit_with_fault(struct db *db, const char *path, int64_t at, char *err,
                                         size_t errlen)
{
    long long before = peek_int(path, "SELECT count(*) FROM readings");
    struct reading reading = make_reading("io", "attic", true, at, at);
    enum db_status status = DB_STORED;
    enum db_failure failure = commit(db, &reading, 1, &status, err, errlen);
    ASSERT_INT_EQ(status, failure == DB_OK ? DB_STORED : DB_FAILED);
    ASSERT_INT_EQ(peek_int(path, "SELECT count(*) FROM readings"),
                  before + (failure == DB_OK ? 1 : 0));
    return failure;
}

/* No space shows as an I/O error with ENOSPC (at fsync) or EDQUOT (a quota,
 * at write): that is "storage full", not "storage error"; another I/O error
 * stays an error. After each, the connection commits again. */
static void test_io_errors_without_space_are_storage_full(void)
{
    struct fault_vfs fv;
    fault_vfs_install(&fv);
    struct scratch s;
    scratch_make(&s);
    char err[512] = "", expected[512];
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    int64_t at = 1795430400000;
    ASSERT_INT_EQ(commit_with_fault(db, s.path, at++, err, sizeof(err)), DB_OK);

    fv.sync_errno = ENOSPC;
    ASSERT_INT_EQ(commit_with_fault(db, s.path, at++, err, sizeof(err)), DB_FULL);
    snprintf(expected, sizeof(expected), "%s: disk I/O error (%s)", s.path, strerror(ENOSPC));
    ASSERT_STR_EQ(err, expected);
    fv.sync_errno = 0;
    ASSERT_INT_EQ(commit_with_fault(db, s.path, at++, err, sizeof(err)), DB_OK);

    fv.write_errno = EDQUOT;
    ASSERT_INT_EQ(commit_with_fault(db, s.path, at++, err, sizeof(err)), DB_FULL);
    snprintf(expected, sizeof(expected), "%s: disk I/O error (%s)", s.path, strerror(EDQUOT));
    ASSERT_STR_EQ(err, expected);
    fv.write_errno = 0;
    ASSERT_INT_EQ(commit_with_fault(db, s.path, at++, err, sizeof(err)), DB_OK);

    fv.sync_errno = EIO;
    ASSERT_INT_EQ(commit_with_fault(db, s.path, at++, err, sizeof(err)), DB_ERROR);
    snprintf(expected, sizeof(expected), "%s: disk I/O error (%s)", s.path, strerror(EIO));
    ASSERT_STR_EQ(err, expected);
    fv.sync_errno = 0;
    ASSERT_INT_EQ(commit_with_fault(db, s.path, at++, err, sizeof(err)), DB_OK);

    ASSERT_INT_EQ(peek_int(s.path, "SELECT count(*) FROM readings"), 4);
    db_close(db);
    fault_vfs_remove(&fv);
    char check[64];
    peek_text(s.path, "PRAGMA integrity_check", check, sizeof(check));
    ASSERT_STR_EQ(check, "ok");
    scratch_remove(&s);
}

static void test_busy(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    ASSERT_INT_EQ(db_set_busy_timeout(db, 20), 0);
    sqlite3 *other_writer = peek_open(s.path);
    ASSERT_INT_EQ(sqlite3_exec(other_writer, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    struct reading reading = make_reading("a", "", true, 1795430400000, 1795430400000);
    enum db_status statuses[1];
    ASSERT_INT_EQ(commit(db, &reading, 1, statuses, err, sizeof(err)), DB_BUSY);
    ASSERT_INT_EQ(statuses[0], DB_FAILED);
    char expected[256];
    snprintf(expected, sizeof(expected), "%s: database is locked", s.path);
    ASSERT_STR_EQ(err, expected);

    ASSERT_INT_EQ(sqlite3_exec(other_writer, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other_writer);
    ASSERT_INT_EQ(commit(db, &reading, 1, statuses, err, sizeof(err)), DB_OK);
    ASSERT_INT_EQ(statuses[0], DB_STORED);
    db_close(db);
    scratch_remove(&s);
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A commit waits about a second for another writer's lock, not longer: the
 * store logs the lock and retries after each DB_BUSY, so a lock that holds
 * readings back for seconds is in the log while it lasts. */
static void test_commit_waits_one_second_for_a_lock(void)
{
    struct scratch s;
    scratch_make(&s);
    char err[512] = "";
    struct db *db = db_open(s.path, err, sizeof(err));
    ASSERT(db != NULL);
    sqlite3 *other_writer = peek_open(s.path);
    ASSERT_INT_EQ(sqlite3_exec(other_writer, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
    struct reading reading = make_reading("a", "", true, 1795430400000, 1795430400000);
    enum db_status status;
    int64_t start = monotonic_ms();
    ASSERT_INT_EQ(commit(db, &reading, 1, &status, err, sizeof(err)), DB_BUSY);
    int64_t waited = monotonic_ms() - start;
    ASSERT(waited >= 1000);
    ASSERT(waited < 2500);
    ASSERT_INT_EQ(sqlite3_exec(other_writer, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other_writer);
    ASSERT_INT_EQ(commit(db, &reading, 1, &status, err, sizeof(err)), DB_OK);
    db_close(db);
    scratch_remove(&s);
}

int main(void)
{
    RUN(test_fresh_open_creates_schema);
    RUN(test_reopen_keeps_data);
    RUN(test_refuses_non_database);
    RUN(test_refuses_newer_schema);
    RUN(test_refuses_damaged_file);
    RUN(test_duplicates);
    RUN(test_no_ts_is_never_duplicate);
    RUN(test_sensor_rows_and_locations);
    RUN(test_optional_columns);
    RUN(test_readings_view);
    RUN(test_latest_view);
    RUN(test_checkpoints_leave_the_commit_path);
    RUN(test_storage_full);
    RUN(test_io_errors_without_space_are_storage_full);
    RUN(test_busy);
    RUN(test_commit_waits_one_second_for_a_lock);
    return test_summary();
}
