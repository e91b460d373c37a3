//! The store's reads and writes of the `events` table, with statements built once
//! from the column lists of `row.rs`.

use std::sync::LazyLock;

use rusqlite::params;
use uuid::Uuid;

use super::db::Backend;
use super::row::{event_from_row, RawRow, ALL, DECIDE};
use super::Store;
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};

/// A SELECT of events statement, its text built once.
macro_rules! select {
    ($name:ident, $cols:ident, $rest:literal) => {
        static $name: LazyLock<String> =
            LazyLock::new(|| format!(concat!("SELECT {} FROM events ", $rest), $cols.as_str()));
    };
}

select!(BY_ID, ALL, "WHERE id = ?1");
select!(BY_SEQ, ALL, "WHERE seq = ?1");
select!(BY_KIND, ALL, "WHERE kind = ?1 ORDER BY seq LIMIT 1");
select!(BY_SOURCE, ALL, "WHERE source_key = ?1");
select!(SINCE, ALL, "WHERE seq >= ?1 ORDER BY seq LIMIT ?2");
select!(OF_SUBJECT, ALL, "WHERE subject = ?1 ORDER BY seq");
select!(
    BLANKED,
    ALL,
    "WHERE subject IS NULL AND subject_key = ?1 ORDER BY seq"
);
select!(
    GROUP,
    DECIDE,
    "WHERE subject = ?1 AND purpose = ?2 ORDER BY seq"
);
select!(
    OF_PURPOSE,
    ALL,
    "WHERE purpose = ?1 AND subject IS NOT NULL ORDER BY seq"
);
// One pass over the subject index, which lists a subject's events by purpose and then
// seq: rows come in (subject, seq) order without a sort (schema 3 has no purpose index).
select!(
    BY_SUBJECT_IN_PURPOSE,
    DECIDE,
    "INDEXED BY events_by_subject WHERE purpose = ?1 AND subject IS NOT NULL ORDER BY subject, seq"
);
select!(LOG, ALL, "NOT INDEXED ORDER BY seq");
select!(
    DOWNSTREAM,
    ALL,
    "INDEXED BY events_of_downstreams \
     WHERE kind IN ('downstream_registered', 'downstream_acknowledged') ORDER BY seq"
);
select!(
    DEADLINES,
    ALL,
    "INDEXED BY events_with_deadline WHERE seq > ?1 AND effect_deadline IS NOT NULL ORDER BY seq"
);

/// The last event's position and record time.
const LOG_END: &str = "SELECT seq, recorded_at FROM events ORDER BY seq DESC LIMIT 1";

impl Store {
    /// Number of events (the next sequence number).
    pub(crate) fn size(&self) -> Result<u64> {
        if let Some(n) = self.known.borrow().size {
            return Ok(n);
        }
        Ok(self.log_end()?.0)
    }

    /// Record time of the last event.
    pub(crate) fn last_recorded(&self) -> Result<Option<i64>> {
        if let Some(at) = self.known.borrow().last_recorded {
            return Ok(at);
        }
        Ok(self.log_end()?.1)
    }

    /// The log's size and the record time of its last event, in one read (kept while
    /// writing: [`super::Known`]).
    fn log_end(&self) -> Result<(u64, Option<i64>)> {
        let last: Option<(i64, i64)> =
            self.query_row(LOG_END, &[], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let end = match last {
            Some((seq, at)) => {
                let seq = u64::try_from(seq).map_err(|_| Error::Corrupt("negative seq".into()))?;
                (seq + 1, Some(at))
            }
            None => (0, None),
        };
        if self.writing.get() {
            let mut known = self.known.borrow_mut();
            known.size = Some(end.0);
            known.last_recorded = Some(end.1);
        }
        Ok(end)
    }

    /// Asks ahead for what [`Store::size`] and [`Store::last_recorded`] will read
    /// (PostgreSQL), unless this write transaction knows it already.
    pub(crate) fn prefetch_log_end(&self) -> Result<()> {
        if self.known.borrow().size.is_some() {
            return Ok(());
        }
        self.prefetch(LOG_END, &[])
    }

    /// Assigns the next sequence number, inserts the row and its tree hashes. Runs
    /// inside a write transaction.
    pub(crate) fn append(&self, row: &mut RawRow) -> Result<u64> {
        let seq = self.size()?;
        row.seq = i64::try_from(seq).map_err(|_| Error::Corrupt("sequence overflow".into()))?;
        let leaf = row.canonical().leaf_hash();
        row.insert(self)?;
        self.append_leaf(seq, leaf)?;
        if self.writing.get() {
            let mut known = self.known.borrow_mut();
            known.size = Some(seq + 1);
            known.last_recorded = Some(Some(row.recorded_at));
        }
        Ok(seq)
    }

    /// The event with this id.
    pub(crate) fn event(&self, id: Uuid) -> Result<Option<Event>> {
        self.query_row(&BY_ID, params![&id.as_bytes()[..]], event_from_row)
    }

    /// The row of the event with this id, as stored.
    pub(crate) fn raw_event(&self, id: Uuid) -> Result<Option<RawRow>> {
        self.query_row(&BY_ID, params![&id.as_bytes()[..]], RawRow::read)
    }

    /// The row at position `seq` of the log, as stored (a registry definition named
    /// by its table's `seq`, for a receipt).
    pub(crate) fn raw_event_at(&self, seq: u64) -> Result<Option<RawRow>> {
        let seq = i64::try_from(seq).map_err(|_| Error::invalid("sequence number out of range"))?;
        self.query_row(&BY_SEQ, params![seq], RawRow::read)
    }

    /// The first event of `kind` (the `ledger_configured` event, say), as stored.
    pub(crate) fn first_of_kind(&self, kind: EventKind) -> Result<Option<RawRow>> {
        self.query_row(&BY_KIND, params![kind.as_str()], RawRow::read)
    }

    /// Asks ahead for what [`Store::event_by_source`] will read (PostgreSQL).
    pub(crate) fn prefetch_event_by_source(&self, source_key: &[u8]) -> Result<()> {
        self.prefetch(&BY_SOURCE, params![source_key])
    }

    /// The row recorded under a source id's keyed pseudonym.
    pub(crate) fn event_by_source(&self, source_key: &[u8]) -> Result<Option<RawRow>> {
        self.query_row(&BY_SOURCE, params![source_key], RawRow::read)
    }

    /// Events with `seq >= since`, at most `limit`.
    pub(crate) fn events_since(&self, since: u64, limit: usize) -> Result<Vec<Event>> {
        let since = i64::try_from(since).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.query_map(&SINCE, params![since, limit], event_from_row)
    }

    /// The downstream systems' events (registrations and acknowledgements), as
    /// stored, in order, from their own index (`events_of_downstreams`).
    pub(crate) fn downstream_rows(&self) -> Result<Vec<RawRow>> {
        self.query_map(&DOWNSTREAM, &[], RawRow::read)
    }

    /// The events with an effect deadline after `seq`, in order, from their own index
    /// (`events_with_deadline`).
    pub(crate) fn deadline_events_after(&self, seq: u64) -> Result<Vec<Event>> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.query_map(&DEADLINES, params![seq], event_from_row)
    }

    /// The grants of one subject (not blanked) and purpose before `seq`: (seq,
    /// recipient) in order, from the subject index (a downstream's feed shows an event
    /// ending consent only after a grant it showed, docs/FORMAT.md §13).
    pub(crate) fn grants_before(
        &self,
        subject: &str,
        purpose: &str,
        seq: u64,
    ) -> Result<Vec<(u64, Option<String>)>> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        self.query_map(
            "SELECT seq, recipient FROM events WHERE subject = ?1 AND purpose = ?2 \
             AND kind = 'given' AND seq < ?3 ORDER BY seq",
            params![subject, purpose, seq],
            |r| Ok((r.get::<i64>(0)? as u64, r.get(1)?)),
        )
    }

    /// For an erased subject (blanked rows under pseudonym `key`): the grants of
    /// `purpose` before `seq` that follow the pseudonym's latest readmission before
    /// `seq` (earlier ones belong to a life the feed was told to delete), from the
    /// erased-key index: (seq, recipient) in order.
    pub(crate) fn erased_grants_before(
        &self,
        key: &[u8],
        purpose: &str,
        seq: u64,
    ) -> Result<Vec<(u64, Option<String>)>> {
        let seq = i64::try_from(seq).unwrap_or(i64::MAX);
        let rows: Vec<(u64, String, Option<String>)> = self.query_map(
            "SELECT seq, kind, recipient FROM events WHERE subject IS NULL AND subject_key = ?1 \
             AND seq < ?3 AND (kind = 'subject_readmitted' OR (kind = 'given' AND purpose = ?2)) \
             ORDER BY seq",
            params![key, purpose, seq],
            |r| Ok((r.get::<i64>(0)? as u64, r.get(1)?, r.get(2)?)),
        )?;
        let mut grants = Vec::new();
        for (seq, kind, recipient) in rows {
            if kind == EventKind::SubjectReadmitted.as_str() {
                grants.clear();
            } else {
                grants.push((seq, recipient));
            }
        }
        Ok(grants)
    }

    /// The events that still name `subject` (not blanked), in order.
    pub(crate) fn events_naming(&self, subject: &str) -> Result<Vec<Event>> {
        self.query_map(&OF_SUBJECT, params![subject], event_from_row)
    }

    /// The blanked events (and erasure and readmission events) under a pseudonym.
    pub(crate) fn blanked_events(&self, pseudonym: &[u8]) -> Result<Vec<Event>> {
        self.query_map(&BLANKED, params![pseudonym], event_from_row)
    }

    /// The events of one subject and purpose, without the columns deciding never reads.
    pub(crate) fn events_of(&self, subject: &str, purpose: &str) -> Result<Vec<Event>> {
        self.query_map(&GROUP, params![subject, purpose], event_from_row)
    }

    /// Calls `f` on the unblanked events of one purpose in (subject, seq) order,
    /// without the columns deciding never reads.
    pub(crate) fn each_event_by_subject(
        &self,
        purpose: &str,
        mut f: impl FnMut(Event),
    ) -> Result<()> {
        self.query_each(&BY_SUBJECT_IN_PURPOSE, params![purpose], |r| {
            f(event_from_row(r)?);
            Ok(true)
        })
    }

    /// Calls `f` on the unblanked rows of one purpose in log order.
    pub(crate) fn each_row_of_purpose(
        &self,
        purpose: &str,
        mut f: impl FnMut(&RawRow) -> Result<()>,
    ) -> Result<()> {
        self.query_each(&OF_PURPOSE, params![purpose], |r| {
            f(&RawRow::read(r)?)?;
            Ok(true)
        })
    }

    /// Calls `f` on every row of the log in `seq` order, read from the table itself
    /// (no index), until it returns false. One row buffer serves every row.
    pub(crate) fn each_row(&self, mut f: impl FnMut(&RawRow) -> Result<bool>) -> Result<()> {
        let mut row = RawRow::default();
        self.query_each(&LOG, &[], |r| {
            row.read_into(r)?;
            f(&row)
        })
    }

    /// Number of rows, counted from the table itself (no index).
    pub(crate) fn count_rows(&self) -> Result<u64> {
        let n: i64 =
            self.query_one("SELECT count(*) FROM events NOT INDEXED", &[], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Whether a row of `kind` was hashed with canonical encoding `encoding`.
    pub(crate) fn has_kind_in_encoding(&self, kind: EventKind, encoding: i64) -> Result<bool> {
        Ok(self.query_one(
            "SELECT count(*) FROM events WHERE kind = ?1 AND encoding = ?2",
            params![kind.as_str(), encoding],
            |r| r.get::<i64>(0),
        )? > 0)
    }

    /// The seqs of the events that name `subject`.
    pub(crate) fn seqs_naming(&self, subject: &str) -> Result<Vec<u64>> {
        self.query_map(
            "SELECT seq FROM events WHERE subject = ?1 ORDER BY seq",
            params![subject],
            |r| r.get::<i64>(0).map(|n| n as u64),
        )
    }

    /// Blanks the personal columns of every event naming `subject`, leaving the
    /// pseudonym that keeps them findable. Returns how many it blanked.
    pub(crate) fn blank_subject(&self, subject: &str, pseudonym: &[u8]) -> Result<usize> {
        match self.backend() {
            Backend::Sqlite => self.execute(
                "UPDATE events SET subject = NULL, source_id = NULL, evidence = NULL, salt = NULL, \
                 subject_key = ?2 WHERE subject = ?1",
                params![subject, pseudonym],
            ),
            // The narrow erasure path: the only change to a stored event a role may be
            // granted (docs/POSTGRES.md "Roles").
            Backend::Postgres => self
                .query_one(
                    "SELECT blank_subject(?1, ?2)",
                    params![subject, pseudonym],
                    |r| r.get::<i64>(0),
                )
                .map(|n| n as usize),
        }
    }

    /// Version-1 migration: every (seq, source id).
    pub(crate) fn source_ids(&self) -> Result<Vec<(i64, String)>> {
        self.query_map(
            "SELECT seq, source_id FROM events WHERE source_id IS NOT NULL",
            &[],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Version-1 migration: sets one row's source pseudonym.
    pub(crate) fn set_source_key(&self, seq: i64, key: &[u8]) -> Result<()> {
        self.execute(
            "UPDATE events SET source_key = ?2 WHERE seq = ?1",
            params![seq, key],
        )?;
        Ok(())
    }

    /// Every (seq, subject_key) of the events of `kind`, in order.
    pub(crate) fn pseudonyms_of_kind(&self, kind: EventKind) -> Result<Vec<(i64, Vec<u8>)>> {
        self.query_map(
            "SELECT seq, subject_key FROM events WHERE kind = ?1 ORDER BY seq",
            params![kind.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// The seqs of blanked rows under a pseudonym, except `except`.
    pub(crate) fn blanked_seqs(&self, pseudonym: &[u8], except: i64) -> Result<Vec<i64>> {
        self.query_map(
            "SELECT seq FROM events WHERE subject IS NULL AND subject_key = ?1 AND seq != ?2 ORDER BY seq",
            params![pseudonym, except],
            |r| r.get(0),
        )
    }
}
