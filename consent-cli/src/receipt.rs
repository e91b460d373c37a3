//! Consent receipts, and checking them without the ledger.
//!
//! Both layouts carry the same `ledger_proof` object: the event's leaf hash, its
//! inclusion proof and the head it leads to. `check-receipt` needs nothing else.

use consent_core::{
    ConsistencyProof, Event, EventKind, Head, InclusionProof, Ledger, Purpose, State, Timestamp,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::cli::ReceiptFormat;
use crate::exit::{CliResult, Failure, NEEDS_PROOF, TAMPER, USAGE};

/// The proof part of every receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerProof {
    /// The head the proof leads to, `SIZE:ROOT`.
    pub head: String,
    /// Inclusion proof of the event's leaf.
    pub inclusion: InclusionProof,
    /// The event's canonical bytes (docs/FORMAT.md §3.3), hex: what the leaf hash
    /// covers. `check-receipt` decodes them and compares the receipt's readable fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_event: Option<String>,
    /// The ledger's `ledger_configured` event with its inclusion proof in the same
    /// head: proves whether the ledger's clock is the system's or simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<ConfigurationProof>,
}

/// The configuration event of the ledger a receipt comes from, proven in its head.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigurationProof {
    /// Canonical bytes of the `ledger_configured` event, hex.
    pub canonical_event: String,
    /// Its inclusion proof, in the receipt's head.
    pub inclusion: InclusionProof,
}

/// A consistency proof file, as written by `consent prove consistency`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConsistencyFile {
    /// Format marker.
    pub format: String,
    /// The earlier head.
    pub old_head: String,
    /// The head the ledger had when the proof was made.
    pub new_head: String,
    /// The proof.
    pub proof: ConsistencyProof,
}

/// Format marker of consistency proof files.
pub const CONSISTENCY_FORMAT: &str = "consent-ledger/consistency-proof/v1";

fn state_of(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Given => "active",
        EventKind::Refused => "refused",
        EventKind::Withdrawn => "withdrawn",
        EventKind::Revoked => "revoked",
        EventKind::Invalidated => "invalidated",
        EventKind::Objected => "objected",
        EventKind::ObjectionOverruled => "objection_overruled",
        _ => "n/a",
    }
}

/// Builds the receipt of `id` in `format`.
pub fn build(ledger: &Ledger, id: Uuid, format: ReceiptFormat) -> CliResult<Value> {
    let ev: Event = ledger.event(id)?;
    if !ev.kind.is_subject_event() {
        return Err(Failure::usage(format!(
            "event {id} is a `{}` event, not a consent decision",
            ev.kind
        )));
    }
    let purpose_id = ev.purpose.clone().unwrap_or_default();
    let purpose: Purpose = ledger
        .purposes()?
        .into_iter()
        .find(|p| p.def.id == purpose_id && Some(p.version) == ev.purpose_version)
        .ok_or_else(|| {
            Failure::new(
                crate::exit::NOT_FOUND,
                format!("purpose {purpose_id} of the event"),
            )
        })?;
    let notice = match &ev.notice {
        Some(r) => ledger
            .notices()?
            .into_iter()
            .find(|n| n.def.id == r.id && n.def.version == r.version),
        None => None,
    };
    // The state now, per recipient for a purpose-wide event on a purpose that lists
    // recipients (a question about such a purpose must name one).
    let listed = ledger.purpose(&purpose_id)?.def.recipients;
    let mut current_by_recipient = serde_json::Map::new();
    let current = match (&ev.subject, &ev.recipient) {
        (Some(s), None) if !listed.is_empty() => {
            let mut states = Vec::new();
            for r in &listed {
                let st = ledger.status(s, &purpose_id, Some(r))?.state;
                current_by_recipient.insert(r.clone(), json!(st));
                states.push(st);
            }
            states.dedup();
            (states.len() == 1).then(|| states[0])
        }
        // A recipient the purpose no longer lists cannot be asked about.
        (Some(_), Some(r)) if !listed.contains(r) => None,
        (Some(s), r) => Some(ledger.status(s, &purpose_id, r.as_deref())?.state),
        (None, _) => None,
    };
    let proof = ledger.prove_inclusion(id, None)?;
    let config = ledger.configuration_event()?;
    let configuration = ConfigurationProof {
        canonical_event: hex::encode(ledger.canonical_event(config.id)?),
        inclusion: ledger.prove_inclusion(config.id, Some(proof.tree_size))?,
    };
    let ledger_proof = serde_json::to_value(LedgerProof {
        head: proof.head().to_string(),
        inclusion: proof,
        canonical_event: Some(hex::encode(ledger.canonical_event(id)?)),
        configuration: Some(configuration),
    })
    .map_err(|e| Failure::usage(e.to_string()))?;
    let def = &purpose.def;
    let recipients: Vec<String> = match &ev.recipient {
        Some(r) => vec![r.clone()],
        None => def.recipients.clone(),
    };
    let special = def.special_category.map(|c| format!("Art. 9(2)({c})"));
    let withdrawal = json!({
        "method": def.withdrawal_method,
        "effect_delay_secs": def.effect_delay_secs,
    });
    let v = match format {
        ReceiptFormat::Iso27560 => json!({
            "format": "consent-ledger/receipt/iso27560/v1",
            "schema": "ISO/IEC TS 27560 consent record",
            "record_id": ev.id,
            "principal": { "id": ev.subject, "erased": ev.erased },
            "controller": { "name": def.controller },
            "notice": ev.notice.as_ref().map(|r| json!({
                "id": r.id,
                "version": r.version,
                "sha256": hex::encode(r.sha256),
                "title": notice.as_ref().map(|n| n.def.title.clone()),
                "language": notice.as_ref().map(|n| n.def.language.clone()),
                "url": notice.as_ref().and_then(|n| n.def.url.clone()),
            })),
            "purpose": {
                "id": def.id,
                "version": purpose.version,
                "title": def.title,
            },
            "lawful_basis": {
                "article_6": format!("6(1)({})", def.lawful_basis.letter()),
                "description": def.lawful_basis.describe(),
                "special_category": special,
            },
            "explicit": ev.explicit,
            "collection_method": ev.method,
            "recorded_by": ev.recorded_by,
            "event": {
                "type": ev.kind,
                "time": ev.effective_at,
                "recorded_at": ev.recorded_at,
                "seq": ev.seq,
            },
            "state": state_of(ev.kind),
            "current_state": current,
            "current_state_by_recipient": (!current_by_recipient.is_empty()).then_some(current_by_recipient),
            "validity": {
                "from": ev.effective_at,
                "until": ev.expires_at,
                "counted_from": ev.details.as_ref().and_then(|d| d.get("validity_from")),
            },
            "withdrawal": withdrawal,
            "effect_deadline": ev.effect_deadline,
            "recipients": recipients,
            "ledger_proof": ledger_proof,
        }),
        ReceiptFormat::Kantara => json!({
            "version": "KI-CR-v1.1.0",
            "jurisdiction": "UK",
            "consentTimestamp": ev.effective_at.as_millis().div_euclid(1000),
            "collectionMethod": ev.method,
            "consentReceiptID": ev.id,
            "publicKey": null,
            "language": notice.as_ref().map_or("en-GB".to_string(), |n| n.def.language.clone()),
            "piiPrincipalId": ev.subject,
            "piiControllers": [{
                "piiController": def.controller,
                "onBehalf": false,
                "contact": "see the privacy notice",
            }],
            "policyUrl": notice.as_ref().and_then(|n| n.def.url.clone()),
            "services": [{
                "service": def.title,
                "purposes": [{
                    "purpose": def.id,
                    "purposeCategory": [def.title],
                    "consentType": if ev.explicit { "EXPLICIT" } else { "IMPLICIT" },
                    "piiCategory": [],
                    "primaryPurpose": true,
                    "termination": match ev.expires_at {
                        Some(t) => format!("lapses at {t}; or withdraw: {}", def.withdrawal_method),
                        None => format!("until withdrawn: {}", def.withdrawal_method),
                    },
                    "thirdPartyDisclosure": !recipients.is_empty(),
                    "thirdPartyName": recipients.join(", "),
                }],
            }],
            "sensitive": def.special_category.is_some(),
            "spiCat": special.into_iter().collect::<Vec<_>>(),
            "x-consent-ledger": {
                "event_type": ev.kind,
                "state": state_of(ev.kind),
                "lawful_basis": def.lawful_basis.describe(),
                "notice": ev.notice.as_ref().map(|r| json!({"id": r.id, "version": r.version, "sha256": hex::encode(r.sha256)})),
                "recorded_at": ev.recorded_at,
                "recorded_by": ev.recorded_by,
                "valid_until": ev.expires_at,
            },
            "ledger_proof": ledger_proof,
        }),
    };
    Ok(v)
}

/// The outcome of `check-receipt`.
#[derive(Debug, Serialize)]
pub struct CheckOutcome {
    /// The receipt's record id.
    pub record_id: Option<String>,
    /// Leaf index (sequence number).
    pub leaf_index: u64,
    /// The receipt's head.
    pub receipt_head: String,
    /// Inclusion in the receipt's head checked.
    pub inclusion_ok: bool,
    /// The later head asked about, if any.
    pub later_head: Option<String>,
    /// Whether the later head was shown to extend the receipt's head.
    pub consistency_ok: Option<bool>,
    /// The ledger's clock as its proven `ledger_configured` event says: `system` or
    /// `simulated` (absent in receipts from before format 2).
    pub clock: Option<String>,
}

fn bad(msg: impl Into<String>) -> Failure {
    Failure::new(TAMPER, msg)
}

/// Checks the proven configuration event and returns its clock (`system`/`simulated`).
fn check_configuration(c: &ConfigurationProof, head: &Head) -> CliResult<String> {
    let bytes = hex::decode(&c.canonical_event)
        .map_err(|_| bad("the receipt's configuration event is not hex"))?;
    c.inclusion.verify(&bytes, head).map_err(|e| {
        bad(format!(
            "the receipt's configuration proof does not check out: {e}"
        ))
    })?;
    let event = consent_core::canonical::decode(&bytes).map_err(|e| bad(e.to_string()))?;
    if event.kind != "ledger_configured" {
        return Err(bad(
            "the receipt's configuration event is not `ledger_configured`",
        ));
    }
    let details: Value = event
        .details
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or_else(|| bad("the receipt's configuration event has no readable details"))?;
    match details.get("clock").and_then(Value::as_str) {
        Some(c @ ("system" | "simulated")) => Ok(c.to_string()),
        _ => Err(bad("the receipt's configuration event names no clock")),
    }
}

/// Checks a receipt file; `later` and `consistency` as given on the command line.
pub fn check(
    receipt_text: &str,
    later: Option<&str>,
    consistency: Option<&str>,
) -> CliResult<CheckOutcome> {
    let v: Value = serde_json::from_str(receipt_text)
        .map_err(|e| Failure::usage(format!("the receipt is not JSON: {e}")))?;
    let lp = v
        .get("ledger_proof")
        .ok_or_else(|| Failure::usage("the receipt has no `ledger_proof`"))?;
    let lp: LedgerProof = serde_json::from_value(lp.clone())
        .map_err(|e| bad(format!("the receipt's ledger_proof is malformed: {e}")))?;
    let head: Head = lp
        .head
        .parse()
        .map_err(|e| bad(format!("the receipt's head: {e}")))?;
    let record_id = v
        .get("record_id")
        .or_else(|| v.get("consentReceiptID"))
        .and_then(Value::as_str)
        .map(String::from);
    let canonical = lp.canonical_event.as_deref().ok_or_else(|| {
        bad("the receipt carries no canonical event: its fields cannot be checked")
    })?;
    let bytes =
        hex::decode(canonical).map_err(|_| bad("the receipt's canonical event is not hex"))?;
    if consent_core::merkle::leaf_hash(&bytes) != lp.inclusion.leaf_hash {
        return Err(bad(
            "the receipt's canonical event does not hash to its leaf",
        ));
    }
    // The proof is checked for exactly these bytes: its leaf index must be their seq.
    lp.inclusion.verify(&bytes, &head).map_err(|e| {
        bad(format!(
            "the receipt's inclusion proof does not check out: {e}"
        ))
    })?;
    let event = consent_core::canonical::decode(&bytes).map_err(|e| bad(e.to_string()))?;
    check_fields(&v, &event)?;
    let clock = lp
        .configuration
        .as_ref()
        .map(|c| check_configuration(c, &head))
        .transpose()?;
    let mut out = CheckOutcome {
        record_id,
        leaf_index: lp.inclusion.leaf_index,
        receipt_head: head.to_string(),
        inclusion_ok: true,
        later_head: None,
        consistency_ok: None,
        clock,
    };
    let Some(later) = later else { return Ok(out) };
    let later: Head = later
        .parse()
        .map_err(|e: consent_core::Error| Failure::new(USAGE, format!("--head: {e}")))?;
    out.later_head = Some(later.to_string());
    if later == head {
        out.consistency_ok = Some(true);
        return Ok(out);
    }
    if later.size < head.size {
        return Err(bad(format!(
            "--head has {} events, fewer than the receipt's {}: the receipt is not covered by it",
            later.size, head.size
        )));
    }
    if later.size == head.size {
        return Err(bad(
            "--head has the receipt's size but another root: the log was rewritten",
        ));
    }
    let Some(text) = consistency else {
        return Err(Failure::new(
            NEEDS_PROOF,
            format!(
                "the receipt proves inclusion at {head}; to check it against the later head {later}, \
                 ask the ledger's keeper for `consent prove consistency {head}` and pass it with --consistency"
            ),
        ));
    };
    let file: ConsistencyFile = serde_json::from_str(text)
        .map_err(|e| Failure::usage(format!("consistency proof file: {e}")))?;
    let old: Head = file
        .old_head
        .parse()
        .map_err(|e| bad(format!("consistency proof old head: {e}")))?;
    let new: Head = file
        .new_head
        .parse()
        .map_err(|e| bad(format!("consistency proof new head: {e}")))?;
    if old != head {
        return Err(bad(format!(
            "the consistency proof starts from {old}, not the receipt's head {head}"
        )));
    }
    if new != later {
        return Err(bad(format!(
            "the consistency proof leads to {new}, not to --head {later}"
        )));
    }
    file.proof
        .verify(&old, &new)
        .map_err(|e| bad(format!("the consistency proof does not check out: {e}")))?;
    out.consistency_ok = Some(true);
    Ok(out)
}

/// Compares the receipt's readable fields with the event its leaf hash covers, so an
/// edited receipt (another purpose, time or state) is rejected.
fn check_fields(v: &Value, e: &consent_core::canonical::CanonicalEvent<'_>) -> CliResult<()> {
    let ts = |ms: i64| Timestamp::from_millis(ms).map(|t| t.to_string()).ok();
    let id = Uuid::from_slice(e.id)
        .map_err(|_| bad("the canonical event's id is not a UUID"))?
        .to_string();
    let kind: EventKind = e
        .kind
        .parse()
        .map_err(|_| bad("the canonical event's kind is unknown"))?;
    let checks: Vec<(&str, Value)> = if v.get("record_id").is_some() {
        vec![
            ("/record_id", json!(id)),
            ("/event/type", json!(e.kind)),
            ("/event/seq", json!(e.seq)),
            ("/event/time", json!(ts(e.effective_at))),
            ("/event/recorded_at", json!(ts(e.recorded_at))),
            ("/state", json!(state_of(kind))),
            ("/purpose/id", json!(e.purpose)),
            ("/purpose/version", json!(e.purpose_version)),
            ("/explicit", json!(e.explicit != 0)),
            ("/collection_method", json!(e.method)),
            ("/recorded_by", json!(e.recorded_by)),
            ("/validity/from", json!(ts(e.effective_at))),
            ("/validity/until", json!(e.expires_at.and_then(ts))),
            ("/effect_deadline", json!(e.effect_deadline.and_then(ts))),
            ("/notice/id", json!(e.notice_id)),
            ("/notice/version", json!(e.notice_version)),
            ("/notice/sha256", json!(e.notice_sha256.map(hex::encode))),
        ]
    } else {
        vec![
            ("/consentReceiptID", json!(id)),
            ("/consentTimestamp", json!(e.effective_at.div_euclid(1000))),
            ("/collectionMethod", json!(e.method)),
            ("/services/0/purposes/0/purpose", json!(e.purpose)),
            ("/x-consent-ledger/event_type", json!(e.kind)),
            ("/x-consent-ledger/state", json!(state_of(kind))),
            ("/x-consent-ledger/recorded_at", json!(ts(e.recorded_at))),
            ("/x-consent-ledger/recorded_by", json!(e.recorded_by)),
            (
                "/x-consent-ledger/valid_until",
                json!(e.expires_at.and_then(ts)),
            ),
            (
                "/x-consent-ledger/notice/sha256",
                json!(e.notice_sha256.map(hex::encode)),
            ),
        ]
    };
    for (pointer, want) in checks {
        let got = v.pointer(pointer).cloned().unwrap_or(Value::Null);
        if got != want {
            return Err(bad(format!(
                "the receipt's `{pointer}` is {got}, but the event its proof covers says {want}"
            )));
        }
    }
    Ok(())
}

/// State shown for people.
pub fn describe_state(s: State) -> &'static str {
    match s {
        State::Given => "consent in force: processing may go ahead",
        State::Refused => "refused: do not process",
        State::Withdrawn => "withdrawn: stop processing (earlier use stays lawful)",
        State::Revoked => "revoked by the controller: do not rely on it",
        State::Invalidated => "invalidated: the grant was never valid",
        State::Expired => "expired: the grant has lapsed",
        State::Objected => "objected: the subject objected to this processing",
        State::NeverAsked => "never asked: no decision on record",
        State::NotConsentBased => "not consent-based: see the lawful basis",
        State::NeedsRenewal => {
            "needs renewal: the purpose changed materially since the grant; ask again before processing"
        }
        State::Erased => "erased: the subject's records were erased",
    }
}
