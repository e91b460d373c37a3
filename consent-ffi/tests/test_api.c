/*
 * The whole surface from C, on an in-memory ledger created with a fixed clock (a
 * simulation): registry, every event kind, statuses, JSON answers, heads, proofs bound
 * to their event, verification, batch handles and erasure. Event 0 of every ledger is
 * its own `ledger_configured` event, so the caller's events start at 1.
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
    CHECK(o.pseudonym_key_source == CONSENT_KEY_SOURCE_BESIDE && o.pseudonym_key_path == NULL);
    CHECK(o.erasure_wait_ms == 2000);
    o.clock = clock_fn;
    o.clock_context = &now_ms;
    consent_ledger *l = NULL;
    EXPECT_OK(consent_ledger_open_in_memory(&o, &l));
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
    EXPECT_OK(consent_purposes_json(l, &json));
    CHECK(json && strstr(json, "\"engagement\"") && strstr(json, "\"NHS\""));
    consent_string_free(json);
    EXPECT_OK(consent_purpose_json(l, "engagement", &json));
    CHECK(json && strstr(json, "\"lawful_basis\":\"f\""));
    consent_string_free(json);
    EXPECT_OK(consent_notices_json(l, &json));
    CHECK(json && strstr(json, "ljmu.wellbeing"));
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

    EXPECT_OK(consent_withdraw(l, "s-7", "wellbeing.share-external", NULL, NULL));
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
    EXPECT(consent_withdraw(l, "s-10", "wellbeing.share-external", NULL, NULL), CONSENT_RESULT_BATCH);
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
        &version));
    CHECK(version == 1);
    EXPECT_OK(consent_batch_register_notice_text(b, "ljmu.alumni", "2024-09", "Alumni notice", "We will email you."));
    EXPECT(consent_batch_register_notice_json(b,
        "{\"id\":\"ljmu.wellbeing\",\"version\":\"2024-09\",\"title\":\"Wellbeing notice\","
        "\"sha256\":\"0000000000000000000000000000000000000000000000000000000000000003\"}"),
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
    expect_state(l, "s-9", "wellbeing.share-external", NULL, CONSENT_STATE_WITHDRAWN);

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
    CHECK(er.wal_truncated); /* in memory: nothing can pin the erased values */
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
    done = false;
    EXPECT_OK(consent_complete_erasures(l, 0, &done));
    CHECK(done);
    EXPECT_OK(consent_complete_erasures(l, 100, NULL));
    EXPECT(consent_complete_erasures(l, -1, &done), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT_OK(consent_verify(l, &rep));
    CHECK(rep.ok && rep.simulated);

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
    EXPECT_OK(consent_ledger_open_in_memory(NULL, &m));
    EXPECT_OK(consent_ledger_is_simulated(m, &simulated));
    CHECK(!simulated);
    EXPECT_OK(consent_batch_begin(m, &b));
    EXPECT_OK(consent_ledger_close(m));
    EXPECT(consent_batch_append(b, &w, NULL), CONSENT_RESULT_CLOSED);
    EXPECT(consent_batch_commit(b), CONSENT_RESULT_CLOSED);
    consent_batch_free(b);
    consent_ledger_free(m);
    return finish("test_api");
}
