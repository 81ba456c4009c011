#ifndef SENSORHUB_CLIENT_H
#define SENSORHUB_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "ack_queue.h"
#include "error_limit.h"
#include "framer.h"
#include "store.h"

struct hub;

/* One sensor connection: bytes in through the framer and decoder, readings
 * out to the store, acks back in arrival order. */
struct client {
    uv_tcp_t tcp;                    /* the connection; tcp.data points here */
    uv_timer_t timer;                /* idle and write deadlines (lazily re-armed) */
    uv_shutdown_t shutdown_req;      /* half-close after the last ack */
    struct hub *hub;                 /* the hub it belongs to */
    struct client *prev, *next;      /* hub->clients list */
    struct client *flush_next;       /* hub->flush_list link */
    uint64_t id;                     /* for log lines */
    char peer[64];                   /* "192.168.1.20:50312", "[fe80::1]:50312" */
    struct framer framer;            /* bytes -> frames */
    struct ack_queue acks;           /* one slot per frame until its ack is written */
    char *held;                      /* bytes read but not yet framed (backpressure) */
    size_t held_len;                 /* bytes in held */
    size_t held_off;                 /* first unframed byte in held */
    int64_t held_recv_ms;            /* when held's bytes were read (wall clock, Unix ms) */
    uint32_t acks_writing;           /* acks inside unfinished uv_write requests */
    uint32_t store_inflight;         /* readings at the store that point here */
    struct store_item *submit_first; /* readings of the current read, not yet submitted */
    struct store_item *submit_last;  /* the last of them */
    size_t submit_count;             /* how many */
    int handles_open;                /* tcp and timer until their close callbacks */
    bool counted;                    /* holds a place under max_connections until closed */
    bool reading;                    /* uv_read_start is in effect */
    bool paused;                     /* reading stopped by backpressure */
    bool input_done;                 /* EOF, a stop, or a reason to close: frame no more */
    bool shutting_down;              /* uv_shutdown issued */
    bool closing;                    /* uv_close issued */
    bool authed;                     /* a good hello was received */
    bool in_flush_list;              /* linked in hub->flush_list */
    bool close_when_drained;         /* close once every ack is written */
    bool peer_eof;                   /* the peer half-closed: no lingering needed */
    const char *close_reason;        /* for the log line when it closes */
    int64_t last_read_ms;            /* loop time of the last byte received */
    int64_t write_stalled_ms;        /* loop time acks started waiting on the peer, or 0 */
    int64_t linger_until_ms;         /* after our shutdown: close at the latest then */
    int64_t timer_due_ms;            /* loop time the timer fires, or 0 */
    struct error_limit errors;       /* max_errors_per_minute: times of its last error acks */
    uint64_t stored;                              /* readings stored for this client */
    uint64_t duplicates;                          /* readings acked as duplicates */
    uint64_t refused;                             /* error acks caused by its input */
    uint64_t storage_failed;                      /* readings the store could not commit */
};

/* Accepts a pending connection from server; returns 0 or a libuv error. */
int client_accept(struct hub *hub, uv_stream_t *server);

/* The store finished one of this client's readings (oldest first). */
void client_on_stored(struct client *c, const struct store_item *item);

/* Writes every ack that is ready, then closes when the client is done. */
void client_flush(struct client *c);

/* The hub is stopping: read no more, ack what was read, then close. */
void client_stop(struct client *c);

#endif
