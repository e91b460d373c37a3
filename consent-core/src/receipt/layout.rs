//! The readable layouts of a receipt, and what each cannot prove.
//!
//! Both functions take only [`Facts`] — bytes whose inclusion in the signed log is
//! proved — so nothing else can reach a reader. The checker calls them again and
//! compares. So this file *is* the format of the readable part (docs/FORMAT.md §12):
//! any change to a field here makes earlier receipts fail the check, and must be a new
//! receipt format.

use serde_json::{json, Value};

use super::facts::Facts;
use super::Layout;
use crate::event::EventKind;
use crate::timestamp::Timestamp;

/// The state an event records, in the words of the old receipts.
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

fn ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// The recipients the event concerns: the one it names, else all its purpose lists.
fn recipients(f: &Facts<'_>) -> Vec<String> {
    match f.event.recipient {
        Some(r) => vec![r.to_string()],
        None => f.purpose.recipients.clone(),
    }
}

fn special(f: &Facts<'_>) -> Option<String> {
    f.purpose
        .special_category
        .map(|c| format!("Art. 9(2)({c})"))
}

fn notice(f: &Facts<'_>) -> Value {
    f.notice.as_ref().map_or(Value::Null, |(n, seq)| {
        json!({
            "id": n.id,
            "version": n.version,
            "sha256": hex::encode(n.sha256),
            "title": n.title,
            "language": n.language,
            "url": n.url,
            "controller": (!n.controller.is_empty()).then_some(&n.controller),
            "seq": seq,
        })
    })
}

/// Where the receipt's proofs lead, and what the ledger says of its own clock.
fn ledger(f: &Facts<'_>, log: &consent_note::Checkpoint) -> Value {
    json!({
        "log": log.origin,
        "checkpoint_size": log.size,
        "clock": if f.simulated { "simulated" } else { "system" },
        "time_zone": f.time_zone,
        "configuration_seq": f.configuration_seq,
    })
}

/// The readable fields of `layout`, from proved data alone.
pub(crate) fn readable(f: &Facts<'_>, log: &consent_note::Checkpoint, layout: Layout) -> Value {
    let def = &f.purpose;
    let e = &f.event;
    let recipients = recipients(f);
    let counted_from = f
        .details
        .as_ref()
        .and_then(|d| d.get("validity_from"))
        .cloned()
        .unwrap_or(Value::Null);
    match layout {
        Layout::Iso27560 => json!({
            "schema": "ISO/IEC TS 27560 consent record",
            "record_id": f.id,
            "principal": { "id": f.subject.map(|s| &s.id) },
            "controller": { "name": def.controller },
            "notice": notice(f),
            "purpose": {
                "id": def.id,
                "version": f.purpose_version,
                "title": def.title,
                "seq": f.purpose_seq,
            },
            "lawful_basis": {
                "article_6": format!("6(1)({})", def.lawful_basis.letter()),
                "description": def.lawful_basis.describe(),
                "special_category": special(f),
            },
            "explicit": e.explicit != 0,
            "collection_method": e.method,
            "recorded_by": e.recorded_by,
            "event": {
                "type": e.kind,
                "time": f.effective_at.to_string(),
                "recorded_at": f.recorded_at.to_string(),
                "seq": f.seq,
                "recipient": e.recipient,
                "target": f.target,
                "details": f.details,
            },
            "state": state_of(f.kind),
            "validity": {
                "from": f.effective_at.to_string(),
                "until": ts(f.expires_at),
                "counted_from": counted_from,
            },
            "withdrawal": {
                "method": def.withdrawal_method,
                "effect_delay_secs": def.effect_delay_secs,
            },
            "effect_deadline": ts(f.effect_deadline),
            "recipients": recipients,
            "ledger": ledger(f, log),
        }),
        Layout::Kantara => json!({
            "version": "KI-CR-v1.1.0",
            "consentTimestamp": f.effective_at.as_millis().div_euclid(1000),
            "collectionMethod": e.method,
            "consentReceiptID": f.id,
            "language": f.notice.as_ref().map(|(n, _)| &n.language),
            "piiPrincipalId": f.subject.map(|s| &s.id),
            "piiControllers": [{ "piiController": def.controller }],
            "policyUrl": f.notice.as_ref().and_then(|(n, _)| n.url.as_ref()),
            "services": [{
                "service": def.title,
                "purposes": [{
                    "purpose": def.id,
                    "purposeCategory": [def.title],
                    "consentType": if e.explicit != 0 { "EXPLICIT" } else { "IMPLICIT" },
                    "termination": match f.expires_at {
                        Some(t) => format!("lapses at {t}; or withdraw: {}", def.withdrawal_method),
                        None => format!("until withdrawn: {}", def.withdrawal_method),
                    },
                    "thirdPartyDisclosure": !recipients.is_empty(),
                    "thirdPartyName": recipients.join(", "),
                }],
            }],
            "sensitive": def.special_category.is_some(),
            "spiCat": special(f).into_iter().collect::<Vec<_>>(),
            "x-consent-ledger": {
                "event_type": e.kind,
                "state": state_of(f.kind),
                "seq": f.seq,
                "purpose_version": f.purpose_version,
                "lawful_basis": def.lawful_basis.describe(),
                "notice": notice(f),
                "recorded_at": f.recorded_at.to_string(),
                "recorded_by": e.recorded_by,
                "valid_until": ts(f.expires_at),
                "validity_counted_from": counted_from,
                "effect_deadline": ts(f.effect_deadline),
                "effect_delay_secs": def.effect_delay_secs,
                "recipient": e.recipient,
                "target": f.target,
                "details": f.details,
                "ledger": ledger(f, log),
            },
        }),
    }
}

/// What `layout` would show but the receipt cannot prove, each as `field: why`.
pub(crate) fn not_proved(f: &Facts<'_>, layout: Layout) -> Vec<String> {
    let (state_now, principal, notice_text, record_time) = match layout {
        Layout::Iso27560 => (
            "current_state",
            "principal.id",
            "notice.text",
            "event.recorded_at",
        ),
        Layout::Kantara => (
            "x-consent-ledger.current_state",
            "piiPrincipalId",
            "policyUrl (the text)",
            "x-consent-ledger.recorded_at",
        ),
    };
    let mut out = vec![format!(
        "{state_now}: the state now: a receipt proves what was recorded, not that nothing came \
         after (a later withdrawal, expiry, erasure or change of purpose); ask the controller \
         for a newer receipt"
    )];
    if f.notice.is_some() {
        out.push(format!(
            "{notice_text}: the notice's text: the receipt proves its SHA-256 only; hash the text \
             you were shown and compare"
        ));
    }
    if f.subject.is_none() {
        out.push(format!(
            "{principal}: whose event this is: the subject's personal fields were erased, so the \
             personal digest cannot be checked"
        ));
    }
    if f.simulated {
        out.push(format!(
            "{record_time}: real record times: the ledger was created with a simulated clock, so \
             its times are whatever its operator set"
        ));
    }
    if layout == Layout::Kantara {
        for (field, why) in [
            ("jurisdiction", "the ledger does not record one"),
            (
                "publicKey",
                "the log's verifier key reaches the checker separately, from a source it trusts",
            ),
            (
                "piiControllers.contact, .address, .email, .phone, .onBehalf",
                "the ledger records only the controller's name; see the privacy notice",
            ),
            (
                "services.purposes.piiCategory",
                "the ledger does not record which data are used",
            ),
            (
                "services.purposes.primaryPurpose",
                "the ledger does not record it",
            ),
        ] {
            out.push(format!("{field}: {why}"));
        }
    }
    out
}
