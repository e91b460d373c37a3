//! The `events` row: its one column table ([`COLUMNS`]), from which the row type
//! [`RawRow`], its reading, its insert, its hashed view and every column list are
//! generated (the statements that use them are in `events.rs`).
//!
//! To add or change a column, change the `event_columns!` invocation below (and the
//! schema text of the new version in `schema.rs`): nothing else lists the columns.

use std::sync::LazyLock;

use rusqlite::params;
use rusqlite::types::ValueRef;
use uuid::Uuid;

use super::db::Row;
use super::Store;
use crate::canonical::CanonicalEvent;
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::notice::NoticeRef;
use crate::timestamp::Timestamp;

/// One column of the `events` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    /// Its name.
    pub name: &'static str,
    /// Its declared type and constraints, as in the schema text.
    pub sql: &'static str,
    /// Whether deciding a state reads it (the other columns are selected as NULL on
    /// the hot paths that only decide).
    pub decide: bool,
    /// Whether the canonical encoding covers it (as a field of [`CanonicalEvent`]).
    pub hashed: bool,
}

/// A value as stored in one column, read without failing: a value of the wrong
/// storage type (or TEXT that is not UTF-8) is noted in `malformed` and replaced by an
/// empty or impossible value, so `verify` can name the row instead of stopping.
trait Stored: Sized {
    fn read(v: ValueRef<'_>, column: &'static str, malformed: &mut Option<&'static str>) -> Self;

    /// [`Stored::read`] into `self`, reusing its buffer (the scan of `verify`).
    fn read_into(
        &mut self,
        v: ValueRef<'_>,
        column: &'static str,
        malformed: &mut Option<&'static str>,
    ) {
        *self = Self::read(v, column, malformed);
    }
}

fn wrong<T>(column: &'static str, malformed: &mut Option<&'static str>, v: T) -> T {
    malformed.get_or_insert(column);
    v
}

impl Stored for Option<String> {
    fn read(v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) -> Self {
        match v {
            ValueRef::Null => None,
            ValueRef::Text(b) => match std::str::from_utf8(b) {
                Ok(s) => Some(s.to_string()),
                Err(_) => wrong(c, m, Some(String::new())),
            },
            _ => wrong(c, m, Some(String::new())),
        }
    }

    fn read_into(&mut self, v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) {
        match (v, self.as_mut()) {
            (ValueRef::Text(b), Some(buf)) => match std::str::from_utf8(b) {
                Ok(s) => {
                    buf.clear();
                    buf.push_str(s);
                }
                Err(_) => *self = Self::read(v, c, m),
            },
            _ => *self = Self::read(v, c, m),
        }
    }
}

impl Stored for Option<Vec<u8>> {
    fn read(v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) -> Self {
        match v {
            ValueRef::Null => None,
            ValueRef::Blob(b) => Some(b.to_vec()),
            _ => wrong(c, m, Some(Vec::new())),
        }
    }

    fn read_into(&mut self, v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) {
        match (v, self.as_mut()) {
            (ValueRef::Blob(b), Some(buf)) => {
                buf.clear();
                buf.extend_from_slice(b);
            }
            _ => *self = Self::read(v, c, m),
        }
    }
}

impl Stored for Option<i64> {
    fn read(v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) -> Self {
        match v {
            ValueRef::Null => None,
            ValueRef::Integer(n) => Some(n),
            _ => wrong(c, m, Some(i64::MIN)),
        }
    }
}

impl Stored for String {
    fn read(v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) -> Self {
        Option::<String>::read(v, c, m).unwrap_or_default()
    }

    fn read_into(&mut self, v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) {
        match std::str::from_utf8(match v {
            ValueRef::Text(b) => b,
            _ => &[0xff],
        }) {
            Ok(s) => {
                self.clear();
                self.push_str(s);
            }
            Err(_) => *self = Self::read(v, c, m),
        }
    }
}

impl Stored for Vec<u8> {
    fn read(v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) -> Self {
        Option::<Vec<u8>>::read(v, c, m).unwrap_or_default()
    }

    fn read_into(&mut self, v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) {
        match v {
            ValueRef::Blob(b) => {
                self.clear();
                self.extend_from_slice(b);
            }
            _ => *self = Self::read(v, c, m),
        }
    }
}

impl Stored for i64 {
    /// A NOT NULL integer read back as NULL is out of every valid range.
    fn read(v: ValueRef<'_>, c: &'static str, m: &mut Option<&'static str>) -> Self {
        Option::<i64>::read(v, c, m).unwrap_or(i64::MIN)
    }
}

/// A column value as the canonical encoding takes it (borrowed).
trait Canon<'a> {
    type Out;
    fn canon(&'a self) -> Self::Out;
}

impl<'a> Canon<'a> for i64 {
    type Out = i64;
    fn canon(&'a self) -> i64 {
        *self
    }
}

impl<'a> Canon<'a> for Option<i64> {
    type Out = Option<i64>;
    fn canon(&'a self) -> Option<i64> {
        *self
    }
}

impl<'a> Canon<'a> for String {
    type Out = &'a str;
    fn canon(&'a self) -> &'a str {
        self
    }
}

impl<'a> Canon<'a> for Option<String> {
    type Out = Option<&'a str>;
    fn canon(&'a self) -> Option<&'a str> {
        self.as_deref()
    }
}

impl<'a> Canon<'a> for Vec<u8> {
    type Out = &'a [u8];
    fn canon(&'a self) -> &'a [u8] {
        self
    }
}

impl<'a> Canon<'a> for Option<Vec<u8>> {
    type Out = Option<&'a [u8]>;
    fn canon(&'a self) -> Option<&'a [u8]> {
        self.as_deref()
    }
}

macro_rules! flag {
    (decide) => {
        true
    };
    (hashed) => {
        true
    };
    (-) => {
        false
    };
}

/// Builds the [`CanonicalEvent`] of a row from the columns marked `hashed`.
macro_rules! canonical_of {
    ($row:ident, $version:expr, [$($done:tt)*]) => {
        CanonicalEvent { version: $version, $($done)* }
    };
    ($row:ident, $version:expr, [$($done:tt)*] hashed $f:ident $($rest:tt)*) => {
        canonical_of!($row, $version, [$($done)* $f: Canon::canon(&$row.$f),] $($rest)*)
    };
    ($row:ident, $version:expr, [$($done:tt)*] - $f:ident $($rest:tt)*) => {
        canonical_of!($row, $version, [$($done)*] $($rest)*)
    };
}

/// Declares the columns once: name, Rust type, declared SQL type, whether deciding
/// reads it, whether the canonical encoding covers it.
macro_rules! event_columns {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty = $sql:literal, $decide:tt, $hashed:tt; )+) => {
        /// The columns of `events`, in table order.
        pub(crate) const COLUMNS: &[Column] = &[$(Column {
            name: stringify!($field),
            sql: $sql,
            decide: flag!($decide),
            hashed: flag!($hashed),
        }),+];

        /// One `events` row exactly as stored (see [`COLUMNS`]).
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub(crate) struct RawRow {
            $( $(#[$doc])* pub $field: $ty, )+
            /// The first column read back with the wrong storage type or invalid UTF-8.
            pub malformed: Option<&'static str>,
        }

        impl RawRow {
            /// Reads a row selected with the columns of [`COLUMNS`] in order, without
            /// interpreting it, so `verify` hashes exactly what is stored.
            pub(super) fn read(r: &Row<'_>) -> rusqlite::Result<RawRow> {
                let mut malformed = None;
                let mut i = 0usize;
                $(
                    let $field = <$ty as Stored>::read(r.get_ref(i)?, stringify!($field), &mut malformed);
                    i += 1;
                )+
                let _ = i;
                Ok(RawRow { $($field,)+ malformed })
            }

            /// [`RawRow::read`] into `self`, reusing its buffers: no allocation per
            /// row once they have grown (the scan of `verify`).
            pub(super) fn read_into(&mut self, r: &Row<'_>) -> rusqlite::Result<()> {
                self.malformed = None;
                let mut i = 0usize;
                $(
                    self.$field.read_into(r.get_ref(i)?, stringify!($field), &mut self.malformed);
                    i += 1;
                )+
                let _ = i;
                Ok(())
            }

            pub(super) fn insert(&self, store: &Store) -> Result<()> {
                store.execute_later(&INSERT, params![$(self.$field),+])
            }

            /// The hashed view of the row (docs/FORMAT.md §3.3).
            pub(crate) fn canonical(&self) -> CanonicalEvent<'_> {
                let row = self;
                canonical_of!(row, u8::try_from(self.encoding).unwrap_or(0), [] $($hashed $field)+)
            }
        }
    };
}

event_columns! {
    /// Position in the log, from 0.
    seq: i64 = "INTEGER PRIMARY KEY", decide, hashed;
    /// UUID, 16 bytes.
    id: Vec<u8> = "BLOB NOT NULL UNIQUE", decide, hashed;
    /// [`EventKind`] text.
    kind: String = "TEXT NOT NULL", decide, hashed;
    /// Personal: the subject (NULL once erased).
    subject: Option<String> = "TEXT", decide, -;
    /// The salt of the personal digest (NULL once erased).
    salt: Option<Vec<u8>> = "BLOB", decide, -;
    personal_digest: Option<Vec<u8>> = "BLOB", decide, hashed;
    purpose: Option<String> = "TEXT", decide, hashed;
    purpose_version: Option<i64> = "INTEGER", decide, hashed;
    recipient: Option<String> = "TEXT", decide, hashed;
    notice_id: Option<String> = "TEXT", decide, hashed;
    notice_version: Option<String> = "TEXT", decide, hashed;
    notice_sha256: Option<Vec<u8>> = "BLOB", decide, hashed;
    explicit: i64 = "INTEGER NOT NULL", decide, hashed;
    method: Option<String> = "TEXT", decide, hashed;
    recorded_by: String = "TEXT NOT NULL", decide, hashed;
    effective_at: i64 = "INTEGER NOT NULL", decide, hashed;
    recorded_at: i64 = "INTEGER NOT NULL", decide, hashed;
    expires_at: Option<i64> = "INTEGER", decide, hashed;
    effect_deadline: Option<i64> = "INTEGER", decide, hashed;
    /// Personal: the caller's idempotency key (NULL once erased).
    source_id: Option<String> = "TEXT", -, -;
    /// Personal: evidence JSON (NULL once erased).
    evidence: Option<String> = "TEXT", -, -;
    target: Option<Vec<u8>> = "BLOB", decide, hashed;
    details: Option<String> = "TEXT", -, hashed;
    /// Keyed pseudonym of the subject (hashed from encoding 2 on).
    subject_key: Option<Vec<u8>> = "BLOB", decide, hashed;
    /// Keyed pseudonym of the source id (hashed from encoding 2 on).
    source_key: Option<Vec<u8>> = "BLOB", -, hashed;
    /// Canonical encoding version of the row: 1 or 2.
    encoding: i64 = "INTEGER NOT NULL", decide, -;
}

/// Every column, in table order: `seq, id, kind, ...`.
pub(super) static ALL: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    names.join(", ")
});

/// [`ALL`] with NULL in place of the columns deciding never reads (source id,
/// evidence, details...): for the hot paths that only run [`crate::query`].
pub(super) static DECIDE: LazyLock<String> = LazyLock::new(|| {
    let names: Vec<&str> = COLUMNS
        .iter()
        .map(|c| if c.decide { c.name } else { "NULL" })
        .collect();
    names.join(", ")
});

static INSERT: LazyLock<String> = LazyLock::new(|| {
    let marks: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO events({}) VALUES ({})",
        ALL.as_str(),
        marks.join(",")
    )
});

impl RawRow {
    /// A row of the ledger's own making at `now`: every optional column empty.
    pub(crate) fn blank(id: Uuid, recorded_by: String, now: Timestamp, encoding: u8) -> RawRow {
        RawRow {
            id: id.as_bytes().to_vec(),
            recorded_by,
            effective_at: now.as_millis(),
            recorded_at: now.as_millis(),
            encoding: encoding.into(),
            ..RawRow::default()
        }
    }

    /// Interprets the row as an [`Event`]; a malformed value is [`Error::Corrupt`].
    pub(crate) fn to_event(&self) -> Result<Event> {
        let seq = self.seq;
        let bad = |what: &str| Error::Corrupt(format!("event {seq}: {what}"));
        if let Some(column) = self.malformed {
            return Err(bad(&format!("column `{column}` has the wrong type")));
        }
        let uuid = |b: &[u8], what: &str| Uuid::from_slice(b).map_err(|_| bad(what));
        let ts = |ms: i64| Timestamp::from_millis(ms).map_err(|_| bad("time out of range"));
        let json = |t: &Option<String>| {
            t.as_deref()
                .map(|t| serde_json::from_str(t).map_err(|_| bad("JSON column is not JSON")))
                .transpose()
        };
        let notice = match (&self.notice_id, &self.notice_version, &self.notice_sha256) {
            (Some(id), Some(version), Some(h)) => Some(NoticeRef {
                id: id.clone(),
                version: version.clone(),
                sha256: h
                    .as_slice()
                    .try_into()
                    .map_err(|_| bad("notice hash is not 32 bytes"))?,
            }),
            _ => None,
        };
        let kind: EventKind = self.kind.parse().map_err(|_| bad("unknown kind"))?;
        Ok(Event {
            seq: u64::try_from(seq).map_err(|_| bad("negative sequence number"))?,
            id: uuid(&self.id, "id is not a UUID")?,
            kind,
            subject: self.subject.clone(),
            purpose: self.purpose.clone(),
            purpose_version: self
                .purpose_version
                .map(|v| u32::try_from(v).map_err(|_| bad("purpose version out of range")))
                .transpose()?,
            recipient: self.recipient.clone(),
            notice,
            explicit: self.explicit != 0,
            method: self
                .method
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(|_| bad("unknown method"))?,
            recorded_by: self
                .recorded_by
                .parse()
                .map_err(|_| bad("bad recorded_by"))?,
            effective_at: ts(self.effective_at)?,
            recorded_at: ts(self.recorded_at)?,
            expires_at: self.expires_at.map(ts).transpose()?,
            effect_deadline: self.effect_deadline.map(ts).transpose()?,
            source_id: self.source_id.clone(),
            evidence: json(&self.evidence)?,
            target: self
                .target
                .as_deref()
                .map(|b| uuid(b, "target is not a UUID"))
                .transpose()?,
            details: json(&self.details)?,
            erased: self.salt.is_none() && kind.is_subject_event(),
        })
    }
}

/// Maps a row selected with [`ALL`] or [`DECIDE`]: read as stored, then interpreted.
pub(super) fn event_from_row(row: &Row<'_>) -> rusqlite::Result<Event> {
    RawRow::read(row)?.to_event().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Null, Box::new(e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The current schema's `events` table has exactly the columns of [`COLUMNS`],
    /// with their declared types, in order.
    #[test]
    fn columns_are_the_schemas() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::schema::create_schema(&conn).unwrap();
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_schema WHERE name = 'events'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let body: Vec<String> = sql
            .split_once('(')
            .unwrap()
            .1
            .trim_end_matches(')')
            .split(",\n")
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let want: Vec<String> = COLUMNS
            .iter()
            .map(|c| format!("{} {}", c.name, c.sql))
            .collect();
        assert_eq!(body, want);
    }

    #[test]
    fn generated_statements() {
        assert!(INSERT.ends_with("?25,?26)"));
        assert!(DECIDE.contains("NULL, NULL, target, NULL"));
        assert_eq!(COLUMNS.iter().filter(|c| c.hashed).count(), 21);
    }
}
