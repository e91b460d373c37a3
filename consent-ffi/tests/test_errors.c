/*
 * Every error path from C: NULL for each pointer argument, invalid UTF-8, unknown
 * purposes, out-of-range times, bad enum values and JSON, identifiers that are not in
 * their one spelling, batches out of turn, calls on a closed ledger, a read-only
 * ledger, files that are not ledgers, missing or wrong pseudonym keys, a clock on a
 * real ledger, PostgreSQL URLs that open nothing (an unknown host, a bad schema name),
 * copies and grants with bad arguments. Each must give its code and a message, leave
 * out-parameters untouched, and neither crash nor leak (run under valgrind). Ledgers
 * are in memory or files, or schemas on PostgreSQL (test_util.h); the parts about
 * files say so when they are skipped there.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

#define NUL_ARG CONSENT_RESULT_NULL_ARGUMENT

static const char *BAD_UTF8 = "s-\xff\xfe";

static const char *PURPOSE =
    "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\"}";
/* What the JMSU notice covers: every JMSU purpose. */
static const char *const JMSU_PURPOSES[] = {"jmsu.*"};

static consent_ledger *fresh_ledger(void) {
    consent_ledger *l = NULL;
    EXPECT_OK(test_ledger_new(NULL, &l));
    EXPECT_OK(consent_register_purpose_json(l, PURPOSE, NULL, NULL));
    EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "2024-09", "JMSU privacy", "text", "JMSU",
                                           JMSU_PURPOSES, 1, NULL));
    EXPECT_OK(consent_give(l, "s-1", "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", CONSENT_METHOD_PORTAL, false,
                           NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    return l;
}

static void null_arguments(consent_ledger *l) {
    consent_ledger *out_ledger = (consent_ledger *)(uintptr_t)0x1;
    consent_event_ref ref;
    consent_status st;
    consent_head head = {0, {0}};
    consent_verify_report rep;
    consent_erasure_report er;
    consent_event_params p;
    char *json = NULL;
    char buf[CONSENT_HEAD_STRING_LEN];
    uint32_t version = 77;
    bool done = false;
    consent_batch *batch = (consent_batch *)(uintptr_t)0x1;
    uint8_t *bytes = (uint8_t *)(uintptr_t)0x1;
    size_t len = 4242;
    const uint8_t event[1] = {1};

    EXPECT(consent_ledger_open(NULL, NULL, &out_ledger), NUL_ARG);
    EXPECT(consent_ledger_open("/tmp/never-created.db", NULL, NULL), NUL_ARG);
    CHECK(out_ledger == (consent_ledger *)(uintptr_t)0x1); /* untouched on failure */
    EXPECT(consent_ledger_open_in_memory(NULL, NULL), NUL_ARG);
    EXPECT(consent_options_init(NULL), NUL_ARG);
    EXPECT(consent_event_params_init(NULL), NUL_ARG);
    EXPECT(consent_ledger_close(NULL), NUL_ARG);
    consent_ledger_free(NULL);
    consent_string_free(NULL);

    EXPECT(consent_register_purpose_json(NULL, PURPOSE, &version, NULL), NUL_ARG);
    EXPECT(consent_register_purpose_json(l, NULL, &version, NULL), NUL_ARG);
    CHECK(version == 77);
    EXPECT(consent_register_notice_json(NULL, "{}", NULL), NUL_ARG);
    EXPECT(consent_register_notice_json(l, NULL, NULL), NUL_ARG);
    EXPECT(consent_register_notice_text(NULL, "n", "1", "t", "x", "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_register_notice_text(l, NULL, "1", "t", "x", "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_register_notice_text(l, "n", NULL, "t", "x", "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_register_notice_text(l, "n", "1", NULL, "x", "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_register_notice_text(l, "n", "1", "t", NULL, "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", NULL, JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", "JMSU", NULL, 1, NULL), NUL_ARG);
    const char *const with_null[] = {"jmsu.marketing", NULL};
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", "JMSU", with_null, 2, NULL), NUL_ARG);
    CHECK(strstr(last_message(), "purposes[1]") != NULL);
    EXPECT(consent_purpose_json(NULL, "jmsu.marketing", 0, &json), NUL_ARG);
    EXPECT(consent_purpose_json(l, NULL, 0, &json), NUL_ARG);
    EXPECT(consent_purpose_json(l, "jmsu.marketing", 0, NULL), NUL_ARG);
    EXPECT(consent_purposes_json(NULL, &json), NUL_ARG);
    EXPECT(consent_purposes_json(l, NULL), NUL_ARG);
    EXPECT(consent_notices_json(NULL, &json), NUL_ARG);
    EXPECT(consent_notices_json(l, NULL), NUL_ARG);

    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_WITHDRAWN;
    p.subject = "s-1";
    p.purpose = "jmsu.marketing";
    EXPECT(consent_append(NULL, &p, &ref), NUL_ARG);
    EXPECT(consent_append(l, NULL, &ref), NUL_ARG);
    EXPECT(consent_append_json(l, &p, NULL), NUL_ARG);
    EXPECT(consent_append_json(NULL, &p, &json), NUL_ARG);
    p.subject = NULL;
    EXPECT(consent_append(l, &p, &ref), NUL_ARG);
    p.subject = "s-1";
    p.purpose = NULL;
    EXPECT(consent_append(l, &p, &ref), NUL_ARG);

    EXPECT(consent_give(NULL, "s", "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_give(l, NULL, "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_give(l, "s", NULL, NULL, "jmsu.privacy", "2024-09", 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_give(l, "s", "jmsu.marketing", NULL, NULL, "2024-09", 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_give(l, "s", "jmsu.marketing", NULL, "jmsu.privacy", NULL, 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_refuse(NULL, "s", "jmsu.marketing", NULL, 1, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_refuse(l, NULL, "jmsu.marketing", NULL, 1, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_refuse(l, "s", NULL, NULL, 1, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_withdraw(NULL, "s", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_withdraw(l, NULL, "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_withdraw(l, "s", NULL, NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_revoke(NULL, "s", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_revoke(l, NULL, "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_revoke(l, "s", NULL, NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_invalidate(NULL, "s", "jmsu.marketing", NULL, NULL, &ref), NUL_ARG);
    EXPECT(consent_invalidate(l, NULL, "jmsu.marketing", NULL, NULL, &ref), NUL_ARG);
    EXPECT(consent_invalidate(l, "s", NULL, NULL, NULL, &ref), NUL_ARG);
    EXPECT(consent_object(NULL, "s", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_object(l, NULL, "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);
    EXPECT(consent_object(l, "s", NULL, NULL, NULL, CONSENT_TIME_ABSENT, &ref), NUL_ARG);

    EXPECT(consent_status_get(NULL, "s-1", "jmsu.marketing", NULL, &st), NUL_ARG);
    EXPECT(consent_status_get(l, NULL, "jmsu.marketing", NULL, &st), NUL_ARG);
    EXPECT(consent_status_get(l, "s-1", NULL, NULL, &st), NUL_ARG);
    EXPECT(consent_status_get(l, "s-1", "jmsu.marketing", NULL, NULL), NUL_ARG);
    EXPECT(consent_status_get_at(NULL, "s-1", "jmsu.marketing", NULL, 0, CONSENT_TIME_ABSENT, &st), NUL_ARG);
    EXPECT(consent_status_get_at(l, NULL, "jmsu.marketing", NULL, 0, CONSENT_TIME_ABSENT, &st), NUL_ARG);
    EXPECT(consent_status_get_at(l, "s-1", NULL, NULL, 0, CONSENT_TIME_ABSENT, &st), NUL_ARG);
    EXPECT(consent_status_get_at(l, "s-1", "jmsu.marketing", NULL, 0, CONSENT_TIME_ABSENT, NULL), NUL_ARG);
    EXPECT(consent_status_get_json(NULL, "s-1", "p", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json), NUL_ARG);
    EXPECT(consent_status_get_json(l, NULL, "p", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json), NUL_ARG);
    EXPECT(consent_status_get_json(l, "s-1", NULL, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json), NUL_ARG);
    EXPECT(consent_status_get_json(l, "s-1", "p", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL), NUL_ARG);
    EXPECT(consent_history_json(NULL, "s-1", &json), NUL_ARG);
    EXPECT(consent_history_json(l, NULL, &json), NUL_ARG);
    EXPECT(consent_history_json(l, "s-1", NULL), NUL_ARG);
    EXPECT(consent_event_json(NULL, "00000000-0000-0000-0000-000000000000", &json), NUL_ARG);
    EXPECT(consent_event_json(l, NULL, &json), NUL_ARG);
    EXPECT(consent_event_json(l, "00000000-0000-0000-0000-000000000000", NULL), NUL_ARG);
    EXPECT(consent_consenting_json(NULL, "jmsu.marketing", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json),
           NUL_ARG);
    EXPECT(consent_consenting_json(l, NULL, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json), NUL_ARG);
    EXPECT(consent_consenting_json(l, "jmsu.marketing", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL),
           NUL_ARG);
    EXPECT(consent_changes_since_json(NULL, 0, 10, &json), NUL_ARG);
    EXPECT(consent_changes_since_json(l, 0, 10, NULL), NUL_ARG);
    EXPECT(consent_export_subject_json(NULL, "s-1", &json), NUL_ARG);
    EXPECT(consent_export_subject_json(l, NULL, &json), NUL_ARG);
    EXPECT(consent_export_subject_json(l, "s-1", NULL), NUL_ARG);
    EXPECT(consent_export_subject_html(NULL, "s-1", &json), NUL_ARG);
    EXPECT(consent_export_subject_html(l, NULL, &json), NUL_ARG);
    EXPECT(consent_export_subject_html(l, "s-1", NULL), NUL_ARG);
    CHECK(json == NULL);

    EXPECT(consent_get_head(NULL, &head), NUL_ARG);
    EXPECT(consent_get_head(l, NULL), NUL_ARG);
    EXPECT(consent_head_to_string(NULL, buf, sizeof buf), NUL_ARG);
    EXPECT(consent_head_to_string(&head, NULL, sizeof buf), NUL_ARG);
    EXPECT(consent_head_parse(NULL, &head), NUL_ARG);
    EXPECT(consent_head_parse("1:00", NULL), NUL_ARG);
    EXPECT(consent_verify(NULL, &rep), NUL_ARG);
    EXPECT(consent_verify(l, NULL), NUL_ARG);
    EXPECT(consent_verify_against(NULL, &head, &rep), NUL_ARG);
    EXPECT(consent_verify_against(l, NULL, &rep), NUL_ARG);
    EXPECT(consent_verify_against(l, &head, NULL), NUL_ARG);
    EXPECT(consent_prove_inclusion_json(NULL, "x", CONSENT_SIZE_CURRENT, &json), NUL_ARG);
    EXPECT(consent_prove_inclusion_json(l, NULL, CONSENT_SIZE_CURRENT, &json), NUL_ARG);
    EXPECT(consent_prove_inclusion_json(l, "00000000-0000-0000-0000-000000000000", 1, NULL), NUL_ARG);
    EXPECT(consent_prove_consistency_json(NULL, &head, CONSENT_SIZE_CURRENT, &json, NULL), NUL_ARG);
    EXPECT(consent_prove_consistency_json(l, NULL, CONSENT_SIZE_CURRENT, &json, NULL), NUL_ARG);
    EXPECT(consent_prove_consistency_json(l, &head, CONSENT_SIZE_CURRENT, NULL, NULL), NUL_ARG);
    EXPECT(consent_event_canonical(NULL, "00000000-0000-0000-0000-000000000000", &bytes, &len), NUL_ARG);
    EXPECT(consent_event_canonical(l, NULL, &bytes, &len), NUL_ARG);
    EXPECT(consent_event_canonical(l, "00000000-0000-0000-0000-000000000000", NULL, &len), NUL_ARG);
    EXPECT(consent_event_canonical(l, "00000000-0000-0000-0000-000000000000", &bytes, NULL), NUL_ARG);
    CHECK(bytes == (uint8_t *)(uintptr_t)0x1 && len == 4242);
    consent_bytes_free(NULL, 0);
    EXPECT(consent_check_inclusion_proof(NULL, event, 1, &head), NUL_ARG);
    EXPECT(consent_check_inclusion_proof("{}", NULL, 0, &head), NUL_ARG);
    EXPECT(consent_check_inclusion_proof("{}", event, 1, NULL), NUL_ARG);
    EXPECT(consent_check_consistency_proof(NULL, &head, &head), NUL_ARG);
    EXPECT(consent_check_consistency_proof("{}", NULL, &head), NUL_ARG);
    EXPECT(consent_check_consistency_proof("{}", &head, NULL), NUL_ARG);
    EXPECT(consent_erase_subject(NULL, "s-1", "retention", "system:ret", &er), NUL_ARG);
    EXPECT(consent_erase_subject(l, NULL, "retention", "system:ret", &er), NUL_ARG);
    EXPECT(consent_erase_subject(l, "s-1", NULL, "system:ret", &er), NUL_ARG);
    EXPECT(consent_erase_subject_with(NULL, "s-1", "retention", "system:ret", CONSENT_ERASE_FORCE, &er), NUL_ARG);
    EXPECT(consent_erase_subject_with(l, NULL, "retention", "system:ret", CONSENT_ERASE_FORCE, &er), NUL_ARG);
    EXPECT(consent_erase_subject_with(l, "s-1", NULL, "system:ret", CONSENT_ERASE_FORCE, &er), NUL_ARG);
    EXPECT(consent_erasure_preview_json(NULL, "s-1", &json), NUL_ARG);
    EXPECT(consent_erasure_preview_json(l, NULL, &json), NUL_ARG);
    EXPECT(consent_erasure_preview_json(l, "s-1", NULL), NUL_ARG);
    const char *const ids[] = {"s-1", NULL};
    EXPECT(consent_erase_subjects_json(NULL, ids, 1, "retention", "system:ret", 0, &json), NUL_ARG);
    EXPECT(consent_erase_subjects_json(l, NULL, 1, "retention", "system:ret", 0, &json), NUL_ARG);
    EXPECT(consent_erase_subjects_json(l, ids, 2, "retention", "system:ret", 0, &json), NUL_ARG);
    CHECK(strstr(last_message(), "subjects[1]") != NULL);
    EXPECT(consent_erase_subjects_json(l, ids, 1, NULL, "system:ret", 0, &json), NUL_ARG);
    EXPECT(consent_erase_subjects_json(l, ids, 1, "retention", "system:ret", 0, NULL), NUL_ARG);
    EXPECT(consent_readmit_subject(NULL, "s-1", "enrolled again", "system:sis", &ref), NUL_ARG);
    EXPECT(consent_readmit_subject(l, NULL, "enrolled again", "system:sis", &ref), NUL_ARG);
    EXPECT(consent_readmit_subject(l, "s-1", NULL, "system:sis", &ref), NUL_ARG);
    EXPECT(consent_registry_load(NULL, "registry.toml", NULL, &json), NUL_ARG);
    EXPECT(consent_registry_load(l, NULL, NULL, &json), NUL_ARG);
    EXPECT(consent_ledger_time_zone(NULL, buf, sizeof buf), NUL_ARG);
    EXPECT(consent_ledger_time_zone(l, NULL, sizeof buf), NUL_ARG);
    EXPECT(consent_checkpoint(NULL, &done), NUL_ARG);
    EXPECT(consent_complete_erasures(NULL, 0, &done), NUL_ARG);
    EXPECT(consent_ledger_is_simulated(NULL, &done), NUL_ARG);
    EXPECT(consent_ledger_is_simulated(l, NULL), NUL_ARG);

    EXPECT(consent_batch_begin(NULL, &batch), NUL_ARG);
    EXPECT(consent_batch_begin(l, NULL), NUL_ARG);
    CHECK(batch == (consent_batch *)(uintptr_t)0x1);
    EXPECT(consent_batch_append(NULL, &p, &ref), NUL_ARG);
    EXPECT(consent_batch_register_purpose_json(NULL, PURPOSE, &version, NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_json(NULL, "{}", NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_text(NULL, "n", "1", "t", "x", "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_batch_get_head(NULL, &head), NUL_ARG);
    EXPECT(consent_batch_commit(NULL), NUL_ARG);
    EXPECT(consent_batch_rollback(NULL), NUL_ARG);
    consent_batch_free(NULL);
    EXPECT_OK(consent_batch_begin(l, &batch));
    EXPECT(consent_batch_append(batch, NULL, &ref), NUL_ARG);
    EXPECT(consent_batch_register_purpose_json(batch, NULL, &version, NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_json(batch, NULL, NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_text(batch, NULL, "1", "t", "x", "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_text(batch, "n", NULL, "t", "x", "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_text(batch, "n", "1", NULL, "x", "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_text(batch, "n", "1", "t", NULL, "JMSU", JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_text(batch, "n", "1", "t", "x", NULL, JMSU_PURPOSES, 1, NULL), NUL_ARG);
    EXPECT(consent_batch_register_notice_text(batch, "n", "1", "t", "x", "JMSU", NULL, 1, NULL), NUL_ARG);
    EXPECT(consent_batch_get_head(batch, NULL), NUL_ARG);
    EXPECT_OK(consent_batch_rollback(batch));
    consent_batch_free(batch);
    CHECK(version == 77);
    CHECK(json == NULL);
}

static void bad_utf8_and_values(consent_ledger *l) {
    consent_status st;
    consent_event_ref ref;
    consent_event_params p;
    char *json = NULL;
    st.event_seq = 4242;

    EXPECT(consent_give(l, BAD_UTF8, "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref),
           CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_status_get(l, "s-1", BAD_UTF8, NULL, &st), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_status_get(l, "s-1", "jmsu.marketing", BAD_UTF8, &st), CONSENT_RESULT_INVALID_UTF8);
    CHECK(st.event_seq == 4242);
    EXPECT(consent_history_json(l, BAD_UTF8, &json), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_register_purpose_json(l, "{\"id\":\"\xc3\x28\"}", NULL, NULL), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_withdraw(l, "s-1", "jmsu.marketing", NULL, BAD_UTF8, CONSENT_TIME_ABSENT, &ref), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_head_parse(BAD_UTF8, &(consent_head){0, {0}}), CONSENT_RESULT_INVALID_UTF8);
    const char *const bad_purposes[] = {"jmsu.marketing", BAD_UTF8};
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", "JMSU", bad_purposes, 2, NULL), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", BAD_UTF8, JMSU_PURPOSES, 1, NULL),
           CONSENT_RESULT_INVALID_UTF8);
    const char *const bad_ids[] = {BAD_UTF8};
    EXPECT(consent_erase_subjects_json(l, bad_ids, 1, "retention", "system:ret", 0, &json),
           CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_export_subject_html(l, BAD_UTF8, &json), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_erasure_preview_json(l, BAD_UTF8, &json), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_readmit_subject(l, BAD_UTF8, "back", "system:sis", &ref), CONSENT_RESULT_INVALID_UTF8);

    /* A notice must say whose it is and which purposes it covers; a grant may only name
     * a notice that covers its purpose. */
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", "JMSU", JMSU_PURPOSES, 0, NULL),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", "JMSU", NULL, 0, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", " ", JMSU_PURPOSES, 1, NULL),
           CONSENT_RESULT_INVALID_ARGUMENT);
    const char *const star[] = {"jmsu*"};
    EXPECT(consent_register_notice_text(l, "n", "1", "t", "x", "JMSU", star, 1, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_notice_json(l,
        "{\"id\":\"n\",\"version\":\"1\",\"title\":\"t\",\"purposes\":[\"jmsu.marketing\"],"
        "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000001\"}", NULL),
        CONSENT_RESULT_INVALID_ARGUMENT); /* no controller */
    EXPECT(consent_register_notice_json(l,
        "{\"id\":\"n\",\"version\":\"1\",\"title\":\"t\",\"controller\":\"JMSU\",\"purposes\":[],"
        "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000001\"}", NULL),
        CONSENT_RESULT_INVALID_ARGUMENT); /* no purposes */
    {
        consent_ledger *m = NULL;
        const char *const only_marketing[] = {"jmsu.marketing"};
        EXPECT_OK(test_ledger_new(NULL, &m));
        EXPECT_OK(consent_register_purpose_json(m, PURPOSE, NULL, NULL));
        EXPECT_OK(consent_register_purpose_json(m,
            "{\"id\":\"jmsu.course-rep\",\"title\":\"Course reps\",\"controller\":\"JMSU\","
            "\"lawful_basis\":\"a\"}", NULL, NULL));
        EXPECT_OK(consent_register_notice_text(m, "jmsu.marketing-notice", "1", "Marketing", "We email offers.",
                                               "JMSU", only_marketing, 1, NULL));
        EXPECT(consent_give(m, "s-1", "jmsu.course-rep", NULL, "jmsu.marketing-notice", "1", CONSENT_METHOD_PORTAL, false,
                            NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref),
               CONSENT_RESULT_INVALID_CONSENT);
        CHECK(strstr(last_message(), "does not cover") != NULL);
        EXPECT_OK(consent_give(m, "s-1", "jmsu.marketing", NULL, "jmsu.marketing-notice", "1", CONSENT_METHOD_PORTAL,
                               false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref));
        consent_ledger_free(m);
    }

    /* Unknown purpose, notice, recipient, actor, and malformed values. */
    EXPECT(consent_give(l, "s-2", "no.such.purpose", NULL, "jmsu.privacy", "2024-09", 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref),
           CONSENT_RESULT_UNKNOWN_PURPOSE);
    EXPECT(consent_status_get(l, "s-2", "no.such.purpose", NULL, &st), CONSENT_RESULT_UNKNOWN_PURPOSE);
    EXPECT(consent_consenting_json(l, "no.such.purpose", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json),
           CONSENT_RESULT_UNKNOWN_PURPOSE);
    EXPECT(consent_purpose_json(l, "no.such.purpose", 0, &json), CONSENT_RESULT_UNKNOWN_PURPOSE);
    EXPECT(consent_give(l, "s-2", "jmsu.marketing", NULL, "jmsu.privacy", "1999", 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref),
           CONSENT_RESULT_UNKNOWN_NOTICE);
    EXPECT(consent_give(l, "s-2", "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", 1, false, "teacher", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_give(l, "s-2", "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", 99, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_give(l, "s-2", "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", CONSENT_METHOD_NONE, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                        &ref),
           CONSENT_RESULT_INVALID_CONSENT);
    EXPECT(consent_give(l, "", "jmsu.marketing", NULL, "jmsu.privacy", "2024-09", 1, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_purpose_json(l, "{", NULL, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_purpose_json(l, "{\"id\":\"x\",\"title\":\"t\",\"controller\":\"c\",\"lawful_basis\":\"z\"}",
                                         NULL, NULL),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_notice_json(l, "{\"id\":\"n\",\"version\":\"1\",\"title\":\"t\",\"sha256\":\"00\"}", NULL),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_event_json(l, "not-a-uuid", &json), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_event_json(l, "00000000-0000-0000-0000-000000000000", &json), CONSENT_RESULT_NOT_FOUND);
    EXPECT(consent_invalidate(l, "s-1", "jmsu.marketing", "not-a-uuid", "staff:dpo", &ref),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_head_parse("12", &(consent_head){0, {0}}), CONSENT_RESULT_INVALID_ARGUMENT);

    EXPECT_OK(consent_event_params_init(&p));
    p.subject = "s-3";
    p.purpose = "jmsu.marketing";
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_ARGUMENT); /* kind 0 */
    p.kind = 12345;
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_ARGUMENT);
    p.kind = CONSENT_EVENT_KIND_WITHDRAWN;
    p.notice_id = "jmsu.privacy"; /* without its version */
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_ARGUMENT);
    p.notice_id = NULL;
    p.evidence_json = "[1,2";
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_ARGUMENT);
    p.evidence_json = "[1,2]"; /* JSON, but not an object */
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_ARGUMENT);
    p.evidence_json = NULL;
    p.target_event_id = BAD_UTF8;
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_UTF8);
    p.target_event_id = NULL;

    /* Malformed times. */
    p.effective_at_ms = CONSENT_TIME_MAX + 1;
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_TIME);
    p.effective_at_ms = CONSENT_TIME_MIN - 1;
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_TIME);
    p.effective_at_ms = INT64_MAX;
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_TIME);
    p.effective_at_ms = CONSENT_TIME_ABSENT;
    p.expires_at_ms = INT64_MIN + 1;
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_status_get_at(l, "s-1", "jmsu.marketing", NULL, INT64_MAX, CONSENT_TIME_ABSENT, &st),
           CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_status_get_at(l, "s-1", "jmsu.marketing", NULL, 0, CONSENT_TIME_MAX + 1, &st),
           CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_status_get_at(l, "s-1", "jmsu.marketing", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &st),
           CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_status_get_json(l, "s-1", "jmsu.marketing", NULL, CONSENT_TIME_ABSENT, 0, &json),
           CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_consenting_json(l, "jmsu.marketing", NULL, -CONSENT_TIME_MAX, CONSENT_TIME_ABSENT, &json),
           CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_consenting_json(l, "jmsu.marketing", NULL, CONSENT_TIME_ABSENT, INT64_MAX, &json),
           CONSENT_RESULT_INVALID_TIME);
    p.expires_at_ms = CONSENT_TIME_ABSENT;
    p.validity_from_ms = CONSENT_TIME_MAX + 1;
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_TIME);
    p.validity_from_ms = 0; /* a validity start on a withdrawal */
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_ARGUMENT);
    p.validity_from_ms = CONSENT_TIME_ABSENT;
    CHECK(st.event_seq == 4242);
    CHECK(json == NULL);

    /* Options with a bad value. */
    consent_options o;
    consent_ledger *other = NULL;
    EXPECT_OK(consent_options_init(&o));
    o.synchronous = 7;
    EXPECT(consent_ledger_open_in_memory(&o, &other), CONSENT_RESULT_INVALID_ARGUMENT);
    o.synchronous = CONSENT_SYNCHRONOUS_FULL;
    o.busy_timeout_ms = INT64_MAX; /* SQLite's limit is a C int of milliseconds */
    EXPECT(consent_ledger_open_in_memory(&o, &other), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(other == NULL);
    EXPECT(consent_ledger_open("", NULL, &other), CONSENT_RESULT_INVALID_ARGUMENT);

    /* Time zones are IANA names from the bundled database. */
    EXPECT_OK(consent_options_init(&o));
    CHECK(o.time_zone == NULL);
    o.time_zone = "Mars/Olympus_Mons";
    EXPECT(consent_ledger_open_in_memory(&o, &other), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(last_message(), "time zone") != NULL);
    o.time_zone = "";
    EXPECT(consent_ledger_open_in_memory(&o, &other), CONSENT_RESULT_INVALID_ARGUMENT);
    o.time_zone = BAD_UTF8;
    EXPECT(consent_ledger_open_in_memory(&o, &other), CONSENT_RESULT_INVALID_UTF8);
    CHECK(other == NULL);
    char zone[CONSENT_TIME_ZONE_LEN] = "untouched";
    EXPECT(consent_ledger_time_zone(l, zone, 5), CONSENT_RESULT_BUFFER_TOO_SMALL);
    CHECK(strcmp(zone, "untouched") == 0);
    EXPECT_OK(consent_ledger_time_zone(l, zone, sizeof zone));
    CHECK(strcmp(zone, "Europe/London") == 0);

    /* Erasure flags other than CONSENT_ERASE_FORCE; an erasure of an id with no events. */
    EXPECT(consent_erase_subject_with(l, "s-1", "retention", "system:ret", 2, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_erase_subject_with(l, "s-1", "retention", "system:ret", 0xffffffffu, NULL),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_erase_subjects_json(l, NULL, 0, "retention", "system:ret", 4, &json),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_erase_subject(l, "s-never-seen", "retention", "system:ret", NULL), CONSENT_RESULT_NOT_FOUND);
    EXPECT(consent_readmit_subject(l, "s-1", "enrolled again", "system:sis", NULL),
           CONSENT_RESULT_INVALID_ARGUMENT); /* not erased */

    /* A registry file that is not there, or not a registry. */
    EXPECT(consent_registry_load(l, "/nonexistent/registry.toml", NULL, &json), CONSENT_RESULT_IO);
    EXPECT(consent_registry_load(l, "", NULL, &json), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_registry_load(l, "/dev/null", "", &json), CONSENT_RESULT_INVALID_ARGUMENT);

    /* An event dated more than 366 days ahead of now. */
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_WITHDRAWN;
    p.subject = "s-1";
    p.purpose = "jmsu.marketing";
    p.effective_at_ms = CONSENT_TIME_MAX - 1000;
    EXPECT(consent_append(l, &p, &ref), CONSENT_RESULT_INVALID_TIME);

    /* Key options that do not fit together. */
    EXPECT_OK(consent_options_init(&o));
    o.pseudonym_key_source = 9;
    EXPECT(consent_ledger_open_in_memory(&o, &other), CONSENT_RESULT_INVALID_ARGUMENT);
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_FILE;
    EXPECT(consent_ledger_open("/tmp/never-created.db", &o, &other), NUL_ARG); /* FILE without a path */
    o.pseudonym_key_path = "/tmp/never-created.key";
    EXPECT(consent_ledger_open_in_memory(&o, &other), CONSENT_RESULT_INVALID_ARGUMENT); /* no file in memory */
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_BESIDE; /* a path, but not the FILE source */
    EXPECT(consent_ledger_open("/tmp/never-created.db", &o, &other), CONSENT_RESULT_INVALID_ARGUMENT);
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_FILE;
    o.pseudonym_key_path = BAD_UTF8;
    EXPECT(consent_ledger_open("/tmp/never-created.db", &o, &other), CONSENT_RESULT_INVALID_UTF8);
    o.pseudonym_key_path = NULL;
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_NONE; /* a new ledger needs a key */
    EXPECT(consent_ledger_open_in_memory(&o, &other), CONSENT_RESULT_KEY);
    CHECK(other == NULL);
    CHECK(access("/tmp/never-created.db", F_OK) != 0);

    /* Identifiers have one spelling: white space at either end, control characters
     * and other normal forms than NFC are refused (never trimmed or normalised), in
     * appends and in questions. */
    static const char *const NOT_AN_ID[] = {
        " s-1", "s-1 ", "s-1\n", "\ts-1", "s\x01-1", "Jose\xcc\x81" /* NFD */, "s-1\xc2\xa0" /* NBSP */,
    };
    for (size_t i = 0; i < sizeof NOT_AN_ID / sizeof NOT_AN_ID[0]; i++) {
        EXPECT(consent_withdraw(l, NOT_AN_ID[i], "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref), CONSENT_RESULT_INVALID_ARGUMENT);
        EXPECT(consent_status_get(l, NOT_AN_ID[i], "jmsu.marketing", NULL, &st), CONSENT_RESULT_INVALID_ARGUMENT);
        EXPECT(consent_history_json(l, NOT_AN_ID[i], &json), CONSENT_RESULT_INVALID_ARGUMENT);
    }
    EXPECT(consent_withdraw(l, "s-1", " jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_status_get(l, "s-1", "jmsu.marketing", " NHS", &st), CONSENT_RESULT_INVALID_ARGUMENT);
    /* A purpose id in a question is looked up, not checked for its spelling: one with
     * white space is simply not registered. Either way it is refused. */
    consent_result r = consent_status_get(l, "s-1", "jmsu.marketing ", NULL, &st);
    CHECK(r == CONSENT_RESULT_INVALID_ARGUMENT || r == CONSENT_RESULT_UNKNOWN_PURPOSE);
    EXPECT(consent_withdraw(l, "s-1", "jmsu.marketing", NULL, "staff:dpo ", CONSENT_TIME_ABSENT, &ref), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(st.event_seq == 4242);
    CHECK(json == NULL);
}

/* Expects `call` to fail with CONSENT_RESULT_UNKNOWN_RECIPIENT and a message that
 * names the purpose and lists every valid id (or says it lists none). */
#define EXPECT_UNKNOWN_RECIPIENT(call, listed)                                         \
    do {                                                                               \
        EXPECT(call, CONSENT_RESULT_UNKNOWN_RECIPIENT);                                \
        CHECK(strstr(last_message(), "wellbeing.") != NULL);                           \
        if (!strstr(last_message(), listed)) {                                         \
            fprintf(stderr, "  message \"%s\" does not list %s\n", last_message(), listed); \
        }                                                                              \
        CHECK(strstr(last_message(), listed) != NULL);                                 \
    } while (0)

/* Recipients are registry ids, compared exactly: a question or an event naming one
 * the purpose does not list is refused, and so is a question without a recipient on a
 * purpose that lists some (the feed trap); the message lists the valid ids. */
static void unknown_recipients(void) {
    consent_ledger *l = NULL;
    consent_status st;
    consent_event_ref ref;
    consent_event_params p;
    char *json = NULL;
    st.event_seq = 4242;
    const char *const covers[] = {"wellbeing.*"};
    EXPECT_OK(test_ledger_new(NULL, &l));
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"wellbeing.share-external\",\"title\":\"Sharing with an organisation outside the University\","
        "\"controller\":\"LJMU Student Advice and Wellbeing\",\"lawful_basis\":\"a\","
        "\"recipients\":[\"student-finance-england\",\"nhs\",\"landlord\"]}", NULL, NULL));
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"wellbeing.special-category\",\"title\":\"Medical information\","
        "\"controller\":\"LJMU Student Advice and Wellbeing\",\"lawful_basis\":\"a\",\"special_category\":\"a\"}",
        NULL, NULL));
    EXPECT_OK(consent_register_notice_text(l, "ljmu.wellbeing", "1", "Wellbeing notice", "text",
                                           "LJMU Student Advice and Wellbeing", covers, 1, NULL));

    static const char *const LISTED = "student-finance-england, nhs, landlord";
    /* Questions: another spelling, an unlisted id, or none at all. */
    EXPECT_UNKNOWN_RECIPIENT(consent_status_get(l, "s-1", "wellbeing.share-external", "NHS", &st), LISTED);
    CHECK(strstr(last_message(), "`NHS`") != NULL);
    EXPECT_UNKNOWN_RECIPIENT(consent_status_get(l, "s-1", "wellbeing.share-external", NULL, &st), LISTED);
    CHECK(strstr(last_message(), "ask about one of them") != NULL);
    char message[512];
    CHECK(consent_last_error_code() == CONSENT_RESULT_UNKNOWN_RECIPIENT);
    CHECK(consent_last_error_message(message, sizeof message) > strlen(LISTED) && strstr(message, LISTED));
    EXPECT_UNKNOWN_RECIPIENT(consent_status_get_at(l, "s-1", "wellbeing.share-external", "the police", 0,
                                                   CONSENT_TIME_ABSENT, &st),
                             LISTED);
    EXPECT_UNKNOWN_RECIPIENT(consent_status_get_json(l, "s-1", "wellbeing.share-external", NULL, CONSENT_TIME_ABSENT,
                                                     CONSENT_TIME_ABSENT, &json),
                             LISTED);
    EXPECT_UNKNOWN_RECIPIENT(consent_consenting_json(l, "wellbeing.share-external", NULL, CONSENT_TIME_ABSENT,
                                                     CONSENT_TIME_ABSENT, &json),
                             LISTED);
    EXPECT_UNKNOWN_RECIPIENT(consent_consenting_json(l, "wellbeing.share-external", "Landlord", CONSENT_TIME_ABSENT,
                                                     0, &json),
                             LISTED);
    /* A purpose that lists none accepts none. */
    EXPECT_UNKNOWN_RECIPIENT(consent_status_get(l, "s-1", "wellbeing.special-category", "nhs", &st),
                             "lists none");
    /* Events: a grant naming an unlisted recipient is refused. */
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "s-1";
    p.purpose = "wellbeing.share-external";
    p.recipient = "NHS";
    p.notice_id = "ljmu.wellbeing";
    p.notice_version = "1";
    p.method = CONSENT_METHOD_IN_PERSON;
    uint64_t before;
    consent_head head;
    EXPECT_OK(consent_get_head(l, &head));
    before = head.size;
    EXPECT_UNKNOWN_RECIPIENT(consent_append(l, &p, &ref), LISTED);
    p.kind = CONSENT_EVENT_KIND_REFUSED;
    EXPECT_UNKNOWN_RECIPIENT(consent_append(l, &p, &ref), LISTED);
    p.kind = CONSENT_EVENT_KIND_NOTICE_SERVED;
    EXPECT_UNKNOWN_RECIPIENT(consent_append(l, &p, &ref), LISTED);
    EXPECT_OK(consent_get_head(l, &head));
    CHECK(head.size == before);
    CHECK(st.event_seq == 4242 && json == NULL);
    consent_ledger_free(l);
}

static void batches_out_of_turn(consent_ledger *l) {
    consent_batch *b = NULL, *again = NULL;
    consent_head head;
    EXPECT_OK(consent_batch_begin(l, &b));
    EXPECT(consent_batch_begin(l, &again), CONSENT_RESULT_BATCH); /* one batch per thread */
    CHECK(again == NULL);
    EXPECT(consent_withdraw(l, "s-1", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_BATCH);
    EXPECT(consent_get_head(l, &head), CONSENT_RESULT_BATCH);
    EXPECT_OK(consent_batch_commit(b)); /* an empty batch commits */
    EXPECT(consent_batch_commit(b), CONSENT_RESULT_BATCH);
    EXPECT(consent_batch_rollback(b), CONSENT_RESULT_BATCH);
    EXPECT(consent_batch_register_notice_text(b, "n", "1", "t", "x", "JMSU", JMSU_PURPOSES, 1, NULL), CONSENT_RESULT_BATCH);
    consent_batch_free(b);
    EXPECT_OK(consent_get_head(l, &head)); /* the ledger is free again */
}

static void messages(void) {
    /* A failure leaves a message; sizing, truncation and a success clearing it. */
    consent_ledger *l = NULL;
    EXPECT(consent_ledger_open(NULL, NULL, &l), NUL_ARG);
    CHECK(consent_last_error_code() == CONSENT_RESULT_NULL_ARGUMENT);
    size_t need = consent_last_error_message(NULL, 0);
    CHECK(need > 1);
    char *full = malloc(need);
    CHECK(consent_last_error_message(full, need) == need);
    CHECK(strlen(full) == need - 1);
    CHECK(strstr(full, "path") != NULL);
    char tiny[5] = {'x', 'x', 'x', 'x', 'x'};
    CHECK(consent_last_error_message(tiny, sizeof tiny) == need);
    CHECK(strlen(tiny) == 4 && strncmp(tiny, full, 4) == 0);
    free(full);
    CHECK(strcmp(consent_result_name(CONSENT_RESULT_CLOSED), "CONSENT_RESULT_CLOSED") == 0);
    /* The codes are fixed: 2..=27 are consent_core's ErrorKind numbers. */
    CHECK(CONSENT_RESULT_OK == 0 && CONSENT_RESULT_INVALID_ARGUMENT == 2 && CONSENT_RESULT_BATCH == 18);
    CHECK(CONSENT_RESULT_PROOF_REJECTED == 21 && CONSENT_RESULT_NOT_A_LEDGER == 22 && CONSENT_RESULT_KEY == 23);
    CHECK(CONSENT_RESULT_NULL_ARGUMENT == 100 && CONSENT_RESULT_BUFFER_TOO_SMALL == 103);
    CHECK(strcmp(consent_result_name(22), "CONSENT_RESULT_NOT_A_LEDGER") == 0);
    CHECK(strcmp(consent_result_name(23), "CONSENT_RESULT_KEY") == 0);
    /* 24..=27: the signed-checkpoint kinds of issue 13. */
    CHECK(CONSENT_RESULT_NOTE == 24 && CONSENT_RESULT_QUORUM_NOT_MET == 25);
    CHECK(CONSENT_RESULT_WITNESS_REFUSED == 26 && CONSENT_RESULT_RECEIPT_REJECTED == 27);
    CHECK(strcmp(consent_result_name(24), "CONSENT_RESULT_NOTE") == 0);
    CHECK(strcmp(consent_result_name(27), "CONSENT_RESULT_RECEIPT_REJECTED") == 0);
    CHECK(strcmp(consent_result_name(28), "CONSENT_RESULT_UNKNOWN_CODE") == 0);
    for (int code = 0; code <= 27; code++) {
        CHECK(strncmp(consent_result_name(code), "CONSENT_RESULT_", 15) == 0);
        CHECK(strcmp(consent_result_name(code), "CONSENT_RESULT_UNKNOWN_CODE") != 0);
    }
    CHECK(strcmp(consent_result_name(9999), "CONSENT_RESULT_UNKNOWN_CODE") == 0);
    CHECK(strcmp(consent_result_name(-1), "CONSENT_RESULT_UNKNOWN_CODE") == 0);
    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    CHECK(consent_last_error_code() == CONSENT_RESULT_OK);
    CHECK(consent_last_error_message(NULL, 0) == 1);
    consent_head h = {3, {0}};
    char small[10];
    EXPECT(consent_head_to_string(&h, small, sizeof small), CONSENT_RESULT_BUFFER_TOO_SMALL);
}

static void closed_ledger(void) {
    consent_ledger *l = fresh_ledger();
    consent_status st;
    consent_head head;
    consent_verify_report rep;
    char *json = NULL;
    EXPECT_OK(consent_ledger_close(l));
    EXPECT_OK(consent_ledger_close(l)); /* twice is fine */
    EXPECT(consent_status_get(l, "s-1", "jmsu.marketing", NULL, &st), CONSENT_RESULT_CLOSED);
    EXPECT(consent_withdraw(l, "s-1", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_CLOSED);
    EXPECT(consent_register_purpose_json(l, PURPOSE, NULL, NULL), CONSENT_RESULT_CLOSED);
    EXPECT(consent_get_head(l, &head), CONSENT_RESULT_CLOSED);
    EXPECT(consent_verify(l, &rep), CONSENT_RESULT_CLOSED);
    EXPECT(consent_history_json(l, "s-1", &json), CONSENT_RESULT_CLOSED);
    consent_batch *b = NULL;
    EXPECT(consent_batch_begin(l, &b), CONSENT_RESULT_CLOSED);
    CHECK(b == NULL);
    EXPECT(consent_checkpoint(l, NULL), CONSENT_RESULT_CLOSED);
    EXPECT(consent_complete_erasures(l, 0, NULL), CONSENT_RESULT_CLOSED);
    bool simulated = true;
    EXPECT(consent_ledger_is_simulated(l, &simulated), CONSENT_RESULT_CLOSED);
    char zone[CONSENT_TIME_ZONE_LEN] = "";
    EXPECT(consent_ledger_time_zone(l, zone, sizeof zone), CONSENT_RESULT_CLOSED);
    EXPECT(consent_export_subject_html(l, "s-1", &json), CONSENT_RESULT_CLOSED);
    EXPECT(consent_erasure_preview_json(l, "s-1", &json), CONSENT_RESULT_CLOSED);
    EXPECT(consent_erase_subject_with(l, "s-1", "retention", "system:ret", CONSENT_ERASE_FORCE, NULL),
           CONSENT_RESULT_CLOSED);
    const char *const ids[] = {"s-1"};
    EXPECT(consent_erase_subjects_json(l, ids, 1, "retention", "system:ret", 0, &json), CONSENT_RESULT_CLOSED);
    EXPECT(consent_readmit_subject(l, "s-1", "back", "system:sis", NULL), CONSENT_RESULT_CLOSED);
    EXPECT(consent_consenting_json(l, "jmsu.marketing", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json),
           CONSENT_RESULT_CLOSED);
    CHECK(json == NULL && simulated && zone[0] == '\0');
    consent_ledger_free(l);
}

static void remove_ledger(const char *path) {
    char file[300];
    const char *suffixes[] = {"", "-wal", "-shm", "-journal", "-lock", ".key"};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        unlink(file);
    }
}

/* Opening a ledger read-only, without create, with another time zone: on a file, or
 * a schema on PostgreSQL. */
static void open_modes(void) {
    char path[512];
    snprintf(path, sizeof path, "%s", test_ledger_location("modes"));
    consent_ledger *l = NULL;
    consent_options ro, nocreate, defaults;
    EXPECT_OK(consent_options_init(&ro));
    ro.read_only = true;
    test_ledger_options(&ro);
    EXPECT_OK(consent_options_init(&nocreate));
    nocreate.create = false;
    test_ledger_options(&nocreate);
    EXPECT_OK(consent_options_init(&defaults));
    test_ledger_options(&defaults);

    /* Missing file (empty schema), read-only or without create. */
    EXPECT(consent_ledger_open(path, &ro, &l), CONSENT_RESULT_NOT_FOUND);
    EXPECT(consent_ledger_open(path, &nocreate, &l), CONSENT_RESULT_NOT_FOUND);
    CHECK(l == NULL);

    /* A ledger opened read-only answers but does not write. */
    EXPECT_OK(consent_ledger_open(path, &defaults, &l));
    EXPECT_OK(consent_register_purpose_json(l, PURPOSE, NULL, NULL));
    EXPECT_OK(consent_ledger_close(l));
    consent_ledger_free(l);
    l = NULL;
    EXPECT_OK(consent_ledger_open(path, &ro, &l));
    consent_status st;
    EXPECT_OK(consent_status_get(l, "s-1", "jmsu.marketing", NULL, &st));
    CHECK(st.state == CONSENT_STATE_NEVER_ASKED);
    EXPECT(consent_withdraw(l, "s-1", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_READ_ONLY);
    EXPECT(consent_register_purpose_json(
               l, "{\"id\":\"other\",\"title\":\"t\",\"controller\":\"c\",\"lawful_basis\":\"a\"}", NULL, NULL),
           CONSENT_RESULT_READ_ONLY);
    consent_ledger_free(l); /* free without close */
    l = NULL;

    /* The time zone is the ledger's, fixed at creation: another one is refused. */
    consent_options zoned;
    EXPECT_OK(consent_options_init(&zoned));
    test_ledger_options(&zoned);
    zoned.time_zone = "America/New_York";
    EXPECT(consent_ledger_open(path, &zoned, &l), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(l == NULL);
    zoned.time_zone = "Europe/London";
    EXPECT_OK(consent_ledger_open(path, &zoned, &l));
    consent_ledger_free(l);
}

/* Files that are not ledgers, or cannot be written: none of them is changed. */
static void not_ledgers(const char *folder) {
    if (file_only("files that are not ledgers, a read-only file", "about files")) {
        return;
    }
    char path[256], junk[256];
    snprintf(path, sizeof path, "%s/ledger.db", folder);
    snprintf(junk, sizeof junk, "%s/junk.db", folder);
    consent_ledger *l = NULL;
    consent_options ro, nocreate;
    EXPECT_OK(consent_options_init(&ro));
    ro.read_only = true;
    EXPECT_OK(consent_options_init(&nocreate));
    nocreate.create = false;
    EXPECT_OK(consent_ledger_open(path, NULL, &l));
    EXPECT_OK(consent_register_purpose_json(l, PURPOSE, NULL, NULL));
    consent_ledger_free(l);
    l = NULL;

    /* A read-only file (permissions do not bind root, so only as another user). */
    if (geteuid() != 0) {
        chmod(path, 0444);
        consent_result r = consent_ledger_open(path, NULL, &l);
        if (r == CONSENT_RESULT_OK) {
            EXPECT(consent_withdraw(l, "s-1", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_READ_ONLY);
            consent_ledger_free(l);
            l = NULL;
        } else {
            CHECK(r == CONSENT_RESULT_READ_ONLY || r == CONSENT_RESULT_STORAGE);
            CHECK(consent_last_error_message(NULL, 0) > 1);
        }
        chmod(path, 0600);
    }
    remove_ledger(path);

    /* An empty file (an interrupted creation?) is not a ledger to a program that only
     * reads or checks; only creating a ledger may write one into it. */
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        fclose(f);
    }
    EXPECT(consent_ledger_open(path, &nocreate, &l), CONSENT_RESULT_NOT_A_LEDGER);
    EXPECT(consent_ledger_open(path, &ro, &l), CONSENT_RESULT_NOT_A_LEDGER);
    CHECK(l == NULL);
    EXPECT_OK(consent_ledger_open(path, NULL, &l));
    consent_head head;
    EXPECT_OK(consent_get_head(l, &head));
    CHECK(head.size == 1);
    consent_ledger_free(l);
    l = NULL;
    remove_ledger(path);

    /* A file of random bytes is not a ledger. */
    f = fopen(junk, "wb");
    CHECK(f != NULL);
    if (f) {
        uint32_t x = 2463534242u;
        for (int i = 0; i < 8192; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            fputc((int)(x & 0xff), f);
        }
        fclose(f);
    }
    EXPECT(consent_ledger_open(junk, NULL, &l), CONSENT_RESULT_NOT_A_LEDGER);
    EXPECT(consent_ledger_open(junk, &ro, &l), CONSENT_RESULT_NOT_A_LEDGER);
    CHECK(l == NULL);
    remove_ledger(junk);

    /* A folder is not a ledger either. */
    EXPECT(consent_ledger_open(folder, NULL, &l), CONSENT_RESULT_NOT_A_LEDGER);
    CHECK(l == NULL);
}

/* Registry files: malformed TOML, and a notice text that does not hash to the sha256
 * the registry states; either way nothing is registered. */
static void registry_files(const char *folder) {
    char registry[256], text[256];
    snprintf(registry, sizeof registry, "%s/registry.toml", folder);
    snprintf(text, sizeof text, "%s/notice.txt", folder);
    consent_ledger *l = NULL;
    EXPECT_OK(test_ledger_new(NULL, &l));
    consent_head before, after;
    EXPECT_OK(consent_get_head(l, &before));
    char *json = NULL;
    FILE *f = fopen(registry, "w");
    if (f) {
        fputs("[[purpose]]\nid = 1\n", f);
        fclose(f);
    }
    EXPECT(consent_registry_load(l, registry, NULL, &json), CONSENT_RESULT_INVALID_ARGUMENT);
    f = fopen(text, "w");
    if (f) {
        fputs("We share your details with JMSU.\n", f);
        fclose(f);
    }
    f = fopen(registry, "w");
    if (f) {
        fputs("[[purpose]]\nid = \"jmsu.marketing\"\ntitle = \"Marketing\"\ncontroller = \"JMSU\"\n"
              "lawful_basis = \"a\"\n\n"
              "[[notice]]\nid = \"jmsu.privacy\"\nversion = \"1\"\ntitle = \"JMSU privacy\"\n"
              "controller = \"JMSU\"\npurposes = [\"jmsu.*\"]\ntext_file = \"notice.txt\"\n"
              "sha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
              f);
        fclose(f);
    }
    EXPECT(consent_registry_load(l, registry, NULL, &json), CONSENT_RESULT_CONFLICT);
    CHECK(strstr(last_message(), "jmsu.privacy") != NULL);
    EXPECT(consent_registry_load(l, registry, "/nonexistent-texts", &json), CONSENT_RESULT_IO);
    EXPECT_OK(consent_get_head(l, &after));
    CHECK(after.size == before.size && json == NULL);
    consent_ledger_free(l);
    unlink(registry);
    unlink(text);
}

static bool file_exists(const char *path) {
    return access(path, F_OK) == 0;
}

/* The pseudonym key lives beside the ledger, never in it: a ledger opened without its
 * key, or with another, is refused with CONSENT_RESULT_KEY. */
static void keys_beside(const char *folder) {
    if (file_only("the key file beside the ledger", "a schema has no beside")) {
        return;
    }
    char path[256], key[300], moved[300];
    snprintf(path, sizeof path, "%s/keyed.db", folder);
    snprintf(key, sizeof key, "%s.key", path);
    snprintf(moved, sizeof moved, "%s/elsewhere.key", folder);
    consent_ledger *l = NULL;
    consent_status st;
    consent_verify_report rep;

    EXPECT_OK(consent_ledger_open(path, NULL, &l));
    EXPECT_OK(consent_register_purpose_json(l, PURPOSE, NULL, NULL));
    EXPECT_OK(consent_withdraw(l, "s-1", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL));
    consent_ledger_free(l);
    l = NULL;
    CHECK(file_exists(key));
    struct stat info;
    CHECK(stat(key, &info) == 0 && (info.st_mode & 0077) == 0); /* 0600 */

    /* Without its key: refused for writing; read-only it verifies but cannot answer
     * about a subject. */
    CHECK(rename(key, moved) == 0);
    EXPECT(consent_ledger_open(path, NULL, &l), CONSENT_RESULT_KEY);
    CHECK(l == NULL);
    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    o.read_only = true;
    o.create = false;
    EXPECT_OK(consent_ledger_open(path, &o, &l));
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.size == 3 && !rep.simulated);
    EXPECT(consent_history_json(l, "s-1", &(char *){NULL}), CONSENT_RESULT_KEY);
    /* Whether a subject with no events was erased takes the key to tell. */
    EXPECT(consent_status_get(l, "s-404", "jmsu.marketing", NULL, &st), CONSENT_RESULT_KEY);
    consent_ledger_free(l);
    l = NULL;

    /* The key named by path. */
    EXPECT_OK(consent_options_init(&o));
    o.create = false;
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_FILE;
    o.pseudonym_key_path = moved;
    EXPECT_OK(consent_ledger_open(path, &o, &l));
    EXPECT_OK(consent_status_get(l, "s-1", "jmsu.marketing", NULL, &st));
    CHECK(st.state == CONSENT_STATE_WITHDRAWN);
    consent_ledger_free(l);
    remove_ledger(path);
    unlink(moved);
}

/* A key given as bytes (no key file made) or as a file, on either backend: another
 * key, or none for a ledger that writes, is CONSENT_RESULT_KEY; read-only without a
 * key, the ledger verifies but answers nothing about a subject. */
static void keys_given(const char *folder) {
    char at[512], key_file[300];
    snprintf(at, sizeof at, "%s", test_ledger_location("keyed"));
    snprintf(key_file, sizeof key_file, "%s/given.key", folder);
    consent_ledger *l = NULL;
    consent_status st;
    consent_verify_report rep;
    consent_options o;

    EXPECT_OK(consent_options_init(&o));
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_BYTES;
    for (size_t i = 0; i < CONSENT_KEY_LEN; i++) {
        o.pseudonym_key[i] = (uint8_t)(i * 7);
    }
    EXPECT_OK(consent_ledger_open(at, &o, &l));
    EXPECT_OK(consent_register_purpose_json(l, PURPOSE, NULL, NULL));
    EXPECT_OK(consent_withdraw(l, "s-2", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL));
    consent_ledger_free(l);
    l = NULL;
    if (!test_on_postgres()) {
        char beside[600];
        snprintf(beside, sizeof beside, "%s.key", at);
        CHECK(!file_exists(beside)); /* a key given as bytes makes no key file */
    }
    o.create = false;
    EXPECT_OK(consent_ledger_open(at, &o, &l));
    EXPECT_OK(consent_status_get(l, "s-2", "jmsu.marketing", NULL, &st));
    CHECK(st.state == CONSENT_STATE_WITHDRAWN);
    consent_ledger_free(l);
    l = NULL;

    o.pseudonym_key[0] ^= 1; /* another key */
    EXPECT(consent_ledger_open(at, &o, &l), CONSENT_RESULT_KEY);
    CHECK(l == NULL);
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_NONE;
    EXPECT(consent_ledger_open(at, &o, &l), CONSENT_RESULT_KEY);
    o.read_only = true;
    EXPECT_OK(consent_ledger_open(at, &o, &l));
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.size == 3);
    EXPECT(consent_history_json(l, "s-2", &(char *){NULL}), CONSENT_RESULT_KEY);
    consent_ledger_free(l);
    l = NULL;

    /* A key file named by path, created (0600) with a new ledger. */
    snprintf(at, sizeof at, "%s", test_ledger_location("key-file"));
    EXPECT_OK(consent_options_init(&o));
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_FILE;
    o.pseudonym_key_path = key_file;
    EXPECT_OK(consent_ledger_open(at, &o, &l));
    EXPECT_OK(consent_register_purpose_json(l, PURPOSE, NULL, NULL));
    EXPECT_OK(consent_withdraw(l, "s-3", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, NULL));
    consent_ledger_free(l);
    l = NULL;
    struct stat info;
    CHECK(stat(key_file, &info) == 0 && (info.st_mode & 0077) == 0);
    o.create = false;
    EXPECT_OK(consent_ledger_open(at, &o, &l));
    EXPECT_OK(consent_status_get(l, "s-3", "jmsu.marketing", NULL, &st));
    CHECK(st.state == CONSENT_STATE_WITHDRAWN);
    consent_ledger_free(l);
    unlink(key_file);
}

static int64_t fixed_now = 1727776800000; /* 2024-10-01T10:00:00Z */
static int64_t fixed_clock(void *context) {
    return *(int64_t *)context;
}

/* A clock is for simulations: a ledger created with one is a simulation for good; a
 * real ledger refuses one. */
static void clocks(void) {
    char real[512], sim[512];
    snprintf(real, sizeof real, "%s", test_ledger_location("real"));
    snprintf(sim, sizeof sim, "%s", test_ledger_location("simulation"));
    consent_ledger *l = NULL;
    consent_options o;
    consent_verify_report rep;
    consent_event_ref ref;
    bool simulated = true;

    EXPECT_OK(consent_options_init(&o));
    test_ledger_options(&o);
    EXPECT_OK(consent_ledger_open(real, &o, &l));
    EXPECT_OK(consent_ledger_is_simulated(l, &simulated));
    CHECK(!simulated);
    consent_ledger_free(l);
    l = NULL;
    o.clock = fixed_clock;
    o.clock_context = &fixed_now;
    EXPECT(consent_ledger_open(real, &o, &l), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(l == NULL);

    EXPECT_OK(consent_ledger_open(sim, &o, &l));
    EXPECT_OK(consent_register_purpose_json(l, PURPOSE, NULL, NULL));
    EXPECT_OK(consent_withdraw(l, "s-1", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref));
    CHECK(ref.recorded_at_ms == fixed_now);
    consent_ledger_free(l);
    l = NULL;
    fixed_now += 1000;
    EXPECT_OK(consent_ledger_open(sim, &o, &l)); /* a simulation reopens with its clock */
    EXPECT_OK(consent_ledger_is_simulated(l, &simulated));
    CHECK(simulated);
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.simulated && rep.size == 3);
    EXPECT_OK(consent_withdraw(l, "s-2", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref));
    CHECK(ref.recorded_at_ms == fixed_now);
    fixed_now -= 60000; /* a simulation may travel back in time: it says it is one */
    EXPECT_OK(consent_withdraw(l, "s-3", "jmsu.marketing", NULL, NULL, CONSENT_TIME_ABSENT, &ref));
    CHECK(ref.recorded_at_ms == fixed_now);
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.simulated && rep.size == 5);
    consent_ledger_free(l);
}

/* PostgreSQL URLs that cannot open a ledger, on either backend (none reaches a
 * server): each is refused with its code and a message, never a panic, and the handle
 * is untouched. */
static void postgres_urls(void) {
    consent_ledger *l = (consent_ledger *)(uintptr_t)0x1;
    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    o.busy_timeout_ms = 5000; /* bounds the connection attempts */

    /* The default key is the file beside the ledger: a schema has no beside. */
    EXPECT(consent_ledger_open("postgresql://consent@/postgres?host=/nonexistent&schema=ledger", &o, &l),
           CONSENT_RESULT_KEY);
    CHECK(strstr(last_message(), "as a file or as bytes") != NULL);
    o.pseudonym_key_source = CONSENT_KEY_SOURCE_BYTES;
    memset(o.pseudonym_key, 1, CONSENT_KEY_LEN);

    /* Schema names that would need quoting, or are PostgreSQL's own. */
    EXPECT(consent_ledger_open("postgresql://consent@/postgres?host=/nonexistent&schema=Bad-Name", &o, &l),
           CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(last_message(), "schema `Bad-Name`") != NULL);
    EXPECT(consent_ledger_open("postgres://consent@/postgres?host=/nonexistent&schema=pg_catalog", &o, &l),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_ledger_open("postgresql://consent@/postgres?host=/nonexistent&schema=", &o, &l),
           CONSENT_RESULT_INVALID_ARGUMENT);
    /* Not a URL libpq reads. */
    EXPECT(consent_ledger_open("postgresql://consent@/postgres?host=/nonexistent&port=x&schema=ledger", &o, &l),
           CONSENT_RESULT_INVALID_ARGUMENT);

    /* No server: an unknown host, a socket folder without one. The password never
     * shows in the message. */
    EXPECT(consent_ledger_open("postgresql://consent@no-such-host.invalid/postgres?schema=ledger", &o, &l),
           CONSENT_RESULT_STORAGE);
    CHECK(strstr(last_message(), "cannot connect") != NULL);
    EXPECT(consent_ledger_open("postgresql://consent:s3cret@/postgres?host=/nonexistent-consent-socket", &o, &l),
           CONSENT_RESULT_STORAGE);
    CHECK(strstr(last_message(), "cannot connect") != NULL && strstr(last_message(), "s3cret") == NULL);
    CHECK(l == (consent_ledger *)(uintptr_t)0x1);

    /* On the test server: a bad schema name is refused before anything is made. */
    if (test_on_postgres()) {
        char url[512];
        const char *server = getenv("CONSENT_TEST_PG_URL");
        snprintf(url, sizeof url, "%s%cschema=Bad-Name", server, strchr(server, '?') ? '&' : '?');
        EXPECT(consent_ledger_open(url, &o, &l), CONSENT_RESULT_INVALID_ARGUMENT);
        CHECK(l == (consent_ledger *)(uintptr_t)0x1);
    }
}

/* Copies and grants with bad arguments: NULL, empty, a destination that holds
 * something else, a schema or role that cannot be named, an unknown access, a small
 * buffer. Out-parameters stay untouched. */
static void copies_and_grants(const char *folder) {
    consent_ledger *l = fresh_ledger();
    consent_head head = {4242, {0}};
    consent_options o;
    EXPECT(consent_ledger_copy_to(NULL, "/tmp/never-created.db", NULL, &head), NUL_ARG);
    EXPECT(consent_ledger_copy_to(l, NULL, NULL, &head), NUL_ARG);
    EXPECT(consent_ledger_copy_to(l, "", NULL, &head), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_ledger_copy_to(l, "postgresql://consent@/postgres?host=/nonexistent&schema=Bad-Name", NULL, &head),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT_OK(consent_options_init(&o));
    o.synchronous = 7;
    EXPECT(consent_ledger_copy_to(l, "/tmp/never-created.db", &o, &head), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_ledger_copy_to(l, folder, NULL, &head), CONSENT_RESULT_NOT_A_LEDGER); /* a folder */
    CHECK(head.size == 4242 && access("/tmp/never-created.db", F_OK) != 0);
    EXPECT_OK(consent_ledger_close(l));
    EXPECT(consent_ledger_copy_to(l, "/tmp/never-created.db", NULL, &head), CONSENT_RESULT_CLOSED);
    consent_ledger_free(l);

    char sql[CONSENT_GRANTS_SQL_LEN];
    EXPECT_OK(consent_grants_sql("ljmu", "sis_app", CONSENT_ACCESS_APPEND, sql, sizeof sql));
    CHECK(strstr(sql, "GRANT INSERT ON ljmu.events") != NULL && strstr(sql, "TO \"sis_app\"") != NULL);
    CHECK(strstr(sql, "blank_subject") == NULL && strstr(sql, "UPDATE ON ljmu.events") == NULL);
    EXPECT_OK(consent_grants_sql("ljmu", "dpo", CONSENT_ACCESS_ERASE, sql, sizeof sql));
    CHECK(strstr(sql, "EXECUTE ON FUNCTION ljmu.blank_subject") != NULL);
    EXPECT_OK(consent_grants_sql("ljmu", "auditor", CONSENT_ACCESS_READ, sql, sizeof sql));
    CHECK(strstr(sql, "GRANT SELECT") != NULL && strstr(sql, "INSERT") == NULL);
    size_t needed = strlen(sql) + 1;
    strcpy(sql, "untouched");
    EXPECT(consent_grants_sql("ljmu", "auditor", CONSENT_ACCESS_READ, sql, needed - 1),
           CONSENT_RESULT_BUFFER_TOO_SMALL);
    EXPECT(consent_grants_sql(NULL, "r", CONSENT_ACCESS_READ, sql, sizeof sql), NUL_ARG);
    EXPECT(consent_grants_sql("ljmu", NULL, CONSENT_ACCESS_READ, sql, sizeof sql), NUL_ARG);
    EXPECT(consent_grants_sql("ljmu", "r", CONSENT_ACCESS_READ, NULL, 0), NUL_ARG);
    EXPECT(consent_grants_sql("Bad-Name", "r", CONSENT_ACCESS_READ, sql, sizeof sql),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_grants_sql("ljmu", "r\"; DROP SCHEMA ljmu; --", CONSENT_ACCESS_READ, sql, sizeof sql),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_grants_sql("ljmu", "", CONSENT_ACCESS_READ, sql, sizeof sql), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_grants_sql("ljmu", BAD_UTF8, CONSENT_ACCESS_READ, sql, sizeof sql), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_grants_sql("ljmu", "r", 0, sql, sizeof sql), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_grants_sql("ljmu", "r", 4, sql, sizeof sql), CONSENT_RESULT_INVALID_ARGUMENT);
    char role[80];
    memset(role, 'r', 64);
    role[64] = '\0'; /* one byte longer than PostgreSQL's names */
    EXPECT(consent_grants_sql("ljmu", role, CONSENT_ACCESS_READ, sql, sizeof sql), CONSENT_RESULT_INVALID_ARGUMENT);
    role[63] = '\0';
    CHECK(strcmp(sql, "untouched") == 0);
    EXPECT_OK(consent_grants_sql("ljmu", role, CONSENT_ACCESS_ERASE, sql, sizeof sql));
}

int main(void) {
    char folder[] = "/tmp/consent-test-errors-XXXXXX";
    if (!mkdtemp(folder)) {
        perror("mkdtemp");
        return 1;
    }
    consent_ledger *l = fresh_ledger();
    null_arguments(l);
    bad_utf8_and_values(l);
    batches_out_of_turn(l);
    consent_status st;
    EXPECT_OK(consent_status_get(l, "s-1", "jmsu.marketing", NULL, &st));
    CHECK(st.state == CONSENT_STATE_GIVEN); /* nothing above changed the ledger */
    consent_head head;
    EXPECT_OK(consent_get_head(l, &head));
    CHECK(head.size == 4); /* ledger_configured, purpose, notice, grant */
    consent_ledger_free(l);
    messages();
    unknown_recipients();
    closed_ledger();
    open_modes();
    not_ledgers(folder);
    registry_files(folder);
    keys_beside(folder);
    keys_given(folder);
    clocks();
    postgres_urls();
    copies_and_grants(folder);
    rmdir(folder);
    return finish("test_errors");
}
