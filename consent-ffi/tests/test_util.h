/* Small helpers shared by the C tests: checks that print what failed and count. */
#ifndef CONSENT_TEST_UTIL_H
#define CONSENT_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent.h"

static int checks_run = 0;
static int checks_failed = 0;

/* The message of the last failure on this thread, in a static buffer. */
static const char *last_message(void) {
    static char buf[512];
    consent_last_error_message(buf, sizeof buf);
    return buf;
}

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks_run++;                                                            \
        if (!(cond)) {                                                           \
            checks_failed++;                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                        \
    } while (0)

/* Expects `call` to return `want`; on an error code, also expects a non-empty message. */
#define EXPECT(call, want)                                                       \
    do {                                                                         \
        consent_result got_ = (call);                                            \
        checks_run++;                                                            \
        if (got_ != (want)) {                                                    \
            checks_failed++;                                                     \
            fprintf(stderr, "%s:%d: %s returned %s, wanted %s (%s)\n", __FILE__, \
                    __LINE__, #call, consent_result_name(got_),                  \
                    consent_result_name(want), last_message());                  \
        } else if (got_ != CONSENT_RESULT_OK &&                                  \
                   consent_last_error_message(NULL, 0) <= 1) {                   \
            checks_failed++;                                                     \
            fprintf(stderr, "%s:%d: %s failed without a message\n", __FILE__,    \
                    __LINE__, #call);                                            \
        }                                                                        \
    } while (0)

#define EXPECT_OK(call) EXPECT(call, CONSENT_RESULT_OK)

static int finish(const char *name) {
    printf("%s: %d checks, %d failed\n", name, checks_run, checks_failed);
    return checks_failed == 0 ? 0 : 1;
}

#endif
