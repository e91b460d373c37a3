//! The `meta` and `erased` tables, and SQLite's own integrity check: `quick_check`
//! for the b-trees, and every index compared with its table in `meta/indexes.rs`.

use rusqlite::params;

mod indexes;
mod keys;

use super::db::Backend;
use super::registry::{blob_at, int_at};
use super::schema::{FORMAT_NAME, SCHEMA_VERSION};
use super::Store;
use crate::error::Result;

/// Whether a pseudonym is the marker of an erasure in force.
const IS_ERASED: &str = "SELECT 1 FROM erased WHERE subject_key = ?1";

impl Store {
    /// The schema version `meta` records.
    pub(crate) fn schema_version(&self) -> Result<i64> {
        self.query_one(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            &[],
            |r| match r.get_ref(0)? {
                // PostgreSQL's `meta.value` is text.
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .ok_or(rusqlite::Error::InvalidQuery),
                _ => r.get(0),
            },
        )
    }

    /// Whether `meta` holds exactly `format` and `schema_version`, with their values
    /// and storage types; the problem otherwise.
    pub(crate) fn meta_problem(&self) -> Result<Option<String>> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT CAST(key AS BLOB), typeof(value), CASE typeof(value) WHEN 'blob' THEN CAST(hex(value) AS BLOB) \
                 ELSE CAST(value AS BLOB) END FROM meta ORDER BY key"
            }
            // Typed columns: the value is text; `schema_version` holds the number.
            Backend::Postgres => {
                "SELECT convert_to(key, 'UTF8'), CASE key WHEN 'schema_version' THEN 'integer' ELSE 'text' END, \
                 convert_to(value, 'UTF8') FROM meta ORDER BY key COLLATE \"C\""
            }
        };
        let rows: Vec<(Vec<u8>, String, Vec<u8>)> =
            self.query_map(sql, &[], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let want = [
            (
                b"format".to_vec(),
                "text".to_string(),
                FORMAT_NAME.as_bytes().to_vec(),
            ),
            (
                b"schema_version".to_vec(),
                "integer".to_string(),
                SCHEMA_VERSION.to_string().into_bytes(),
            ),
        ];
        Ok((rows != want).then(|| {
            "the `meta` table holds other rows than `format` and `schema_version` (a pepper or key must never be stored in the file)".into()
        }))
    }

    /// SQLite's check of every b-tree's structure (pages, cells, rowid order, NOT NULL):
    /// `["ok"]` when sound. Unlike `integrity_check` it does not compare indexes with
    /// their tables: [`Store::index_problems`] does, reading sequentially.
    pub(crate) fn quick_check(&self) -> Result<Vec<String>> {
        match self.backend() {
            Backend::Sqlite => self.query_map("PRAGMA quick_check", &[], |r| r.get(0)),
            // PostgreSQL checks its pages itself (checksums, when the cluster has
            // them); `verify` checks every row and hash it reads.
            Backend::Postgres => Ok(vec!["ok".into()]),
        }
    }

    /// Whether an erasure marker is in force.
    pub(crate) fn is_erased_marker(&self, marker: &[u8]) -> Result<bool> {
        Ok(self
            .query_row(IS_ERASED, params![marker], |_| Ok(()))?
            .is_some())
    }

    /// Asks ahead for what [`Store::is_erased_marker`] will read (PostgreSQL).
    pub(crate) fn prefetch_is_erased_marker(&self, marker: &[u8]) -> Result<()> {
        self.prefetch(IS_ERASED, params![marker])
    }

    /// The seq of the erasure a marker in force records.
    pub(crate) fn erasure_seq(&self, marker: &[u8]) -> Result<Option<i64>> {
        self.query_row(
            "SELECT seq FROM erased WHERE subject_key = ?1",
            params![marker],
            |r| r.get(0),
        )
    }

    /// Puts an erasure marker in force, recorded by event `seq`.
    pub(crate) fn insert_erased(&self, marker: &[u8], seq: u64) -> Result<()> {
        self.execute(
            "INSERT INTO erased(subject_key, seq) VALUES (?1, ?2)",
            params![marker, seq as i64],
        )?;
        Ok(())
    }

    /// Lifts an erasure marker (a readmission).
    pub(crate) fn delete_erased(&self, marker: &[u8]) -> Result<()> {
        self.execute("DELETE FROM erased WHERE subject_key = ?1", params![marker])?;
        Ok(())
    }

    /// Calls `f(marker, seq)` on every `erased` row as stored (`None` for a value of
    /// the wrong storage type), read from the table itself.
    pub(crate) fn each_erased_row(
        &self,
        mut f: impl FnMut(Option<&[u8]>, Option<i64>),
    ) -> Result<()> {
        let sql = self.table_scan(
            "SELECT subject_key, seq FROM erased NOT INDEXED",
            "subject_key",
        );
        self.query_each(&sql, &[], |r| {
            f(blob_at(r, 0), int_at(r, 1));
            Ok(true)
        })
    }
}
