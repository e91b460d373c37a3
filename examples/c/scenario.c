/*
 * The seeds' scenario through the C ABI, on a fresh ledger file:
 *   1. a student opts in to LJMU -> JMSU data sharing, then opts out: the opt-out is
 *      recorded at once and downstream systems have 24 hours to act. The purpose lists
 *      one recipient, "JMSU", so the feed asks about JMSU: a feed that left the
 *      recipient out would be refused, never answered;
 *   2. explicit (Art. 9(2)(a)) consent to health data for a mobility programme; a
 *      grant without the explicit marker is refused as invalid;
 *   3. a students' union project consent on a paper form, signed on 1 October 2025
 *      and typed in on 5 October, which lapses at the end of 31 July (midnight in
 *      Liverpool, the ledger's time zone: 23:00 UTC in summer);
 *   4. questions about the past: "was consent in force at T?" and "as known at K?",
 *      for one student and for the whole project list.
 * The purposes are those of examples/ljmu/registry.toml; every notice says whose it
 * is and which purposes it covers. Every answer is checked; the program exits
 * non-zero on a wrong one.
 *
 * The story runs on its own clock, so the ledger is a simulation: created with a clock,
 * it says so for good (consent_ledger_is_simulated, and `simulated` in the verify
 * report). A real ledger (created without a clock) refuses one.
 *
 * Build: cc -std=c99 scenario.c $(pkg-config --cflags --libs consent)
 * Usage: scenario [LEDGER_FILE]   (default: a fresh file in a temporary folder; a given
 *        file must not exist yet: the scenario creates it, with its key LEDGER_FILE.key)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consent.h"

static int failures = 0;

/* The scenario's clock: the ledger asks it for "now", so the story has fixed dates. */
static int64_t scenario_now = 0;
static int64_t scenario_clock(void *context) {
    (void)context;
    return scenario_now;
}

/* Milliseconds since the epoch of a UTC date and time (proleptic Gregorian). */
static int64_t utc(int year, int month, int day, int hour, int minute) {
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t mp = (month + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return ((days * 24 + hour) * 60 + minute) * 60000;
}

/* Writes a time as YYYY-MM-DD HH:MM (UTC) into a static buffer (one of four in turn). */
static const char *show(int64_t ms) {
    static char bufs[4][64];
    static int next = 0;
    char *buf = bufs[next++ % 4];
    if (ms == CONSENT_TIME_ABSENT) {
        snprintf(buf, 64, "(none)");
        return buf;
    }
    int64_t days = ms / 86400000 - (ms % 86400000 < 0);
    int64_t rest = ms - days * 86400000;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(buf, 64, "%04lld-%02lld-%02lld %02lld:%02lld", (long long)y, (long long)m, (long long)d,
             (long long)(rest / 3600000), (long long)(rest / 60000 % 60));
    return buf;
}

static const char *state_name(consent_state s) {
    switch (s) {
    case CONSENT_STATE_GIVEN: return "given";
    case CONSENT_STATE_REFUSED: return "refused";
    case CONSENT_STATE_WITHDRAWN: return "withdrawn";
    case CONSENT_STATE_REVOKED: return "revoked";
    case CONSENT_STATE_INVALIDATED: return "invalidated";
    case CONSENT_STATE_EXPIRED: return "expired";
    case CONSENT_STATE_OBJECTED: return "objected";
    case CONSENT_STATE_NEVER_ASKED: return "never asked";
    case CONSENT_STATE_NOT_CONSENT_BASED: return "not consent-based";
    case CONSENT_STATE_ERASED: return "erased";
    case CONSENT_STATE_NEEDS_RENEWAL: return "needs renewal";
    default: return "unknown";
    }
}

static void fail(const char *what) {
    fprintf(stderr, "WRONG: %s\n", what);
    failures++;
}

/* Stops the scenario when a call that must succeed fails. */
static void must(consent_result r, const char *what) {
    if (r != CONSENT_RESULT_OK) {
        char msg[512];
        consent_last_error_message(msg, sizeof msg);
        fprintf(stderr, "FAILED: %s: %s: %s\n", what, consent_result_name(r), msg);
        exit(1);
    }
}

/* Asks "state of SUBJECT for PURPOSE (and RECIPIENT) at AT (as known at KNOWN)" and
 * checks the answer. */
static void expect_state(consent_ledger *ledger, const char *subject, const char *purpose, const char *recipient,
                         int64_t at, int64_t known, consent_state want, const char *question) {
    consent_status st;
    if (at == CONSENT_TIME_ABSENT) {
        must(consent_status_get(ledger, subject, purpose, recipient, &st), question);
    } else {
        must(consent_status_get_at(ledger, subject, purpose, recipient, at, known, &st), question);
    }
    printf("  ? %s\n    -> %s%s (since %s, until %s)\n", question, state_name(st.state),
           st.permits ? ", processing permitted" : "", show(st.since_ms), show(st.until_ms));
    if (st.state != want) {
        fail(question);
    }
}

/* Asks "who may PURPOSE use for RECIPIENT at AT (as known at KNOWN)?" and checks
 * whether SUBJECT is on the list. */
static void expect_listed(consent_ledger *ledger, const char *purpose, const char *recipient, int64_t at,
                          int64_t known, const char *subject, int want, const char *question) {
    char *json = NULL;
    char quoted[64];
    must(consent_consenting_json(ledger, purpose, recipient, at, known, &json), question);
    snprintf(quoted, sizeof quoted, "\"subject\":\"%s\"", subject);
    int listed = strstr(json, quoted) != NULL;
    printf("  ? %s\n    -> %s %s\n", question, subject, listed ? "is on the list" : "is not on the list");
    consent_string_free(json);
    if (listed != want) {
        fail(question);
    }
}

int main(int argc, char **argv) {
    char folder[] = "/tmp/consent-scenario-XXXXXX";
    char path[256];
    int own_folder = argc < 2;
    if (own_folder) {
        if (!mkdtemp(folder)) {
            perror("mkdtemp");
            return 1;
        }
        snprintf(path, sizeof path, "%s/ledger.db", folder);
    } else {
        snprintf(path, sizeof path, "%s", argv[1]);
    }
    printf("consent-ledger %s, ledger at %s\n", consent_version(), path);

    consent_options options;
    must(consent_options_init(&options), "options");
    options.clock = scenario_clock;
    options.synchronous = CONSENT_SYNCHRONOUS_NORMAL;
    scenario_now = utc(2024, 9, 1, 9, 0);

    consent_ledger *ledger = NULL;
    must(consent_ledger_open(path, &options, &ledger), "open");
    bool simulated = false;
    must(consent_ledger_is_simulated(ledger, &simulated), "is_simulated");
    if (!simulated) {
        fail("a ledger created with a clock must be a simulation");
    }
    char zone[CONSENT_TIME_ZONE_LEN];
    must(consent_ledger_time_zone(ledger, zone, sizeof zone), "time zone");
    printf("the institution's time zone: %s\n", zone);
    if (strcmp(zone, "Europe/London") != 0) {
        fail("a new ledger's time zone is Europe/London by default");
    }

    /* ---- the registry ---- */
    printf("\n== registry (1 September 2024)\n");
    must(consent_register_purpose_json(ledger,
        "{\"id\":\"jmsu.data-sharing\",\"title\":\"Share my student record with the students' union (live feed)\","
        "\"controller\":\"LJMU\",\"lawful_basis\":\"a\",\"effect_delay_secs\":86400,"
        "\"withdrawal_method\":\"Opt out at any time in the My LJMU portal\",\"recipients\":[\"JMSU\"]}", NULL, NULL),
         "purpose data-sharing");
    must(consent_register_purpose_json(ledger,
        "{\"id\":\"mobility.health\",\"title\":\"Health information for a mobility programme\","
        "\"controller\":\"LJMU International Relations\",\"lawful_basis\":\"a\",\"special_category\":\"a\","
        "\"withdrawal_method\":\"Email GoAbroad@ljmu.ac.uk.\",\"recipients\":[\"dfe\",\"british-council\","
        "\"european-commission\",\"partner-university\",\"placement-provider\",\"travel-provider\"]}", NULL, NULL),
         "purpose mobility.health");
    uint32_t version = 0;
    must(consent_register_purpose_json(ledger,
        "{\"id\":\"jmsu.project.green-week\",\"title\":\"Green Week volunteering project\","
        "\"controller\":\"JMSU\",\"lawful_basis\":\"a\",\"validity\":{\"kind\":\"academic_year\"}}",
        &version, NULL), "purpose project");
    /* Each notice says whose it is and which purposes it covers: a grant may only
     * name a notice that covers its purpose. */
    const char *const it_covers[] = {"jmsu.data-sharing"};
    const char *const mobility_covers[] = {"mobility.*"};
    const char *const projects_cover[] = {"jmsu.project.*"};
    must(consent_register_notice_text(ledger, "ljmu.it-registration", "2024-09", "IT account registration",
                                      "We share your details with JMSU if you opt in ...", "LJMU", it_covers, 1, NULL),
         "notice it");
    must(consent_register_notice_text(ledger, "ljmu.mobility", "2024-09", "International Relations privacy notice",
                                      "For some mobility programmes, we process special category data ...",
                                      "LJMU International Relations", mobility_covers, 1, NULL),
         "notice mobility");
    must(consent_register_notice_text(ledger, "jmsu.projects", "2024-09", "JMSU Data Protection Statement",
                                      "We keep your details for the remainder of the academic year ...", "JMSU",
                                      projects_cover, 1, NULL),
         "notice projects");
    printf("  3 purposes, 3 notices (project purpose at version %u)\n", version);
    /* Registering a definition that is already current appends nothing, and says so:
     * a deployment script can run its registrations on every start. */
    bool is_new = true;
    must(consent_register_notice_text(ledger, "jmsu.projects", "2024-09", "JMSU Data Protection Statement",
                                      "We keep your details for the remainder of the academic year ...", "JMSU",
                                      projects_cover, 1, &is_new),
         "notice projects, again");
    if (is_new) {
        fail("the same notice registered again is not new");
    }
    printf("  jmsu.projects registered again: unchanged, nothing appended\n");
    /* The students' union feed is a registered downstream: its feed shows only
     * jmsu.data-sharing events for JMSU, and the ledger watches its deadlines. */
    must(consent_register_downstream_json(ledger,
        "{\"id\":\"jmsu.feed\",\"name\":\"JMSU live feed\",\"controller\":\"JMSU\","
        "\"purposes\":[\"jmsu.data-sharing\"],\"recipient\":\"JMSU\"}", "staff:dpo-01", NULL, NULL),
         "register the JMSU feed");
    printf("  downstream jmsu.feed registered: jmsu.data-sharing, recipient JMSU\n");

    consent_event_ref ev;
    consent_result r;

    /* ---- 1. students' union data sharing: opt in, opt out, 24 h to take effect ---- */
    printf("\n== 1. JMSU data sharing\n");
    scenario_now = utc(2024, 9, 20, 10, 0);
    must(consent_give(ledger, "s-1001", "jmsu.data-sharing", NULL, "ljmu.it-registration", "2024-09",
                      CONSENT_METHOD_PORTAL, false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ev), "opt in");
    printf("  %s: s-1001 opts in at IT-account registration (event %llu)\n", show(scenario_now),
           (unsigned long long)ev.seq);
    expect_state(ledger, "s-1001", "jmsu.data-sharing", "JMSU", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                 CONSENT_STATE_GIVEN, "may LJMU share s-1001's data with JMSU now?");
    {
        /* The status names the notice shown; its strings belong to the ledger handle. */
        consent_status st;
        must(consent_status_get(ledger, "s-1001", "jmsu.data-sharing", "JMSU", &st), "status");
        printf("  shown the notice %s version %s\n", st.notice_id ? st.notice_id : "(none)",
               st.notice_version ? st.notice_version : "(none)");
        if (!st.notice_id || strcmp(st.notice_id, "ljmu.it-registration") != 0) {
            fail("the status must name the notice shown");
        }
    }
    /* The nightly feed extract asks about its recipient; leaving it out is refused, so
     * a withdrawal that named JMSU can never be missed. */
    {
        char *json = NULL;
        r = consent_consenting_json(ledger, "jmsu.data-sharing", NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                                    &json);
        char msg[512];
        consent_last_error_message(msg, sizeof msg);
        printf("  a feed extract without its recipient -> %s: %s\n", consent_result_name(r), msg);
        if (r != CONSENT_RESULT_UNKNOWN_RECIPIENT || !strstr(msg, "JMSU")) {
            fail("a feed that leaves out the recipient of a purpose listing one must be refused");
        }
        consent_string_free(json);
    }
    expect_listed(ledger, "jmsu.data-sharing", "JMSU", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, "s-1001", 1,
                  "who goes into tonight's JMSU feed?");

    scenario_now = utc(2025, 1, 15, 9, 30);
    must(consent_withdraw(ledger, "s-1001", "jmsu.data-sharing", NULL, NULL, CONSENT_TIME_ABSENT, &ev), "opt out");
    printf("  %s: s-1001 opts out in My LJMU; the feed must drop them by %s\n", show(ev.effective_at_ms),
           show(ev.effect_deadline_ms));
    if (ev.effect_deadline_ms - ev.effective_at_ms != 24LL * 3600 * 1000) {
        fail("the opt-out must take effect within 24 hours");
    }
    expect_state(ledger, "s-1001", "jmsu.data-sharing", "JMSU", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                 CONSENT_STATE_WITHDRAWN, "may LJMU share s-1001's data with JMSU now (after the opt-out)?");
    expect_listed(ledger, "jmsu.data-sharing", "JMSU", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, "s-1001", 0,
                  "and in tonight's JMSU feed?");
    /* JMSU's side of the loop: read its feed, act on the opt-out, acknowledge. */
    {
        consent_feed_page *page = NULL;
        must(consent_feed(ledger, "jmsu.feed", CONSENT_FEED_CURSOR, 100, 0, &page), "read the JMSU feed");
        uint64_t last = 0;
        for (size_t i = 0; i < page->n_items; i++) {
            const consent_feed_item *item = &page->items[i];
            printf("  JMSU's feed: #%llu %s %s\n", (unsigned long long)item->seq, item->kind,
                   item->subject ? item->subject : "[erased]");
            if (strcmp(item->kind, "withdrawn") == 0) {
                printf("    -> JMSU deletes s-1001's record, by %s\n", show(item->act_by_ms));
            }
            last = item->seq;
        }
        if (page->n_items != 2) fail("JMSU's feed must show the opt-in and the opt-out, nothing else");
        consent_feed_page_free(page);
        size_t overdue = 0, pending = 0;
        must(consent_overdue_count(ledger, CONSENT_TIME_ABSENT, &overdue, &pending), "overdue");
        if (overdue != 0 || pending != 1) fail("the opt-out must be pending until JMSU acknowledges it");
        scenario_now = utc(2025, 1, 15, 16, 0);
        must(consent_acknowledge_up_to(ledger, "jmsu.feed", last, "system:jmsu-feed", &ev), "acknowledge");
        must(consent_overdue_count(ledger, utc(2025, 1, 17, 0, 0), &overdue, &pending), "overdue");
        printf("  %s: JMSU acknowledges up to #%llu; overdue two days later: %zu\n", show(scenario_now),
               (unsigned long long)last, overdue);
        if (overdue != 0 || pending != 0) fail("an acknowledged opt-out is neither overdue nor pending");
    }

    /* ---- 2. explicit consent for special-category data ---- */
    printf("\n== 2. mobility programme, health data (Art. 9(2)(a))\n");
    scenario_now = utc(2025, 2, 3, 14, 0);
    r = consent_give(ledger, "s-1001", "mobility.health", NULL, "ljmu.mobility", "2024-09", CONSENT_METHOD_WEB_FORM,
                     false, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, NULL);
    {
        char msg[512];
        consent_last_error_message(msg, sizeof msg);
        printf("  a grant without the explicit marker -> %s: %s\n", consent_result_name(r), msg);
    }
    if (r != CONSENT_RESULT_INVALID_CONSENT) {
        fail("a non-explicit special-category grant must be refused as invalid");
    }
    expect_state(ledger, "s-1001", "mobility.health", "partner-university", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                 CONSENT_STATE_NEVER_ASKED, "is the refused grant on record? (it must not be)");
    must(consent_give(ledger, "s-1001", "mobility.health", NULL, "ljmu.mobility", "2024-09", CONSENT_METHOD_WEB_FORM,
                      true, NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ev), "explicit grant");
    printf("  the explicit grant is recorded (event %llu)\n", (unsigned long long)ev.seq);
    expect_state(ledger, "s-1001", "mobility.health", "partner-university", CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT,
                 CONSENT_STATE_GIVEN,
                 "may International Relations share s-1001's health data with the partner university?");

    /* ---- 3. a project consent on paper, entered later, lapsing on 31 July ---- */
    printf("\n== 3. JMSU project consent (paper form)\n");
    scenario_now = utc(2025, 10, 5, 11, 0);
    consent_event_params p;
    must(consent_event_params_init(&p), "params");
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = "s-2002";
    p.purpose = "jmsu.project.green-week";
    p.notice_id = "jmsu.projects";
    p.notice_version = "2024-09";
    p.method = CONSENT_METHOD_PAPER;
    p.recorded_by = "staff:jmsu-volunteering";
    p.effective_at_ms = utc(2025, 10, 1, 12, 0);
    p.source_id = "paper-form-0042";
    p.evidence_json = "{\"form\":\"GW-2025\",\"box_ticked\":true}";
    must(consent_append(ledger, &p, &ev), "paper grant");
    printf("  signed %s, typed in %s by staff, lapses at %s UTC (midnight in Liverpool)\n", show(ev.effective_at_ms),
           show(ev.recorded_at_ms), show(ev.expires_at_ms));
    if (ev.expires_at_ms != utc(2026, 7, 31, 23, 0)) {
        fail("a project consent must lapse at the end of 31 July, UK time (23:00 UTC in summer)");
    }
    /* The same form typed in twice is the same event, not a second one. */
    consent_event_ref again;
    must(consent_append(ledger, &p, &again), "retry");
    if (again.seq != ev.seq) {
        fail("a retried append with the same source id must return the same event");
    }
    expect_state(ledger, "s-2002", "jmsu.project.green-week", NULL, utc(2026, 7, 31, 18, 0), CONSENT_TIME_ABSENT,
                 CONSENT_STATE_GIVEN, "on 31 July 2026 at 18:00 UTC, may JMSU use s-2002's details for the project?");
    expect_state(ledger, "s-2002", "jmsu.project.green-week", NULL, utc(2026, 7, 31, 23, 30), CONSENT_TIME_ABSENT,
                 CONSENT_STATE_EXPIRED,
                 "at 23:30 UTC on 31 July 2026 (already 1 August in Liverpool), may it still?");

    /* ---- 4. questions about the past ---- */
    printf("\n== 4. questions about the past\n");
    scenario_now = utc(2026, 9, 1, 9, 0);
    expect_state(ledger, "s-1001", "jmsu.data-sharing", "JMSU", utc(2024, 12, 1, 12, 0), CONSENT_TIME_ABSENT,
                 CONSENT_STATE_GIVEN,
                 "was sharing s-1001's data with JMSU lawful on 1 December 2024? (the opt-out is not retroactive)");
    expect_state(ledger, "s-1001", "jmsu.data-sharing", "JMSU", utc(2024, 9, 19, 12, 0), CONSENT_TIME_ABSENT,
                 CONSENT_STATE_NEVER_ASKED, "and on 19 September 2024, before the opt-in?");
    expect_listed(ledger, "jmsu.data-sharing", "JMSU", utc(2024, 12, 1, 12, 0), CONSENT_TIME_ABSENT, "s-1001", 1,
                  "the JMSU feed of 1 December 2024, reproduced: was s-1001 in it?");
    expect_state(ledger, "s-2002", "jmsu.project.green-week", NULL, utc(2025, 10, 2, 12, 0), utc(2025, 10, 3, 12, 0),
                 CONSENT_STATE_NEVER_ASKED,
                 "on 2 October 2025, as the ledger knew it on 3 October (before the form was typed in)?");
    expect_state(ledger, "s-2002", "jmsu.project.green-week", NULL, utc(2025, 10, 2, 12, 0), CONSENT_TIME_ABSENT,
                 CONSENT_STATE_GIVEN, "on 2 October 2025, as the ledger knows it now?");
    expect_listed(ledger, "jmsu.project.green-week", NULL, utc(2025, 10, 2, 12, 0), utc(2025, 10, 3, 12, 0), "s-2002",
                  0, "the project's contact list for 2 October 2025, as known on 3 October: is s-2002 on it?");
    expect_listed(ledger, "jmsu.project.green-week", NULL, utc(2025, 10, 2, 12, 0), CONSENT_TIME_ABSENT, "s-2002", 1,
                  "the same list as known now?");

    /* The SIS's nightly check asks many questions in one call: typed structs in, one
     * answer each, all from one snapshot of the ledger. */
    {
        const consent_question questions[] = {
            {"s-1001", "jmsu.data-sharing", "JMSU"},
            {"s-1001", "mobility.health", "partner-university"},
            {"s-2002", "jmsu.project.green-week", NULL},
        };
        const consent_state expected[] = {CONSENT_STATE_WITHDRAWN, CONSENT_STATE_GIVEN, CONSENT_STATE_EXPIRED};
        consent_status answers[3];
        must(consent_status_get_many(ledger, questions, 3, answers), "status_many");
        printf("  ? the nightly check, three questions in one call:\n");
        for (size_t i = 0; i < 3; i++) {
            printf("    %s / %s%s%s -> %s\n", questions[i].subject, questions[i].purpose,
                   questions[i].recipient ? " / " : "", questions[i].recipient ? questions[i].recipient : "",
                   state_name(answers[i].state));
            if (answers[i].state != expected[i]) {
                fail("an answer of the nightly check is not the one expected");
            }
        }
    }

    /* ---- the ledger's own evidence ---- */
    printf("\n== integrity\n");
    consent_verify_report report;
    must(consent_verify(ledger, &report), "verify");
    char head_text[CONSENT_HEAD_STRING_LEN];
    must(consent_head_to_string(&report.head, head_text, sizeof head_text), "head");
    printf("  verify: %s, %llu events, head %s%s\n", report.ok ? "ok" : "TAMPERED", (unsigned long long)report.size,
           head_text, report.simulated ? " (a simulation)" : "");
    if (!report.ok || report.size != 13) {
        fail("the ledger must verify with 13 events (its configuration + 6 registry + 1 downstream + 4 consent "
             "events + 1 acknowledgement)");
    }
    if (!report.simulated) {
        fail("the verify report must say the ledger is a simulation");
    }

    /* A receipt for the opt-in: the event's canonical bytes and its inclusion proof,
     * checked against the head without the ledger. */
    char *history = NULL;
    must(consent_history_json(ledger, "s-1001", &history), "history");
    printf("  s-1001's history: %zu bytes of JSON\n", strlen(history));
    if (!strstr(history, "\"withdrawn\"")) {
        fail("the history must hold the withdrawal");
    }
    char opt_in[CONSENT_EVENT_ID_LEN] = "";
    const char *id = strstr(history, "\"id\":\"");
    if (id && strlen(id + 6) >= CONSENT_EVENT_ID_LEN - 1) {
        memcpy(opt_in, id + 6, CONSENT_EVENT_ID_LEN - 1);
        opt_in[CONSENT_EVENT_ID_LEN - 1] = '\0';
    }
    consent_string_free(history);
    char *copy = NULL;
    must(consent_export_subject_html(ledger, "s-1001", &copy), "subject's copy");
    printf("  s-1001's own copy (HTML): %zu bytes\n", strlen(copy));
    if (!strstr(copy, "Health information for a mobility programme")) {
        fail("the subject's copy must name the purposes by their titles");
    }
    consent_string_free(copy);
    uint8_t *event_bytes = NULL;
    size_t event_len = 0;
    char *proof = NULL;
    must(consent_event_canonical(ledger, opt_in, &event_bytes, &event_len), "canonical event");
    must(consent_prove_inclusion_json(ledger, opt_in, CONSENT_SIZE_CURRENT, &proof), "inclusion proof");
    r = consent_check_inclusion_proof(proof, event_bytes, event_len, &report.head);
    printf("  receipt for the opt-in (%zu canonical bytes): %s\n", event_len, consent_result_name(r));
    if (r != CONSENT_RESULT_OK) {
        fail("the opt-in's inclusion proof must check out against the head");
    }
    consent_string_free(proof);
    consent_bytes_free(event_bytes, event_len);
    must(consent_ledger_close(ledger), "close");
    consent_ledger_free(ledger);
    if (own_folder) {
        char file[300];
        const char *suffixes[] = {"", "-wal", "-shm", "-lock", ".key"};
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
            unlink(file);
        }
        rmdir(folder);
    }

    if (failures) {
        printf("\nscenario: %d wrong answer(s)\n", failures);
        return 1;
    }
    printf("\nscenario: every answer as expected\n");
    return 0;
}
