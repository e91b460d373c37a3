//! The subject-access copy: everything the ledger holds about one subject.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::event::{check_id, Event};
use crate::ledger::Ledger;
use crate::notice::{Notice, NoticeRef};
use crate::proofs::Head;
use crate::purpose::Purpose;
use crate::query::Status;
use crate::timestamp::Timestamp;

/// A subject-access copy: everything the ledger holds about one subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubjectExport {
    /// Format marker for the JSON document.
    pub format: String,
    /// The subject.
    pub subject: String,
    /// When the copy was made.
    pub exported_at: Timestamp,
    /// Every event about the subject, in order.
    pub events: Vec<Event>,
    /// Every version of every purpose the events refer to.
    pub purposes: Vec<Purpose>,
    /// Every notice the events refer to.
    pub notices: Vec<Notice>,
    /// Current status per purpose (and recipient) the subject has events for.
    pub statuses: Vec<Status>,
    /// The ledger head when the copy was made.
    pub head: Head,
}

impl Ledger {
    /// The subject-access copy: every event, the purposes and notices they refer to,
    /// the current statuses and the head.
    ///
    /// # Errors
    /// The [id errors](crate#errors) for the subject; the
    /// [ledger's and subject errors](crate#errors).
    pub fn export_subject(&self, subject: &str) -> Result<SubjectExport> {
        check_id("subject", subject)?;
        self.read(None, |inner, now| {
            let events = inner.history(subject)?;
            let mut purposes = Vec::new();
            let mut notices = Vec::new();
            let mut statuses = Vec::new();
            let mut ids: Vec<&str> = events
                .iter()
                .filter(|e| e.kind.is_subject_event())
                .filter_map(|e| e.purpose.as_deref())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            for id in ids {
                let versions = inner.all_purposes(Some(id))?;
                // A purpose that lists recipients is answered per recipient.
                let listed = versions
                    .last()
                    .map(|p| p.def.recipients.clone())
                    .unwrap_or_default();
                purposes.extend(versions);
                if listed.is_empty() {
                    statuses.push(inner.status_now(subject, id, None, now)?);
                }
                for r in &listed {
                    statuses.push(inner.status_now(subject, id, Some(r), now)?);
                }
            }
            let mut refs: Vec<&NoticeRef> =
                events.iter().filter_map(|e| e.notice.as_ref()).collect();
            refs.sort_by(|a, b| (&a.id, &a.version).cmp(&(&b.id, &b.version)));
            refs.dedup();
            for r in refs {
                if let Some(n) = inner.notice(&r.id, &r.version)? {
                    notices.push(n);
                }
            }
            Ok(SubjectExport {
                format: "consent-ledger/subject-export/v1".into(),
                subject: subject.into(),
                exported_at: now,
                events,
                purposes,
                notices,
                statuses,
                head: inner.head()?,
            })
        })
    }
}
