//! The `purposes` and `notices` tables: each definition's row, beside the event that
//! recorded it.

use rusqlite::params;
use rusqlite::types::ValueRef;

use super::db::Row;
use super::Store;
use crate::error::{Error, Result};
use crate::notice::Notice;
use crate::purpose::Purpose;
use crate::timestamp::Timestamp;

/// One of the two registry tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RegistryTable {
    /// `purposes`: versions are integers.
    Purposes,
    /// `notices`: versions are text.
    Notices,
}

impl RegistryTable {
    /// The table's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RegistryTable::Purposes => "purposes",
            RegistryTable::Notices => "notices",
        }
    }
}

/// A registry row exactly as stored: `None` where a value has the wrong storage type
/// (the version as text, whatever its type should be).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawRegistryRow {
    pub id: Option<String>,
    pub version: Option<String>,
    pub seq: Option<i64>,
    pub registered_at: Option<i64>,
    pub def: Option<String>,
}

fn notice_row(r: &Row<'_>) -> rusqlite::Result<Result<Notice>> {
    let seq: i64 = r.get(0)?;
    let at: i64 = r.get(1)?;
    let def: String = r.get(2)?;
    Ok((|| {
        Ok(Notice {
            def: serde_json::from_str(&def)
                .map_err(|e| Error::Corrupt(format!("notice definition: {e}")))?,
            seq: seq as u64,
            registered_at: Timestamp::from_millis(at)?,
        })
    })())
}

fn purpose_row(r: &Row<'_>) -> rusqlite::Result<Result<Purpose>> {
    let version: i64 = r.get(0)?;
    let seq: i64 = r.get(1)?;
    let at: i64 = r.get(2)?;
    let def: String = r.get(3)?;
    Ok((|| {
        Ok(Purpose {
            def: serde_json::from_str(&def)
                .map_err(|e| Error::Corrupt(format!("purpose definition: {e}")))?,
            version: version as u32,
            seq: seq as u64,
            registered_at: Timestamp::from_millis(at)?,
            material_change: Vec::new(),
        })
    })())
}

/// A column as stored, never converted: TEXT only when it is UTF-8.
pub(super) fn text_at(r: &Row<'_>, i: usize) -> Option<String> {
    match r.get_ref(i).ok()? {
        ValueRef::Text(b) => std::str::from_utf8(b).ok().map(String::from),
        _ => None,
    }
}

/// An INTEGER column as stored.
pub(super) fn int_at(r: &Row<'_>, i: usize) -> Option<i64> {
    match r.get_ref(i).ok()? {
        ValueRef::Integer(n) => Some(n),
        _ => None,
    }
}

/// A BLOB column as stored.
pub(super) fn blob_at<'r>(r: &'r Row<'_>, i: usize) -> Option<&'r [u8]> {
    match r.get_ref(i).ok()? {
        ValueRef::Blob(b) => Some(b),
        _ => None,
    }
}

impl Store {
    /// The version a new definition of purpose `id` gets.
    pub(crate) fn next_purpose_version(&self, id: &str) -> Result<u32> {
        self.query_one(
            "SELECT coalesce(max(version), 0) + 1 FROM purposes WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
    }

    /// Records a purpose version defined by event `seq`.
    pub(crate) fn insert_purpose(
        &self,
        id: &str,
        version: u32,
        seq: u64,
        at: Timestamp,
        def: &str,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO purposes(id, version, seq, registered_at, def) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, version, seq as i64, at.as_millis(), def],
        )?;
        Ok(())
    }

    /// Records a notice version defined by event `seq`.
    pub(crate) fn insert_notice(
        &self,
        id: &str,
        version: &str,
        seq: u64,
        at: Timestamp,
        def: &str,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO notices(id, version, seq, registered_at, def) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, version, seq as i64, at.as_millis(), def],
        )?;
        Ok(())
    }

    /// Every version of one purpose (`Some(id)`) or of all, by id then version
    /// (without their material changes, which the caller marks).
    pub(crate) fn purposes(&self, id: Option<&str>) -> Result<Vec<Purpose>> {
        self.query_map(
            "SELECT version, seq, registered_at, def FROM purposes WHERE CAST(?1 AS TEXT) IS NULL OR id = ?1 ORDER BY id, version",
            params![id],
            purpose_row,
        )?
        .into_iter()
        .collect()
    }

    /// One notice version.
    pub(crate) fn notice(&self, id: &str, version: &str) -> Result<Option<Notice>> {
        self.query_row(
            "SELECT seq, registered_at, def FROM notices WHERE id = ?1 AND version = ?2",
            params![id, version],
            notice_row,
        )?
        .transpose()
    }

    /// Every notice, by id then version.
    pub(crate) fn notices(&self) -> Result<Vec<Notice>> {
        self.query_map(
            "SELECT seq, registered_at, def FROM notices ORDER BY id, version",
            &[],
            notice_row,
        )?
        .into_iter()
        .collect()
    }

    /// Calls `f` on every row of a registry table as stored, read from the table
    /// itself (no index).
    pub(crate) fn each_registry_row(
        &self,
        table: RegistryTable,
        mut f: impl FnMut(RawRegistryRow),
    ) -> Result<()> {
        let sql = self.table_scan(
            &format!(
                "SELECT id, version, seq, registered_at, def FROM {} NOT INDEXED",
                table.name()
            ),
            "id, version",
        );
        self.query_each(&sql, &[], |r| {
            let version = match table {
                RegistryTable::Purposes => int_at(r, 1).map(|v| v.to_string()),
                RegistryTable::Notices => text_at(r, 1),
            };
            f(RawRegistryRow {
                id: text_at(r, 0),
                version,
                seq: int_at(r, 2),
                registered_at: int_at(r, 3),
                def: text_at(r, 4),
            });
            Ok(true)
        })
    }
}
