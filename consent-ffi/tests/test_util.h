/*
 * Small helpers shared by the C tests: checks that print what failed and count, and
 * the backend the tests run on.
 *
 * The same tests run on SQLite (the default) and, with CONSENT_TEST_BACKEND=postgres,
 * on the PostgreSQL server that CONSENT_TEST_PG_URL names (`make test-postgres`), each
 * ledger in a schema of its own, consent_test_<pid>_<n>. A test gets its ledgers from
 * test_ledger_location() (a new file, or a new schema) with test_ledger_options(), or
 * from test_ledger_new() when where the ledger lives does not matter; a part about
 * files (lock files, the WAL, permissions, the key beside the file) is skipped on
 * PostgreSQL by file_only(), which prints why. The including file defines
 * _POSIX_C_SOURCE 200809L first (mkdtemp, getpid).
 */
#ifndef CONSENT_TEST_UTIL_H
#define CONSENT_TEST_UTIL_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* ---- the backend ------------------------------------------------------------------ */

/* Whether the tests run on PostgreSQL (CONSENT_TEST_BACKEND=postgres). */
static inline int test_on_postgres(void) {
    const char *backend = getenv("CONSENT_TEST_BACKEND");
    return backend != NULL && strcmp(backend, "postgres") == 0;
}

/* On PostgreSQL, says that `what` is skipped and `why`, and returns 1: the caller then
 * skips it. Returns 0 on SQLite. */
static inline int file_only(const char *what, const char *why) {
    if (!test_on_postgres()) {
        return 0;
    }
    printf("skipped on PostgreSQL: %s (%s)\n", what, why);
    return 1;
}

/* The temporary folder of this test's ledger files, made on first use when `make` is
 * true; NULL when it was not made. */
static inline const char *test_folder(int make) {
    static char folder[] = "/tmp/consent-test-XXXXXX";
    static int made = 0;
    if (!made && make) {
        if (!mkdtemp(folder)) {
            perror("mkdtemp");
            exit(2);
        }
        made = 1;
    }
    return made ? folder : NULL;
}

/* A new ledger's location, another on every call: the file `<n>-<name>.db` in this
 * test's temporary folder (removed by finish()) or, on PostgreSQL, the server's URL
 * with a new schema. In static storage, reused after eight more calls. */
static inline const char *test_ledger_location(const char *name) {
    static char buffers[8][512];
    static int next = 0;
    char *out = buffers[next % 8];
    int n = next++;
    if (test_on_postgres()) {
        const char *url = getenv("CONSENT_TEST_PG_URL");
        if (url == NULL || *url == '\0') {
            fprintf(stderr, "CONSENT_TEST_BACKEND=postgres needs CONSENT_TEST_PG_URL\n");
            exit(2);
        }
        snprintf(out, sizeof buffers[0], "%s%cschema=consent_test_%ld_%d", url, strchr(url, '?') ? '&' : '?',
                 (long)getpid(), n);
    } else {
        snprintf(out, sizeof buffers[0], "%s/%d-%s.db", test_folder(1), n, name);
    }
    return out;
}

/* The pseudonym key of the tests' PostgreSQL ledgers. */
#define TEST_KEY_BYTE 0x5e

/* Makes options fit a test location: on PostgreSQL, where nothing lies beside a
 * schema, the default key source (the file beside) becomes the key as bytes. */
static inline void test_ledger_options(consent_options *o) {
    if (test_on_postgres() && o->pseudonym_key_source == CONSENT_KEY_SOURCE_BESIDE) {
        o->pseudonym_key_source = CONSENT_KEY_SOURCE_BYTES;
        memset(o->pseudonym_key, TEST_KEY_BYTE, CONSENT_KEY_LEN);
    }
}

/* A new ledger for a test that is not about where it lives, with `options` (NULL =
 * the defaults): in memory on SQLite, in a new schema on PostgreSQL. */
static inline consent_result test_ledger_new(const consent_options *options, consent_ledger **out) {
    if (!test_on_postgres()) {
        return consent_ledger_open_in_memory(options, out);
    }
    consent_options o;
    if (options != NULL) {
        o = *options;
    } else {
        consent_options_init(&o);
    }
    test_ledger_options(&o);
    return consent_ledger_open(test_ledger_location("ledger"), &o, out);
}

/* Removes this test's temporary folder and every file in it. */
static inline void remove_test_folder(void) {
    const char *folder = test_folder(0);
    if (folder == NULL) {
        return;
    }
    DIR *dir = opendir(folder);
    if (dir != NULL) {
        struct dirent *entry;
        char file[600];
        while ((entry = readdir(dir)) != NULL) {
            if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0) {
                snprintf(file, sizeof file, "%s/%s", folder, entry->d_name);
                unlink(file);
            }
        }
        closedir(dir);
    }
    rmdir(folder);
}

/* Prints the count, removes the test's ledger files (every handle on them freed). */
static int finish(const char *name) {
    remove_test_folder();
    printf("%s: %d checks, %d failed%s\n", name, checks_run, checks_failed,
           test_on_postgres() ? " (on PostgreSQL)" : "");
    return checks_failed == 0 ? 0 : 1;
}

#endif
