/* parse_ceiling: how fast typical sensor frames can be framed and parsed on
 * one core, with nothing else in the way: the framer over a stream of frames,
 * cJSON_Parse alone, and the hub's frame_decode() (cJSON plus validation).
 *
 *   parse_ceiling SECONDS_PER_STAGE
 *
 * Prints one JSON object with frames per second for each stage. */

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame_decode.h"
#include "framer.h"
#include "bench_clock.h"

/* Distinct frames cycled through, so no stage sees one string over and over. */
#define FRAME_COUNT 1024
#define FRAME_CAP 192
/* Frames per timing check: the clock is read once per round, not per frame. */
#define ROUND_FRAMES FRAME_COUNT

struct frames {
    char text[FRAME_COUNT][FRAME_CAP]; /* each ends in "\n", as on the wire */
    size_t len[FRAME_COUNT];
    char *stream; /* all of them back to back */
    size_t stream_len;
};

/* Frames shaped as sensor-sim sends them (sim_frame_format). */
static int frames_make(struct frames *f, int64_t base_ms)
{
    static const char *const rooms[] = {"living_room", "bedroom", "kitchen", "office"};
    f->stream_len = 0;
    for (unsigned i = 0; i < FRAME_COUNT; i++) {
        const char *room = rooms[i % 4];
        int n = snprintf(f->text[i], FRAME_CAP,
                         "{\"sensor\":\"sim-%s-%u\",\"location\":\"%s\",\"temp\":%u.%02u,"
                         "\"hum\":%u.%02u,\"ts\":%" PRId64 ",\"seq\":%u}\n",
                         room, i / 4 + 1, room, 18 + i % 7, i * 37 % 100, 40 + i % 20, i * 53 % 100,
                         base_ms + (int64_t)i, 1000 + i);
        if (n < 0 || n >= FRAME_CAP)
            return -1;
        f->len[i] = (size_t)n;
        f->stream_len += (size_t)n;
    }
    f->stream = malloc(f->stream_len);
    if (f->stream == NULL)
        return -1;
    size_t at = 0;
    for (unsigned i = 0; i < FRAME_COUNT; i++) {
        memcpy(f->stream + at, f->text[i], f->len[i]);
        at += f->len[i];
    }
    return 0;
}

/* Feeds the whole stream to a framer, round after round; returns frames/s or
 * -1 when a frame is not delivered. */
static double bench_framer(const struct frames *f, double seconds)
{
    struct framer framer;
    framer_init(&framer, 4096);
    uint64_t frames = 0;
    double start = now_s(), elapsed;
    do {
        const char *p = f->stream;
        size_t left = f->stream_len;
        while (left > 0) {
            struct framer_event ev;
            size_t used = framer_feed(&framer, p, left, &ev);
            p += used;
            left -= used;
            if (ev.kind == FRAMER_FRAME)
                frames++;
            else if (ev.kind == FRAMER_ERROR) {
                fprintf(stderr, "parse_ceiling: framer: %s\n", ev.error);
                framer_free(&framer);
                return -1.0;
            }
        }
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    framer_free(&framer);
    if (frames % FRAME_COUNT != 0)
        return -1.0;
    return (double)frames / elapsed;
}

static double bench_cjson(const struct frames *f, double seconds)
{
    uint64_t frames = 0;
    double start = now_s(), elapsed;
    do {
        for (unsigned i = 0; i < ROUND_FRAMES; i++) {
            cJSON *root = cJSON_ParseWithLength(f->text[i], f->len[i] - 1);
            if (root == NULL) {
                fprintf(stderr, "parse_ceiling: cJSON refused frame %u\n", i);
                return -1.0;
            }
            cJSON_Delete(root);
        }
        frames += ROUND_FRAMES;
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    return (double)frames / elapsed;
}

static double bench_decode(const struct frames *f, double seconds, int64_t now_ms)
{
    struct decode_rules rules = {-50.0, 100.0, 300, NULL};
    uint64_t frames = 0;
    double start = now_s(), elapsed;
    do {
        for (unsigned i = 0; i < ROUND_FRAMES; i++) {
            struct decoded_frame out;
            frame_decode(&rules, f->text[i], f->len[i] - 1, now_ms, &out);
            bool ok = out.kind == FRAME_READING;
            if (!ok)
                fprintf(stderr, "parse_ceiling: frame %u refused: %s\n", i, out.error);
            decoded_frame_free(&out);
            if (!ok)
                return -1.0;
        }
        frames += ROUND_FRAMES;
        elapsed = now_s() - start;
    } while (elapsed < seconds);
    return (double)frames / elapsed;
}

int main(int argc, char **argv)
{
    double seconds = argc == 2 ? strtod(argv[1], NULL) : 0.0;
    if (argc != 2 || !(seconds > 0.0)) {
        fputs("usage: parse_ceiling SECONDS_PER_STAGE\n", stderr);
        return 2;
    }
    static struct frames frames;
    int64_t base_ms = wall_ms();
    if (frames_make(&frames, base_ms) != 0) {
        fputs("parse_ceiling: cannot build the frames\n", stderr);
        return 1;
    }
    double framer_rate = bench_framer(&frames, seconds);
    double cjson_rate = bench_cjson(&frames, seconds);
    double decode_rate = bench_decode(&frames, seconds, base_ms + FRAME_COUNT);
    free(frames.stream);
    if (framer_rate < 0.0 || cjson_rate < 0.0 || decode_rate < 0.0)
        return 1;
    printf("{\"frame_bytes\":%zu,\"framer_per_s\":%.1f,\"cjson_parse_per_s\":%.1f,"
           "\"frame_decode_per_s\":%.1f,\"cjson\":\"%s\"}\n",
           frames.len[0], framer_rate, cjson_rate, decode_rate, cJSON_Version());
    return 0;
}
