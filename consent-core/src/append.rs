//! Appending a consent event, top to bottom: **load** what the rules need from the
//! store ([`Facts`]), **decide** with the pure rules of `rules.rs`, **write** the row,
//! its tree hashes and its materialized state.

use crate::canonical::personal_digest;
use crate::error::{Error, Result};
use crate::event::{Actor, Event, EventKind, NewEvent};
use crate::key::PseudonymKey;
use crate::ledger::{Inner, Ledger};
use crate::materialize;
use crate::purpose::Purpose;
use crate::rules::{self, check_new_event, Facts, OnRecord, Recorded, Verdict};
use crate::store::RawRow;
use crate::timestamp::Timestamp;

/// What [`Ledger::append_outcome`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Appended {
    /// The event: the one just recorded, or the one already on record.
    pub event: Event,
    /// Whether it was recorded by this call; `false`: the same event was already on
    /// record under its source id (a retried import row, a resent message) and nothing
    /// was written.
    pub new: bool,
}

impl Ledger {
    /// Appends a consent event after checking it against the rules (see the crate docs).
    /// With a source id already on record, returns the existing event when the content
    /// is the same.
    ///
    /// # Errors
    /// Refused with nothing written:
    /// - [`InvalidArgument`](crate::ErrorKind::InvalidArgument): a malformed event (the
    ///   [id errors](crate#errors), a kind the ledger appends itself, a `recorded_by`
    ///   that does not read back as itself, evidence that is not a JSON object, an
    ///   expiry on anything but a grant, a target on anything but an invalidation, a
    ///   `notice_served` without its notice, an invalidation whose target is missing or
    ///   not the subject's, an overruling not by staff or with no objection in force);
    /// - [`InvalidTime`](crate::ErrorKind::InvalidTime): an event time too far ahead of
    ///   its record time, or an expiry or validity start out of order;
    /// - [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose),
    ///   [`UnknownNotice`](crate::ErrorKind::UnknownNotice),
    ///   [`UnknownRecipient`](crate::ErrorKind::UnknownRecipient): not registered, or
    ///   not a recipient the purpose lists (of these a withdrawal is refused only for
    ///   an unknown purpose);
    /// - [`InvalidConsent`](crate::ErrorKind::InvalidConsent): a consent the rules
    ///   refuse (an answer for a purpose that does not rest on consent or without its
    ///   method, a grant without a notice or not explicit where it must be, a notice
    ///   that does not cover the purpose, an objection overruled under consent);
    /// - [`SubjectErased`](crate::ErrorKind::SubjectErased): anything but a kind that
    ///   ends consent, about an erased subject;
    /// - [`Conflict`](crate::ErrorKind::Conflict): the source id is on record with
    ///   other content;
    /// - the [ledger's, write and subject errors](crate#errors).
    pub fn append(&self, event: NewEvent) -> Result<Event> {
        self.append_outcome(event).map(|a| a.event)
    }

    /// [`Ledger::append`], saying whether the event is new or was already on record
    /// under its source id — decided inside the append's transaction, so a concurrent
    /// writer cannot make the answer wrong (a caller comparing the log's size before and
    /// after could be).
    ///
    /// # Errors
    /// As [`Ledger::append`].
    pub fn append_outcome(&self, event: NewEvent) -> Result<Appended> {
        self.append_as(None, event)
    }

    pub(crate) fn append_as(&self, owner: Option<u64>, event: NewEvent) -> Result<Appended> {
        check_new_event(&event)?;
        let evidence = event
            .evidence
            .as_ref()
            .map(|v| serde_json::to_string(v).map_err(|e| Error::invalid(e.to_string())))
            .transpose()?;
        self.write_prefetching(
            owner,
            |inner| inner.prefetch_facts(&event),
            |inner, now| inner.append_event(&event, evidence.as_deref(), now),
        )
    }

    /// Records consent given.
    ///
    /// # Errors
    /// As [`Ledger::append`].
    pub fn give(&self, event: NewEvent) -> Result<Event> {
        self.append(NewEvent {
            kind: EventKind::Given,
            ..event
        })
    }

    /// Records that the subject was shown a notice about the purpose, with no answer
    /// yet (`notice_served`): the event must name the notice, which must cover the
    /// purpose (the rules of [`Ledger::append`]).
    ///
    /// # Errors
    /// As [`Ledger::append`].
    pub fn serve_notice(&self, event: NewEvent) -> Result<Event> {
        self.append(NewEvent {
            kind: EventKind::NoticeServed,
            ..event
        })
    }

    /// Records a withdrawal: never refused by the rules ([`EventKind::is_withdrawal`]).
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument) for a malformed subject,
    /// purpose or `recorded_by`; [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose);
    /// the [ledger's, write and subject errors](crate#errors).
    pub fn withdraw(&self, subject: &str, purpose: &str, recorded_by: Actor) -> Result<Event> {
        self.append(NewEvent::withdraw(subject, purpose).recorded_by(recorded_by))
    }
}

impl Inner {
    /// Load, decide, write.
    fn append_event(
        &self,
        e: &NewEvent,
        evidence: Option<&str>,
        now: Timestamp,
    ) -> Result<Appended> {
        let key = self.key()?;
        let source_key = e.source_id.as_deref().map(|s| key.source_key(s));
        let facts = self.load_facts(e, key, source_key.as_ref())?;
        let mut recorded = match rules::check_append(e, evidence, &facts, now, &self.calendar)? {
            Verdict::Retry => {
                let on_record = facts.on_record.expect("a retry has an event on record");
                return Ok(Appended {
                    event: on_record.event,
                    new: false,
                });
            }
            Verdict::Record(r) => r,
        };
        let purpose = facts.purpose.latest();
        let erased = facts.erased_marker.is_some();
        // The materialized rows this event changes, read before anything is written
        // (on PostgreSQL they came with the rules' reads).
        let current = match erased {
            true => None,
            false => Some(self.store.current_rows(&e.subject, &purpose.def.id)?),
        };
        let mut row = self.event_row(&mut recorded, purpose, evidence, erased, now);
        // The subject's pseudonym is hashed with the event: it binds the event to its
        // subject's erasure, if one ever comes.
        row.subject_key = Some(
            facts
                .erased_marker
                .unwrap_or_else(|| key.subject_key(&recorded.event.subject))
                .to_vec(),
        );
        row.source_key = source_key.map(|k| k.to_vec());
        self.store.append(&mut row)?;
        if let Some(rows) = current {
            self.refresh_current(&e.subject, purpose, &row, rows)?;
        }
        Ok(Appended {
            event: row.to_event()?,
            new: true,
        })
    }

    /// Asks ahead for everything [`Inner::append_event`] reads of the store about `e`,
    /// so that on PostgreSQL it all comes in one round trip.
    fn prefetch_facts(&self, e: &NewEvent) -> Result<()> {
        let key = self.key()?;
        self.store.prefetch_log_end()?;
        self.store
            .prefetch_is_erased_marker(&key.subject_key(&e.subject))?;
        if self.legacy_markers {
            self.store
                .prefetch_is_erased_marker(&key.legacy_marker(&e.subject))?;
        }
        if let Some(source) = &e.source_id {
            self.store
                .prefetch_event_by_source(&key.source_key(source))?;
        }
        self.store.prefetch_data_version()?;
        self.store.prefetch_current_rows(&e.subject, &e.purpose)
    }

    /// Everything the rules read about `e` from the ledger.
    fn load_facts(
        &self,
        e: &NewEvent,
        key: &PseudonymKey,
        source_key: Option<&[u8; 32]>,
    ) -> Result<Facts> {
        let erased_marker = self.erased_marker(&e.subject)?;
        let purpose = self
            .purpose(&e.purpose)?
            .ok_or_else(|| Error::UnknownPurpose(e.purpose.clone()))?;
        let on_record = match source_key {
            Some(sk) => match self.store.event_by_source(sk)? {
                Some(row) => {
                    let event = row.to_event()?;
                    let same_pseudonym = event.erased
                        && row.subject_key.as_deref().is_some_and(|stored| {
                            self.is_pseudonym_of(key, stored, &e.subject, erased_marker)
                        });
                    Some(OnRecord {
                        event,
                        same_pseudonym,
                    })
                }
                None => None,
            },
            None => None,
        };
        let notice = match &e.notice {
            Some((id, version)) => self.notice(id, version)?,
            None => None,
        };
        let target = match e.target {
            Some(t) => self.store.event(t)?,
            None => None,
        };
        let history = if e.kind == EventKind::ObjectionOverruled {
            self.store.events_of(&e.subject, &e.purpose)?
        } else {
            Vec::new()
        };
        Ok(Facts {
            purpose,
            erased_marker,
            on_record,
            notice,
            target,
            history,
        })
    }

    /// Whether a stored pseudonym is `subject`'s: their keyed pseudonym, the marker of
    /// their erasure, or their schema-1 marker.
    fn is_pseudonym_of(
        &self,
        key: &PseudonymKey,
        stored: &[u8],
        subject: &str,
        marker: Option<[u8; 32]>,
    ) -> bool {
        stored == key.subject_key(subject)
            || marker.is_some_and(|m| stored == m)
            || (self.legacy_markers && stored == key.legacy_marker(subject))
    }

    /// The row of a recorded event (without its pseudonyms). An erased subject's later
    /// events keep no personal field, only their digest.
    fn event_row(
        &self,
        r: &mut Recorded<'_, '_>,
        purpose: &Purpose,
        evidence: Option<&str>,
        erased: bool,
        now: Timestamp,
    ) -> RawRow {
        let details = std::mem::take(&mut r.details);
        let e = &*r.event;
        let (subject, source_id, evidence) = if erased {
            (None, None, None)
        } else {
            (
                Some(e.subject.clone()),
                e.source_id.clone(),
                evidence.map(String::from),
            )
        };
        let salt: [u8; 16] = rand::random();
        let digest = personal_digest(
            &salt,
            Some(&e.subject),
            source_id.as_deref(),
            evidence.as_deref(),
        );
        RawRow {
            kind: e.kind.as_str().into(),
            subject,
            salt: (!erased).then(|| salt.to_vec()),
            personal_digest: Some(digest.to_vec()),
            purpose: Some(purpose.def.id.clone()),
            purpose_version: Some(purpose.version.into()),
            recipient: e.recipient.clone(),
            notice_id: r.notice.map(|n| n.def.id.clone()),
            notice_version: r.notice.map(|n| n.def.version.clone()),
            notice_sha256: r.notice.map(|n| n.def.sha256.to_vec()),
            explicit: i64::from(e.explicit),
            method: e.method.map(|m| m.as_str().into()),
            recorded_by: e.recorded_by.to_string(),
            effective_at: r.effective.as_millis(),
            recorded_at: now.as_millis(),
            expires_at: r.expires.map(Timestamp::as_millis),
            effect_deadline: r.effect_deadline.map(Timestamp::as_millis),
            source_id,
            evidence,
            target: e.target.map(|t| t.as_bytes().to_vec()),
            details: (!details.is_empty()).then(|| serde_json::Value::Object(details).to_string()),
            ..self.blank_row(now)
        }
    }

    /// Folds a new event into the materialized rows of its subject and purpose
    /// (`rows`, as read before the event was written): writes only that group's few
    /// rows, never reads the subject's history.
    fn refresh_current(
        &self,
        subject: &str,
        purpose: &Purpose,
        row: &RawRow,
        mut rows: Vec<crate::materialize::CurrentRow>,
    ) -> Result<()> {
        let step = materialize::step_of(row)?;
        for recipient in materialize::apply(&mut rows, &step, purpose.def.lawful_basis) {
            if let Some(r) = rows.iter().find(|r| r.recipient == recipient) {
                self.store.write_current(subject, &purpose.def.id, r)?;
            }
        }
        Ok(())
    }
}
