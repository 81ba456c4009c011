/* sensor-sim: many fake sensors on one libuv loop, each on its own TCP
 * connection to the hub. main() parses the flags, runs the loop until the
 * duration is over (or every --count frame is acked), and prints the summary. */

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>

#include "sim_client.h"
#include "sim_options.h"
#include "sim_report.h"

#ifndef SENSORHUB_VERSION
#define SENSORHUB_VERSION "0.1.0"
#endif

/* Messages printed before the rest are suppressed. */
#define WARNINGS_SHOWN 20
#define NS_PER_S 1e9

struct sim_run {
    uv_loop_t loop;              /* the one loop */
    struct sim_options opts;     /* the flags */
    struct sim_shared shared;    /* what the sensors share: counters, latency, state */
    struct sim_client **clients; /* opts.sensors clients; each frees itself once closed */
    uv_timer_t deadline_timer;   /* --duration: stops the sending */
    uv_timer_t drain_timer;      /* after the sending stops: gives up waiting for acks */
    uv_timer_t progress_timer;   /* refreshes the progress line every second */
    uv_signal_t sigint;          /* first ^C: stop sending and drain; second: quit */
    uv_signal_t sigterm;         /* same as SIGINT */
    bool progress;               /* the progress line is shown */
    bool shutting_down;          /* every handle is being closed */
    uint64_t started_ns;         /* uv_hrtime() when the sensors started connecting */
    uint64_t finished_ns;        /* uv_hrtime() when the run ended */
    uint64_t progress_acked;     /* acked at the previous progress line */
    uint64_t progress_ns;        /* time of the previous progress line */
};

static void on_handle_closed(uv_handle_t *handle)
{
    (void)handle; /* the handles live in struct sim_run, freed by main() */
}

/* Ends the run: closes every handle so that uv_run returns. */
static void run_shutdown(struct sim_run *run)
{
    if (run->shutting_down)
        return;
    run->shutting_down = true;
    run->finished_ns = uv_hrtime();
    uv_close((uv_handle_t *)&run->deadline_timer, on_handle_closed);
    uv_close((uv_handle_t *)&run->drain_timer, on_handle_closed);
    uv_close((uv_handle_t *)&run->progress_timer, on_handle_closed);
    uv_close((uv_handle_t *)&run->sigint, on_handle_closed);
    uv_close((uv_handle_t *)&run->sigterm, on_handle_closed);
    for (unsigned i = 0; i < run->opts.sensors; i++)
        sim_client_close(run->clients[i]);
}

static void on_all_finished(struct sim_shared *shared)
{
    run_shutdown((struct sim_run *)((char *)shared - offsetof(struct sim_run, shared)));
}

static void on_drain_timeout(uv_timer_t *timer)
{
    struct sim_run *run = timer->data;
    sim_warn(&run->shared, "gave up waiting for acks after %g s (--drain-timeout)",
             run->opts.drain_timeout_s);
    run_shutdown(run);
}

/* Stops creating frames; the run ends when the frames in flight are answered
 * or the drain timeout passes, whichever comes first. */
static void run_stop_sending(struct sim_run *run)
{
    if (run->shared.stopping || run->shutting_down)
        return;
    /* Sending the last due frames may finish the run (closing every client,
     * on which these calls are no-ops). */
    for (unsigned i = 0; i < run->opts.sensors; i++)
        sim_client_send_due(run->clients[i]);
    if (run->shutting_down)
        return;
    run->shared.stopping = true;
    uv_timer_stop(&run->deadline_timer);
    uv_timer_start(&run->drain_timer, on_drain_timeout,
                   (uint64_t)(run->opts.drain_timeout_s * 1000.0), 0);
    /* A sensor may finish the run here, closing every client: stop_sending
     * is a no-op on a closing client. */
    for (unsigned i = 0; i < run->opts.sensors; i++)
        sim_client_stop_sending(run->clients[i]);
}

static void on_deadline(uv_timer_t *timer)
{
    run_stop_sending(timer->data);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    struct sim_run *run = handle->data;
    if (run->shared.stopping) {
        run_shutdown(run);
        return;
    }
    sim_warn(&run->shared, "%s: stopping; waiting up to %g s for acks (again to quit now)",
             signum == SIGINT ? "interrupted" : "terminated", run->opts.drain_timeout_s);
    run_stop_sending(run);
}

static void on_progress_timer(uv_timer_t *timer)
{
    struct sim_run *run = timer->data;
    uint64_t now_ns = uv_hrtime();
    double seconds = (double)(now_ns - run->progress_ns) / NS_PER_S;
    uint64_t acked = run->shared.counters.acked;
    double rate = seconds > 0.0 ? (double)(acked - run->progress_acked) / seconds : 0.0;
    run->progress_acked = acked;
    run->progress_ns = now_ns;
    sim_report_progress(stderr, run->opts.sensors, &run->shared.counters, rate);
}

/* Resolves --host once, before any sensor connects. */
static int resolve_hub(struct sim_run *run)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    snprintf(port, sizeof(port), "%u", (unsigned)run->opts.port);
    uv_getaddrinfo_t req;
    int rc = uv_getaddrinfo(&run->loop, &req, NULL, run->opts.host, port, &hints);
    if (rc != 0) {
        fprintf(stderr, "sensor-sim: --host \"%s\": cannot resolve: %s\n", run->opts.host,
                uv_strerror(rc));
        return -1;
    }
    memcpy(&run->shared.hub_addr, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    uv_freeaddrinfo(req.addrinfo);
    bool ipv6_literal = strchr(run->opts.host, ':') != NULL;
    snprintf(run->shared.hub_name, sizeof(run->shared.hub_name), "%s%s%s:%u",
             ipv6_literal ? "[" : "", run->opts.host, ipv6_literal ? "]" : "",
             (unsigned)run->opts.port);
    return 0;
}

/* Each sensor holds a socket: raise the soft open-files limit if needed. */
static int ensure_file_limit(unsigned sensors)
{
    rlim_t needed = (rlim_t)sensors + 32;
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= needed)
        return 0;
    if (lim.rlim_max == RLIM_INFINITY || lim.rlim_max >= needed) {
        lim.rlim_cur = needed;
        if (setrlimit(RLIMIT_NOFILE, &lim) == 0)
            return 0;
    }
    fprintf(stderr,
            "sensor-sim: --sensors %u needs %llu open files but the limit is %llu; raise it "
            "(ulimit -n) or use fewer sensors\n",
            sensors, (unsigned long long)needed, (unsigned long long)lim.rlim_cur);
    return -1;
}

/* Creates the sensors and the run's handles and starts connecting. */
static int run_start(struct sim_run *run)
{
    struct sim_shared *shared = &run->shared;
    shared->loop = &run->loop;
    shared->opts = &run->opts;
    shared->warnings_left = WARNINGS_SHOWN;
    shared->on_all_finished = on_all_finished;
    latency_histogram_init(&shared->latency);
    run->progress = !run->opts.quiet && !run->opts.json && isatty(STDERR_FILENO);
    shared->progress_line = run->progress;

    run->clients = calloc(run->opts.sensors, sizeof(*run->clients));
    if (run->clients == NULL) {
        fprintf(stderr, "sensor-sim: out of memory for %u sensors\n", run->opts.sensors);
        return -1;
    }
    uv_update_time(&run->loop);
    shared->start_ms = uv_now(&run->loop);
    for (unsigned i = 0; i < run->opts.sensors; i++) {
        char err[160];
        if (sim_client_create(shared, i, &run->clients[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "sensor-sim: %s\n", err);
            /* Close what exists so the loop can still be closed cleanly. */
            for (unsigned j = 0; j < i; j++)
                sim_client_close(run->clients[j]);
            run->opts.sensors = 0;
            return -1;
        }
    }

    uv_timer_init(&run->loop, &run->deadline_timer);
    uv_timer_init(&run->loop, &run->drain_timer);
    uv_timer_init(&run->loop, &run->progress_timer);
    uv_signal_init(&run->loop, &run->sigint);
    uv_signal_init(&run->loop, &run->sigterm);
    run->deadline_timer.data = run;
    run->drain_timer.data = run;
    run->progress_timer.data = run;
    run->sigint.data = run;
    run->sigterm.data = run;
    uv_signal_start(&run->sigint, on_signal, SIGINT);
    uv_signal_start(&run->sigterm, on_signal, SIGTERM);
    if (!run->opts.count_mode)
        uv_timer_start(&run->deadline_timer, on_deadline, (uint64_t)(run->opts.duration_s * 1000.0),
                       0);
    run->started_ns = uv_hrtime();
    run->progress_ns = run->started_ns;
    if (run->progress)
        uv_timer_start(&run->progress_timer, on_progress_timer, 1000, 1000);
    for (unsigned i = 0; i < run->opts.sensors; i++)
        sim_client_start(run->clients[i]);
    return 0;
}

static void print_summary(const struct sim_run *run, struct sim_summary *summary)
{
    double elapsed_s = (double)(run->finished_ns - run->started_ns) / NS_PER_S;
    sim_summary_fill(summary, run->opts.sensors, &run->shared.counters, &run->shared.latency,
                     elapsed_s);
    if (run->progress)
        sim_report_clear_progress(stderr);
    if (summary->counters.sent == 0)
        fprintf(stderr, "sensor-sim: no frame was sent: is the hub listening on %s?\n",
                run->shared.hub_name);
    if (run->opts.json)
        sim_report_json(stdout, summary);
    else
        sim_report_text(stderr, summary);
}

int main(int argc, char **argv)
{
    /* A write to a connection the hub reset must fail with EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);

    struct sim_run *run = calloc(1, sizeof(*run));
    if (run == NULL) {
        fputs("sensor-sim: out of memory\n", stderr);
        return 1;
    }
    char err[256];
    switch (sim_options_parse(argc, argv, &run->opts, err, sizeof(err))) {
    case SIM_OPTIONS_RUN:
        break;
    case SIM_OPTIONS_HELP:
        sim_options_usage(stdout);
        free(run);
        return 0;
    case SIM_OPTIONS_VERSION:
        printf("sensor-sim %s\n", SENSORHUB_VERSION);
        free(run);
        return 0;
    case SIM_OPTIONS_ERROR:
        fprintf(stderr, "sensor-sim: %s (see sensor-sim --help)\n", err);
        free(run);
        return 2;
    }
    if (ensure_file_limit(run->opts.sensors) != 0) {
        free(run);
        return 2;
    }
    int rc = uv_loop_init(&run->loop);
    if (rc != 0) {
        fprintf(stderr, "sensor-sim: cannot start the event loop: %s\n", uv_strerror(rc));
        free(run);
        return 1;
    }

    int status = 2;
    if (resolve_hub(run) == 0) {
        status = 1;
        if (run_start(run) == 0) {
            uv_run(&run->loop, UV_RUN_DEFAULT);
            struct sim_summary summary;
            print_summary(run, &summary);
            status = sim_summary_exit_status(&summary, run->opts.count_mode,
                                             (uint64_t)run->opts.sensors * run->opts.count);
        } else {
            uv_run(&run->loop, UV_RUN_DEFAULT); /* lets the clients created close */
        }
    }
    free(run->clients);
    if (uv_loop_close(&run->loop) != 0) {
        fputs("sensor-sim: internal error: handles left open at exit\n", stderr);
        status = 1;
    }
    free(run);
    return status;
}
