/*
 * Downstream systems from C: the registry registers the JMSU feed; the feed comes as
 * typed items showing only its purpose; the loop of a downstream (read, act,
 * acknowledge) moves its cursor; refusals (unknown downstream, a seq beyond the log,
 * an event never in the feed, NULL and invalid UTF-8) write nothing; a withdrawal not
 * acknowledged by its deadline is overdue, and acknowledged late is kept late.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <string.h>

#include "test_util.h"

static int64_t now_ms = 1727776800000; /* 2024-10-01T10:00:00Z */
static int64_t clock_fn(void *context) {
    return *(int64_t *)context;
}

static uint64_t size_of(consent_ledger *l) {
    consent_head h;
    if (consent_get_head(l, &h) != CONSENT_RESULT_OK) return 0;
    return h.size;
}

int main(void) {
    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    o.clock = clock_fn;
    o.clock_context = &now_ms;
    consent_ledger *l = NULL;
    EXPECT_OK(test_ledger_new(&o, &l));
    char *json = NULL;
    EXPECT_OK(consent_registry_load(l, CONSENT_EXAMPLES_DIR "/ljmu/registry.toml", NULL, &json));
    consent_string_free(json);
    EXPECT_OK(consent_downstreams_json(l, &json));
    CHECK(json && strstr(json, "\"jmsu.feed\"") && strstr(json, "\"JMSU\""));
    consent_string_free(json);

    consent_event_ref grant, other, w;
    EXPECT_OK(consent_give(l, "770001", "jmsu.data-sharing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL,
                           false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &grant));
    EXPECT_OK(consent_give(l, "770001", "jmsu.marketing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL,
                           false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &other));
    now_ms += 3600 * 1000;
    EXPECT_OK(consent_withdraw(l, "770001", "jmsu.data-sharing", NULL, NULL, CONSENT_TIME_ABSENT, &w));
    CHECK(w.effect_deadline_ms == now_ms + 86400 * 1000);

    /* The feed: typed items, only jmsu.data-sharing. */
    consent_feed_page *page = NULL;
    EXPECT_OK(consent_feed(l, "jmsu.feed", CONSENT_FEED_CURSOR, 100, 0, &page));
    CHECK(page && page->n_items == 2 && page->since == 0);
    if (page && page->n_items == 2) {
        CHECK(page->items[0].seq == grant.seq && strcmp(page->items[0].kind, "given") == 0);
        CHECK(page->items[0].subject && strcmp(page->items[0].subject, "770001") == 0);
        CHECK(page->items[0].recipient == NULL && page->items[0].effect_deadline_ms == CONSENT_TIME_ABSENT);
        CHECK(strcmp(page->items[1].kind, "withdrawn") == 0);
        CHECK(page->items[1].effect_deadline_ms == w.effect_deadline_ms);
        /* Entered when it happened: the downstream's deadline is the legal one. */
        CHECK(page->items[1].act_by_ms == w.effect_deadline_ms);
        CHECK(page->items[0].act_by_ms == CONSENT_TIME_ABSENT);
        CHECK(strcmp(page->items[1].purpose, "jmsu.data-sharing") == 0);
        CHECK(page->items[1].n_erased_seqs == 0 && page->items[1].erased_seqs == NULL);
    }
    uint64_t next = page ? page->next : 0;
    consent_feed_page_free(page);
    consent_feed_page_free(NULL);

    /* Refusals write nothing. */
    uint64_t size = size_of(l);
    consent_event_ref ack;
    EXPECT(consent_acknowledge_up_to(l, "no.such", 0, "system:jmsu-feed", &ack), CONSENT_RESULT_NOT_FOUND);
    EXPECT(consent_acknowledge_up_to(l, "jmsu.feed", size, "system:jmsu-feed", &ack),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_acknowledge_event(l, "jmsu.feed", other.id, "system:jmsu-feed", &ack),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_acknowledge_event(l, "jmsu.feed", "not-a-uuid", "system:jmsu-feed", &ack),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_acknowledge_up_to(l, "jmsu.feed", 0, NULL, &ack), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_acknowledge_up_to(l, NULL, 0, "system:jmsu-feed", &ack), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_acknowledge_up_to(l, "jmsu\xff.feed", 0, "system:jmsu-feed", &ack),
           CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_feed(l, "jmsu.feed", CONSENT_FEED_CURSOR, 10, 0, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_feed(NULL, "jmsu.feed", CONSENT_FEED_CURSOR, 10, 0, &page), CONSENT_RESULT_NULL_ARGUMENT);
    /* A limit of 0 is refused at once, never a wait for nothing. */
    EXPECT(consent_feed(l, "jmsu.feed", CONSENT_FEED_CURSOR, 0, 60000, &page), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_downstream_json(l, "{\"id\":\"x\"}", "staff:dpo-01", NULL, NULL),
           CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_register_downstream_json(l,
        "{\"id\":\"x\",\"name\":\"X\",\"controller\":\"C\",\"purposes\":[\"no.such\"]}", "staff:dpo-01", NULL, NULL),
        CONSENT_RESULT_UNKNOWN_PURPOSE);
    /* A misspelt key is refused, not registered without the filter it meant. */
    EXPECT(consent_register_downstream_json(l,
        "{\"id\":\"nhs.x\",\"name\":\"X\",\"controller\":\"C\",\"purposes\":[\"wellbeing.share-external\"],"
        "\"recipients\":\"NHS\"}", "staff:dpo-01", NULL, NULL),
        CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(size_of(l) == size);

    /* A day and a half later: overdue. */
    now_ms += 36 * 3600 * 1000;
    size_t overdue = 99, pending = 99;
    EXPECT_OK(consent_overdue_count(l, CONSENT_TIME_ABSENT, &overdue, &pending));
    CHECK(overdue == 1 && pending == 0);
    /* The DPO's report carries it, as data. */
    EXPECT_OK(consent_report_json(l, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"downstream\":[{\"downstream\":\"jmsu.feed\"")
          && strstr(json, "\"state\":\"overdue\"") && strstr(json, "\"verification\":{\"size\":") && strstr(json, "\"first_bad_seq\":null"));
    consent_string_free(json);
    EXPECT(consent_report_json(l, now_ms, now_ms, &json), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_report_json(l, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL),
           CONSENT_RESULT_NULL_ARGUMENT);
    /* As known before the deadline it was pending. */
    EXPECT_OK(consent_overdue_count(l, w.effect_deadline_ms - 1, &overdue, &pending));
    CHECK(overdue == 0 && pending == 1);

    /* Act, then acknowledge up to what was read: late, and kept so. */
    EXPECT_OK(consent_acknowledge_up_to(l, "jmsu.feed", next - 1, "system:jmsu-feed", &ack));
    CHECK(ack.seq == size);
    EXPECT_OK(consent_overdue_count(l, CONSENT_TIME_ABSENT, &overdue, NULL));
    CHECK(overdue == 0);
    EXPECT_OK(consent_deadlines_json(l, CONSENT_TIME_ABSENT, &json));
    CHECK(json && strstr(json, "\"acknowledged_late\"") && strstr(json, "\"late_by_secs\":43200"));
    consent_string_free(json);

    /* The cursor: the feed continues after what was acknowledged. */
    EXPECT_OK(consent_feed(l, "jmsu.feed", CONSENT_FEED_CURSOR, 100, 0, &page));
    CHECK(page && page->n_items == 0 && page->since == next && page->items == NULL);
    consent_feed_page_free(page);
    /* A bounded wait with nothing new returns an empty page. */
    EXPECT_OK(consent_feed(l, "jmsu.feed", CONSENT_FEED_CURSOR, 100, 50, &page));
    CHECK(page && page->n_items == 0);
    consent_feed_page_free(page);

    /* An erasure: the feed learns which of its events to delete, not whose. */
    consent_erasure_report er;
    EXPECT_OK(consent_erase_subject(l, "770001", "retention ended", "staff:dpo-01", &er));
    EXPECT_OK(consent_feed(l, "jmsu.feed", CONSENT_FEED_CURSOR, 100, 0, &page));
    CHECK(page && page->n_items == 1);
    if (page && page->n_items == 1) {
        const consent_feed_item *e = &page->items[0];
        CHECK(strcmp(e->kind, "subject_erased") == 0 && e->subject == NULL && e->purpose == NULL);
        CHECK(e->n_erased_seqs == 2 && e->erased_seqs[0] == grant.seq && e->erased_seqs[1] == w.seq);
    }
    consent_feed_page_free(page);

    EXPECT_OK(consent_retire_downstream(l, "jmsu.feed", "staff:dpo-01"));
    EXPECT_OK(consent_downstream_json(l, "jmsu.feed", &json));
    CHECK(json && strstr(json, "\"retired\":true") && strstr(json, "\"cursor\":"));
    consent_string_free(json);
    consent_verify_report report;
    EXPECT_OK(consent_verify(l, &report));
    CHECK(report.ok);
    consent_ledger_free(l);
    return finish("test_downstream");
}
