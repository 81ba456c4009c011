#include "framer.h"
#include "test.h"

#include <dirent.h>
#include <stdbool.h>

/* Every input is fed whole, one byte at a time and split in two at every byte
 * boundary; the events must be the same each time. Events are recorded as
 * text, one line each ("frame <bytes>" or "error <message>"), which is
 * unambiguous because a frame never holds a raw newline. */

#define BYTES(literal) literal, sizeof(literal) - 1
#define JUNK "error invalid JSON at byte 0: a frame must be a JSON object\n"
#define NEWLINE_AT(n)                                                                              \
    "error invalid JSON at byte " #n ": newline inside an object; send one object per line\n"
#define INVALID_AT(n, reason) "error invalid JSON at byte " #n ": " reason "\n"
#define PAIR_REASON                                                                                \
    "high surrogate \\uD800-\\uDBFF must be followed by a low surrogate \\uDC00-\\uDFFF"
#define NUL_REASON "\\u0000 is not accepted: strings cannot hold a NUL"
#define INCOMPLETE "error incomplete frame at end of input\n"

struct framer_case {
    const char *name;
    const char *input;
    size_t input_len;
    size_t max_frame_bytes;
    const char *events; /* expected, as event lines */
};

struct event_log {
    char *text;
    size_t len;
    size_t cap;
};

static void log_bytes(struct event_log *log, const char *bytes, size_t n)
{
    if (log->len + n + 1 > log->cap) {
        size_t cap = log->cap != 0 ? log->cap : 256;
        while (cap < log->len + n + 1)
            cap *= 2;
        char *grown = realloc(log->text, cap);
        if (grown == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
        log->text = grown;
        log->cap = cap;
    }
    memcpy(log->text + log->len, bytes, n);
    log->len += n;
    log->text[log->len] = '\0';
}

static void log_event(struct event_log *log, const struct framer_event *ev)
{
    if (ev->kind == FRAMER_FRAME) {
        log_bytes(log, "frame ", 6);
        log_bytes(log, ev->frame, ev->len);
        log_bytes(log, "\n", 1);
    } else if (ev->kind == FRAMER_ERROR) {
        log_bytes(log, "error ", 6);
        log_bytes(log, ev->error, strlen(ev->error));
        log_bytes(log, "\n", 1);
    }
}

/* Feeds one piece the way a transport does: calling again until every byte is
 * consumed, checking the framer's promises about what it returns and holds. */
static void feed_piece(struct framer *f, const char *data, size_t len, struct event_log *log)
{
    size_t offset = 0;
    while (offset < len) {
        struct framer_event ev;
        size_t used = framer_feed(f, data + offset, len - offset, &ev);
        ASSERT(used >= 1 && used <= len - offset);
        if (used == 0 || used > len - offset)
            return;
        if (ev.kind == FRAMER_NONE)
            ASSERT_INT_EQ(used, len - offset);
        ASSERT(f->cap <= f->max_frame_bytes);
        log_event(log, &ev);
        offset += used;
    }
}

/* Returns the events (caller frees) for data fed as a first piece of
 * first_len bytes and then pieces of piece_len bytes, then end of input. */
static char *events_for(const char *data, size_t len, size_t max_frame_bytes, size_t first_len,
                        size_t piece_len)
{
    struct framer f;
    struct event_log log = {0};
    struct framer_event ev;

    framer_init(&f, max_frame_bytes);
    log_bytes(&log, "", 0);
    feed_piece(&f, data, first_len, &log);
    for (size_t offset = first_len; offset < len; offset += piece_len)
        feed_piece(&f, data + offset, len - offset < piece_len ? len - offset : piece_len, &log);
    if (framer_finish(&f, &ev))
        log_event(&log, &ev);
    framer_free(&f);
    return log.text;
}

static void check_events(const struct framer_case *c, const char *how, size_t at, char *got)
{
    if (strcmp(got, c->events) != 0)
        TEST_FAIL_("%s, %s %zu:\n got:\n%s expected:\n%s", c->name, how, at, got, c->events);
    free(got);
}

static void check_every_split(const struct framer_case *cases, size_t count)
{
    for (size_t n = 0; n < count; n++) {
        const struct framer_case *c = &cases[n];
        size_t len = c->input_len;
        size_t max = c->max_frame_bytes;
        check_events(c, "whole", len, events_for(c->input, len, max, len, len));
        check_events(c, "bytewise", 1, events_for(c->input, len, max, 0, 1));
        for (size_t cut = 0; cut <= len; cut++)
            check_events(c, "split at", cut, events_for(c->input, len, max, cut, len));
    }
}

static const struct framer_case valid_cases[] = {
    {"seed frame", BYTES("{\"location\":\"living_room\",\"temp\":25.5,\"hum\":60}\n"), 4096,
     "frame {\"location\":\"living_room\",\"temp\":25.5,\"hum\":60}\n"},
    {"CRLF", BYTES("{\"a\":1}\r\n{\"b\":2}\r\n"), 4096, "frame {\"a\":1}\nframe {\"b\":2}\n"},
    {"back to back", BYTES("{\"a\":1}{\"b\":[1,2]}{}{\"c\":\"}{\"}"), 4096,
     "frame {\"a\":1}\nframe {\"b\":[1,2]}\nframe {}\nframe {\"c\":\"}{\"}\n"},
    {"NUL padding and whitespace", BYTES("\0\0 \t{\"a\":1}\0\0\r\n\n  \0{\"b\":true}\0\0 \r\n"),
     4096, "frame {\"a\":1}\nframe {\"b\":true}\n"},
    {"nesting", BYTES("{\"a\":{\"b\":{\"c\":[1,[2,[3,{}]],[]]}},\"d\":[{\"e\":null},[[]]]}\n"),
     4096, "frame {\"a\":{\"b\":{\"c\":[1,[2,[3,{}]],[]]}},\"d\":[{\"e\":null},[[]]]}\n"},
    {"escapes",
     BYTES("{\"s\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\",\"u\":\"\\u00e9\\u20AC\\uD83D\\uDE00"
           "\\udbff\\udfff\",\"k\\u0041\":\"\\u0001\\uFFFF\"}\n"),
     4096,
     "frame {\"s\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\",\"u\":\"\\u00e9\\u20AC\\uD83D\\uDE00"
     "\\udbff\\udfff\",\"k\\u0041\":\"\\u0001\\uFFFF\"}\n"},
    {"raw UTF-8",
     BYTES("{\"loc\":\"K\xc3\xbc"
           "che\",\"eur\":\"\xe2\x82\xac\",\"emoji\":\"\xf0\x9f\x98\x80\",\"\xc3\xa9\":["
           "\"\xc2\x80\",\"\xdf\xbf\",\"\xe0\xa0\x80\",\"\xed\x9f\xbf\",\"\xee\x80\x80\","
           "\"\xef\xbf\xbf\",\"\xf0\x90\x80\x80\",\"\xf4\x8f\xbf\xbf\"]}\n"),
     4096,
     "frame {\"loc\":\"K\xc3\xbc"
     "che\",\"eur\":\"\xe2\x82\xac\",\"emoji\":\"\xf0\x9f\x98\x80\",\"\xc3\xa9\":["
     "\"\xc2\x80\",\"\xdf\xbf\",\"\xe0\xa0\x80\",\"\xed\x9f\xbf\",\"\xee\x80\x80\","
     "\"\xef\xbf\xbf\",\"\xf0\x90\x80\x80\",\"\xf4\x8f\xbf\xbf\"]}\n"},
    {"numbers",
     BYTES("{\"n\":[0,-0,1,-1,123,-987,0.5,-0.5,10.25,1e5,1E5,1e+5,1e-5,-1.5E-10,0e0,0.0e+0,"
           "1E+00,123456789012345678901234567890],\"x\":0,\"y\":-12.5e3,\"z\":7}\n"),
     4096,
     "frame {\"n\":[0,-0,1,-1,123,-987,0.5,-0.5,10.25,1e5,1E5,1e+5,1e-5,-1.5E-10,0e0,0.0e+0,"
     "1E+00,123456789012345678901234567890],\"x\":0,\"y\":-12.5e3,\"z\":7}\n"},
    {"whitespace inside", BYTES("{ \"a\" : [ 1 , 2 ] ,\t\"b\"\t:\r{ } , \"c\":[ ] }\n"), 4096,
     "frame { \"a\" : [ 1 , 2 ] ,\t\"b\"\t:\r{ } , \"c\":[ ] }\n"},
    {"literals", BYTES("{\"t\":true,\"f\":false,\"n\":null,\"a\":[true,false,null]}\n"), 4096,
     "frame {\"t\":true,\"f\":false,\"n\":null,\"a\":[true,false,null]}\n"},
    {"blank lines", BYTES("\n\n{}\n \n{\"x\":\"\"}\n\r\n"), 4096, "frame {}\nframe {\"x\":\"\"}\n"},
    {"exactly max_frame_bytes", BYTES("{\"a\":\"012345678901234567890123\"}\n{\"b\":1}"), 32,
     "frame {\"a\":\"012345678901234567890123\"}\nframe {\"b\":1}\n"},
};

static void test_valid_frames_any_split(void)
{
    check_every_split(valid_cases, sizeof valid_cases / sizeof valid_cases[0]);
}

/* clang-format off */
static const struct framer_case error_cases[] = {
    {"junk runs",
     BYTES("hello {\"a\":1}\n{\"b\":2}\nabc\ndef\r\n[1]{\"c\":3}\n\"x\"\n}{\"d\":4}"), 4096,
     JUNK "frame {\"b\":2}\n" JUNK JUNK JUNK JUNK JUNK},
    {"junk after a frame on the same line", BYTES("{\"a\":1} x {\"b\":2}\n{\"c\":3}\n"), 4096,
     "frame {\"a\":1}\n" JUNK "frame {\"c\":3}\n"},
    {"newline inside an object",
     BYTES("{\"a\":1,\n{\"b\":2}\n{\"s\":\"x\n\"}\n{\"c\":3}\r\n{\n}\n"), 4096,
     NEWLINE_AT(7) "frame {\"b\":2}\n" NEWLINE_AT(7) JUNK "frame {\"c\":3}\n" NEWLINE_AT(1) JUNK},
    {"invalid UTF-8",
     BYTES("{\"a\":\"\xc3(x\"}\n"
           "{\"a\":\"\xc0\xaf\"}\n"
           "{\"a\":\"\xe0\x80\x80\"}\n"
           "{\"a\":\"\xf0\x80\x80\x80\"}\n"
           "{\"a\":\"\xed\xa0\x80\"}\n"
           "{\"a\":\"\xf4\x90\x80\x80\"}\n"
           "{\"a\":\"\x80\"}\n"
           "{\"a\":\"\xf5\x80\x80\x80\"}\n"
           "{\"a\":\"\xe2\x82\"}\n"
           "{\"a\":\"\xe2\x82\n"
           "{\"\xc3\xa9\":1,\"b\":\xc3\xa9}\n"
           "{\"ok\":1}\n"),
     4096,
     INVALID_AT(6, "truncated UTF-8 sequence")
     INVALID_AT(6, "overlong UTF-8 encoding")
     INVALID_AT(6, "overlong UTF-8 encoding")
     INVALID_AT(6, "overlong UTF-8 encoding")
     INVALID_AT(6, "UTF-8 encoded surrogate (U+D800-U+DFFF)")
     INVALID_AT(6, "UTF-8 code point above U+10FFFF")
     INVALID_AT(6, "UTF-8 continuation byte without a lead byte")
     INVALID_AT(6, "byte 0xF5-0xFF is never valid UTF-8")
     INVALID_AT(6, "truncated UTF-8 sequence")
     NEWLINE_AT(8)
     INVALID_AT(12, "expected a value")
     "frame {\"ok\":1}\n"},
    {"oversize",
     /* 33 bytes, the last a '}'; 32 bytes then a newline; exactly 32 bytes;
      * an oversize frame followed by a frame on the same line. */
     BYTES("{\"a\":\"0123456789012345678901234\"}\n{\"b\":1}\n"
           "{\"a\":\"01234567890123456789012345\n{\"c\":2}\n"
           "{\"a\":\"012345678901234567890123\"}"
           "{\"a\":\"01234567890123456789012345678901234567890\"}{\"d\":4}\n{\"e\":5}"),
     32,
     "error frame longer than max_frame_bytes (32)\n"
     "frame {\"b\":1}\n" NEWLINE_AT(32) "frame {\"c\":2}\n"
     "frame {\"a\":\"012345678901234567890123\"}\n"
     "error frame longer than max_frame_bytes (32)\n"
     "frame {\"e\":5}\n"},
    {"surrogates and escapes",
     BYTES("{\"a\":\"\\uDC00\"}\n"
           "{\"a\":\"\\uD83D\"}\n"
           "{\"a\":\"\\uD83D\\u0041\"}\n"
           "{\"a\":\"\\uD83Dx\"}\n"
           "{\"a\":\"\\uD83D\\uD83D\"}\n"
           "{\"a\":\"\\uD83D\\n\"}\n"
           "{\"a\":\"\\u0000\"}\n"
           "{\"a\\u0000b\":1}\n"
           "{\"a\":\"\\u12G4\"}\n"
           "{\"a\":\"\\x\"}\n"
           "{\"a\":\"tab\there\"}\n"
           "{\"ok\":\"\\uD83D\\uDE00\"}\n"),
     4096,
     INVALID_AT(9, "lone low surrogate \\uDC00-\\uDFFF without a high surrogate before it")
     INVALID_AT(12, PAIR_REASON)
     INVALID_AT(14, PAIR_REASON)
     INVALID_AT(12, PAIR_REASON)
     INVALID_AT(15, PAIR_REASON)
     INVALID_AT(13, PAIR_REASON)
     INVALID_AT(11, NUL_REASON)
     INVALID_AT(8, NUL_REASON)
     INVALID_AT(10, "\\u escape needs four hex digits")
     INVALID_AT(7, "invalid escape; use \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX")
     INVALID_AT(9, "control character in string; escape it (e.g. \\t)")
     "frame {\"ok\":\"\\uD83D\\uDE00\"}\n"},
    {"syntax",
     BYTES("{\"a\":01}\n{\"a\":1,}\n{\"a\" 1}\n{'a':1}\n{\"a\":tru}\n{\"a\":-}\n{\"a\":1.}\n"
           "{\"a\":1e}\n{\"a\":1e+}\n{\"a\":.5}\n{\"a\":[1,2}\n{\"a\":1]\n{\"a\":'x'}\n"
           "{\"a\":1}}\n{\"a\":[1,]}\n{\"a\":nulll}\n{\"a\":-01}\n{\"a\":1.5.3}\n{\"ok\":1}"),
     4096,
     INVALID_AT(6, "leading zeros are not allowed in numbers")
     INVALID_AT(7, "trailing comma before '}'")
     INVALID_AT(5, "expected ':' after the member name")
     INVALID_AT(1, "expected a member name in double quotes")
     INVALID_AT(8, "invalid literal; expected true, false or null")
     INVALID_AT(6, "expected a digit after '-'")
     INVALID_AT(7, "expected a digit after '.'")
     INVALID_AT(7, "expected a digit in the exponent")
     INVALID_AT(8, "expected a digit in the exponent")
     INVALID_AT(5, "expected a value")
     INVALID_AT(9, "expected ',' or ']' after a value")
     INVALID_AT(6, "expected ',' or '}' after a value")
     INVALID_AT(5, "strings need double quotes")
     "frame {\"a\":1}\n"
     JUNK
     INVALID_AT(8, "expected a value")
     INVALID_AT(9, "expected ',' or '}' after a value")
     INVALID_AT(7, "leading zeros are not allowed in numbers")
     INVALID_AT(8, "expected ',' or '}' after a value")
     "frame {\"ok\":1}\n"},
    {"incomplete at end of input", BYTES("{\"a\":1}\n{\"a\":"), 4096,
     "frame {\"a\":1}\n" INCOMPLETE},
    {"open string at end of input", BYTES("{\"a\":\"\xe2\x82"), 4096, INCOMPLETE},
    {"junk at end of input", BYTES("{\"a\":1}junk"), 4096, "frame {\"a\":1}\n" JUNK},
};
/* clang-format on */

static void test_errors_any_split(void)
{
    check_every_split(error_cases, sizeof error_cases / sizeof error_cases[0]);
}

/* framer_feed stops after each event and says how far it got. */
static void test_feed_returns_after_each_event(void)
{
    static const char input[] = "{\"a\":1}{\"b\":2}\n x\n{}";
    struct framer f;
    struct framer_event ev;
    size_t len = sizeof input - 1;

    framer_init(&f, 4096);
    ASSERT_INT_EQ(framer_feed(&f, input, len, &ev), 7);
    ASSERT_INT_EQ(ev.kind, FRAMER_FRAME);
    ASSERT_MEM_EQ(ev.frame, ev.len, "{\"a\":1}", 7);
    ASSERT_INT_EQ(framer_feed(&f, input + 7, len - 7, &ev), 7);
    ASSERT_INT_EQ(ev.kind, FRAMER_FRAME);
    ASSERT_MEM_EQ(ev.frame, ev.len, "{\"b\":2}", 7);
    ASSERT_INT_EQ(framer_feed(&f, input + 14, len - 14, &ev), 3); /* "\n x" */
    ASSERT_INT_EQ(ev.kind, FRAMER_ERROR);
    ASSERT_INT_EQ(framer_feed(&f, input + 17, len - 17, &ev), 3); /* "\n{}" */
    ASSERT_INT_EQ(ev.kind, FRAMER_FRAME);
    ASSERT_MEM_EQ(ev.frame, ev.len, "{}", 2);
    ASSERT_INT_EQ(framer_feed(&f, "\n", 1, &ev), 1);
    ASSERT_INT_EQ(ev.kind, FRAMER_NONE);
    framer_free(&f);
}

/* The frame is the framer's copy: the caller may reuse its read buffer. */
static void test_frame_outlives_input_buffer(void)
{
    char input[] = "{\"temp\":21}";
    struct framer f;
    struct framer_event ev;

    framer_init(&f, 4096);
    ASSERT_INT_EQ(framer_feed(&f, input, 5, &ev), 5);
    ASSERT_INT_EQ(framer_feed(&f, input + 5, sizeof input - 6, &ev), sizeof input - 6);
    ASSERT_INT_EQ(ev.kind, FRAMER_FRAME);
    memset(input, 'x', sizeof input - 1);
    ASSERT_MEM_EQ(ev.frame, ev.len, "{\"temp\":21}", 11);
    framer_free(&f);
}

/* The buffer starts small, grows up to max_frame_bytes and is then reused. */
static void test_buffer_reused_after_warm_up(void)
{
    static const char frame[] = "{\"sensor\":\"lr-1\",\"location\":\"living_room\",\"temp\":25.5,"
                                "\"hum\":60,\"ts\":1795430400,\"seq\":17}\n";
    struct framer f;
    struct framer_event ev;
    size_t half = (sizeof frame - 1) / 2;

    framer_init(&f, 4096);
    ASSERT(f.buf == NULL);
    framer_feed(&f, frame, half, &ev);
    framer_feed(&f, frame + half, sizeof frame - 1 - half, &ev);
    ASSERT_INT_EQ(ev.kind, FRAMER_FRAME);
    ASSERT_INT_EQ(f.cap, 256);
    const char *buf = f.buf;
    for (int n = 0; n < 1000; n++) {
        struct event_log log = {0};
        feed_piece(&f, frame, half, &log);
        feed_piece(&f, frame + half, sizeof frame - 1 - half, &log);
        ASSERT_INT_EQ(log.len, 6 + sizeof frame - 1);
        free(log.text);
    }
    ASSERT(f.buf == buf);
    ASSERT_INT_EQ(f.cap, 256);
    framer_free(&f);
    ASSERT(f.buf == NULL);
}

/* A megabyte without a newline costs one error and at most max_frame_bytes. */
static void test_oversize_megabyte_is_bounded(void)
{
    size_t total = 1u << 20;
    char *input = malloc(total);
    struct framer f;
    struct event_log log = {0};

    ASSERT(input != NULL);
    if (input == NULL)
        return;
    memcpy(input, "{\"a\":\"", 6);
    memset(input + 6, 'x', total - 6);
    framer_init(&f, 4096);
    for (size_t offset = 0; offset < total; offset += 1000) {
        feed_piece(&f, input + offset, total - offset < 1000 ? total - offset : 1000, &log);
        ASSERT(f.cap <= 4096);
    }
    ASSERT_INT_EQ(f.cap, 4096); /* it held the first 4000 bytes, then refused the frame */
    feed_piece(&f, BYTES("\"}\n{\"b\":1}\n"), &log);
    ASSERT_STR_EQ(log.text, "error frame longer than max_frame_bytes (4096)\nframe {\"b\":1}\n");
    framer_free(&f);
    free(log.text);
    free(input);
}

/* Returns {"a":[[...[0]...]]} nested `levels` deep, the object included. */
static char *nested_frame(size_t levels)
{
    size_t arrays = levels - 1;
    size_t len = 5 + arrays + 1 + arrays + 1;
    char *text = malloc(len + 1);
    if (text == NULL)
        return NULL;
    memcpy(text, "{\"a\":", 5);
    memset(text + 5, '[', arrays);
    text[5 + arrays] = '0';
    memset(text + 5 + arrays + 1, ']', arrays);
    text[len - 1] = '}';
    text[len] = '\0';
    return text;
}

/* FRAMER_MAX_DEPTH levels (the object included) are fine, one more is not:
 * the 512th '[' sits at byte 5 + 511. */
static void test_nesting_limit(void)
{
    char *deepest = nested_frame(FRAMER_MAX_DEPTH);
    char *too_deep = nested_frame(FRAMER_MAX_DEPTH + 1);

    ASSERT(deepest != NULL && too_deep != NULL);
    if (deepest != NULL && too_deep != NULL) {
        char *events = events_for(deepest, strlen(deepest), 1u << 20, 100, 100);
        ASSERT_INT_EQ(strncmp(events, "frame ", 6), 0);
        ASSERT_INT_EQ(strlen(events), 6 + strlen(deepest) + 1);
        free(events);
        events = events_for(too_deep, strlen(too_deep), 1u << 20, 100, 100);
        ASSERT_STR_EQ(events, "error invalid JSON at byte 516: nesting deeper than 512\n");
        free(events);
    }
    free(deepest);
    free(too_deep);
}

/* 100 000 '[' inside an object: one error, bounded memory, then the next line. */
static void test_deep_nesting_resyncs(void)
{
    size_t brackets = 100000;
    size_t total = 5 + brackets + 8;
    char *input = malloc(total);
    struct framer f;
    struct event_log log = {0};

    ASSERT(input != NULL);
    if (input == NULL)
        return;
    memcpy(input, "{\"a\":", 5);
    memset(input + 5, '[', brackets);
    memcpy(input + 5 + brackets, "\n{\"b\":1}", 8);
    framer_init(&f, 1u << 20);
    for (size_t offset = 0; offset < total; offset += 100)
        feed_piece(&f, input + offset, total - offset < 100 ? total - offset : 100, &log);
    ASSERT(f.cap <= 1024);
    ASSERT_STR_EQ(log.text, "error invalid JSON at byte 516: nesting deeper than 512\n"
                            "frame {\"b\":1}\n");
    framer_free(&f);
    free(log.text);
    free(input);
}

static void test_finish(void)
{
    struct framer f;
    struct framer_event ev;
    struct event_log log = {0};

    framer_init(&f, 4096);
    ASSERT(!framer_finish(&f, &ev)); /* never fed */
    ASSERT_INT_EQ(ev.kind, FRAMER_NONE);

    feed_piece(&f, BYTES("{\"a\":1}\n  \0"), &log);
    ASSERT(!framer_finish(&f, &ev)); /* only padding after the frame */
    ASSERT_INT_EQ(ev.kind, FRAMER_NONE);

    feed_piece(&f, BYTES("{\"a\":[1,{\"b\":\"\\u12"), &log);
    ASSERT(framer_finish(&f, &ev));
    ASSERT_INT_EQ(ev.kind, FRAMER_ERROR);
    ASSERT_STR_EQ(ev.error, "incomplete frame at end of input");
    ASSERT(!framer_finish(&f, &ev)); /* reset: nothing open any more */

    /* After finish the framer starts afresh, even without a newline. */
    feed_piece(&f, BYTES("{\"c\":3}"), &log);
    feed_piece(&f, BYTES("junk without newline"), &log);
    ASSERT(!framer_finish(&f, &ev)); /* the junk error was already reported */
    feed_piece(&f, BYTES("{\"d\":4}"), &log);
    ASSERT(!framer_finish(&f, &ev));

    /* An error in the middle of a frame, then end of input: nothing more. */
    feed_piece(&f, BYTES("{\"e\":x"), &log);
    ASSERT(!framer_finish(&f, &ev));
    ASSERT_STR_EQ(log.text, "frame {\"a\":1}\nframe {\"c\":3}\n" JUNK "frame {\"d\":4}\n"
                            "error invalid JSON at byte 5: expected a value\n");
    framer_free(&f);
    free(log.text);
}

static const char *json_test_suite_dir(void)
{
    const char *env = getenv("JSON_TEST_SUITE_DIR");
    static const char *const candidates[] = {
        "../shared/testdata/JSONTestSuite/test_parsing",
        "/work/shared/testdata/JSONTestSuite/test_parsing",
    };
    if (env != NULL && env[0] != '\0')
        return env;
    for (size_t n = 0; n < sizeof candidates / sizeof candidates[0]; n++) {
        DIR *dir = opendir(candidates[n]);
        if (dir != NULL) {
            closedir(dir);
            return candidates[n];
        }
    }
    return NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *file = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0;

    *len = 0;
    if (file == NULL)
        return NULL;
    for (;;) {
        if (*len == cap) {
            cap = cap != 0 ? cap * 2 : 4096;
            char *grown = realloc(data, cap);
            if (grown == NULL)
                break;
            data = grown;
        }
        size_t got = fread(data + *len, 1, cap - *len, file);
        if (got == 0)
            break;
        *len += got;
    }
    fclose(file);
    return data;
}

static bool is_suite_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct suite_counts {
    int y_checked;
    int n_checked;
    int other_fed;
};

/* y_ files holding one object on one line must give exactly that frame (the
 * object whose name holds \u0000 is refused on purpose); n_ files starting
 * with '{' must never give a frame covering the whole file and must produce an
 * error. Every other file is fed too, to check nothing misbehaves. */
static void check_suite_file(const char *name, const char *data, size_t len,
                             struct suite_counts *counts)
{
    size_t begin = 0;
    size_t end = len;
    while (begin < end && is_suite_space(data[begin]))
        begin++;
    while (end > begin && is_suite_space(data[end - 1]))
        end--;
    bool object = end > begin && data[begin] == '{';
    bool one_line = memchr(data + begin, '\n', end - begin) == NULL;
    char *events = events_for(data, len, 1u << 20, len, len);
    char *bytewise = events_for(data, len, 1u << 20, 0, 1);

    if (strcmp(events, bytewise) != 0)
        TEST_FAIL_("%s: fed whole and bytewise differ", name);
    if (name[0] == 'y' && object && one_line) {
        counts->y_checked++;
        if (strcmp(name, "y_object_escaped_null_in_key.json") == 0) {
            ASSERT_STR_EQ(events, INVALID_AT(10, NUL_REASON));
        } else if (strncmp(events, "frame ", 6) != 0 || strlen(events) != 6 + end - begin + 1 ||
                   memcmp(events + 6, data + begin, end - begin) != 0) {
            TEST_FAIL_("%s: expected exactly one frame holding the object, got:\n%s", name, events);
        }
    } else if (name[0] == 'n' && object) {
        counts->n_checked++;
        size_t whole = end - begin;
        bool covered = strncmp(events, "frame ", 6) == 0 && strlen(events) >= 6 + whole + 1 &&
                       memcmp(events + 6, data + begin, whole) == 0 && events[6 + whole] == '\n';
        if (covered || strstr(events, "error ") == NULL)
            TEST_FAIL_("%s: accepted, events:\n%s", name, events);
    } else {
        counts->other_fed++;
    }
    free(events);
    free(bytewise);
}

static void test_json_test_suite(void)
{
    const char *dir_path = json_test_suite_dir();
    struct suite_counts counts = {0};
    struct dirent *entry;
    DIR *dir;

    if (dir_path == NULL || (dir = opendir(dir_path)) == NULL) {
        printf("skipped: JSONTestSuite not found (set JSON_TEST_SUITE_DIR)\n");
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        size_t name_len = strlen(name);
        char path[4096];
        size_t len;

        if (name_len < 5 || strcmp(name + name_len - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir_path, name);
        char *data = read_file(path, &len);
        if (data == NULL) {
            TEST_FAIL_("cannot read %s", path);
            continue;
        }
        check_suite_file(name, data, len, &counts);
        free(data);
    }
    closedir(dir);
    printf("JSONTestSuite %s: %d y_ objects checked (y_object_escaped_null_in_key refused on "
           "purpose), %d n_ objects rejected, %d other files fed\n",
           dir_path, counts.y_checked, counts.n_checked, counts.other_fed);
    ASSERT(counts.y_checked > 0);
    ASSERT(counts.n_checked > 0);
}

int main(void)
{
    RUN(test_valid_frames_any_split);
    RUN(test_errors_any_split);
    RUN(test_feed_returns_after_each_event);
    RUN(test_frame_outlives_input_buffer);
    RUN(test_buffer_reused_after_warm_up);
    RUN(test_oversize_megabyte_is_bounded);
    RUN(test_nesting_limit);
    RUN(test_deep_nesting_resyncs);
    RUN(test_finish);
    RUN(test_json_test_suite);
    return test_summary();
}
