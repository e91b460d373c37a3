/*
 * One handle shared by several threads: each appends its own subjects' events (and
 * asks questions) at the same time. Afterwards the log verifies and holds exactly
 * the events appended, with no sequence number skipped or reused.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "test_util.h"

#define THREADS 4
#define PER_THREAD 12 /* grants and withdrawals, alternating; small for valgrind */

struct worker {
    consent_ledger *ledger;
    int index;
    int failures;
    uint64_t seqs[PER_THREAD];
};

static void *work(void *arg) {
    struct worker *w = arg;
    char subject[64], message[256];
    for (int i = 0; i < PER_THREAD; i++) {
        consent_event_ref ref;
        consent_result r;
        snprintf(subject, sizeof subject, "t%d-s%d", w->index, i / 2);
        if (i % 2 == 0) {
            r = consent_give(w->ledger, subject, "jmsu.marketing", "jmsu.privacy", "2024-09", CONSENT_METHOD_PORTAL,
                             false, NULL, &ref);
        } else {
            r = consent_withdraw(w->ledger, subject, "jmsu.marketing", NULL, &ref);
        }
        if (r != CONSENT_RESULT_OK) {
            /* The message is per thread: it must be this thread's failure. */
            consent_last_error_message(message, sizeof message);
            fprintf(stderr, "thread %d: %s: %s\n", w->index, consent_result_name(r), message);
            w->failures++;
            continue;
        }
        w->seqs[i] = ref.seq;
        consent_status st;
        if (consent_get_status(w->ledger, subject, "jmsu.marketing", NULL, &st) != CONSENT_RESULT_OK ||
            st.state != (i % 2 == 0 ? CONSENT_STATE_GIVEN : CONSENT_STATE_WITHDRAWN)) {
            w->failures++;
        }
    }
    /* An error on this thread does not disturb the others' messages. */
    if (consent_get_status(w->ledger, subject, "no.such.purpose", NULL, &(consent_status){0}) !=
        CONSENT_RESULT_UNKNOWN_PURPOSE) {
        w->failures++;
    }
    return NULL;
}

int main(void) {
    char folder[] = "/tmp/consent-test-threads-XXXXXX";
    char path[256], file[300];
    if (!mkdtemp(folder)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/ledger.db", folder);

    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    o.synchronous = CONSENT_SYNCHRONOUS_NORMAL;
    consent_ledger *l = NULL;
    EXPECT_OK(consent_ledger_open(path, &o, &l));
    EXPECT_OK(consent_register_purpose_json(
        l, "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\"}", NULL));
    EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "2024-09", "JMSU privacy", "text"));

    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t].ledger = l;
        workers[t].index = t;
        workers[t].failures = 0;
        CHECK(pthread_create(&threads[t], NULL, work, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        CHECK(pthread_join(threads[t], NULL) == 0);
        CHECK(workers[t].failures == 0);
    }

    /* Exact count, and every sequence number used once. */
    consent_head head;
    EXPECT_OK(consent_get_head(l, &head));
    CHECK(head.size == 2 + THREADS * PER_THREAD);
    unsigned char seen[2 + THREADS * PER_THREAD] = {0};
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            uint64_t s = workers[t].seqs[i];
            CHECK(s >= 2 && s < head.size && !seen[s]);
            if (s < head.size) {
                seen[s] = 1;
            }
        }
    }
    consent_verify_report rep;
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.size == head.size);
    char *json = NULL;
    EXPECT_OK(consent_consenting_json(l, "jmsu.marketing", NULL, CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"subjects\":[]") != NULL); /* every grant was withdrawn */
    consent_string_free(json);

    consent_ledger_free(l);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        unlink(file);
    }
    rmdir(folder);
    return finish("test_threads");
}
