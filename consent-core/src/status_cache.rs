//! The in-process cache of "status now" answers, so a repeated question costs a hash
//! lookup and one `pread` instead of a SQL query.
//!
//! Each entry is an answer that `status_now` computed from the materialized row (its
//! fast path), with the span of clock times for which that answer stays the same by
//! time alone: from the `now` it was computed at up to, not including, the first
//! moment the read-time rules could change it (see [`valid_until`]). The whole cache
//! answers for one committed state of the database, named by a
//! [`ChangeMark`](crate::store::ChangeMark): a call whose mark differs (a write of
//! this ledger, a commit by another connection or process) or that has no mark empties
//! it before anything is served. Why a mark is enough, and why the answers are then
//! the answers of a read transaction begun at the moment the mark was read, is argued
//! in `store/changes.rs`.
//!
//! The cache holds at most [`CAPACITY`] entries: filling one more empties it first.

use std::collections::HashMap;

use crate::purpose::PurposeVersions;
use crate::query::{State, Status};
use crate::store::ChangeMark;
use crate::timestamp::Timestamp;

/// The most answers kept; the cache is emptied when one more would be added.
pub(crate) const CAPACITY: usize = 100_000;

/// Answers for one committed state, by (subject, purpose, recipient).
#[derive(Default)]
pub(crate) struct StatusCache {
    /// The state the entries answer for; `None` when nothing is cached.
    mark: Option<ChangeMark>,
    entries: HashMap<String, Entry>,
    /// The key being looked up, kept to spare an allocation a call.
    key: String,
}

struct Entry {
    status: Status,
    /// The `now` it was computed at: earlier clock times (a simulated clock moved
    /// back, a system clock stepped back) are not served.
    from: Timestamp,
    /// The first moment at which time alone may change the answer.
    until: Option<Timestamp>,
}

impl StatusCache {
    /// Makes the cache answer for the state `mark` names, emptying it unless it was
    /// filled under that very mark. Returns whether it may be used (a mark is known).
    pub(crate) fn sync(&mut self, mark: Option<ChangeMark>) -> bool {
        if self.mark != mark {
            self.entries.clear();
            self.mark = mark;
        }
        mark.is_some()
    }

    /// Empties the cache.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.mark = None;
    }

    fn set_key(&mut self, subject: &str, purpose: &str, recipient: Option<&str>) {
        // Ids contain no control characters (`check_id`): the separators are unambiguous.
        self.key.clear();
        self.key.push_str(subject);
        self.key.push('\0');
        self.key.push_str(purpose);
        match recipient {
            Some(r) => {
                self.key.push('\0');
                self.key.push_str(r);
            }
            None => self.key.push('\u{1}'),
        }
    }

    /// The cached answer to the question at `now`, if one is valid then.
    pub(crate) fn get(
        &mut self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        now: Timestamp,
    ) -> Option<Status> {
        if self.mark.is_none() || self.entries.is_empty() {
            return None;
        }
        self.set_key(subject, purpose, recipient);
        let e = self.entries.get(self.key.as_str())?;
        if now < e.from || e.until.is_some_and(|u| now >= u) {
            return None;
        }
        Some(Status {
            at: now,
            as_known_at: now,
            ..e.status.clone()
        })
    }

    /// Keeps `status`, computed at `status.at` from the materialized row, until
    /// `until`. Does nothing when no mark is known.
    pub(crate) fn put(
        &mut self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        status: &Status,
        until: Option<Timestamp>,
    ) {
        if self.mark.is_none() || until.is_some_and(|u| u <= status.at) {
            return;
        }
        if self.entries.len() >= CAPACITY {
            self.entries.clear();
        }
        self.set_key(subject, purpose, recipient);
        self.entries.insert(
            self.key.clone(),
            Entry {
                status: status.clone(),
                from: status.at,
                until,
            },
        );
    }

    /// How many answers are cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The first moment after `now` at which an answer from a materialized row in state
/// `state` (a grant expiring at `until`) can change with no write: the grant's expiry
/// (`rules::grant_lapse` then answers `expired`), or the registration time of a
/// version of the purpose not yet in force at `now` (a simulated clock can be behind
/// a registration; `in_force` and the renewal rule both count only versions
/// registered by `now`). The row's own `last_effective` is at most `now` (else it
/// would not have answered), so it stays so later.
pub(crate) fn valid_until(
    p: &PurposeVersions,
    state: State,
    until: Option<Timestamp>,
    now: Timestamp,
) -> Option<Timestamp> {
    let expiry = until.filter(|u| state == State::Given && *u > now);
    let registration = p.next_registration_after(now);
    match (expiry, registration) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::LedgerOptions;
    use crate::purpose::LawfulBasis;
    use crate::store::Store;

    fn status(at: Timestamp) -> Status {
        Status {
            purpose: "p".into(),
            purpose_version: 1,
            granted_under_version: Some(1),
            recipient: None,
            state: State::Given,
            lawful_basis: LawfulBasis::Consent,
            event_id: None,
            event_seq: Some(1),
            since: Some(at),
            until: None,
            notice: None,
            effect_deadline: None,
            at,
            as_known_at: at,
        }
    }

    #[test]
    fn stays_bounded_and_answers_only_within_its_span() {
        let store = Store::open_memory(&LedgerOptions::default()).unwrap();
        let mut c = StatusCache::default();
        assert!(c.sync(store.change_mark()));
        let t0 = Timestamp::from_millis(1_000).unwrap();
        let t1 = Timestamp::from_millis(2_000).unwrap();
        for i in 0..CAPACITY + 10 {
            c.put(&format!("s{i}"), "p", None, &status(t0), Some(t1));
            assert!(c.len() <= CAPACITY);
        }
        let last = format!("s{}", CAPACITY + 9);
        let later = Timestamp::from_millis(1_500).unwrap();
        let hit = c.get(&last, "p", None, later).unwrap();
        assert_eq!((hit.at, hit.as_known_at), (later, later));
        assert!(c
            .get(&last, "p", None, Timestamp::from_millis(999).unwrap())
            .is_none());
        assert!(c.get(&last, "p", None, t1).is_none());
        assert!(c.get(&last, "p", Some("r"), later).is_none());
        // Another mark empties it.
        assert!(!c.sync(None));
        assert!(c.get(&last, "p", None, later).is_none());
        assert_eq!(c.len(), 0);
    }
}
