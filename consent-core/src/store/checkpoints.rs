//! The `checkpoints` table: the signed checkpoint notes the ledger issued, one row per
//! tree size (docs/FORMAT.md §11).
//!
//! The table is not part of the hashed log: it is the ledger's own memory of what it
//! signed. So reads come in two forms: [`Store::checkpoint_rows`] for the ledger's
//! answers (a value of the wrong storage type is `Corrupt`), and
//! [`Store::each_checkpoint_row`] for checking, which hands over the row as stored so
//! that a damaged row becomes a finding about its size rather than an error.

use rusqlite::params;
use rusqlite::types::ValueRef;

use super::db::Row;
use super::Store;
use crate::error::{Error, Result};

/// A `checkpoints` row exactly as stored: `None` where a value has the wrong storage
/// type (or the note is not UTF-8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawCheckpointRow {
    pub size: Option<i64>,
    pub note: Option<String>,
}

fn read_raw(r: &Row<'_>) -> rusqlite::Result<RawCheckpointRow> {
    let size = match r.get_ref(0)? {
        ValueRef::Integer(n) => Some(n),
        _ => None,
    };
    let note = match r.get_ref(1)? {
        ValueRef::Text(t) => std::str::from_utf8(t).ok().map(str::to_owned),
        _ => None,
    };
    Ok(RawCheckpointRow { size, note })
}

fn checked(row: RawCheckpointRow) -> Result<(u64, String)> {
    match (row.size.and_then(|s| u64::try_from(s).ok()), row.note) {
        (Some(size), Some(note)) => Ok((size, note)),
        (size, _) => Err(Error::Corrupt(format!(
            "the stored checkpoint {} is not a size and a note text",
            size.map_or("row".to_string(), |s| format!("of size {s}"))
        ))),
    }
}

impl Store {
    /// The note stored for tree size `size`, if any.
    pub(crate) fn checkpoint_note(&self, size: u64) -> Result<Option<String>> {
        let row = self.query_row(
            "SELECT size, note FROM checkpoints WHERE size = ?1",
            params![size as i64],
            read_raw,
        )?;
        row.map(|r| checked(r).map(|(_, note)| note)).transpose()
    }

    /// Stores (or replaces) the note of tree size `size`. The caller decides what may
    /// replace what (`checkpoint.rs`).
    pub(crate) fn put_checkpoint(&self, size: u64, note: &str) -> Result<()> {
        let size = i64::try_from(size)
            .map_err(|_| Error::invalid("a checkpoint size above 2^63 - 1 cannot be stored"))?;
        self.execute(
            "INSERT INTO checkpoints(size, note) VALUES (?1, ?2) \
             ON CONFLICT(size) DO UPDATE SET note = excluded.note",
            params![size, note],
        )?;
        Ok(())
    }

    /// Every stored checkpoint, in size order.
    pub(crate) fn checkpoint_rows(&self) -> Result<Vec<(u64, String)>> {
        self.query_map(
            "SELECT size, note FROM checkpoints ORDER BY size",
            &[],
            read_raw,
        )?
        .into_iter()
        .map(checked)
        .collect()
    }

    /// The stored checkpoint of the largest size, if any.
    pub(crate) fn latest_checkpoint_row(&self) -> Result<Option<(u64, String)>> {
        let row = self.query_row(
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1",
            &[],
            read_raw,
        )?;
        row.map(checked).transpose()
    }

    /// Calls `f` on every row as stored, in the table's own order (size ascending for
    /// a sound table), read from the table itself, until it returns false.
    pub(crate) fn each_checkpoint_row(
        &self,
        mut f: impl FnMut(RawCheckpointRow) -> bool,
    ) -> Result<()> {
        let sql = self.table_scan("SELECT size, note FROM checkpoints NOT INDEXED", "size");
        self.query_each(&sql, &[], |r| Ok(f(read_raw(r)?)))
    }
}
