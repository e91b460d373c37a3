//! `verify`: every check a reader of docs/FORMAT.md can make, in one pass over the log
//! in `seq` order plus one read of each derived table. Nothing here reads through an
//! index it could be fooled by: SQLite's own check vouches for the b-trees, the store
//! compares every index with its table, and every derived row is rebuilt from the log itself. It reads through the store
//! (scans with callbacks, rows as stored) and holds no SQL of its own.
//!
//! `scan.rs` checks each row and collects what the whole-log checks need, `tree.rs`
//! checks the stored tree, `derived.rs` the derived tables; last, the log must still
//! hold every checkpoint it signed (`checkpoint/`).

mod derived;
mod names;
mod scan;
mod tree;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::key::PseudonymKey;
use crate::ledger::Ledger;
use crate::merkle::Hash;
use crate::proofs::Head;
use crate::store::{Store, SCHEMA_VERSION};

use scan::{check_row, Scan};
use tree::LevelCheck;

/// Result of [`Ledger::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Events checked.
    pub size: u64,
    /// Whether every hash matched.
    pub ok: bool,
    /// The first sequence number found bad.
    pub first_bad_seq: Option<u64>,
    /// Why it is bad.
    pub problem: Option<String>,
    /// The head recomputed from the rows (when the log is intact).
    pub head: Option<Head>,
    /// Whether the ledger was created as a simulation: its record times come from a
    /// simulated clock, not the system's.
    #[serde(default)]
    pub simulated: bool,
}

impl VerifyReport {
    pub(crate) fn bad(size: u64, seq: u64, problem: String) -> Self {
        VerifyReport {
            size,
            ok: false,
            first_bad_seq: Some(seq),
            problem: Some(problem),
            head: None,
            simulated: false,
        }
    }
}

/// The first problem found: the smallest sequence number wins (docs/FORMAT.md §4).
#[derive(Default)]
pub(crate) struct First(Option<(u64, String)>);

impl First {
    fn note(&mut self, seq: u64, why: impl Into<String>) {
        if self.0.as_ref().is_none_or(|(s, _)| seq < *s) {
            self.0 = Some((seq, why.into()));
        }
    }
}

impl Ledger {
    /// Recomputes every leaf from its row and every stored tree hash from the leaves,
    /// and names the first bad sequence number. One pass over the rows, constant memory.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors) only: what does not verify is reported in the [`VerifyReport`], not
    /// returned as an error.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_with_progress(|_, _| {})
    }

    /// [`Ledger::verify`] calling `progress(done, total)` every 64k events.
    ///
    /// # Errors
    /// As [`Ledger::verify`].
    pub fn verify_with_progress(&self, mut progress: impl FnMut(u64, u64)) -> Result<VerifyReport> {
        self.read(None, |inner, _| {
            verify_store(&inner.store, inner.key.as_ref(), &mut progress)
        })
    }

    /// [`Ledger::verify`], and also checks that the log still extends `head`: catches
    /// a truncated tail or a tail rewritten with a consistent new chain.
    ///
    /// # Errors
    /// As [`Ledger::verify`]: a log that no longer extends `head` is a report, not an
    /// error.
    pub fn verify_against(&self, head: &Head) -> Result<VerifyReport> {
        self.read(None, |inner, _| {
            let store = &inner.store;
            let report = verify_store(store, inner.key.as_ref(), &mut |_, _| {})?;
            if !report.ok {
                return Ok(report);
            }
            if report.size < head.size {
                return Ok(VerifyReport::bad(
                    report.size,
                    report.size,
                    format!("the ledger has {} events but the head has {}: the tail was truncated", report.size, head.size),
                ));
            }
            if store.root(head.size)? != head.root {
                // A head holds one root, so it cannot say which of its events changed:
                // the report names none rather than guess.
                return Ok(VerifyReport {
                    size: report.size,
                    ok: false,
                    first_bad_seq: None,
                    problem: Some(format!(
                        "the root at size {} differs from the head: some of its first {} events were rewritten",
                        head.size, head.size
                    )),
                    head: report.head,
                    simulated: report.simulated,
                });
            }
            Ok(report)
        })
    }
}

/// Every check, in a read transaction the caller holds.
fn verify_store(
    store: &Store,
    key: Option<&PseudonymKey>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport> {
    let size = store.size()?;
    let unplaced = |why: String| VerifyReport {
        size,
        ok: false,
        first_bad_seq: None,
        problem: Some(why),
        head: None,
        simulated: false,
    };
    if let Err(e) = store.check_schema(SCHEMA_VERSION) {
        return Ok(unplaced(e.to_string()));
    }
    if let Some(why) = store.meta_problem()? {
        return Ok(unplaced(why));
    }
    // SQLite's own check of every b-tree, then every index against its table, read
    // sequentially: together what `PRAGMA integrity_check` checks.
    let mut integrity = store.quick_check()?;
    if integrity == ["ok"] {
        integrity = store.index_problems()?;
        if integrity.is_empty() {
            integrity.push("ok".into());
        }
    }
    if integrity != ["ok"] {
        return Ok(unplaced(format!(
            "SQLite integrity check failed: {}",
            integrity.join("; ")
        )));
    }
    let count = store.count_rows()?;
    let mut expected: u64 = 0;
    let mut level: Vec<Hash> = Vec::new();
    let mut spill = LevelCheck::new(store, size);
    let mut row_problem = None;
    let mut early = None;
    let mut scan = Scan::default();
    store.each_row(|row| {
        if row.seq != expected as i64 {
            let why = format!("event {expected} is missing (next row has seq {})", row.seq);
            row_problem = Some((expected, why));
            return Ok(false);
        }
        if let Some(problem) = check_row(row).or_else(|| scan.row(row, key)) {
            row_problem = Some((expected, problem));
            return Ok(false);
        }
        level.push(row.canonical().leaf_hash());
        expected += 1;
        if level.len() == 1 << 16 {
            spill.feed(&mut level, expected - (1 << 16))?;
            if let Some(bad) = spill.first_bad.take() {
                early = Some(bad);
                return Ok(false);
            }
            progress(expected, size);
        }
        Ok(true)
    })?;
    if let Some((seq, why)) = early {
        return Ok(VerifyReport::bad(size, seq, why));
    }
    let base = expected - level.len() as u64;
    if let Some((seq, why)) = row_problem {
        // A bad leaf (or block) earlier in the same chunk comes first.
        spill.check_leaves(base, &level)?;
        let (seq, why) = spill.first_bad.take().unwrap_or((seq, why));
        return Ok(VerifyReport::bad(size, seq, why));
    }
    if count != size {
        return Ok(VerifyReport::bad(
            size,
            expected,
            "row count differs from the highest sequence number".into(),
        ));
    }
    spill.feed(&mut level, base)?;
    if let Some((seq, why)) = spill.first_bad {
        return Ok(VerifyReport::bad(size, seq, why));
    }
    // Tree rows beyond what `size` implies were forged.
    if let Some((lvl, idx)) = store.stray_tree_row(size)? {
        // A position that is not a pair of integers names the size.
        let seq = idx
            .and_then(|i| u64::try_from(i).ok())
            .zip(lvl.and_then(|l| u32::try_from(l).ok()))
            .and_then(|(i, l)| i.checked_shl(l))
            .unwrap_or(size);
        return Ok(VerifyReport::bad(
            size,
            seq.min(size),
            format!("tree row ({lvl:?}, {idx:?}) lies beyond the log or is malformed"),
        ));
    }
    if size > 0 && scan.config.is_none() {
        return Ok(VerifyReport::bad(
            size,
            0,
            "the log has no `ledger_configured` event".into(),
        ));
    }
    let mut first = First::default();
    scan.check_erasures(&mut first);
    scan.check_ack_targets(store, &mut first)?;
    derived::check_derived(store, &scan, &mut first)?;
    if let Some((seq, why)) = first.0 {
        return Ok(VerifyReport::bad(size, seq, why));
    }
    // The checkpoints the ledger signed: the log must still hold each (its size, its
    // root there). Their signatures need the log's key: `verify_checkpoints`.
    if let Some(problem) = crate::checkpoint::stored_checkpoints_problem(store)? {
        return Ok(VerifyReport {
            size,
            ok: false,
            first_bad_seq: None,
            problem: Some(problem),
            head: None,
            simulated: scan.simulated,
        });
    }
    let root = store.root(size)?;
    progress(size, size);
    Ok(VerifyReport {
        size,
        ok: true,
        first_bad_seq: None,
        problem: None,
        head: Some(Head { size, root }),
        simulated: scan.simulated,
    })
}
