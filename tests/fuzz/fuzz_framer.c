/* Fuzzes the framer (hub/framer.h) with arbitrary byte streams.
 *
 * Each input is one connection's bytes. It is framed with the default
 * max_frame_bytes and with a small limit derived from the input (so the
 * oversize and resync paths run on short inputs), each time three ways: in one
 * piece, split in two at a point derived from the input, and in pieces of 1..8
 * bytes whose sizes are drawn from the input. The three must give the same
 * events: the framer must not depend on how read() cut the stream.
 *
 * Every event is checked on its own too: a frame is bytes of the input ending
 * where the call stopped, at most max_frame_bytes long, and cJSON parses it as
 * exactly one object; an error's byte offset points from a '{' in the input
 * at the offending byte; no frame starts before the end of the line an error
 * discards; the buffer never grows past max_frame_bytes. */

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "fuzz_check.h"

#define DEFAULT_MAX_FRAME_BYTES 4096

/* The events of one run, serialised so two runs compare with memcmp. */
struct event_log {
    char *text;
    size_t len;
    size_t cap;
};

static void log_append(struct event_log *log, const char *bytes, size_t n)
{
    if (log->len + n > log->cap) {
        size_t cap = log->cap ? log->cap : 1024;
        while (cap < log->len + n)
            cap *= 2;
        log->text = realloc(log->text, cap);
        FUZZ_CHECK(log->text != NULL, "out of memory for the event log");
        log->cap = cap;
    }
    memcpy(log->text + log->len, bytes, n);
    log->len += n;
}

static void log_event(struct event_log *log, const struct framer_event *ev)
{
    char head[32];
    if (ev->kind == FRAMER_FRAME) {
        int n = snprintf(head, sizeof head, "F%zu:", ev->len);
        log_append(log, head, (size_t)n);
        log_append(log, ev->frame, ev->len);
    } else if (ev->kind == FRAMER_ERROR) {
        log_append(log, "E", 1);
        log_append(log, ev->error, strlen(ev->error));
        log_append(log, "\n", 1);
    }
}

/* FNV-1a: a cheap, deterministic way to derive choices from the input. */
static uint64_t hash_bytes(const uint8_t *data, size_t size)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < size; i++) {
        h ^= data[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

/* A frame: the input's bytes that ended where this call stopped (the framer
 * copies, it never rewrites), one complete object by cJSON's reading too. */
static void check_frame(const uint8_t *data, size_t end, size_t max_frame_bytes, bool parse_frames,
                        const struct framer_event *ev)
{
    FUZZ_CHECK(ev->frame != NULL && ev->len >= 2, "frame of %zu bytes", ev->len);
    FUZZ_CHECK(ev->len <= max_frame_bytes, "frame of %zu bytes, limit %zu", ev->len,
               max_frame_bytes);
    FUZZ_CHECK(ev->len <= end && memcmp(ev->frame, data + end - ev->len, ev->len) == 0,
               "frame of %zu bytes is not the input before stream offset %zu", ev->len, end);
    FUZZ_CHECK(ev->frame[0] == '{' && ev->frame[ev->len - 1] == '}', "frame not {...}");
    if (!parse_frames)
        return;
    const char *parse_end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(ev->frame, ev->len, &parse_end, false);
    FUZZ_CHECK(root != NULL, "cJSON cannot parse a frame the framer accepted (at byte %td): %.*s",
               parse_end ? parse_end - ev->frame : -1, (int)ev->len, ev->frame);
    FUZZ_CHECK(cJSON_IsObject(root), "frame is not an object");
    FUZZ_CHECK(parse_end == ev->frame + ev->len, "cJSON stopped at byte %td of %zu",
               parse_end - ev->frame, ev->len);
    cJSON_Delete(root);
}

/* An error names the offending byte: "invalid JSON at byte N" counts from
 * the frame's '{' (0 for bytes outside a frame, where the byte itself is the
 * offence). The offending byte is the last one the call consumed, except for
 * invalid UTF-8, which is reported at the lead byte of its sequence, up to
 * three bytes earlier. */
static void check_error(const uint8_t *data, size_t end, size_t max_frame_bytes,
                        const struct framer_event *ev)
{
    static const char invalid[] = "invalid JSON at byte ";
    char oversize[64];
    snprintf(oversize, sizeof oversize, "frame longer than max_frame_bytes (%zu)", max_frame_bytes);
    FUZZ_CHECK(memchr(ev->error, '\0', sizeof ev->error) != NULL, "error not terminated");
    if (strcmp(ev->error, oversize) == 0 || strcmp(ev->error, "out of memory for this frame") == 0)
        return;
    FUZZ_CHECK(fuzz_starts_with(ev->error, invalid), "unexpected error \"%s\"", ev->error);
    char *after = NULL;
    unsigned long long offset = strtoull(ev->error + sizeof invalid - 1, &after, 10);
    FUZZ_CHECK(after != ev->error + sizeof invalid - 1 && after[0] == ':' && after[1] == ' ' &&
                   after[2] != '\0',
               "error \"%s\" lacks \": reason\"", ev->error);
    FUZZ_CHECK(offset <= max_frame_bytes, "offset %llu past max_frame_bytes %zu", offset,
               max_frame_bytes);
    size_t last = end - 1;
    if (strstr(ev->error, "a frame must be a JSON object") != NULL) {
        FUZZ_CHECK(offset == 0 && data[last] != '{', "junk error at byte 0x%02x", data[last]);
        return;
    }
    size_t back_max = strstr(after, "UTF-8") != NULL ? 3 : 0;
    bool found = false;
    for (size_t back = 0; back <= back_max && back + offset <= last && !found; back++) {
        size_t offending = last - back;
        found = data[offending - offset] == '{' && (back_max == 0 || data[offending] >= 0x80);
    }
    FUZZ_CHECK(found, "no '{' %llu bytes before the offending byte: \"%s\"", offset, ev->error);
    FUZZ_CHECK((data[last] == '\n') == (strstr(ev->error, "newline inside") != NULL),
               "newline reason and last byte 0x%02x disagree: \"%s\"", data[last], ev->error);
}

/* Feeds data[from..to) until consumed, checking and logging every event;
 * cJSON reads each frame only when parse_frames is set (the runs are compared
 * event by event, so one run's check covers the others). *discard_from is
 * where the framer began discarding after an error (SIZE_MAX: it is not):
 * the next frame must then start after a newline. */
static void feed_piece(struct framer *f, const uint8_t *data, size_t from, size_t to,
                       bool parse_frames, size_t *discard_from, struct event_log *log)
{
    size_t pos = from;
    while (pos < to) {
        struct framer_event ev;
        size_t used = framer_feed(f, (const char *)data + pos, to - pos, &ev);
        FUZZ_CHECK(used >= 1 && used <= to - pos, "framer_feed consumed %zu of %zu", used,
                   to - pos);
        pos += used;
        FUZZ_CHECK(f->cap <= f->max_frame_bytes, "buffer of %zu bytes, limit %zu", f->cap,
                   f->max_frame_bytes);
        if (ev.kind == FRAMER_FRAME) {
            check_frame(data, pos, f->max_frame_bytes, parse_frames, &ev);
            size_t start = pos - ev.len;
            FUZZ_CHECK(*discard_from == SIZE_MAX ||
                           (start > *discard_from &&
                            memchr(data + *discard_from, '\n', start - *discard_from) != NULL),
                       "frame at stream offset %zu, but the line of the error at %zu goes on",
                       start, *discard_from - 1);
            *discard_from = SIZE_MAX;
        } else if (ev.kind == FRAMER_ERROR) {
            check_error(data, pos, f->max_frame_bytes, &ev);
            *discard_from = data[pos - 1] == '\n' ? SIZE_MAX : pos;
        } else {
            FUZZ_CHECK(ev.kind == FRAMER_NONE && pos == to,
                       "no event, yet only %zu of %zu bytes consumed", pos - from, to - from);
        }
        log_event(log, &ev);
    }
}

/* How one run cuts the input into framer_feed calls, as read() might. */
struct cuts {
    size_t split;      /* one cut here (SIZE_MAX: none) */
    uint64_t chunking; /* nonzero: pieces of 1..8 bytes, sizes drawn from this seed */
};

/* One run over the whole input, cut as told, ending with framer_finish. */
static void run(const uint8_t *data, size_t size, size_t max_frame_bytes, struct cuts cuts,
                struct event_log *log)
{
    struct framer f;
    framer_init(&f, max_frame_bytes);
    uint64_t draw = cuts.chunking;
    size_t discard_from = SIZE_MAX;
    size_t pos = 0;
    while (pos < size) {
        size_t to = size;
        if (cuts.chunking != 0) {
            draw ^= draw << 13; /* xorshift64 */
            draw ^= draw >> 7;
            draw ^= draw << 17;
            size_t piece = 1 + (size_t)(draw % 8);
            if (size - pos > piece)
                to = pos + piece;
        }
        if (pos < cuts.split && cuts.split < to)
            to = cuts.split;
        feed_piece(&f, data, pos, to, cuts.split == SIZE_MAX && cuts.chunking == 0, &discard_from,
                   log);
        pos = to;
    }
    struct framer_event ev;
    bool open = framer_finish(&f, &ev);
    FUZZ_CHECK(open == (ev.kind == FRAMER_ERROR), "framer_finish result and event disagree");
    if (open)
        FUZZ_CHECK(strcmp(ev.error, "incomplete frame at end of input") == 0, "finish: \"%s\"",
                   ev.error);
    log_event(log, &ev);
    framer_free(&f);
}

static void compare_runs(const struct event_log *a, const struct event_log *b, const char *how,
                         size_t max_frame_bytes)
{
    size_t common = a->len < b->len ? a->len : b->len;
    size_t diverge = 0;
    while (diverge < common && a->text[diverge] == b->text[diverge])
        diverge++;
    FUZZ_CHECK(a->len == b->len && diverge == a->len,
               "whole input vs %s (max_frame_bytes %zu): events differ from log byte %zu:\n"
               "  whole: %.80s\n  %s: %.80s",
               how, max_frame_bytes, diverge, a->text + diverge, how, b->text + diverge);
}

static void fuzz_with_limit(const uint8_t *data, size_t size, size_t max_frame_bytes, uint64_t h)
{
    struct event_log whole = {0}, halves = {0}, pieces = {0};
    size_t split = size > 0 ? (size_t)(h % size) : 0;
    run(data, size, max_frame_bytes, (struct cuts){SIZE_MAX, 0}, &whole);
    run(data, size, max_frame_bytes, (struct cuts){split, 0}, &halves);
    run(data, size, max_frame_bytes, (struct cuts){SIZE_MAX, h | 1}, &pieces);
    compare_runs(&whole, &halves, "split", max_frame_bytes);
    compare_runs(&whole, &pieces, "pieces", max_frame_bytes);
    free(whole.text);
    free(halves.text);
    free(pieces.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t h = hash_bytes(data, size);
    size_t small_limit = (size_t)(h >> 32) % 160; /* 0..159: frames of the corpus overflow it */
    fuzz_with_limit(data, size, DEFAULT_MAX_FRAME_BYTES, h);
    fuzz_with_limit(data, size, small_limit, h);
    return 0;
}
