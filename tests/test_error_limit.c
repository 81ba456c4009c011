/* max_errors_per_minute (PROTOCOL.md "Limits"): "error acks caused by the
 * client's input within any 60 s"; the limit-th one closes the connection. */

#include "error_limit.h"
#include "test.h"

/* Adds errors at each time in at_ms and returns the last result. */
static int add_all(struct error_limit *el, const int64_t *at_ms, size_t count)
{
    int result = -2;
    for (size_t i = 0; i < count; i++)
        result = error_limit_add(el, at_ms[i]);
    return result;
}

static void test_limit_reached_at_once(void)
{
    struct error_limit el;
    error_limit_init(&el, 100);
    for (int i = 1; i < 100; i++)
        ASSERT_INT_EQ(error_limit_add(&el, 1000), 0);
    ASSERT_INT_EQ(error_limit_add(&el, 1000), 1);
    error_limit_free(&el);
}

/* Any 60 s, not 60 one-second buckets: 50 errors late in one second and 50
 * errors 59.5 s later are 100 within 60 s (a per-second ring had dropped the
 * first 50 by then). */
static void test_any_60_seconds(void)
{
    struct error_limit el;
    error_limit_init(&el, 100);
    for (int i = 0; i < 50; i++)
        ASSERT_INT_EQ(error_limit_add(&el, 10900), 0);
    for (int i = 0; i < 49; i++)
        ASSERT_INT_EQ(error_limit_add(&el, 10900 + 59500), 0);
    ASSERT_INT_EQ(error_limit_add(&el, 10900 + 59500), 1);
    error_limit_free(&el);
}

/* Errors 60 s apart or more are not within 60 s of each other. */
static void test_window_edge(void)
{
    struct error_limit el;
    error_limit_init(&el, 3);
    const int64_t outside[] = {0, 30000, 60000};
    ASSERT_INT_EQ(add_all(&el, outside, 3), 0);
    error_limit_free(&el);

    error_limit_init(&el, 3);
    const int64_t inside[] = {0, 30000, 59999};
    ASSERT_INT_EQ(add_all(&el, inside, 3), 1);
    error_limit_free(&el);
}

/* The window slides: what counts is the last `limit` errors, however many
 * came before them. */
static void test_window_slides(void)
{
    struct error_limit el;
    error_limit_init(&el, 3);
    /* 0, 25 and 50 s are 3 within 60 s */
    ASSERT_INT_EQ(error_limit_add(&el, 0), 0);
    ASSERT_INT_EQ(error_limit_add(&el, 25000), 0);
    ASSERT_INT_EQ(error_limit_add(&el, 50000), 1);
    error_limit_free(&el);

    /* one error every 30 s: any 3 consecutive span 60 s, never less */
    error_limit_init(&el, 3);
    for (int64_t t = 0; t <= 300000; t += 30000)
        ASSERT_INT_EQ(error_limit_add(&el, t), 0);
    /* then one a second later: 270, 300 and 301 s are 3 within 60 s */
    ASSERT_INT_EQ(error_limit_add(&el, 301000), 1);
    error_limit_free(&el);
}

static void test_limit_of_one(void)
{
    struct error_limit el;
    error_limit_init(&el, 1);
    ASSERT_INT_EQ(error_limit_add(&el, 5), 1);
    error_limit_free(&el);
}

static void test_nothing_allocated_before_the_first_error(void)
{
    struct error_limit el;
    error_limit_init(&el, 100000);
    ASSERT(el.at_ms == NULL);
    error_limit_free(&el);
    ASSERT(el.at_ms == NULL);
}

int main(void)
{
    RUN(test_limit_reached_at_once);
    RUN(test_any_60_seconds);
    RUN(test_window_edge);
    RUN(test_window_slides);
    RUN(test_limit_of_one);
    RUN(test_nothing_allocated_before_the_first_error);
    return test_summary();
}
