#include "client.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ack_format.h"
#include "frame_decode.h"
#include "hub.h"
#include "log.h"

/* After the hub half-closes a connection it has given up on (error limit, bad
 * token, too many connections), it keeps reading and discarding for this long
 * so the peer gets the last ack instead of a reset. */
#define CLIENT_LINGER_MS 2000

/* SO_SNDBUF for a connection (Linux doubles it for its bookkeeping). */
#define CLIENT_SEND_BUFFER_BYTES 32768

/* A write request and its bytes, allocated together and freed together in
 * on_write_done (libuv's echo-server pattern). */
struct ack_write {
    uv_write_t req;
    uint32_t acks; /* acks carried, released from the unacked count when written */
    char data[];
};

static void close_now(struct client *c, const char *reason);
static void arm_timer(struct client *c);
static void start_reading(struct client *c);

static int64_t wall_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct config *cfg_of(const struct client *c)
{
    return c->hub->cfg;
}

/* Frames read whose ack has not been handed to the kernel yet. */
static uint32_t unacked(const struct client *c)
{
    return c->acks.count + c->acks_writing;
}

static void format_peer(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(in6, host, sizeof(host));
        snprintf(out, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
    } else if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        uv_ip4_name(in4, host, sizeof(host));
        snprintf(out, cap, "%s:%u", host, ntohs(in4->sin_port));
    } else {
        snprintf(out, cap, "unknown");
    }
}

static void maybe_free(struct client *c)
{
    if (c->handles_open > 0 || c->store_inflight > 0)
        return;
    struct hub *hub = c->hub;
    if (c->prev)
        c->prev->next = c->next;
    else
        hub->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    framer_free(&c->framer);
    ack_queue_free(&c->acks);
    error_limit_free(&c->errors);
    free(c->held);
    free(c);
    hub_client_gone(hub);
}

static void on_close(uv_handle_t *handle)
{
    struct client *c = handle->data;
    c->handles_open--;
    maybe_free(c);
}

/* Its place under max_connections is free as soon as the hub is done with
 * it (all acks written, or given up), not when the socket has lingered and
 * its last reading has come back from the store. Logs the close line once. */
static void release_place(struct client *c, const char *reason)
{
    if (!c->close_reason)
        c->close_reason = reason;
    if (!c->counted)
        return;
    c->counted = false;
    c->hub->client_count--;
    log_info("client %" PRIu64 " %s: closed (%s): %" PRIu64 " stored, %" PRIu64
             " duplicates, %" PRIu64 " refused, %" PRIu64 " not stored (storage)",
             c->id, c->peer, c->close_reason ? c->close_reason : "closed", c->stored, c->duplicates,
             c->refused, c->storage_failed);
}

static void close_now(struct client *c, const char *reason)
{
    if (c->closing)
        return;
    c->closing = true;
    release_place(c, reason);
    uv_close((uv_handle_t *)&c->tcp, on_close);
    uv_close((uv_handle_t *)&c->timer, on_close);
}

static void stop_reading(struct client *c)
{
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
}

/* The connection will be closed once its acks are out: no more framing. */
static void finish_input(struct client *c, const char *reason)
{
    c->input_done = true;
    c->close_when_drained = true;
    if (!c->close_reason)
        c->close_reason = reason;
    free(c->held);
    c->held = NULL;
    c->held_len = c->held_off = 0;
    c->paused = false;
}

static void push_line(struct client *c, char *line, size_t len)
{
    if (!line || ack_queue_push_text(&c->acks, line, len) != 0) {
        log_error("client %" PRIu64 " %s: out of memory for an ack", c->id, c->peer);
        finish_input(c, "out of memory");
    }
}

static void push_error(struct client *c, bool has_seq, int64_t seq, const char *cmd_json,
                       const char *error)
{
    size_t len = 0;
    char *line = ack_error_line(has_seq, seq, cmd_json, error, &len);
    push_line(c, line, len);
}

static void push_answer(struct client *c, const char *cmd_json, const char *members)
{
    size_t len = 0;
    char *line = ack_command_line(cmd_json, members, &len);
    push_line(c, line, len);
}

/* An error ack caused by the client's input: logged at debug, counted toward
 * the error limit. */
static void refuse(struct client *c, bool has_seq, int64_t seq, const char *cmd_json,
                   const char *error)
{
    push_error(c, has_seq, seq, cmd_json, error);
    c->refused++;
    if (log_enabled(LOG_DEBUG)) {
        char safe[160];
        log_escape(safe, sizeof(safe), error, strlen(error));
        log_debug("client %" PRIu64 " %s: refused a frame: %s", c->id, c->peer, safe);
    }
    if (c->input_done)
        return;
    int reached = error_limit_add(&c->errors, (int64_t)uv_now(c->hub->loop));
    if (reached > 0) {
        log_warn("client %" PRIu64 " %s: %d errors within a minute (max_errors_per_minute), "
                 "closing",
                 c->id, c->peer, cfg_of(c)->max_errors_per_minute);
        finish_input(c, "too many errors");
    } else if (reached < 0) {
        log_error("client %" PRIu64 " %s: out of memory for its error count", c->id, c->peer);
        finish_input(c, "out of memory");
    }
}

/* Compares in time that depends only on the lengths, not on where the first
 * difference is, so a stranger cannot guess the token byte by byte. */
static bool token_matches(const char *expected, const char *given)
{
    size_t elen = strlen(expected), glen = strlen(given);
    unsigned char diff = (unsigned char)(elen != glen);
    for (size_t i = 0; i < glen; i++)
        diff |= (unsigned char)(given[i] ^ expected[i % (elen ? elen : 1)]);
    return diff == 0;
}

static void answer_command(struct client *c, struct decoded_frame *d)
{
    switch (d->command) {
    case COMMAND_PING:
        push_answer(c, d->cmd_json, NULL);
        break;
    case COMMAND_HELLO: {
        const char *token = cfg_of(c)->auth_token;
        if (token && !(d->token && token_matches(token, d->token))) {
            log_warn("client %" PRIu64 " %s: bad token in hello, closing", c->id, c->peer);
            push_error(c, false, 0, d->cmd_json, "bad token");
            c->refused++;
            finish_input(c, "bad token");
            break;
        }
        c->authed = true;
        push_answer(c, d->cmd_json, NULL);
        break;
    }
    case COMMAND_ECHO: {
        static const char prefix[] = "\"data\":";
        size_t data_len = strlen(d->echo_json);
        char *members = malloc(sizeof(prefix) + data_len);
        if (!members) {
            push_line(c, NULL, 0);
            break;
        }
        memcpy(members, prefix, sizeof(prefix) - 1);
        memcpy(members + sizeof(prefix) - 1, d->echo_json, data_len + 1);
        push_answer(c, d->cmd_json, members);
        free(members);
        break;
    }
    case COMMAND_UNKNOWN:
        refuse(c, false, 0, d->cmd_json, "unknown command");
        break;
    }
}

static void submit_reading(struct client *c, struct decoded_frame *d)
{
    struct store_item *item = store_item_new();
    if (!item || ack_queue_push_waiting(&c->acks, d->has_seq, d->seq) != 0) {
        store_item_free(item);
        log_error("client %" PRIu64 " %s: out of memory for a reading", c->id, c->peer);
        finish_input(c, "out of memory");
        return;
    }
    item->reading = d->reading;
    item->reading.extra = decoded_frame_take_extra(d);
    item->owner = c;
    item->next = NULL;
    c->store_inflight++;
    if (c->submit_last)
        c->submit_last->next = item;
    else
        c->submit_first = item;
    c->submit_last = item;
    c->submit_count++;
}

static void handle_frame(struct client *c, const char *frame, size_t len, int64_t now_ms)
{
    struct decoded_frame d;
    frame_decode(&c->hub->rules, frame, len, now_ms, &d);
    bool is_command = d.kind == FRAME_COMMAND;
    if (cfg_of(c)->auth_token && !c->authed &&
        !(is_command && (d.command == COMMAND_PING || d.command == COMMAND_HELLO))) {
        refuse(c, !is_command && d.has_seq, d.seq, d.cmd_json, "hello with token required");
    } else if (d.kind == FRAME_READING) {
        submit_reading(c, &d);
    } else if (is_command) {
        answer_command(c, &d);
    } else {
        refuse(c, d.has_seq, d.seq, d.cmd_json, d.error);
    }
    decoded_frame_free(&d);
}

/* Keeps bytes that cannot be framed yet because max_unacked acks are pending
 * (Redis's query buffer); at most one read's worth per client. */
static void hold_input(struct client *c, const char *data, size_t len, int64_t recv_ms)
{
    if (c->held && data >= c->held && data < c->held + c->held_len) {
        c->held_off = (size_t)(data - c->held);
    } else {
        c->held = malloc(len);
        if (!c->held) {
            log_error("client %" PRIu64 " %s: out of memory for input", c->id, c->peer);
            finish_input(c, "out of memory");
            return;
        }
        memcpy(c->held, data, len);
        c->held_len = len;
        c->held_off = 0;
        c->held_recv_ms = recv_ms;
    }
    stop_reading(c);
    c->paused = true;
}

/* Hands the readings of one read to the store in one go. */
static void submit_pending(struct client *c)
{
    if (c->submit_count == 0)
        return;
    store_submit(c->hub->store, c->submit_first, c->submit_last, c->submit_count);
    c->submit_first = c->submit_last = NULL;
    c->submit_count = 0;
}

/* Frames data, read from the socket at recv_ms (the readings' receive time,
 * also for bytes held back and framed later). */
static void process_input(struct client *c, const char *data, size_t len, int64_t recv_ms)
{
    uint32_t max_unacked = (uint32_t)cfg_of(c)->max_unacked;
    while (len > 0 && !c->input_done) {
        if (unacked(c) >= max_unacked) {
            hold_input(c, data, len, recv_ms);
            break;
        }
        struct framer_event ev;
        size_t used = framer_feed(&c->framer, data, len, &ev);
        data += used;
        len -= used;
        if (ev.kind == FRAMER_FRAME)
            handle_frame(c, ev.frame, ev.len, recv_ms);
        else if (ev.kind == FRAMER_ERROR)
            refuse(c, false, 0, NULL, ev.error);
    }
    submit_pending(c);
}

static void resume_input(struct client *c)
{
    c->paused = false;
    c->last_read_ms = (int64_t)uv_now(c->hub->loop);
    if (c->held) {
        process_input(c, c->held + c->held_off, c->held_len - c->held_off, c->held_recv_ms);
        if (c->paused)
            return;
        free(c->held);
        c->held = NULL;
        c->held_len = c->held_off = 0;
    }
    if (c->hub->stopping) {
        finish_input(c, "hub stopping");
        return;
    }
    if (!c->input_done && !c->reading && !c->closing)
        start_reading(c);
}

static void on_write_done(uv_write_t *req, int status)
{
    struct ack_write *w = (struct ack_write *)req;
    struct client *c = req->handle->data;
    c->acks_writing -= w->acks;
    free(w);
    if (c->closing)
        return;
    if (status < 0) {
        log_info("client %" PRIu64 " %s: cannot write acks: %s", c->id, c->peer,
                 uv_strerror(status));
        close_now(c, "write failed");
        return;
    }
    /* Acks drained: the peer reads, however slowly, so the write timeout
     * counts from now (or stops when nothing is left). */
    c->write_stalled_ms = c->tcp.write_queue_size ? (int64_t)uv_now(c->hub->loop) : 0;
    client_flush(c);
}

/* Hands every ready ack to the kernel in as few writes as possible: one
 * uv_try_write for everything a read or a commit made ready, and a queued
 * uv_write only for what the socket would not take at once. */
static void write_ready_acks(struct client *c)
{
    struct hub *hub = c->hub;
    uv_stream_t *stream = (uv_stream_t *)&c->tcp;
    for (;;) {
        uint32_t acks;
        size_t len = ack_queue_take_ready(&c->acks, hub->ack_buf, hub->ack_buf_cap, &acks);
        if (len == 0)
            return;
        uv_buf_t buf = uv_buf_init(hub->ack_buf, (unsigned)len);
        int written = uv_try_write(stream, &buf, 1);
        if (written == (int)len)
            continue;
        if (written < 0 && written != UV_EAGAIN) {
            log_info("client %" PRIu64 " %s: cannot write acks: %s", c->id, c->peer,
                     uv_strerror(written));
            close_now(c, "write failed");
            return;
        }
        size_t done = written > 0 ? (size_t)written : 0;
        struct ack_write *w = malloc(sizeof(*w) + len - done);
        if (!w) {
            log_error("client %" PRIu64 " %s: out of memory for acks", c->id, c->peer);
            close_now(c, "out of memory");
            return;
        }
        memcpy(w->data, hub->ack_buf + done, len - done);
        w->acks = acks;
        buf = uv_buf_init(w->data, (unsigned)(len - done));
        int r = uv_write(&w->req, stream, &buf, 1, on_write_done);
        if (r < 0) {
            free(w);
            log_info("client %" PRIu64 " %s: cannot write acks: %s", c->id, c->peer,
                     uv_strerror(r));
            close_now(c, "write failed");
            return;
        }
        c->acks_writing += acks;
        if (c->write_stalled_ms == 0) {
            c->write_stalled_ms = (int64_t)uv_now(hub->loop);
            arm_timer(c);
        }
    }
}

static void on_linger_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    if (nread < 0)
        close_now(stream->data, NULL);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct client *c = handle->data;
    *buf = uv_buf_init(c->hub->read_buf, (unsigned)c->hub->read_buf_cap);
}

/* Our side is shut: close at once when the peer is done too or the hub is
 * stopping, else drain and discard what the peer still sends for a moment. */
static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct client *c = req->handle->data;
    if (c->closing)
        return;
    if (status < 0 || c->peer_eof || c->hub->stopping) {
        close_now(c, NULL);
        return;
    }
    c->linger_until_ms = (int64_t)uv_now(c->hub->loop) + CLIENT_LINGER_MS;
    arm_timer(c);
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_linger_read) != 0)
        close_now(c, NULL);
}

static void begin_shutdown(struct client *c)
{
    if (c->shutting_down || c->closing)
        return;
    c->shutting_down = true;
    release_place(c, NULL);
    stop_reading(c);
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        close_now(c, NULL);
}

void client_flush(struct client *c)
{
    uint32_t max_unacked = (uint32_t)cfg_of(c)->max_unacked;
    for (;;) {
        if (c->closing)
            return;
        write_ready_acks(c);
        if (c->closing || !c->paused || unacked(c) >= max_unacked)
            break;
        resume_input(c);
    }
    if (c->close_when_drained && c->acks.count == 0)
        begin_shutdown(c);
}

static void end_of_input(struct client *c)
{
    stop_reading(c);
    c->peer_eof = true;
    if (!c->input_done) {
        struct framer_event ev;
        if (framer_finish(&c->framer, &ev))
            refuse(c, false, 0, NULL, ev.error);
    }
    finish_input(c, "peer closed");
    client_flush(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct client *c = stream->data;
    if (nread > 0) {
        c->last_read_ms = (int64_t)uv_now(c->hub->loop);
        process_input(c, buf->base, (size_t)nread, wall_clock_ms());
        client_flush(c);
    } else if (nread == UV_EOF) {
        end_of_input(c);
    } else if (nread < 0) {
        log_info("client %" PRIu64 " %s: connection lost: %s", c->id, c->peer,
                 uv_strerror((int)nread));
        close_now(c, "connection lost");
    }
}

static void start_reading(struct client *c)
{
    int r = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (r != 0) {
        log_warn("client %" PRIu64 " %s: cannot read: %s", c->id, c->peer, uv_strerror(r));
        close_now(c, "read failed");
        return;
    }
    c->reading = true;
    /* The idle deadline applies again (it was off while paused). */
    arm_timer(c);
}

/* The earliest of the idle deadline, the write deadline and the linger
 * deadline; re-armed lazily (a read only moves last_read_ms). */
static int64_t next_deadline(const struct client *c)
{
    const struct config *cfg = cfg_of(c);
    int64_t due = INT64_MAX;
    if (c->shutting_down) {
        if (c->linger_until_ms)
            due = c->linger_until_ms;
    } else if (!c->input_done && !c->paused) {
        due = c->last_read_ms + (int64_t)cfg->idle_timeout_s * 1000;
    }
    if (c->write_stalled_ms) {
        int64_t write_due = c->write_stalled_ms + (int64_t)cfg->write_timeout_s * 1000;
        if (write_due < due)
            due = write_due;
    }
    if (c->hub->stopping && c->hub->stop_deadline_ms < due)
        due = c->hub->stop_deadline_ms;
    return due;
}

static void on_timer(uv_timer_t *timer)
{
    struct client *c = timer->data;
    const struct config *cfg = cfg_of(c);
    int64_t now = (int64_t)uv_now(c->hub->loop);
    c->timer_due_ms = 0;
    if (c->shutting_down && c->linger_until_ms && now >= c->linger_until_ms) {
        close_now(c, NULL);
        return;
    }
    if (c->hub->stopping && now >= c->hub->stop_deadline_ms) {
        log_warn("client %" PRIu64 " %s: acks still pending %d s after the stop signal, closing",
                 c->id, c->peer, HUB_STOP_GRACE_MS / 1000);
        close_now(c, "hub stopping");
        return;
    }
    if (c->write_stalled_ms && now - c->write_stalled_ms >= (int64_t)cfg->write_timeout_s * 1000) {
        log_warn("client %" PRIu64 " %s: acks not read for %d s (write_timeout_s), closing", c->id,
                 c->peer, cfg->write_timeout_s);
        close_now(c, "write timeout");
        return;
    }
    if (!c->input_done && !c->paused &&
        now - c->last_read_ms >= (int64_t)cfg->idle_timeout_s * 1000) {
        log_info("client %" PRIu64 " %s: nothing received for %d s (idle_timeout_s), closing",
                 c->id, c->peer, cfg->idle_timeout_s);
        close_now(c, "idle timeout");
        return;
    }
    arm_timer(c);
}

static void arm_timer(struct client *c)
{
    int64_t due = next_deadline(c);
    if (due == INT64_MAX || c->closing)
        return;
    if (c->timer_due_ms != 0 && c->timer_due_ms <= due)
        return;
    int64_t now = (int64_t)uv_now(c->hub->loop);
    c->timer_due_ms = due;
    uv_timer_start(&c->timer, on_timer, due > now ? (uint64_t)(due - now) : 0, 0);
}

int client_accept(struct hub *hub, uv_stream_t *server)
{
    const struct config *cfg = hub->cfg;
    struct client *c = calloc(1, sizeof(*c));
    if (!c)
        return UV_ENOMEM;
    c->hub = hub;
    c->id = ++hub->next_client_id;
    uv_tcp_init(hub->loop, &c->tcp);
    uv_timer_init(hub->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    framer_init(&c->framer, cfg->max_frame_bytes);
    ack_queue_init(&c->acks, (uint32_t)cfg->max_unacked);
    error_limit_init(&c->errors, (uint32_t)cfg->max_errors_per_minute);
    c->next = hub->clients;
    if (hub->clients)
        hub->clients->prev = c;
    hub->clients = c;

    int r = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (r != 0) {
        close_now(c, NULL);
        return r;
    }
    struct sockaddr_storage peer;
    int peer_len = sizeof(peer);
    memset(&peer, 0, sizeof(peer));
    r = uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &peer_len);
    if (r != 0) {
        /* The peer reset the connection while it waited in the backlog. */
        log_info("client %" PRIu64 ": gone before it was accepted: %s", c->id, uv_strerror(r));
        close_now(c, NULL);
        return 0;
    }
    format_peer(&peer, c->peer, sizeof(c->peer));
    c->last_read_ms = (int64_t)uv_now(hub->loop);

    if (!cidr_list_match(&cfg->allowed_sources, (const struct sockaddr *)&peer)) {
        log_warn("client %" PRIu64 " %s: refused: address not in allowed_sources", c->id, c->peer);
        close_now(c, NULL);
        return 0;
    }
    if (hub->client_count >= (size_t)cfg->max_connections) {
        log_warn("client %" PRIu64 " %s: refused: %d connections open (max_connections)", c->id,
                 c->peer, cfg->max_connections);
        char msg[96];
        snprintf(msg, sizeof(msg), "too many connections (max_connections %d)",
                 cfg->max_connections);
        push_error(c, false, 0, NULL, msg);
        finish_input(c, "too many connections");
        client_flush(c);
        return 0;
    }
    c->counted = true;
    hub->client_count++;
    uv_tcp_nodelay(&c->tcp, 1);
    /* A small kernel send buffer makes backpressure start after a few
     * answers to a client that does not read them, instead of after the
     * megabytes Linux's autotuning would queue (kernel memory, and hub work
     * that delays everyone else). Acks are small, so this costs nothing. */
    int sndbuf = CLIENT_SEND_BUFFER_BYTES;
    uv_send_buffer_size((uv_handle_t *)&c->tcp, &sndbuf);
    log_info("client %" PRIu64 " %s: connected", c->id, c->peer);
    start_reading(c);
    arm_timer(c);
    return 0;
}

void client_on_stored(struct client *c, const struct store_item *item)
{
    c->store_inflight--;
    if (c->closing) {
        maybe_free(c);
        return;
    }
    enum ack_result result = ACK_FAILED;
    if (item->status == DB_STORED) {
        result = ACK_STORED;
        c->stored++;
    } else if (item->status == DB_DUPLICATE) {
        result = ACK_DUPLICATE;
        c->duplicates++;
    } else {
        c->storage_failed++;
    }
    ack_queue_complete_oldest(&c->acks, result, item->error);
    if (!c->in_flush_list) {
        c->in_flush_list = true;
        c->flush_next = c->hub->flush_list;
        c->hub->flush_list = c;
    }
}

/* Frames already read but held back by backpressure are still framed, stored
 * and acked as acks drain (PROTOCOL.md: frames the hub has read are stored
 * and acked); the socket is not read again. */
void client_stop(struct client *c)
{
    if (c->closing)
        return;
    stop_reading(c);
    if (!c->paused)
        finish_input(c, "hub stopping");
    arm_timer(c);
    client_flush(c);
}
