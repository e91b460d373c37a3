//! Receipt fixtures: a ledger with a grant, the log's and a witness's keys, signed
//! checkpoints, and edits of a receipt's JSON.
#![allow(dead_code)]

use consent_core::receipt::{self, Layout};
use consent_core::*;
use consent_note::{Checkpoint, SignatureType, SigningKey};
use serde_json::Value;

use super::*;

pub const ORIGIN: &str = "ljmu.ac.uk/consent";

pub fn log_key() -> SigningKey {
    SigningKey::from_seed(ORIGIN, SignatureType::Ed25519, &[7; 32]).unwrap()
}

pub fn witness_key(name: &str, seed: u8) -> SigningKey {
    SigningKey::from_seed(name, SignatureType::CosignatureV1, &[seed; 32]).unwrap()
}

/// A note for the ledger's current head, signed by `key` and cosigned by `witnesses`.
pub fn note_of(head: Head, key: &SigningKey, witnesses: &[&SigningKey]) -> String {
    signed(
        Checkpoint {
            origin: ORIGIN.into(),
            size: head.size,
            root: head.root,
            extensions: vec![],
        },
        key,
        witnesses,
    )
}

pub fn signed(c: Checkpoint, key: &SigningKey, witnesses: &[&SigningKey]) -> String {
    let mut note = c.sign(key).unwrap();
    for (i, w) in witnesses.iter().enumerate() {
        note.add_signature(w.cosign(&c, 1_736_521_200 + i as u64).unwrap())
            .unwrap();
    }
    note.to_string()
}

pub struct Fixture {
    pub ledger: Ledger,
    pub event: uuid::Uuid,
    pub dpo: SigningKey,
}

/// A grant for special-category data, with later events after it, a checkpoint
/// cosigned by the DPO's office.
pub fn fixture() -> Fixture {
    let (ledger, clock) = ledger_at("2025-01-10T15:00:00Z");
    let event = ledger
        .append(
            give("770001", "mobility.health")
                .explicit(true)
                .method(Method::WebForm),
        )
        .unwrap()
        .id;
    clock.set("2025-01-11T09:00:00Z");
    ledger
        .append(give("770002", "jmsu.marketing").source_id("form-12"))
        .unwrap();
    Fixture {
        ledger,
        event,
        dpo: witness_key("dpo.ljmu.ac.uk/witness", 9),
    }
}

impl Fixture {
    pub fn note(&self) -> String {
        note_of(self.ledger.head().unwrap(), &log_key(), &[&self.dpo])
    }
    pub fn receipt(&self, layout: Layout) -> String {
        self.ledger
            .receipt(self.event, &self.note(), layout)
            .unwrap()
            .to_json()
    }
    pub fn check(&self, json: &str) -> Result<receipt::CheckedReceipt> {
        receipt::check(
            json,
            &log_key().verifier_key(),
            &[self.dpo.verifier_key()],
            1,
        )
    }
    pub fn refused(&self, json: &str, why: &str) -> String {
        match self.check(json) {
            Ok(_) => panic!("{why}: the receipt checked out"),
            Err(e) => {
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::ReceiptRejected | ErrorKind::InvalidArgument
                    ),
                    "{why}: {e}"
                );
                e.to_string()
            }
        }
    }
}

impl Fixture {
    pub fn note_for(&self, head: Head) -> String {
        note_of(head, &log_key(), &[&self.dpo])
    }
}

pub fn edit(json: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(json).unwrap();
    f(&mut v);
    serde_json::to_string_pretty(&v).unwrap()
}
