//! Consent receipts (version 2, docs/FORMAT.md §12) on the command line: made from a
//! signed checkpoint, checked with nothing but the verifier keys. The receipt itself
//! is consent-core's ([`consent_core::receipt`]); this file reads the files and keys
//! a person names, and adds the check against a later head.

use std::path::Path;

use consent_core::receipt::{self, CheckedReceipt, Layout};
use consent_core::{ConsistencyProof, Head, Ledger};
use consent_note::{Checkpoint, SignatureType, SigningKey, VerifierKey};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cli::ReceiptFormat;
use crate::exit::{CliResult, Failure, NEEDS_PROOF, NOT_FOUND, TAMPER};

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

fn read(p: &Path) -> CliResult<String> {
    std::fs::read_to_string(p)
        .map_err(|e| Failure::new(NOT_FOUND, format!("cannot read {}: {e}", p.display())))
}

/// Where the checkpoint of a new receipt comes from.
pub enum CheckpointSource<'a> {
    /// A signed note in a file (as the ledger's keeper or a witness published it).
    File(&'a Path),
    /// Sign the current head now with the log's private key file (testing, demos).
    SignWith(&'a Path),
    /// The latest checkpoint the ledger signed, with the cosignatures merged into it.
    Latest,
}

/// Signs the ledger's current head with the private key in `key_file` (a consent-note
/// private key string, an Ed25519 log key): origin = the key's name.
fn sign_head(ledger: &Ledger, key_file: &Path) -> CliResult<String> {
    let text = read(key_file)?;
    let key = SigningKey::from_private_key(text.trim_end_matches('\n'))
        .map_err(|e| Failure::usage(format!("{}: {e}", key_file.display())))?;
    if key.kind() != SignatureType::Ed25519 {
        return Err(Failure::usage(format!(
            "{}: a log key signs with Ed25519; this is a {:?} key",
            key_file.display(),
            key.kind()
        )));
    }
    let head = ledger.head()?;
    let checkpoint = Checkpoint {
        origin: key.name().to_string(),
        size: head.size,
        root: head.root,
        extensions: vec![],
    };
    let note = checkpoint
        .sign(&key)
        .map_err(|e| Failure::usage(format!("cannot sign the head: {e}")))?;
    Ok(note.to_string())
}

/// Builds the receipt of `id` in `format` and returns its JSON.
pub fn build(
    ledger: &Ledger,
    id: Uuid,
    format: ReceiptFormat,
    source: CheckpointSource<'_>,
) -> CliResult<String> {
    let note = match source {
        CheckpointSource::File(p) => read(p)?,
        CheckpointSource::SignWith(k) => sign_head(ledger, k)?,
        CheckpointSource::Latest => {
            ledger
                .latest_checkpoint()?
                .ok_or_else(|| {
                    Failure::new(
                        NOT_FOUND,
                        "--checkpoint latest: the ledger has signed no checkpoint yet; sign one with \
                         `consent checkpoint --key LOG_KEY_FILE`, have witnesses cosign it (`consent witness \
                         cosign`, then `consent checkpoint add-cosignatures`), or pass a note file",
                    )
                })?
                .note
        }
    };
    let layout = match format {
        ReceiptFormat::Iso27560 => Layout::Iso27560,
        ReceiptFormat::Kantara => Layout::Kantara,
    };
    Ok(ledger.receipt(id, &note, layout)?.to_json())
}

/// The outcome of `check-receipt`, for `--json`.
#[derive(Debug, Serialize)]
pub struct CheckOutcome {
    /// The event's id.
    pub event_id: Uuid,
    /// Its kind.
    pub kind: String,
    /// Its position in the log.
    pub seq: u64,
    /// The checkpoint's head, `SIZE:ROOT`.
    pub receipt_head: String,
    /// The log (checkpoint origin).
    pub log: String,
    /// Witnesses whose cosignatures verified, with the time each states.
    pub cosigned_by: Vec<(String, Option<u64>)>,
    /// Whether the subject's id was checked against the personal digest.
    pub subject_checked: bool,
    /// The ledger proves its clock is simulated.
    pub simulated: bool,
    /// What the receipt proves, in plain words.
    pub proved: Vec<String>,
    /// What it does not prove.
    pub not_proved: Vec<String>,
    /// The later head asked about, if any.
    pub later_head: Option<String>,
    /// Whether the later head was shown to extend the receipt's.
    pub consistency_ok: Option<bool>,
}

/// A verifier key given on the command line: the vkey string itself, or a file that
/// holds it. Surrounding white space is dropped (`--log-key "$(consent key show F)"`
/// carries the newline `key` prints).
pub fn verifier_key(what: &str, text: &str) -> CliResult<VerifierKey> {
    let direct = text.trim().parse::<VerifierKey>();
    let from_file = || {
        let content = std::fs::read_to_string(text).ok()?;
        content.trim().parse::<VerifierKey>().ok()
    };
    match direct {
        Ok(k) => Ok(k),
        Err(e) => from_file().ok_or_else(|| {
            Failure::usage(format!(
                "{what}: not a verifier key ({e}), nor a file holding one"
            ))
        }),
    }
}

/// Checks a receipt with the log key and witness keys (`quorum` cosignatures needed);
/// `later` and `consistency` as given on the command line.
pub fn check(
    receipt_text: &str,
    log_key: &VerifierKey,
    witnesses: &[VerifierKey],
    quorum: usize,
    later: Option<&Head>,
    consistency: Option<&str>,
) -> CliResult<CheckOutcome> {
    let c: CheckedReceipt = receipt::check(receipt_text, log_key, witnesses, quorum)?;
    let head = Head {
        size: c.checkpoint.size,
        root: c.checkpoint.root,
    };
    let mut out = CheckOutcome {
        event_id: c.event_id,
        kind: c.kind.to_string(),
        seq: c.seq,
        receipt_head: head.to_string(),
        log: c.checkpoint.origin.clone(),
        cosigned_by: c
            .cosignatures
            .iter()
            .map(|s| (s.name.clone(), s.timestamp))
            .collect(),
        subject_checked: c.subject_checked,
        simulated: c.simulated,
        proved: c.proved,
        not_proved: c.not_proved,
        later_head: None,
        consistency_ok: None,
    };
    let Some(later) = later else { return Ok(out) };
    out.later_head = Some(later.to_string());
    check_later(&head, later, consistency)?;
    out.consistency_ok = Some(true);
    Ok(out)
}

fn bad(msg: impl Into<String>) -> Failure {
    Failure::new(TAMPER, msg)
}

/// Checks that `later` extends the receipt's head, with the consistency proof file.
fn check_later(head: &Head, later: &Head, consistency: Option<&str>) -> CliResult {
    if later == head {
        return Ok(());
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
    let parse = |h: &str, what: &str| {
        h.parse::<Head>()
            .map_err(|e| bad(format!("consistency proof {what}: {e}")))
    };
    let (old, new) = (
        parse(&file.old_head, "old head")?,
        parse(&file.new_head, "new head")?,
    );
    if old != *head {
        return Err(bad(format!(
            "the consistency proof starts from {old}, not the receipt's head {head}"
        )));
    }
    if new != *later {
        return Err(bad(format!(
            "the consistency proof leads to {new}, not to --head {later}"
        )));
    }
    file.proof
        .verify(&old, &new)
        .map_err(|e| bad(format!("the consistency proof does not check out: {e}")))
}
