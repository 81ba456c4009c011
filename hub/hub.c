#include "hub.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "log.h"

/* Pending connections the kernel may queue per listener. */
#define HUB_LISTEN_BACKLOG 511

static void on_handle_closed(uv_handle_t *handle)
{
    (void)handle;
}

static void close_handle(uv_handle_t *handle)
{
    if (handle->type != UV_UNKNOWN_HANDLE && !uv_is_closing(handle))
        uv_close(handle, on_handle_closed);
}

/* The hub stops once every client is gone: then the store commits what is
 * left and stops, and the loop runs out of handles. */
static void maybe_finish(struct hub *hub)
{
    if (!hub->stopping || hub->clients || hub->finishing || hub->in_store_callback)
        return;
    hub->finishing = true;
    store_stop(hub->store);
    close_handle((uv_handle_t *)&hub->sigint);
    close_handle((uv_handle_t *)&hub->sigterm);
}

void hub_client_gone(struct hub *hub)
{
    maybe_finish(hub);
}

void hub_on_store_done(struct store_item *items, void *data)
{
    struct hub *hub = data;
    hub->in_store_callback = true;
    while (items) {
        struct store_item *next = items->next;
        client_on_stored(items->owner, items);
        store_item_free(items);
        items = next;
    }
    /* One flush per client per transaction: its acks leave in one write. */
    while (hub->flush_list) {
        struct client *c = hub->flush_list;
        hub->flush_list = c->flush_next;
        c->in_flush_list = false;
        client_flush(c);
    }
    hub->in_store_callback = false;
    maybe_finish(hub);
}

static void on_accept_retry(uv_timer_t *timer);

/* Accepts the connection waiting on listener i. Out of memory, it stays
 * waiting and the retry timer tries again. */
static void accept_on(struct hub *hub, size_t i)
{
    int r = client_accept(hub, (uv_stream_t *)&hub->listeners[i]);
    bool was_waiting = hub->accept_waiting[i];
    hub->accept_waiting[i] = r == UV_ENOMEM;
    if (r == UV_ENOMEM) {
        if (!was_waiting)
            log_warn("cannot accept a connection: out of memory; trying again every %d ms",
                     HUB_ACCEPT_RETRY_MS);
        if (!uv_is_active((uv_handle_t *)&hub->accept_retry))
            uv_timer_start(&hub->accept_retry, on_accept_retry, HUB_ACCEPT_RETRY_MS, 0);
    } else if (was_waiting && r == 0) {
        log_info("accepting connections again: memory was found");
    }
    if (r != 0 && r != UV_ENOMEM)
        log_warn("cannot accept a connection: %s", uv_strerror(r));
}

static void on_accept_retry(uv_timer_t *timer)
{
    struct hub *hub = timer->data;
    for (size_t i = 0; i < hub->listener_count; i++)
        if (hub->accept_waiting[i])
            accept_on(hub, i);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct hub *hub = server->data;
    if (status < 0) {
        log_warn("cannot accept a connection: %s", uv_strerror(status));
        return;
    }
    accept_on(hub, (size_t)((uv_tcp_t *)server - hub->listeners));
}

static void stop_hub(struct hub *hub, const char *signame)
{
    size_t open = 0;
    for (struct client *c = hub->clients; c; c = c->next)
        open++;
    log_info("%s received: stopping; finishing %zu connections (a second signal exits at once)",
             signame, open);
    hub->stopping = true;
    hub->stop_deadline_ms = (int64_t)uv_now(hub->loop) + HUB_STOP_GRACE_MS;
    store_begin_stop(hub->store);
    for (size_t i = 0; i < hub->listener_count; i++)
        close_handle((uv_handle_t *)&hub->listeners[i]);
    close_handle((uv_handle_t *)&hub->accept_retry);
    for (struct client *c = hub->clients; c; c = c->next)
        client_stop(c);
    maybe_finish(hub);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    struct hub *hub = handle->data;
    const char *signame = signum == SIGINT ? "SIGINT" : "SIGTERM";
    if (++hub->signals_seen > 1) {
        log_warn("second %s received: exiting at once; unacked readings may be lost", signame);
        _exit(1);
    }
    stop_hub(hub, signame);
}

static void format_endpoint(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(in6, host, sizeof(host));
        snprintf(out, cap, "tcp://[%s]:%u", host, ntohs(in6->sin6_port));
    } else {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;
        uv_ip4_name(in4, host, sizeof(host));
        snprintf(out, cap, "tcp://%s:%u", host, ntohs(in4->sin_port));
    }
}

static int listen_on(uv_tcp_t *tcp, const struct listen_endpoint *ep, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof(addr));
    bool v6 = strchr(ep->host, ':') != NULL;
    int r = v6 ? uv_ip6_addr(ep->host, ep->port, (struct sockaddr_in6 *)&addr)
               : uv_ip4_addr(ep->host, ep->port, (struct sockaddr_in *)&addr);
    const char *step = "bad address";
    if (r == 0) {
        step = "cannot bind";
        /* An IPv6 endpoint takes IPv6 only (as nginx does), so "[::]:8080"
         * beside "0.0.0.0:8080" works whatever net.ipv6.bindv6only says. */
        r = uv_tcp_bind(tcp, (const struct sockaddr *)&addr, v6 ? UV_TCP_IPV6ONLY : 0);
    }
    if (r == 0) {
        step = "cannot listen";
        r = uv_listen((uv_stream_t *)tcp, HUB_LISTEN_BACKLOG, on_connection);
    }
    if (r != 0) {
        snprintf(err, errlen, "%s tcp://%s%s%s:%u: %s", step, v6 ? "[" : "", ep->host,
                 v6 ? "]" : "", ep->port, uv_strerror(r));
        return -1;
    }
    int len = sizeof(addr);
    uv_tcp_getsockname(tcp, (struct sockaddr *)&addr, &len);
    char name[96];
    format_endpoint(&addr, name, sizeof(name));
    log_info("listening on %s", name);
    return 0;
}

int hub_start(struct hub *hub, uv_loop_t *loop, const struct config *cfg, struct store *store,
              char *err, size_t errlen)
{
    hub->loop = loop;
    hub->cfg = cfg;
    hub->store = store;
    hub->rules.temp_min = cfg->temp_min;
    hub->rules.temp_max = cfg->temp_max;
    hub->rules.max_future_s = cfg->max_future_s;
    hub->rules.rooms = &cfg->sensors;
    hub->read_buf_cap = HUB_READ_BYTES;
    /* Room for a read's worth of acks plus the longest answer (an echo of a
     * whole frame), so any ready ack always fits. */
    hub->ack_buf_cap = HUB_READ_BYTES + cfg->max_frame_bytes + 256;
    hub->read_buf = malloc(hub->read_buf_cap);
    hub->ack_buf = malloc(hub->ack_buf_cap);
    hub->listeners = calloc(cfg->listen_count, sizeof(*hub->listeners));
    hub->accept_waiting = calloc(cfg->listen_count, sizeof(*hub->accept_waiting));
    if (!hub->read_buf || !hub->ack_buf || !hub->listeners || !hub->accept_waiting) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uv_timer_init(loop, &hub->accept_retry);
    hub->accept_retry.data = hub;
    uv_signal_init(loop, &hub->sigint);
    uv_signal_init(loop, &hub->sigterm);
    hub->sigint.data = hub->sigterm.data = hub;
    uv_signal_start(&hub->sigint, on_signal, SIGINT);
    uv_signal_start(&hub->sigterm, on_signal, SIGTERM);
    for (size_t i = 0; i < cfg->listen_count; i++) {
        uv_tcp_init(loop, &hub->listeners[i]);
        hub->listeners[i].data = hub;
        hub->listener_count++;
        if (listen_on(&hub->listeners[i], &cfg->listen[i], err, errlen) != 0)
            return -1;
    }
    return 0;
}

void hub_abort(struct hub *hub)
{
    hub->stopping = true;
    for (size_t i = 0; i < hub->listener_count; i++)
        close_handle((uv_handle_t *)&hub->listeners[i]);
    close_handle((uv_handle_t *)&hub->accept_retry);
    maybe_finish(hub);
}

void hub_free(struct hub *hub)
{
    free(hub->listeners);
    free(hub->accept_waiting);
    free(hub->read_buf);
    free(hub->ack_buf);
}
