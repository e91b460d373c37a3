/* Typed data for C (issue 16, libconsent.so.0.2): whether an append was new, typed
 * give/withdraw with a recipient and an event time, the notice a status names,
 * purposes and notices by version, and a subject's history as structs. Each with what
 * a careless or hostile caller passes: NULL, bad UTF-8, times out of range, unknown
 * versions. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdint.h>

#include "test_util.h"

static int64_t now_ms = 1727776800000; /* 2024-10-01T10:00:00Z */
static int64_t clock_fn(void *context) {
    return *(int64_t *)context;
}
static const int64_t DAY = 86400000;
static const char *BAD_UTF8 = "s-\xff\xfe";
static const char *SHARE = "wellbeing.share-external";

static consent_ledger *new_ledger(void) {
    consent_options o;
    consent_ledger *l = NULL;
    EXPECT_OK(consent_options_init(&o));
    o.clock = clock_fn;
    o.clock_context = &now_ms;
    EXPECT_OK(test_ledger_new(&o, &l));
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"wellbeing.share-external\",\"title\":\"Sharing\",\"controller\":\"LJMU\","
        "\"lawful_basis\":\"a\",\"recipients\":[\"NHS\",\"SFE\"]}", NULL, NULL));
    EXPECT_OK(consent_register_notice_text(l, "ljmu.wellbeing", "1", "Wellbeing", "First text.", "LJMU",
                                           &SHARE, 1, NULL));
    EXPECT_OK(consent_register_notice_text(l, "ljmu.wellbeing", "2", "Wellbeing", "Second text.", "LJMU",
                                           &SHARE, 1, NULL));
    return l;
}

static consent_status status(consent_ledger *l, const char *subject, const char *recipient) {
    consent_status st;
    memset(&st, 0, sizeof st);
    EXPECT_OK(consent_status_get(l, subject, SHARE, recipient, &st));
    return st;
}

/* A retry with the same source id and content returns the event on record, not new;
 * through every function that fills a consent_event_ref. */
static void is_new_on_a_retry(consent_ledger *l) {
    consent_event_params p;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_WITHDRAWN;
    p.subject = "s-retry";
    p.purpose = SHARE;
    p.source_id = "sis-row-1";
    consent_event_ref first, again;
    EXPECT_OK(consent_append(l, &p, &first));
    CHECK(first.is_new);
    EXPECT_OK(consent_append(l, &p, &again));
    CHECK(!again.is_new && again.seq == first.seq && strcmp(again.id, first.id) == 0);
    p.recorded_by = "staff:x"; /* other content under the same key */
    EXPECT(consent_append(l, &p, &again), CONSENT_RESULT_CONFLICT);
    p.recorded_by = NULL;

    /* In one call: a new event, the one on record, and the same new event twice. */
    consent_event_params many[3];
    many[0] = p;
    many[0].source_id = "sis-row-2";
    many[1] = p;
    many[2] = many[0];
    consent_event_ref refs[3];
    EXPECT_OK(consent_append_many(l, many, 3, refs));
    CHECK(refs[0].is_new && !refs[1].is_new && !refs[2].is_new);
    CHECK(refs[1].seq == first.seq && refs[2].seq == refs[0].seq);

    consent_batch *b = NULL;
    EXPECT_OK(consent_batch_begin(l, &b));
    many[0].source_id = "sis-row-3";
    EXPECT_OK(consent_batch_append_many(b, many, 3, refs));
    CHECK(refs[0].is_new && !refs[1].is_new && !refs[2].is_new);
    EXPECT_OK(consent_batch_append(b, &p, &again));
    CHECK(!again.is_new);
    EXPECT_OK(consent_batch_commit(b));
    consent_batch_free(b);

    /* The typed functions take no source id: always new. */
    EXPECT_OK(consent_withdraw(l, "s-retry", SHARE, NULL, NULL, CONSENT_TIME_ABSENT, &again));
    CHECK(again.is_new);
}

/* A grant for one recipient, dated earlier, with an expiry; withdrawn for that recipient. */
static void give_with_recipient_and_time(consent_ledger *l) {
    consent_event_ref g, w;
    int64_t then = now_ms - 3 * DAY, until = now_ms + 30 * DAY;
    EXPECT_OK(consent_give(l, "s-1", SHARE, "NHS", "ljmu.wellbeing", "2", CONSENT_METHOD_PAPER, false, "staff:kim",
                           then, until, &g));
    CHECK(g.is_new && g.effective_at_ms == then && g.recorded_at_ms == now_ms && g.expires_at_ms == until);
    consent_status st = status(l, "s-1", "NHS");
    CHECK(st.state == CONSENT_STATE_GIVEN && st.since_ms == then && st.until_ms == until);
    CHECK(status(l, "s-1", "SFE").state == CONSENT_STATE_NEVER_ASKED);

    EXPECT_OK(consent_withdraw(l, "s-1", SHARE, "NHS", NULL, now_ms - DAY, &w));
    CHECK(w.effective_at_ms == now_ms - DAY);
    CHECK(status(l, "s-1", "NHS").state == CONSENT_STATE_WITHDRAWN);
    consent_status at;
    EXPECT_OK(consent_status_get_at(l, "s-1", SHARE, "NHS", now_ms - 2 * DAY, CONSENT_TIME_ABSENT, &at));
    CHECK(at.state == CONSENT_STATE_GIVEN); /* the withdrawal is not retroactive */

    EXPECT_OK(consent_serve_notice(l, "s-2", SHARE, "SFE", "ljmu.wellbeing", "1", CONSENT_METHOD_PORTAL, NULL,
                                   now_ms - DAY, &g));
    CHECK(g.effective_at_ms == now_ms - DAY);
    EXPECT_OK(consent_refuse(l, "s-2", SHARE, "SFE", CONSENT_METHOD_PHONE, NULL, CONSENT_TIME_ABSENT, NULL));
    CHECK(status(l, "s-2", "SFE").state == CONSENT_STATE_REFUSED);
    CHECK(status(l, "s-2", "NHS").state == CONSENT_STATE_NEVER_ASKED);
    EXPECT(consent_revoke(l, "s-2", SHARE, "landlord", NULL, CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_UNKNOWN_RECIPIENT);

    /* What a careless caller passes in the new parameters. */
    EXPECT(consent_give(l, "s-3", SHARE, BAD_UTF8, "ljmu.wellbeing", "2", CONSENT_METHOD_PORTAL, false, NULL,
                        CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_give(l, "s-3", SHARE, " NHS", "ljmu.wellbeing", "2", CONSENT_METHOD_PORTAL, false, NULL,
                        CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_give(l, "s-3", SHARE, "NHS", "ljmu.wellbeing", "2", CONSENT_METHOD_PORTAL, false, NULL,
                        CONSENT_TIME_MAX + 1, CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_give(l, "s-3", SHARE, "NHS", "ljmu.wellbeing", "2", CONSENT_METHOD_PORTAL, false, NULL,
                        CONSENT_TIME_ABSENT, CONSENT_TIME_MIN - 1, NULL),
           CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_withdraw(l, "s-3", SHARE, BAD_UTF8, NULL, CONSENT_TIME_ABSENT, NULL), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_object(l, "s-3", SHARE, NULL, NULL, CONSENT_TIME_MIN - 1, NULL), CONSENT_RESULT_INVALID_TIME);
    EXPECT(consent_serve_notice(l, "s-3", SHARE, BAD_UTF8, "ljmu.wellbeing", "2", CONSENT_METHOD_PORTAL, NULL,
                                CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_INVALID_UTF8);
    CHECK(status(l, "s-3", "NHS").state == CONSENT_STATE_NEVER_ASKED); /* nothing was recorded */
}

/* The notice a status names, as strings the handle owns. */
static void status_names_its_notice(consent_ledger *l) {
    consent_status st = status(l, "s-9", "NHS");
    CHECK(!st.has_notice && st.notice_id == NULL && st.notice_version == NULL);

    EXPECT_OK(consent_give(l, "s-9", SHARE, NULL, "ljmu.wellbeing", "1", CONSENT_METHOD_PORTAL, false, NULL,
                           CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    st = status(l, "s-9", "NHS");
    CHECK(st.has_notice && st.notice_id && st.notice_version);
    CHECK(st.notice_id && strcmp(st.notice_id, "ljmu.wellbeing") == 0);
    CHECK(st.notice_version && strcmp(st.notice_version, "1") == 0);
    const char *id = st.notice_id, *version = st.notice_version;

    /* Other calls, other answers: the pointers stay valid, and the same text is kept once. */
    EXPECT_OK(consent_give(l, "s-10", SHARE, NULL, "ljmu.wellbeing", "2", CONSENT_METHOD_PORTAL, false, NULL,
                           CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    consent_status other = status(l, "s-10", "SFE");
    CHECK(other.notice_version && strcmp(other.notice_version, "2") == 0 && other.notice_id == id);
    consent_question q[2] = {{"s-9", SHARE, "NHS"}, {"s-10", SHARE, "NHS"}};
    consent_status many[2];
    EXPECT_OK(consent_status_get_many(l, q, 2, many));
    CHECK(many[0].notice_version == version && many[1].notice_version == other.notice_version);
    char *json = NULL;
    EXPECT_OK(consent_status_get_json(l, "s-9", SHARE, "NHS", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json));
    consent_string_free(json);
    CHECK(strcmp(id, "ljmu.wellbeing") == 0 && strcmp(version, "1") == 0);

    /* A refusal names no notice. */
    EXPECT_OK(consent_refuse(l, "s-9", SHARE, NULL, CONSENT_METHOD_PORTAL, NULL, CONSENT_TIME_ABSENT, NULL));
    st = status(l, "s-9", "NHS");
    CHECK(st.state == CONSENT_STATE_REFUSED && st.notice_id == NULL && st.notice_version == NULL);
    CHECK(strcmp(version, "1") == 0);
}

/* A purpose or notice by version. */
static void by_version(consent_ledger *l) {
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"wellbeing.share-external\",\"title\":\"Sharing, renamed\",\"controller\":\"LJMU\","
        "\"lawful_basis\":\"a\",\"recipients\":[\"NHS\",\"SFE\"]}", NULL, NULL));
    char *json = NULL;
    EXPECT_OK(consent_purpose_json(l, SHARE, 1, &json));
    CHECK(json && strstr(json, "\"version\":1") && strstr(json, "\"Sharing\""));
    consent_string_free(json);
    EXPECT_OK(consent_purpose_json(l, SHARE, 2, &json));
    CHECK(json && strstr(json, "\"version\":2") && strstr(json, "Sharing, renamed"));
    consent_string_free(json);
    EXPECT_OK(consent_purpose_json(l, SHARE, 0, &json)); /* the current one */
    CHECK(json && strstr(json, "\"version\":2"));
    consent_string_free(json);
    json = NULL;
    EXPECT(consent_purpose_json(l, SHARE, 3, &json), CONSENT_RESULT_NOT_FOUND);
    EXPECT(consent_purpose_json(l, "no.such", 1, &json), CONSENT_RESULT_UNKNOWN_PURPOSE);
    EXPECT(consent_purpose_json(l, BAD_UTF8, 1, &json), CONSENT_RESULT_INVALID_UTF8);
    CHECK(json == NULL); /* out-parameters are written only on success */

    EXPECT_OK(consent_notice_json(l, "ljmu.wellbeing", "1", &json));
    CHECK(json && strstr(json, "\"version\":\"1\"") && strstr(json, "\"title\":\"Wellbeing\""));
    consent_string_free(json);
    json = NULL;
    EXPECT(consent_notice_json(l, "ljmu.wellbeing", "3", &json), CONSENT_RESULT_UNKNOWN_NOTICE);
    EXPECT(consent_notice_json(l, "ljmu.wellbeing", NULL, &json), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_notice_json(l, NULL, "1", &json), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_notice_json(l, "ljmu.wellbeing", BAD_UTF8, &json), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_notice_json(l, "ljmu.wellbeing", "1", NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_notice_json(NULL, "ljmu.wellbeing", "1", &json), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(json == NULL);
}

/* A subject's history as structs, over several kinds. */
static void history_as_structs(consent_ledger *l) {
    consent_event_params p;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "s-h";
    p.purpose = SHARE;
    p.recipient = "SFE";
    p.notice_id = "ljmu.wellbeing";
    p.notice_version = "2";
    p.method = CONSENT_METHOD_EMAIL;
    p.recorded_by = "system:sis";
    p.source_id = "h-1";
    p.effective_at_ms = now_ms - DAY;
    consent_event_ref given;
    EXPECT_OK(consent_serve_notice(l, "s-h", SHARE, NULL, "ljmu.wellbeing", "2", CONSENT_METHOD_PORTAL, NULL,
                                   CONSENT_TIME_ABSENT, NULL));
    EXPECT_OK(consent_append(l, &p, &given));
    EXPECT_OK(consent_withdraw(l, "s-h", SHARE, "SFE", "staff:kim", CONSENT_TIME_ABSENT, NULL));
    EXPECT_OK(consent_invalidate(l, "s-h", SHARE, given.id, "staff:kim", NULL));

    consent_history_page *h = NULL;
    EXPECT_OK(consent_history(l, "s-h", &h));
    CHECK(h && h->n_events == 4);
    if (h && h->n_events == 4) {
        const consent_event *e = h->events;
        CHECK(strcmp(e[0].kind, "notice_served") == 0 && e[0].recipient == NULL);
        CHECK(strcmp(e[0].recorded_by, "subject") == 0 && e[0].method == CONSENT_METHOD_PORTAL);
        CHECK(strcmp(e[1].kind, "given") == 0 && strcmp(e[1].id, given.id) == 0 && e[1].seq == given.seq);
        CHECK(strcmp(e[1].subject, "s-h") == 0 && strcmp(e[1].purpose, SHARE) == 0 && e[1].purpose_version >= 1);
        CHECK(strcmp(e[1].recipient, "SFE") == 0 && strcmp(e[1].notice_id, "ljmu.wellbeing") == 0);
        CHECK(strcmp(e[1].notice_version, "2") == 0 && e[1].method == CONSENT_METHOD_EMAIL && !e[1].explicit_consent);
        CHECK(strcmp(e[1].recorded_by, "system:sis") == 0 && strcmp(e[1].source_id, "h-1") == 0);
        CHECK(e[1].effective_at_ms == now_ms - DAY && e[1].recorded_at_ms == now_ms);
        CHECK(e[1].target_event_id == NULL && e[1].effect_deadline_ms == CONSENT_TIME_ABSENT);
        CHECK(strcmp(e[2].kind, "withdrawn") == 0 && e[2].notice_id == NULL && e[2].source_id == NULL);
        CHECK(e[2].effect_deadline_ms != CONSENT_TIME_ABSENT && e[2].method == CONSENT_METHOD_NONE);
        CHECK(strcmp(e[3].kind, "invalidated") == 0 && strcmp(e[3].target_event_id, given.id) == 0);
        for (size_t i = 1; i < h->n_events; i++) CHECK(e[i].seq > e[i - 1].seq);
    }
    consent_history_page_free(h);

    h = NULL;
    EXPECT_OK(consent_history(l, "nobody", &h));
    CHECK(h && h->n_events == 0 && h->events == NULL);
    consent_history_page_free(h);
    consent_history_page_free(NULL);

    h = NULL;
    EXPECT(consent_history(l, NULL, &h), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_history(l, BAD_UTF8, &h), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_history(l, "s-h", NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_history(NULL, "s-h", &h), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(h == NULL);
}


/* Review (issue 16): is_new through consent_append_many when the call fails part-way
 * (nothing lands, so a retry of the same events is new again), and across a batch
 * rolled back. */
static void is_new_after_a_failed_call_and_a_rollback(consent_ledger *l) {
    consent_event_params p[3];
    for (int i = 0; i < 3; i++) {
        EXPECT_OK(consent_event_params_init(&p[i]));
        p[i].kind = CONSENT_EVENT_KIND_WITHDRAWN;
        p[i].subject = "s-rb";
        p[i].purpose = SHARE;
        p[i].source_id = "rb-1";
    }
    p[2].purpose = "no.such.purpose";
    p[2].source_id = NULL;
    consent_head before, after;
    EXPECT_OK(consent_get_head(l, &before));
    EXPECT(consent_append_many(l, p, 3, NULL), CONSENT_RESULT_UNKNOWN_PURPOSE);
    CHECK(consent_last_error_index() == 2);
    EXPECT_OK(consent_get_head(l, &after));
    CHECK(after.size == before.size);
    consent_event_ref refs[2];
    EXPECT_OK(consent_append_many(l, p, 2, refs));
    CHECK(refs[0].is_new && !refs[1].is_new && refs[0].seq == refs[1].seq);

    consent_batch *b = NULL;
    consent_event_ref in_batch, outside;
    p[0].source_id = "rb-2";
    EXPECT_OK(consent_batch_begin(l, &b));
    EXPECT_OK(consent_batch_append(b, &p[0], &in_batch));
    CHECK(in_batch.is_new);
    EXPECT_OK(consent_batch_rollback(b));
    consent_batch_free(b);
    EXPECT_OK(consent_append(l, &p[0], &outside));
    CHECK(outside.is_new && strcmp(outside.id, in_batch.id) != 0);
}

/* Review (issue 16): a status's notice id and version belong to the handle, valid until
 * consent_ledger_free: still readable after consent_ledger_close, and the same pointer
 * for the same text however often it is asked (the set does not grow). */
static void status_names_outlive_close(void) {
    consent_ledger *l = new_ledger();
    EXPECT_OK(consent_give(l, "s-c", SHARE, NULL, "ljmu.wellbeing", "1", CONSENT_METHOD_PORTAL, false, NULL,
                           CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    consent_status first = status(l, "s-c", "NHS");
    for (int i = 0; i < 100; i++) {
        consent_status again = status(l, "s-c", "NHS");
        CHECK(again.notice_id == first.notice_id && again.notice_version == first.notice_version);
    }
    EXPECT_OK(consent_ledger_close(l));
    consent_status st;
    EXPECT(consent_status_get(l, "s-c", SHARE, "NHS", &st), CONSENT_RESULT_CLOSED);
    CHECK(first.notice_id && strcmp(first.notice_id, "ljmu.wellbeing") == 0);
    CHECK(first.notice_version && strcmp(first.notice_version, "1") == 0);
    consent_ledger_free(l);
}

/* Review (issue 16): an erased subject's history as structs: the personal fields NULL
 * (as the struct's doc says), the erasure itself listed, the page freed as any other. */
static void history_of_an_erased_subject(consent_ledger *l) {
    EXPECT_OK(consent_give(l, "s-e", SHARE, "NHS", "ljmu.wellbeing", "2", CONSENT_METHOD_PORTAL, false,
                           "staff:kim", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL));
    EXPECT_OK(consent_erase_subject(l, "s-e", "retention ended", "staff:dpo", NULL));
    consent_history_page *h = NULL;
    consent_result r = consent_history(l, "s-e", &h);
    EXPECT_OK(r);
    CHECK(h != NULL);
    if (h) {
        CHECK(h->n_events == 2);
        for (size_t i = 0; i < h->n_events; i++) {
            const consent_event *e = &h->events[i];
            CHECK(e->subject == NULL);
            CHECK(e->source_id == NULL);
            if (strcmp(e->kind, "given") == 0) {
                CHECK(e->purpose != NULL && strcmp(e->purpose, SHARE) == 0);
            } else {
                CHECK(strcmp(e->kind, "subject_erased") == 0 && e->purpose == NULL);
            }
        }
    }
    consent_history_page_free(h);
}

int main(void) {
    consent_ledger *l = new_ledger();
    is_new_on_a_retry(l);
    give_with_recipient_and_time(l);
    status_names_its_notice(l);
    by_version(l);
    history_as_structs(l);
    is_new_after_a_failed_call_and_a_rollback(l);
    history_of_an_erased_subject(l);
    consent_ledger_free(l);
    status_names_outlive_close();
    return finish("test_typed");
}
