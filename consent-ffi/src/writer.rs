//! Where a write goes: straight to the ledger, or into an open batch. The ledger's
//! functions and the batch's share everything else.

use consent_core::{
    Appended, BatchToken, Head, Ledger, NewEvent, Notice, NoticeDef, Purpose, PurposeDef,
};

/// Where a write goes: straight to the ledger (a transaction of its own), or into an
/// open batch. The ledger's functions and the batch's share everything else.
#[derive(Clone, Copy)]
pub(crate) enum Writer<'a> {
    Ledger(&'a Ledger),
    Batch(&'a Ledger, &'a BatchToken),
}

impl Writer<'_> {
    pub(crate) fn append(self, event: NewEvent) -> consent_core::Result<Appended> {
        match self {
            Writer::Ledger(l) => l.append_outcome(event),
            Writer::Batch(l, token) => l.append_outcome_in(token, event),
        }
    }

    pub(crate) fn register_purpose(self, def: PurposeDef) -> consent_core::Result<Purpose> {
        match self {
            Writer::Ledger(l) => l.register_purpose(def),
            Writer::Batch(l, token) => l.register_purpose_in(token, def),
        }
    }

    pub(crate) fn register_notice(self, def: NoticeDef) -> consent_core::Result<Notice> {
        match self {
            Writer::Ledger(l) => l.register_notice(def),
            Writer::Batch(l, token) => l.register_notice_in(token, def),
        }
    }

    pub(crate) fn head(self) -> consent_core::Result<Head> {
        match self {
            Writer::Ledger(l) => l.head(),
            Writer::Batch(l, token) => l.head_in(token),
        }
    }
}
