//! The materialized current state (`current` table, docs/FORMAT.md §5), kept one
//! event at a time: a pure fold, with no storage (the table's rows are read and
//! written by `store/current.rs`).
//!
//! [`apply`] folds one event into the rows of its subject and purpose without reading
//! the subject's history, so an append costs the same for a subject with two events or
//! twenty thousand. It gives the same rows as [`crate::query::decide`] over all events
//! at T = K = +∞ (a property test holds it to that), and `verify` rebuilds the whole
//! table with it from one scan of the log in `seq` order.

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::purpose::LawfulBasis;
use crate::query::State;
use crate::store::RawRow;

/// One row of the `current` table, without its subject and purpose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CurrentRow {
    /// Recipient, `""` for purpose-wide.
    pub recipient: String,
    pub state: State,
    /// The deciding event (for `invalidated`: the invalidation).
    pub seq: u64,
    pub event_id: Uuid,
    /// Effective time of the deciding decision (for `invalidated`: of the grant).
    pub since: i64,
    /// A grant's expiry.
    pub until: Option<i64>,
    /// Greatest effective time of the deciding events that bear on the row: the row
    /// answers "now" only once now has reached it.
    pub last_effective: i64,
}

/// What [`apply`] reads of an event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step<'a> {
    pub seq: u64,
    pub id: Uuid,
    pub kind: EventKind,
    pub recipient: Option<&'a str>,
    pub effective_at: i64,
    pub expires_at: Option<i64>,
    pub target: Option<Uuid>,
}

/// What the materialized state reads of a stored row.
pub(crate) fn step_of(row: &RawRow) -> Result<Step<'_>> {
    let bad = |what: &str| Error::Corrupt(format!("event {}: {what}", row.seq));
    let uuid = |b: &[u8]| Uuid::from_slice(b).map_err(|_| bad("not a UUID"));
    Ok(Step {
        seq: u64::try_from(row.seq).map_err(|_| bad("negative seq"))?,
        id: uuid(&row.id)?,
        kind: row.kind.parse().map_err(|_| bad("unknown kind"))?,
        recipient: row.recipient.as_deref(),
        effective_at: row.effective_at,
        expires_at: row.expires_at,
        target: row.target.as_deref().map(uuid).transpose()?,
    })
}

/// The values of a row that a fold can change (all but its recipient).
fn values(r: &CurrentRow) -> (State, u64, Uuid, i64, Option<i64>, i64) {
    (
        r.state,
        r.seq,
        r.event_id,
        r.since,
        r.until,
        r.last_effective,
    )
}

/// Makes `e`, a decision, the deciding event of `row`.
fn decide(row: &mut CurrentRow, e: &Step<'_>) {
    row.state = State::decided_by(e.kind);
    row.seq = e.seq;
    row.event_id = e.id;
    row.since = e.effective_at;
    row.until = if e.kind == EventKind::Given {
        e.expires_at
    } else {
        None
    };
}

/// Folds `e` into a row that stands; whether it changed.
fn step_row(row: &mut CurrentRow, e: &Step<'_>, basis: LawfulBasis) -> bool {
    let before = values(row);
    if e.kind.decides_under(basis) {
        row.last_effective = row.last_effective.max(e.effective_at);
        // `e` is the newest event, so it wins every tie on effective time.
        if e.effective_at >= row.since {
            decide(row, e);
        }
    } else if e.kind == EventKind::Invalidated
        && row.state == State::Given
        && e.target.is_none_or(|t| t == row.event_id)
    {
        row.state = State::Invalidated;
        row.seq = e.seq;
        row.event_id = e.id;
        row.until = None;
    }
    values(row) != before
}

/// The row of `recipient` after `e` where none stood yet (`None`: still none). `seed`
/// is the row it starts from: the purpose-wide row, for a recipient's first event.
fn start_row(
    seed: Option<&CurrentRow>,
    recipient: &str,
    e: &Step<'_>,
    basis: LawfulBasis,
) -> Option<CurrentRow> {
    let mut row = match seed {
        Some(s) => CurrentRow {
            recipient: recipient.to_string(),
            ..s.clone()
        },
        None if e.kind.decides_under(basis) => {
            let mut row = CurrentRow {
                recipient: recipient.to_string(),
                state: State::decided_by(e.kind),
                seq: e.seq,
                event_id: e.id,
                since: e.effective_at,
                until: None,
                last_effective: e.effective_at,
            };
            decide(&mut row, e);
            return Some(row);
        }
        None => return None,
    };
    step_row(&mut row, e, basis);
    Some(row)
}

/// Folds the newest event of a subject and purpose into that group's rows. Returns
/// the recipients (`""` = purpose-wide) whose rows changed.
///
/// A recipient gets a row of its own the first time an event names it while some
/// decision bears on it; until then the purpose-wide row answers for it, and gives
/// the same answer (only purpose-wide events have decided for it).
pub(crate) fn apply(rows: &mut Vec<CurrentRow>, e: &Step<'_>, basis: LawfulBasis) -> Vec<String> {
    let mut changed = Vec::new();
    fold(rows, e, basis, |r| changed.push(r.to_string()));
    changed
}

/// [`apply`], naming each recipient whose row changed to `changed` instead of
/// collecting them: no allocation unless a row is new (the scan of `verify`).
pub(crate) fn fold(
    rows: &mut Vec<CurrentRow>,
    e: &Step<'_>,
    basis: LawfulBasis,
    mut changed: impl FnMut(&str),
) {
    match e.recipient {
        // A purpose-wide event bears on every row of the group.
        None => {
            let mut wide = false;
            for row in rows.iter_mut() {
                wide |= row.recipient.is_empty();
                if step_row(row, e, basis) {
                    changed(&row.recipient);
                }
            }
            if !wide {
                if let Some(row) = start_row(None, "", e, basis) {
                    changed("");
                    rows.push(row);
                }
            }
        }
        Some(r) => match rows.iter_mut().find(|x| x.recipient == r) {
            Some(row) => {
                if step_row(row, e, basis) {
                    changed(r);
                }
            }
            // A recipient's first event starts from the purpose-wide row: until now
            // the same events decided both.
            None => {
                let seed = rows.iter().find(|x| x.recipient.is_empty());
                if let Some(row) = start_row(seed, r, e, basis) {
                    changed(r);
                    rows.push(row);
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use crate::query::decide;
    use crate::timestamp::Timestamp;
    use proptest::prelude::*;

    /// The rows `decide` gives over all events at T = K = +∞, without expiry.
    fn reference(events: &[Event], basis: LawfulBasis) -> Vec<CurrentRow> {
        let mut recipients: Vec<Option<&str>> =
            events.iter().map(|e| e.recipient.as_deref()).collect();
        recipients.push(None);
        recipients.sort();
        recipients.dedup();
        let mut out: Vec<CurrentRow> = recipients
            .into_iter()
            .filter_map(|r| {
                let d = decide(events, basis, r, Timestamp::MAX, Timestamp::MAX);
                let ev = d.event?;
                let last_effective = events
                    .iter()
                    .filter(|e| {
                        crate::query::bears_on(e.recipient.as_deref(), r)
                            && e.kind.decides_under(basis)
                    })
                    .map(|e| e.effective_at.as_millis())
                    .max()
                    .unwrap_or(0);
                Some(CurrentRow {
                    recipient: r.unwrap_or("").into(),
                    state: d.state,
                    seq: ev.seq,
                    event_id: ev.id,
                    since: d
                        .since
                        .map_or(ev.effective_at.as_millis(), Timestamp::as_millis),
                    until: d.until.map(Timestamp::as_millis),
                    last_effective,
                })
            })
            .collect();
        out.sort_by(|a, b| a.recipient.cmp(&b.recipient));
        out
    }

    fn event(
        seq: u64,
        kind: EventKind,
        recipient: Option<&str>,
        eff: i64,
        target: Option<u64>,
    ) -> Event {
        Event {
            seq,
            id: Uuid::from_u128(seq as u128 + 1),
            kind,
            subject: Some("s".into()),
            purpose: Some("p".into()),
            purpose_version: Some(1),
            recipient: recipient.map(Into::into),
            notice: None,
            explicit: false,
            method: None,
            recorded_by: crate::Actor::subject(),
            effective_at: Timestamp::from_millis(eff).unwrap(),
            recorded_at: Timestamp::from_millis(1).unwrap(),
            expires_at: (kind == EventKind::Given)
                .then(|| Timestamp::from_millis(eff + 50).unwrap()),
            effect_deadline: None,
            source_id: None,
            evidence: None,
            target: target.map(|t| Uuid::from_u128(t as u128 + 1)),
            details: None,
            erased: false,
        }
    }

    proptest! {
        #[test]
        fn folding_equals_deciding_over_everything(
            script in proptest::collection::vec((0usize..7, 0usize..3, 0i64..20, proptest::option::of(0u64..30)), 1..40),
            consent in any::<bool>(),
        ) {
            let kinds = [EventKind::Given, EventKind::Refused, EventKind::Withdrawn,
                         EventKind::Revoked, EventKind::Objected, EventKind::Invalidated,
                         EventKind::ObjectionOverruled];
            let recips = [None, Some("nhs"), Some("landlord")];
            let basis = if consent { LawfulBasis::Consent } else { LawfulBasis::LegitimateInterests };
            let mut events = Vec::new();
            let mut rows = Vec::new();
            for (i, (k, r, eff, target)) in script.into_iter().enumerate() {
                let kind = kinds[k];
                let target = target.filter(|t| kind == EventKind::Invalidated && (*t as usize) < i);
                let e = event(i as u64, kind, recips[r], eff, target);
                let before = rows.clone();
                let mut changed = apply(&mut rows, &Step {
                    seq: e.seq, id: e.id, kind: e.kind, recipient: e.recipient.as_deref(),
                    effective_at: e.effective_at.as_millis(),
                    expires_at: e.expires_at.map(Timestamp::as_millis), target: e.target,
                }, basis);
                events.push(e);
                // The rows it names as changed are exactly the new and the altered ones.
                let mut differ: Vec<String> = rows.iter()
                    .filter(|x| !before.contains(x))
                    .map(|x| x.recipient.clone())
                    .collect();
                changed.sort();
                differ.sort();
                prop_assert_eq!(changed, differ);
                // Every question gets the reference answer: the recipient's row, or
                // the purpose-wide row where the recipient has none of its own.
                let want = reference(&events, basis);
                for r in ["", "nhs", "landlord"] {
                    let answer = |rows: &[CurrentRow]| {
                        rows.iter()
                            .find(|x| x.recipient == r)
                            .or_else(|| rows.iter().find(|x| x.recipient.is_empty()))
                            .map(|x| CurrentRow { recipient: String::new(), ..x.clone() })
                    };
                    prop_assert_eq!(answer(&rows), answer(&want), "recipient {:?}", r);
                }
                // And no row that the reference lacks.
                for x in &rows {
                    prop_assert!(want.iter().any(|w| w.recipient == x.recipient));
                }
            }
        }
    }
}
