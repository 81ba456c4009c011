#ifndef SENSORHUB_FRAME_DECODE_H
#define SENSORHUB_FRAME_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "reading.h"
#include "sensor_rooms.h"

/* The frame decoder: one complete frame (a syntactically valid JSON object,
 * as the framer delivers it) in, a validated reading, a command or an error
 * message out (PROTOCOL.md "Reading frame", "rtl_433 frames", "Command
 * frames"). Pure: no I/O, the clock is a parameter. Parses with cJSON. */

struct decode_rules {
    double temp_min; /* accepted temperature range, Celsius */
    double temp_max;
    int64_t max_future_s;             /* how far ahead of now a ts may be */
    const struct sensor_rooms *rooms; /* config `sensors` map; may be NULL */
};

enum frame_kind {
    FRAME_READING, /* out->reading is valid */
    FRAME_COMMAND, /* out->command and its fields are valid */
    FRAME_REFUSED, /* out->error says why; out->has_seq tells whether to echo seq */
};

enum frame_command {
    COMMAND_PING,
    COMMAND_HELLO,   /* token in out->token */
    COMMAND_ECHO,    /* data in out->echo_json */
    COMMAND_UNKNOWN, /* any other cmd (its JSON value in out->cmd_json) */
};

struct decoded_frame {
    enum frame_kind kind;
    bool has_seq; /* the frame had a valid seq (echoed in the ack) */
    int64_t seq;
    struct reading reading;     /* FRAME_READING; reading.extra is owned by this struct */
    enum frame_command command; /* FRAME_COMMAND */
    char *cmd_json;             /* FRAME_COMMAND, and FRAME_REFUSED for a command frame (cmd or
                                   token not a string), so the answer names its cmd: the cmd
                                   member's value as JSON text, as sent ("\"ping\"") */
    char *token;                /* COMMAND_HELLO: the token string (NULL when absent) */
    char *echo_json; /* COMMAND_ECHO: the data member as JSON text ("null" when absent) */
    char error[256]; /* FRAME_REFUSED: "hum: 140 is out of range [0, 100]" */
};

/* Decodes frame[0..len) received at now_ms (hub clock, Unix ms). Always fills
 * *out; release it with decoded_frame_free(). Error messages name the field
 * and the rule, for the error ack (tests/test_frame_decode.c lists them all).
 * A frame is checked in this order, and the first broken rule is reported:
 * duplicate top-level keys (decoded keys compared), then for readings seq,
 * sensor, location, temp, hum, ts, and for rtl_433 frames model, id, channel,
 * temperature_C/F, humidity, time. Commands ignore seq and never set has_seq. */
void frame_decode(const struct decode_rules *rules, const char *frame, size_t len, int64_t now_ms,
                  struct decoded_frame *out);

/* Frees what out owns (extra, cmd_json, token, echo_json) and clears them. */
void decoded_frame_free(struct decoded_frame *out);

/* Takes ownership of reading.extra away from out (the caller frees it). */
char *decoded_frame_take_extra(struct decoded_frame *out);

#endif
