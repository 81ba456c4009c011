#ifndef SENSOR_SIM_CLIENT_H
#define SENSOR_SIM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "latency_histogram.h"
#include "sim_options.h"
#include "sim_report.h"

/* One fake sensor: its own TCP connection to the hub, a pacing timer, a window
 * of frames in flight (kept for resending), acks matched in order, and
 * reconnection with exponential backoff. All sensors run on one loop and
 * share the run's counters through struct sim_shared. */

/* What every sensor shares with the run that owns them (sim_main.c). */
struct sim_shared {
    uv_loop_t *loop;                  /* the one loop everything runs on */
    const struct sim_options *opts;   /* the flags */
    struct sockaddr_storage hub_addr; /* the hub, resolved once */
    char hub_name[SIM_HOST_MAX + 16]; /* "host:port", for messages */
    struct sim_counters counters;     /* what the summary reports */
    struct latency_histogram latency; /* send-to-ack time of every ack */
    uint64_t start_ms;                /* loop time at which sending starts */
    bool stopping;                    /* no new frames: the duration is over or interrupted */
    bool progress_line;               /* a progress line may be on stderr */
    unsigned warnings_left;           /* messages still printed before they are suppressed */
    unsigned finished;                /* sensors with nothing more to send or wait for */
    /* Called once, when finished reaches opts->sensors. */
    void (*on_all_finished)(struct sim_shared *shared);
};

/* Prints "sensor-sim: <message>" on stderr, at most warnings_left times. */
void sim_warn(struct sim_shared *shared, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct sim_client;

/* Creates sensor number index (0-based): its name ("sim-<room>-<n>"), values
 * and buffers, sized by the window, and its timers. Returns 0, or -1 with err
 * filled. The client is freed once sim_client_close has closed its handles. */
int sim_client_create(struct sim_shared *shared, unsigned index, struct sim_client **out, char *err,
                      size_t errlen);

/* Connects and starts sending. */
void sim_client_start(struct sim_client *c);

/* Sends the frames due by now that fit in the window. The run calls it just
 * before it stops the sending, so that frames due in the deadline's last
 * millisecond are not lost to timer order. */
void sim_client_send_due(struct sim_client *c);

/* Call after setting shared->stopping: no new frames; the sensor finishes
 * once its frames in flight are answered. */
void sim_client_stop_sending(struct sim_client *c);

/* Closes every handle; the client frees itself in the last close callback. */
void sim_client_close(struct sim_client *c);

#endif
