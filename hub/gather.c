#include "gather.h"

#include <string.h>

void gather_init(struct gather *g)
{
    memset(g, 0, sizeof(*g));
}

void gather_note_answered(struct gather *g, const void *owner, int64_t now_us)
{
    unsigned last = (g->next + GATHER_OWNERS - 1) % GATHER_OWNERS;
    if (g->answered[last].owner == owner) {
        /* one slot per run of one client's readings */
        g->answered[last].answered_us = now_us;
        return;
    }
    g->answered[g->next].owner = owner;
    g->answered[g->next].answered_us = now_us;
    g->next = (g->next + 1) % GATHER_OWNERS;
}

bool gather_owner_waits(const struct gather *g, const void *owner, int64_t now_us)
{
    for (unsigned i = 0; i < GATHER_OWNERS; i++)
        if (g->answered[i].owner == owner &&
            now_us - g->answered[i].answered_us < GATHER_ANSWERED_US)
            return true;
    return false;
}

bool gather_holds(size_t queued, bool waiter_queued, int64_t committed_us, int64_t now_us)
{
    return !waiter_queued && queued < GATHER_ENOUGH && now_us - committed_us < GATHER_MAX_US;
}
