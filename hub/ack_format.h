#ifndef SENSORHUB_ACK_FORMAT_H
#define SENSORHUB_ACK_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Ack and command-answer lines (PROTOCOL.md "Acks"), each ending in "\n". */

/* Longest success ack: {"ok":true,"seq":9007199254740991,"dup":true}\n */
#define ACK_OK_MAX 64

/* {"ok":true,"seq":17}\n, {"ok":true,"seq":17,"dup":true}\n or {"ok":true}\n into
 * buf (ACK_OK_MAX bytes, NUL-terminated); returns the length without the NUL. */
size_t ack_format_ok(char *buf, bool has_seq, int64_t seq, bool dup);

/* {"ok":false,"seq":17,"error":"..."}\n, or with cmd_json (the cmd member's
 * value as JSON text) {"ok":false,"cmd":"x","error":"..."}\n. error is
 * JSON-escaped. Returns a malloc'd line (caller frees) and its length in *len,
 * or NULL when out of memory. */
char *ack_error_line(bool has_seq, int64_t seq, const char *cmd_json, const char *error,
                     size_t *len);

/* {"ok":true,"cmd":CMD}\n, or with members ("\"data\":[1,2]")
 * {"ok":true,"cmd":CMD,"data":[1,2]}\n. Malloc'd as above. */
char *ack_command_line(const char *cmd_json, const char *members, size_t *len);

#endif
