/* sensorhub: stores sensor readings sent over TCP in SQLite and acks each one.
 * main() builds up in order (config, database, store thread, listeners),
 * runs the loop, and tears down in the reverse order. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "hub.h"
#include "log.h"
#include "store.h"

/* Each connection is a file descriptor, and the usual soft limit (1024) is
 * below what max_connections allows; raise it to the hard limit, as servers
 * do, and warn when even that is too low. */
static void raise_fd_limit(int max_connections)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
        return;
    if (lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    /* The database, its WAL, the listeners and the loop need a few more. */
    rlim_t needed = (rlim_t)max_connections + 32;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed)
        log_warn("open-file limit is %llu, below max_connections %d plus 32; raise it "
                 "(ulimit -n, or LimitNOFILE= in the systemd unit)",
                 (unsigned long long)lim.rlim_cur, max_connections);
}

int main(int argc, char **argv)
{
    /* A peer that resets while we write must be an error code, not a signal. */
    signal(SIGPIPE, SIG_IGN);

    struct config cfg;
    if (config_init(&cfg) != 0) {
        fprintf(stderr, "sensorhub: out of memory\n");
        return 1;
    }
    switch (cli_parse(argc, argv, &cfg, stdout, stderr)) {
    case CLI_RUN:
        break;
    case CLI_EXIT:
        config_free(&cfg);
        return 0;
    case CLI_ERROR:
        config_free(&cfg);
        return 2;
    }
    log_set_level(cfg.log_level);
    raise_fd_limit(cfg.max_connections);

    char err[512];
    struct db *db = db_open(cfg.db, err, sizeof(err));
    if (!db) {
        log_error("%s", err);
        config_free(&cfg);
        return 1;
    }
    log_info("sensorhub %s starting: database %s, schema version %d", SENSORHUB_VERSION, cfg.db,
             db_schema_version(db));

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct hub hub;
    memset(&hub, 0, sizeof(hub));
    int status = 0;
    struct store *store = store_start(&loop, db, hub_on_store_done, &hub, err, sizeof(err));
    if (!store) {
        log_error("%s", err);
        db_close(db);
        status = 1;
    } else if (hub_start(&hub, &loop, &cfg, store, err, sizeof(err)) != 0) {
        log_error("%s", err);
        hub_abort(&hub);
        status = 1;
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (store)
        store_free(store);
    hub_free(&hub);
    if (uv_loop_close(&loop) != 0) {
        log_error("internal error: handles still open at exit");
        status = 1;
    }
    if (status == 0)
        log_info("stopped");
    config_free(&cfg);
    return status;
}
