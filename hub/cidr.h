#ifndef SENSORHUB_CIDR_H
#define SENSORHUB_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Address ranges for `allowed_sources`: "192.168.0.0/16", "fe80::/10",
 * "10.1.2.3" (a single host). IPv4-mapped IPv6 peers (::ffff:a.b.c.d) match
 * IPv4 ranges. */
struct cidr {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* network address, 4 or 16 bytes used */
    unsigned prefix;  /* prefix length in bits */
};

struct cidr_list {
    struct cidr *items;
    size_t count;
};

/* Parses one range; returns 0, or -1 with a reason in err ("not an IPv4 or
 * IPv6 address", "prefix 33 is longer than 32"). Host bits below the prefix
 * are cleared, not refused: "192.168.1.7/24" is 192.168.1.0/24. */
int cidr_parse(const char *text, struct cidr *out, char *err, size_t errlen);

/* Appends a parsed range; returns 0, or -1 when out of memory. */
int cidr_list_add(struct cidr_list *list, const struct cidr *range);

/* Fills list with the defaults: loopback, private and link-local ranges of
 * IPv4 and IPv6 (127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16,
 * 169.254.0.0/16, ::1/128, fc00::/7, fe80::/10). Returns 0 or -1. */
int cidr_list_set_defaults(struct cidr_list *list);

/* True when the peer address (sockaddr_in or sockaddr_in6) falls in one of
 * the ranges; other address families never match. */
bool cidr_list_match(const struct cidr_list *list, const struct sockaddr *peer);

void cidr_list_free(struct cidr_list *list);

#endif
