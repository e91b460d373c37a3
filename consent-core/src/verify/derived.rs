//! The derived tables of `verify`: the registry tables, the materialized state and the
//! erasure markers, each compared with what the scan rebuilt from the log, read
//! through the store as stored.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use rusqlite::types::ValueRef;

use super::scan::Scan;
use super::First;
use crate::error::Result;
use crate::materialize::CurrentRow;
use crate::purpose::LawfulBasis;
use crate::store::{RegistryTable, Store};

/// Compares a registry table (`purposes` or `notices`) with the rows the log defines.
/// A differing row names its event: by its key, else by its own `seq`, else 0.
fn check_registry(
    store: &Store,
    table: RegistryTable,
    want: &HashMap<(String, String), (u64, i64, String)>,
    first: &mut First,
) -> Result<()> {
    let name = table.name();
    let mut seen: HashSet<(String, String)> = HashSet::new();
    store.each_registry_row(table, |r| {
        let key = r.id.zip(r.version);
        let stored = match (r.seq, r.registered_at, r.def) {
            (Some(seq), Some(at), Some(def)) => Some((seq as u64, at, def)),
            _ => None,
        };
        let expected = key.as_ref().and_then(|k| want.get(k));
        if let (Some(k), Some(w)) = (&key, expected) {
            if stored.as_ref() == Some(w) && seen.insert(k.clone()) {
                return;
            }
        }
        let own_seq = r.seq.and_then(|n| u64::try_from(n).ok());
        let seq = expected.map(|w| w.0).or(own_seq).unwrap_or(0);
        if let Some(k) = key.filter(|k| want.contains_key(k)) {
            seen.insert(k);
        }
        first.note(
            seq,
            format!("the {name} row for event {seq} differs from the log"),
        );
    })?;
    if let Some(w) = want
        .iter()
        .filter(|(k, _)| !seen.contains(*k))
        .map(|(_, w)| w.0)
        .min()
    {
        first.note(
            w,
            format!("the {name} table lacks the row event {w} defines"),
        );
    }
    Ok(())
}

/// A row the scan rebuilt for `current`, with its key.
struct Want<'a> {
    /// The key's place in the table's order: purpose rank, subject rank.
    order: (u32, u32),
    purpose: &'a str,
    subject: &'a str,
    row: &'a CurrentRow,
}

impl Want<'_> {
    /// This key against a stored one, in SQLite's order (BINARY collation): a stored
    /// value that is not text sorts before (NULL, numbers) or after (blobs) all text.
    fn cmp_stored(&self, key: &[ValueRef<'_>; 3]) -> Ordering {
        let mine = [self.purpose, self.subject, &self.row.recipient];
        for (m, k) in mine.iter().zip(key) {
            let o = match k {
                ValueRef::Text(b) => m.as_bytes().cmp(b),
                ValueRef::Blob(_) => Ordering::Less,
                _ => Ordering::Greater,
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

/// The rows of `current` the log implies (under each purpose's latest basis), in the
/// table's key order: purpose, subject, recipient.
fn rebuilt(scan: &Scan) -> Vec<Want<'_>> {
    let purpose_rank = scan.purpose_names.ranks();
    let subject_rank = scan.subjects.ranks();
    let consent: Vec<bool> = (0..scan.purpose_names.len() as u32)
        .map(|p| {
            scan.basis
                .get(scan.purpose_names.name(p))
                .is_none_or(|(_, b)| *b == LawfulBasis::Consent)
        })
        .collect();
    let mut want: Vec<Want<'_>> = Vec::with_capacity(scan.groups.len());
    for (&(s, p), rows) in &scan.groups {
        for row in &rows[if consent[p as usize] { 0 } else { 1 }] {
            want.push(Want {
                order: (purpose_rank[p as usize], subject_rank[s as usize]),
                purpose: scan.purpose_names.name(p),
                subject: scan.subjects.name(s),
                row,
            });
        }
    }
    want.sort_unstable_by(|a, b| {
        a.order
            .cmp(&b.order)
            .then_with(|| a.row.recipient.cmp(&b.row.recipient))
    });
    want
}

/// Compares `current` with the rows the log implies, in one ordered pass over both.
/// The table is read in key order; a stored row out of that order matches nothing, so
/// it cannot make a wrong table pass.
fn check_current(store: &Store, want: &[Want<'_>], first: &mut First) -> Result<()> {
    let mut next = 0;
    // The smallest seq of a row the table lacks.
    let mut lacking: Option<u64> = None;
    store.each_current_row(|r| {
        let mut matched = None;
        while let Some(w) = want.get(next) {
            match w.cmp_stored(&r.key) {
                Ordering::Less => {
                    lacking = Some(lacking.map_or(w.row.seq, |l| l.min(w.row.seq)));
                    next += 1;
                }
                Ordering::Equal => {
                    matched = Some(w.row);
                    next += 1;
                    break;
                }
                Ordering::Greater => break,
            }
        }
        match (r.row, matched) {
            (Some(row), Some(w)) if *w == row => {}
            (Some(_), Some(w)) => first.note(
                w.seq,
                format!("the materialized state decided by event {} is wrong", w.seq),
            ),
            (Some(row), None) => first.note(
                row.seq,
                format!(
                    "the materialized state has a row (naming event {}) that no events imply",
                    row.seq
                ),
            ),
            (None, w) => {
                // Name the event that decides the row this one stands for, if its key
                // can be read at all.
                let seq = w.map(|w| w.seq).or(r.seq).unwrap_or(0);
                first.note(
                    seq,
                    format!(
                        "the materialized row of event {seq} has the wrong storage types or values"
                    ),
                );
            }
        }
    })?;
    let rest = want[next..].iter().map(|w| w.row.seq).min();
    if let Some(seq) = lacking.into_iter().chain(rest).min() {
        first.note(
            seq,
            format!("the materialized state lacks the row decided by event {seq}"),
        );
    }
    Ok(())
}

/// Compares every derived table with what the scan rebuilt from the log.
pub(super) fn check_derived(store: &Store, scan: &Scan, first: &mut First) -> Result<()> {
    // Registry tables: purposes' integer versions compared as text keys.
    let purposes: HashMap<(String, String), (u64, i64, String)> = scan
        .purposes
        .iter()
        .map(|((id, v), row)| ((id.clone(), v.to_string()), row.clone()))
        .collect();
    check_registry(store, RegistryTable::Purposes, &purposes, first)?;
    check_registry(store, RegistryTable::Notices, &scan.notices, first)?;
    check_current(store, &rebuilt(scan), first)?;
    // Erasure markers: one per marker whose last erasure no readmission ended, with
    // that erasure's seq.
    let mut markers: HashMap<Vec<u8>, u64> = scan
        .markers
        .iter()
        .filter_map(|(k, m)| Some((k.clone(), m.erased?)))
        .collect();
    store.each_erased_row(|key, seq| match (key, seq) {
        (Some(k), Some(seq)) => match markers.remove(k) {
            Some(s) if s as i64 == seq => {}
            Some(s) => first.note(s, format!("the erasure marker of event {s} is altered")),
            None => first.note(
                u64::try_from(seq).unwrap_or(0),
                "an erasure marker that no event records",
            ),
        },
        // Named by the erasure the marker belongs to, else by its own seq.
        (k, seq) => {
            let seq = k
                .and_then(|k| markers.remove(k))
                .or_else(|| seq.and_then(|n| u64::try_from(n).ok()))
                .unwrap_or(0);
            first.note(
                seq,
                format!("the erasure marker of event {seq} has the wrong storage types"),
            );
        }
    })?;
    if let Some(&s) = markers.values().min() {
        first.note(s, format!("the erasure marker of event {s} is missing"));
    }
    Ok(())
}
