/*
 * One handle shared by several threads: each appends its own subjects' events (and
 * asks questions) at the same time. Afterwards the log verifies and holds exactly
 * the events appended, with no sequence number skipped or reused. Then the same with
 * two handles on one ledger (two SQLite connections to one file, or two connections
 * to one PostgreSQL schema, whose appends the server's lock serialises), half the
 * threads on each: nothing lost, no seq twice, and both handles see one head.
 *
 * Then a batch against another thread: thread A begins a batch and appends; thread B
 * appends a withdrawal on the ledger and waits for the batch to end; A rolls back.
 * B's withdrawal must be in the log afterwards (never swallowed by A's rollback), and
 * A's append must not.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <time.h>
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
            r = consent_give(w->ledger, subject, "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", CONSENT_METHOD_PORTAL,
                             false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref);
        } else {
            r = consent_withdraw(w->ledger, subject, "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref);
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
        if (consent_status_get(w->ledger, subject, "jmsu.marketing", NULL, &st) != CONSENT_RESULT_OK ||
            st.state != (i % 2 == 0 ? CONSENT_STATE_GIVEN : CONSENT_STATE_WITHDRAWN)) {
            w->failures++;
        }
    }
    /* An error on this thread does not disturb the others' messages. */
    if (consent_status_get(w->ledger, subject, "no.such.purpose", NULL, &(consent_status){0}) !=
        CONSENT_RESULT_UNKNOWN_PURPOSE) {
        w->failures++;
    }
    return NULL;
}

/* Thread B of the batch test: one withdrawal on the ledger, timed. */
struct withdrawer {
    consent_ledger *ledger;
    pthread_mutex_t lock;
    int started;
    int finished;
    consent_result result;
    consent_event_ref ref;
};

static void *withdraw_during_batch(void *arg) {
    struct withdrawer *b = arg;
    pthread_mutex_lock(&b->lock);
    b->started = 1;
    pthread_mutex_unlock(&b->lock);
    consent_event_ref ref;
    consent_result r = consent_withdraw(b->ledger, "b-1", "jmsu.marketing", NULL, "system:portal", CONSENT_TIME_ABSENT, &ref);
    pthread_mutex_lock(&b->lock);
    b->result = r;
    b->ref = ref;
    b->finished = 1;
    pthread_mutex_unlock(&b->lock);
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int flag(struct withdrawer *b, const int *field) {
    pthread_mutex_lock(&b->lock);
    int v = *field;
    pthread_mutex_unlock(&b->lock);
    return v;
}

static void batch_against_another_thread(consent_ledger *l) {
    consent_head before;
    EXPECT_OK(consent_get_head(l, &before));

    /* Thread A (this one) begins a batch and appends. */
    consent_batch *batch = NULL;
    EXPECT_OK(consent_batch_begin(l, &batch));
    consent_event_params p;
    consent_event_ref a_ref;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "a-1";
    p.purpose = "jmsu.marketing";
    p.notice_id = "jmsu.privacy";
    p.notice_version = "2024-09";
    p.method = CONSENT_METHOD_PORTAL;
    EXPECT_OK(consent_batch_append(batch, &p, &a_ref));
    CHECK(a_ref.seq == before.size);
    /* On the thread holding the batch, the ledger itself refuses: use the batch. */
    EXPECT(consent_withdraw(l, "a-1", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_BATCH);

    /* Thread B appends a withdrawal on the ledger: it waits for the batch. */
    struct withdrawer b = {l, PTHREAD_MUTEX_INITIALIZER, 0, 0, CONSENT_RESULT_OTHER, {{0}, 0, 0, 0, 0, 0, false}};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, withdraw_during_batch, &b) == 0);
    while (!flag(&b, &b.started)) {
        sleep_ms(1);
    }
    sleep_ms(300); /* long enough for B to reach the ledger (and wait), even under valgrind */
    CHECK(!flag(&b, &b.finished)); /* B waited: it did not join the batch */

    /* A rolls back: only its own append goes. */
    EXPECT_OK(consent_batch_rollback(batch));
    consent_batch_free(batch);
    CHECK(pthread_join(thread, NULL) == 0);
    CHECK(b.finished && b.result == CONSENT_RESULT_OK);
    CHECK(b.ref.seq == before.size); /* the seq A's rolled-back append had taken */

    consent_head after;
    EXPECT_OK(consent_get_head(l, &after));
    CHECK(after.size == before.size + 1);
    char *json = NULL;
    EXPECT_OK(consent_history_json(l, "b-1", &json));
    CHECK(json && strstr(json, "\"withdrawn\"") && strstr(json, b.ref.id) && strstr(json, "system:portal"));
    consent_string_free(json);
    json = NULL;
    EXPECT_OK(consent_history_json(l, "a-1", &json));
    CHECK(json && strcmp(json, "[]") == 0);
    consent_string_free(json);
    consent_status st;
    EXPECT_OK(consent_status_get(l, "b-1", "jmsu.marketing", NULL, &st));
    CHECK(st.state == CONSENT_STATE_WITHDRAWN && st.event_seq == b.ref.seq);
    EXPECT_OK(consent_status_get(l, "a-1", "jmsu.marketing", NULL, &st));
    CHECK(st.state == CONSENT_STATE_NEVER_ASKED);
    pthread_mutex_destroy(&b.lock);
}

/* Registers what the workers append under. */
static void registry(consent_ledger *l) {
    EXPECT_OK(consent_register_purpose_json(
        l, "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\"}", NULL, NULL));
    const char *const covers[] = {"jmsu.*"};
    EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "2024-09", "JMSU privacy", "text", "JMSU", covers, 1, NULL));
}

/* THREADS workers, worker t on handles[t % n_handles], on a ledger holding `base`
 * events: afterwards every handle sees exactly the events appended, each at its own
 * seq, and the log verifies. */
static void workers_on(consent_ledger *const *handles, int n_handles, uint64_t base) {
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t].ledger = handles[t % n_handles];
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
    EXPECT_OK(consent_get_head(handles[0], &head));
    CHECK(head.size == base + THREADS * PER_THREAD);
    unsigned char seen[THREADS * PER_THREAD] = {0};
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++) {
            uint64_t s = workers[t].seqs[i];
            CHECK(s >= base && s < head.size && !seen[s - base]);
            if (s >= base && s < head.size) {
                seen[s - base] = 1;
            }
        }
    }
    for (int h = 0; h < n_handles; h++) {
        consent_verify_report rep;
        EXPECT_OK(consent_verify(handles[h], &rep));
        CHECK(rep.ok && rep.size == head.size && memcmp(rep.head.root, head.root, 32) == 0);
        char *json = NULL;
        EXPECT_OK(
            consent_consenting_json(handles[h], "jmsu.marketing", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json));
        CHECK(json && strstr(json, "\"subjects\":[]") != NULL); /* every grant was withdrawn */
        consent_string_free(json);
    }
}

int main(void) {
    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    o.synchronous = CONSENT_SYNCHRONOUS_NORMAL;
    test_ledger_options(&o);
    consent_ledger *l = NULL;
    EXPECT_OK(consent_ledger_open(test_ledger_location("shared"), &o, &l));
    registry(l);
    workers_on(&l, 1, 3); /* after ledger_configured, purpose, notice */

    batch_against_another_thread(l);
    consent_verify_report rep;
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && !rep.simulated);
    consent_ledger_free(l);

    /* Two handles on one ledger: two connections. */
    char at[512];
    snprintf(at, sizeof at, "%s", test_ledger_location("two-handles"));
    consent_ledger *two[2] = {NULL, NULL};
    EXPECT_OK(consent_ledger_open(at, &o, &two[0]));
    registry(two[0]);
    EXPECT_OK(consent_ledger_open(at, &o, &two[1]));
    if (two[0] != NULL && two[1] != NULL) {
        workers_on(two, 2, 3);
    }
    consent_ledger_free(two[0]);
    consent_ledger_free(two[1]);
    return finish("test_threads");
}
