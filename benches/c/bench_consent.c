/* consent-ledger through the C ABI (libconsent): the same questions as the Rust harness.
 *
 *   bench_consent N QUERY_FILE STREAM_FILE LEDGER_COPY ROUNDS
 *
 * Status questions are asked in ROUNDS rounds, each its own share of QUERY_FILE (as the
 * Rust harness splits them); the figure is the median of the rounds' medians.
 * Built and run by benches/compare.sh against target-bench/release/libconsent.so and
 * consent-ffi/include/consent.h. STATUS_FN / STATUS_AT_FN name the status functions
 * (the header has used both consent_status and consent_status_get). Prints one JSON
 * object.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consent.h"

#ifndef STATUS_FN
#define STATUS_FN consent_status
#endif
#ifndef STATUS_AT_FN
#define STATUS_AT_FN consent_status_at
#endif

#define MAXQ 10000
#define STREAM_LINES 6000

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
    if (n == 0) return -1;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, consent_result rc) {
    char msg[512];
    consent_last_error_message(msg, sizeof msg);
    fprintf(stderr, "%s failed (%d): %s\n", what, (int)rc, msg);
    exit(1);
}

/* Splits a TSV line in place into at most `max` fields; returns the count. */
static int split(char *line, char **f, int max) {
    int n = 0;
    line[strcspn(line, "\n")] = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++) {
        if (*p == '\t') {
            *p = 0;
            f[n++] = p + 1;
        }
    }
    return n;
}

static int method_of(const char *m) {
    static const char *names[] = {"", "portal", "web_form", "paper", "email", "feed", "in_person", "phone", "api"};
    for (int i = 1; i < 9; i++)
        if (strcmp(m, names[i]) == 0) return i;
    return CONSENT_METHOD_NONE;
}

typedef struct {
    char buf[256];
    char *f[9];
} row;

static void params_of(row *r, struct consent_event_params *p) {
    consent_event_params_init(p);
    const char *kind = r->f[3];
    p->subject = r->f[0];
    p->purpose = r->f[1];
    p->recipient = r->f[2][0] ? r->f[2] : NULL;
    p->recorded_by = r->f[8];
    if (strcmp(kind, "given") == 0) {
        p->kind = CONSENT_EVENT_KIND_GIVEN;
        p->notice_id = r->f[6];
        p->notice_version = "2024-09";
        p->explicit_consent = strncmp(p->purpose, "mobility.", 9) == 0 || strcmp(p->purpose, "wellbeing.special-category") == 0;
        p->method = method_of(r->f[7]);
    } else if (strcmp(kind, "refused") == 0) {
        p->kind = CONSENT_EVENT_KIND_REFUSED;
        p->method = method_of(r->f[7]);
    } else {
        p->kind = CONSENT_EVENT_KIND_WITHDRAWN;
    }
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s N QUERY_FILE STREAM_FILE LEDGER_COPY ROUNDS\n", argv[0]);
        return 2;
    }
    const char *n = argv[1], *qfile = argv[2], *sfile = argv[3], *path = argv[4];
    int rounds = atoi(argv[5]);
    if (rounds < 1) rounds = 1;
    static char qbuf[MAXQ][96];
    static char *q[MAXQ][3];
    size_t nq = 0;
    FILE *fq = fopen(qfile, "r");
    if (!fq) { perror(qfile); return 1; }
    while (nq < MAXQ && fgets(qbuf[nq], sizeof qbuf[nq], fq)) {
        split(qbuf[nq], q[nq], 3);
        nq++;
    }
    fclose(fq);
    static row rows[STREAM_LINES];
    size_t nr = 0;
    FILE *fs = fopen(sfile, "r");
    if (!fs) { perror(sfile); return 1; }
    while (nr < STREAM_LINES && fgets(rows[nr].buf, sizeof rows[nr].buf, fs)) {
        split(rows[nr].buf, rows[nr].f, 9);
        nr++;
    }
    fclose(fs);

    static double t[MAXQ];
    consent_result rc;
    struct consent_ledger *l = NULL;
    for (int i = 0; i < 20; i++) {
        double t0 = now_us();
        if ((rc = consent_ledger_open(path, NULL, &l)) != CONSENT_RESULT_OK) die("open", rc);
        consent_ledger_free(l);
        t[i] = now_us() - t0;
    }
    double open_us = median(t, 20);
    if ((rc = consent_ledger_open(path, NULL, &l)) != CONSENT_RESULT_OK) die("open", rc);

    struct consent_status st;
    if ((size_t)rounds > nq) rounds = (int)(nq ? nq : 1);
    size_t per = nq / (size_t)rounds;
    double round_medians[64];
    if (rounds > 64) rounds = 64;
    for (int r = 0; r < rounds; r++) {
        for (size_t i = 0; i < per; i++) {
            size_t k = (size_t)r * per + i;
            double t0 = now_us();
            if ((rc = STATUS_FN(l, q[k][0], q[k][1], q[k][2][0] ? q[k][2] : NULL, &st)) != CONSENT_RESULT_OK) die("status", rc);
            t[i] = now_us() - t0;
        }
        round_medians[r] = median(t, per);
    }
    double status_min = round_medians[0], status_max = round_medians[0];
    for (int r = 1; r < rounds; r++) {
        if (round_medians[r] < status_min) status_min = round_medians[r];
        if (round_medians[r] > status_max) status_max = round_medians[r];
    }
    double status_us = median(round_medians, (size_t)rounds);
    const int64_t at = 1672531200000; /* 2023-01-01T00:00:00Z */
    for (size_t i = 0; i < nq; i++) {
        double t0 = now_us();
        rc = STATUS_AT_FN(l, q[i][0], q[i][1], q[i][2][0] ? q[i][2] : NULL, at, CONSENT_TIME_ABSENT, &st);
        if (rc != CONSENT_RESULT_OK) die("status_at", rc);
        t[i] = now_us() - t0;
    }
    double status_at_us = median(t, nq);
    for (int i = 0; i < 5; i++) {
        char *json = NULL;
        double t0 = now_us();
        if ((rc = consent_consenting_json(l, "jmsu.data-sharing", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json)) != CONSENT_RESULT_OK)
            die("consenting", rc);
        t[i] = (now_us() - t0) / 1000.0;
        consent_string_free(json);
    }
    double consenting_ms = median(t, 5);

    struct consent_event_params p;
    struct consent_event_ref ref;
    size_t nd = 0;
    double started = now_us();
    for (size_t i = 0; i < 200 && i < nr; i++) {
        params_of(&rows[i], &p);
        double t0 = now_us();
        if ((rc = consent_append(l, &p, &ref)) != CONSENT_RESULT_OK) die("append", rc);
        t[nd++] = now_us() - t0;
        if (now_us() - started > 10e6) break;
    }
    double durable_us = median(t, nd);
    double rates[5];
    for (int b = 0; b < 5; b++) {
        double t0 = now_us();
        struct consent_batch *batch = NULL;
        if ((rc = consent_batch_begin(l, &batch)) != CONSENT_RESULT_OK) die("batch_begin", rc);
        for (size_t i = 200 + (size_t)b * 1000; i < 200 + (size_t)(b + 1) * 1000 && i < nr; i++) {
            params_of(&rows[i], &p);
            if ((rc = consent_batch_append(batch, &p, &ref)) != CONSENT_RESULT_OK) die("batch_append", rc);
        }
        if ((rc = consent_batch_commit(batch)) != CONSENT_RESULT_OK) die("batch_commit", rc);
        consent_batch_free(batch);
        rates[b] = 1000.0 / ((now_us() - t0) / 1e6);
    }
    double batch_eps = median(rates, 5);
    consent_ledger_free(l);
    printf("{\"impl\":\"c\",\"n\":%s,\"open_us\":%.3f,\"status_us\":%.3f,\"status_us_min\":%.3f,"
           "\"status_us_max\":%.3f,\"status_rounds\":%d,\"status_at_us\":%.3f,"
           "\"consenting_ms\":%.3f,\"verify_eps\":null,\"append_durable_us\":%.3f,\"append_durable_n\":%zu,"
           "\"append_batch_eps\":%.1f}\n",
           n, open_us, status_us, status_min, status_max, rounds, status_at_us, consenting_ms, durable_us, nd,
           batch_eps);
    return 0;
}
