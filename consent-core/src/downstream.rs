//! Downstream systems (docs/FORMAT.md §13, docs/RULES.md "Downstream systems"): the
//! systems that received students' data (the students' union feed, an NHS liaison)
//! and must act on a withdrawal by its effect deadline.
//!
//! - **Registration** is an event (`downstream_registered`), versioned like a purpose:
//!   the purposes and the recipient a downstream's feed may show. A new version
//!   replaces the old for the events after it; a retired version shows no new grant,
//!   only the end of the grants it showed.
//! - **The feed** ([`Ledger::feed`]) shows a downstream only students who opted in:
//!   the grants of its purposes, purpose-wide or naming its recipient, and a
//!   withdrawal, revocation, invalidation or objection only after a grant it showed
//!   (same subject, purpose and recipient scope) — never a refusal, a served notice or
//!   an overruled objection; for an erasure, only the sequence numbers of the events
//!   of its feed that were erased (never the subject, never the reason): it deletes
//!   what it holds from those events.
//! - **Acknowledgements** are events (`downstream_acknowledged`): "acted on every
//!   event of my feed up to seq N", or on one event. The feed continues after the
//!   highest `up_to` by default: the cursor is kept in the ledger.
//! - **Deadlines** ([`Ledger::deadlines`]): every withdrawal, revocation or objection
//!   that a downstream's feed shows ([`EventKind::sets_effect_deadline`]), appended
//!   after its first registration, is pending, overdue, acknowledged, or acknowledged
//!   late.
//!
//! The registrations and acknowledgements are read from the log itself, through a
//! partial index of their events (schema 4): they are few, and no table has to agree
//! with them.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::event::{check_id, Actor, ActorKind, Event, EventKind};
use crate::ledger::{Inner, Ledger};
use crate::registry::Registered;
use crate::store::{RawRow, Store};
use crate::timestamp::Timestamp;

/// What a downstream system is registered to see. Registering it again with other
/// content appends a new version, which applies to the events after it. Read from JSON
/// (C, Python), an unknown key is refused: a misspelt `"recipients"` must not register
/// a feed without the recipient filter it meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownstreamDef {
    /// Registry id, e.g. `jmsu.feed`.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The controller that runs it (e.g. `JMSU`).
    pub controller: String,
    /// The purposes whose events its feed shows (registered purpose ids).
    pub purposes: Vec<String>,
    /// When set, its feed shows only purpose-wide events and events naming this
    /// recipient (a recipient the purposes list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// A retired downstream's feed shows no grant after the retirement, only the
    /// withdrawals, revocations and objections of grants it showed before (and the
    /// erasure of what it holds): it still holds their data.
    #[serde(default, skip_serializing_if = "is_false")]
    pub retired: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl DownstreamDef {
    /// A downstream seeing `purposes`, with no recipient filter.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        controller: impl Into<String>,
        purposes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        DownstreamDef {
            id: id.into(),
            name: name.into(),
            controller: controller.into(),
            purposes: purposes.into_iter().map(Into::into).collect(),
            recipient: None,
            retired: false,
        }
    }

    /// Sets the recipient filter.
    pub fn recipient(mut self, r: impl Into<String>) -> Self {
        self.recipient = Some(r.into());
        self
    }

    /// Checks the ids and texts (not against the registry).
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument): the
    /// [id errors](crate#errors) for its id, purposes and recipient; an empty name or
    /// controller or one with a control character; no purpose, or one listed twice.
    pub fn validate(&self) -> Result<()> {
        check_id("downstream id", &self.id)?;
        for (what, text) in [("name", &self.name), ("controller", &self.controller)] {
            if text.trim().is_empty() || text.chars().any(char::is_control) {
                return Err(Error::invalid(format!(
                    "downstream {what} is empty or holds a control character"
                )));
            }
        }
        if self.purposes.is_empty() {
            return Err(Error::invalid("a downstream sees at least one purpose"));
        }
        for (i, p) in self.purposes.iter().enumerate() {
            check_id("purpose id", p)?;
            if self.purposes[..i].contains(p) {
                return Err(Error::invalid(format!("purpose `{p}` is listed twice")));
            }
        }
        if let Some(r) = &self.recipient {
            check_id("recipient", r)?;
        }
        Ok(())
    }

    /// Whether this version admits an event of this kind, purpose and recipient to
    /// its feed: a grant ([`EventKind::Given`]) or an event ending consent (withdrawn,
    /// revoked, invalidated, objected) that it [covers](DownstreamDef::covers); never a
    /// refusal, a served notice or an overruled objection, nothing of a retired
    /// version. The feed shows an event ending consent only when it showed an earlier
    /// grant of the same subject, purpose and recipient scope — and then also when this
    /// version is retired or narrower, if the grant's version covers it
    /// ([`Ledger::feed`], docs/FORMAT.md §13): that needs the log, not only the version.
    pub fn shows(&self, kind: EventKind, purpose: Option<&str>, recipient: Option<&str>) -> bool {
        !self.retired
            && (kind == EventKind::Given || ends_a_grant(kind))
            && self.covers(purpose, recipient)
    }

    /// Whether an event of this purpose and recipient is within what this version
    /// sees, retired or not: one of its purposes, purpose-wide or naming its recipient
    /// (any recipient when it has none).
    pub fn covers(&self, purpose: Option<&str>, recipient: Option<&str>) -> bool {
        purpose.is_some_and(|p| self.purposes.iter().any(|q| q == p))
            && self.covers_recipient(recipient)
    }

    /// Whether its recipient filter lets an event naming `recipient` through: it has
    /// none, the event is purpose-wide, or it names this one.
    pub fn covers_recipient(&self, recipient: Option<&str>) -> bool {
        match (&self.recipient, recipient) {
            (Some(mine), Some(theirs)) => mine == theirs,
            _ => true,
        }
    }
}

/// The `details` of a `downstream_registered` event: the definition and its version,
/// keys in this order (docs/FORMAT.md §13).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredRegistration {
    id: String,
    version: u32,
    name: String,
    controller: String,
    purposes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recipient: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    retired: bool,
}

impl StoredRegistration {
    pub(crate) fn parse(details: &str) -> Option<(DownstreamDef, u32)> {
        let s: StoredRegistration = serde_json::from_str(details).ok()?;
        let def = DownstreamDef {
            id: s.id,
            name: s.name,
            controller: s.controller,
            purposes: s.purposes,
            recipient: s.recipient,
            retired: s.retired,
        };
        (s.version >= 1 && def.validate().is_ok()).then_some((def, s.version))
    }

    fn text(def: &DownstreamDef, version: u32) -> Result<String> {
        serde_json::to_string(&StoredRegistration {
            id: def.id.clone(),
            version,
            name: def.name.clone(),
            controller: def.controller.clone(),
            purposes: def.purposes.clone(),
            recipient: def.recipient.clone(),
            retired: def.retired,
        })
        .map_err(|e| Error::invalid(e.to_string()))
    }
}

/// The `details` of a `downstream_acknowledged` event: the downstream, and `up_to`
/// unless the event's `target` names the one event acted on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StoredAck {
    pub(crate) downstream: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) up_to: Option<u64>,
}

/// One version of a registered downstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Downstream {
    /// What it sees.
    pub def: DownstreamDef,
    /// From 1.
    pub version: u32,
    /// The event that registered this version.
    pub seq: u64,
    /// When this version was registered.
    pub registered_at: Timestamp,
    /// Who registered it.
    pub recorded_by: Actor,
    /// The seq of its first registration: its deadlines are tracked from there.
    pub first_seq: u64,
}

/// What a downstream acknowledges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// It acted on every event of its feed with a seq up to this one (inclusive).
    UpTo(u64),
    /// It acted on this one event of its feed.
    Event(Uuid),
}

/// A recorded acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// The downstream.
    pub downstream: String,
    /// The acknowledgement's own event.
    pub seq: u64,
    /// Its event id.
    pub id: Uuid,
    /// Acted on every event of the feed up to this seq.
    pub up_to: Option<u64>,
    /// Acted on this event.
    pub target: Option<Uuid>,
    /// When the ledger recorded it (what a deadline is compared with).
    pub recorded_at: Timestamp,
    /// Who recorded it.
    pub recorded_by: Actor,
}

/// One item of a downstream's feed: what it needs to act, nothing more (no evidence,
/// source id, notice, method or who recorded it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedItem {
    /// Position in the log: what an acknowledgement names.
    pub seq: u64,
    /// The event's id.
    pub id: Uuid,
    /// A subject event's kind, or `subject_erased`.
    pub kind: EventKind,
    /// The subject; `None` once erased (and on an erasure item).
    pub subject: Option<String>,
    /// The purpose (`None` on an erasure item).
    pub purpose: Option<String>,
    /// The recipient named; `None` = purpose-wide.
    pub recipient: Option<String>,
    /// When it happened.
    pub effective_at: Timestamp,
    /// When the ledger learnt it.
    pub recorded_at: Timestamp,
    /// When a grant lapses.
    pub expires_at: Option<Timestamp>,
    /// For a withdrawal, revocation or objection: its legal effect deadline as
    /// recorded (effective time + the purpose's effect delay).
    pub effect_deadline: Option<Timestamp>,
    /// For a withdrawal, revocation or objection: when the downstream must have acted
    /// ([`Deadline::deadline`]): the effect deadline, or for an event entered late the
    /// same delay after the ledger learnt it. What a consumer schedules by.
    pub act_by: Option<Timestamp>,
    /// Whether the subject's personal fields were erased.
    pub erased: bool,
    /// On an erasure item: the seqs of the events of this feed that were erased.
    /// Delete what you hold from them; the subject is not named.
    pub erased_seqs: Vec<u64>,
}

impl FeedItem {
    fn of(e: &Event) -> FeedItem {
        FeedItem {
            seq: e.seq,
            id: e.id,
            kind: e.kind,
            subject: e.subject.clone(),
            purpose: e.purpose.clone(),
            recipient: e.recipient.clone(),
            effective_at: e.effective_at,
            recorded_at: e.recorded_at,
            expires_at: e.expires_at,
            effect_deadline: e.effect_deadline,
            act_by: act_by(e),
            erased: e.erased,
            erased_seqs: Vec::new(),
        }
    }
}

/// A page of a downstream's feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    /// The downstream.
    pub downstream: String,
    /// Where this page started (a seq).
    pub since: u64,
    /// Where the next page starts: pass it as `since` to continue.
    pub next: u64,
    /// The log's size when it was read.
    pub size: u64,
    /// The items, in log order.
    pub items: Vec<FeedItem>,
}

/// Where a deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineState {
    /// Not acknowledged; the deadline has not passed.
    Pending,
    /// Not acknowledged; the deadline has passed.
    Overdue,
    /// Acknowledged by the deadline.
    Acknowledged,
    /// Acknowledged after the deadline: kept as a fact for the report.
    AcknowledgedLate,
}

impl DeadlineState {
    /// The text form (`pending`, `overdue`, `acknowledged`, `acknowledged_late`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineState::Pending => "pending",
            DeadlineState::Overdue => "overdue",
            DeadlineState::Acknowledged => "acknowledged",
            DeadlineState::AcknowledgedLate => "acknowledged_late",
        }
    }
}

/// A withdrawal, revocation or objection in a downstream's feed, and whether the
/// downstream acted on it by its effect deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// The downstream.
    pub downstream: String,
    /// The event's seq.
    pub seq: u64,
    /// The event's id.
    pub event_id: Uuid,
    /// Withdrawn, revoked or objected.
    pub kind: EventKind,
    /// Its purpose.
    pub purpose: String,
    /// Its recipient (`None` = purpose-wide).
    pub recipient: Option<String>,
    /// When the downstream must have acted: the purpose's effect delay after the later
    /// of the event's effective and record times (it cannot act on what the ledger did
    /// not know yet). The event's own `effect_deadline` (the legal one, from its
    /// effective time) stays as recorded.
    pub deadline: Timestamp,
    /// Where it stands.
    pub state: DeadlineState,
    /// The acknowledgement that covers it, if any: its seq and record time.
    pub acknowledged_seq: Option<u64>,
    /// When that acknowledgement was recorded.
    pub acknowledged_at: Option<Timestamp>,
    /// How late, in seconds: overdue, by how long now; acknowledged late, by how long
    /// then. `None` otherwise.
    pub late_by_secs: Option<u64>,
}

/// Every registration and acknowledgement, read from the log.
pub(crate) struct Registry {
    /// Versions by downstream id, in order.
    pub(crate) versions: HashMap<String, Vec<Downstream>>,
    /// Acknowledgements in log order.
    pub(crate) acks: Vec<Acknowledgement>,
}

impl Registry {
    /// Builds the registry from the downstream events (in log order) recorded at or
    /// before `known` (every one when `None`).
    pub(crate) fn from_rows(rows: &[RawRow], known: Option<Timestamp>) -> Result<Registry> {
        let mut reg = Registry {
            versions: HashMap::new(),
            acks: Vec::new(),
        };
        for row in rows {
            if known.is_some_and(|k| row.recorded_at > k.as_millis()) {
                continue;
            }
            let e = row.to_event()?;
            let bad = |what: &str| Error::Corrupt(format!("event {}: {what}", e.seq));
            let details = row.details.as_deref().unwrap_or_default();
            match e.kind {
                EventKind::DownstreamRegistered => {
                    let (def, version) = StoredRegistration::parse(details)
                        .ok_or_else(|| bad("malformed downstream registration"))?;
                    let list = reg.versions.entry(def.id.clone()).or_default();
                    let first_seq = list.first().map_or(e.seq, |d| d.first_seq);
                    list.push(Downstream {
                        def,
                        version,
                        seq: e.seq,
                        registered_at: e.recorded_at,
                        recorded_by: e.recorded_by,
                        first_seq,
                    });
                }
                EventKind::DownstreamAcknowledged => {
                    let ack: StoredAck = serde_json::from_str(details)
                        .map_err(|_| bad("malformed acknowledgement"))?;
                    reg.acks.push(Acknowledgement {
                        downstream: ack.downstream,
                        seq: e.seq,
                        id: e.id,
                        up_to: ack.up_to,
                        target: e.target,
                        recorded_at: e.recorded_at,
                        recorded_by: e.recorded_by,
                    });
                }
                _ => {}
            }
        }
        Ok(reg)
    }

    /// Every version of `id`, or [`Error::NotFound`] naming the registered ones.
    pub(crate) fn versions(&self, id: &str) -> Result<&[Downstream]> {
        self.versions.get(id).map(Vec::as_slice).ok_or_else(|| {
            let mut known: Vec<&str> = self.versions.keys().map(String::as_str).collect();
            known.sort_unstable();
            Error::NotFound(format!(
                "downstream `{}` is not registered (registered: {})",
                id.chars().take(80).collect::<String>(),
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ))
        })
    }

    /// The highest `up_to` acknowledged by `id`: where its feed continues.
    pub(crate) fn cursor(&self, id: &str) -> Option<u64> {
        feed_cursor(self.acks.iter().filter(|a| a.downstream == id))
    }
}

/// Where a downstream's feed continues: the highest `up_to` among its
/// acknowledgements (`None`: from the start).
pub fn feed_cursor<'a>(acks: impl IntoIterator<Item = &'a Acknowledgement>) -> Option<u64> {
    acks.into_iter().filter_map(|a| a.up_to).max()
}

/// The version of a downstream that judges the event at `seq`: the latest registered
/// before it, or — for the backlog before its first registration — the first.
pub(crate) fn in_force(versions: &[Downstream], seq: u64) -> Option<&Downstream> {
    versions
        .iter()
        .rev()
        .find(|d| d.seq < seq)
        .or_else(|| versions.first())
}

/// The kinds a feed shows after a grant it showed, for the same subject and purpose:
/// a withdrawal, a revocation, an invalidation, an objection (docs/FORMAT.md §13).
pub(crate) fn ends_a_grant(kind: EventKind) -> bool {
    matches!(
        kind,
        EventKind::Withdrawn | EventKind::Revoked | EventKind::Invalidated | EventKind::Objected
    )
}

/// Whether the version in force at `seq` admits an event of this kind, purpose and
/// recipient ([`DownstreamDef::shows`]).
fn admits(
    versions: &[Downstream],
    seq: u64,
    kind: EventKind,
    purpose: Option<&str>,
    recipient: Option<&str>,
) -> bool {
    in_force(versions, seq).is_some_and(|d| d.def.shows(kind, purpose, recipient))
}

/// Whether a grant naming `granted` and an event ending consent naming `ended` bear on
/// the same recipient: either is purpose-wide, or they name the same one.
fn same_scope(granted: Option<&str>, ended: Option<&str>) -> bool {
    granted.is_none() || ended.is_none() || granted == ended
}

/// Whether the subject event `e` is in the feed of the downstream with these versions
/// (erasure items are judged by the events they list): a grant its version in force
/// admits; an event ending consent that its version in force admits, after a grant of
/// the same subject, purpose and recipient scope that the feed showed; or, when its
/// version in force does not admit it (retired, narrowed), one its recipient filter
/// lets through that ends a grant the feed showed and still holds — the latest grant
/// of its recipient scope — whose version covers it. A downstream retired or narrowed
/// since still hears of the withdrawal of a grant it received (GDPR Art. 19: each
/// recipient is told), and of nothing after it.
/// The earlier grants come from an index (the subject's, or for an erased subject the
/// pseudonym's), never a scan.
pub(crate) fn shows(store: &Store, versions: &[Downstream], e: &Event) -> Result<bool> {
    let (purpose, recipient) = (e.purpose.as_deref(), e.recipient.as_deref());
    if e.kind == EventKind::Given {
        return Ok(admits(versions, e.seq, e.kind, purpose, recipient));
    }
    let Some(purpose) = purpose.filter(|_| ends_a_grant(e.kind)) else {
        return Ok(false);
    };
    if !versions
        .iter()
        .any(|d| d.def.covers(Some(purpose), recipient))
    {
        return Ok(false);
    }
    let admitted_now = admits(versions, e.seq, e.kind, Some(purpose), recipient);
    let grants = match &e.subject {
        Some(subject) => store.grants_before(subject, purpose, e.seq)?,
        None => match store.raw_event_at(e.seq)?.and_then(|r| r.subject_key) {
            Some(key) => store.erased_grants_before(&key, purpose, e.seq)?,
            None => Vec::new(),
        },
    };
    let shown = |seq: u64, granted: Option<&str>| {
        in_force(versions, seq).filter(|d| d.def.shows(EventKind::Given, Some(purpose), granted))
    };
    if admitted_now {
        return Ok(grants.iter().any(|(seq, granted)| {
            same_scope(granted.as_deref(), recipient) && shown(*seq, granted.as_deref()).is_some()
        }));
    }
    // Retired, or narrowed since: only the end of a grant it still holds — per recipient
    // scope, the latest grant before the event, if the feed showed it and its version
    // covers the event — and never a recipient its version in force filters out. A
    // student who opted in again after the retirement is not shown, nor is a
    // withdrawal naming a recipient a narrowed feed no longer sees.
    let filtered_out =
        in_force(versions, e.seq).is_some_and(|d| !d.def.covers_recipient(recipient));
    if filtered_out {
        return Ok(false);
    }
    let mut latest: Vec<(Option<&str>, u64)> = Vec::new();
    for (seq, granted) in &grants {
        let granted = granted.as_deref();
        if !same_scope(granted, recipient) {
            continue;
        }
        match latest.iter_mut().find(|(r, _)| *r == granted) {
            Some(slot) => slot.1 = *seq,
            None => latest.push((granted, *seq)),
        }
    }
    Ok(latest.iter().any(|(granted, seq)| {
        shown(*seq, *granted).is_some_and(|d| d.def.covers(Some(purpose), recipient))
    }))
}

/// How many events a feed reads at a time.
const FEED_CHUNK: usize = 512;

/// The longest a [`Ledger::feed_wait`] sleeps between two looks at the log.
const MAX_POLL: Duration = Duration::from_millis(500);

impl Ledger {
    /// Registers a downstream system, or a new version of it (its purposes, recipient
    /// or name changed, or `retired` set). Registering an unchanged definition returns
    /// the current version and appends nothing; registering a retired one with
    /// `retired` unset returns it to service, as a new version on the record (loading a
    /// registry file never does: [`crate::Registry`]). A purpose that lists
    /// recipients, when another controller's, is seen only as one of them: the JMSU
    /// feed sees LJMU's sharing purpose as its recipient `JMSU`, and a landlord scheme
    /// never sees the shares with the NHS.
    ///
    /// # Errors
    /// - [`InvalidArgument`](crate::ErrorKind::InvalidArgument): those of
    ///   [`DownstreamDef::validate`]; a `recorded_by` that does not read back as
    ///   itself; no recipient for another controller's purpose that lists recipients;
    /// - [`UnknownPurpose`](crate::ErrorKind::UnknownPurpose): a purpose not registered;
    /// - [`UnknownRecipient`](crate::ErrorKind::UnknownRecipient): a recipient that a
    ///   purpose listing recipients has never listed;
    /// - [`NotFound`](crate::ErrorKind::NotFound): retiring a downstream never
    ///   registered;
    /// - the [ledger's and write errors](crate#errors).
    pub fn register_downstream(
        &self,
        def: DownstreamDef,
        recorded_by: Actor,
    ) -> Result<Downstream> {
        self.register_downstream_as(None, def, recorded_by)
            .map(|r| r.value)
    }

    /// [`Ledger::register_downstream`], saying whether a new version was appended or
    /// the unchanged definition was already current.
    ///
    /// # Errors
    /// Those of [`Ledger::register_downstream`]: a malformed definition or actor, or a
    /// purpose shared with recipients seen without one ([`Error::InvalidArgument`]); an
    /// unregistered purpose ([`Error::UnknownPurpose`]) or recipient
    /// ([`Error::UnknownRecipient`]); retiring a downstream never registered
    /// ([`Error::NotFound`]); and the storage's errors ([`Error::Busy`],
    /// [`Error::Full`], [`Error::ReadOnly`], [`Error::Storage`], [`Error::Closed`]).
    pub fn register_downstream_outcome(
        &self,
        def: DownstreamDef,
        recorded_by: Actor,
    ) -> Result<Registered<Downstream>> {
        self.register_downstream_as(None, def, recorded_by)
    }

    pub(crate) fn register_downstream_as(
        &self,
        owner: Option<u64>,
        def: DownstreamDef,
        recorded_by: Actor,
    ) -> Result<Registered<Downstream>> {
        def.validate()?;
        check_actor(&recorded_by)?;
        self.write(owner, |inner, now| {
            let reg = inner.downstream_registry(None)?;
            let previous = reg.versions.get(&def.id);
            if let Some(latest) = previous.and_then(|v| v.last()) {
                if latest.def == def {
                    return Ok(Registered::unchanged(latest.clone()));
                }
            } else if def.retired {
                return Err(Error::NotFound(format!(
                    "downstream `{}` is not registered: there is nothing to retire",
                    def.id
                )));
            }
            for p in &def.purposes {
                let purpose = inner
                    .purpose(p)?
                    .ok_or_else(|| Error::UnknownPurpose(p.clone()))?;
                if def.retired {
                    // Retiring is never refused: it only narrows what the feed shows.
                    continue;
                }
                let latest = &purpose.latest().def;
                let listed = &latest.recipients;
                // A sharing purpose of another controller is seen only as one of its
                // recipients: a landlord scheme must not see the NHS shares.
                if def.recipient.is_none()
                    && !listed.is_empty()
                    && latest.controller != def.controller
                {
                    return Err(Error::invalid(format!(
                        "purpose `{p}` is {}'s and shares with {}: a downstream of {} \
                         sees it only as one of those recipients (set its recipient)",
                        latest.controller,
                        listed.join(", "),
                        def.controller,
                    )));
                }
                if let Some(r) = &def.recipient {
                    if !listed.is_empty() && !purpose.ever_lists(r) {
                        return Err(Error::UnknownRecipient {
                            purpose: p.clone(),
                            recipient: Some(r.clone()),
                            listed: listed.clone(),
                        });
                    }
                }
            }
            let version = previous.map_or(1, |v| v.len() as u32 + 1);
            let details = StoredRegistration::text(&def, version)?;
            let mut row = RawRow {
                kind: EventKind::DownstreamRegistered.as_str().into(),
                details: Some(details),
                ..inner.blank_row(now)
            };
            row.recorded_by = recorded_by.to_string();
            let seq = inner.store.append(&mut row)?;
            Ok(Registered::new(Downstream {
                def,
                version,
                seq,
                registered_at: now,
                recorded_by,
                first_seq: previous
                    .and_then(|v| v.first())
                    .map_or(seq, |d| d.first_seq),
            }))
        })
    }

    /// Retires a downstream: a new version whose feed shows no new grant from now on,
    /// but still the withdrawals, revocations, objections and erasures of the grants it
    /// showed, with their deadlines: it still holds that data. Its acknowledgements
    /// are accepted as before.
    ///
    /// # Errors
    /// Those of [`Ledger::downstream`] (an unknown one is
    /// [`NotFound`](crate::ErrorKind::NotFound)) and of [`Ledger::register_downstream`].
    pub fn retire_downstream(&self, id: &str, recorded_by: Actor) -> Result<Downstream> {
        let mut def = self.downstream(id)?.def;
        def.retired = true;
        self.register_downstream(def, recorded_by)
    }

    /// The current version of every registered downstream, by id.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn downstreams(&self) -> Result<Vec<Downstream>> {
        self.read(None, |inner, _| {
            let reg = inner.downstream_registry(None)?;
            let mut all: Vec<Downstream> = reg
                .versions
                .into_values()
                .filter_map(|mut v| v.pop())
                .collect();
            all.sort_by(|a, b| a.def.id.cmp(&b.def.id));
            Ok(all)
        })
    }

    /// The current version of one downstream.
    ///
    /// # Errors
    /// As [`Ledger::downstream_versions`].
    #[allow(
        clippy::missing_panics_doc,
        reason = "never panics: a registered downstream has at least one version"
    )]
    pub fn downstream(&self, id: &str) -> Result<Downstream> {
        self.downstream_versions(id)
            .map(|mut v| v.pop().expect("a registered downstream has a version"))
    }

    /// Every version of one downstream, in order.
    ///
    /// # Errors
    /// The [id errors](crate#errors) for `id`;
    /// [`NotFound`](crate::ErrorKind::NotFound) when it is not registered (the message
    /// lists those that are); the [ledger's errors](crate#errors).
    pub fn downstream_versions(&self, id: &str) -> Result<Vec<Downstream>> {
        check_id("downstream id", id)?;
        self.read(None, |inner, _| {
            Ok(inner.downstream_registry(None)?.versions(id)?.to_vec())
        })
    }

    /// Every acknowledgement by one downstream, in log order.
    ///
    /// # Errors
    /// As [`Ledger::downstream_versions`].
    pub fn acknowledgements(&self, id: &str) -> Result<Vec<Acknowledgement>> {
        check_id("downstream id", id)?;
        self.read(None, |inner, _| {
            let reg = inner.downstream_registry(None)?;
            reg.versions(id)?;
            Ok(reg
                .acks
                .into_iter()
                .filter(|a| a.downstream == id)
                .collect())
        })
    }

    /// Records that a downstream acted on the events of its feed up to a seq, or on
    /// one event.
    ///
    /// # Errors
    /// Refused, with nothing written:
    /// - [`NotFound`](crate::ErrorKind::NotFound): an unknown downstream or event;
    /// - [`InvalidArgument`](crate::ErrorKind::InvalidArgument): the
    ///   [id errors](crate#errors) for the downstream id, a `recorded_by` that does not
    ///   read back as itself, an `up_to` beyond the log, an event its feed never showed;
    /// - the [ledger's and write errors](crate#errors).
    pub fn acknowledge(
        &self,
        downstream: &str,
        ack: Ack,
        recorded_by: Actor,
    ) -> Result<Acknowledgement> {
        check_id("downstream id", downstream)?;
        check_actor(&recorded_by)?;
        self.write(None, |inner, now| {
            let reg = inner.downstream_registry(None)?;
            let versions = reg.versions(downstream)?;
            let size = inner.store.size()?;
            let (up_to, target) = match ack {
                Ack::UpTo(n) => {
                    if n >= size {
                        return Err(Error::invalid(format!(
                            "up_to {n} is beyond the log: its last event is {}",
                            size.saturating_sub(1)
                        )));
                    }
                    (Some(n), None)
                }
                Ack::Event(id) => {
                    let e = inner
                        .store
                        .event(id)?
                        .ok_or_else(|| Error::NotFound(format!("event {id}")))?;
                    if inner.feed_item(versions, &e)?.is_none() {
                        return Err(Error::invalid(format!(
                            "event {id} (seq {}) was never in the feed of downstream `{downstream}`",
                            e.seq
                        )));
                    }
                    (None, Some(id))
                }
            };
            let details = serde_json::to_string(&StoredAck {
                downstream: downstream.to_string(),
                up_to,
            })
            .map_err(|e| Error::invalid(e.to_string()))?;
            let mut row = RawRow {
                kind: EventKind::DownstreamAcknowledged.as_str().into(),
                details: Some(details),
                target: target.map(|t| t.as_bytes().to_vec()),
                ..inner.blank_row(now)
            };
            row.recorded_by = recorded_by.to_string();
            let id = Uuid::from_slice(&row.id).map_err(|e| Error::Corrupt(e.to_string()))?;
            let seq = inner.store.append(&mut row)?;
            Ok(Acknowledgement {
                downstream: downstream.to_string(),
                seq,
                id,
                up_to,
                target,
                recorded_at: now,
                recorded_by,
            })
        })
    }

    /// A page of a downstream's feed: at most `limit` items from seq `since` on —
    /// by default right after its highest acknowledged `up_to` (the cursor kept in the
    /// ledger), else from the start of the log. Only the subject events its version in
    /// force shows, and erasure items listing the erased seqs of its feed.
    ///
    /// # Errors
    /// [`InvalidArgument`](crate::ErrorKind::InvalidArgument): the
    /// [id errors](crate#errors) for `downstream`, a `limit` of 0, a `since` beyond the
    /// log; [`NotFound`](crate::ErrorKind::NotFound) for a downstream not registered;
    /// the [ledger's errors](crate#errors).
    pub fn feed(&self, downstream: &str, since: Option<u64>, limit: usize) -> Result<Feed> {
        check_id("downstream id", downstream)?;
        check_limit(limit)?;
        self.read(None, |inner, _| inner.feed(downstream, since, limit))
    }

    /// [`Ledger::feed`], waiting at most `wait` for an item when there is none yet
    /// (`tail -f`): it looks at the log's size with a growing pause (up to half a
    /// second) and reads again when the log has grown. Returns an empty page when the
    /// wait ends without one.
    ///
    /// # Errors
    /// As [`Ledger::feed`].
    pub fn feed_wait(
        &self,
        downstream: &str,
        since: Option<u64>,
        limit: usize,
        wait: Duration,
    ) -> Result<Feed> {
        check_limit(limit)?;
        let end = Instant::now() + wait;
        let mut page = self.feed(downstream, since, limit)?;
        let mut pause = Duration::from_millis(10);
        while page.items.is_empty() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(page);
            }
            std::thread::sleep(pause.min(left));
            pause = (pause * 2).min(MAX_POLL);
            if self.read(None, |inner, _| inner.store.size())? > page.next {
                page = self.feed(downstream, Some(page.next), limit)?;
            }
        }
        Ok(page)
    }

    /// Every deadline of every downstream's feed as known at `at` (now when `None`):
    /// the withdrawals, revocations and objections appended after the downstream's
    /// first registration, with where each stands, by downstream then seq.
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn deadlines(&self, at: Option<Timestamp>) -> Result<Vec<Deadline>> {
        self.read(None, |inner, now| inner.deadlines(at.unwrap_or(now), at))
    }

    /// The deadlines passed without an acknowledgement ([`DeadlineState::Overdue`]).
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn overdue(&self, at: Option<Timestamp>) -> Result<Vec<Deadline>> {
        Ok(self
            .deadlines(at)?
            .into_iter()
            .filter(|d| d.state == DeadlineState::Overdue)
            .collect())
    }

    /// The deadlines not passed and not acknowledged ([`DeadlineState::Pending`]).
    ///
    /// # Errors
    /// The [ledger's errors](crate#errors).
    pub fn pending(&self, at: Option<Timestamp>) -> Result<Vec<Deadline>> {
        Ok(self
            .deadlines(at)?
            .into_iter()
            .filter(|d| d.state == DeadlineState::Pending)
            .collect())
    }
}

/// When a downstream must have acted on an event ending consent: max(effective,
/// recorded) + the effect delay as recorded, i.e. the effect deadline moved by how late
/// the event was entered (docs/FORMAT.md §13 "Deadlines"). `None` for other events.
fn act_by(e: &Event) -> Option<Timestamp> {
    let entered_late = e.recorded_at.as_millis() - e.effective_at.as_millis();
    e.effect_deadline
        .map(|legal| legal.saturating_add_millis(entered_late.max(0)))
}

/// A page holds at least one item: a limit of 0 would only ever wait for nothing.
fn check_limit(limit: usize) -> Result<()> {
    if limit == 0 {
        return Err(Error::invalid("a feed's limit must be at least 1"));
    }
    Ok(())
}

/// Registrations and acknowledgements are recorded by staff or a system, never "the
/// subject": they are about no subject.
fn check_actor(a: &Actor) -> Result<()> {
    if a.kind == ActorKind::Subject {
        return Err(Error::invalid(
            "a downstream's registration or acknowledgement is recorded by staff:ID or system:ID",
        ));
    }
    Ok(())
}

impl Inner {
    /// The registry of downstreams as known at `known` (all when `None`).
    pub(crate) fn downstream_registry(&self, known: Option<Timestamp>) -> Result<Registry> {
        Registry::from_rows(&self.store.downstream_rows()?, known)
    }

    /// The item `e` is in the feed of the downstream with these versions, if any: a
    /// subject event it shows, or an erasure listing events it showed.
    fn feed_item(&self, versions: &[Downstream], e: &Event) -> Result<Option<FeedItem>> {
        if e.kind == EventKind::SubjectErased {
            let listed: Vec<u64> = e
                .details
                .as_ref()
                .and_then(|d| d.get("erased_seqs"))
                .and_then(|v| v.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_u64()).collect())
                .unwrap_or_default();
            let mut mine = Vec::new();
            for seq in listed {
                if let Some(row) = self.store.raw_event_at(seq)? {
                    if shows(&self.store, versions, &row.to_event()?)? {
                        mine.push(seq);
                    }
                }
            }
            if mine.is_empty() {
                return Ok(None);
            }
            let mut item = FeedItem::of(e);
            item.erased = true;
            item.erased_seqs = mine;
            return Ok(Some(item));
        }
        Ok(shows(&self.store, versions, e)?.then(|| FeedItem::of(e)))
    }

    fn feed(&self, downstream: &str, since: Option<u64>, limit: usize) -> Result<Feed> {
        let reg = self.downstream_registry(None)?;
        let versions = reg.versions(downstream)?;
        let size = self.store.size()?;
        let since = match since {
            Some(s) if s > size => {
                return Err(Error::invalid(format!(
                    "since {s} is beyond the log ({size} events)"
                )))
            }
            Some(s) => s,
            None => reg.cursor(downstream).map_or(0, |n| n + 1),
        };
        let mut items = Vec::new();
        let mut next = since;
        'read: while items.len() < limit && next < size {
            let chunk = self.store.events_since(next, FEED_CHUNK)?;
            if chunk.is_empty() {
                break;
            }
            for e in &chunk {
                if e.seq >= size {
                    break 'read;
                }
                next = e.seq + 1;
                if let Some(item) = self.feed_item(versions, e)? {
                    items.push(item);
                    if items.len() == limit {
                        break 'read;
                    }
                }
            }
        }
        Ok(Feed {
            downstream: downstream.to_string(),
            since,
            next,
            size,
            items,
        })
    }

    pub(crate) fn deadlines(
        &self,
        now: Timestamp,
        known: Option<Timestamp>,
    ) -> Result<Vec<Deadline>> {
        let reg = self.downstream_registry(known)?;
        let Some(from) = reg
            .versions
            .values()
            .filter_map(|v| v.first())
            .map(|d| d.first_seq)
            .min()
        else {
            return Ok(Vec::new());
        };
        let events: Vec<Event> = self
            .store
            .deadline_events_after(from)?
            .into_iter()
            .filter(|e| known.is_none_or(|k| e.recorded_at <= k))
            .collect();
        let mut ids: Vec<&String> = reg.versions.keys().collect();
        ids.sort();
        let mut out = Vec::new();
        for id in ids {
            let versions = &reg.versions[id];
            let first = versions[0].first_seq;
            let acks: Vec<&Acknowledgement> =
                reg.acks.iter().filter(|a| &a.downstream == id).collect();
            // The first acknowledgement of each target (acks are in log order).
            let mut first_by_target: HashMap<Uuid, &Acknowledgement> = HashMap::new();
            for a in &acks {
                if let Some(t) = a.target {
                    first_by_target.entry(t).or_insert(a);
                }
            }
            // The highest `up_to` among the acknowledgements up to each one, to find
            // the first that covers a seq with a binary search.
            let mut reach = Vec::with_capacity(acks.len());
            let mut best: Option<u64> = None;
            for a in &acks {
                best = best.max(a.up_to);
                reach.push(best);
            }
            for e in events.iter().filter(|e| e.seq > first) {
                let Some(deadline) = act_by(e) else {
                    continue;
                };
                if !shows(&self.store, versions, e)? {
                    continue;
                }
                let by_range = reach.partition_point(|r| r.is_none_or(|r| r < e.seq));
                let by_range = acks.get(by_range).copied();
                let by_target = first_by_target.get(&e.id).copied();
                let ack = match (by_range, by_target) {
                    (Some(a), Some(b)) => Some(if a.seq <= b.seq { a } else { b }),
                    (a, b) => a.or(b),
                };
                let late = |t: Timestamp| {
                    let ms = t.as_millis() - deadline.as_millis();
                    (ms > 0).then_some(ms as u64 / 1000)
                };
                let (state, late_by_secs) = match ack {
                    Some(a) if a.recorded_at > deadline => {
                        (DeadlineState::AcknowledgedLate, late(a.recorded_at))
                    }
                    Some(_) => (DeadlineState::Acknowledged, None),
                    None if now > deadline => (DeadlineState::Overdue, late(now)),
                    None => (DeadlineState::Pending, None),
                };
                out.push(Deadline {
                    downstream: id.clone(),
                    seq: e.seq,
                    event_id: e.id,
                    kind: e.kind,
                    purpose: e.purpose.clone().unwrap_or_default(),
                    recipient: e.recipient.clone(),
                    deadline,
                    state,
                    acknowledged_seq: ack.map(|a| a.seq),
                    acknowledged_at: ack.map(|a| a.recorded_at),
                    late_by_secs,
                });
            }
        }
        Ok(out)
    }
}
