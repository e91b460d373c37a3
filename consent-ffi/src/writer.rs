//! Where a write goes: straight to the ledger, or into an open batch. The ledger's
//! functions and the batch's share everything else.

use consent_core::{
    Actor, Appended, BatchToken, Downstream, DownstreamDef, Head, Ledger, NewEvent, Notice,
    NoticeDef, Purpose, PurposeDef, Registered,
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

    pub(crate) fn register_purpose(
        self,
        def: PurposeDef,
    ) -> consent_core::Result<Registered<Purpose>> {
        match self {
            Writer::Ledger(l) => l.register_purpose_outcome(def),
            Writer::Batch(l, token) => l.register_purpose_outcome_in(token, def),
        }
    }

    pub(crate) fn register_notice(
        self,
        def: NoticeDef,
    ) -> consent_core::Result<Registered<Notice>> {
        match self {
            Writer::Ledger(l) => l.register_notice_outcome(def),
            Writer::Batch(l, token) => l.register_notice_outcome_in(token, def),
        }
    }

    pub(crate) fn register_downstream(
        self,
        def: DownstreamDef,
        recorded_by: Actor,
    ) -> consent_core::Result<Registered<Downstream>> {
        match self {
            Writer::Ledger(l) => l.register_downstream_outcome(def, recorded_by),
            Writer::Batch(l, token) => l.register_downstream_outcome_in(token, def, recorded_by),
        }
    }

    pub(crate) fn head(self) -> consent_core::Result<Head> {
        match self {
            Writer::Ledger(l) => l.head(),
            Writer::Batch(l, token) => l.head_in(token),
        }
    }
}
