/*
 * Random and hostile input through the C ABI: random byte strings (invalid UTF-8,
 * control characters, SQL metacharacters) in every string field, random enum values and
 * extreme times, huge strings, and a 1 MB evidence value that must come back intact.
 * Every call must return a known result code with a message, never crash or leak (run
 * under valgrind), and the ledger must still verify afterwards.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>

#include "test_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

/* xorshift64*: a fixed seed, so a failure replays. */
static uint64_t next_random(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717u;
}

static const char *const PICKS[] = {
    "jmsu.marketing", "jmsu.privacy", "2024-09", "s-1", "staff:dpo", "system:sis", "subject",
    "'; DROP TABLE events; --", "\"", "{}", "{\"a\":1}", "[1,2]", "NHS", "", "x%s%n",
};

/* A NUL-terminated string: a known value, random bytes, or NULL. */
static const char *random_text(char *buf, size_t cap) {
    uint64_t r = next_random() % 8;
    if (r == 0) {
        return NULL;
    }
    if (r < 4) {
        return PICKS[next_random() % (sizeof PICKS / sizeof PICKS[0])];
    }
    size_t len = (size_t)(next_random() % (cap - 1));
    for (size_t i = 0; i < len; i++) {
        char c = (char)(next_random() % 255 + 1); /* any byte but NUL */
        buf[i] = c;
    }
    buf[len] = '\0';
    return buf;
}

static int64_t random_time(void) {
    static const int64_t EDGES[] = {
        INT64_MIN, INT64_MIN + 1, -1, 0, 1, INT64_MAX, CONSENT_TIME_MIN - 1, CONSENT_TIME_MIN,
        CONSENT_TIME_MAX, CONSENT_TIME_MAX + 1, 1727740800000, CONSENT_TIME_ABSENT,
    };
    if (next_random() % 2) {
        return EDGES[next_random() % (sizeof EDGES / sizeof EDGES[0])];
    }
    return (int64_t)next_random();
}

/* A result code this build names (0..=21 or 100..=103). */
static int known_code(consent_result r) {
    return ((int)r >= 0 && (int)r <= 21) || ((int)r >= 100 && (int)r <= 103);
}

static void random_appends(consent_ledger *l, int rounds) {
    char b[10][64];
    for (int i = 0; i < rounds; i++) {
        consent_event_params p;
        EXPECT_OK(consent_event_params_init(&p));
        p.kind = (int32_t)(next_random() % 10) - 1;
        p.subject = random_text(b[0], sizeof b[0]);
        p.purpose = random_text(b[1], sizeof b[1]);
        p.recipient = random_text(b[2], sizeof b[2]);
        p.notice_id = random_text(b[3], sizeof b[3]);
        p.notice_version = random_text(b[4], sizeof b[4]);
        p.explicit_consent = next_random() % 2;
        p.method = (int32_t)(next_random() % 11) - 1;
        p.recorded_by = random_text(b[5], sizeof b[5]);
        p.effective_at_ms = random_time();
        p.expires_at_ms = random_time();
        p.source_id = random_text(b[6], sizeof b[6]);
        p.evidence_json = random_text(b[7], sizeof b[7]);
        p.target_event_id = random_text(b[8], sizeof b[8]);
        consent_event_ref ref;
        consent_result r = consent_append(l, &p, &ref);
        CHECK(known_code(r));
        if (r != CONSENT_RESULT_OK) {
            char msg[256];
            CHECK(consent_last_error_message(msg, sizeof msg) > 1);
        }
        consent_status st;
        r = consent_get_status_at(l, random_text(b[0], sizeof b[0]), random_text(b[1], sizeof b[1]),
                                  random_text(b[2], sizeof b[2]), random_time(), random_time(), &st);
        CHECK(known_code(r));
        char *json = NULL;
        r = consent_history_json(l, random_text(b[9], sizeof b[9]), &json);
        CHECK(known_code(r));
        CHECK((r == CONSENT_RESULT_OK) == (json != NULL));
        consent_string_free(json);
    }
}

static void huge_values(consent_ledger *l) {
    size_t big = (size_t)1 << 20;
    char *id = malloc(big + 1);
    char *evidence = malloc(big + 32);
    if (!id || !evidence) {
        free(id);
        free(evidence);
        CHECK(0 && "out of memory");
        return;
    }
    memset(id, 'x', big);
    id[big] = '\0';
    /* A 1 MB subject id is refused clearly (ids are at most 1024 bytes)... */
    EXPECT(consent_give(l, id, "jmsu.marketing", "jmsu.privacy", "2024-09", CONSENT_METHOD_PORTAL, false, NULL,
                        NULL),
           CONSENT_RESULT_INVALID_ARGUMENT);
    /* ...and 1 MB of evidence is stored and returned intact. */
    strcpy(evidence, "{\"scan\":\"");
    memset(evidence + 9, 'y', big);
    strcpy(evidence + 9 + big, "\"}");
    consent_event_params p;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "s-big";
    p.purpose = "jmsu.marketing";
    p.notice_id = "jmsu.privacy";
    p.notice_version = "2024-09";
    p.method = CONSENT_METHOD_PAPER;
    p.evidence_json = evidence;
    EXPECT_OK(consent_append(l, &p, NULL));
    char *json = NULL;
    EXPECT_OK(consent_history_json(l, "s-big", &json));
    CHECK(json != NULL && strstr(json, evidence + 1) != NULL);
    consent_string_free(json);
    free(id);
    free(evidence);
}

int main(void) {
    consent_ledger *l = NULL;
    EXPECT_OK(consent_ledger_open_in_memory(NULL, &l));
    EXPECT_OK(consent_register_purpose_json(
        l, "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\"}",
        NULL));
    EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "2024-09", "JMSU privacy", "text"));
    random_appends(l, 400);
    huge_values(l);
    consent_verify_report rep;
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok);
    consent_ledger_free(l);
    return finish("test_random_input");
}
