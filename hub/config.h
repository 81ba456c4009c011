#ifndef SENSORHUB_CONFIG_H
#define SENSORHUB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "log.h"
#include "sensor_rooms.h"

/* The hub's configuration (CONFIG.md): defaults, then the file, then the
 * command-line flags. Every string is malloc'd and owned by the struct. */

#define CONFIG_DEFAULT_LISTEN "tcp://0.0.0.0:8080"
#define CONFIG_DEFAULT_DB "sensorhub.db"

/* One listen endpoint. Only tcp:// exists so far; the other schemes of
 * CONFIG.md arrive with their listeners. */
struct listen_endpoint {
    char *host;    /* "0.0.0.0", "::1" (no brackets) */
    uint16_t port; /* 0 picks a free port (the log says which) */
};

struct config {
    struct listen_endpoint *listen; /* at least one */
    size_t listen_count;
    char *db; /* database path */
    enum log_level log_level;
    int max_connections; /* PROTOCOL.md limits, same names */
    size_t max_frame_bytes;
    int idle_timeout_s;
    int max_unacked;
    int max_errors_per_minute;
    int write_timeout_s;
    struct cidr_list allowed_sources;
    char *auth_token; /* NULL: no hello required */
    double temp_min;  /* accepted temperature range, Celsius */
    double temp_max;
    int64_t max_future_s;
    struct sensor_rooms sensors; /* name -> room */
};

/* Fills cfg with the defaults of CONFIG.md. Returns 0, or -1 when out of memory. */
int config_init(struct config *cfg);

/* Applies a config file's text over cfg. name is the file name used in
 * messages. On error returns -1 with "NAME: KEY: what is wrong" in err (for a
 * syntax error "NAME: line L, column C: ..."); cfg is then partly updated and
 * should only be freed. */
int config_parse(struct config *cfg, const char *name, const char *text, size_t len, char *err,
                 size_t errlen);

/* Reads and applies the file at path; errors as config_parse, plus
 * "PATH: cannot read: reason". */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Parses an endpoint as the `listen` key and --listen take it:
 * "tcp://HOST:PORT", "tcp://[v6]:PORT" or "HOST:PORT". Returns 0 or -1 with a
 * reason in err. out->host is malloc'd. */
int config_parse_endpoint(const char *text, struct listen_endpoint *out, char *err, size_t errlen);

/* Parses a port number: decimal digits only, 0..65535. Returns 0 or -1. */
int config_parse_port(const char *text, uint16_t *out);

/* Replaces the listen list with one endpoint (takes ownership of ep->host). */
void config_set_listen(struct config *cfg, struct listen_endpoint *ep);

/* Appends an endpoint (takes ownership of ep->host, freeing it on failure).
 * Returns 0, or -1 when out of memory. */
int config_add_listen(struct config *cfg, struct listen_endpoint *ep);

/* Checks relations between keys (temp_min < temp_max); -1 with a message. */
int config_check(const struct config *cfg, const char *name, char *err, size_t errlen);

void config_free(struct config *cfg);

#endif
