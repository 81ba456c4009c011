/* ack_sink: the least a hub can do. Accepts TCP connections on 127.0.0.1,
 * splits each byte stream into lines and answers every line with
 * {"ok":true,"seq":N} (N taken from the line's "seq" member), storing and
 * validating nothing. sensor-sim against it measures the simulator's own
 * ceiling, so a slow simulator is not mistaken for a slow hub.
 *
 *   ack_sink PORT        runs until SIGINT or SIGTERM */

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

/* Longest line kept while waiting for its newline (the hub's max_frame_bytes). */
#define LINE_MAX_BYTES 4096
/* Longest ack: {"ok":true,"seq":9007199254740991}\n */
#define ACK_MAX_BYTES 48
/* Acks queued in the kernel's stead before the sink stops reading a client. */
#define WRITE_QUEUE_MAX (1u << 20)

struct sink {
    uv_loop_t loop;
    uv_tcp_t server;
    uv_signal_t sigint;
    uv_signal_t sigterm;
};

struct sink_client {
    uv_tcp_t tcp;              /* the connection */
    char line[LINE_MAX_BYTES]; /* the unfinished line carried over between reads */
    size_t line_len;           /* its length */
    char readbuf[65536];       /* where libuv reads into */
    bool reading_stopped;      /* paused until queued acks drain */
};

/* A write request and its buffer, allocated together, freed in on_write_done. */
struct ack_write {
    uv_write_t req;
    size_t len;
    char data[];
};

static void on_client_closed(uv_handle_t *handle)
{
    free(handle->data);
}

static void client_close(struct sink_client *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_client_closed);
}

static void on_alloc(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf)
{
    (void)suggested_size;
    struct sink_client *c = handle->data;
    buf->base = c->readbuf;
    buf->len = sizeof(c->readbuf);
}

/* The value of the line's "seq" member, or -1 when it has none. A sink, not a
 * parser: the first "seq": followed by digits wins. */
static long long line_seq(const char *line, size_t len)
{
    static const char key[] = "\"seq\":";
    const size_t key_len = sizeof(key) - 1;
    for (size_t i = 0; i + key_len < len; i++) {
        if (line[i] == '"' && memcmp(line + i, key, key_len) == 0) {
            long long value = 0;
            size_t j = i + key_len;
            if (j >= len || line[j] < '0' || line[j] > '9')
                return -1;
            while (j < len && line[j] >= '0' && line[j] <= '9' && value < 1000000000000000LL)
                value = value * 10 + (line[j++] - '0');
            return value;
        }
    }
    return -1;
}

static size_t format_ack(char *out, const char *line, size_t len)
{
    long long seq = line_seq(line, len);
    int n = seq >= 0 ? snprintf(out, ACK_MAX_BYTES, "{\"ok\":true,\"seq\":%lld}\n", seq)
                     : snprintf(out, ACK_MAX_BYTES, "{\"ok\":true}\n");
    return n > 0 ? (size_t)n : 0;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

static void on_write_done(uv_write_t *req, int status)
{
    struct ack_write *w = (struct ack_write *)req;
    struct sink_client *c = req->handle->data;
    free(w);
    if (status < 0) {
        client_close(c);
        return;
    }
    if (c->reading_stopped && c->tcp.write_queue_size < WRITE_QUEUE_MAX / 2 &&
        !uv_is_closing((uv_handle_t *)&c->tcp)) {
        c->reading_stopped = false;
        if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
            client_close(c);
    }
}

/* Answers every complete line in data[0..len), carrying the unfinished rest. */
static void answer_lines(struct sink_client *c, const char *data, size_t len)
{
    /* At most one ack per newline in this read, plus the carried-over line. */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    if (lines == 0) {
        size_t keep = len < LINE_MAX_BYTES - c->line_len ? len : LINE_MAX_BYTES - c->line_len;
        memcpy(c->line + c->line_len, data, keep);
        c->line_len += keep;
        return;
    }
    struct ack_write *w = malloc(sizeof(*w) + lines * ACK_MAX_BYTES);
    if (w == NULL) {
        client_close(c);
        return;
    }
    w->len = 0;
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n')
            continue;
        if (c->line_len > 0) {
            size_t keep = i < LINE_MAX_BYTES - c->line_len ? i : LINE_MAX_BYTES - c->line_len;
            memcpy(c->line + c->line_len, data, keep);
            w->len += format_ack(w->data + w->len, c->line, c->line_len + keep);
            c->line_len = 0;
        } else {
            w->len += format_ack(w->data + w->len, data + start, i - start);
        }
        start = i + 1;
    }
    size_t rest = len - start;
    c->line_len = rest < LINE_MAX_BYTES ? rest : LINE_MAX_BYTES;
    memcpy(c->line, data + start, c->line_len);

    uv_buf_t out = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &out, 1, on_write_done) != 0) {
        free(w);
        client_close(c);
        return;
    }
    if (c->tcp.write_queue_size > WRITE_QUEUE_MAX) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading_stopped = true;
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct sink_client *c = stream->data;
    if (nread < 0) {
        client_close(c);
        return;
    }
    answer_lines(c, buf->base, (size_t)nread);
}

static void on_connection(uv_stream_t *server, int status)
{
    if (status < 0)
        return;
    struct sink_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
        client_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
}

static void close_any(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (uv_is_closing(handle))
        return;
    /* Clients free themselves; the sink's own handles live in struct sink. */
    uv_close(handle, handle->type == UV_TCP && handle->data != NULL ? on_client_closed : NULL);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    (void)signum;
    uv_walk(handle->loop, close_any, NULL);
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long port = argc == 2 ? strtol(argv[1], &end, 10) : -1;
    if (argc != 2 || *end != '\0' || port < 1 || port > 65535) {
        fputs("usage: ack_sink PORT   (listens on 127.0.0.1:PORT)\n", stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    static struct sink sink;
    uv_loop_init(&sink.loop);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", (int)port, &addr);
    uv_tcp_init(&sink.loop, &sink.server);
    int rc = uv_tcp_bind(&sink.server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&sink.server, 4096, on_connection);
    if (rc != 0) {
        fprintf(stderr, "ack_sink: cannot listen on 127.0.0.1:%ld: %s\n", port, uv_strerror(rc));
        uv_close((uv_handle_t *)&sink.server, NULL);
        uv_run(&sink.loop, UV_RUN_DEFAULT);
        uv_loop_close(&sink.loop);
        return 1;
    }
    uv_signal_init(&sink.loop, &sink.sigint);
    uv_signal_init(&sink.loop, &sink.sigterm);
    uv_signal_start(&sink.sigint, on_signal, SIGINT);
    uv_signal_start(&sink.sigterm, on_signal, SIGTERM);
    uv_run(&sink.loop, UV_RUN_DEFAULT);
    return uv_loop_close(&sink.loop) == 0 ? 0 : 1;
}
