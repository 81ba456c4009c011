#ifndef SENSORHUB_ACK_QUEUE_H
#define SENSORHUB_ACK_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One connection's acks, in the order its frames arrived (PROTOCOL.md: exactly
 * one ack per frame, in order). A frame's ack is either known at once (an
 * error, a command's answer) or waits for the store; the queue releases acks
 * from the front only, so a fast answer never overtakes a reading that is
 * still being committed. Pure: no I/O, unit-tested. */

enum ack_result {
    ACK_STORED,    /* {"ok":true,"seq":N} */
    ACK_DUPLICATE, /* {"ok":true,"seq":N,"dup":true} */
    ACK_FAILED,    /* {"ok":false,"seq":N,"error":...} (storage error) */
};

struct ack_slot {
    bool ready;     /* the ack is known and may be sent */
    bool has_seq;   /* the frame had a valid seq */
    uint8_t result; /* enum ack_result, for readings without text */
    int64_t seq;
    char *text; /* malloc'd line for errors and answers, else NULL */
    size_t text_len;
};

/* Slots of a new ring; it doubles as frames pile up, to at most cap. */
#define ACK_QUEUE_FIRST_SLOTS 8

struct ack_queue {
    struct ack_slot *slots; /* ring of size slots, allocated on first use */
    uint32_t size;          /* slots allocated */
    uint32_t cap;           /* the most acks outstanding (max_unacked) */
    uint32_t head;          /* index of the oldest slot */
    uint32_t count;         /* slots in use */
    uint32_t waiting;       /* slots waiting for the store */
    uint32_t next_waiting;  /* offset from head of the oldest waiting slot */
};

void ack_queue_init(struct ack_queue *q, uint32_t cap);
void ack_queue_free(struct ack_queue *q);

/* Appends a slot for a reading handed to the store. Returns 0, or -1 when
 * the queue is full or memory is short. */
int ack_queue_push_waiting(struct ack_queue *q, bool has_seq, int64_t seq);

/* Appends a ready line (takes ownership of the malloc'd text). Returns 0, or
 * -1 (the text is freed) when the queue is full or memory is short. */
int ack_queue_push_text(struct ack_queue *q, char *text, size_t len);

/* The store finished the oldest waiting reading: result, with error text for
 * ACK_FAILED. Readings come back from the store in submission order. */
void ack_queue_complete_oldest(struct ack_queue *q, enum ack_result result, const char *error);

/* Moves the ready acks at the front into out (up to cap bytes), removing them
 * from the queue; stops at the first slot still waiting. Returns the bytes
 * written and the number of acks in *acks. A line never is split: one that
 * does not fit stays for the next call (cap must be >= the longest line). */
size_t ack_queue_take_ready(struct ack_queue *q, char *out, size_t cap, uint32_t *acks);

#endif
