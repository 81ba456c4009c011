#include "framer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How the framer reports errors inside a frame: "invalid JSON at byte N", where
 * N counts from the frame's opening '{' and is the first offending byte. For
 * invalid UTF-8 that is the first byte of the ill-formed sequence, as Python's
 * and most decoders' error positions report it: a byte that can never start a
 * sequence (0x80-0xC1, 0xF5-0xFF) itself, and the lead byte of an overlong
 * form, an encoded surrogate, a code point above U+10FFFF or a truncated
 * sequence (unless a newline cut it: then the newline's offset, as for any
 * newline inside an object). A \u escape fails at the first hex digit that
 * makes it invalid: "\uDC00" at its 'C', "\u0000" at its last '0'. */

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* The first allocation for a frame; the buffer doubles from here up to
 * max_frame_bytes, so typical frames of a hundred bytes never reallocate. */
#define FRAMER_FIRST_CAP 256

enum framer_state {
    ST_BETWEEN,       /* between frames: whitespace and NULs skipped, '{' opens a frame */
    ST_DISCARD,       /* after an error: bytes dropped up to and including the next newline */
    ST_OBJECT_FIRST,  /* after '{': a member name or '}' */
    ST_OBJECT_NAME,   /* after ',' in an object: a member name */
    ST_COLON,         /* after a member name: ':' */
    ST_VALUE,         /* after ':' or after ',' in an array: a value */
    ST_ARRAY_FIRST,   /* after '[': a value or ']' */
    ST_AFTER_VALUE,   /* after a value: ',' or the bracket closing its container */
    ST_STRING,        /* inside a string */
    ST_ESCAPE,        /* after a backslash in a string */
    ST_HEX,           /* reading the hex digits of a \u escape */
    ST_LOW_BACKSLASH, /* after a \u high surrogate: the '\' of its low surrogate */
    ST_LOW_U,         /* after a \u high surrogate and '\': the 'u' */
    ST_UTF8,          /* inside a multi-byte UTF-8 sequence in a string */
    ST_LITERAL,       /* inside true, false or null */
    ST_MINUS,         /* after a number's '-': a digit */
    ST_ZERO,          /* after a number's leading 0: '.', 'e' or the end */
    ST_INT,           /* in a number's integer digits */
    ST_DOT,           /* after a number's '.': a digit */
    ST_FRAC,          /* in a number's fraction digits */
    ST_EXP,           /* after a number's 'e': a sign or a digit */
    ST_EXP_SIGN,      /* after the exponent's sign: a digit */
    ST_EXP_DIGITS,    /* in the exponent's digits */
};

static const char newline_reason[] = "newline inside an object; send one object per line";
static const char surrogate_pair_reason[] =
    "high surrogate \\uD800-\\uDBFF must be followed by a low surrogate \\uDC00-\\uDFFF";

void framer_init(struct framer *f, size_t max_frame_bytes)
{
    memset(f, 0, sizeof *f);
    f->max_frame_bytes = max_frame_bytes;
    f->state = ST_BETWEEN;
}

void framer_free(struct framer *f)
{
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
    f->len = 0;
}

static bool is_json_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Bytes a string holds as they are: printable ASCII other than '"' and '\'. */
static bool is_plain_string_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Forgets the open frame and sets the state that follows it. */
static void end_frame(struct framer *f, int next_state)
{
    f->state = next_state;
    f->depth = 0;
    f->len = 0;
    f->want_low_surrogate = false;
}

/* Ends the open frame with an error at the offending byte. A newline there
 * ends the line as well, so framing resumes right after it; after any other
 * byte the rest of the line is discarded. */
static void fail_frame(struct framer *f, struct framer_event *ev, size_t offset, unsigned char byte,
                       const char *reason)
{
    if (byte == '\n')
        reason = newline_reason;
    end_frame(f, byte == '\n' ? ST_BETWEEN : ST_DISCARD);
    ev->kind = FRAMER_ERROR;
    snprintf(ev->error, sizeof ev->error, "invalid JSON at byte %zu: %s", offset, reason);
}

/* Ends the open frame with an error that is not about JSON syntax (size,
 * memory), discarding the rest of the line. */
static void refuse_frame(struct framer *f, struct framer_event *ev, const char *message)
{
    end_frame(f, ST_DISCARD);
    ev->kind = FRAMER_ERROR;
    snprintf(ev->error, sizeof ev->error, "%s", message);
}

static void refuse_oversize_frame(struct framer *f, struct framer_event *ev)
{
    char message[sizeof ev->error];
    snprintf(message, sizeof message, "frame longer than max_frame_bytes (%zu)",
             f->max_frame_bytes);
    refuse_frame(f, ev, message);
}

/* Appends bytes of the open frame to buf, growing it geometrically but never
 * past max_frame_bytes (callers never pass more than fits). */
static bool append_to_frame(struct framer *f, const unsigned char *bytes, size_t n)
{
    size_t need = f->len + n;
    if (need > f->cap) {
        size_t cap = f->cap != 0 ? f->cap : FRAMER_FIRST_CAP;
        while (cap < need)
            cap = cap > f->max_frame_bytes / 2 ? f->max_frame_bytes : cap * 2;
        if (cap > f->max_frame_bytes)
            cap = f->max_frame_bytes;
        char *grown = realloc(f->buf, cap);
        if (grown == NULL)
            return false;
        f->buf = grown;
        f->cap = cap;
    }
    memcpy(f->buf + f->len, bytes, n);
    f->len += n;
    return true;
}

static void push_container(struct framer *f, unsigned depth, bool is_object)
{
    uint8_t bit = (uint8_t)(1u << (depth & 7u));
    if (is_object)
        f->stack[depth >> 3] |= bit;
    else
        f->stack[depth >> 3] &= (uint8_t)~bit;
}

static bool innermost_is_object(const struct framer *f, unsigned depth)
{
    unsigned level = depth - 1;
    return ((unsigned)f->stack[level >> 3] >> (level & 7u)) & 1u;
}

/* Validates the open frame's bytes p[i..len) (the frame's bytes in this call
 * start at p[start]) until the frame closes, an error is found or the input
 * runs out, and returns the bytes consumed. The bytes are copied into buf once,
 * as one run, when the call ends, rather than one at a time. Bytes that would
 * make the frame longer than max_frame_bytes are never scanned: stop marks the
 * first of them. */
static size_t scan_frame(struct framer *f, const unsigned char *p, size_t start, size_t i,
                         size_t len, struct framer_event *ev)
{
    size_t room = f->max_frame_bytes - f->len;
    size_t stop = len - start > room ? start + room : len;
    int state = f->state;
    unsigned depth = f->depth;
    const char *reason = NULL;

    while (i < stop) {
        unsigned char c = p[i];
        switch (state) {
        case ST_STRING:
            if (is_plain_string_byte(c)) {
                do
                    i++;
                while (i < stop && is_plain_string_byte(p[i]));
                break;
            }
            if (c == '"') {
                state = f->in_name ? ST_COLON : ST_AFTER_VALUE;
            } else if (c == '\\') {
                state = ST_ESCAPE;
            } else if (c < 0x20) {
                reason = "control character in string; escape it (e.g. \\t)";
                goto fail;
            } else if (c >= 0xC2 && c <= 0xDF) {
                f->utf8_need = 1;
                f->utf8_len = 2;
                f->utf8_lo = 0x80;
                f->utf8_hi = 0xBF;
                state = ST_UTF8;
            } else if (c >= 0xE0 && c <= 0xEF) {
                f->utf8_need = 2;
                f->utf8_len = 3;
                f->utf8_lo = c == 0xE0 ? 0xA0 : 0x80;
                f->utf8_hi = c == 0xED ? 0x9F : 0xBF;
                state = ST_UTF8;
            } else if (c >= 0xF0 && c <= 0xF4) {
                f->utf8_need = 3;
                f->utf8_len = 4;
                f->utf8_lo = c == 0xF0 ? 0x90 : 0x80;
                f->utf8_hi = c == 0xF4 ? 0x8F : 0xBF;
                state = ST_UTF8;
            } else {
                reason = c <= 0xBF   ? "UTF-8 continuation byte without a lead byte"
                         : c <= 0xC1 ? "overlong UTF-8 encoding"
                                     : "byte 0xF5-0xFF is never valid UTF-8";
                goto fail;
            }
            i++;
            break;
        case ST_UTF8:
            if (c < f->utf8_lo || c > f->utf8_hi) {
                if (c < 0x80 || c > 0xBF)
                    reason = "truncated UTF-8 sequence";
                else if (f->utf8_lo != 0x80)
                    reason = "overlong UTF-8 encoding";
                else if (f->utf8_hi == 0x9F)
                    reason = "UTF-8 encoded surrogate (U+D800-U+DFFF)";
                else
                    reason = "UTF-8 code point above U+10FFFF";
                /* Point at the sequence's lead byte, already consumed. */
                size_t back = c == '\n' ? 0 : (size_t)(f->utf8_len - f->utf8_need);
                fail_frame(f, ev, f->len + (i - start) - back, c, reason);
                return i + 1;
            }
            f->utf8_lo = 0x80;
            f->utf8_hi = 0xBF;
            if (--f->utf8_need == 0)
                state = ST_STRING;
            i++;
            break;
        case ST_ESCAPE:
            switch (c) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                state = ST_STRING;
                break;
            case 'u':
                f->hex_left = 4;
                f->codepoint = 0;
                state = ST_HEX;
                break;
            default:
                reason = "invalid escape; use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX";
                goto fail;
            }
            i++;
            break;
        case ST_HEX: {
            int digit = hex_value(c);
            if (digit < 0) {
                reason = "\\u escape needs four hex digits";
                goto fail;
            }
            f->codepoint = f->codepoint << 4 | (uint32_t)digit;
            f->hex_left--;
            if (f->want_low_surrogate) {
                /* Judge the low surrogate digit by digit: it must read DC..DF. */
                if ((f->hex_left == 3 && f->codepoint != 0xD) ||
                    (f->hex_left == 2 && f->codepoint < 0xDC)) {
                    reason = surrogate_pair_reason;
                    goto fail;
                }
                if (f->hex_left == 0) {
                    f->want_low_surrogate = false;
                    state = ST_STRING;
                }
            } else if (f->hex_left == 2 && f->codepoint >= 0xDC && f->codepoint <= 0xDF) {
                reason = "lone low surrogate \\uDC00-\\uDFFF without a high surrogate before it";
                goto fail;
            } else if (f->hex_left == 0) {
                if (f->codepoint == 0) {
                    /* Decoded strings are NUL-terminated: a NUL would cut them short. */
                    reason = "\\u0000 is not accepted: strings cannot hold a NUL";
                    goto fail;
                }
                f->want_low_surrogate = f->codepoint >= 0xD800 && f->codepoint <= 0xDBFF;
                state = f->want_low_surrogate ? ST_LOW_BACKSLASH : ST_STRING;
            }
            i++;
            break;
        }
        case ST_LOW_BACKSLASH:
        case ST_LOW_U:
            if (c != (state == ST_LOW_BACKSLASH ? '\\' : 'u')) {
                reason = surrogate_pair_reason;
                goto fail;
            }
            if (state == ST_LOW_U) {
                f->hex_left = 4;
                f->codepoint = 0;
            }
            state = state == ST_LOW_BACKSLASH ? ST_LOW_U : ST_HEX;
            i++;
            break;
        case ST_OBJECT_FIRST:
            if (c == '}') {
                i++;
                if (--depth == 0)
                    goto frame_done;
                state = ST_AFTER_VALUE;
            } else if (is_json_space(c)) {
                i++;
            } else {
                state = ST_OBJECT_NAME; /* look at c again there */
            }
            break;
        case ST_OBJECT_NAME:
            if (c == '"') {
                f->in_name = true;
                state = ST_STRING;
            } else if (!is_json_space(c)) {
                reason = c == '}' ? "trailing comma before '}'"
                                  : "expected a member name in double quotes";
                goto fail;
            }
            i++;
            break;
        case ST_COLON:
            if (c == ':') {
                state = ST_VALUE;
            } else if (!is_json_space(c)) {
                reason = "expected ':' after the member name";
                goto fail;
            }
            i++;
            break;
        case ST_ARRAY_FIRST:
            if (c == ']') {
                i++;
                --depth; /* never 0: the outermost container is an object */
                state = ST_AFTER_VALUE;
            } else if (is_json_space(c)) {
                i++;
            } else {
                state = ST_VALUE; /* look at c again there */
            }
            break;
        case ST_VALUE:
            if (c == '"') {
                f->in_name = false;
                state = ST_STRING;
            } else if (c >= '1' && c <= '9') {
                state = ST_INT;
            } else if (c == '0') {
                state = ST_ZERO;
            } else if (c == '-') {
                state = ST_MINUS;
            } else if (c == '{' || c == '[') {
                if (depth == FRAMER_MAX_DEPTH) {
                    reason = "nesting deeper than " STRINGIFY(FRAMER_MAX_DEPTH);
                    goto fail;
                }
                push_container(f, depth++, c == '{');
                state = c == '{' ? ST_OBJECT_FIRST : ST_ARRAY_FIRST;
            } else if (c == 't') {
                f->literal_rest = "rue";
                state = ST_LITERAL;
            } else if (c == 'f') {
                f->literal_rest = "alse";
                state = ST_LITERAL;
            } else if (c == 'n') {
                f->literal_rest = "ull";
                state = ST_LITERAL;
            } else if (!is_json_space(c)) {
                reason = c == '\'' ? "strings need double quotes" : "expected a value";
                goto fail;
            }
            i++;
            break;
        case ST_AFTER_VALUE:
            if (is_json_space(c)) {
                i++;
            } else if (c == ',') {
                state = innermost_is_object(f, depth) ? ST_OBJECT_NAME : ST_VALUE;
                i++;
            } else if (c == (innermost_is_object(f, depth) ? '}' : ']')) {
                i++;
                if (--depth == 0)
                    goto frame_done;
            } else {
                reason = innermost_is_object(f, depth) ? "expected ',' or '}' after a value"
                                                       : "expected ',' or ']' after a value";
                goto fail;
            }
            break;
        case ST_LITERAL:
            if (c != (unsigned char)*f->literal_rest) {
                reason = "invalid literal; expected true, false or null";
                goto fail;
            }
            if (*++f->literal_rest == '\0')
                state = ST_AFTER_VALUE;
            i++;
            break;
        case ST_MINUS:
            if (!is_digit(c)) {
                reason = "expected a digit after '-'";
                goto fail;
            }
            state = c == '0' ? ST_ZERO : ST_INT;
            i++;
            break;
        case ST_ZERO:
            if (is_digit(c)) {
                reason = "leading zeros are not allowed in numbers";
                goto fail;
            }
            if (c == '.') {
                state = ST_DOT;
                i++;
            } else if (c == 'e' || c == 'E') {
                state = ST_EXP;
                i++;
            } else {
                state = ST_AFTER_VALUE; /* the number ended: look at c again there */
            }
            break;
        case ST_INT:
            if (is_digit(c)) {
                do
                    i++;
                while (i < stop && is_digit(p[i]));
            } else if (c == '.') {
                state = ST_DOT;
                i++;
            } else if (c == 'e' || c == 'E') {
                state = ST_EXP;
                i++;
            } else {
                state = ST_AFTER_VALUE;
            }
            break;
        case ST_DOT:
            if (!is_digit(c)) {
                reason = "expected a digit after '.'";
                goto fail;
            }
            state = ST_FRAC;
            i++;
            break;
        case ST_FRAC:
            if (is_digit(c)) {
                do
                    i++;
                while (i < stop && is_digit(p[i]));
            } else if (c == 'e' || c == 'E') {
                state = ST_EXP;
                i++;
            } else {
                state = ST_AFTER_VALUE;
            }
            break;
        case ST_EXP:
        case ST_EXP_SIGN:
            if (is_digit(c)) {
                state = ST_EXP_DIGITS;
            } else if (state == ST_EXP && (c == '+' || c == '-')) {
                state = ST_EXP_SIGN;
            } else {
                reason = "expected a digit in the exponent";
                goto fail;
            }
            i++;
            break;
        case ST_EXP_DIGITS:
            if (is_digit(c)) {
                do
                    i++;
                while (i < stop && is_digit(p[i]));
            } else {
                state = ST_AFTER_VALUE;
            }
            break;
        }
    }

    if (stop < len) {
        /* p[stop] would be byte max_frame_bytes + 1. A newline there just ends
         * an incomplete frame; anything else makes it too long. */
        if (p[stop] == '\n')
            goto fail;
        refuse_oversize_frame(f, ev);
        return stop + 1;
    }
    f->state = state;
    f->depth = depth;
    if (!append_to_frame(f, p + start, len - start))
        refuse_frame(f, ev, "out of memory for this frame");
    return len;

frame_done:
    if (!append_to_frame(f, p + start, i - start)) {
        refuse_frame(f, ev, "out of memory for this frame");
        return i;
    }
    ev->kind = FRAMER_FRAME;
    ev->frame = f->buf;
    ev->len = f->len;
    end_frame(f, ST_BETWEEN);
    return i;

fail:
    fail_frame(f, ev, f->len + (i - start), p[i], reason);
    return i + 1;
}

size_t framer_feed(struct framer *f, const char *data, size_t len, struct framer_event *ev)
{
    const unsigned char *p = (const unsigned char *)data;
    size_t i = 0;

    ev->kind = FRAMER_NONE;
    ev->frame = NULL;
    ev->len = 0;
    ev->error[0] = '\0';
    while (i < len) {
        if (f->state == ST_DISCARD) {
            const unsigned char *newline = memchr(p + i, '\n', len - i);
            if (newline == NULL)
                return len;
            i = (size_t)(newline - p) + 1;
            f->state = ST_BETWEEN;
        } else if (f->state != ST_BETWEEN) {
            return scan_frame(f, p, i, i, len, ev);
        } else if (p[i] == '{') {
            if (f->max_frame_bytes == 0) {
                refuse_oversize_frame(f, ev);
                return i + 1;
            }
            f->state = ST_OBJECT_FIRST;
            f->depth = 1;
            push_container(f, 0, true);
            return scan_frame(f, p, i, i + 1, len, ev);
        } else if (is_json_space(p[i]) || p[i] == '\n' || p[i] == '\0') {
            i++;
        } else {
            ev->kind = FRAMER_ERROR;
            snprintf(ev->error, sizeof ev->error,
                     "invalid JSON at byte 0: a frame must be a JSON object");
            f->state = ST_DISCARD;
            return i + 1;
        }
    }
    return len;
}

bool framer_finish(struct framer *f, struct framer_event *ev)
{
    bool frame_open = f->state != ST_BETWEEN && f->state != ST_DISCARD;

    ev->kind = FRAMER_NONE;
    ev->frame = NULL;
    ev->len = 0;
    ev->error[0] = '\0';
    if (frame_open) {
        ev->kind = FRAMER_ERROR;
        snprintf(ev->error, sizeof ev->error, "incomplete frame at end of input");
    }
    end_frame(f, ST_BETWEEN);
    return frame_open;
}
