#include "sim_report.h"

#define NS_PER_MS 1e6

void sim_summary_fill(struct sim_summary *s, unsigned sensors, const struct sim_counters *c,
                      const struct latency_histogram *latency, double elapsed_s)
{
    s->sensors = sensors;
    s->counters = *c;
    uint64_t answered = c->acked + c->refused;
    s->unacked = c->sent > answered ? c->sent - answered : 0;
    s->elapsed_s = elapsed_s;
    s->rate_per_s = elapsed_s > 0.0 ? (double)c->acked / elapsed_s : 0.0;
    s->p50_ms = (double)latency_histogram_percentile(latency, 50.0) / NS_PER_MS;
    s->p99_ms = (double)latency_histogram_percentile(latency, 99.0) / NS_PER_MS;
    s->max_ms = (double)latency_histogram_percentile(latency, 100.0) / NS_PER_MS;
}

int sim_summary_exit_status(const struct sim_summary *s, bool count_mode, uint64_t expected_frames)
{
    const struct sim_counters *c = &s->counters;
    if (c->sent == 0 || c->acked != c->sent || c->refused != 0)
        return 1;
    if (count_mode && c->sent != expected_frames)
        return 1;
    return 0;
}

void sim_report_text(FILE *out, const struct sim_summary *s)
{
    const struct sim_counters *c = &s->counters;
    fprintf(out,
            "sensor-sim: %u sensors, %.3f s\n"
            "  sent        %llu frames\n"
            "  acked       %llu (%llu duplicates)\n"
            "  refused     %llu\n"
            "  unacked     %llu\n"
            "  reconnects  %llu\n"
            "  rate        %.1f acked/s\n"
            "  latency ms  p50 %.3f  p99 %.3f  max %.3f\n",
            s->sensors, s->elapsed_s, (unsigned long long)c->sent, (unsigned long long)c->acked,
            (unsigned long long)c->duplicates, (unsigned long long)c->refused,
            (unsigned long long)s->unacked, (unsigned long long)c->reconnects, s->rate_per_s,
            s->p50_ms, s->p99_ms, s->max_ms);
}

void sim_report_json(FILE *out, const struct sim_summary *s)
{
    const struct sim_counters *c = &s->counters;
    fprintf(out,
            "{\"sensors\":%u,\"sent\":%llu,\"acked\":%llu,\"duplicates\":%llu,\"refused\":%llu,"
            "\"reconnects\":%llu,\"unacked\":%llu,\"elapsed_s\":%.3f,\"rate_per_s\":%.1f,"
            "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
            s->sensors, (unsigned long long)c->sent, (unsigned long long)c->acked,
            (unsigned long long)c->duplicates, (unsigned long long)c->refused,
            (unsigned long long)c->reconnects, (unsigned long long)s->unacked, s->elapsed_s,
            s->rate_per_s, s->p50_ms, s->p99_ms, s->max_ms);
}

void sim_report_progress(FILE *out, unsigned sensors, const struct sim_counters *c,
                         double acked_per_s)
{
    fprintf(out, "\r\033[Kconnected %u/%u  sent %llu  acked %llu  errors %llu  rate %.0f/s",
            c->connected, sensors, (unsigned long long)c->sent, (unsigned long long)c->acked,
            (unsigned long long)(c->refused + c->connection_errors), acked_per_s);
    fflush(out);
}

void sim_report_clear_progress(FILE *out)
{
    fputs("\r\033[K", out);
}
