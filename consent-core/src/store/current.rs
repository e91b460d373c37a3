//! The `current` table: the materialized state of every (subject, purpose,
//! recipient), kept by the pure fold of [`crate::materialize`].

use rusqlite::params;
use rusqlite::types::ValueRef;
use uuid::Uuid;

use super::db::Row;
use super::registry::{blob_at, int_at};
use super::Store;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::materialize::CurrentRow;
use crate::notice::NoticeRef;
use crate::query::State;

/// The materialized answer to one question, joined with what the status shows of
/// its deciding event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CurrentAnswer {
    pub state: State,
    pub since: i64,
    pub until: Option<i64>,
    /// The row answers "now" only once now has reached this.
    pub last_effective: i64,
    pub event_id: Uuid,
    pub seq: u64,
    pub notice: Option<NoticeRef>,
    pub effect_deadline: Option<i64>,
    /// The deciding event's kind (`None` if the stored text names none).
    pub kind: Option<EventKind>,
    pub purpose_version: Option<u32>,
}

/// A `current` row as the feed reads it. The scan fills one in place, reusing its
/// buffers, so a feed of a hundred thousand rows allocates for the answer only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FeedRow {
    pub subject: String,
    pub state: String,
    pub since: i64,
    pub until: Option<i64>,
    pub last_effective: i64,
    pub event_id: Vec<u8>,
    /// The deciding event's seq, when asked for.
    pub seq: Option<i64>,
}

impl FeedRow {
    /// Becomes a copy of `other`, reusing this row's buffers.
    pub(crate) fn copy_from(&mut self, other: &FeedRow) {
        self.subject.clear();
        self.subject.push_str(&other.subject);
        self.state.clear();
        self.state.push_str(&other.state);
        self.since = other.since;
        self.until = other.until;
        self.last_effective = other.last_effective;
        self.event_id.clear();
        self.event_id.extend_from_slice(&other.event_id);
        self.seq = other.seq;
    }
}

/// A `current` row exactly as stored, for `verify`, borrowed from the statement.
pub(crate) struct RawCurrentRow<'r> {
    /// The key columns in key order (purpose, subject, recipient), as stored.
    pub key: [ValueRef<'r>; 3],
    /// The row, only when every value (key included) has its storage type.
    pub row: Option<CurrentRow>,
    /// The `seq` column, when it can name an event.
    pub seq: Option<u64>,
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("materialized state: {what}"))
}

/// Column `i` as borrowed text; any other storage type or invalid UTF-8 is corrupt.
fn text_ref<'r>(r: &'r Row<'_>, i: usize) -> Result<&'r str> {
    match r.get_ref(i)? {
        ValueRef::Text(b) => std::str::from_utf8(b).map_err(|_| corrupt("text")),
        _ => Err(corrupt("text")),
    }
}

/// The materialized rows of one subject and purpose.
const CURRENT_ROWS: &str = "SELECT recipient, state, seq, event_id, since, until, last_effective \
     FROM current WHERE subject = ?1 AND purpose = ?2";

impl Store {
    /// Asks ahead for what [`Store::current_rows`] will read (PostgreSQL).
    pub(crate) fn prefetch_current_rows(&self, subject: &str, purpose: &str) -> Result<()> {
        self.prefetch(CURRENT_ROWS, params![subject, purpose])
    }

    /// The materialized rows of one subject and purpose.
    pub(crate) fn current_rows(&self, subject: &str, purpose: &str) -> Result<Vec<CurrentRow>> {
        let rows = self.query_map(CURRENT_ROWS, params![subject, purpose], |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<i64>(2)?,
                r.get::<Vec<u8>>(3)?,
                r.get::<i64>(4)?,
                r.get::<Option<i64>>(5)?,
                r.get::<i64>(6)?,
            ))
        })?;
        let mut out = Vec::new();
        for (recipient, state, seq, id, since, until, last_effective) in rows {
            out.push(CurrentRow {
                recipient,
                state: State::parse(&state).ok_or_else(|| corrupt("unknown state"))?,
                seq: u64::try_from(seq).map_err(|_| corrupt("negative seq"))?,
                event_id: Uuid::from_slice(&id).map_err(|_| corrupt("event id"))?,
                since,
                until,
                last_effective,
            });
        }
        Ok(out)
    }

    /// Writes (or replaces) one materialized row.
    pub(crate) fn write_current(
        &self,
        subject: &str,
        purpose: &str,
        row: &CurrentRow,
    ) -> Result<()> {
        self.execute_later(
            "INSERT INTO current(subject, purpose, recipient, state, seq, event_id, since, until, \
             last_effective) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT(purpose, subject, recipient) DO UPDATE SET state = excluded.state, \
             seq = excluded.seq, event_id = excluded.event_id, since = excluded.since, \
             until = excluded.until, last_effective = excluded.last_effective",
            params![
                subject,
                purpose,
                row.recipient,
                row.state.as_str(),
                row.seq as i64,
                &row.event_id.as_bytes()[..],
                row.since,
                row.until,
                row.last_effective,
            ],
        )
    }

    /// Drops the materialized rows of one purpose.
    pub(crate) fn clear_current_of_purpose(&self, purpose: &str) -> Result<()> {
        self.execute("DELETE FROM current WHERE purpose = ?1", params![purpose])?;
        Ok(())
    }

    /// Drops the materialized rows of one subject.
    pub(crate) fn clear_current_of_subject(&self, subject: &str) -> Result<()> {
        // `current` is keyed by purpose first: one seek per registered purpose.
        self.execute(
            "DELETE FROM current WHERE purpose IN (SELECT DISTINCT id FROM purposes) AND subject = ?1",
            params![subject],
        )?;
        Ok(())
    }

    /// Drops every materialized row.
    pub(crate) fn clear_current(&self) -> Result<()> {
        self.execute("DELETE FROM current", &[])?;
        Ok(())
    }

    /// The materialized answer for a subject, purpose and recipient: the recipient's
    /// own row, else the purpose-wide one.
    pub(crate) fn current_answer(
        &self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
    ) -> Result<Option<CurrentAnswer>> {
        self.query_row(
            "SELECT c.state, c.since, c.until, c.last_effective, e.id, e.seq, e.notice_id, e.notice_version, \
             e.notice_sha256, e.effect_deadline, e.kind, e.purpose_version FROM current c JOIN events e ON e.seq = c.seq \
             WHERE c.subject = ?1 AND c.purpose = ?2 AND c.recipient IN (?3, '') ORDER BY c.recipient DESC LIMIT 1",
            params![subject, purpose, recipient.unwrap_or("")],
            |r| Ok(answer_of(r)),
        )?
        .transpose()
    }

    /// Calls `f` on the materialized rows of one purpose that bear on `recipient`
    /// (its own and the purpose-wide ones), in (subject, recipient) order: one range
    /// scan of the table, which is keyed by purpose first. Per subject the
    /// purpose-wide row ('') comes first. The deciding event's seq is passed only
    /// `with_seq`.
    pub(crate) fn each_feed_row(
        &self,
        purpose: &str,
        recipient: Option<&str>,
        with_seq: bool,
        mut f: impl FnMut(&FeedRow) -> Result<()>,
    ) -> Result<()> {
        let sql = if with_seq {
            "SELECT subject, state, since, until, last_effective, event_id, seq FROM current \
             WHERE purpose = ?1 AND recipient IN (?2, '') ORDER BY purpose, subject, recipient"
        } else {
            "SELECT subject, state, since, until, last_effective, event_id, NULL FROM current \
             WHERE purpose = ?1 AND recipient IN (?2, '') ORDER BY purpose, subject, recipient"
        };
        let mut row = FeedRow::default();
        self.query_each(sql, params![purpose, recipient.unwrap_or("")], |r| {
            let text = |i: usize| text_ref(r, i);
            row.subject.clear();
            row.subject.push_str(text(0)?);
            row.state.clear();
            row.state.push_str(text(1)?);
            row.since = r.get(2)?;
            row.until = r.get(3)?;
            row.last_effective = r.get(4)?;
            row.event_id.clear();
            match r.get_ref(5)? {
                ValueRef::Blob(b) => row.event_id.extend_from_slice(b),
                _ => return Err(corrupt("event id")),
            }
            row.seq = r.get(6)?;
            f(&row)?;
            Ok(true)
        })
    }

    /// Calls `f` on every `current` row as stored, read from the table itself in its
    /// own order (by key: `quick_check` and the store's order check vouch for it).
    pub(crate) fn each_current_row(&self, mut f: impl FnMut(RawCurrentRow<'_>)) -> Result<()> {
        let sql = self.table_scan(
            "SELECT purpose, subject, recipient, state, seq, event_id, since, until, last_effective \
             FROM current NOT INDEXED",
            "purpose, subject, recipient",
        );
        self.query_each(&sql, &[], |r| {
            let key = [0, 1, 2].map(|i| r.get_ref(i).unwrap_or(ValueRef::Null));
            let seq = int_at(r, 4).and_then(|n| u64::try_from(n).ok());
            // Every value exactly of its storage type, or the row is not one we could write.
            let row = (|| {
                let until = match r.get_ref(7).ok()? {
                    ValueRef::Null => None,
                    ValueRef::Integer(n) => Some(n),
                    _ => return None,
                };
                // `as_str`: TEXT that is valid UTF-8.
                key[0].as_str().ok()?;
                key[1].as_str().ok()?;
                Some(CurrentRow {
                    recipient: key[2].as_str().ok()?.to_string(),
                    state: State::parse(r.get_ref(3).ok()?.as_str().ok()?)?,
                    seq: seq?,
                    event_id: Uuid::from_slice(blob_at(r, 5)?).ok()?,
                    since: int_at(r, 6)?,
                    until,
                    last_effective: int_at(r, 8)?,
                })
            })();
            f(RawCurrentRow { key, row, seq });
            Ok(true)
        })
    }
}

/// The materialized answer of a `current` row joined with its event (see
/// [`Store::current_answer`]).
fn answer_of(r: &Row<'_>) -> Result<CurrentAnswer> {
    let text = |i: usize| text_ref(r, i);
    let notice = match (
        r.get::<Option<String>>(6)?,
        r.get::<Option<String>>(7)?,
        r.get::<Option<Vec<u8>>>(8)?,
    ) {
        (Some(id), Some(version), Some(h)) => Some(NoticeRef {
            id,
            version,
            sha256: h.try_into().map_err(|_| corrupt("notice hash"))?,
        }),
        _ => None,
    };
    let event_id = match r.get_ref(4)? {
        ValueRef::Blob(b) => Uuid::from_slice(b).map_err(|_| corrupt("event id"))?,
        _ => return Err(corrupt("event id")),
    };
    Ok(CurrentAnswer {
        state: State::parse(text(0)?).ok_or_else(|| corrupt("unknown state"))?,
        since: r.get(1)?,
        until: r.get(2)?,
        last_effective: r.get(3)?,
        event_id,
        seq: r.get::<i64>(5)? as u64,
        notice,
        effect_deadline: r.get(9)?,
        kind: text(10)?.parse().ok(),
        purpose_version: r.get(11)?,
    })
}
