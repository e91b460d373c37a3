//! Regression tests for bugs this suite found in consent-core. Each doc comment says
//! what was wrong and where. A bug still open is `#[ignore]`d with its number, so the
//! rest of the suite stays green; `reliability/soak.sh` runs and lists them
//! (`cargo test --release -p consent-reliability --test core_bugs -- --ignored`).
//! Remove the `#[ignore]` with the fix.

use std::path::Path;

use consent_core::{Actor, ErrorKind, Ledger, NewEvent, State};
use consent_reliability::{fixture::populate, give, python_verify, register_all, NOTICE};
use rusqlite::Connection;

fn tampered(dir: &Path, sql: &str) -> Ledger {
    let path = dir.join("ledger.db");
    let l = Ledger::open(&path).unwrap();
    populate(&l, 8).unwrap();
    assert!(l.verify().unwrap().ok);
    l.close().unwrap();
    Connection::open(&path).unwrap().execute_batch(sql).unwrap();
    Ledger::open(&path).unwrap()
}

/// Bug 1: `check_derived` (consent-core/src/ledger.rs) compares the `purposes` and
/// `notices` rows with their event on id, version, seq and def, but not
/// `registered_at`, so a back-dated registration (what `Ledger::purposes()` reports)
/// verifies. Fix: add `AND p.registered_at = e.recorded_at` (and the same for `n`) to
/// the two counting subqueries.
#[test]
fn registry_registered_at_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let l = tampered(
        dir.path(),
        "UPDATE purposes SET registered_at = registered_at - 86400000 WHERE id = 'jmsu.marketing'",
    );
    let r = l.verify().unwrap();
    assert!(!r.ok, "a back-dated purpose registration verified: {r:?}");
    assert_eq!(
        r.first_bad_seq,
        Some(2),
        "the event that registered jmsu.marketing"
    );
    let dir2 = tempfile::tempdir().unwrap();
    let l = tampered(dir2.path(), "UPDATE notices SET registered_at = 0");
    assert!(
        !l.verify().unwrap().ok,
        "a back-dated notice registration verified"
    );
}

/// Bug 2: `check_derived` (consent-core/src/ledger.rs) reads `current` with typed
/// `r.get::<_, i64>` / `String`, so a value of the wrong type there (text in `seq`,
/// a blob in `state`, ...) makes `verify` return `Err(Error::Storage("Invalid column
/// type ..."))` instead of a report that names the event. (`RawRow::from_row` already
/// reads the events table loosely for this reason.) Fix: read the `current` columns as
/// `rusqlite::types::Value` and map any type other than the expected one to a value
/// that cannot equal the recomputed row (as `RawRow::from_row` does), so the group
/// mismatches and its last sequence number is reported.
#[test]
fn wrongly_typed_current_row_is_named() {
    for sql in [
        "UPDATE current SET seq = 'x' WHERE subject = 'stu-0004' AND purpose = 'jmsu.data-sharing'",
        "UPDATE current SET state = X'00' WHERE subject = 'stu-0004' AND purpose = 'jmsu.data-sharing'",
        "UPDATE current SET since = 1.5 WHERE subject = 'stu-0004' AND purpose = 'jmsu.data-sharing'",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let l = tampered(dir.path(), sql);
        let want: i64 = Connection::open(dir.path().join("ledger.db"))
            .unwrap()
            .query_row("SELECT max(seq) FROM events WHERE subject = 'stu-0004' AND purpose = 'jmsu.data-sharing'", [], |r| r.get(0))
            .unwrap();
        let r = l.verify();
        assert!(matches!(&r, Ok(r) if !r.ok && r.first_bad_seq == Some(want as u64)), "{sql}: {r:?}");
    }
}

/// Bug 3: the same for the events table when a TEXT column holds invalid UTF-8:
/// `RawRow::from_row` (consent-core/src/store.rs) calls `r.get::<_, Value>(i)?`, and
/// rusqlite's conversion of TEXT to `Value` fails on invalid UTF-8, so `verify` returns
/// `Err(Storage("Conversion error from type Text ..."))` instead of naming the event.
/// Fix: in `text()`, read `r.get_ref(i)?` and take `ValueRef::Text(bytes)` as raw bytes
/// (hash them as stored; see bug 4 for why not lossily).
#[test]
fn invalid_utf8_in_events_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let l = tampered(
        dir.path(),
        "UPDATE events SET recorded_by = CAST(X'73797374656DFF' AS TEXT) WHERE seq = 12",
    );
    let r = l.verify();
    assert!(
        matches!(&r, Ok(r) if !r.ok && r.first_bad_seq == Some(12)),
        "{r:?}"
    );
}

/// Bug 4: `RawRow::from_row` (consent-core/src/store.rs) turns a BLOB found in a text
/// column into text with `String::from_utf8_lossy`, so different stored bytes hash the
/// same: any text holding U+FFFD can be replaced by other invalid bytes and the leaf
/// still matches. For rows `check_derived` does not re-read (erasure events, erased
/// subjects' events) `verify` then reports ok; the independent Python verifier, which
/// hashes the bytes as stored, catches it. Fix: hash a text column's stored bytes as
/// they are (`ValueRef::Text(b)` / `ValueRef::Blob(b)` → `b`), or report a BLOB in a
/// TEXT column as a bad row.
#[test]
fn lossy_text_does_not_hide_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let l = Ledger::open(&path).unwrap();
    populate(&l, 4).unwrap();
    let e = l
        .erase_subject(
            "stu-0003",
            "form smudged \u{FFFD} retention ended",
            Actor::staff("dpo"),
        )
        .unwrap();
    l.close().unwrap();
    let n = Connection::open(&path)
        .unwrap()
        .execute("UPDATE events SET details = CAST(replace(CAST(details AS BLOB), X'EFBFBD', X'FE') AS BLOB) WHERE seq = ?1", [e.seq as i64])
        .unwrap();
    assert_eq!(n, 1);
    if let Some(py) = python_verify(&path, None) {
        assert!(!py.ok, "the independent verifier catches it: {}", py.output);
    }
    let r = Ledger::open(&path).unwrap().verify().unwrap();
    assert!(!r.ok, "changed bytes in event {} verified: {r:?}", e.seq);
    assert_eq!(r.first_bad_seq, Some(e.seq));
}

/// Bug 5: `verify` does not check the `erased` table (FORMAT.md §2 lists it among the
/// derived tables that "verify checks"), nor `events.subject_key`. Deleting an erased
/// subject's marker verifies, and the ledger then accepts new grants for the erased
/// subject (DOMAIN rule 10 / FORMAT §6). Fix: in `check_derived`, require the rows of
/// `erased` to be exactly `(subject_key, seq)` of the `subject_erased` events, and
/// every non-NULL `events.subject_key` to equal the key of an `erased` row with a lower
/// or equal seq.
#[test]
fn erased_markers_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let l = Ledger::open(&path).unwrap();
    populate(&l, 4).unwrap();
    l.erase_subject("stu-0002", "left six years ago", Actor::staff("dpo"))
        .unwrap();
    assert_eq!(
        l.append(give("stu-0002", "jmsu.marketing"))
            .unwrap_err()
            .kind(),
        ErrorKind::SubjectErased
    );
    l.close().unwrap();
    Connection::open(&path)
        .unwrap()
        .execute_batch("DELETE FROM erased")
        .unwrap();
    let l = Ledger::open(&path).unwrap();
    let r = l.verify().unwrap();
    let regrant = l.append(give("stu-0002", "jmsu.marketing"));
    assert!(
        !r.ok,
        "deleted erasure markers verified (and a grant for the erased subject was then {})",
        if regrant.is_ok() {
            "accepted"
        } else {
            "refused"
        }
    );
}

/// A nearly full ledger: `pages + 1` pages allowed.
fn nearly_full(dir: &Path) -> (std::path::PathBuf, consent_core::LedgerOptions) {
    let path = dir.join("ledger.db");
    let l = Ledger::open(&path).unwrap();
    populate(&l, 4).unwrap();
    l.close().unwrap();
    let pages: i64 = Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    (
        path,
        consent_core::LedgerOptions {
            max_pages: Some(pages as u64 + 1),
            ..Default::default()
        },
    )
}

/// Bug 6: when SQLite aborts the whole transaction on an error inside a batch
/// (SQLITE_FULL does), `Ledger::write` (consent-core/src/ledger.rs, batch branch) runs
/// `ROLLBACK TO op; RELEASE op`, which fails ("no such savepoint"), and returns *that*
/// error with `?`, hiding the real one; `append_many` then calls `rollback_batch()?`,
/// which fails with "cannot rollback - no transaction is active" and hides it again.
/// The caller gets `Storage` instead of `Full`. Fix: in `write`, when the savepoint
/// rollback fails (or `conn.is_autocommit()` is true after the error), keep and return
/// the original error; in `append_many`, ignore the rollback's own error
/// (`let _ = self.rollback_batch();`) and return the append's.
#[test]
fn full_disk_in_a_batch_is_reported_as_full() {
    let dir = tempfile::tempdir().unwrap();
    let (path, opts) = nearly_full(dir.path());
    let l = Ledger::open_with(&path, opts).unwrap();
    let big = serde_json::json!({ "scan": "x".repeat(20_000) });
    let e = l
        .append_many((0..3).map(|i| give(&format!("b{i}"), "jmsu.marketing").evidence(big.clone())))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Full, "{e}");
    let mut manual = None;
    let batch = l.batch().unwrap();
    for i in 0..3 {
        if let Err(e) = batch.append(give(&format!("m{i}"), "jmsu.marketing").evidence(big.clone()))
        {
            manual = Some(e);
            break;
        }
    }
    assert_eq!(manual.map(|e| e.kind()), Some(ErrorKind::Full));
}

/// Bug 7 (same root cause, worse effect): after SQLite aborted a batch's transaction,
/// the handle still believes a batch is open. The next `append` runs `SAVEPOINT op`
/// outside any transaction, which *starts and then commits* a transaction of its own,
/// so that event lands at once although the caller is inside a batch that will never
/// commit (`commit_batch` then fails with "cannot commit - no transaction is active").
/// A batch is no longer all-or-nothing: an importer that skips a failed row and goes on
/// gets an error at commit and believes nothing landed, while part of it did. Fix: in
/// `write`'s batch branch, after an error check `conn.is_autocommit()`; if the
/// transaction is gone, mark the batch aborted so later appends and `commit_batch`
/// return `Error::Batch("the batch was rolled back after an error")` until
/// `rollback_batch` clears it.
#[test]
fn a_batch_aborted_by_sqlite_stays_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, opts) = nearly_full(dir.path());
    let l = Ledger::open_with(&path, opts).unwrap();
    let before = l.head().unwrap();
    let batch = l.batch().unwrap();
    batch.append(give("small-1", "jmsu.marketing")).unwrap();
    let big = serde_json::json!({ "scan": "x".repeat(40_000) });
    assert!(
        batch
            .append(give("big", "jmsu.marketing").evidence(big))
            .is_err(),
        "the page cap is reached"
    );
    // The importer skips the bad row and goes on.
    let later = batch.append(give("small-2", "jmsu.marketing"));
    let commit = batch.commit();
    let size = l.head().unwrap().size;
    assert!(
        commit.is_ok() || size == before.size,
        "the batch failed to commit ({commit:?}) but {} of its events landed (the append after the error returned {later:?})",
        size - before.size
    );
}

/// Bug 8: `verify_conn` (consent-core/src/chain.rs) looks for forged tree rows only
/// "beyond the log" (`idx >= size >> level`), so a row with a negative `idx` or
/// `level` (or any other position that is no complete aligned subtree) is never
/// noticed. FORMAT.md §2 says the stored rows are those of the complete aligned
/// subtrees; the independent verifier checks exactly that set. Fix: also flag rows
/// with `level < 0 OR idx < 0 OR level > 63`, i.e. require
/// `0 <= level AND 0 <= idx AND idx < (size >> level)` for every row.
#[test]
fn forged_tree_rows_at_negative_positions_are_caught() {
    for sql in [
        "INSERT INTO tree VALUES (0, -5, zeroblob(32))",
        "INSERT INTO tree VALUES (-1, 3, zeroblob(32))",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let l = tampered(dir.path(), sql);
        if let Some(py) = python_verify(&dir.path().join("ledger.db"), None) {
            assert!(!py.ok, "{sql}: the independent verifier catches it");
        }
        let r = l.verify().unwrap();
        assert!(!r.ok, "{sql}: {r:?}");
    }
}

/// Issue 9 (availability, not integrity): `erase_subject` ends with `checkpoint()`,
/// which runs `PRAGMA wal_checkpoint(TRUNCATE)`. In TRUNCATE mode SQLite calls the busy
/// handler until every reader has moved to the newest snapshot, so while any other
/// connection keeps a read transaction open, the erasure blocks for the whole
/// `busy_timeout` (30 s by default), holding the handle's mutex, and only then reports
/// `wal_truncated: false`. Fix (consent-core/src/ledger.rs, `Ledger::checkpoint` or
/// `erase_subject`): run `wal_checkpoint(PASSIVE)` first and TRUNCATE only when no
/// frame was left behind, or lower the busy timeout around the checkpoint
/// (`conn.busy_timeout(short)` then restore), and document in FORMAT.md §6 that a
/// reader defers the truncation to a later `checkpoint()`.
#[test]
fn erasure_under_a_reader_does_not_stall() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    // A long busy timeout: were the checkpoint to wait for it, this test would hang
    // for ten minutes instead of returning (no timing is asserted).
    let opts = consent_core::LedgerOptions {
        busy_timeout: std::time::Duration::from_secs(600),
        ..Default::default()
    };
    let l = Ledger::open_with(&path, opts).unwrap();
    populate(&l, 4).unwrap();
    let reader = Connection::open(&path).unwrap();
    reader.execute_batch("BEGIN").unwrap();
    let _: i64 = reader
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    let report = l
        .erase_subject("stu-0002", "retention period ended", Actor::staff("dpo"))
        .unwrap();
    assert!(!report.wal_truncated, "a reader defers the truncation");
    reader.execute_batch("COMMIT").unwrap();
    drop(reader);
    assert!(
        l.checkpoint().unwrap(),
        "once the reader is gone the WAL is truncated"
    );
    assert!(l.verify().unwrap().ok);
}

/// Bug 10 (fixed): a withdrawal that names a notice the ledger does not know is refused
/// with `UnknownNotice`: `append_event` (consent-core/src/ledger.rs) looks the notice
/// up for every kind, though it already exempts withdrawals from the recipient check.
/// docs/RULES.md R7 says a withdrawal is never refused, so a feed that passes on the
/// notice printed on a paper opt-out loses the opt-out. Fix: for `is_withdrawal()`
/// kinds, record the withdrawal even when the notice is unknown (without the notice
/// reference, whose hash the ledger cannot supply, keeping the id and version named in
/// `details`), as for an unlisted recipient.
#[test]
fn withdrawal_naming_an_unknown_notice_is_recorded() {
    let l = Ledger::in_memory().unwrap();
    register_all(&l).unwrap();
    l.append(give("s1", "jmsu.marketing")).unwrap();
    for (id, version) in [("no.such.notice", "1"), (NOTICE.0, "1999")] {
        let size = l.head().unwrap().size;
        let w = l.append(NewEvent::withdraw("s1", "jmsu.marketing").notice(id, version));
        assert!(
            w.is_ok(),
            "notice {id} {version}: the withdrawal was refused: {w:?}"
        );
        assert_eq!(l.head().unwrap().size, size + 1);
        assert_eq!(
            l.status("s1", "jmsu.marketing", None).unwrap().state,
            State::Withdrawn
        );
    }
}
