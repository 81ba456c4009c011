#include "sim_client.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim_values.h"

/* Reconnect delays: 100 ms doubling up to 5 s, with "equal jitter" (half
 * fixed, half random) so that sensors dropped together do not return together. */
#define BACKOFF_FIRST_MS 100u
#define BACKOFF_MAX_MS 5000u
/* Acks are short lines (tens of bytes, error acks a few hundred); a line that
 * does not fit is skipped. */
#define ACK_BUFFER_BYTES 4096
/* Longest sensor name: "sim-" + location + "-" + sensor number. */
#define NAME_MAX_LEN (4 + SIM_LOCATION_MAX + 1 + 10)
/* Largest seq a JSON integer holds exactly (PROTOCOL.md). */
#define SEQ_MAX 9007199254740991.0

enum client_state {
    CLIENT_IDLE,       /* no socket: before the first connect, or waiting to reconnect */
    CLIENT_CONNECTING, /* socket open, connect in progress */
    CLIENT_CONNECTED,  /* sending and reading acks */
    CLIENT_CLOSING,    /* socket closing; on_tcp_closed follows */
};

/* A frame sent (or about to be) and not yet answered. Its text lives in the
 * client's texts at the same slot, so it can be resent unchanged. */
struct inflight_frame {
    uint64_t seq;     /* the frame's seq, to check the ack against */
    uint64_t sent_ns; /* uv_hrtime() of the latest write of this frame */
    size_t len;       /* length of its text */
};

/* One parsed ack line. */
struct ack {
    bool ok;         /* "ok":true */
    bool dup;        /* "dup":true */
    bool has_seq;    /* a valid "seq" was present */
    uint64_t seq;    /* its value */
    char error[200]; /* "error" text of a negative ack, escaped for printing */
};

struct sim_client {
    struct sim_shared *shared;     /* run-wide state and counters */
    char name[NAME_MAX_LEN + 1];   /* "sim-bedroom-2" */
    char prefix[SIM_FRAME_MAX];    /* {"sensor":...,"location":..., ahead of every frame */
    size_t prefix_len;             /* its length */
    struct sim_values values;      /* the sensor's climate, deterministic from the seed */
    struct sim_rng jitter;         /* backoff jitter, apart from values so they stay reproducible */
    uv_tcp_t tcp;                  /* the connection; re-initialised for each reconnect */
    uv_connect_t connect_req;      /* the connect in progress */
    uv_write_t write_req;          /* the one write in progress, if writing */
    uv_timer_t pace_timer;         /* wakes the sensor when its next frame is due */
    uv_timer_t retry_timer;        /* waits out the backoff before reconnecting */
    enum client_state state;       /* where the connection stands */
    unsigned open_handles;         /* initialised handles not yet closed */
    bool closing;                  /* sim_client_close was called; free once all handles close */
    bool writing;                  /* write_req and outbuf are in use */
    bool ever_connected;           /* a later connect counts as a reconnect */
    bool finished;                 /* counted in shared->finished */
    bool skipping_line;            /* discarding the rest of an overlong ack line */
    unsigned backoff_attempts;     /* failed connects since the last good ack */
    double first_frame_ms;         /* loop time frame 0 is due, staggered across sensors */
    uint64_t frame_limit;          /* frames this sensor creates at most (UINT64_MAX: no limit) */
    uint64_t created;              /* frames created so far; also the last seq used */
    int64_t last_ts_ms;            /* ts of the last frame, to keep ts strictly increasing */
    unsigned window;               /* slots in frames/texts */
    unsigned head;                 /* slot of the oldest frame in flight */
    unsigned inflight;             /* frames created and not yet answered */
    unsigned written;              /* of those, frames written on the current connection */
    struct inflight_frame *frames; /* window slots */
    char *texts;                   /* window * SIM_FRAME_MAX: each slot's frame text */
    char *outbuf;                  /* window * SIM_FRAME_MAX: the batch being written */
    size_t ack_len;                /* bytes of unparsed ack text in ack_buf */
    char ack_buf[ACK_BUFFER_BYTES]; /* acks read, up to the last full line */
};

void sim_warn(struct sim_shared *shared, const char *fmt, ...)
{
    if (shared->warnings_left == 0)
        return;
    shared->warnings_left--;
    if (shared->progress_line)
        sim_report_clear_progress(stderr);
    va_list ap;
    va_start(ap, fmt);
    fputs("sensor-sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (shared->warnings_left == 0)
        fputs("sensor-sim: further messages are not shown; the summary counts everything\n",
              stderr);
}

/* Copies untrusted text for a message: control bytes escaped (\xNN), cut
 * with "..." when it does not fit. */
static void escape_text(char *dst, size_t cap, const char *src, size_t len)
{
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)src[i];
        char piece[5];
        size_t n;
        if (ch < 0x20 || ch == 0x7f)
            n = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", ch);
        else {
            piece[0] = (char)ch;
            n = 1;
        }
        if (out + n + 4 > cap) {
            memcpy(dst + out, "...", 3);
            out += 3;
            break;
        }
        memcpy(dst + out, piece, n);
        out += n;
    }
    dst[out] = '\0';
}

static unsigned next_slot(const struct sim_client *c, unsigned slot)
{
    return slot + 1 == c->window ? 0 : slot + 1;
}

static unsigned slot_at(const struct sim_client *c, unsigned offset_from_head)
{
    unsigned slot = c->head + offset_from_head;
    return slot >= c->window ? slot - c->window : slot;
}

static void on_connect(uv_connect_t *req, int status);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_write_done(uv_write_t *req, int status);
static void on_tcp_closed(uv_handle_t *handle);
static void client_pump(struct sim_client *c);

/* Frees the client once sim_client_close was called and every handle closed. */
static void client_release_if_closed(struct sim_client *c)
{
    if (!c->closing || c->open_handles != 0)
        return;
    free(c->frames);
    free(c->texts);
    free(c->outbuf);
    free(c);
}

static void on_timer_closed(uv_handle_t *handle)
{
    struct sim_client *c = handle->data;
    c->open_handles--;
    client_release_if_closed(c);
}

/* A sensor is finished when it will create no more frames and has none in
 * flight; the run ends when every sensor is. */
static void client_check_finished(struct sim_client *c)
{
    if (c->finished || c->closing)
        return;
    bool no_more_frames = c->shared->stopping || c->created >= c->frame_limit;
    if (!no_more_frames || c->inflight != 0)
        return;
    c->finished = true;
    uv_timer_stop(&c->pace_timer);
    uv_timer_stop(&c->retry_timer);
    struct sim_shared *shared = c->shared;
    if (++shared->finished == shared->opts->sensors)
        shared->on_all_finished(shared);
}

/* Drops the connection after an error or EOF; on_tcp_closed decides whether
 * to reconnect. Frames written on it will be resent on the next connection. */
static void client_connection_lost(struct sim_client *c, const char *what, int status)
{
    if (c->state != CLIENT_CONNECTING && c->state != CLIENT_CONNECTED)
        return;
    struct sim_shared *shared = c->shared;
    if (c->state == CLIENT_CONNECTED)
        shared->counters.connected--;
    shared->counters.connection_errors++;
    /* One message per outage, not one per retry. */
    if (!c->finished && c->backoff_attempts == 0)
        sim_warn(shared, "%s: %s %s: %s; reconnecting%s", c->name, what, shared->hub_name,
                 status == UV_EOF ? "the hub closed the connection" : uv_strerror(status),
                 c->inflight > 0 ? " to resend the frames not acked" : "");
    c->state = CLIENT_CLOSING;
    c->written = 0; /* everything in flight goes again on the next connection */
    c->ack_len = 0;
    c->skipping_line = false;
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

static void on_retry_timer(uv_timer_t *timer);

static void client_schedule_reconnect(struct sim_client *c)
{
    unsigned shift = c->backoff_attempts < 6 ? c->backoff_attempts : 6;
    unsigned delay = BACKOFF_FIRST_MS << shift;
    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    delay = delay / 2 + (unsigned)(sim_rng_uniform(&c->jitter) * (delay / 2 + 1));
    c->backoff_attempts++;
    uv_timer_start(&c->retry_timer, on_retry_timer, delay, 0);
}

static void on_tcp_closed(uv_handle_t *handle)
{
    struct sim_client *c = handle->data;
    c->open_handles--;
    c->state = CLIENT_IDLE;
    if (c->closing) {
        client_release_if_closed(c);
        return;
    }
    client_check_finished(c);
    if (!c->finished && !c->closing)
        client_schedule_reconnect(c);
}

static void client_connect(struct sim_client *c)
{
    struct sim_shared *shared = c->shared;
    int rc = uv_tcp_init(shared->loop, &c->tcp);
    if (rc != 0) {
        shared->counters.connection_errors++;
        sim_warn(shared, "%s: cannot create a socket: %s", c->name, uv_strerror(rc));
        client_schedule_reconnect(c);
        return;
    }
    c->tcp.data = c;
    c->open_handles++;
    c->state = CLIENT_CONNECTING;
    rc = uv_tcp_connect(&c->connect_req, &c->tcp, (const struct sockaddr *)&shared->hub_addr,
                        on_connect);
    if (rc != 0)
        client_connection_lost(c, "cannot connect to", rc);
}

static void on_retry_timer(uv_timer_t *timer)
{
    client_connect(timer->data);
}

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    (void)suggested_size;
    struct sim_client *c = handle->data;
    /* Never empty: a full buffer is emptied after each read (client_read_acks). */
    buf->base = c->ack_buf + c->ack_len;
    buf->len = sizeof(c->ack_buf) - c->ack_len;
}

static void on_connect(uv_connect_t *req, int status)
{
    struct sim_client *c = req->data;
    if (status == UV_ECANCELED || c->state != CLIENT_CONNECTING)
        return; /* closed while connecting */
    if (status < 0) {
        client_connection_lost(c, "cannot connect to", status);
        return;
    }
    struct sim_shared *shared = c->shared;
    c->state = CLIENT_CONNECTED;
    shared->counters.connected++;
    if (c->ever_connected)
        shared->counters.reconnects++;
    c->ever_connected = true;
    /* Frames are batched already; Nagle would only add latency. */
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
        client_connection_lost(c, "cannot read from", rc);
        return;
    }
    client_pump(c);
}

/* Frames due by loop time now_ms: frame k is due at first_frame_ms + k / rate,
 * counted from the start so that timer lateness never accumulates. */
static uint64_t frames_due(const struct sim_client *c, uint64_t now_ms)
{
    if (c->shared->stopping)
        return c->created;
    double rate = c->shared->opts->rate;
    if (rate <= 0.0)
        return c->frame_limit;
    if ((double)now_ms < c->first_frame_ms)
        return 0;
    double due = floor(((double)now_ms - c->first_frame_ms) * rate / 1000.0) + 1.0;
    return due >= (double)c->frame_limit ? c->frame_limit : (uint64_t)due;
}

/* Formats the next frame into the next free slot. Its text always fits: the
 * prefix is at most ~120 bytes and the rest at most ~80. */
static void client_create_frame(struct sim_client *c, int64_t wall_ms)
{
    unsigned slot = slot_at(c, c->inflight);
    int64_t ts = wall_ms > c->last_ts_ms ? wall_ms : c->last_ts_ms + 1;
    c->last_ts_ms = ts;
    struct sim_reading reading = sim_values_next(&c->values, ts);
    uint64_t seq = ++c->created;
    c->frames[slot].seq = seq;
    c->frames[slot].len = sim_frame_format(c->texts + (size_t)slot * SIM_FRAME_MAX, SIM_FRAME_MAX,
                                           c->prefix, c->prefix_len, reading, ts, seq);
    c->inflight++;
    c->shared->counters.sent++;
}

/* Writes every frame in flight not yet written on this connection, in one
 * uv_write: one write at a time per connection, so frames that become due
 * meanwhile go together in the next one. */
static void client_flush(struct sim_client *c)
{
    if (c->state != CLIENT_CONNECTED || c->writing || c->written == c->inflight)
        return;
    uint64_t now_ns = uv_hrtime();
    size_t len = 0;
    for (unsigned i = c->written; i < c->inflight; i++) {
        unsigned slot = slot_at(c, i);
        memcpy(c->outbuf + len, c->texts + (size_t)slot * SIM_FRAME_MAX, c->frames[slot].len);
        len += c->frames[slot].len;
        c->frames[slot].sent_ns = now_ns;
    }
    c->written = c->inflight;
    uv_buf_t buf = uv_buf_init(c->outbuf, (unsigned)len);
    int rc = uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &buf, 1, on_write_done);
    if (rc != 0) {
        client_connection_lost(c, "cannot write to", rc);
        return;
    }
    c->writing = true;
}

static void on_write_done(uv_write_t *req, int status)
{
    struct sim_client *c = req->data;
    c->writing = false;
    if (status < 0) {
        if (status != UV_ECANCELED)
            client_connection_lost(c, "lost connection to", status);
        return;
    }
    client_flush(c);
}

static void on_pace_timer(uv_timer_t *timer)
{
    client_pump(timer->data);
}

/* Arms the pacing timer for the next frame that is not due yet. */
static void client_schedule_next(struct sim_client *c, uint64_t due, uint64_t now_ms)
{
    double rate = c->shared->opts->rate;
    if (rate <= 0.0 || c->shared->stopping || due >= c->frame_limit || c->inflight == c->window)
        return; /* nothing more to time, or an ack will call client_pump */
    double next_ms = c->first_frame_ms + (double)due * 1000.0 / rate;
    double delay = ceil(next_ms - (double)now_ms);
    uv_timer_start(&c->pace_timer, on_pace_timer, delay < 1.0 ? 1 : (uint64_t)delay, 0);
}

/* Creates the frames that are due and fit in the window, writes them, and
 * arranges to be called again: by the pacing timer or by the next ack. */
static void client_pump(struct sim_client *c)
{
    if (c->state != CLIENT_CONNECTED)
        return;
    uint64_t now_ms = uv_now(c->shared->loop);
    uint64_t due = frames_due(c, now_ms);
    if (c->created < due && c->inflight < c->window) {
        uv_timeval64_t tv;
        uv_gettimeofday(&tv);
        int64_t wall_ms = tv.tv_sec * 1000 + tv.tv_usec / 1000;
        while (c->created < due && c->inflight < c->window)
            client_create_frame(c, wall_ms);
    }
    client_flush(c);
    client_schedule_next(c, due, now_ms);
    client_check_finished(c);
}

/* Reads an unsigned JSON integer at *p (no sign, fraction or exponent). */
static bool parse_digits(const char **p, const char *end, uint64_t *out)
{
    const char *q = *p;
    uint64_t value = 0;
    while (q < end && *q >= '0' && *q <= '9' && q - *p < 16)
        value = value * 10 + (uint64_t)(*q++ - '0');
    if (q == *p || (q < end && *q >= '0' && *q <= '9'))
        return false;
    *p = q;
    *out = value;
    return true;
}

/* The ack shapes the hub sends for good frames, {"ok":true,"seq":N} and
 * {"ok":true,"seq":N,"dup":true}, parsed without cJSON: at a million acks a
 * second the general parser would cost more than everything else. */
static bool parse_ack_fast(const char *line, size_t len, struct ack *a)
{
    static const char head[] = "{\"ok\":true,\"seq\":", dup_tail[] = ",\"dup\":true}";
    const char *end = line + len;
    if (len < sizeof(head) || memcmp(line, head, sizeof(head) - 1) != 0)
        return false;
    const char *p = line + sizeof(head) - 1;
    if (!parse_digits(&p, end, &a->seq))
        return false;
    if (end - p == 1 && *p == '}')
        a->dup = false;
    else if ((size_t)(end - p) == sizeof(dup_tail) - 1 &&
             memcmp(p, dup_tail, sizeof(dup_tail) - 1) == 0)
        a->dup = true;
    else
        return false;
    a->ok = true;
    a->has_seq = true;
    a->error[0] = '\0';
    return true;
}

/* Any other ack, with cJSON. Returns false when the line is not an object
 * with a boolean "ok". */
static bool parse_ack_general(const char *line, size_t len, struct ack *a)
{
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &parse_end, false);
    if (root == NULL)
        return false;
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
    bool readable = cJSON_IsObject(root) && cJSON_IsBool(ok);
    if (readable) {
        a->ok = cJSON_IsTrue(ok);
        a->dup = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "dup"));
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(root, "seq");
        double v = cJSON_IsNumber(seq) ? seq->valuedouble : -1.0;
        a->has_seq = v >= 0.0 && v <= SEQ_MAX && v == floor(v);
        a->seq = a->has_seq ? (uint64_t)v : 0;
        const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
        const char *text = cJSON_IsString(error) ? error->valuestring : "(no error text)";
        escape_text(a->error, sizeof(a->error), text, strlen(text));
    }
    cJSON_Delete(root);
    return readable;
}

/* Matches one ack line to the oldest frame in flight (acks come in order). */
static void client_handle_ack(struct sim_client *c, const char *line, size_t len, uint64_t now_ns)
{
    struct sim_shared *shared = c->shared;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return;
    struct ack a;
    bool readable = parse_ack_fast(line, len, &a) || parse_ack_general(line, len, &a);
    char shown[120];
    if (!readable || (!a.has_seq && !a.ok) || c->written == 0) {
        /* Not an answer to one of our frames (a refusal of one would carry
         * its valid seq): a hub message such as a connection limit, or garbage. */
        escape_text(shown, sizeof(shown), line, len);
        sim_warn(shared, "%s: unexpected line from the hub: \"%s\"", c->name, shown);
        return;
    }
    struct inflight_frame *frame = &c->frames[c->head];
    latency_histogram_record(&shared->latency, now_ns - frame->sent_ns);
    if (a.has_seq && a.seq != frame->seq)
        sim_warn(shared,
                 "%s: ack for seq %llu while the oldest frame in flight is seq %llu; acks "
                 "should come in order",
                 c->name, (unsigned long long)a.seq, (unsigned long long)frame->seq);
    if (a.ok) {
        shared->counters.acked++;
        if (a.dup)
            shared->counters.duplicates++;
    } else {
        shared->counters.refused++;
        sim_warn(shared, "%s: frame seq %llu refused: %s", c->name, (unsigned long long)frame->seq,
                 a.error);
    }
    c->head = next_slot(c, c->head);
    c->inflight--;
    c->written--;
    c->backoff_attempts = 0; /* the hub is answering: next outage starts from 100 ms */
}

/* Handles every complete line in ack_buf, then keeps the partial last line,
 * compacting once per read rather than once per ack. */
static void client_read_acks(struct sim_client *c)
{
    uint64_t now_ns = uv_hrtime();
    const char *p = c->ack_buf, *end = c->ack_buf + c->ack_len;
    const char *newline;
    while (c->state == CLIENT_CONNECTED && (newline = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (c->skipping_line)
            c->skipping_line = false;
        else
            client_handle_ack(c, p, (size_t)(newline - p), now_ns);
        p = newline + 1;
    }
    size_t rest = (size_t)(end - p);
    if (rest == sizeof(c->ack_buf)) {
        if (!c->skipping_line)
            sim_warn(c->shared, "%s: a line from the hub is longer than %d bytes; skipped", c->name,
                     ACK_BUFFER_BYTES);
        c->skipping_line = true;
        rest = 0;
    }
    memmove(c->ack_buf, p, rest);
    c->ack_len = rest;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct sim_client *c = stream->data;
    if (nread > 0) {
        c->ack_len += (size_t)nread;
        client_read_acks(c);
        client_pump(c);
    } else if (nread < 0) {
        client_connection_lost(c, "lost connection to", (int)nread);
    }
}

int sim_client_create(struct sim_shared *shared, unsigned index, struct sim_client **out, char *err,
                      size_t errlen)
{
    const struct sim_options *opts = shared->opts;
    struct sim_client *c = calloc(1, sizeof(*c));
    if (c != NULL) {
        c->frames = calloc(opts->window, sizeof(*c->frames));
        c->texts = malloc((size_t)opts->window * SIM_FRAME_MAX);
        c->outbuf = malloc((size_t)opts->window * SIM_FRAME_MAX);
    }
    if (c == NULL || c->frames == NULL || c->texts == NULL || c->outbuf == NULL) {
        if (c != NULL) {
            free(c->frames);
            free(c->texts);
            free(c->outbuf);
            free(c);
        }
        snprintf(err, errlen, "out of memory for sensor %u (window %u)", index + 1, opts->window);
        return -1;
    }
    c->shared = shared;
    c->window = opts->window;
    const char *location = opts->locations[index % opts->location_count];
    snprintf(c->name, sizeof(c->name), "sim-%s-%u", location, index / opts->location_count + 1);
    c->prefix_len = sim_frame_prefix(c->prefix, sizeof(c->prefix), c->name, location);
    sim_values_init(&c->values, location, opts->seed, index);
    /* A stream no sensor's values use: jitter must not change the values. */
    sim_rng_seed(&c->jitter, opts->seed, (uint64_t)index + SIM_MAX_SENSORS);
    c->last_ts_ms = -1;
    c->state = CLIENT_IDLE;

    double rate = opts->rate;
    /* Spread the sensors' first frames over one frame period (within the
     * duration) so they do not all send at once; with --duration, a sensor
     * sends the frames due before the end: at least its first. */
    double spread_ms = rate > 0.0 ? 1000.0 / rate : 0.0;
    if (!opts->count_mode && spread_ms > opts->duration_s * 1000.0)
        spread_ms = opts->duration_s * 1000.0;
    double offset_ms = spread_ms * index / opts->sensors;
    c->first_frame_ms = (double)shared->start_ms + offset_ms;
    if (opts->count_mode)
        c->frame_limit = opts->count;
    else if (rate > 0.0)
        c->frame_limit = (uint64_t)ceil((opts->duration_s * 1000.0 - offset_ms) * rate / 1000.0);
    else
        c->frame_limit = UINT64_MAX;

    uv_timer_init(shared->loop, &c->pace_timer);
    uv_timer_init(shared->loop, &c->retry_timer);
    c->pace_timer.data = c;
    c->retry_timer.data = c;
    c->connect_req.data = c;
    c->write_req.data = c;
    c->open_handles = 2;
    *out = c;
    return 0;
}

void sim_client_start(struct sim_client *c)
{
    client_connect(c);
}

void sim_client_send_due(struct sim_client *c)
{
    client_pump(c);
}

void sim_client_stop_sending(struct sim_client *c)
{
    if (c->closing)
        return;
    uv_timer_stop(&c->pace_timer);
    client_check_finished(c);
}

void sim_client_close(struct sim_client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->state == CLIENT_CONNECTED)
        c->shared->counters.connected--;
    if (c->state == CLIENT_CONNECTING || c->state == CLIENT_CONNECTED) {
        c->state = CLIENT_CLOSING;
        uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
    }
    uv_close((uv_handle_t *)&c->pace_timer, on_timer_closed);
    uv_close((uv_handle_t *)&c->retry_timer, on_timer_closed);
}
