#include "ack_format.h"

#include "test.h"

static void test_ok_acks(void)
{
    char buf[ACK_OK_MAX];
    size_t n = ack_format_ok(buf, true, 17, false);
    ASSERT_MEM_EQ(buf, n, "{\"ok\":true,\"seq\":17}\n", 21);
    n = ack_format_ok(buf, true, 17, true);
    ASSERT_STR_EQ(buf, "{\"ok\":true,\"seq\":17,\"dup\":true}\n");
    ASSERT_INT_EQ(n, strlen(buf));
    n = ack_format_ok(buf, false, 0, false);
    ASSERT_STR_EQ(buf, "{\"ok\":true}\n");
    ASSERT_INT_EQ(n, strlen(buf));
    /* a reading with ts but no seq can be a duplicate too */
    n = ack_format_ok(buf, false, 0, true);
    ASSERT_STR_EQ(buf, "{\"ok\":true,\"dup\":true}\n");
    ASSERT_INT_EQ(n, strlen(buf));
}

static void test_longest_ok_ack_fits(void)
{
    char buf[ACK_OK_MAX];
    size_t n = ack_format_ok(buf, true, INT64_C(9007199254740991), true);
    ASSERT_STR_EQ(buf, "{\"ok\":true,\"seq\":9007199254740991,\"dup\":true}\n");
    ASSERT_INT_EQ(n, strlen(buf));
    ASSERT(n < ACK_OK_MAX);
}

static void assert_error_line(bool has_seq, int64_t seq, const char *cmd_json, const char *error,
                              const char *expected)
{
    size_t len = 0;
    char *line = ack_error_line(has_seq, seq, cmd_json, error, &len);
    ASSERT(line != NULL);
    if (line) {
        ASSERT_STR_EQ(line, expected);
        ASSERT_INT_EQ(len, strlen(expected));
    }
    free(line);
}

static void test_error_lines(void)
{
    assert_error_line(
        true, 17, NULL, "hum: 140 is out of range [0, 100]",
        "{\"ok\":false,\"seq\":17,\"error\":\"hum: 140 is out of range [0, 100]\"}\n");
    assert_error_line(false, 0, NULL, "invalid JSON at byte 0",
                      "{\"ok\":false,\"error\":\"invalid JSON at byte 0\"}\n");
    assert_error_line(false, 0, "\"hello\"", "bad token",
                      "{\"ok\":false,\"cmd\":\"hello\",\"error\":\"bad token\"}\n");
    assert_error_line(false, 0, "\"reboot\"", "unknown command",
                      "{\"ok\":false,\"cmd\":\"reboot\",\"error\":\"unknown command\"}\n");
    assert_error_line(true, 5, "\"x\"", "e",
                      "{\"ok\":false,\"seq\":5,\"cmd\":\"x\",\"error\":\"e\"}\n");
    assert_error_line(false, 0, NULL, "", "{\"ok\":false,\"error\":\"\"}\n");
}

static void test_error_text_is_escaped(void)
{
    assert_error_line(false, 0, NULL, "\"a\\b\": duplicate member",
                      "{\"ok\":false,\"error\":\"\\\"a\\\\b\\\": duplicate member\"}\n");
    assert_error_line(false, 0, NULL, "tab\there\nnl\x01\x1f",
                      "{\"ok\":false,\"error\":\"tab\\u0009here\\u000anl\\u0001\\u001f\"}\n");
    /* UTF-8 passes through; DEL is legal in a JSON string */
    assert_error_line(false, 0, NULL,
                      "K\xc3\xbc"
                      "che \xe2\x82\xac \xf0\x9f\x8c\xa1 \x7f",
                      "{\"ok\":false,\"error\":\"K\xc3\xbc"
                      "che \xe2\x82\xac \xf0\x9f\x8c\xa1 \x7f\"}\n");
}

static void test_invalid_utf8_becomes_replacement(void)
{
    /* a lone continuation byte, a truncated sequence, an overlong '/', a surrogate, > U+10FFFF */
    assert_error_line(false, 0, NULL, "a\x80z", "{\"ok\":false,\"error\":\"a\\ufffdz\"}\n");
    assert_error_line(false, 0, NULL, "a\xe2\x82",
                      "{\"ok\":false,\"error\":\"a\\ufffd\\ufffd\"}\n");
    assert_error_line(false, 0, NULL, "\xc0\xaf", "{\"ok\":false,\"error\":\"\\ufffd\\ufffd\"}\n");
    assert_error_line(false, 0, NULL, "\xed\xa0\x80",
                      "{\"ok\":false,\"error\":\"\\ufffd\\ufffd\\ufffd\"}\n");
    assert_error_line(false, 0, NULL, "\xf4\x90\x80\x80",
                      "{\"ok\":false,\"error\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"}\n");
}

static void assert_command_line(const char *cmd_json, const char *members, const char *expected)
{
    size_t len = 0;
    char *line = ack_command_line(cmd_json, members, &len);
    ASSERT(line != NULL);
    if (line) {
        ASSERT_STR_EQ(line, expected);
        ASSERT_INT_EQ(len, strlen(expected));
    }
    free(line);
}

static void test_command_lines(void)
{
    assert_command_line("\"ping\"", NULL, "{\"ok\":true,\"cmd\":\"ping\"}\n");
    assert_command_line("\"hello\"", "", "{\"ok\":true,\"cmd\":\"hello\"}\n");
    assert_command_line("\"echo\"", "\"data\":{\"a\":[1,2.50]}",
                        "{\"ok\":true,\"cmd\":\"echo\",\"data\":{\"a\":[1,2.50]}}\n");
    assert_command_line("\"echo\"", "\"data\":null",
                        "{\"ok\":true,\"cmd\":\"echo\",\"data\":null}\n");
    assert_command_line("\"stats\"", "\"frames\":3,\"errors\":0",
                        "{\"ok\":true,\"cmd\":\"stats\",\"frames\":3,\"errors\":0}\n");
}

int main(void)
{
    RUN(test_ok_acks);
    RUN(test_longest_ok_ack_fits);
    RUN(test_error_lines);
    RUN(test_error_text_is_escaped);
    RUN(test_invalid_utf8_becomes_replacement);
    RUN(test_command_lines);
    return test_summary();
}
