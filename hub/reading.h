#ifndef SENSORHUB_READING_H
#define SENSORHUB_READING_H

#include <stdbool.h>
#include <stdint.h>

/* Longest sensor name or location, in characters (PROTOCOL.md), and the room
 * its UTF-8 bytes need: 64 characters of up to 4 bytes each, plus the NUL. */
#define READING_NAME_MAX_CHARS 64
#define READING_NAME_CAP (READING_NAME_MAX_CHARS * 4 + 1)

/* 2000-01-01T00:00:00Z in Unix ms: readings stamped before it are refused. */
#define READING_MIN_TS_MS INT64_C(946684800000)

/* A validated reading, as the decoder produces it and the store keeps it.
 * Everything is inline except extra, which the owner frees. */
struct reading {
    char sensor[READING_NAME_CAP];   /* sensors.name */
    char location[READING_NAME_CAP]; /* room; empty when unknown (store keeps the last) */
    bool has_temp;                   /* temp_c is set */
    bool has_hum;                    /* hum_pct is set */
    bool has_ts;                     /* ts_ms came from the sensor (duplicate detection) */
    bool has_seq;                    /* seq is set */
    double temp_c;                   /* degrees Celsius */
    double hum_pct;                  /* relative humidity, % */
    int64_t ts_ms;                   /* measurement time, Unix ms (recv_ms when !has_ts) */
    int64_t recv_ms;                 /* hub receive time, Unix ms */
    int64_t seq;                     /* the frame's seq */
    char *extra;                     /* malloc'd JSON object text of other members, or NULL */
};

#endif
