/*
 * Issue 13 from C: signing keys, signed checkpoints, witnesses and receipts.
 *
 * A log key and two witness keys made with consent_key_generate; a checkpoint signed,
 * cosigned by both witnesses and merged back; the note checked against the ledger
 * (quorum met, quorum not met, forged, another key with the right name); every stored
 * checkpoint verified; a receipt made from the latest checkpoint and checked with
 * nothing but the verifier keys (and refused once tampered with); a witness that
 * cosigns a grown log with a consistency proof and refuses a rollback and a fork.
 * Then the bad input: NULL and non-UTF-8 strings, NULL arrays and elements, malformed
 * verifier keys and enum values, buffers too small; out-parameters untouched on error.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdint.h>
#include <unistd.h>

#include "test_util.h"

static int64_t now_ms = 1727776800000; /* 2024-10-01T10:00:00Z */
static int64_t clock_fn(void *context) {
    return *(int64_t *)context;
}

static char folder[] = "/tmp/consent-test-trust-XXXXXX";

static const char *in_folder(const char *name) {
    static char paths[8][192];
    static int next = 0;
    char *p = paths[next++ % 8];
    snprintf(p, sizeof paths[0], "%s/%s", folder, name);
    return p;
}

static const uint8_t UNTOUCHED = 0x5a;
static int untouched(const void *p, size_t len) {
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) {
        if (b[i] != UNTOUCHED) return 0;
    }
    return 1;
}

static void grant(consent_ledger *l, const char *subject, char event_id[CONSENT_EVENT_ID_LEN]) {
    consent_event_params p;
    consent_event_ref ref;
    EXPECT_OK(consent_event_params_init(&p));
    p.kind = CONSENT_EVENT_KIND_GIVEN;
    p.subject = subject;
    p.purpose = "jmsu.marketing";
    p.notice_id = "jmsu.privacy";
    p.notice_version = "2024-09";
    p.method = CONSENT_METHOD_PORTAL;
    EXPECT_OK(consent_append(l, &p, &ref));
    if (event_id) memcpy(event_id, ref.id, CONSENT_EVENT_ID_LEN);
}

/* The purpose and the notice the grants name. */
static void registry(consent_ledger *l) {
    EXPECT_OK(consent_register_purpose_json(l,
        "{\"id\":\"jmsu.marketing\",\"title\":\"Marketing\",\"controller\":\"JMSU\",\"lawful_basis\":\"a\"}", NULL, NULL));
    const char *purposes[] = {"jmsu.*"};
    EXPECT_OK(consent_register_notice_text(l, "jmsu.privacy", "2024-09", "JMSU privacy notice", "We write to you.",
                                           "JMSU", purposes, 1, NULL));
}

/* Generates a key into the test folder; its verifier key goes to `vkey`. */
static void make_key(const char *file, const char *name, consent_key_role role, char *vkey, size_t len) {
    EXPECT_OK(consent_key_generate(in_folder(file), name, role, vkey, len));
    CHECK(strncmp(vkey, name, strlen(name)) == 0 && vkey[strlen(name)] == '+');
}

/* NULL, non-UTF-8, malformed keys and enum values: refused with the right code and a
 * message, out-parameters untouched. */
static void bad_input(consent_ledger *l, consent_witness *w, const char *note, const char *log_vkey,
                      const char *dpo_vkey) {
    const char bad_utf8[] = {'a', (char)0xff, 'b', 0};
    char buf[128];
    char *out = (char *)&buf; /* a sentinel: must stay as it is */
    char *const sentinel = out;
    consent_checkpoint_verdict v;
    consent_checkpoints_report r;
    consent_checked_receipt c;
    memset(&v, UNTOUCHED, sizeof v);
    memset(&r, UNTOUCHED, sizeof r);
    memset(&c, UNTOUCHED, sizeof c);

    /* keys */
    EXPECT(consent_key_generate(NULL, "n", CONSENT_KEY_ROLE_LOG, buf, sizeof buf), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_key_generate(in_folder("x.key"), NULL, CONSENT_KEY_ROLE_LOG, buf, sizeof buf), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_key_generate(in_folder("x.key"), bad_utf8, CONSENT_KEY_ROLE_LOG, buf, sizeof buf), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_key_generate(in_folder("x.key"), "n", CONSENT_KEY_ROLE_LOG, NULL, 0), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_key_generate(in_folder("x.key"), "n", 9, buf, sizeof buf), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_key_generate(in_folder("x.key"), "a name", CONSENT_KEY_ROLE_LOG, buf, sizeof buf), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_key_generate("", "n", CONSENT_KEY_ROLE_LOG, buf, sizeof buf), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_key_verifier(in_folder("missing.key"), CONSENT_KEY_ROLE_LOG, buf, sizeof buf), CONSENT_RESULT_KEY);

    /* checkpoints */
    EXPECT(consent_checkpoint_sign(NULL, in_folder("log.key"), &out, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_checkpoint_sign(l, NULL, &out, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_checkpoint_sign(l, in_folder("log.key"), NULL, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_checkpoint_sign(l, in_folder("missing.key"), &out, NULL), CONSENT_RESULT_KEY);
    CHECK(out == sentinel);
    EXPECT(consent_checkpoint_add_cosignatures(l, NULL, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_checkpoint_add_cosignatures(l, "not a note", NULL), CONSENT_RESULT_NOTE);
    EXPECT(consent_checkpoint_check(l, NULL, log_vkey, NULL, 0, 0, &v), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_checkpoint_check(l, bad_utf8, log_vkey, NULL, 0, 0, &v), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_checkpoint_check(l, note, NULL, NULL, 0, 0, &v), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_checkpoint_check(l, note, bad_utf8, NULL, 0, 0, &v), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_checkpoint_check(l, note, "not a key", NULL, 0, 0, &v), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(strstr(last_message(), "log_vkey") != NULL);
    EXPECT(consent_checkpoint_check(l, note, log_vkey, NULL, 1, 0, &v), CONSENT_RESULT_NULL_ARGUMENT);
    const char *with_null[] = {dpo_vkey, NULL};
    EXPECT(consent_checkpoint_check(l, note, log_vkey, with_null, 2, 0, &v), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(consent_last_error_index() == 1 && strstr(last_message(), "witness_vkeys[1]"));
    const char *with_bad[] = {dpo_vkey, bad_utf8};
    EXPECT(consent_checkpoint_check(l, note, log_vkey, with_bad, 2, 0, &v), CONSENT_RESULT_INVALID_UTF8);
    CHECK(consent_last_error_index() == 1);
    const char *malformed[] = {"dpo+00000000+AAAA", dpo_vkey};
    EXPECT(consent_checkpoint_check(l, note, log_vkey, malformed, 2, 0, &v), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(consent_last_error_index() == 0 && strstr(last_message(), "witness_vkeys[0]"));
    EXPECT(consent_checkpoint_check(l, note, log_vkey, NULL, 0, 0, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(untouched(&v, sizeof v));
    EXPECT(consent_verify_checkpoints(l, NULL, NULL, 0, 0, &r), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_verify_checkpoints(l, log_vkey, with_null, 2, 0, &r), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_verify_checkpoints(l, log_vkey, NULL, 0, 0, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(untouched(&r, sizeof r));
    EXPECT(consent_checkpoints_json(l, NULL), CONSENT_RESULT_NULL_ARGUMENT);

    /* receipts */
    EXPECT(consent_receipt(l, NULL, NULL, CONSENT_RECEIPT_LAYOUT_ISO27560, &out), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_receipt(l, "not-a-uuid", NULL, CONSENT_RECEIPT_LAYOUT_ISO27560, &out), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_receipt(l, "00000000-0000-0000-0000-000000000000", NULL, 7, &out), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_receipt(l, "00000000-0000-0000-0000-000000000000", bad_utf8, 1, &out), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_receipt(l, "00000000-0000-0000-0000-000000000000", note, 1, &out), CONSENT_RESULT_NOT_FOUND);
    EXPECT(consent_receipt(l, "00000000-0000-0000-0000-000000000000", note, 1, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    CHECK(out == sentinel);
    EXPECT(consent_receipt_check(NULL, log_vkey, NULL, 0, 0, &c, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_receipt_check(bad_utf8, log_vkey, NULL, 0, 0, &c, NULL), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_receipt_check("{}", NULL, NULL, 0, 0, &c, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_receipt_check("{}", log_vkey, NULL, 2, 0, &c, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_receipt_check("{}", log_vkey, NULL, 0, 1, &c, NULL), CONSENT_RESULT_INVALID_ARGUMENT); /* quorum > keys */
    EXPECT(consent_receipt_check("{}", log_vkey, NULL, 0, 0, NULL, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_receipt_check("{}", log_vkey, NULL, 0, 0, &c, &out), CONSENT_RESULT_RECEIPT_REJECTED);
    CHECK(untouched(&c, sizeof c) && out == sentinel);

    /* witnesses */
    consent_witness *w2 = (consent_witness *)sentinel;
    const char *logs[] = {log_vkey};
    EXPECT(consent_witness_open(NULL, in_folder("dpo.key"), NULL, logs, 1, &w2), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_open(in_folder("w2"), NULL, NULL, logs, 1, &w2), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_open(in_folder("w2"), in_folder("dpo.key"), NULL, NULL, 1, &w2), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_open(in_folder("w2"), in_folder("dpo.key"), NULL, logs, 1, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_open(in_folder("w2"), in_folder("log.key"), NULL, logs, 1, &w2), CONSENT_RESULT_KEY);
    const char *not_log[] = {dpo_vkey}; /* a witness key where a log key belongs */
    EXPECT(consent_witness_open(in_folder("w2"), in_folder("dpo.key"), NULL, not_log, 1, &w2), CONSENT_RESULT_NOTE);
    const char *origins_bad[] = {bad_utf8};
    EXPECT(consent_witness_open(in_folder("w2"), in_folder("dpo.key"), origins_bad, logs, 1, &w2), CONSENT_RESULT_INVALID_UTF8);
    const char *twice[] = {log_vkey, log_vkey};
    EXPECT(consent_witness_open(in_folder("w2"), in_folder("dpo.key"), NULL, twice, 2, &w2), CONSENT_RESULT_INVALID_ARGUMENT);
    CHECK(w2 == (consent_witness *)sentinel);
    EXPECT(consent_witness_cosign(NULL, note, NULL, &out), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_cosign(w, NULL, NULL, &out), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_cosign(w, bad_utf8, NULL, &out), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_witness_cosign(w, note, bad_utf8, &out), CONSENT_RESULT_INVALID_UTF8);
    EXPECT(consent_witness_cosign(w, note, "{", &out), CONSENT_RESULT_INVALID_ARGUMENT);
    EXPECT(consent_witness_cosign(w, note, NULL, NULL), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_cosign(w, "garbage\n\n", NULL, &out), CONSENT_RESULT_NOTE);
    CHECK(out == sentinel);
    bool found = false;
    consent_head h;
    EXPECT(consent_witness_latest(w, NULL, &found, &h), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_latest(w, "x", NULL, &h), CONSENT_RESULT_NULL_ARGUMENT);
    EXPECT(consent_witness_latest(NULL, "x", &found, &h), CONSENT_RESULT_NULL_ARGUMENT);
}

int main(void) {
    if (!mkdtemp(folder)) {
        perror("mkdtemp");
        return 1;
    }

    /* ---- keys ---- */
    const char *origin = "ljmu.ac.uk/consent";
    char log_vkey[128], dpo_vkey[128], su_vkey[128], other_vkey[128];
    char small[20];
    memset(small, UNTOUCHED, sizeof small);
    EXPECT(consent_key_generate(in_folder("small.key"), origin, CONSENT_KEY_ROLE_LOG, small, strlen(origin) + CONSENT_VKEY_OVERHEAD - 1),
           CONSENT_RESULT_BUFFER_TOO_SMALL);
    CHECK(access(in_folder("small.key"), F_OK) != 0); /* nothing made */
    CHECK(untouched(small, sizeof small));
    make_key("log.key", origin, CONSENT_KEY_ROLE_LOG, log_vkey, strlen(origin) + CONSENT_VKEY_OVERHEAD);
    CHECK(strlen(log_vkey) + 1 == strlen(origin) + CONSENT_VKEY_OVERHEAD);
    make_key("dpo.key", "dpo.ljmu.ac.uk/witness", CONSENT_KEY_ROLE_WITNESS, dpo_vkey, sizeof dpo_vkey);
    make_key("su.key", "su.ljmu.ac.uk/witness", CONSENT_KEY_ROLE_WITNESS, su_vkey, sizeof su_vkey);
    /* Another key with the log's name: an impostor. */
    make_key("impostor.key", origin, CONSENT_KEY_ROLE_LOG, other_vkey, sizeof other_vkey);
    CHECK(strcmp(other_vkey, log_vkey) != 0);
    /* Never replaced. */
    EXPECT(consent_key_generate(in_folder("log.key"), origin, CONSENT_KEY_ROLE_LOG, other_vkey, sizeof other_vkey),
           CONSENT_RESULT_KEY);
    char shown[128];
    EXPECT_OK(consent_key_verifier(in_folder("log.key"), CONSENT_KEY_ROLE_LOG, shown, sizeof shown));
    CHECK(strcmp(shown, log_vkey) == 0);
    EXPECT(consent_key_verifier(in_folder("log.key"), CONSENT_KEY_ROLE_WITNESS, shown, sizeof shown), CONSENT_RESULT_KEY);
    EXPECT(consent_key_verifier(in_folder("log.key"), CONSENT_KEY_ROLE_LOG, small, 10), CONSENT_RESULT_BUFFER_TOO_SMALL);

    /* ---- a ledger with one grant ---- */
    consent_options o;
    EXPECT_OK(consent_options_init(&o));
    o.clock = clock_fn;
    o.clock_context = &now_ms;
    consent_ledger *l = NULL;
    EXPECT_OK(test_ledger_new(&o, &l)); /* in memory, or a schema on PostgreSQL */
    registry(l);
    char event_id[CONSENT_EVENT_ID_LEN];
    grant(l, "s-1", event_id);

    /* No checkpoint yet: a receipt from "the latest" is refused. */
    char *json = NULL;
    EXPECT(consent_receipt(l, event_id, NULL, CONSENT_RECEIPT_LAYOUT_ISO27560, &json), CONSENT_RESULT_NOT_FOUND);
    CHECK(json == NULL);

    /* ---- sign, cosign, merge ---- */
    char *note = NULL;
    consent_head signed_head;
    EXPECT_OK(consent_checkpoint_sign(l, in_folder("log.key"), &note, &signed_head));
    consent_head head;
    EXPECT_OK(consent_get_head(l, &head));
    CHECK(signed_head.size == head.size && memcmp(signed_head.root, head.root, 32) == 0);
    CHECK(note && strncmp(note, origin, strlen(origin)) == 0);
    EXPECT(consent_checkpoint_sign(l, in_folder("dpo.key"), &json, NULL), CONSENT_RESULT_KEY); /* a witness key */

    const char *logs[] = {log_vkey};
    consent_witness *dpo = NULL, *su = NULL;
    EXPECT_OK(consent_witness_open(in_folder("dpo-state"), in_folder("dpo.key"), NULL, logs, 1, &dpo));
    EXPECT_OK(consent_witness_open(in_folder("su-state"), in_folder("su.key"), NULL, logs, 1, &su));
    bool found = true;
    consent_head latest;
    EXPECT_OK(consent_witness_latest(dpo, origin, &found, &latest));
    CHECK(!found);
    char *cosigned = NULL;
    EXPECT_OK(consent_witness_cosign(dpo, note, NULL, &cosigned)); /* first use */
    CHECK(cosigned && strstr(cosigned, "dpo.ljmu.ac.uk/witness"));
    EXPECT_OK(consent_checkpoint_add_cosignatures(l, cosigned, NULL));
    consent_string_free(cosigned);
    EXPECT_OK(consent_witness_cosign(su, note, NULL, &cosigned));
    char *merged = NULL;
    EXPECT_OK(consent_checkpoint_add_cosignatures(l, cosigned, &merged));
    CHECK(merged && strstr(merged, "dpo.ljmu.ac.uk/witness") && strstr(merged, "su.ljmu.ac.uk/witness"));
    consent_string_free(cosigned);
    EXPECT_OK(consent_witness_latest(dpo, origin, &found, &latest));
    CHECK(found && latest.size == head.size);
    EXPECT_OK(consent_checkpoints_json(l, &json));
    CHECK(json && strstr(json, "\"origin\":\"ljmu.ac.uk/consent\"") && strstr(json, "su.ljmu.ac.uk/witness"));
    consent_string_free(json);

    /* ---- checking a note against the ledger ---- */
    const char *witnesses[] = {dpo_vkey, su_vkey};
    consent_checkpoint_verdict v;
    EXPECT_OK(consent_checkpoint_check(l, merged, log_vkey, witnesses, 2, 2, &v));
    CHECK(v.holds && v.finding == CONSENT_CHECKPOINT_FINDING_NONE && v.cosignatures == 2);
    CHECK(v.checkpoint.size == head.size && v.ledger_size == head.size && v.problem[0] == '\0');
    memset(&v, UNTOUCHED, sizeof v);
    EXPECT(consent_checkpoint_check(l, note, log_vkey, witnesses, 2, 1, &v), CONSENT_RESULT_QUORUM_NOT_MET);
    CHECK(untouched(&v, sizeof v));
    EXPECT(consent_checkpoint_check(l, merged, other_vkey, witnesses, 2, 0, &v), CONSENT_RESULT_NOTE);
    char forged[2048];
    snprintf(forged, sizeof forged, "%s", merged);
    char *size_line = strchr(forged, '\n') + 1;
    *size_line = (char)(*size_line == '9' ? '8' : *size_line + 1); /* another size, the same signature */
    EXPECT(consent_checkpoint_check(l, forged, log_vkey, NULL, 0, 0, &v), CONSENT_RESULT_NOTE);
    CHECK(untouched(&v, sizeof v));

    consent_checkpoints_report r;
    EXPECT_OK(consent_verify_checkpoints(l, log_vkey, witnesses, 2, 2, &r));
    CHECK(r.ok && r.checked == 1 && !r.has_first_bad_size && r.has_last_good_size && r.last_good_size == head.size);
    EXPECT_OK(consent_verify_checkpoints(l, other_vkey, NULL, 0, 0, &r));
    CHECK(!r.ok && r.has_first_bad_size && r.first_bad_size == head.size && strlen(r.problem) > 0);

    /* ---- a receipt, checked with the keys alone ---- */
    char *receipt = NULL;
    EXPECT_OK(consent_receipt(l, event_id, NULL, CONSENT_RECEIPT_LAYOUT_ISO27560, &receipt));
    CHECK(receipt && strstr(receipt, "consent-ledger/receipt/v2") && strstr(receipt, "su.ljmu.ac.uk/witness"));
    consent_checked_receipt c;
    char *checked_json = NULL;
    EXPECT_OK(consent_receipt_check(receipt, log_vkey, witnesses, 2, 2, &c, &checked_json));
    CHECK(strcmp(c.event_id, event_id) == 0 && c.kind == CONSENT_EVENT_KIND_GIVEN && c.seq == head.size - 1);
    CHECK(c.checkpoint.size == head.size && c.cosignatures == 2 && c.subject_checked && c.simulated);
    CHECK(c.purpose_version == 1 && c.layout == CONSENT_RECEIPT_LAYOUT_ISO27560);
    CHECK(checked_json && strstr(checked_json, "\"purpose\":\"jmsu.marketing\"") && strstr(checked_json, "\"proved\":["));
    consent_string_free(checked_json);
    EXPECT_OK(consent_receipt_check(receipt, log_vkey, NULL, 0, 0, &c, NULL));
    /* Only the log key signed this note: a quorum of one witness is not met (a receipt
     * that does not meet it is rejected, the message says why). */
    char *bare = NULL;
    EXPECT_OK(consent_receipt(l, event_id, note, CONSENT_RECEIPT_LAYOUT_KANTARA, &bare));
    memset(&c, UNTOUCHED, sizeof c);
    EXPECT(consent_receipt_check(bare, log_vkey, witnesses, 2, 1, &c, NULL), CONSENT_RESULT_RECEIPT_REJECTED);
    CHECK(untouched(&c, sizeof c) && strstr(last_message(), "cosignatures"));
    EXPECT(consent_receipt_check(bare, other_vkey, NULL, 0, 0, &c, NULL), CONSENT_RESULT_RECEIPT_REJECTED);
    consent_string_free(bare);
    /* A readable field changed: refused. */
    char *subject = strstr(receipt, "\"s-1\"");
    CHECK(subject != NULL);
    if (subject) subject[3] = '2';
    EXPECT(consent_receipt_check(receipt, log_vkey, witnesses, 2, 2, &c, NULL), CONSENT_RESULT_RECEIPT_REJECTED);
    CHECK(untouched(&c, sizeof c));
    EXPECT(consent_receipt_check("{", log_vkey, NULL, 0, 0, &c, NULL), CONSENT_RESULT_INVALID_ARGUMENT);
    consent_string_free(receipt);

    /* ---- the witness as the log grows, then a rollback and a fork ---- */
    grant(l, "s-2", NULL);
    char *grown = NULL;
    EXPECT_OK(consent_checkpoint_sign(l, in_folder("log.key"), &grown, &signed_head));
    EXPECT(consent_witness_cosign(dpo, grown, NULL, &cosigned), CONSENT_RESULT_WITNESS_REFUSED); /* no proof */
    EXPECT_OK(consent_witness_latest(dpo, origin, &found, &latest));
    char *proof = NULL;
    EXPECT_OK(consent_prove_consistency_json(l, &latest, signed_head.size, &proof, NULL));
    cosigned = NULL;
    EXPECT_OK(consent_witness_cosign(dpo, grown, proof, &cosigned));
    CHECK(cosigned != NULL);
    consent_string_free(cosigned);
    cosigned = NULL;
    EXPECT(consent_witness_cosign(dpo, note, NULL, &cosigned), CONSENT_RESULT_WITNESS_REFUSED);
    CHECK(cosigned == NULL && strstr(last_message(), "ROLLBACK") && strstr(last_message(), "evidence"));
    /* A fork: another ledger signed with the same key, at the same size. */
    consent_ledger *fork = NULL;
    EXPECT_OK(test_ledger_new(&o, &fork));
    registry(fork);
    grant(fork, "s-1", NULL);
    grant(fork, "s-3", NULL);
    char *forked = NULL;
    consent_head fork_head;
    EXPECT_OK(consent_checkpoint_sign(fork, in_folder("log.key"), &forked, &fork_head));
    CHECK(fork_head.size == signed_head.size && memcmp(fork_head.root, signed_head.root, 32) != 0);
    EXPECT(consent_witness_cosign(dpo, forked, NULL, &cosigned), CONSENT_RESULT_WITNESS_REFUSED);
    CHECK(cosigned == NULL && strstr(last_message(), "FORK"));
    consent_string_free(forked);
    consent_string_free(proof);
    consent_string_free(grown);

    bad_input(l, dpo, note, log_vkey, dpo_vkey);

    consent_witness_free(dpo);
    consent_witness_free(su);
    consent_witness_free(NULL);
    consent_string_free(merged);
    consent_string_free(note);
    consent_ledger_free(l);
    consent_ledger_free(fork);
    char command[256];
    snprintf(command, sizeof command, "rm -rf '%s'", folder);
    CHECK(system(command) == 0);
    return finish("test_trust");
}
