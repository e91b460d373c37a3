//! What a receipt's four entries prove once their inclusion is checked: decoded, and
//! bound to one another (the purpose definition is the one of the event's purpose and
//! version, the notice the one it names, the configuration the ledger's).
//!
//! Pure: the builder and the checker both go through [`Facts::bind`], so a receipt the
//! builder writes is a receipt the checker reads the same way. Every reason returned is
//! about the receipt, never about a subject id (errors end up in logs).

use serde_json::Value;
use uuid::Uuid;

use super::{Receipt, Subject};
use crate::canonical::{self, CanonicalEvent};
use crate::event::EventKind;
use crate::notice::NoticeDef;
use crate::purpose::PurposeDef;
use crate::timestamp::Timestamp;

/// The time zone of a ledger whose configuration names none (docs/FORMAT.md §4.1).
const DEFAULT_TIME_ZONE: &str = "Europe/London";

/// The proved content of a receipt, decoded and bound.
pub(crate) struct Facts<'a> {
    /// The event's canonical fields.
    pub event: CanonicalEvent<'a>,
    /// Its id.
    pub id: Uuid,
    /// Its kind (a subject event).
    pub kind: EventKind,
    /// Its sequence number (the leaf index).
    pub seq: u64,
    /// Event time, record time, expiry and downstream deadline.
    pub effective_at: Timestamp,
    pub recorded_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub effect_deadline: Option<Timestamp>,
    /// The event's `details`, parsed (`None` when absent).
    pub details: Option<Value>,
    /// For `invalidated`: the grant it targets.
    pub target: Option<Uuid>,
    /// The purpose definition and its version and seq.
    pub purpose: PurposeDef,
    pub purpose_version: u32,
    pub purpose_seq: u64,
    /// The notice definition and its seq, when the event names a notice.
    pub notice: Option<(NoticeDef, u64)>,
    /// Whether the ledger's clock is simulated, its time zone, its configuration's seq.
    pub simulated: bool,
    pub time_zone: String,
    pub configuration_seq: u64,
    /// The personal fields, checked against the digest.
    pub subject: Option<&'a Subject>,
}

fn seq_of(e: &CanonicalEvent<'_>, what: &str) -> Result<u64, String> {
    u64::try_from(e.seq).map_err(|_| format!("the {what}'s sequence number is negative"))
}

fn time(ms: i64, what: &str) -> Result<Timestamp, String> {
    Timestamp::from_millis(ms)
        .map_err(|_| format!("the event's {what} is outside the years 1..9999"))
}

fn decode<'a>(bytes: &'a [u8], what: &str) -> Result<CanonicalEvent<'a>, String> {
    canonical::decode(bytes).map_err(|e| format!("the {what}: {e}"))
}

fn kind_of(e: &CanonicalEvent<'_>, what: &str, want: EventKind) -> Result<(), String> {
    if e.kind != want.as_str() {
        return Err(format!(
            "the {what} is a `{}` event, not `{want}`",
            e.kind.chars().take(40).collect::<String>()
        ));
    }
    Ok(())
}

impl<'a> Facts<'a> {
    /// Decodes the receipt's entries and binds them. The inclusion proofs are the
    /// caller's to check (the builder made them from the ledger, the checker verifies
    /// them before this).
    pub(crate) fn bind(r: &'a Receipt) -> Result<Facts<'a>, String> {
        let event = decode(&r.event.canonical, "event")?;
        let seq = seq_of(&event, "event")?;
        let kind: EventKind = event
            .kind
            .parse()
            .map_err(|_| "the event's kind is unknown".to_string())?;
        if !kind.is_subject_event() {
            return Err(format!(
                "the event is a `{kind}` event, not a consent decision"
            ));
        }
        let id = Uuid::from_slice(event.id).map_err(|_| "the event's id is not a UUID")?;
        let target = event
            .target
            .map(Uuid::from_slice)
            .transpose()
            .map_err(|_| "the event's target is not a UUID")?;
        let details = event
            .details
            .map(serde_json::from_str::<Value>)
            .transpose()
            .map_err(|_| "the event's details are not JSON")?;

        let (purpose, purpose_version, purpose_seq) = bind_purpose(r, &event, seq)?;
        let notice = bind_notice(r, &event, seq)?;
        let (simulated, time_zone, configuration_seq) = bind_configuration(r, &event, seq)?;
        let subject = bind_subject(r.subject.as_ref(), &event)?;
        Ok(Facts {
            id,
            kind,
            seq,
            effective_at: time(event.effective_at, "time")?,
            recorded_at: time(event.recorded_at, "record time")?,
            expires_at: event.expires_at.map(|t| time(t, "expiry")).transpose()?,
            effect_deadline: event
                .effect_deadline
                .map(|t| time(t, "downstream deadline"))
                .transpose()?,
            details,
            target,
            purpose,
            purpose_version,
            purpose_seq,
            notice,
            simulated,
            time_zone,
            configuration_seq,
            subject,
            event,
        })
    }
}

/// The purpose entry must be the `purpose_defined` event of the event's purpose id and
/// version, recorded before it, with a definition of that id.
fn bind_purpose(
    r: &Receipt,
    event: &CanonicalEvent<'_>,
    seq: u64,
) -> Result<(PurposeDef, u32, u64), String> {
    let p = decode(&r.purpose.canonical, "purpose definition")?;
    kind_of(&p, "purpose definition", EventKind::PurposeDefined)?;
    let (Some(id), Some(version)) = (event.purpose, event.purpose_version) else {
        return Err("the event names no purpose and version".into());
    };
    if p.purpose != Some(id) || p.purpose_version != Some(version) {
        return Err(
            "the purpose definition is not the one of the event's purpose and version".into(),
        );
    }
    let p_seq = seq_of(&p, "purpose definition")?;
    if p_seq >= seq {
        return Err("the purpose definition comes after the event in the log".into());
    }
    let def: PurposeDef = p
        .details
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or("the purpose definition's details are not a purpose definition")?;
    if def.id != id {
        return Err("the purpose definition defines another purpose".into());
    }
    let version = u32::try_from(version).map_err(|_| "the purpose version is out of range")?;
    Ok((def, version, p_seq))
}

/// The notice entry must be present exactly when the event names a notice, and be the
/// `notice_defined` event of that id and version whose text hash is the event's.
fn bind_notice(
    r: &Receipt,
    event: &CanonicalEvent<'_>,
    seq: u64,
) -> Result<Option<(NoticeDef, u64)>, String> {
    let named = (event.notice_id, event.notice_version, event.notice_sha256);
    let entry = match (&r.notice, named) {
        (None, (None, None, None)) => return Ok(None),
        (Some(_), (None, None, None)) => {
            return Err("the receipt carries a notice, but the event names none".into())
        }
        (None, _) => return Err("the event names a notice the receipt does not carry".into()),
        (Some(entry), _) => entry,
    };
    let (Some(id), Some(version), Some(sha)) = named else {
        return Err("the event names its notice only in part".into());
    };
    let n = decode(&entry.canonical, "notice definition")?;
    kind_of(&n, "notice definition", EventKind::NoticeDefined)?;
    if n.notice_id != Some(id) || n.notice_version != Some(version) {
        return Err(
            "the notice definition is not the one of the event's notice and version".into(),
        );
    }
    if n.notice_sha256 != Some(sha) {
        return Err("the notice definition's text hash is not the event's".into());
    }
    let n_seq = seq_of(&n, "notice definition")?;
    if n_seq >= seq {
        return Err("the notice definition comes after the event in the log".into());
    }
    let def: NoticeDef = n
        .details
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or("the notice definition's details are not a notice definition")?;
    if def.id != id || def.version != version || def.sha256[..] != *sha {
        return Err("the notice definition's details differ from its columns".into());
    }
    Ok(Some((def, n_seq)))
}

/// The configuration entry must be the ledger's `ledger_configured` event: event 0, or
/// for a ledger migrated from schema 1 (`migrated_from: 1`) the event after the last
/// schema-1 row (docs/FORMAT.md §4.1), so an encoding-1 event comes before it and an
/// encoding-2 event after it.
fn bind_configuration(
    r: &Receipt,
    event: &CanonicalEvent<'_>,
    seq: u64,
) -> Result<(bool, String, u64), String> {
    let c = decode(&r.configuration.canonical, "configuration")?;
    kind_of(&c, "configuration", EventKind::LedgerConfigured)?;
    let c_seq = seq_of(&c, "configuration")?;
    let details: Value = c
        .details
        .and_then(|d| serde_json::from_str(d).ok())
        .filter(Value::is_object)
        .ok_or("the configuration's details are not a JSON object")?;
    if details.get("format").and_then(Value::as_str) != Some(crate::store::FORMAT_NAME) {
        return Err("the configuration is not a consent ledger's".into());
    }
    let migrated = details.get("migrated_from").and_then(Value::as_i64) == Some(1);
    if c.version != 2 || (c_seq != 0 && !migrated) {
        return Err("the configuration is not the ledger's first event".into());
    }
    let placed = match event.version {
        1 => migrated && seq < c_seq,
        _ => seq > c_seq,
    };
    if !placed {
        return Err("the event's encoding does not fit its place beside the configuration".into());
    }
    let simulated = match details.get("clock").and_then(Value::as_str) {
        Some("system") => false,
        Some("simulated") => true,
        _ => return Err("the configuration names no clock".into()),
    };
    let time_zone = match details.get("time_zone") {
        None => DEFAULT_TIME_ZONE.to_string(),
        Some(Value::String(z)) if !z.is_empty() => z.clone(),
        Some(_) => return Err("the configuration's time zone is not a name".into()),
    };
    Ok((simulated, time_zone, c_seq))
}

/// The subject's fields must hash, with the salt, to the event's personal digest.
fn bind_subject<'a>(
    subject: Option<&'a Subject>,
    event: &CanonicalEvent<'_>,
) -> Result<Option<&'a Subject>, String> {
    let Some(s) = subject else { return Ok(None) };
    if s.salt.len() != 16 {
        return Err("the subject's salt is not 16 bytes".into());
    }
    let digest = canonical::personal_digest(
        &s.salt,
        Some(&s.id),
        s.source_id.as_deref(),
        s.evidence.as_deref(),
    );
    if event.personal_digest != Some(&digest[..]) {
        return Err(
            "the subject's id, salt and personal fields do not hash to the event's personal digest"
                .into(),
        );
    }
    Ok(Some(s))
}
