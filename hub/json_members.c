#include "json_members.h"

static const char *skip_whitespace(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p is at an opening quote; returns one past the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++; /* the escaped byte cannot close the string */
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* p is at '{' or '['; returns one past the bracket that closes it, or NULL.
 * Brackets inside strings do not count. */
static const char *skip_container(const char *p, const char *end)
{
    size_t depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = skip_string(p, end);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0)
                return p + 1;
        }
        p++;
    }
    return NULL;
}

/* A number or a literal (true, false, null) runs up to the next delimiter. */
static const char *skip_scalar(const char *p, const char *end)
{
    const char *start = p;
    while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
           *p != '\n' && *p != '\r')
        p++;
    return p > start ? p : NULL;
}

static const char *skip_value(const char *p, const char *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p == '{' || *p == '[')
        return skip_container(p, end);
    return skip_scalar(p, end);
}

int json_members_begin(struct json_members *scan, const char *text, size_t len)
{
    const char *end = text + len;
    const char *p = skip_whitespace(text, end);
    if (p >= end || *p != '{')
        return -1;
    scan->pos = p + 1;
    scan->end = end;
    scan->started = 0;
    return 0;
}

int json_members_next(struct json_members *scan, struct json_member *member)
{
    const char *end = scan->end;
    const char *p = skip_whitespace(scan->pos, end);
    if (p >= end)
        return -1;
    if (*p == '}') {
        scan->pos = p;
        return 0;
    }
    if (scan->started) {
        if (*p != ',')
            return -1;
        p = skip_whitespace(p + 1, end);
    }
    if (p >= end || *p != '"')
        return -1;
    const char *key_end = skip_string(p, end);
    if (key_end == NULL)
        return -1;
    member->key.ptr = p;
    member->key.len = (size_t)(key_end - p);

    p = skip_whitespace(key_end, end);
    if (p >= end || *p != ':')
        return -1;
    p = skip_whitespace(p + 1, end);
    const char *value_end = skip_value(p, end);
    if (value_end == NULL)
        return -1;
    member->value.ptr = p;
    member->value.len = (size_t)(value_end - p);

    scan->pos = value_end;
    scan->started = 1;
    return 1;
}
