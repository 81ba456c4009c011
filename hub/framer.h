#ifndef SENSORHUB_FRAMER_H
#define SENSORHUB_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The framer turns a byte stream into frames: JSON objects separated by
 * newlines or sent back to back (PROTOCOL.md "Frames"). It validates JSON
 * syntax strictly (RFC 8259, UTF-8 included) as the bytes go by, so an error
 * names the exact offending byte, and it never buffers more than
 * max_frame_bytes: after an error it discards input up to the next newline.
 * It knows nothing of sockets, so every transport can share it. */

/* Deepest nesting of objects and arrays accepted inside a frame. */
#define FRAMER_MAX_DEPTH 512

enum framer_event_kind {
    FRAMER_NONE,  /* the bytes given were consumed without completing anything */
    FRAMER_FRAME, /* frame/len hold one complete, syntactically valid object */
    FRAMER_ERROR, /* error holds the message for the error ack */
};

struct framer_event {
    enum framer_event_kind kind;
    const char *frame; /* FRAMER_FRAME: the object's bytes, valid until the next framer call */
    size_t len;        /* FRAMER_FRAME: its length */
    char error[128];   /* FRAMER_ERROR: "invalid JSON at byte N: reason", ... */
};

struct framer {
    size_t max_frame_bytes; /* longest frame accepted */
    char *buf;              /* the frame being assembled, grown up to max_frame_bytes */
    size_t cap;             /* allocated size of buf */
    size_t len;             /* bytes of the current frame in buf */
    /* Private lexer state (framer.c); kept here so a framer needs no allocation. */
    int state;                           /* where the lexer is: between frames, in a string, ... */
    unsigned depth;                      /* current nesting depth; 0 between frames */
    uint8_t stack[FRAMER_MAX_DEPTH / 8]; /* bit per level: 1 = object, 0 = array */
    const char *literal_rest;            /* the rest of true/false/null still expected */
    uint32_t codepoint;                  /* value of the \u escape being read */
    uint8_t hex_left;                    /* hex digits left in a \u escape */
    uint8_t utf8_len;                    /* bytes in that sequence, lead byte included */
    uint8_t utf8_need;                   /* continuation bytes still expected in a UTF-8 sequence */
    uint8_t utf8_lo;                     /* smallest byte allowed next in that sequence */
    uint8_t utf8_hi;                     /* largest byte allowed next in that sequence */
    bool in_name;                        /* the string being read is a member name */
    bool want_low_surrogate;             /* a \u high surrogate must be followed by a low one */
};

/* Prepares f; frames longer than max_frame_bytes are refused. Allocates nothing
 * until the first frame starts. */
void framer_init(struct framer *f, size_t max_frame_bytes);

/* Releases the frame buffer. */
void framer_free(struct framer *f);

/* Consumes bytes from data until one event completes or the data runs out, and
 * returns how many bytes it consumed (at least 1 when len > 0). The caller
 * loops until all its bytes are consumed, handling each event. Never fails:
 * memory for a frame is bounded by max_frame_bytes, and if that memory cannot
 * be allocated the frame is refused with an error event. */
size_t framer_feed(struct framer *f, const char *data, size_t len, struct framer_event *ev);

/* End of input: reports "incomplete frame at end of input" when a frame was
 * open (returns true with an error event) and resets the framer. */
bool framer_finish(struct framer *f, struct framer_event *ev);

#endif
