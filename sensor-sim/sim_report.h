#ifndef SENSOR_SIM_REPORT_H
#define SENSOR_SIM_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "latency_histogram.h"

/* What a run counts, updated by the fake sensors as acks arrive. */
struct sim_counters {
    uint64_t sent;              /* distinct frames sent; resends after a reconnect not counted */
    uint64_t acked;             /* positive acks ("ok":true), duplicates included */
    uint64_t duplicates;        /* positive acks with "dup":true */
    uint64_t refused;           /* negative acks ("ok":false) */
    uint64_t reconnects;        /* connections re-established after one was lost */
    uint64_t connection_errors; /* connects that failed and connections that were lost */
    unsigned connected;         /* sensors connected right now */
};

/* The end-of-run figures, as printed. */
struct sim_summary {
    unsigned sensors;
    struct sim_counters counters;
    uint64_t unacked;  /* sent but never answered, positively or not */
    double elapsed_s;  /* from the first connect to the end of the run */
    double rate_per_s; /* positive acks per second of elapsed time */
    double p50_ms;     /* send-to-ack latency percentiles, milliseconds */
    double p99_ms;
    double max_ms;
};

void sim_summary_fill(struct sim_summary *s, unsigned sensors, const struct sim_counters *c,
                      const struct latency_histogram *latency, double elapsed_s);

/* 0 when frames were sent and every one got a positive ack (and, with
 * --count, all expected_frames of them were sent); 1 otherwise. */
int sim_summary_exit_status(const struct sim_summary *s, bool count_mode, uint64_t expected_frames);

/* The summary for people, several lines. */
void sim_report_text(FILE *out, const struct sim_summary *s);

/* The summary as one JSON object on one line:
 * {"sensors":N,"sent":N,"acked":N,"duplicates":N,"refused":N,"reconnects":N,
 *  "unacked":N,"elapsed_s":x,"rate_per_s":x,"latency_ms":{"p50":x,"p99":x,"max":x}} */
void sim_report_json(FILE *out, const struct sim_summary *s);

/* Rewrites the progress line in place (carriage return, no newline). */
void sim_report_progress(FILE *out, unsigned sensors, const struct sim_counters *c,
                         double acked_per_s);

/* Erases the progress line so that a message or the summary starts clean. */
void sim_report_clear_progress(FILE *out);

#endif
