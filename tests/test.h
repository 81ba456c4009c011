#ifndef SENSORHUB_TEST_H
#define SENSORHUB_TEST_H

/* A minimal test harness in the manner of libuv's test/task.h: ASSERT_* macros
 * that print where and what failed, and a runner that counts. Each test file
 * defines its tests as `static void test_x(void)` and lists them in main():
 *
 *     int main(void) { RUN(test_x); RUN(test_y); return test_summary(); }
 */

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures_;
static int test_current_failed_;
static int test_passed_;
static int test_failed_;

#define TEST_FAIL_(...)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                            \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        test_failures_++;                                                                          \
        test_current_failed_ = 1;                                                                  \
    } while (0)

#define ASSERT(cond)                                                                               \
    do {                                                                                           \
        if (!(cond))                                                                               \
            TEST_FAIL_("assertion failed: %s", #cond);                                             \
    } while (0)

#define ASSERT_INT_EQ(a, b)                                                                        \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_)                                                                              \
            TEST_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                                  \
    } while (0)

#define ASSERT_DBL_EQ(a, b)                                                                        \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        if (!(fabs(a_ - b_) <= 1e-9 * (fabs(a_) + fabs(b_) + 1.0)))                                \
            TEST_FAIL_("%s == %s: %.17g != %.17g", #a, #b, a_, b_);                                \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                       \
            TEST_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",                   \
                       b_ ? b_ : "(null)");                                                        \
    } while (0)

#define ASSERT_MEM_EQ(a, alen, b, blen)                                                            \
    do {                                                                                           \
        size_t al_ = (size_t)(alen), bl_ = (size_t)(blen);                                         \
        if (al_ != bl_ || memcmp((a), (b), al_) != 0)                                              \
            TEST_FAIL_("%s == %s: \"%.*s\" != \"%.*s\"", #a, #b, (int)al_, (const char *)(a),      \
                       (int)bl_, (const char *)(b));                                               \
    } while (0)

#define RUN(test)                                                                                  \
    do {                                                                                           \
        test_current_failed_ = 0;                                                                  \
        test();                                                                                    \
        if (test_current_failed_) {                                                                \
            test_failed_++;                                                                        \
            fprintf(stderr, "FAIL %s\n", #test);                                                   \
        } else {                                                                                   \
            test_passed_++;                                                                        \
            printf("ok   %s\n", #test);                                                            \
        }                                                                                          \
    } while (0)

static inline int test_summary(void)
{
    printf("%d passed, %d failed\n", test_passed_, test_failed_);
    return test_failed_ == 0 ? 0 : 1;
}

#endif
