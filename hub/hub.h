#ifndef SENSORHUB_HUB_H
#define SENSORHUB_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "frame_decode.h"
#include "store.h"

struct client;

/* Bytes taken from a socket per read. */
#define HUB_READ_BYTES 65536

/* How often the hub tries again to accept a connection for which it had no
 * memory. libuv stops watching a listener while a connection it announced
 * waits to be accepted, so giving up on it would stop all accepts. */
#define HUB_ACCEPT_RETRY_MS 100

/* After a stop signal, how long a client may keep the hub waiting for its
 * acks to drain (one that does not read them is closed then). Below
 * systemd's TimeoutStopSec in config/sensorhub.service. */
#define HUB_STOP_GRACE_MS 10000

/* The running hub: everything the event loop needs travels in this struct
 * (handle->data points here or to a client), so there is no global state. */
struct hub {
    uv_loop_t *loop;           /* the one event loop */
    const struct config *cfg;  /* limits, token, listen endpoints */
    struct decode_rules rules; /* what the decoder accepts */
    struct store *store;       /* commits readings on its own thread */
    uv_tcp_t *listeners;       /* one per listen endpoint */
    size_t listener_count;     /* listeners initialised (each closed once) */
    bool *accept_waiting;      /* per listener: a connection found no memory to be accepted */
    uv_timer_t accept_retry;   /* tries those accepts again (HUB_ACCEPT_RETRY_MS) */
    uv_signal_t sigint;        /* graceful stop on SIGINT ... */
    uv_signal_t sigterm;       /* ... and SIGTERM */
    struct client *clients;    /* every open client (doubly linked) */
    size_t client_count;       /* clients counted against max_connections */
    uint64_t next_client_id;   /* ids for log lines, from 1 */
    struct client *flush_list; /* clients with acks made ready since the last flush */
    char *read_buf;            /* every read lands here, framed before the next */
    size_t read_buf_cap;       /* HUB_READ_BYTES */
    char *ack_buf;             /* acks are assembled here for one write */
    size_t ack_buf_cap;        /* room for many acks and the longest answer */
    bool stopping;             /* a stop signal arrived: drain and exit */
    int64_t stop_deadline_ms;  /* loop time by which every client must be done */
    bool finishing;            /* every client is gone: the store is stopping */
    bool in_store_callback;    /* inside hub_on_store_done: finish afterwards */
    int signals_seen;          /* stop signals received; the second exits at once */
};

/* Binds every listen endpoint and starts accepting; the store must already be
 * running. Returns 0, or -1 with a message in err ("cannot listen on
 * tcp://0.0.0.0:8080: address already in use"). */
int hub_start(struct hub *hub, uv_loop_t *loop, const struct config *cfg, struct store *store,
              char *err, size_t errlen);

/* The store's report of a finished transaction: ack the readings. */
void hub_on_store_done(struct store_item *items, void *data);

/* Called by a client when it has been freed, so the hub can finish a stop. */
void hub_client_gone(struct hub *hub);

/* Undoes a hub_start that failed: closes what it opened and stops the store,
 * so uv_run can return. */
void hub_abort(struct hub *hub);

/* Frees what hub_start allocated, after uv_run has returned. */
void hub_free(struct hub *hub);

#endif
