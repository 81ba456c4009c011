#include "ack_queue.h"

#include <stdlib.h>
#include <string.h>

#include "ack_format.h"

void ack_queue_init(struct ack_queue *q, uint32_t cap)
{
    memset(q, 0, sizeof(*q));
    q->cap = cap;
}

static struct ack_slot *slot_at(const struct ack_queue *q, uint32_t offset)
{
    return &q->slots[(q->head + offset) % q->size];
}

void ack_queue_free(struct ack_queue *q)
{
    if (q->slots) {
        for (uint32_t i = 0; i < q->count; i++)
            free(slot_at(q, i)->text);
        free(q->slots);
    }
    memset(q, 0, sizeof(*q));
}

/* Doubles the ring (up to cap slots), moving the slots in use to its start. */
static int grow(struct ack_queue *q)
{
    uint32_t size = q->size ? q->size * 2 : ACK_QUEUE_FIRST_SLOTS;
    if (size > q->cap)
        size = q->cap;
    struct ack_slot *slots = calloc(size, sizeof(*slots));
    if (!slots)
        return -1;
    for (uint32_t i = 0; i < q->count; i++)
        slots[i] = *slot_at(q, i);
    free(q->slots);
    q->slots = slots;
    q->size = size;
    q->head = 0;
    return 0;
}

/* The ring starts small on the first frame and grows with the frames in
 * flight, so a sensor that sends one reading a minute keeps a few slots, not
 * max_unacked of them. */
static struct ack_slot *push_slot(struct ack_queue *q)
{
    if (q->count >= q->cap)
        return NULL;
    if (q->count == q->size && grow(q) != 0)
        return NULL;
    struct ack_slot *slot = slot_at(q, q->count);
    memset(slot, 0, sizeof(*slot));
    q->count++;
    return slot;
}

int ack_queue_push_waiting(struct ack_queue *q, bool has_seq, int64_t seq)
{
    struct ack_slot *slot = push_slot(q);
    if (!slot)
        return -1;
    slot->has_seq = has_seq;
    slot->seq = seq;
    if (q->waiting == 0)
        q->next_waiting = q->count - 1;
    q->waiting++;
    return 0;
}

int ack_queue_push_text(struct ack_queue *q, char *text, size_t len)
{
    struct ack_slot *slot = push_slot(q);
    if (!slot) {
        free(text);
        return -1;
    }
    slot->ready = true;
    slot->text = text;
    slot->text_len = len;
    return 0;
}

void ack_queue_complete_oldest(struct ack_queue *q, enum ack_result result, const char *error)
{
    if (q->waiting == 0)
        return;
    struct ack_slot *slot = slot_at(q, q->next_waiting);
    slot->ready = true;
    slot->result = (uint8_t)result;
    if (result == ACK_FAILED)
        slot->text = ack_error_line(slot->has_seq, slot->seq, NULL, error, &slot->text_len);
    q->waiting--;
    if (q->waiting == 0)
        return;
    /* Ready slots between waiting ones are answers and errors; skip them. */
    do {
        q->next_waiting++;
    } while (slot_at(q, q->next_waiting)->ready);
}

/* Formatting a storage error line can run out of memory: the frame still
 * gets an ack, a generic one that needs no allocation. */
static const char storage_error_line[] = "{\"ok\":false,\"error\":\"storage error\"}\n";

/* The slot's line: its own text, or a success ack formatted into ok_line. */
static const char *slot_line(const struct ack_slot *slot, char *ok_line, size_t *len)
{
    if (slot->text) {
        *len = slot->text_len;
        return slot->text;
    }
    if (slot->result == ACK_FAILED) {
        *len = sizeof(storage_error_line) - 1;
        return storage_error_line;
    }
    *len = ack_format_ok(ok_line, slot->has_seq, slot->seq, slot->result == ACK_DUPLICATE);
    return ok_line;
}

size_t ack_queue_take_ready(struct ack_queue *q, char *out, size_t cap, uint32_t *acks)
{
    char ok_line[ACK_OK_MAX];
    size_t used = 0;
    uint32_t taken = 0;
    while (q->count > 0) {
        struct ack_slot *slot = slot_at(q, 0);
        if (!slot->ready)
            break;
        size_t len;
        const char *line = slot_line(slot, ok_line, &len);
        if (used + len > cap)
            break;
        memcpy(out + used, line, len);
        free(slot->text);
        slot->text = NULL;
        used += len;
        taken++;
        q->head = (q->head + 1) % q->size;
        q->count--;
        if (q->waiting > 0)
            q->next_waiting--;
    }
    *acks = taken;
    return used;
}
