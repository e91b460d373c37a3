/*
 * Random and hostile input through the C ABI: random byte strings (invalid UTF-8,
 * control characters, SQL metacharacters, white space at the ends, other Unicode
 * normal forms) in every string field, random enum values and extreme times, huge
 * strings, and a 1 MB evidence value that must come back intact. Every call must
 * return a known result code with a message, never crash or leak (run under
 * valgrind); a refused append appends nothing; an accepted one stores its subject and
 * purpose exactly as given (identifiers are refused, never trimmed or normalised);
 * and the ledger must still verify afterwards.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdbool.h>
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
    " s-1", "s-1 ", "s-1\t", "\ns-1", "jmsu.marketing ", "Jos\xc3\xa9" /* NFC */, "Jose\xcc\x81" /* NFD */,
    "s\\1\"", "\xe2\x80\x83s-1" /* em space */,
};

/* A NUL-terminated string: a known value, printable ASCII (spaces included, also at
 * the ends), random bytes, or NULL. */
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
        if (r < 6) {
            buf[i] = (char)(next_random() % 95 + 0x20); /* ' ' .. '~' */
        } else {
            buf[i] = (char)(next_random() % 255 + 1); /* any byte but NUL */
        }
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

/* A result code this build names (0..=23 or 100..=103). */
static int known_code(consent_result r) {
    return ((int)r >= 0 && (int)r <= 23) || ((int)r >= 100 && (int)r <= 103);
}

static uint64_t size_of(consent_ledger *l) {
    consent_head h = {0, {0}};
    EXPECT_OK(consent_get_head(l, &h));
    return h.size;
}

/* ASCII white space or a C0/DEL control character: never in an accepted identifier. */
static bool is_space_or_control(unsigned char c) {
    return c < 0x20 || c == 0x7f || c == ' ';
}

/* Whether `id` (NUL-terminated) starts or ends with ASCII white space, or holds a
 * control character: such an id is refused whatever else is wrong. */
static bool badly_spelt(const char *id) {
    size_t n = strlen(id);
    if (n > 0 && (is_space_or_control((unsigned char)id[0]) || is_space_or_control((unsigned char)id[n - 1]))) {
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)id[i] < 0x20 || (unsigned char)id[i] == 0x7f) {
            return true;
        }
    }
    return false;
}

/* `"key":"value"` as serde_json writes it, for an identifier (no control characters):
 * only the quote and the backslash are escaped. */
static void json_field(char *out, size_t cap, const char *key, const char *value) {
    size_t n = (size_t)snprintf(out, cap, "\"%s\":\"", key);
    for (const char *c = value; *c && n + 3 < cap; c++) {
        if (*c == '"' || *c == '\\') {
            out[n++] = '\\';
        }
        out[n++] = *c;
    }
    if (n + 2 <= cap) {
        out[n++] = '"';
        out[n] = '\0';
    }
}

/* An accepted event stores its subject and purpose exactly as given. */
static void check_round_trip(consent_ledger *l, const consent_event_ref *ref, const char *subject,
                             const char *purpose) {
    char *json = NULL;
    char want[256];
    EXPECT_OK(consent_event_json(l, ref->id, &json));
    CHECK(json != NULL);
    if (!json) {
        return;
    }
    json_field(want, sizeof want, "subject", subject);
    CHECK(strstr(json, want) != NULL);
    json_field(want, sizeof want, "purpose", purpose);
    CHECK(strstr(json, want) != NULL);
    consent_string_free(json);
}

static int accepted = 0;

static void random_appends(consent_ledger *l, int rounds) {
    char b[10][64];
    for (int i = 0; i < rounds; i++) {
        consent_event_params p;
        EXPECT_OK(consent_event_params_init(&p));
        if (i % 2 == 0) {
            /* Everything random. */
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
            p.validity_from_ms = random_time();
            p.source_id = random_text(b[6], sizeof b[6]);
            p.evidence_json = random_text(b[7], sizeof b[7]);
            p.target_event_id = random_text(b[8], sizeof b[8]);
        } else {
            /* A withdrawal (never refused for its content) by a random subject, with
             * at most one more random field: many are accepted. */
            p.kind = CONSENT_EVENT_KIND_WITHDRAWN;
            p.subject = random_text(b[0], sizeof b[0]);
            p.purpose = "jmsu.marketing";
            switch (next_random() % 8) {
            case 0: p.purpose = random_text(b[1], sizeof b[1]); break;
            case 1: p.source_id = random_text(b[6], sizeof b[6]); break;
            case 2: p.evidence_json = random_text(b[7], sizeof b[7]); break;
            case 3: p.effective_at_ms = random_time(); break;
            case 4: p.recipient = random_text(b[2], sizeof b[2]); break; /* unlisted: recorded purpose-wide */
            default: break; /* the subject alone */
            }
        }
        consent_event_ref ref;
        uint64_t before = size_of(l);
        consent_result r = consent_append(l, &p, &ref);
        CHECK(known_code(r));
        if (r != CONSENT_RESULT_OK) {
            char msg[256];
            CHECK(consent_last_error_message(msg, sizeof msg) > 1);
        }
        uint64_t after = size_of(l);
        if (r != CONSENT_RESULT_OK) {
            CHECK(after == before); /* a refused append appends nothing */
        } else {
            accepted++;
            /* A new event, or the one already recorded under the same source id. */
            CHECK((after == before + 1 && ref.seq == before) || (after == before && ref.seq < before));
            CHECK(p.subject && !badly_spelt(p.subject) && p.purpose && !badly_spelt(p.purpose));
            if (p.subject && p.purpose) {
                check_round_trip(l, &ref, p.subject, p.purpose);
            }
        }
        if (p.subject && p.purpose && (badly_spelt(p.subject) || badly_spelt(p.purpose))) {
            CHECK(r != CONSENT_RESULT_OK);
        }
        consent_status st;
        const char *subject = random_text(b[0], sizeof b[0]);
        r = consent_status_get_at(l, subject, random_text(b[1], sizeof b[1]), random_text(b[2], sizeof b[2]),
                                  random_time(), random_time(), &st);
        CHECK(known_code(r));
        if (subject && badly_spelt(subject)) {
            CHECK(r != CONSENT_RESULT_OK);
        }
        char *json = NULL;
        r = consent_history_json(l, random_text(b[9], sizeof b[9]), &json);
        CHECK(known_code(r));
        CHECK((r == CONSENT_RESULT_OK) == (json != NULL));
        consent_string_free(json);
    }
}

/* Identifiers in and out of their one spelling, each appended once: the refused ones
 * are INVALID_ARGUMENT and append nothing, the accepted ones round-trip exactly. */
static void identifier_spellings(consent_ledger *l) {
    static const char *const REFUSED[] = {
        " s-1", "s-1 ", "s-1\t", "\ns-1", "s\r1", "s\x7f" "1", "Jose\xcc\x81", "\xe2\x80\x83s-1", "s-1\xc2\xa0",
        "\xc2\x85s-1" /* NEL, a C1 control */, "",
    };
    static const char *const ACCEPTED[] = {
        "Jos\xc3\xa9", "s 1", "s-\"quoted\"", "back\\slash", "'; DROP TABLE events; --", "\xe5\xad\xa6\xe7\x94\x9f-7",
        "x%s%n",
    };
    for (size_t i = 0; i < sizeof REFUSED / sizeof REFUSED[0]; i++) {
        uint64_t before = size_of(l);
        EXPECT(consent_withdraw(l, REFUSED[i], "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
        EXPECT(consent_give(l, REFUSED[i], "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", CONSENT_METHOD_PORTAL, false,
                            NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL),
               CONSENT_RESULT_INVALID_ARGUMENT);
        EXPECT(consent_status_get(l, REFUSED[i], "jmsu.marketing", NULL, &(consent_status){0}),
               CONSENT_RESULT_INVALID_ARGUMENT);
        CHECK(size_of(l) == before);
    }
    for (size_t i = 0; i < sizeof ACCEPTED / sizeof ACCEPTED[0]; i++) {
        consent_event_ref ref;
        EXPECT_OK(consent_give(l, ACCEPTED[i], "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", CONSENT_METHOD_PORTAL,
                               false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref));
        check_round_trip(l, &ref, ACCEPTED[i], "jmsu.marketing");
        consent_status st;
        EXPECT_OK(consent_status_get(l, ACCEPTED[i], "jmsu.marketing", NULL, &st));
        CHECK(st.state == CONSENT_STATE_GIVEN && strcmp(st.event_id, ref.id) == 0);
    }
    /* "José" in NFD is refused, so it cannot name a second student beside the NFC one. */
    consent_status st;
    EXPECT(consent_status_get(l, "Jose\xcc\x81", "jmsu.marketing", NULL, &st), CONSENT_RESULT_INVALID_ARGUMENT);
}

/* Random notices (controller and an array of purposes, NULL elements included),
 * random time zones, random bulk erasures, previews, readmissions and HTML copies:
 * every call returns a known code with a message on failure, and leaks nothing. */
static void random_surfaces(consent_ledger *l, int rounds) {
    char b[8][64];
    for (int i = 0; i < rounds; i++) {
        const char *items[4];
        size_t n = (size_t)(next_random() % 5);
        for (size_t k = 0; k < n; k++) {
            items[k] = next_random() % 3 ? PICKS[next_random() % (sizeof PICKS / sizeof PICKS[0])]
                                          : random_text(b[k], sizeof b[k]);
        }
        consent_result r = consent_register_notice_text(l, random_text(b[4], sizeof b[4]), "1", "t", "x",
                                                        random_text(b[5], sizeof b[5]),
                                                        next_random() % 8 ? items : NULL, n, NULL);
        CHECK(known_code(r));
        if (r != CONSENT_RESULT_OK) {
            CHECK(consent_last_error_message(NULL, 0) > 1);
        }

        consent_options o;
        EXPECT_OK(consent_options_init(&o));
        o.time_zone = next_random() % 4 ? random_text(b[6], sizeof b[6]) : "Europe/Paris";
        consent_ledger *m = NULL;
        r = consent_ledger_open_in_memory(&o, &m);
        CHECK(known_code(r) && (r == CONSENT_RESULT_OK) == (m != NULL));
        if (m) {
            char zone[CONSENT_TIME_ZONE_LEN];
            EXPECT_OK(consent_ledger_time_zone(m, zone, sizeof zone));
            CHECK(o.time_zone == NULL || strlen(zone) > 0);
            consent_ledger_free(m);
        }

        char *json = NULL;
        r = consent_erase_subjects_json(l, next_random() % 8 ? items : NULL, n, random_text(b[7], sizeof b[7]),
                                        random_text(b[5], sizeof b[5]), (uint32_t)(next_random() % 3), &json);
        CHECK(known_code(r) && (r == CONSENT_RESULT_OK) == (json != NULL));
        if (json) {
            CHECK(strstr(json, "\"outcomes\":[") != NULL);
        }
        consent_string_free(json);
        json = NULL;
        const char *subject = random_text(b[0], sizeof b[0]);
        r = consent_erasure_preview_json(l, subject, &json);
        CHECK(known_code(r) && (r == CONSENT_RESULT_OK) == (json != NULL));
        consent_string_free(json);
        json = NULL;
        r = consent_export_subject_html(l, subject, &json);
        CHECK(known_code(r) && (r == CONSENT_RESULT_OK) == (json != NULL));
        consent_string_free(json);
        r = consent_readmit_subject(l, subject, random_text(b[1], sizeof b[1]), random_text(b[2], sizeof b[2]), NULL);
        CHECK(known_code(r));
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
    EXPECT(consent_give(l, id, "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
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
    EXPECT_OK(test_ledger_new(NULL, &l)); /* in memory, or a schema on PostgreSQL */
    EXPECT_OK(consent_register_purpose_json(
        l, "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\"}",
        NULL, NULL));
    const char *const covers[] = {"jmsu.*"};
    EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "2024-09", "JMSU privacy", "text", "JMSU", covers, 1, NULL));
    identifier_spellings(l);
    random_appends(l, 400);
    printf("test_random_input: %d of 400 random appends accepted\n", accepted);
    CHECK(accepted >= 40); /* the round-trip checks above ran on real appends */
    random_surfaces(l, 60);
    huge_values(l);
    consent_verify_report rep;
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok);
    consent_ledger_free(l);
    return finish("test_random_input");
}
