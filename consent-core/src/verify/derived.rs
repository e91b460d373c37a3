//! The derived tables of `verify`: the registry tables, the materialized state and the
//! erasure markers, each compared with what the scan rebuilt from the log, read
//! through the store as stored.

use std::collections::{HashMap, HashSet};

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
    // Materialized state: rows under each purpose's latest basis.
    let mut want: HashMap<(String, String, String), CurrentRow> = HashMap::new();
    for ((subject, purpose), rows) in &scan.groups {
        let consent = scan
            .basis
            .get(purpose)
            .is_none_or(|(_, b)| *b == LawfulBasis::Consent);
        for r in &rows[if consent { 0 } else { 1 }] {
            want.insert(
                (subject.clone(), purpose.clone(), r.recipient.clone()),
                r.clone(),
            );
        }
    }
    store.each_current_row(|r| match (r.key, r.row) {
        (Some(k), Some(row)) => match want.remove(&k) {
            Some(w) if w == row => {}
            Some(w) => first.note(
                w.seq,
                format!("the materialized state decided by event {} is wrong", w.seq),
            ),
            None => first.note(
                row.seq,
                format!(
                    "the materialized state has a row (naming event {}) that no events imply",
                    row.seq
                ),
            ),
        },
        (key, _) => {
            // Name the event that decides the row this one stands for, if its key
            // can be read at all.
            let seq = key
                .and_then(|k| want.remove(&k))
                .map(|w| w.seq)
                .or(r.seq)
                .unwrap_or(0);
            first.note(
                seq,
                format!(
                    "the materialized row of event {seq} has the wrong storage types or values"
                ),
            );
        }
    })?;
    if let Some(w) = want.values().min_by_key(|w| w.seq) {
        first.note(
            w.seq,
            format!(
                "the materialized state lacks the row decided by event {}",
                w.seq
            ),
        );
    }
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
