#include <arpa/inet.h>
#include <netinet/in.h>

#include "cidr.h"
#include "test.h"

/* Builds a sockaddr for address text (IPv4 or IPv6) as accept() returns it. */
static struct sockaddr_storage peer(const char *text)
{
    struct sockaddr_storage storage;
    memset(&storage, 0, sizeof storage);
    if (strchr(text, ':') != NULL) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
        v6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, text, &v6->sin6_addr) != 1)
            TEST_FAIL_("bad test address %s", text);
    } else {
        struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
        v4->sin_family = AF_INET;
        if (inet_pton(AF_INET, text, &v4->sin_addr) != 1)
            TEST_FAIL_("bad test address %s", text);
    }
    return storage;
}

static bool matches(const struct cidr_list *list, const char *address)
{
    struct sockaddr_storage storage = peer(address);
    return cidr_list_match(list, (const struct sockaddr *)&storage);
}

/* A list of ranges from text; every range must parse. */
static struct cidr_list list_of(const char *const *ranges, size_t count)
{
    struct cidr_list list = {0};
    for (size_t i = 0; i < count; i++) {
        struct cidr range;
        char err[128];
        if (cidr_parse(ranges[i], &range, err, sizeof err) != 0)
            TEST_FAIL_("%s: %s", ranges[i], err);
        else
            ASSERT_INT_EQ(cidr_list_add(&list, &range), 0);
    }
    return list;
}

static void test_parse_ipv4(void)
{
    struct cidr range;
    char err[128];
    ASSERT_INT_EQ(cidr_parse("192.168.0.0/16", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.family, AF_INET);
    ASSERT_INT_EQ(range.prefix, 16);
    ASSERT_INT_EQ(range.addr[0], 192);
    ASSERT_INT_EQ(range.addr[1], 168);

    /* A single host without a prefix is a /32. */
    ASSERT_INT_EQ(cidr_parse("10.1.2.3", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.prefix, 32);
    ASSERT_INT_EQ(range.addr[3], 3);

    ASSERT_INT_EQ(cidr_parse("0.0.0.0/0", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.prefix, 0);
}

static void test_parse_masks_host_bits(void)
{
    struct cidr range;
    char err[128];
    ASSERT_INT_EQ(cidr_parse("192.168.1.77/24", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.addr[2], 1);
    ASSERT_INT_EQ(range.addr[3], 0);
    ASSERT_INT_EQ(cidr_parse("172.31.255.255/12", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.addr[1], 16);
    ASSERT_INT_EQ(range.addr[2], 0);
    ASSERT_INT_EQ(cidr_parse("fe80::1234/10", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.addr[0], 0xfe);
    ASSERT_INT_EQ(range.addr[1], 0x80);
    ASSERT_INT_EQ(range.addr[15], 0);
}

static void test_parse_ipv6(void)
{
    struct cidr range;
    char err[128];
    ASSERT_INT_EQ(cidr_parse("fc00::/7", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.family, AF_INET6);
    ASSERT_INT_EQ(range.prefix, 7);
    ASSERT_INT_EQ(range.addr[0], 0xfc);
    ASSERT_INT_EQ(cidr_parse("::1", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.prefix, 128);
    ASSERT_INT_EQ(range.addr[15], 1);
    ASSERT_INT_EQ(cidr_parse("::/0", &range, err, sizeof err), 0);
    ASSERT_INT_EQ(range.prefix, 0);
}

static void test_parse_errors(void)
{
    static const struct {
        const char *text;
        const char *error;
    } cases[] = {
        {"", "not an IPv4 or IPv6 address"},
        {"/8", "not an IPv4 or IPv6 address"},
        {"localhost", "not an IPv4 or IPv6 address"},
        {"10.0.0", "not an IPv4 or IPv6 address"},
        {"256.0.0.0/8", "not an IPv4 or IPv6 address"},
        {"10.0.0.0/33", "prefix 33 is longer than 32"},
        {"::/129", "prefix 129 is longer than 128"},
        {"10.0.0.0/", "missing prefix length after /"},
        {"10.0.0.0/x", "the prefix length after / must be a number 0..32"},
        {"10.0.0.0/-1", "the prefix length after / must be a number 0..32"},
        {"10.0.0.0/0008", "the prefix length after / must be a number 0..32"},
        {"10.0.0.0/8/8", "the prefix length after / must be a number 0..32"},
        {"fe80::1%eth0", "not an IPv6 address"},
        {"gg::/16", "not an IPv6 address"},
        {"1111:2222:3333:4444:5555:6666:7777:8888:9999/64", "not an IPv6 address"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cidr range;
        char err[128] = "";
        ASSERT_INT_EQ(cidr_parse(cases[i].text, &range, err, sizeof err), -1);
        ASSERT_STR_EQ(err, cases[i].error);
    }
}

static void test_match_ipv4(void)
{
    static const char *const ranges[] = {"10.0.0.0/8", "192.168.1.0/24", "172.16.0.0/12",
                                         "203.0.113.7"};
    struct cidr_list list = list_of(ranges, sizeof ranges / sizeof ranges[0]);
    static const struct {
        const char *address;
        bool expected;
    } cases[] = {
        {"10.0.0.0", true},        {"10.255.255.255", true},
        {"11.0.0.0", false},       {"9.255.255.255", false},
        {"192.168.1.1", true},     {"192.168.2.1", false},
        {"172.16.0.1", true},      {"172.31.255.255", true},
        {"172.32.0.0", false},     {"172.15.255.255", false},
        {"203.0.113.7", true},     {"203.0.113.8", false},
        {"8.8.8.8", false},        {"::ffff:10.1.2.3", true},
        {"::ffff:8.8.8.8", false}, {"::1", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (matches(&list, cases[i].address) != cases[i].expected)
            TEST_FAIL_("%s: expected %s", cases[i].address,
                       cases[i].expected ? "a match" : "no match");
    }
    cidr_list_free(&list);
}

static void test_match_ipv6(void)
{
    static const char *const ranges[] = {"2001:db8::/32", "fe80::/10", "::1"};
    struct cidr_list list = list_of(ranges, sizeof ranges / sizeof ranges[0]);
    static const struct {
        const char *address;
        bool expected;
    } cases[] = {
        {"2001:db8::1", true},  {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
        {"2001:db9::", false},  {"fe80::abcd", true},
        {"febf:ffff::1", true}, {"fec0::1", false},
        {"::1", true},          {"::2", false},
        {"127.0.0.1", false},   {"::ffff:127.0.0.1", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (matches(&list, cases[i].address) != cases[i].expected)
            TEST_FAIL_("%s: expected %s", cases[i].address,
                       cases[i].expected ? "a match" : "no match");
    }
    cidr_list_free(&list);
}

static void test_match_all(void)
{
    static const char *const ranges[] = {"0.0.0.0/0", "::/0"};
    struct cidr_list list = list_of(ranges, 2);
    ASSERT(matches(&list, "8.8.8.8"));
    ASSERT(matches(&list, "2001:db8::1"));
    ASSERT(matches(&list, "::ffff:8.8.8.8"));
    cidr_list_free(&list);

    /* "::/0" alone still covers IPv4 peers of a dual-stack socket. */
    list = list_of(ranges + 1, 1);
    ASSERT(matches(&list, "::ffff:8.8.8.8"));
    ASSERT(!matches(&list, "8.8.8.8"));
    cidr_list_free(&list);
}

static void test_defaults(void)
{
    struct cidr_list list = {0};
    ASSERT_INT_EQ(cidr_list_set_defaults(&list), 0);
    ASSERT_INT_EQ(list.count, 8);
    static const struct {
        const char *address;
        bool expected;
    } cases[] = {
        {"127.0.0.1", true},
        {"127.255.0.9", true},
        {"10.20.30.40", true},
        {"172.16.5.5", true},
        {"172.32.0.1", false},
        {"192.168.178.20", true},
        {"192.169.0.1", false},
        {"169.254.10.10", true},
        {"100.64.0.1", false},
        {"8.8.8.8", false},
        {"1.1.1.1", false},
        {"::1", true},
        {"fd12:3456::1", true},
        {"fc00::1", true},
        {"fe80::1", true},
        {"2001:4860::8888", false},
        {"::ffff:192.168.1.2", true},
        {"::ffff:1.2.3.4", false},
        {"::ffff:127.0.0.1", true},
        {"::", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (matches(&list, cases[i].address) != cases[i].expected)
            TEST_FAIL_("%s: expected %s", cases[i].address,
                       cases[i].expected ? "a match" : "no match");
    }
    cidr_list_free(&list);
}

static void test_other_families_never_match(void)
{
    struct cidr_list list = {0};
    ASSERT_INT_EQ(cidr_list_set_defaults(&list), 0);
    struct sockaddr unix_peer;
    memset(&unix_peer, 0, sizeof unix_peer);
    unix_peer.sa_family = AF_UNIX;
    ASSERT(!cidr_list_match(&list, &unix_peer));
    cidr_list_free(&list);

    struct cidr_list empty = {0};
    ASSERT(!matches(&empty, "127.0.0.1"));
}

int main(void)
{
    RUN(test_parse_ipv4);
    RUN(test_parse_masks_host_bits);
    RUN(test_parse_ipv6);
    RUN(test_parse_errors);
    RUN(test_match_ipv4);
    RUN(test_match_ipv6);
    RUN(test_match_all);
    RUN(test_defaults);
    RUN(test_other_families_never_match);
    return test_summary();
}
