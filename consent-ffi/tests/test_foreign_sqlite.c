/*
 * A program with SQLite functions of its own, standing for one that also links the
 * system SQLite: its sqlite3_* and the SQLite inside libconsent must never meet. Each
 * side must keep its own: libconsent's ledger works (it never calls the program's
 * sqlite3_open_v2, which refuses), and the program's calls reach the program's code.
 *
 * tests/run.sh builds it against libconsent.so (the loop over every test) and against
 * the installed libconsent.a, which only exports consent_* (seal_archive in common.sh);
 * cargo's own libconsent.a would not even link with it ("multiple definition of
 * `sqlite3_libversion'").
 */
#define _POSIX_C_SOURCE 200809L

#include "test_util.h"

#ifndef CONSENT_EXAMPLES_DIR
#define CONSENT_EXAMPLES_DIR "examples"
#endif

static int foreign_opens = 0;

/* The program's "system SQLite". Declared here, not from sqlite3.h: the test needs no
 * SQLite installed. */
const char *sqlite3_libversion(void);
int sqlite3_libversion_number(void);
int sqlite3_open_v2(const char *filename, void **db, int flags, const char *vfs);

const char *sqlite3_libversion(void) { return "the program's own"; }

/* Older than any SQLite libconsent accepts: were it bound to this, opening would fail. */
int sqlite3_libversion_number(void) { return 1; }

int sqlite3_open_v2(const char *filename, void **db, int flags, const char *vfs) {
    (void)filename;
    (void)flags;
    (void)vfs;
    foreign_opens++;
    *db = NULL;
    return 1; /* SQLITE_ERROR */
}

int main(void) {
    consent_ledger *l = NULL;
    consent_event_ref ref;
    consent_status status;
    consent_verify_report report;

    /* Always SQLite (in memory), whatever backend the other tests run on. */
    EXPECT_OK(consent_ledger_open_in_memory(NULL, &l));
    EXPECT_OK(consent_registry_load(l, CONSENT_EXAMPLES_DIR "/ljmu/registry.toml", NULL, NULL));
    EXPECT_OK(consent_give(l, "student-1", "jmsu.marketing", NULL, "jmsu.privacy", "1", CONSENT_METHOD_PORTAL, false,
                           NULL, CONSENT_TIME_ABSENT, CONSENT_TIME_ABSENT, &ref));
    EXPECT_OK(consent_status_get(l, "student-1", "jmsu.marketing", NULL, &status));
    CHECK(status.state == CONSENT_STATE_GIVEN && status.permits);
    EXPECT_OK(consent_verify(l, &report));
    CHECK(report.ok && report.size > 0);
    consent_ledger_free(l);

    CHECK(foreign_opens == 0);
    CHECK(strcmp(sqlite3_libversion(), "the program's own") == 0);
    CHECK(sqlite3_libversion_number() == 1);
    return finish("test_foreign_sqlite");
}
