/* The per-connection ack queue: order, waiting readings, ring wrap-around. */
#include <stdlib.h>
#include <string.h>

#include "ack_queue.h"
#include "test.h"

static char *dup_text(const char *s)
{
    char *copy = malloc(strlen(s) + 1);
    strcpy(copy, s);
    return copy;
}

static void take_all(struct ack_queue *q, char *out, size_t cap, uint32_t *acks)
{
    size_t len = ack_queue_take_ready(q, out, cap - 1, acks);
    out[len] = '\0';
}

static void test_ready_lines_leave_in_order(void)
{
    struct ack_queue q;
    ack_queue_init(&q, 4);
    ASSERT_INT_EQ(ack_queue_push_text(&q, dup_text("a\n"), 2), 0);
    ASSERT_INT_EQ(ack_queue_push_text(&q, dup_text("b\n"), 2), 0);
    char out[256];
    uint32_t acks;
    take_all(&q, out, sizeof(out), &acks);
    ASSERT_STR_EQ(out, "a\nb\n");
    ASSERT_INT_EQ(acks, 2);
    ASSERT_INT_EQ(q.count, 0);
    ack_queue_free(&q);
}

static void test_answer_waits_behind_reading(void)
{
    struct ack_queue q;
    ack_queue_init(&q, 8);
    ASSERT_INT_EQ(ack_queue_push_waiting(&q, true, 1), 0);
    ASSERT_INT_EQ(ack_queue_push_text(&q, dup_text("{\"ok\":true,\"cmd\":\"ping\"}\n"), 25), 0);
    ASSERT_INT_EQ(ack_queue_push_waiting(&q, true, 2), 0);
    ASSERT_INT_EQ(ack_queue_push_waiting(&q, false, 0), 0);
    char out[256];
    uint32_t acks;
    take_all(&q, out, sizeof(out), &acks);
    ASSERT_STR_EQ(out, "");
    ASSERT_INT_EQ(acks, 0);

    ack_queue_complete_oldest(&q, ACK_STORED, NULL);
    take_all(&q, out, sizeof(out), &acks);
    ASSERT_STR_EQ(out, "{\"ok\":true,\"seq\":1}\n{\"ok\":true,\"cmd\":\"ping\"}\n");
    ASSERT_INT_EQ(acks, 2);

    ack_queue_complete_oldest(&q, ACK_DUPLICATE, NULL);
    ack_queue_complete_oldest(&q, ACK_FAILED, "storage full");
    take_all(&q, out, sizeof(out), &acks);
    ASSERT_STR_EQ(out, "{\"ok\":true,\"seq\":2,\"dup\":true}\n"
                       "{\"ok\":false,\"error\":\"storage full\"}\n");
    ASSERT_INT_EQ(acks, 2);
    ASSERT_INT_EQ(q.waiting, 0);
    ack_queue_free(&q);
}

static void test_full_queue_refuses(void)
{
    struct ack_queue q;
    ack_queue_init(&q, 2);
    ASSERT_INT_EQ(ack_queue_push_waiting(&q, false, 0), 0);
    ASSERT_INT_EQ(ack_queue_push_waiting(&q, false, 0), 0);
    ASSERT_INT_EQ(q.count, q.cap);
    ASSERT_INT_EQ(ack_queue_push_waiting(&q, false, 0), -1);
    ASSERT_INT_EQ(ack_queue_push_text(&q, dup_text("x\n"), 2), -1);
    ack_queue_free(&q);
}

/* Interleaves answers and readings across many wraps of a small ring and
 * checks every ack comes out once, in order. */
static void test_ring_wraps(void)
{
    struct ack_queue q;
    ack_queue_init(&q, 3);
    char out[256], expect[256];
    uint32_t acks;
    for (int64_t seq = 0; seq < 100; seq++) {
        ASSERT_INT_EQ(ack_queue_push_waiting(&q, true, seq), 0);
        ASSERT_INT_EQ(ack_queue_push_text(&q, dup_text("p\n"), 2), 0);
        ack_queue_complete_oldest(&q, ACK_STORED, NULL);
        take_all(&q, out, sizeof(out), &acks);
        snprintf(expect, sizeof(expect), "{\"ok\":true,\"seq\":%lld}\np\n", (long long)seq);
        ASSERT_STR_EQ(out, expect);
        ASSERT_INT_EQ(acks, 2);
    }
    ack_queue_free(&q);
}

static void test_line_that_does_not_fit_waits(void)
{
    struct ack_queue q;
    ack_queue_init(&q, 4);
    ASSERT_INT_EQ(ack_queue_push_text(&q, dup_text("aaaa\n"), 5), 0);
    ASSERT_INT_EQ(ack_queue_push_text(&q, dup_text("bbbb\n"), 5), 0);
    char out[16];
    uint32_t acks;
    size_t len = ack_queue_take_ready(&q, out, 7, &acks);
    ASSERT_MEM_EQ(out, len, "aaaa\n", 5);
    ASSERT_INT_EQ(acks, 1);
    len = ack_queue_take_ready(&q, out, 7, &acks);
    ASSERT_MEM_EQ(out, len, "bbbb\n", 5);
    ack_queue_free(&q);
}

/* The ring starts at ACK_QUEUE_FIRST_SLOTS and doubles only as frames pile
 * up, keeping order across a grow from a wrapped ring. */
static void test_ring_grows_on_demand(void)
{
    struct ack_queue q;
    ack_queue_init(&q, 256);
    ASSERT_INT_EQ(ack_queue_push_waiting(&q, true, 0), 0);
    ASSERT_INT_EQ(q.size, ACK_QUEUE_FIRST_SLOTS);
    for (int64_t seq = 1; seq < 6; seq++)
        ASSERT_INT_EQ(ack_queue_push_waiting(&q, true, seq), 0);
    for (int i = 0; i < 5; i++)
        ack_queue_complete_oldest(&q, ACK_STORED, NULL);
    char out[1024], expect[1024];
    uint32_t acks;
    take_all(&q, out, sizeof(out), &acks);
    ASSERT_INT_EQ(acks, 5);
    /* head is now 5 of 8: the next pushes wrap, then force a grow */
    for (int64_t seq = 6; seq < 20; seq++)
        ASSERT_INT_EQ(ack_queue_push_waiting(&q, true, seq), 0);
    ASSERT_INT_EQ(q.size, 16);
    for (int i = 0; i < 15; i++)
        ack_queue_complete_oldest(&q, ACK_STORED, NULL);
    take_all(&q, out, sizeof(out), &acks);
    ASSERT_INT_EQ(acks, 15);
    size_t used = 0;
    for (int64_t seq = 5; seq < 20; seq++)
        used += (size_t)snprintf(expect + used, sizeof(expect) - used,
                                 "{\"ok\":true,\"seq\":%lld}\n", (long long)seq);
    ASSERT_STR_EQ(out, expect);
    ack_queue_free(&q);
}

int main(void)
{
    RUN(test_ready_lines_leave_in_order);
    RUN(test_answer_waits_behind_reading);
    RUN(test_full_queue_refuses);
    RUN(test_ring_wraps);
    RUN(test_line_that_does_not_fit_waits);
    RUN(test_ring_grows_on_demand);
    return test_summary();
}
