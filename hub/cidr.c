#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest address text inet_pton can accept ("ffff:...:255.255.255.255"). */
#define CIDR_ADDR_TEXT_MAX INET6_ADDRSTRLEN

static const char *const default_ranges[] = {
    "127.0.0.0/8",    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
    "169.254.0.0/16", "::1/128",    "fc00::/7",      "fe80::/10",
};

/* Parses the prefix length after '/': plain decimal digits, at most max. */
static int parse_prefix(const char *text, unsigned max, unsigned *out, char *err, size_t errlen)
{
    if (*text == '\0') {
        snprintf(err, errlen, "missing prefix length after /");
        return -1;
    }
    unsigned value = 0;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || p - text >= 3) {
            snprintf(err, errlen, "the prefix length after / must be a number 0..%u", max);
            return -1;
        }
        value = value * 10 + (unsigned)(*p - '0');
    }
    if (value > max) {
        snprintf(err, errlen, "prefix %u is longer than %u", value, max);
        return -1;
    }
    *out = value;
    return 0;
}

/* Clears the bits below the prefix, so "192.168.1.7/24" means 192.168.1.0/24:
 * people often write their own address with the network's prefix. */
static void clear_host_bits(uint8_t *addr, unsigned bytes, unsigned prefix)
{
    for (unsigned i = 0; i < bytes; i++) {
        unsigned bit = i * 8;
        if (bit >= prefix)
            addr[i] = 0;
        else if (prefix - bit < 8)
            addr[i] = (uint8_t)(addr[i] & (0xffu << (8 - (prefix - bit))));
    }
}

int cidr_parse(const char *text, struct cidr *out, char *err, size_t errlen)
{
    const char *slash = strchr(text, '/');
    size_t addr_len = slash ? (size_t)(slash - text) : strlen(text);
    char addr_text[CIDR_ADDR_TEXT_MAX];
    if (addr_len == 0 || addr_len >= sizeof addr_text) {
        snprintf(err, errlen, "not an IPv4 or IPv6 address");
        return -1;
    }
    memcpy(addr_text, text, addr_len);
    addr_text[addr_len] = '\0';

    struct cidr range = {0};
    range.family = memchr(addr_text, ':', addr_len) ? AF_INET6 : AF_INET;
    if (inet_pton(range.family, addr_text, range.addr) != 1) {
        snprintf(err, errlen, "not an %s address",
                 range.family == AF_INET6 ? "IPv6" : "IPv4 or IPv6");
        return -1;
    }
    unsigned bits = range.family == AF_INET6 ? 128 : 32;
    range.prefix = bits;
    if (slash != NULL && parse_prefix(slash + 1, bits, &range.prefix, err, errlen) != 0)
        return -1;
    clear_host_bits(range.addr, bits / 8, range.prefix);
    *out = range;
    return 0;
}

int cidr_list_add(struct cidr_list *list, const struct cidr *range)
{
    struct cidr *grown = realloc(list->items, (list->count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    grown[list->count++] = *range;
    list->items = grown;
    return 0;
}

int cidr_list_set_defaults(struct cidr_list *list)
{
    cidr_list_free(list);
    for (size_t i = 0; i < sizeof default_ranges / sizeof default_ranges[0]; i++) {
        struct cidr range;
        char err[64];
        if (cidr_parse(default_ranges[i], &range, err, sizeof err) != 0 ||
            cidr_list_add(list, &range) != 0) {
            cidr_list_free(list);
            return -1;
        }
    }
    return 0;
}

/* True when the first prefix bits of addr equal the range's network. */
static bool prefix_matches(const struct cidr *range, const uint8_t *addr)
{
    unsigned full_bytes = range->prefix / 8;
    unsigned rest_bits = range->prefix % 8;
    if (memcmp(range->addr, addr, full_bytes) != 0)
        return false;
    if (rest_bits == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8 - rest_bits));
    return (addr[full_bytes] & mask) == range->addr[full_bytes];
}

/* True when some range of the given family holds addr. */
static bool family_matches(const struct cidr_list *list, int family, const uint8_t *addr)
{
    for (size_t i = 0; i < list->count; i++) {
        if (list->items[i].family == family && prefix_matches(&list->items[i], addr))
            return true;
    }
    return false;
}

bool cidr_list_match(const struct cidr_list *list, const struct sockaddr *peer)
{
    if (peer->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)peer;
        return family_matches(list, AF_INET, (const uint8_t *)&v4->sin_addr);
    }
    if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)peer;
        const uint8_t *bytes = v6->sin6_addr.s6_addr;
        /* A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; people
         * write those ranges as IPv4, and "::/0" should still cover them. */
        if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && family_matches(list, AF_INET, bytes + 12))
            return true;
        return family_matches(list, AF_INET6, bytes);
    }
    return false;
}

void cidr_list_free(struct cidr_list *list)
{
    free(list->items);
    list->items = NULL;
    list->count = 0;
}
