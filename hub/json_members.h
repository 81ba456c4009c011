#ifndef SENSORHUB_JSON_MEMBERS_H
#define SENSORHUB_JSON_MEMBERS_H

#include <stddef.h>

/* A scanner over the top-level members of a JSON object text, yielding each
 * member's key and value exactly as sent. The decoder needs the raw text where
 * cJSON keeps only doubles and decoded strings: `seq` must be an integer
 * literally, `extra` keeps numbers as written, `echo` returns data verbatim.
 * It allocates nothing and never reads outside text[0..len); it does not
 * validate JSON (the framer did), it only finds where members begin and end. */

/* A byte range of the scanned text. */
struct json_span {
    const char *ptr;
    size_t len;
};

struct json_member {
    struct json_span key;   /* the key as sent, quotes included: "\"temp\"" */
    struct json_span value; /* the value as sent: "25.5", "\"lr-1\"", "{\"a\":[1]}" */
};

struct json_members {
    const char *pos; /* next byte to scan */
    const char *end; /* one past the last byte of the text */
    int started;     /* a member was yielded, so the next one follows a comma */
};

/* Starts scanning the object in text[0..len) (leading whitespace allowed).
 * Returns 0, or -1 when the text does not start with '{'. */
int json_members_begin(struct json_members *scan, const char *text, size_t len);

/* Yields the next member into *member: returns 1, 0 after the last member (the
 * closing '}'), or -1 when the text is not a well-formed object. */
int json_members_next(struct json_members *scan, struct json_member *member);

#endif
