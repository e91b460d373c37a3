//! Questions the ledger answers: one event, the status of one question (now, from the
//! materialized state; or at any moment as known at any moment, from the events),
//! many statuses in one snapshot, a subject's history, who is consenting, and the
//! change feed. The deciding itself is pure, in `query.rs`.

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::event::{check_id, Event, EventKind};
use crate::ledger::{Inner, Ledger};
use crate::purpose::PurposeVersions;
use crate::query::{
    erased_status, push_if_given, status_from, Consenting, ConsentingSubject, State, Status,
};
use crate::rules::{check_question, grant_lapse};
use crate::status_cache::valid_until;
use crate::store::FeedRow;
use crate::timestamp::Timestamp;

impl Ledger {
    /// The event with this id.
    ///
    /// # Errors
    /// [`NotFound`](crate::ErrorKind::NotFound) when no event has it; the [ledger's errors](crate#errors).
    pub fn event(&self, id: Uuid) -> Result<Event> {
        self.read(None, |inner, _| {
            inner
                .store
                .event(id)?
                .ok_or_else(|| Error::NotFound(format!("event {id}")))
        })
    }

    /// The `ledger_configured` event: the hashed commitment to the pseudonym key's id
    /// and to whether the clock is simulated (receipts carry it with its proof).
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors) ([`Corrupt`](crate::ErrorKind::Corrupt) if the event is missing).
    pub fn configuration_event(&self) -> Result<Event> {
        self.read(None, |inner, _| {
            inner
                .store
                .first_of_kind(EventKind::LedgerConfigured)?
                .ok_or_else(|| {
                    Error::Corrupt("the ledger has no `ledger_configured` event".into())
                })?
                .to_event()
        })
    }

    /// Status now, from the materialized current state (an index lookup), or from the
    /// in-process cache of answers while nothing was committed since it was filled
    /// (`status_cache.rs`; coherent with other connections and processes through
    /// `store/changes.rs`).
    ///
    /// # Errors
    /// The [id errors](crate#errors) for the subject, purpose and recipient;
    /// [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose);
    /// [`UnknownRecipient`](crate::ErrorKind::UnknownRecipient) for a recipient the
    /// purpose has never listed, or none for a purpose that lists some; the
    /// [ledger's and subject errors](crate#errors).
    pub fn status(&self, subject: &str, purpose: &str, recipient: Option<&str>) -> Result<Status> {
        check_question(subject, purpose, recipient)?;
        self.read_single(None, |inner, now| {
            // Without the key an erased subject cannot be recognised: fail closed for all.
            inner.key()?;
            let mut cache = inner.statuses.borrow_mut();
            if cache.sync(inner.store.change_mark()) {
                if let Some(status) = cache.get(subject, purpose, recipient, now) {
                    return Ok(status);
                }
            }
            let (status, valid) = inner.status_now_valid(subject, purpose, recipient, now)?;
            if let Some(until) = valid {
                cache.put(subject, purpose, recipient, &status, until);
            }
            Ok(status)
        })
    }

    /// Status now of many questions `(subject, purpose, recipient)`, answered in one
    /// read snapshot: the bulk form of [`Ledger::status`] for feeds and bindings, where
    /// a call per question would pay the crossing and the locking each time. The first
    /// question that is invalid (an unknown purpose, an unlisted recipient) fails the
    /// call with that question's error.
    ///
    /// # Errors
    /// Those of [`Ledger::status`], for the first question that has one.
    pub fn status_many(&self, questions: &[(&str, &str, Option<&str>)]) -> Result<Vec<Status>> {
        for &(s, p, r) in questions {
            check_question(s, p, r)?;
        }
        self.read(None, |inner, now| {
            inner.key()?;
            let mut cache = inner.statuses.borrow_mut();
            // Read before the snapshot is taken (the transaction's first statement).
            let mark = inner.store.change_mark();
            let cached: Vec<Option<Status>> = if cache.sync(mark) {
                questions
                    .iter()
                    .map(|&(s, p, r)| cache.get(s, p, r, now))
                    .collect()
            } else {
                vec![None; questions.len()]
            };
            let hits = cached.iter().filter(|c| c.is_some()).count();
            if hits == questions.len() {
                return Ok(cached.into_iter().flatten().collect());
            }
            let mut out = Vec::with_capacity(questions.len());
            let mut fresh = Vec::new();
            for (i, &(s, p, r)) in questions.iter().enumerate() {
                match &cached[i] {
                    Some(status) => out.push(status.clone()),
                    None => {
                        let (status, valid) = inner.status_now_valid(s, p, r, now)?;
                        fresh.push((i, valid));
                        out.push(status);
                    }
                }
            }
            // The snapshot the misses were read in began after `mark` was read; the
            // hits answer for `mark`. Unless nothing committed in between (the mark is
            // the same now), answer the hits from the snapshot too: one snapshot.
            if inner.store.change_mark() != mark {
                cache.clear();
                if hits > 0 {
                    for (i, &(s, p, r)) in questions.iter().enumerate() {
                        if cached[i].is_some() {
                            out[i] = inner.status_now(s, p, r, now)?;
                        }
                    }
                }
                return Ok(out);
            }
            for (i, valid) in fresh {
                if let Some(until) = valid {
                    let (s, p, r) = questions[i];
                    cache.put(s, p, r, &out[i], until);
                }
            }
            Ok(out)
        })
    }

    /// Status at `at` as the ledger knew it at `as_known_at` (default: now). Reads only
    /// the events of this subject and purpose.
    ///
    /// # Errors
    /// The [id errors](crate#errors) for the subject, purpose and recipient;
    /// [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose);
    /// [`UnknownRecipient`](crate::ErrorKind::UnknownRecipient) for a recipient the
    /// purpose has never listed, or none for a purpose that lists some; the
    /// [ledger's and subject errors](crate#errors).
    pub fn status_at(
        &self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        at: Timestamp,
        as_known_at: Option<Timestamp>,
    ) -> Result<Status> {
        check_question(subject, purpose, recipient)?;
        self.read(None, |inner, now| {
            let p = inner.asked_purpose(purpose, recipient)?;
            let known = as_known_at.unwrap_or(now);
            if inner.is_erased(subject)? {
                return Ok(erased_status(&p, recipient, at, known));
            }
            let events = inner.store.events_of(subject, purpose)?;
            Ok(status_from(&p, &events, recipient, at, known))
        })
    }

    /// Every event about a subject, in sequence order (erased events included, with
    /// their personal fields blank, when the subject is erased).
    ///
    /// # Errors
    /// The [id errors](crate#errors) for the subject; the
    /// [ledger's and subject errors](crate#errors).
    pub fn history(&self, subject: &str) -> Result<Vec<Event>> {
        check_id("subject", subject)?;
        self.read(None, |inner, _| inner.history(subject))
    }

    /// Every subject with consent in force for `purpose` (and `recipient`) at `at`
    /// (default now) as the ledger knew it at `as_known_at` (default now), with the
    /// head that answered: a past extract reproduced as it was known at the time.
    ///
    /// A purpose that lists recipients must be asked about one of them
    /// ([`Error::UnknownRecipient`] otherwise): a feed that left the recipient out
    /// would not see a withdrawal that named it.
    ///
    /// # Errors
    /// The [id errors](crate#errors) for the purpose and recipient;
    /// [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose);
    /// [`UnknownRecipient`](crate::ErrorKind::UnknownRecipient) as for
    /// [`Ledger::status`]; the [ledger's errors](crate#errors).
    pub fn consenting(
        &self,
        purpose: &str,
        recipient: Option<&str>,
        at: Option<Timestamp>,
        as_known_at: Option<Timestamp>,
    ) -> Result<Consenting> {
        check_id("purpose", purpose)?;
        if let Some(r) = recipient {
            check_id("recipient", r)?;
        }
        self.read(None, |inner, now| {
            let p = inner.asked_purpose(purpose, recipient)?;
            let at_t = at.unwrap_or(now);
            let known = as_known_at.unwrap_or(now);
            let subjects = if at.is_none() && as_known_at.is_none() {
                inner.consenting_now(&p, recipient, now)?
            } else {
                inner.consenting_at(&p, recipient, at_t, known)?
            };
            Ok(Consenting {
                purpose: purpose.into(),
                recipient: recipient.map(Into::into),
                at: at_t,
                as_known_at: known,
                subjects,
                head: inner.head()?,
            })
        })
    }

    /// Events with `seq >= since`, at most `limit` of them: a change feed. Pass the
    /// `seq + 1` of the last event seen (or a head's size) to continue.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn changes_since(&self, since: u64, limit: usize) -> Result<Vec<Event>> {
        self.read(None, |inner, _| inner.store.events_since(since, limit))
    }
}

impl Inner {
    /// Every event about a subject: those naming it, and those found by its
    /// pseudonyms (blanked events, erasures, readmissions), in order.
    pub(crate) fn history(&self, subject: &str) -> Result<Vec<Event>> {
        let mut events = self.store.events_naming(subject)?;
        // Blanked events (and the erasure and readmission events) are found by the
        // subject's pseudonyms, also after a readmission.
        let key = self.key()?;
        let mut markers = vec![key.subject_key(subject)];
        if self.legacy_markers {
            markers.push(key.legacy_marker(subject));
        }
        for marker in markers {
            events.extend(self.store.blanked_events(&marker)?);
        }
        events.sort_by_key(|e| e.seq);
        events.dedup_by_key(|e| e.seq);
        Ok(events)
    }

    pub(crate) fn status_now(
        &self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        now: Timestamp,
    ) -> Result<Status> {
        Ok(self.status_now_valid(subject, purpose, recipient, now)?.0)
    }

    /// Status now and, when it came from the materialized row, until when time alone
    /// leaves it as it is (`Some(None)`: until something is written), for the cache.
    pub(crate) fn status_now_valid(
        &self,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        now: Timestamp,
    ) -> Result<(Status, Option<Option<Timestamp>>)> {
        // Without the key an erased subject cannot be recognised: fail closed for all.
        self.key()?;
        let p = self.asked_purpose(purpose, recipient)?;
        let row = match self.store.current_answer(subject, purpose, recipient)? {
            // A materialized row is only the answer for now when no event takes effect
            // later (a future-dated withdrawal, say); otherwise decide from the events.
            Some(row) if row.last_effective <= now.as_millis() => row,
            Some(_) => {
                let events = self.store.events_of(subject, purpose)?;
                return Ok((status_from(&p, &events, recipient, now, now), None));
            }
            None if self.is_erased(subject)? => {
                return Ok((erased_status(&p, recipient, now, now), None))
            }
            None => return Ok((status_from(&p, &[], recipient, now, now), None)),
        };
        let mut state = row.state;
        let mut since = Timestamp::from_millis(row.since)?;
        let mut until = row.until.map(Timestamp::from_millis).transpose()?;
        let valid = valid_until(&p, row.state, until, now);
        if state == State::Given {
            if let Some((lapsed, at)) = grant_lapse(&p, row.seq, since, until, now, now) {
                state = lapsed;
                since = at;
                until = None;
            }
        }
        let then = p.in_force(now);
        let status = Status {
            purpose: then.def.id.clone(),
            purpose_version: then.version,
            granted_under_version: row
                .purpose_version
                .filter(|_| row.kind == Some(EventKind::Given)),
            recipient: recipient.map(Into::into),
            state,
            lawful_basis: then.def.lawful_basis,
            event_id: Some(row.event_id),
            event_seq: Some(row.seq),
            since: Some(since),
            until,
            notice: row.notice,
            effect_deadline: row
                .effect_deadline
                .map(Timestamp::from_millis)
                .transpose()?,
            at: now,
            as_known_at: now,
        };
        Ok((status, Some(valid)))
    }

    fn consenting_now(
        &self,
        p: &PurposeVersions,
        recipient: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<ConsentingSubject>> {
        let mut out = Vec::new();
        let mut undecided = Vec::new();
        {
            // Per subject, the purpose-wide row ('') comes first and the recipient's
            // row, if any, wins. The renewal rule needs each grant's seq: it is read
            // only once the purpose has changed materially (NULL before, when the
            // rule cannot apply).
            let changed = p.changed_materially_by(now);
            let now_ms = now.as_millis();
            let mut pending = FeedRow::default();
            let mut has_pending = false;
            let mut settle = |row: &FeedRow| -> Result<()> {
                let lapsed = || -> Result<bool> {
                    let since = Timestamp::from_millis(row.since)?;
                    let until = row.until.map(Timestamp::from_millis).transpose()?;
                    let seq = row.seq.map_or(u64::MAX, |s| s as u64);
                    Ok(grant_lapse(p, seq, since, until, now, now).is_some())
                };
                if row.last_effective > now_ms {
                    undecided.push(row.subject.clone());
                } else if row.state == State::Given.as_str() && !lapsed()? {
                    out.push(ConsentingSubject {
                        event_id: Uuid::from_slice(&row.event_id)
                            .map_err(|_| Error::Corrupt("event id".into()))?,
                        since: Timestamp::from_millis(row.since)?,
                        until: row.until.map(Timestamp::from_millis).transpose()?,
                        subject: row.subject.clone(),
                    });
                }
                Ok(())
            };
            self.store
                .each_feed_row(&p.latest().def.id, recipient, changed, |row| {
                    if has_pending && pending.subject != row.subject {
                        settle(&pending)?;
                    }
                    pending.copy_from(row);
                    has_pending = true;
                    Ok(())
                })?;
            if has_pending {
                settle(&pending)?;
            }
        }
        let undecided_empty = undecided.is_empty();
        for subject in undecided {
            let events = self.store.events_of(&subject, &p.latest().def.id)?;
            push_if_given(&mut out, p, &events, subject, recipient, now, now);
        }
        // The scan gave subjects in order; only the undecided ones came after.
        if !undecided_empty {
            out.sort_by(|a, b| a.subject.cmp(&b.subject));
        }
        Ok(out)
    }

    fn consenting_at(
        &self,
        p: &PurposeVersions,
        recipient: Option<&str>,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<ConsentingSubject>> {
        let mut out = Vec::new();
        let mut group: Vec<Event> = Vec::new();
        self.store.each_event_by_subject(&p.latest().def.id, |e| {
            if group.first().is_some_and(|g| g.subject != e.subject) {
                let subject = group[0].subject.clone().unwrap_or_default();
                push_if_given(&mut out, p, &group, subject, recipient, at, now);
                group.clear();
            }
            group.push(e);
        })?;
        if let Some(first) = group.first() {
            let subject = first.subject.clone().unwrap_or_default();
            push_if_given(&mut out, p, &group, subject, recipient, at, now);
        }
        Ok(out)
    }
}
