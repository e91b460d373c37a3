/*
 * The whole surface from C, on an in-memory ledger with a fixed clock: registry,
 * every event kind, statuses, JSON answers, heads, proofs, verification, batches and
 * erasure.
 */
#include <stdint.h>

#include "test_util.h"

static int64_t now_ms = 1727776800000; /* 2024-10-01T10:00:00Z */
static int64_t clock_fn(void *context) {
    return *(int64_t *)context;
}

static const int64_t DAY = 86400000;

static void expect_state(consent_ledger *l, const char *subject, const char *purpose, const char *recipient,
                         consent_state want) {
    consent_status st;
    EXPECT_OK(consent_get_status(l, subject, purpose, recipient, &st));
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

int main(void) {
    CHECK(strncmp(consent_version(), "0.", 2) == 0 || CONSENT_VERSION_MAJOR > 0);

    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    CHECK(o.create && !o.read_only && o.busy_timeout_ms == 30000 && o.clock == NULL);
    o.clock = clock_fn;
    o.clock_context = &now_ms;
    consent_ledger *l = NULL;
    EXPECT_OK(consent_ledger_open_in_memory(&o, &l));

    /* ---- registry ---- */
    uint32_t version = 0;
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"wellbeing.share-external\",\"title\":\"Sharing with external bodies\",\"controller\":\"LJMU\","
        "\"lawful_basis\":\"a\",\"recipients\":[\"NHS\",\"SFE\"]}", &version));
    CHECK(version == 1);
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"wellbeing.share-external\",\"title\":\"Sharing with external bodies\",\"controller\":\"LJMU\","
        "\"lawful_basis\":\"a\",\"recipients\":[\"NHS\",\"SFE\"]}", &version));
    CHECK(version == 1); /* unchanged: nothing appended */
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"engagement\",\"title\":\"My Engagement\",\"controller\":\"LJMU\",\"lawful_basis\":\"f\"}", NULL));
    EXPECT_OK(consent_register_notice_json(l,
        "{\"id\":\"ljmu.wellbeing\",\"version\":\"2024-09\",\"title\":\"Wellbeing notice\","
        "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000001\"}"));
    EXPECT(consent_register_notice_json(l,
        "{\"id\":\"ljmu.wellbeing\",\"version\":\"2024-09\",\"title\":\"Wellbeing notice\","
        "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000002\"}"),
        CONSENT_RESULT_CONFLICT);
    char *json = NULL;
    EXPECT_OK(consent_purposes_json(l, &json));
    CHECK(json && strstr(json, "\"engagement\"") && strstr(json, "\"NHS\""));
    consent_string_free(json);
    EXPECT_OK(consent_purpose_json(l, "engagement", &json));
    CHECK(json && strstr(json, "\"lawful_basis\":\"f\""));
    consent_string_free(json);
    EXPECT_OK(consent_notices_json(l, &json));
    CHECK(json && strstr(json, "ljmu.wellbeing"));
    consent_string_free(json);
    CHECK(size_of(l) == 3);

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
    CHECK(strlen(nhs.id) == 36 && nhs.seq == 3);
    CHECK(nhs.effective_at_ms == now_ms && nhs.recorded_at_ms == now_ms && nhs.expires_at_ms == now_ms + 30 * DAY);
    CHECK(nhs.effect_deadline_ms == CONSENT_TIME_ABSENT);
    EXPECT_OK(consent_append(l, &p, &again));
    CHECK(again.seq == nhs.seq && strcmp(again.id, nhs.id) == 0);
    p.method = CONSENT_METHOD_EMAIL;
    EXPECT(consent_append(l, &p, &again), CONSENT_RESULT_CONFLICT);
    p.source_id = NULL;
    p.recipient = "a landlord";
    EXPECT(consent_append(l, &p, &again), CONSENT_RESULT_UNKNOWN_RECIPIENT);
    expect_state(l, "s-1", "wellbeing.share-external", "NHS", CONSENT_STATE_GIVEN);
    expect_state(l, "s-1", "wellbeing.share-external", "SFE", CONSENT_STATE_NEVER_ASKED);

    consent_status st;
    EXPECT_OK(consent_get_status(l, "s-1", "wellbeing.share-external", "NHS", &st));
    CHECK(st.permits && st.lawful_basis == 'a' && st.purpose_version == 1 && st.has_event);
    CHECK(strcmp(st.event_id, nhs.id) == 0 && st.event_seq == nhs.seq);
    CHECK(st.until_ms == now_ms + 30 * DAY && st.has_notice && st.notice_sha256[31] == 1);
    EXPECT_OK(consent_get_status_json(l, "s-1", "wellbeing.share-external", "NHS", CONSENT_TIME_ABSENT,
                                      CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"state\":\"given\"") && strstr(json, "\"version\":\"2024-09\""));
    consent_string_free(json);
    EXPECT_OK(consent_get_status_at(l, "s-1", "wellbeing.share-external", "NHS", now_ms + 31 * DAY,
                                    CONSENT_TIME_ABSENT, &st));
    CHECK(st.state == CONSENT_STATE_EXPIRED && !st.permits);

    EXPECT_OK(consent_append_json(l, &(consent_event_params){
        CONSENT_EVENT_KIND_NOTICE_SERVED, "s-2", "wellbeing.share-external", NULL, "ljmu.wellbeing", "2024-09",
        false, CONSENT_METHOD_PORTAL, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL,
        "{\"page\":\"consent-form\"}", NULL}, &json));
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
    EXPECT_OK(consent_refuse(l, "s-3", "wellbeing.share-external", CONSENT_METHOD_PHONE, NULL, NULL));
    expect_state(l, "s-3", "wellbeing.share-external", NULL, CONSENT_STATE_REFUSED);
    EXPECT_OK(consent_withdraw(l, "s-4", "wellbeing.share-external", NULL, NULL)); /* nothing to withdraw: recorded */
    expect_state(l, "s-4", "wellbeing.share-external", NULL, CONSENT_STATE_WITHDRAWN);
    EXPECT_OK(consent_give(l, "s-5", "wellbeing.share-external", "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL,
                           false, NULL, NULL));
    EXPECT_OK(consent_revoke(l, "s-5", "wellbeing.share-external", "system:sis", NULL));
    expect_state(l, "s-5", "wellbeing.share-external", NULL, CONSENT_STATE_REVOKED);
    expect_state(l, "s-6", "engagement", NULL, CONSENT_STATE_NOT_CONSENT_BASED);
    EXPECT(consent_give(l, "s-6", "engagement", "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL, false, NULL,
                        NULL),
           CONSENT_RESULT_INVALID_CONSENT);
    EXPECT_OK(consent_object(l, "s-6", "engagement", NULL, NULL));
    expect_state(l, "s-6", "engagement", NULL, CONSENT_STATE_OBJECTED);

    /* ---- consenting, history, change feed, export ---- */
    EXPECT_OK(consent_give(l, "s-7", "wellbeing.share-external", "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL,
                           false, NULL, NULL));
    EXPECT_OK(consent_consenting_json(l, "wellbeing.share-external", NULL, CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"s-7\"") && !strstr(json, "\"s-5\""));
    consent_string_free(json);
    EXPECT_OK(consent_consenting_json(l, "wellbeing.share-external", "NHS", now_ms - DAY, &json));
    CHECK(json && strstr(json, "\"subjects\":[]")); /* s-1's NHS grant was invalidated, retroactively */
    consent_string_free(json);
    EXPECT_OK(consent_history_json(l, "s-1", &json));
    CHECK(json && strstr(json, "\"invalidated\"") && strstr(json, "appointment-91"));
    consent_string_free(json);
    EXPECT_OK(consent_changes_since_json(l, 0, 2, &json));
    CHECK(json && strstr(json, "\"purpose_defined\"") && !strstr(json, "\"notice_defined\""));
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

    EXPECT_OK(consent_withdraw(l, "s-7", "wellbeing.share-external", NULL, NULL));
    EXPECT_OK(consent_get_head(l, &head));
    CHECK(head.size == old_head.size + 1);
    consent_verify_report rep;
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.size == head.size && rep.has_head && !rep.has_first_bad_seq && rep.problem[0] == '\0');
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

    EXPECT_OK(consent_prove_inclusion_json(l, nhs.id, CONSENT_SIZE_CURRENT, &json));
    CHECK(json && strstr(json, "\"leaf_index\":3"));
    EXPECT_OK(consent_check_inclusion_proof(json, &head));
    EXPECT(consent_check_inclusion_proof(json, &old_head), CONSENT_RESULT_INVALID_ARGUMENT); /* other size */
    consent_head wrong = head;
    wrong.root[5] ^= 0x80;
    EXPECT(consent_check_inclusion_proof(json, &wrong), CONSENT_RESULT_PROOF_REJECTED);
    consent_string_free(json);
    EXPECT(consent_prove_inclusion_json(l, "00000000-0000-0000-0000-000000000000", CONSENT_SIZE_CURRENT, &json),
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
    EXPECT_OK(consent_batch_begin(l));
    EXPECT_OK(consent_withdraw(l, "s-8", "wellbeing.share-external", NULL, NULL));
    EXPECT_OK(consent_withdraw(l, "s-9", "wellbeing.share-external", NULL, NULL));
    EXPECT_OK(consent_batch_rollback(l));
    CHECK(size_of(l) == before);
    EXPECT_OK(consent_batch_begin(l));
    EXPECT_OK(consent_withdraw(l, "s-8", "wellbeing.share-external", NULL, NULL));
    EXPECT_OK(consent_withdraw(l, "s-9", "wellbeing.share-external", NULL, NULL));
    EXPECT_OK(consent_batch_commit(l));
    CHECK(size_of(l) == before + 2);

    /* ---- erasure ---- */
    consent_erasure_report er;
    EXPECT_OK(consent_erase_subject(l, "s-5", "six years after leaving", "system:retention", &er));
    CHECK(er.events_erased == 2 && strlen(er.event_id) == 36 && er.seq == before + 2);
    expect_state(l, "s-5", "wellbeing.share-external", NULL, CONSENT_STATE_ERASED);
    EXPECT(consent_give(l, "s-5", "wellbeing.share-external", "ljmu.wellbeing", "2024-09", CONSENT_METHOD_PORTAL,
                        false, NULL, NULL),
           CONSENT_RESULT_SUBJECT_ERASED);
    EXPECT_OK(consent_withdraw(l, "s-5", "wellbeing.share-external", NULL, NULL)); /* still recorded */
    EXPECT(consent_erase_subject(l, "s-5", "again", NULL, NULL), CONSENT_RESULT_SUBJECT_ERASED);
    EXPECT(consent_erase_subject(l, "s-6", " ", NULL, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT_OK(consent_history_json(l, "s-5", &json));
    CHECK(json && !strstr(json, "\"s-5\""));
    consent_string_free(json);
    bool done = false;
    EXPECT_OK(consent_checkpoint(l, &done));
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok);

    consent_ledger_free(l);
    return finish("test_api");
}
