#include "ack_format.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t ack_format_ok(char *buf, bool has_seq, int64_t seq, bool dup)
{
    const char *dup_member = dup ? ",\"dup\":true" : "";
    int n;
    if (has_seq)
        n = snprintf(buf, ACK_OK_MAX, "{\"ok\":true,\"seq\":%" PRId64 "%s}\n", seq, dup_member);
    else
        n = snprintf(buf, ACK_OK_MAX, "{\"ok\":true%s}\n", dup_member);
    return n < 0 ? 0 : (size_t)n;
}

/* Length of the valid UTF-8 sequence at s[0..len), or 0 when it is not one
 * (bad lead byte, missing continuation, overlong, surrogate, > U+10FFFF). */
static size_t utf8_sequence_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    size_t need;
    uint32_t min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2, min = 0x80, cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3, min = 0x800, cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4, min = 0x10000, cp = c & 0x07u;
    } else {
        return 0;
    }
    if (len < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

/* Writes text as the inside of a JSON string into out (when out is not NULL)
 * and returns the length: quotes and backslashes escaped, control characters
 * as \u00XX, and bytes that are not UTF-8 as \ufffd, so the line stays valid
 * JSON whatever the message holds. */
static size_t json_escape(const char *text, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            if (out) {
                out[n] = '\\';
                out[n + 1] = (char)c;
            }
            n += 2, i++;
        } else if (c < 0x20) {
            if (out)
                memcpy(out + n, (char[6]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}, 6);
            n += 6, i++;
        } else {
            size_t seq_len = utf8_sequence_len(s + i, len - i);
            if (seq_len == 0) {
                if (out)
                    memcpy(out + n, "\\ufffd", 6);
                n += 6, i++;
            } else {
                if (out)
                    memcpy(out + n, s + i, seq_len);
                n += seq_len, i += seq_len;
            }
        }
    }
    return n;
}

/* Appends text[0..len) at *p. */
static void append(char **p, const char *text, size_t len)
{
    memcpy(*p, text, len);
    *p += len;
}

char *ack_error_line(bool has_seq, int64_t seq, const char *cmd_json, const char *error,
                     size_t *len)
{
    char seq_member[32] = "";
    if (has_seq)
        snprintf(seq_member, sizeof seq_member, ",\"seq\":%" PRId64, seq);
    static const char head[] = "{\"ok\":false";
    static const char cmd_key[] = ",\"cmd\":";
    static const char error_key[] = ",\"error\":\"";
    static const char tail[] = "\"}\n";
    size_t seq_len = strlen(seq_member);
    size_t cmd_len = cmd_json ? sizeof cmd_key - 1 + strlen(cmd_json) : 0;
    size_t total = sizeof head - 1 + seq_len + cmd_len + sizeof error_key - 1 +
                   json_escape(error, NULL) + sizeof tail - 1;
    char *line = malloc(total + 1);
    if (line == NULL)
        return NULL;
    char *p = line;
    append(&p, head, sizeof head - 1);
    append(&p, seq_member, seq_len);
    if (cmd_json) {
        append(&p, cmd_key, sizeof cmd_key - 1);
        append(&p, cmd_json, strlen(cmd_json));
    }
    append(&p, error_key, sizeof error_key - 1);
    p += json_escape(error, p);
    append(&p, tail, sizeof tail); /* with the NUL */
    *len = total;
    return line;
}

char *ack_command_line(const char *cmd_json, const char *members, size_t *len)
{
    static const char head[] = "{\"ok\":true,\"cmd\":";
    static const char tail[] = "}\n";
    size_t cmd_len = strlen(cmd_json);
    size_t members_len = members ? strlen(members) : 0;
    size_t total =
        sizeof head - 1 + cmd_len + (members_len ? 1 + members_len : 0) + sizeof tail - 1;
    char *line = malloc(total + 1);
    if (line == NULL)
        return NULL;
    char *p = line;
    append(&p, head, sizeof head - 1);
    append(&p, cmd_json, cmd_len);
    if (members_len) {
        append(&p, ",", 1);
        append(&p, members, members_len);
    }
    append(&p, tail, sizeof tail);
    *len = total;
    return line;
}
