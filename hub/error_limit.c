#include "error_limit.h"

#include <stdlib.h>

void error_limit_init(struct error_limit *el, uint32_t limit)
{
    el->at_ms = NULL;
    el->limit = limit;
    el->next = 0;
    el->recorded = 0;
}

int error_limit_add(struct error_limit *el, int64_t now_ms)
{
    if (el->at_ms == NULL) {
        el->at_ms = malloc(sizeof(*el->at_ms) * el->limit);
        if (el->at_ms == NULL)
            return -1;
    }
    el->at_ms[el->next] = now_ms;
    el->next = (el->next + 1) % el->limit;
    if (el->recorded < el->limit)
        el->recorded++;
    if (el->recorded < el->limit)
        return 0;
    /* The ring holds the last `limit` errors, this one included; the slot
     * after it is the oldest of them. */
    return now_ms - el->at_ms[el->next] < ERROR_LIMIT_WINDOW_MS;
}

void error_limit_free(struct error_limit *el)
{
    free(el->at_ms);
    el->at_ms = NULL;
    el->recorded = 0;
    el->next = 0;
}
