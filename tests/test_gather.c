/* The store's gathering rule (hub/gather.h): readings trickling in from many
 * sensors are held back to share a commit; a client waiting for its acks is
 * never held back. */

#include "gather.h"
#include "test.h"

static int owners[GATHER_OWNERS + 1];

static void test_a_client_answered_recently_waits(void)
{
    struct gather g;
    gather_init(&g);
    ASSERT(!gather_owner_waits(&g, &owners[0], 1000));
    gather_note_answered(&g, &owners[0], 1000);
    ASSERT(gather_owner_waits(&g, &owners[0], 1000));
    ASSERT(gather_owner_waits(&g, &owners[0], 1000 + GATHER_ANSWERED_US - 1));
    /* a sensor that reports again later is not waiting for us */
    ASSERT(!gather_owner_waits(&g, &owners[0], 1000 + GATHER_ANSWERED_US));
    ASSERT(!gather_owner_waits(&g, &owners[1], 1000));
}

static void test_the_latest_answer_counts(void)
{
    struct gather g;
    gather_init(&g);
    gather_note_answered(&g, &owners[0], 0);
    gather_note_answered(&g, &owners[1], 0);
    gather_note_answered(&g, &owners[0], 50000);
    ASSERT(gather_owner_waits(&g, &owners[0], 55000));
    ASSERT(!gather_owner_waits(&g, &owners[1], 55000));
    /* a run of one owner's readings takes one slot */
    gather_note_answered(&g, &owners[0], 60000);
    ASSERT_INT_EQ(g.next, 3);
}

static void test_the_oldest_owners_are_forgotten(void)
{
    struct gather g;
    gather_init(&g);
    for (int i = 0; i <= GATHER_OWNERS; i++)
        gather_note_answered(&g, &owners[i], 100);
    ASSERT(!gather_owner_waits(&g, &owners[0], 200));
    ASSERT(gather_owner_waits(&g, &owners[1], 200));
    ASSERT(gather_owner_waits(&g, &owners[GATHER_OWNERS], 200));
}

static void test_holds(void)
{
    /* a trickle right after a commit: held */
    ASSERT(gather_holds(0, false, 1000, 1000));
    ASSERT(gather_holds(GATHER_ENOUGH - 1, false, 1000, 1000 + GATHER_MAX_US - 1));
    /* GATHER_MAX_US after the commit, no longer held: a lone sensor whose
     * previous reading was long ago is never held */
    ASSERT(!gather_holds(1, false, 1000, 1000 + GATHER_MAX_US));
    /* enough to share an fsync */
    ASSERT(!gather_holds(GATHER_ENOUGH, false, 1000, 1000));
    /* a waiting client's reading is never held */
    ASSERT(!gather_holds(1, true, 1000, 1000));
}

int main(void)
{
    RUN(test_a_client_answered_recently_waits);
    RUN(test_the_latest_answer_counts);
    RUN(test_the_oldest_owners_are_forgotten);
    RUN(test_holds);
    return test_summary();
}
