/*
 * The whole surface from C, on a new ledger created with a fixed clock (a simulation;
 * in memory, or in a schema of its own on PostgreSQL: see test_util.h): registry, every
 * event kind, statuses, JSON answers, heads, proofs bound to their event,
 * verification, batch handles, erasure and copies between backends. Event 0 of every
 * ledger is its own `ledger_configured` event, so the caller's events start at 1.
 *
 * Then the rules of issue 11 on their own ledgers (files, or schemas): the LJMU registry loaded from
 * examples/ljmu/registry.toml, recipients as registry ids (and the feed trap),
 * objections, material changes, "consenting as known at", validity counted from a
 * course start, the ledger's time zone, erasure (refused for an unknown id, forced,
 * previewed, in bulk, readmitted) and the subject's copy as HTML.
 *
 * Then issue 12 on a ledger of its own: many events in one call (consent_append_many, all or
 * none, and consent_batch_append_many) and many questions in one snapshot
 * (consent_status_get_many), with every bad input: NULL arrays, NULL and non-UTF-8 strings
 * inside elements, unknown purposes, n = 0, impossible lengths; each error names the
 * element (consent_last_error_index) and leaves the caller's arrays untouched.
 *
 * Then issue 16: every registration, on the ledger or in a batch, says whether it
 * appended its event (`out_is_new`).
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdint.h>
#include <unistd.h>

#include "test_util.h"

/* The repository's examples folder (run.sh passes it; the default suits a run from
 * the repository root). */
#ifndef CONSENT_EXAMPLES_DIR
#define CONSENT_EXAMPLES_DIR "examples"
#endif

static int64_t now_ms = 1727776800000; /* 2024-10-01T10:00:00Z */
static int64_t clock_fn(void *context) {
    return *(int64_t *)context;
}

static const int64_t DAY = 86400000;

static void expect_state(consent_ledger *l, const char *subject, const char *purpose, const char *recipient,
                         consent_state want) {
    consent_status st;
    EXPECT_OK(consent_status_get(l, subject, purpose, recipient, &st));
    if (st.state != want) {
        fprintf(stderr, "  %s/%s: state %d, wanted %d\n", subject, purpose, (int)st.state, (int)want);
    }
    CHECK(st.state == want);
}

static uint64_t size_of(consent_ledger *l) {
    consent_head h;
    EXPECT_OK(consent_get_head(l, &h));
    return h.size;
}

/* ---- issue 11 ------------------------------------------------------------------- */

/* The clock of the issue-11 ledgers. */
static int64_t t11 = 1727776800000; /* 2024-10-01T10:00:00Z */

/* A new ledger (a file, or a schema on PostgreSQL), a simulation on the clock `t11`,
 * in `time_zone` (NULL: default). */
static consent_ledger *simulation(const char *time_zone) {
    consent_options o;
    consent_ledger *l = NULL;
    EXPECT_OK(consent_options_init(&o));
    o.clock = clock_fn;
    o.clock_context = &t11;
    o.time_zone = time_zone;
    test_ledger_options(&o);
    EXPECT_OK(consent_ledger_open(test_ledger_location("simulation"), &o, &l));
    return l;
}

static consent_status status_of(consent_ledger *l, const char *subject, const char *purpose, const char *recipient) {
    consent_status st;
    memset(&st, 0, sizeof st);
    EXPECT_OK(consent_status_get(l, subject, purpose, recipient, &st));
    return st;
}

/* Whether `json` holds every one of the NULL-terminated `parts`; prints what is missing. */
static int has_all(const char *json, const char *const *parts) {
    int ok = json != NULL;
    for (; ok && *parts; parts++) {
        if (!strstr(json, *parts)) {
            fprintf(stderr, "  missing %s in %.400s\n", *parts, json);
            ok = 0;
        }
    }
    return ok;
}

/* The LJMU registry from examples/ljmu/registry.toml; recipients are its ids. */
static void registry_and_recipients(void) {
    consent_ledger *l = simulation(NULL);
    char *json = NULL;
    EXPECT_OK(consent_registry_load(l, CONSENT_EXAMPLES_DIR "/ljmu/registry.toml", NULL, &json));
    CHECK(has_all(json, (const char *const[]){"\"entries\":[", "\"kind\":\"notice\"", "\"id\":\"jmsu.privacy\"",
                                               "\"kind\":\"purpose\"", "\"id\":\"jmsu.data-sharing\"",
                                               "\"new\":true", NULL}));
    consent_string_free(json);
    uint64_t loaded = size_of(l);
    CHECK(loaded > 15);
    /* Loading it again changes nothing; the report can be left out. */
    json = NULL;
    EXPECT_OK(consent_registry_load(l, CONSENT_EXAMPLES_DIR "/ljmu/registry.toml", NULL, &json));
    CHECK(json && !strstr(json, "\"new\":true") && strstr(json, "\"new\":false"));
    consent_string_free(json);
    EXPECT_OK(consent_registry_load(l, CONSENT_EXAMPLES_DIR "/ljmu/registry.toml", NULL, NULL));
    CHECK(size_of(l) == loaded);
    char zone[CONSENT_TIME_ZONE_LEN];
    EXPECT_OK(consent_ledger_time_zone(l, zone, sizeof zone));
    CHECK(strcmp(zone, "Europe/London") == 0);

    /* A question naming `NHS`, or no recipient, is refused; the message lists the ids. */
    consent_status st;
    EXPECT(consent_status_get(l, "770010", "wellbeing.share-external", "NHS", &st), CONSENT_RESULT_UNKNOWN_RECIPIENT);
    CHECK(strstr(last_message(), "`NHS`") && strstr(last_message(), "student-finance-england, nhs, landlord"));
    EXPECT(consent_status_get(l, "770010", "wellbeing.share-external", NULL, &st), CONSENT_RESULT_UNKNOWN_RECIPIENT);
    CHECK(strstr(last_message(), "student-finance-england, nhs, landlord") != NULL);

    /* A grant and a withdrawal for `nhs`: the status for `nhs` says withdrawn. */
    consent_event_params p;
    consent_event_ref ref;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "770010";
    p.purpose = "wellbeing.share-external";
    p.recipient = "nhs";
    p.notice_id = "ljmu.wellbeing";
    p.notice_version = "1";
    p.method = CONSENT_METHOD_IN_PERSON;
    p.recorded_by = "staff:adviser-7";
    EXPECT_OK(consent_append(l, &p, &ref));
    st = status_of(l, "770010", "wellbeing.share-external", "nhs");
    CHECK(st.state == CONSENT_STATE_GIVEN && st.permits && st.event_seq == ref.seq);
    CHECK(status_of(l, "770010", "wellbeing.share-external", "landlord").state == CONSENT_STATE_NEVER_ASKED);
    t11 += 60000;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_WITHDRAWN;
    p.subject = "770010";
    p.purpose = "wellbeing.share-external";
    p.recipient = "nhs";
    EXPECT_OK(consent_append(l, &p, &ref));
    st = status_of(l, "770010", "wellbeing.share-external", "nhs");
    CHECK(st.state == CONSENT_STATE_WITHDRAWN && !st.permits && st.event_seq == ref.seq);
    EXPECT(consent_status_get(l, "770010", "wellbeing.share-external", "NHS", &st), CONSENT_RESULT_UNKNOWN_RECIPIENT);

    /* A withdrawal naming `NHS` is never refused: it is recorded purpose-wide, ending
     * consent for every recipient, and keeps the text as written. */
    EXPECT_OK(consent_give(l, "770011", "wellbeing.share-external", NULL, "ljmu.wellbeing", "1", CONSENT_METHOD_PORTAL,
                           false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    CHECK(status_of(l, "770011", "wellbeing.share-external", "landlord").state == CONSENT_STATE_GIVEN);
    p.subject = "770011";
    p.recipient = "NHS";
    EXPECT_OK(consent_append_json(l, &p, &json));
    CHECK(has_all(json, (const char *const[]){"\"kind\":\"withdrawn\"", "\"recipient\":null",
                                               "\"unlisted_recipient\":\"NHS\"", NULL}));
    consent_string_free(json);
    CHECK(status_of(l, "770011", "wellbeing.share-external", "nhs").state == CONSENT_STATE_WITHDRAWN);
    CHECK(status_of(l, "770011", "wellbeing.share-external", "landlord").state == CONSENT_STATE_WITHDRAWN);

    /* The JMSU feed must ask with its recipient: without one it is refused. */
    EXPECT_OK(consent_give(l, "770012", "jmsu.data-sharing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                           NULL));
    EXPECT(consent_consenting_json(l, "jmsu.data-sharing", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json),
           CONSENT_RESULT_UNKNOWN_RECIPIENT);
    CHECK(strstr(last_message(), "ask about one of them") && strstr(last_message(), "JMSU"));
    /* A notice that does not cover the purpose cannot back a grant. */
    EXPECT(consent_give(l, "770012", "jmsu.data-sharing", NULL, "ljmu.wellbeing", "1", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                        NULL),
           CONSENT_RESULT_INVALID_CONSENT);
    EXPECT_OK(consent_consenting_json(l, "jmsu.data-sharing", "JMSU", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json));
    CHECK(has_all(json, (const char *const[]){"\"recipient\":\"JMSU\"", "\"subject\":\"770012\"", NULL}));
    consent_string_free(json);

    /* A withdrawal on a legitimate-interests purpose is recorded as an objection. */
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_WITHDRAWN;
    p.subject = "770013";
    p.purpose = "engagement.monitoring";
    CHECK(status_of(l, "770013", "engagement.monitoring", NULL).state == CONSENT_STATE_NOT_CONSENT_BASED);
    EXPECT_OK(consent_append_json(l, &p, &json));
    CHECK(has_all(json, (const char *const[]){"\"kind\":\"objected\"", "\"asked_as\":\"withdrawn\"", NULL}));
    consent_string_free(json);
    st = status_of(l, "770013", "engagement.monitoring", NULL);
    CHECK(st.state == CONSENT_STATE_OBJECTED && !st.permits && st.lawful_basis == 'f');
    CHECK(st.granted_under_version == 0); /* the deciding event is not a grant */
    /* consent_withdraw does the same. */
    EXPECT_OK(consent_withdraw(l, "770014", "engagement.monitoring", NULL, NULL, CONSENT_TIME_ABSENT, NULL));
    CHECK(status_of(l, "770014", "engagement.monitoring", NULL).state == CONSENT_STATE_OBJECTED);
    /* A person may overrule the objection (compelling legitimate grounds); not the
     * subject, and never on a purpose that rests on consent. */
    p.kind = CONSENT_EVENT_KIND_OBJECTION_OVERRULED;
    p.recorded_by = NULL;
    consent_result r = consent_append(l, &p, &ref);
    CHECK(r == CONSENT_RESULT_INVALID_ARGUMENT || r == CONSENT_RESULT_INVALID_CONSENT);
    p.recorded_by = "staff:dpo-01";
    EXPECT_OK(consent_append(l, &p, &ref));
    st = status_of(l, "770013", "engagement.monitoring", NULL);
    CHECK(st.state == CONSENT_STATE_NOT_CONSENT_BASED && st.permits && st.event_seq == ref.seq);
    p.purpose = "jmsu.marketing";
    r = consent_append(l, &p, &ref);
    CHECK(r == CONSENT_RESULT_INVALID_ARGUMENT || r == CONSENT_RESULT_INVALID_CONSENT);

    /* The subject's copy as HTML names the purpose by its title. */
    EXPECT_OK(consent_export_subject_html(l, "770011", &json));
    CHECK(has_all(json, (const char *const[]){"<html", "Sharing with an organisation outside the University",
                                               "Student Advice and Wellbeing service privacy notice", NULL}));
    consent_string_free(json);
    EXPECT_OK(consent_verify(l, &(consent_verify_report){0}));
    consent_ledger_free(l);
}

/* A material change of purpose: earlier grants need renewal. */
static void material_change(void) {
    consent_ledger *l = simulation(NULL);
    const char *const projects[] = {"jmsu.project.*"};
    uint32_t version = 0;
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"jmsu.project.green-week\",\"title\":\"Green Week\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\"}",
        &version, NULL));
    CHECK(version == 1);
    EXPECT_OK(consent_register_notice_text(l, "jmsu.projects", "1", "JMSU projects", "We keep your details ...",
                                           "JMSU", projects, 1, NULL));
    consent_event_ref grant;
    EXPECT_OK(consent_give(l, "s-1", "jmsu.project.green-week", NULL, "jmsu.projects", "1", CONSENT_METHOD_WEB_FORM, false,
                           NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &grant));
    consent_status st = status_of(l, "s-1", "jmsu.project.green-week", NULL);
    CHECK(st.state == CONSENT_STATE_GIVEN && st.purpose_version == 1 && st.granted_under_version == 1);

    /* A new title is not material. */
    t11 += DAY;
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"jmsu.project.green-week\",\"title\":\"Green Week 2024\",\"controller\":\"JMSU\","
        "\"lawful_basis\":\"a\"}", &version, NULL));
    CHECK(version == 2);
    st = status_of(l, "s-1", "jmsu.project.green-week", NULL);
    CHECK(st.state == CONSENT_STATE_GIVEN && st.purpose_version == 2 && st.granted_under_version == 1);

    /* The owner declares a change the fields do not show: the grant needs renewal. */
    int64_t before_change = t11;
    t11 += DAY;
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"jmsu.project.green-week\",\"title\":\"Green Week 2024\",\"controller\":\"JMSU\","
        "\"lawful_basis\":\"a\",\"renew_consent\":true}", &version, NULL));
    CHECK(version == 3);
    char *json = NULL;
    EXPECT_OK(consent_purpose_json(l, "jmsu.project.green-week", 0, &json));
    CHECK(json && strstr(json, "\"material_change\":[\"declared\"]"));
    consent_string_free(json);
    st = status_of(l, "s-1", "jmsu.project.green-week", NULL);
    CHECK(CONSENT_STATE_NEEDS_RENEWAL == 11);
    CHECK(st.state == CONSENT_STATE_NEEDS_RENEWAL && !st.permits);
    CHECK(st.purpose_version == 3 && st.granted_under_version == 1);
    CHECK(st.has_event && strcmp(st.event_id, grant.id) == 0 && st.since_ms == t11);
    EXPECT_OK(consent_status_get_json(l, "s-1", "jmsu.project.green-week", NULL, CONSENT_TIME_ABSENT,
                                      CONSENT_TIME_ABSENT, &json));
    CHECK(has_all(json, (const char *const[]){"\"state\":\"needs_renewal\"", "\"granted_under_version\":1", NULL}));
    consent_string_free(json);
    /* Before the change it permitted, under version 2. */
    EXPECT_OK(consent_status_get_at(l, "s-1", "jmsu.project.green-week", NULL, before_change, CONSENT_TIME_ABSENT,
                                    &st));
    CHECK(st.state == CONSENT_STATE_GIVEN && st.purpose_version == 2 && st.granted_under_version == 1);
    EXPECT_OK(consent_consenting_json(l, "jmsu.project.green-week", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                                      &json));
    CHECK(json && strstr(json, "\"subjects\":[]"));
    consent_string_free(json);
    /* A new grant renews. */
    t11 += 60000;
    EXPECT_OK(consent_give(l, "s-1", "jmsu.project.green-week", NULL, "jmsu.projects", "1", CONSENT_METHOD_WEB_FORM, false,
                           NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &grant));
    st = status_of(l, "s-1", "jmsu.project.green-week", NULL);
    CHECK(st.state == CONSENT_STATE_GIVEN && st.permits && st.granted_under_version == 3);

    /* Adding a recipient is material too. */
    t11 += DAY;
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"jmsu.project.green-week\",\"title\":\"Green Week 2024\",\"controller\":\"JMSU\","
        "\"lawful_basis\":\"a\",\"recipients\":[\"merseyside-recycling\"]}", &version, NULL));
    CHECK(version == 4);
    st = status_of(l, "s-1", "jmsu.project.green-week", "merseyside-recycling");
    CHECK(st.state == CONSENT_STATE_NEEDS_RENEWAL && st.purpose_version == 4 && st.granted_under_version == 3);
    consent_ledger_free(l);
}

/* "Who was consenting on 2 October, as the ledger knew it on 3 October?" */
static void consenting_as_known_at(void) {
    consent_ledger *l = simulation(NULL);
    const char *const reps[] = {"jmsu.course-rep"};
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"jmsu.course-rep\",\"title\":\"Course reps\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\","
        "\"validity\":{\"kind\":\"course_year\"}}", NULL, NULL));
    EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "1", "JMSU privacy", "text", "JMSU", reps, 1, NULL));
    /* A paper form signed on 1 October, typed in on 5 October. */
    t11 = 1728126000000; /* 2024-10-05T11:00:00Z */
    consent_event_params p;
    consent_event_ref ref;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "770003";
    p.purpose = "jmsu.course-rep";
    p.notice_id = "jmsu.privacy";
    p.notice_version = "1";
    p.method = CONSENT_METHOD_PAPER;
    p.recorded_by = "staff:jmsu-0042";
    p.effective_at_ms = 1727784000000; /* 2024-10-01T12:00:00Z */
    /* Validity counted from the course start, 23 September (local midnight, BST). */
    p.validity_from_ms = 1727046000000; /* 2024-09-22T23:00:00Z */
    EXPECT_OK(consent_append(l, &p, &ref));
    CHECK(ref.expires_at_ms == 1758582000000); /* 2025-09-23 00:00 in Liverpool */
    char *json = NULL;
    EXPECT_OK(consent_event_json(l, ref.id, &json));
    CHECK(json && strstr(json, "\"validity_from\":\"2024-09-22T23:00:00"));
    consent_string_free(json);

    int64_t oct2 = 1727870400000, oct3 = 1727956800000;
    EXPECT_OK(consent_consenting_json(l, "jmsu.course-rep", NULL, oct2, oct3, &json));
    CHECK(has_all(json, (const char *const[]){"\"subjects\":[]", "\"as_known_at\":\"2024-10-03T12:00:00", NULL}));
    consent_string_free(json);
    EXPECT_OK(consent_consenting_json(l, "jmsu.course-rep", NULL, oct2, CONSENT_TIME_ABSENT, &json));
    CHECK(has_all(json, (const char *const[]){"\"subject\":\"770003\"", "\"as_known_at\":\"2024-10-05T11:00:00", NULL}));
    consent_string_free(json);
    EXPECT_OK(consent_consenting_json(l, "jmsu.course-rep", NULL, 1758582000000 - 1, CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"subject\":\"770003\""));
    consent_string_free(json);
    EXPECT_OK(consent_consenting_json(l, "jmsu.course-rep", NULL, 1758582000000, CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"subjects\":[]"));
    consent_string_free(json);
    consent_ledger_free(l);
    t11 = 1727776800000;
}

/* The academic year ends at local midnight in the ledger's time zone. */
static void time_zones(void) {
    static const char *const ZONES[] = {NULL, "America/New_York"};
    static const int64_t LAPSES[] = {1754002800000 /* 2025-07-31T23:00Z */, 1754020800000 /* 2025-08-01T04:00Z */};
    for (int i = 0; i < 2; i++) {
        consent_ledger *l = simulation(ZONES[i]);
        char zone[CONSENT_TIME_ZONE_LEN];
        EXPECT_OK(consent_ledger_time_zone(l, zone, sizeof zone));
        CHECK(strcmp(zone, ZONES[i] ? ZONES[i] : "Europe/London") == 0);
        const char *const marketing[] = {"jmsu.marketing"};
        EXPECT_OK(consent_register_purpose_json(l,
            "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\","
            "\"validity\":{\"kind\":\"academic_year\"}}", NULL, NULL));
        EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "1", "JMSU privacy", "text", "JMSU", marketing, 1, NULL));
        consent_event_ref ref;
        EXPECT_OK(consent_give(l, "s-1", "jmsu.marketing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                               &ref));
        CHECK(ref.expires_at_ms == LAPSES[i]);
        consent_ledger_free(l);
    }
}

/* Erasure: an unknown id is refused unless forced; a preview, a bulk run, a readmission. */
static void erasure_and_readmission(void) {
    consent_ledger *l = simulation(NULL);
    const char *const marketing[] = {"jmsu.marketing"};
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\"}", NULL, NULL));
    EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "1", "JMSU privacy", "text", "JMSU", marketing, 1, NULL));
    consent_event_ref a, b;
    EXPECT_OK(consent_give(l, "s-a", "jmsu.marketing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &a));
    EXPECT_OK(consent_give(l, "s-b", "jmsu.marketing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &b));
    EXPECT_OK(consent_withdraw(l, "s-b", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL));
    uint64_t before = size_of(l);

    /* An id with no events: most likely mistyped, so refused unless forced. */
    consent_erasure_report er;
    er.seq = 4242;
    EXPECT(consent_erase_subject(l, "s-typo", "retention ended", "staff:dpo-01", &er), CONSENT_RESULT_NOT_FOUND);
    CHECK(strstr(last_message(), "force") != NULL && er.seq == 4242 && size_of(l) == before);
    EXPECT_OK(consent_erase_subject_with(l, "s-typo", "retention ended", "staff:dpo-01", CONSENT_ERASE_FORCE, &er));
    CHECK(er.events_erased == 0 && er.seq == before && er.wal_truncated);
    CHECK(status_of(l, "s-typo", "jmsu.marketing", NULL).state == CONSENT_STATE_ERASED);
    EXPECT(consent_erase_subject_with(l, "s-typo", "again", "staff:dpo-01", CONSENT_ERASE_FORCE, NULL),
           CONSENT_RESULT_SUBJECT_ERASED);

    /* A preview writes nothing. */
    char *json = NULL;
    before = size_of(l);
    EXPECT_OK(consent_erasure_preview_json(l, "s-b", &json));
    CHECK(has_all(json, (const char *const[]){"\"already_erased\":false", b.id, "\"withdrawn\"", NULL}));
    consent_string_free(json);
    EXPECT_OK(consent_erasure_preview_json(l, "s-typo", &json));
    CHECK(has_all(json, (const char *const[]){"\"already_erased\":true", "\"events\":[]", NULL}));
    consent_string_free(json);
    CHECK(size_of(l) == before);

    /* A bulk run reports every id, in order. */
    const char *const ids[] = {"s-b", "s-nobody", "s-typo", " s-a"};
    EXPECT_OK(consent_erase_subjects_json(l, ids, 4, "retention ended", "system:retention", 0, &json));
    CHECK(has_all(json, (const char *const[]){
        "{\"subject\":\"s-b\",\"outcome\":\"erased\"", "\"events_erased\":2",
        "{\"subject\":\"s-nobody\",\"outcome\":\"unknown\"}",
        "{\"subject\":\"s-typo\",\"outcome\":\"already_erased\"}",
        "{\"subject\":\" s-a\",\"outcome\":\"failed\",\"error\":", "\"wal_truncated\":true", NULL}));
    CHECK(json && strstr(json, "s-b") < strstr(json, "s-nobody") && strstr(json, "s-nobody") < strstr(json, "s-typo"));
    consent_string_free(json);
    CHECK(size_of(l) == before + 1);
    EXPECT_OK(consent_erase_subjects_json(l, (const char *const[]){"s-nobody"}, 1, "retention ended",
                                          "system:retention", CONSENT_ERASE_FORCE, &json));
    CHECK(json && strstr(json, "{\"subject\":\"s-nobody\",\"outcome\":\"erased\""));
    consent_string_free(json);
    EXPECT_OK(consent_erase_subjects_json(l, NULL, 0, "retention ended", "system:retention", 0, &json));
    CHECK(json && strstr(json, "\"outcomes\":[]"));
    consent_string_free(json);
    CHECK(status_of(l, "s-a", "jmsu.marketing", NULL).state == CONSENT_STATE_GIVEN);

    /* A returning student: readmitted, they may consent again. */
    EXPECT(consent_give(l, "s-b", "jmsu.marketing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_SUBJECT_ERASED);
    EXPECT(consent_readmit_subject(l, "s-b", "enrolled again", NULL, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_readmit_subject(l, "s-b", " ", "system:sis", NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    consent_event_ref back;
    t11 += DAY;
    EXPECT_OK(consent_readmit_subject(l, "s-b", "enrolled again", "system:sis", &back));
    CHECK(strlen(back.id) == 36 && back.seq == size_of(l) - 1 && back.recorded_at_ms == t11);
    EXPECT(consent_readmit_subject(l, "s-b", "enrolled again", "system:sis", NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(status_of(l, "s-b", "jmsu.marketing", NULL).state == CONSENT_STATE_NEVER_ASKED);
    EXPECT_OK(consent_give(l, "s-b", "jmsu.marketing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    CHECK(status_of(l, "s-b", "jmsu.marketing", NULL).state == CONSENT_STATE_GIVEN);
    EXPECT_OK(consent_history_json(l, "s-b", &json));
    CHECK(has_all(json, (const char *const[]){"\"subject_erased\"", "\"subject_readmitted\"", "\"given\"", NULL}));
    consent_string_free(json);
    /* ...and may be erased again. */
    EXPECT_OK(consent_erase_subject(l, "s-b", "left again", "staff:dpo-01", &er));
    CHECK(er.events_erased == 1);
    consent_verify_report rep;
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok);
    consent_ledger_free(l);
}

/* ---- issue 12 ------------------------------------------------------------------- */

static consent_event_params event_of(consent_event_kind kind, const char *subject, const char *purpose) {
    consent_event_params p;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = kind;
    p.subject = subject;
    p.purpose = purpose;
    return p;
}

/* A grant through the portal, shown `notice` version 1. */
static consent_event_params grant(const char *subject, const char *purpose, const char *recipient,
                                  const char *notice) {
    consent_event_params p = event_of(CONSENT_EVENT_KIND_GIVEN, subject, purpose);
    p.recipient = recipient;
    p.notice_id = notice;
    p.notice_version = "1";
    p.method = CONSENT_METHOD_PORTAL;
    return p;
}

/* Whether the last error names element `index` both ways: consent_last_error_index and
 * the message (which names `name[index]`). Prints what it got otherwise. */
static int names_element(const char *name, size_t index) {
    char want[64];
    snprintf(want, sizeof want, "%s[%zu]", name, index);
    size_t got = consent_last_error_index();
    int ok = got == index && strstr(last_message(), want) != NULL;
    if (!ok) fprintf(stderr, "  wanted %s, got index %zu: %s\n", want, got, last_message());
    return ok;
}

static const uint8_t UNTOUCHED = 0x5a;

/* Whether every byte of `p[0..len]` is still UNTOUCHED. */
static int untouched(const void *p, size_t len) {
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) {
        if (b[i] != UNTOUCHED) return 0;
    }
    return 1;
}

static void append_many(void) {
    consent_ledger *l = simulation(NULL);
    EXPECT_OK(consent_registry_load(l, CONSENT_EXAMPLES_DIR "/ljmu/registry.toml", NULL, NULL));
    uint64_t before = size_of(l);

    /* Four events in one call, in order: each checked with the ones before it (the
     * withdrawal ends the grant two places up). */
    consent_event_params ev[4] = {
        grant("780001", "jmsu.marketing", NULL, "jmsu.privacy"),
        grant("780002", "wellbeing.share-external", "nhs", "ljmu.wellbeing"),
        event_of(CONSENT_EVENT_KIND_WITHDRAWN, "780001", "jmsu.marketing"),
        event_of(CONSENT_EVENT_KIND_OBJECTED, "780003", "engagement.monitoring"),
    };
    ev[0].source_id = "form-1";
    consent_event_ref refs[4];
    memset(refs, UNTOUCHED, sizeof refs);
    EXPECT_OK(consent_append_many(l, ev, 4, refs));
    CHECK(consent_last_error_index() == CONSENT_INDEX_NONE);
    for (int i = 0; i < 4; i++) {
        CHECK(refs[i].seq == before + (uint64_t)i && strlen(refs[i].id) == 36 && refs[i].recorded_at_ms == t11);
    }
    CHECK(refs[2].effect_deadline_ms != CONSENT_TIME_ABSENT && refs[0].effect_deadline_ms == CONSENT_TIME_ABSENT);
    CHECK(size_of(l) == before + 4);
    CHECK(status_of(l, "780001", "jmsu.marketing", NULL).state == CONSENT_STATE_WITHDRAWN);
    consent_status st = status_of(l, "780002", "wellbeing.share-external", "nhs");
    CHECK(st.state == CONSENT_STATE_GIVEN && st.event_seq == refs[1].seq && strcmp(st.event_id, refs[1].id) == 0);
    /* `out` may be left out; the same source id with the same content is recorded once. */
    EXPECT_OK(consent_append_many(l, ev, 1, NULL));
    CHECK(size_of(l) == before + 4);

    /* All or nothing: one refused event and none lands; the error names it, and `out`
     * is left as it was. */
    t11 += 60000;
    consent_event_params bad[3] = {
        grant("780004", "jmsu.marketing", NULL, "jmsu.privacy"),
        event_of(CONSENT_EVENT_KIND_WITHDRAWN, "780004", "jmsu.marketing"),
        grant("780005", "no.such.purpose", NULL, "jmsu.privacy"),
    };
    uint64_t at = size_of(l);
    memset(refs, UNTOUCHED, sizeof refs);
    EXPECT(consent_append_many(l, bad, 3, refs), CONSENT_RESULT_UNKNOWN_PURPOSE);
    CHECK(names_element("events", 2) && strncmp(last_message(), "events[2]: ", 11) == 0);
    CHECK(untouched(refs, sizeof refs));
    CHECK(size_of(l) == at);
    CHECK(status_of(l, "780004", "jmsu.marketing", NULL).state == CONSENT_STATE_NEVER_ASKED);
    /* A rule broken because of an earlier event of the same call: a source id reused
     * with other content. */
    bad[2] = grant("780005", "jmsu.marketing", NULL, "jmsu.privacy");
    bad[0].source_id = "form-2";
    bad[2].source_id = "form-2";
    EXPECT(consent_append_many(l, bad, 3, NULL), CONSENT_RESULT_CONFLICT);
    CHECK(names_element("events", 2));
    /* A notice that does not cover the purpose; an unlisted recipient. */
    bad[2].source_id = NULL;
    bad[1] = grant("780005", "jmsu.data-sharing", "JMSU", "ljmu.wellbeing");
    EXPECT(consent_append_many(l, bad, 3, NULL), CONSENT_RESULT_INVALID_CONSENT);
    CHECK(names_element("events", 1));
    bad[1] = grant("780005", "wellbeing.share-external", "NHS", "ljmu.wellbeing");
    EXPECT(consent_append_many(l, bad, 3, NULL), CONSENT_RESULT_UNKNOWN_RECIPIENT);
    CHECK(names_element("events", 1) && strstr(last_message(), "student-finance-england, nhs, landlord"));
    CHECK(size_of(l) == at);
    /* The same events, mended, land together. */
    bad[1] = grant("780005", "wellbeing.share-external", "nhs", "ljmu.wellbeing");
    EXPECT_OK(consent_append_many(l, bad, 3, refs));
    CHECK(refs[2].seq == at + 2 && size_of(l) == at + 3);
    CHECK(consent_last_error_index() == CONSENT_INDEX_NONE);

    /* Bad input: each names its element and changes nothing. */
    at = size_of(l);
    consent_event_params in[3] = {
        grant("780006", "jmsu.marketing", NULL, "jmsu.privacy"),
        grant("780007", "jmsu.marketing", NULL, "jmsu.privacy"),
        grant("780008", "jmsu.marketing", NULL, "jmsu.privacy"),
    };
    in[1].subject = NULL;
    EXPECT(consent_append_many(l, in, 3, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(names_element("events", 1) && strstr(last_message(), "`events[1].subject`"));
    in[1].subject = "780007";
    in[2].purpose = "jmsu.\xff\xfe";
    EXPECT(consent_append_many(l, in, 3, NULL), CONSENT_RESULT_INVALID_UTF8);
    CHECK(names_element("events", 2) && strstr(last_message(), "`events[2].purpose`"));
    in[2].purpose = "jmsu.marketing";
    in[0].kind = 99;
    EXPECT(consent_append_many(l, in, 3, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(names_element("events", 0) && strstr(last_message(), "`events[0].kind`"));
    in[0].kind = CONSENT_EVENT_KIND_GIVEN;
    in[1].effective_at_ms = CONSENT_TIME_MAX + 1;
    EXPECT(consent_append_many(l, in, 3, NULL), CONSENT_RESULT_INVALID_TIME);
    CHECK(names_element("events", 1) && strstr(last_message(), "`events[1].effective_at_ms`"));
    in[1].effective_at_ms = CONSENT_TIME_ABSENT;
    in[2].notice_version = NULL;
    EXPECT(consent_append_many(l, in, 3, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(names_element("events", 2) && strstr(last_message(), "`events[2].notice_id`"));
    in[2].notice_version = "1";
    in[0].subject = " 780006"; /* not in its one spelling: refused by the core */
    EXPECT(consent_append_many(l, in, 3, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(names_element("events", 0));
    in[0].subject = "780006";
    /* Arrays: NULL with elements, a length no array can have, NULL handles. */
    EXPECT(consent_append_many(l, NULL, 2, refs), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(consent_last_error_index() == CONSENT_INDEX_NONE && strstr(last_message(), "`events`"));
    EXPECT(consent_append_many(l, NULL, SIZE_MAX, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_append_many(l, in, SIZE_MAX, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(last_message(), "not the length of an array") != NULL);
    EXPECT(consent_append_many(l, in, SIZE_MAX / 2, refs), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_append_many(NULL, in, 3, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(size_of(l) == at);
    /* n = 0 does nothing, whatever the arrays. */
    EXPECT_OK(consent_append_many(l, NULL, 0, NULL));
    EXPECT_OK(consent_append_many(l, in, 0, refs));
    CHECK(size_of(l) == at);
    EXPECT_OK(consent_append_many(l, in, 3, NULL));
    CHECK(size_of(l) == at + 3);

    /* Inside a batch: as consent_batch_append one event after another. */
    consent_batch *b = NULL;
    EXPECT_OK(consent_batch_begin(l, &b));
    consent_event_params more[3] = {
        event_of(CONSENT_EVENT_KIND_WITHDRAWN, "780006", "jmsu.marketing"),
        event_of(CONSENT_EVENT_KIND_WITHDRAWN, "780007", "jmsu.marketing"),
        event_of(CONSENT_EVENT_KIND_WITHDRAWN, "780008", "jmsu.marketing"),
    };
    memset(refs, UNTOUCHED, sizeof refs);
    EXPECT_OK(consent_batch_append_many(b, more, 2, refs));
    CHECK(refs[0].seq == at + 3 && refs[1].seq == at + 4 && untouched(&refs[2], 2 * sizeof refs[0]));
    /* This thread holds the batch: the ledger's own call is refused, naming no element. */
    EXPECT(consent_append_many(l, more, 3, NULL), CONSENT_RESULT_BATCH);
    CHECK(consent_last_error_index() == CONSENT_INDEX_NONE);
    /* A refused event stops the call; the ones before it stay in the batch. */
    more[0].subject = "780009";
    more[1].purpose = "no.such.purpose";
    EXPECT(consent_batch_append_many(b, more, 3, refs), CONSENT_RESULT_UNKNOWN_PURPOSE);
    CHECK(names_element("events", 1));
    more[1].purpose = "jmsu.marketing";
    more[2].subject = NULL;
    EXPECT(consent_batch_append_many(b, &more[1], 2, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(names_element("events", 1) && strstr(last_message(), "`events[1].subject`"));
    EXPECT(consent_batch_append_many(b, NULL, 1, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_batch_append_many(b, more, SIZE_MAX, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_batch_append_many(NULL, more, 1, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT_OK(consent_batch_append_many(b, NULL, 0, NULL));
    consent_head head;
    EXPECT_OK(consent_batch_get_head(b, &head));
    CHECK(head.size == at + 3 + 2 + 1 + 1); /* two, then 780009 before the refused one, then 780007 */
    EXPECT_OK(consent_batch_commit(b));
    EXPECT(consent_batch_append_many(b, more, 1, NULL), CONSENT_RESULT_BATCH);
    consent_batch_free(b);
    CHECK(size_of(l) == at + 7);
    CHECK(status_of(l, "780006", "jmsu.marketing", NULL).state == CONSENT_STATE_WITHDRAWN);
    CHECK(status_of(l, "780008", "jmsu.marketing", NULL).state == CONSENT_STATE_GIVEN);

    consent_verify_report rep;
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok);
    consent_ledger_free(l);
}

static void status_many(void) {
    consent_ledger *l = simulation(NULL);
    EXPECT_OK(consent_registry_load(l, CONSENT_EXAMPLES_DIR "/ljmu/registry.toml", NULL, NULL));
    consent_event_params ev[3] = {
        grant("790001", "jmsu.marketing", NULL, "jmsu.privacy"),
        grant("790002", "wellbeing.share-external", "nhs", "ljmu.wellbeing"),
        event_of(CONSENT_EVENT_KIND_OBJECTED, "790003", "engagement.monitoring"),
    };
    consent_event_ref refs[3];
    EXPECT_OK(consent_append_many(l, ev, 3, refs));
    EXPECT_OK(consent_withdraw(l, "790001", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL));

    consent_question qs[6] = {
        {"790001", "jmsu.marketing", NULL},
        {"790002", "wellbeing.share-external", "nhs"},
        {"790002", "wellbeing.share-external", "landlord"},
        {"790003", "engagement.monitoring", NULL},
        {"790004", "jmsu.marketing", NULL},
        {"790004", "engagement.monitoring", NULL},
    };
    const consent_state want[6] = {CONSENT_STATE_WITHDRAWN, CONSENT_STATE_GIVEN, CONSENT_STATE_NEVER_ASKED,
                                   CONSENT_STATE_OBJECTED, CONSENT_STATE_NEVER_ASKED,
                                   CONSENT_STATE_NOT_CONSENT_BASED};
    consent_status answers[6];
    memset(answers, UNTOUCHED, sizeof answers);
    EXPECT_OK(consent_status_get_many(l, qs, 6, answers));
    CHECK(consent_last_error_index() == CONSENT_INDEX_NONE);
    for (int i = 0; i < 6; i++) {
        /* Each answer is what consent_status_get says. */
        consent_status one = status_of(l, qs[i].subject, qs[i].purpose, qs[i].recipient);
        CHECK(answers[i].state == want[i] && answers[i].state == one.state);
        CHECK(answers[i].permits == one.permits && answers[i].event_seq == one.event_seq);
        CHECK(answers[i].has_event == one.has_event && strcmp(answers[i].event_id, one.event_id) == 0);
        CHECK(answers[i].at_ms == t11 && answers[i].since_ms == one.since_ms);
    }
    CHECK(answers[1].permits && strcmp(answers[1].event_id, refs[1].id) == 0 && answers[1].has_notice);
    CHECK(answers[5].permits && answers[5].lawful_basis == 'f' && !answers[3].permits);

    /* The first invalid question fails the call, named; `out` is left as it was. */
    consent_question bad[4] = {
        {"790001", "jmsu.marketing", NULL},
        {"790002", "wellbeing.share-external", "nhs"},
        {"790002", "no.such.purpose", NULL},
        {"790002", "wellbeing.share-external", "NHS"},
    };
    memset(answers, UNTOUCHED, sizeof answers);
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_UNKNOWN_PURPOSE);
    CHECK(names_element("questions", 2) && strncmp(last_message(), "questions[2]: ", 14) == 0);
    EXPECT(consent_status_get_many(l, &bad[1], 3, answers), CONSENT_RESULT_UNKNOWN_PURPOSE);
    CHECK(names_element("questions", 1));
    EXPECT(consent_status_get_many(l, &bad[3], 1, answers), CONSENT_RESULT_UNKNOWN_RECIPIENT);
    CHECK(names_element("questions", 0) && strstr(last_message(), "student-finance-england, nhs, landlord"));
    bad[3].recipient = NULL; /* the feed trap: a purpose that lists recipients needs one */
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_UNKNOWN_PURPOSE);
    bad[2].purpose = "jmsu.marketing";
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_UNKNOWN_RECIPIENT);
    CHECK(names_element("questions", 3));
    bad[3].recipient = "nhs";
    bad[1].subject = NULL;
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(names_element("questions", 1) && strstr(last_message(), "`questions[1].subject`"));
    bad[1].subject = "790002";
    bad[2].purpose = NULL;
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(names_element("questions", 2) && strstr(last_message(), "`questions[2].purpose`"));
    bad[2].purpose = "jmsu.marketing";
    bad[0].subject = "79\xff\xfe";
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_INVALID_UTF8);
    CHECK(names_element("questions", 0) && strstr(last_message(), "`questions[0].subject`"));
    bad[0].subject = "790001";
    bad[3].recipient = "\xc3";
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_INVALID_UTF8);
    CHECK(names_element("questions", 3) && strstr(last_message(), "`questions[3].recipient`"));
    bad[3].recipient = "nhs";
    bad[1].subject = "790002 "; /* not in its one spelling */
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(names_element("questions", 1));
    bad[1].subject = "790002";
    CHECK(untouched(answers, sizeof answers));
    /* Arrays: NULL with elements, a length no array can have, NULL handles. */
    EXPECT(consent_status_get_many(l, NULL, 4, answers), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(consent_last_error_index() == CONSENT_INDEX_NONE && strstr(last_message(), "`questions`"));
    EXPECT(consent_status_get_many(l, bad, 4, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(strstr(last_message(), "`out`") != NULL);
    EXPECT(consent_status_get_many(l, NULL, SIZE_MAX, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_status_get_many(l, bad, SIZE_MAX, answers), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_status_get_many(l, bad, SIZE_MAX / 2 / sizeof bad[0], answers), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(last_message(), "`out`") != NULL); /* fits as questions, not as answers */
    EXPECT(consent_status_get_many(NULL, bad, 4, answers), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(untouched(answers, sizeof answers));
    /* n = 0 does nothing. */
    EXPECT_OK(consent_status_get_many(l, NULL, 0, NULL));
    EXPECT_OK(consent_status_get_many(l, bad, 0, answers));
    CHECK(untouched(answers, sizeof answers));
    EXPECT_OK(consent_status_get_many(l, bad, 4, answers));
    CHECK(answers[0].state == CONSENT_STATE_WITHDRAWN && answers[3].state == CONSENT_STATE_GIVEN);

    /* In a batch, the ledger's answers wait for it: this thread's call is refused. */
    consent_batch *b = NULL;
    EXPECT_OK(consent_batch_begin(l, &b));
    EXPECT(consent_status_get_many(l, bad, 4, answers), CONSENT_RESULT_BATCH);
    CHECK(consent_last_error_index() == CONSENT_INDEX_NONE);
    consent_batch_free(b);
    consent_ledger_free(l);
}

/* ---- issue 16: registrations say whether they were new --------------------------- */

/* The head's size inside the batch `b` (the ledger's own head waits for the batch). */
static uint64_t batch_size_of(consent_batch *b) {
    consent_head h;
    EXPECT_OK(consent_batch_get_head(b, &h));
    return h.size;
}

/* Every registration writes `*out_is_new`, decided inside its own transaction: true
 * when it appended its event, false when the same definition was already current (and
 * nothing was appended, so the log keeps its size). A changed definition is new; in a
 * batch, what the batch itself registered counts; a rolled-back registration is new
 * again. On an error `*out_is_new` is left as it was; NULL means not wanted. */
static void registrations_say_if_new(void) {
    consent_ledger *l = simulation(NULL);
    const char *purpose = "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\","
                          "\"lawful_basis\":\"a\"}";
    const char *changed = "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing 2024\",\"controller\":\"JMSU\","
                          "\"lawful_basis\":\"a\"}";
    const char *notice = "{\"id\":\"jmsu.privacy\",\"version\":\"1\",\"title\":\"JMSU privacy\","
                         "\"controller\":\"JMSU\",\"purposes\":[\"jmsu.marketing\"],"
                         "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000001\"}";
    const char *downstream = "{\"id\":\"jmsu.mailer\",\"name\":\"Mailer\",\"controller\":\"JMSU\","
                             "\"purposes\":[\"jmsu.marketing\"]}";
    const char *const marketing[] = {"jmsu.marketing"};
    bool is_new = false;
    uint32_t version = 0;
    uint64_t size = size_of(l);

    /* A purpose: first new, the same again not new (and nothing appended), changed new. */
    EXPECT_OK(consent_register_purpose_json(l, purpose, &version, &is_new));
    CHECK(is_new && version == 1 && size_of(l) == ++size);
    is_new = true;
    EXPECT_OK(consent_register_purpose_json(l, purpose, &version, &is_new));
    CHECK(!is_new && version == 1 && size_of(l) == size);
    EXPECT_OK(consent_register_purpose_json(l, changed, &version, &is_new));
    CHECK(is_new && version == 2 && size_of(l) == ++size);
    EXPECT_OK(consent_register_purpose_json(l, changed, &version, NULL)); /* not wanted */
    CHECK(version == 2 && size_of(l) == size);

    /* A notice from its JSON, then one from its text. */
    EXPECT_OK(consent_register_notice_json(l, notice, &is_new));
    CHECK(is_new && size_of(l) == ++size);
    is_new = true;
    EXPECT_OK(consent_register_notice_json(l, notice, &is_new));
    CHECK(!is_new && size_of(l) == size);
    EXPECT_OK(consent_register_notice_json(l, notice, NULL));
    EXPECT_OK(consent_register_notice_text(l, "jmsu.marketing-notice", "1", "Marketing", "We email offers.", "JMSU",
                                           marketing, 1, &is_new));
    CHECK(is_new && size_of(l) == ++size);
    is_new = true;
    EXPECT_OK(consent_register_notice_text(l, "jmsu.marketing-notice", "1", "Marketing", "We email offers.", "JMSU",
                                           marketing, 1, &is_new));
    CHECK(!is_new && size_of(l) == size);
    EXPECT_OK(consent_register_notice_text(l, "jmsu.marketing-notice", "2", "Marketing", "We email offers weekly.",
                                           "JMSU", marketing, 1, &is_new));
    CHECK(is_new && size_of(l) == ++size);
    EXPECT_OK(consent_register_notice_text(l, "jmsu.marketing-notice", "2", "Marketing", "We email offers weekly.",
                                           "JMSU", marketing, 1, NULL));
    CHECK(size_of(l) == size);

    /* A refused registration leaves `*out_is_new` as it was. */
    memset(&is_new, UNTOUCHED, sizeof is_new);
    EXPECT(consent_register_notice_text(l, "jmsu.marketing-notice", "1", "Marketing", "Another text.", "JMSU",
                                        marketing, 1, &is_new),
           CONSENT_RESULT_CONFLICT);
    CHECK(untouched(&is_new, sizeof is_new));
    EXPECT(consent_register_purpose_json(l, "{", &version, &is_new), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_notice_json(l, "{}", &is_new), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_downstream_json(l, "{\"id\":\"x\"}", "staff:dpo-01", NULL, &is_new),
           CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(untouched(&is_new, sizeof is_new) && size_of(l) == size);

    /* A downstream: first new, the same again not new, renamed new. */
    char *json = NULL;
    EXPECT_OK(consent_register_downstream_json(l, downstream, "staff:dpo-01", &json, &is_new));
    CHECK(is_new && json && strstr(json, "\"jmsu.mailer\"") && size_of(l) == ++size);
    consent_string_free(json);
    is_new = true;
    EXPECT_OK(consent_register_downstream_json(l, downstream, "staff:dpo-01", NULL, &is_new));
    CHECK(!is_new && size_of(l) == size);
    EXPECT_OK(consent_register_downstream_json(l,
        "{\"id\":\"jmsu.mailer\",\"name\":\"JMSU mailer\",\"controller\":\"JMSU\",\"purposes\":[\"jmsu.marketing\"]}",
        "staff:dpo-01", NULL, &is_new));
    CHECK(is_new && size_of(l) == ++size);
    EXPECT_OK(consent_register_downstream_json(l, downstream, "staff:dpo-01", NULL, NULL)); /* back: new */
    CHECK(size_of(l) == ++size);

    /* In a batch: what is already current is not new; what the batch registered is
     * current for the rest of the batch. */
    consent_batch *b = NULL;
    EXPECT_OK(consent_batch_begin(l, &b));
    is_new = true;
    EXPECT_OK(consent_batch_register_purpose_json(b, changed, &version, &is_new));
    CHECK(!is_new && version == 2 && batch_size_of(b) == size);
    EXPECT_OK(consent_batch_register_purpose_json(b, purpose, &version, &is_new));
    CHECK(is_new && version == 3 && batch_size_of(b) == size + 1);
    is_new = true;
    EXPECT_OK(consent_batch_register_purpose_json(b, purpose, &version, &is_new));
    CHECK(!is_new && version == 3 && batch_size_of(b) == size + 1);
    is_new = true;
    EXPECT_OK(consent_batch_register_notice_json(b, notice, &is_new));
    CHECK(!is_new);
    EXPECT_OK(consent_batch_register_notice_text(b, "jmsu.marketing-notice", "3", "Marketing", "Offers, monthly.",
                                                 "JMSU", marketing, 1, &is_new));
    CHECK(is_new && batch_size_of(b) == size + 2);
    is_new = true;
    EXPECT_OK(consent_batch_register_notice_text(b, "jmsu.marketing-notice", "3", "Marketing", "Offers, monthly.",
                                                 "JMSU", marketing, 1, &is_new));
    CHECK(!is_new && batch_size_of(b) == size + 2);
    EXPECT_OK(consent_batch_register_notice_json(b, notice, NULL));
    EXPECT_OK(consent_batch_register_notice_text(b, "jmsu.marketing-notice", "3", "Marketing", "Offers, monthly.",
                                                 "JMSU", marketing, 1, NULL));
    EXPECT_OK(consent_batch_register_purpose_json(b, purpose, NULL, NULL));
    memset(&is_new, UNTOUCHED, sizeof is_new);
    EXPECT(consent_batch_register_notice_text(b, "jmsu.marketing-notice", "3", "Marketing", "Another text.", "JMSU",
                                              marketing, 1, &is_new),
           CONSENT_RESULT_CONFLICT);
    CHECK(untouched(&is_new, sizeof is_new));
    EXPECT_OK(consent_batch_commit(b));
    consent_batch_free(b);
    size += 2;
    CHECK(size_of(l) == size);

    /* A registration rolled back never happened: the same call is new again. */
    EXPECT_OK(consent_batch_begin(l, &b));
    EXPECT_OK(consent_batch_register_purpose_json(b, changed, &version, &is_new));
    CHECK(is_new && version == 4);
    EXPECT_OK(consent_batch_rollback(b));
    consent_batch_free(b);
    CHECK(size_of(l) == size);
    EXPECT_OK(consent_register_purpose_json(l, changed, &version, &is_new));
    CHECK(is_new && version == 4 && size_of(l) == ++size);
    consent_ledger_free(l);
}

/* ---- copies between backends ----------------------------------------------------- */

/* `l` copied as stored into a new ledger: a file (from memory on SQLite), and on
 * PostgreSQL also a new schema. The copy has the source's head and verifies, opened
 * without a key (the copy's key is the source's, kept elsewhere); a destination that
 * already holds a ledger is refused and left as it was. */
static void copies(consent_ledger *l) {
    consent_head head;
    EXPECT_OK(consent_get_head(l, &head));
    char file[600];
    snprintf(file, sizeof file, "%s", test_ledger_location("copy"));
    const char *dests[2] = {file, NULL};
    if (test_on_postgres()) {
        dests[1] = dests[0]; /* a new schema, then a file */
        snprintf(file, sizeof file, "%s/copy-of-a-schema.db", test_folder(1));
        dests[0] = test_ledger_location("copy");
    }
    for (int i = 0; i < 2 && dests[i] != NULL; i++) {
        consent_head copied;
        memset(&copied, UNTOUCHED, sizeof copied);
        EXPECT_OK(consent_ledger_copy_to(l, dests[i], NULL, &copied));
        CHECK(copied.size == head.size && memcmp(copied.root, head.root, 32) == 0);
        consent_options o;
        EXPECT_OK(consent_options_init(&o));
        o.read_only = true;
        o.create = false;
        o.pseudonym_key_source = CONSENT_KEY_SOURCE_NONE;
        o.clock = clock_fn; /* a simulation, as its source */
        o.clock_context = &now_ms;
        consent_ledger *copy = NULL;
        EXPECT_OK(consent_ledger_open(dests[i], &o, &copy));
        consent_verify_report rep;
        EXPECT_OK(consent_verify(copy, &rep));
        CHECK(rep.ok && rep.size == head.size && rep.has_head && memcmp(rep.head.root, head.root, 32) == 0);
        CHECK(rep.simulated);
        consent_ledger_free(copy);
        memset(&copied, UNTOUCHED, sizeof copied);
        EXPECT(consent_ledger_copy_to(l, dests[i], NULL, &copied), CONSENT_RESULT_CONFLICT);
        CHECK(untouched(&copied, sizeof copied));
    }
    EXPECT_OK(consent_ledger_copy_to(l, test_ledger_location("copy"), NULL, NULL)); /* no head wanted */
}

int main(void) {
    CHECK(strncmp(consent_version(), "0.", 2) == 0 || CONSENT_VERSION_MAJOR > 0);

    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    CHECK(o.create && !o.read_only && o.busy_timeout_ms == 30000 && o.clock == NULL);
    CHECK(o.pseudonym_key_source == CONSENT_KEY_SOURCE_BESIDE && o.pseudonym_key_path == NULL);
    CHECK(o.erasure_wait_ms == 2000);
    o.clock = clock_fn;
    o.clock_context = &now_ms;
    consent_ledger *l = NULL;
    EXPECT_OK(test_ledger_new(&o, &l));
    bool simulated = false;
    EXPECT_OK(consent_ledger_is_simulated(l, &simulated));
    CHECK(simulated); /* created with a clock */
    CHECK(size_of(l) == 1); /* its ledger_configured event */
    char *json = NULL;
    EXPECT_OK(consent_changes_since_json(l, 0, 10, &json));
    CHECK(json && strstr(json, "\"ledger_configured\"") && strstr(json, "\"seq\":0"));
    consent_string_free(json);

    /* ---- registry ---- */
    uint32_t version = 0;
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"wellbeing.share-external\",\"title\":\"Sharing with external bodies\",\"controller\":\"LJMU\","
        "\"lawful_basis\":\"a\",\"recipients\":[\"NHS\",\"SFE\"]}", &version, NULL));
    CHECK(version == 1);
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"wellbeing.share-external\",\"title\":\"Sharing with external bodies\",\"controller\":\"LJMU\","
        "\"lawful_basis\":\"a\",\"recipients\":[\"NHS\",\"SFE\"]}", &version, NULL));
    CHECK(version == 1); /* unchanged: nothing appended */
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"engagement\",\"title\":\"My Engagement\",\"controller\":\"LJMU\",\"lawful_basis\":\"f\"}", NULL, NULL));
    EXPECT_OK(consent_register_notice_json(l,
        "{\"id\":\"ljmu.wellbeing\",\"version\":\"2024-09\",\"title\":\"Wellbeing notice\","
        "\"controller\":\"LJMU\",\"purposes\":[\"wellbeing.share-external\"],"
        "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000001\"}", NULL));
    EXPECT(consent_register_notice_json(l,
        "{\"id\":\"ljmu.wellbeing\",\"version\":\"2024-09\",\"title\":\"Wellbeing notice\","
        "\"controller\":\"LJMU\",\"purposes\":[\"wellbeing.share-external\"],"
        "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000002\"}", NULL),
        CONSENT_RESULT_CONFLICT);
    EXPECT_OK(consent_purposes_json(l, &json));
    CHECK(json && strstr(json, "\"engagement\"") && strstr(json, "\"NHS\""));
    consent_string_free(json);
    EXPECT_OK(consent_purpose_json(l, "engagement", 0, &json));
    CHECK(json && strstr(json, "\"lawful_basis\":\"f\""));
    consent_string_free(json);
    EXPECT_OK(consent_notices_json(l, &json));
    CHECK(json && strstr(json, "ljmu.wellbeing") && strstr(json, "\"purposes\":[\"wellbeing.share-external\"]"));
    consent_string_free(json);
    CHECK(size_of(l) == 4);

    /* ---- appends with a recipient, idempotency, invalidation ---- */
    consent_event_params p;
    consent_event_ref nhs, again;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "s-1";
    p.purpose = "wellbeing.share-external";
    p.recipient = "NHS";
    p.notice_id = "ljmu.wellbeing";
    p.notice_version = "2024-09";
    p.method = CONSENT_METHOD_IN_PERSON;
    p.recorded_by = "staff:adviser-7";
    p.source_id = "appointment-91";
    p.expires_at_ms = now_ms + 30 * DAY;
    EXPECT_OK(consent_append(l, &p, &nhs));
    CHECK(strlen(nhs.id) == 36 && nhs.seq == 4);
    CHECK(nhs.effective_at_ms == now_ms && nhs.recorded_at_ms == now_ms && nhs.expires_at_ms == now_ms + 30 * DAY);
    CHECK(nhs.effect_deadline_ms == CONSENT_TIME_ABSENT);
    EXPECT_OK(consent_append(l, &p, &again));
    CHECK(again.seq == nhs.seq && strcmp(again.id, nhs.id) == 0);
    p.method = CONSENT_METHOD_EMAIL;
    EXPECT(consent_append(l, &p, &again), CONSENT_RESULT_CONFLICT);
    p.source_id = NULL;
    p.recipient = "a landlord";
    EXPECT(consent_append(l, &p, &again), CONSENT_RESULT_UNKNOWN_RECIPIENT);
    CHECK(strstr(last_message(), "NHS, SFE") != NULL); /* the message lists the valid ids */
    expect_state(l, "s-1", "wellbeing.share-external", "NHS", CONSENT_STATE_GIVEN);
    expect_state(l, "s-1", "wellbeing.share-external", "SFE", CONSENT_STATE_NEVER_ASKED);

    consent_status st;
    EXPECT_OK(consent_status_get(l, "s-1", "wellbeing.share-external", "NHS", &st));
    CHECK(st.permits && st.lawful_basis == 'a' && st.purpose_version == 1 && st.has_event);
    CHECK(strcmp(st.event_id, nhs.id) == 0 && st.event_seq == nhs.seq);
    CHECK(st.until_ms == now_ms + 30 * DAY && st.has_notice && st.notice_sha256[31] == 1);
    CHECK(st.granted_under_version == 1);
    EXPECT_OK(consent_status_get_json(l, "s-1", "wellbeing.share-external", "NHS", CONSENT_TIME_ABSENT,
                                      CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"state\":\"given\"") && strstr(json, "\"version\":\"2024-09\""));
    consent_string_free(json);
    EXPECT_OK(consent_status_get_at(l, "s-1", "wellbeing.share-external", "NHS", now_ms + 31 * DAY,
                                    CONSENT_TIME_ABSENT, &st));
    CHECK(st.state == CONSENT_STATE_EXPIRED && !st.permits);

    EXPECT_OK(consent_append_json(l, &(consent_event_params){
        CONSENT_EVENT_KIND_NOTICE_SERVED, "s-2", "wellbeing.share-external", NULL, "ljmu.wellbeing", "2024-09",
        false, CONSENT_METHOD_PORTAL, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL,
        "{\"page\":\"consent-form\"}", NULL, CONSENT_TIME_ABSENT}, &json));
    CHECK(json && strstr(json, "\"notice_served\"") && strstr(json, "consent-form"));
    consent_string_free(json);

    now_ms += DAY;
    consent_event_ref inv;
    EXPECT_OK(consent_invalidate(l, "s-1", "wellbeing.share-external", nhs.id, "staff:dpo", &inv));
    expect_state(l, "s-1", "wellbeing.share-external", "NHS", CONSENT_STATE_INVALIDATED);
    EXPECT_OK(consent_event_json(l, inv.id, &json));
    CHECK(json && strstr(json, nhs.id) && strstr(json, "staff:dpo"));
    consent_string_free(json);

    /* ---- refuse, withdraw, revoke, object ---- */
    /* Without a recipient, an event covers every recipient the purpose lists; a
     * question about it names one of them. */
    /* A notice shown, no answer yet: no consent; a notice this ledger does not hold
     * is refused (one that does not cover the purpose too: the Rust and CLI tests). */
    consent_event_ref served;
    EXPECT_OK(consent_serve_notice(l, "s-3", "wellbeing.share-external", NULL, "ljmu.wellbeing", "2024-09",
                                   CONSENT_METHOD_PORTAL, NULL, CONSENT_TIME_ABSENT, &served));
    EXPECT_OK(consent_event_json(l, served.id, &json));
    CHECK(json && strstr(json, "\"kind\":\"notice_served\""));
    consent_string_free(json);
    EXPECT(consent_serve_notice(l, "s-3", "wellbeing.share-external", NULL, "jmsu.privacy", "1",
                                CONSENT_METHOD_PORTAL, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_UNKNOWN_NOTICE);
    EXPECT(consent_serve_notice(l, "s-3", NULL, NULL, "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL, NULL, CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT_OK(consent_refuse(l, "s-3", "wellbeing.share-external", NULL, CONSENT_METHOD_PHONE, NULL, CONSENT_TIME_ABSENT, NULL));
    expect_state(l, "s-3", "wellbeing.share-external", "NHS", CONSENT_STATE_REFUSED);
    EXPECT_OK(consent_withdraw(l, "s-4", "wellbeing.share-external", NULL, NULL, CONSENT_TIME_ABSENT, NULL)); /* nothing to withdraw: recorded */
    expect_state(l, "s-4", "wellbeing.share-external", "SFE", CONSENT_STATE_WITHDRAWN);
    EXPECT_OK(consent_give(l, "s-5", "wellbeing.share-external", NULL, "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL,
                           false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    expect_state(l, "s-5", "wellbeing.share-external", "SFE", CONSENT_STATE_GIVEN);
    EXPECT_OK(consent_revoke(l, "s-5", "wellbeing.share-external", NULL, "system:sis", CONSENT_TIME_ABSENT, NULL));
    expect_state(l, "s-5", "wellbeing.share-external", "NHS", CONSENT_STATE_REVOKED);
    expect_state(l, "s-6", "engagement", NULL, CONSENT_STATE_NOT_CONSENT_BASED);
    EXPECT(consent_give(l, "s-6", "engagement", NULL, "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                        NULL),
           CONSENT_RESULT_INVALID_CONSENT);
    EXPECT_OK(consent_object(l, "s-6", "engagement", NULL, NULL, CONSENT_TIME_ABSENT, NULL));
    expect_state(l, "s-6", "engagement", NULL, CONSENT_STATE_OBJECTED);

    /* ---- consenting, history, change feed, export ---- */
    EXPECT_OK(consent_give(l, "s-7", "wellbeing.share-external", NULL, "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL,
                           false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    EXPECT(consent_consenting_json(l, "wellbeing.share-external", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                                   &json),
           CONSENT_RESULT_UNKNOWN_RECIPIENT); /* the feed trap: ask about a recipient */
    EXPECT_OK(consent_consenting_json(l, "wellbeing.share-external", "SFE", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                                      &json));
    CHECK(json && strstr(json, "\"s-7\"") && !strstr(json, "\"s-5\""));
    consent_string_free(json);
    EXPECT_OK(consent_consenting_json(l, "wellbeing.share-external", "NHS", now_ms - DAY, CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"subjects\":[]")); /* s-1's NHS grant was invalidated, retroactively */
    consent_string_free(json);
    EXPECT_OK(consent_history_json(l, "s-1", &json));
    CHECK(json && strstr(json, "\"invalidated\"") && strstr(json, "appointment-91"));
    consent_string_free(json);
    EXPECT_OK(consent_changes_since_json(l, 0, 2, &json));
    CHECK(json && strstr(json, "\"ledger_configured\"") && strstr(json, "\"purpose_defined\"") &&
          !strstr(json, "\"notice_defined\""));
    consent_string_free(json);
    EXPECT_OK(consent_changes_since_json(l, 1000, 10, &json));
    CHECK(json && strcmp(json, "[]") == 0);
    consent_string_free(json);
    EXPECT_OK(consent_export_subject_json(l, "s-1", &json));
    CHECK(json && strstr(json, "consent-ledger/subject-export/v1") && strstr(json, "\"statuses\""));
    consent_string_free(json);

    /* ---- heads, verification, proofs ---- */
    consent_head old_head, head, parsed, new_head;
    EXPECT_OK(consent_get_head(l, &old_head));
    char text[CONSENT_HEAD_STRING_LEN];
    EXPECT_OK(consent_head_to_string(&old_head, text, sizeof text));
    EXPECT_OK(consent_head_parse(text, &parsed));
    CHECK(parsed.size == old_head.size && memcmp(parsed.root, old_head.root, 32) == 0);

    EXPECT_OK(consent_withdraw(l, "s-7", "wellbeing.share-external", NULL, NULL, CONSENT_TIME_ABSENT, NULL));
    EXPECT_OK(consent_get_head(l, &head));
    CHECK(head.size == old_head.size + 1);
    consent_verify_report rep;
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.size == head.size && rep.has_head && !rep.has_first_bad_seq && rep.problem[0] == '\0');
    CHECK(rep.simulated);
    CHECK(memcmp(rep.head.root, head.root, 32) == 0);
    EXPECT_OK(consent_verify_against(l, &old_head, &rep));
    CHECK(rep.ok);
    consent_head future = head;
    future.size += 5;
    EXPECT_OK(consent_verify_against(l, &future, &rep));
    CHECK(!rep.ok && rep.has_first_bad_seq && rep.first_bad_seq == head.size && strstr(rep.problem, "truncated"));
    consent_head forged = old_head;
    forged.root[0] ^= 1;
    EXPECT_OK(consent_verify_against(l, &forged, &rep));
    CHECK(!rep.ok && !rep.has_first_bad_seq && rep.problem[0] != '\0');

    /* An inclusion proof is checked against the event's canonical bytes: it is bound to
     * its event, so event B's proof offered for event A is rejected. */
    uint8_t *nhs_bytes = NULL, *inv_bytes = NULL;
    size_t nhs_len = 0, inv_len = 0;
    EXPECT_OK(consent_event_canonical(l, nhs.id, &nhs_bytes, &nhs_len));
    EXPECT_OK(consent_event_canonical(l, inv.id, &inv_bytes, &inv_len));
    CHECK(nhs_bytes && inv_bytes && nhs_len > 0 && inv_len > 0);
    CHECK(nhs_len != inv_len || memcmp(nhs_bytes, inv_bytes, nhs_len) != 0);
    EXPECT_OK(consent_prove_inclusion_json(l, nhs.id, CONSENT_SIZE_CURRENT, &json));
    CHECK(json && strstr(json, "\"leaf_index\":4"));
    EXPECT_OK(consent_check_inclusion_proof(json, nhs_bytes, nhs_len, &head));
    EXPECT(consent_check_inclusion_proof(json, nhs_bytes, nhs_len, &old_head),
           CONSENT_RESULT_INVALID_ARGUMENT); /* other size */
    consent_head wrong = head;
    wrong.root[5] ^= 0x80;
    EXPECT(consent_check_inclusion_proof(json, nhs_bytes, nhs_len, &wrong), CONSENT_RESULT_PROOF_REJECTED);
    EXPECT(consent_check_inclusion_proof(json, inv_bytes, inv_len, &head), CONSENT_RESULT_PROOF_REJECTED);
    consent_string_free(json);
    EXPECT_OK(consent_prove_inclusion_json(l, inv.id, CONSENT_SIZE_CURRENT, &json));
    EXPECT_OK(consent_check_inclusion_proof(json, inv_bytes, inv_len, &head));
    EXPECT(consent_check_inclusion_proof(json, nhs_bytes, nhs_len, &head), CONSENT_RESULT_PROOF_REJECTED);
    /* One flipped byte of the event: its bytes no longer hash to the proof's leaf. */
    inv_bytes[inv_len - 1] ^= 1;
    consent_result flipped = consent_check_inclusion_proof(json, inv_bytes, inv_len, &head);
    CHECK(flipped == CONSENT_RESULT_PROOF_REJECTED || flipped == CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_check_inclusion_proof(json, (const uint8_t *)"", 0, &head), CONSENT_RESULT_INVALID_ARGUMENT);
    consent_string_free(json);
    consent_bytes_free(nhs_bytes, nhs_len);
    consent_bytes_free(inv_bytes, inv_len);
    consent_bytes_free(NULL, 0);
    EXPECT(consent_prove_inclusion_json(l, "00000000-0000-0000-0000-000000000000", CONSENT_SIZE_CURRENT, &json),
           CONSENT_RESULT_NOT_FOUND);
    EXPECT(consent_event_canonical(l, "00000000-0000-0000-0000-000000000000", &nhs_bytes, &nhs_len),
           CONSENT_RESULT_NOT_FOUND);

    json = NULL;
    EXPECT_OK(consent_prove_consistency_json(l, &old_head, CONSENT_SIZE_CURRENT, &json, &new_head));
    CHECK(new_head.size == head.size && memcmp(new_head.root, head.root, 32) == 0);
    EXPECT_OK(consent_check_consistency_proof(json, &old_head, &head));
    EXPECT(consent_check_consistency_proof(json, &forged, &head), CONSENT_RESULT_PROOF_REJECTED);
    EXPECT(consent_check_consistency_proof("{\"old_size\":1}", &old_head, &head), CONSENT_RESULT_INVALID_ARGUMENT);
    consent_string_free(json);
    EXPECT(consent_prove_consistency_json(l, &forged, CONSENT_SIZE_CURRENT, &json, NULL), CONSENT_RESULT_CORRUPT);

    /* ---- batches ---- */
    uint64_t before = size_of(l);
    consent_batch *b = NULL;
    consent_event_params w;
    consent_event_ref in_batch;
    EXPECT_OK(consent_event_params_init(&w));
    w.kind = CONSENT_EVENT_KIND_WITHDRAWN;
    w.subject = "s-8";
    w.purpose = "wellbeing.share-external";
    EXPECT_OK(consent_batch_begin(l, &b));
    CHECK(b != NULL);
    EXPECT_OK(consent_batch_append(b, &w, &in_batch));
    CHECK(in_batch.seq == before);
    w.subject = "s-9";
    EXPECT_OK(consent_batch_append(b, &w, NULL));
    EXPECT_OK(consent_batch_get_head(b, &head));
    CHECK(head.size == before + 2);
    /* This thread holds the batch: calls on the ledger itself are refused, not deadlocked. */
    EXPECT(consent_withdraw(l, "s-10", "wellbeing.share-external", NULL, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_BATCH);
    EXPECT(consent_get_head(l, &head), CONSENT_RESULT_BATCH);
    consent_batch *second = NULL;
    EXPECT(consent_batch_begin(l, &second), CONSENT_RESULT_BATCH);
    CHECK(second == NULL);
    EXPECT_OK(consent_batch_rollback(b));
    CHECK(size_of(l) == before);
    /* An ended batch refuses everything but consent_batch_free. */
    EXPECT(consent_batch_rollback(b), CONSENT_RESULT_BATCH);
    EXPECT(consent_batch_commit(b), CONSENT_RESULT_BATCH);
    EXPECT(consent_batch_append(b, &w, NULL), CONSENT_RESULT_BATCH);
    EXPECT(consent_batch_get_head(b, &head), CONSENT_RESULT_BATCH);
    consent_batch_free(b);

    /* Registry and events in one batch; a failed append leaves the batch as it was. */
    EXPECT_OK(consent_batch_begin(l, &b));
    EXPECT_OK(consent_batch_register_purpose_json(b,
        "{\"id\":\"alumni.news\",\"title\":\"Alumni newsletter\",\"controller\":\"LJMU\",\"lawful_basis\":\"a\"}",
        &version, NULL));
    CHECK(version == 1);
    const char *const alumni[] = {"alumni.news"};
    EXPECT_OK(consent_batch_register_notice_text(b, "ljmu.alumni", "2024-09", "Alumni notice", "We will email you.",
                                                 "LJMU", alumni, 1, NULL));
    EXPECT(consent_batch_register_notice_json(b,
        "{\"id\":\"ljmu.wellbeing\",\"version\":\"2024-09\",\"title\":\"Wellbeing notice\","
        "\"controller\":\"LJMU\",\"purposes\":[\"wellbeing.share-external\"],"
        "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000003\"}", NULL),
        CONSENT_RESULT_CONFLICT);
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "s-8";
    p.purpose = "alumni.news";
    p.notice_id = "ljmu.alumni";
    p.notice_version = "2024-09";
    p.method = CONSENT_METHOD_WEB_FORM;
    EXPECT_OK(consent_batch_append(b, &p, &in_batch));
    CHECK(in_batch.seq == before + 2);
    p.purpose = "no.such.purpose";
    EXPECT(consent_batch_append(b, &p, NULL), CONSENT_RESULT_UNKNOWN_PURPOSE);
    EXPECT_OK(consent_batch_append(b, &w, NULL)); /* s-9 withdraws */
    EXPECT_OK(consent_batch_commit(b));
    EXPECT(consent_batch_append(b, &w, NULL), CONSENT_RESULT_BATCH);
    consent_batch_free(b);
    CHECK(size_of(l) == before + 4);
    expect_state(l, "s-8", "alumni.news", NULL, CONSENT_STATE_GIVEN);
    expect_state(l, "s-9", "wellbeing.share-external", "NHS", CONSENT_STATE_WITHDRAWN);

    /* A batch freed while open is rolled back. */
    EXPECT_OK(consent_batch_begin(l, &b));
    EXPECT_OK(consent_batch_append(b, &w, NULL));
    consent_batch_free(b);
    consent_batch_free(NULL);
    CHECK(size_of(l) == before + 4);

    /* ---- erasure ---- */
    consent_erasure_report er;
    EXPECT_OK(consent_erase_subject(l, "s-5", "six years after leaving", "system:retention", &er));
    CHECK(er.events_erased == 2 && strlen(er.event_id) == 36 && er.seq == before + 4);
    CHECK(er.wal_truncated); /* nothing pins the erased values (in PostgreSQL: vacuumed, as the owner) */
    expect_state(l, "s-5", "wellbeing.share-external", "NHS", CONSENT_STATE_ERASED);
    EXPECT(consent_give(l, "s-5", "wellbeing.share-external", NULL, "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL,
                        false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_SUBJECT_ERASED);
    EXPECT_OK(consent_withdraw(l, "s-5", "wellbeing.share-external", NULL, NULL, CONSENT_TIME_ABSENT, NULL)); /* still recorded */
    EXPECT(consent_erase_subject(l, "s-5", "again", NULL, NULL), CONSENT_RESULT_SUBJECT_ERASED);
    EXPECT(consent_erase_subject(l, "s-6", " ", NULL, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT_OK(consent_history_json(l, "s-5", &json));
    CHECK(json && !strstr(json, "\"s-5\""));
    consent_string_free(json);
    bool done = false;
    EXPECT_OK(consent_checkpoint(l, &done));
    done = false;
    EXPECT_OK(consent_complete_erasures(l, 0, &done));
    CHECK(done);
    EXPECT_OK(consent_complete_erasures(l, 100, NULL));
    EXPECT(consent_complete_erasures(l, -1, &done), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.simulated);

    copies(l);

    /* A batch keeps its ledger open after the ledger's handle is freed... */
    EXPECT_OK(consent_batch_begin(l, &b));
    consent_ledger_free(l);
    w.subject = "s-11";
    EXPECT_OK(consent_batch_append(b, &w, NULL));
    EXPECT_OK(consent_batch_get_head(b, &head));
    EXPECT_OK(consent_batch_commit(b));
    consent_batch_free(b); /* ...and the last handle to go closes it */

    /* Closing the ledger rolls its open batch back; the batch then reports CLOSED. */
    consent_ledger *m = NULL;
    EXPECT_OK(test_ledger_new(NULL, &m));
    EXPECT_OK(consent_ledger_is_simulated(m, &simulated));
    CHECK(!simulated);
    EXPECT_OK(consent_batch_begin(m, &b));
    EXPECT_OK(consent_ledger_close(m));
    EXPECT(consent_batch_append(b, &w, NULL), CONSENT_RESULT_CLOSED);
    EXPECT(consent_batch_commit(b), CONSENT_RESULT_CLOSED);
    consent_batch_free(b);
    consent_ledger_free(m);

    registry_and_recipients();
    material_change();
    consenting_as_known_at();
    time_zones();
    erasure_and_readmission();
    append_many();
    status_many();
    registrations_say_if_new();
    return finish("test_api");
}
