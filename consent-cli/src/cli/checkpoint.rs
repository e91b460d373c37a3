//! The arguments of `consent checkpoint` and of `verify`'s trust options.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `consent checkpoint`: with no subcommand, sign the current head.
#[derive(Debug, Args)]
pub struct CheckpointArgs {
    #[command(subcommand)]
    pub command: Option<CheckpointCmd>,
    /// The log's private key file (from `consent key generate`; its name is the log's
    /// origin). Kept away from the ledger: whoever holds it can vouch for a head.
    #[arg(long, env = "CONSENT_LOG_KEY", value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Also publish the signed note in DIR (DIR/checkpoint, DIR/checkpoints/SIZE), a
    /// directory any static web server or shared drive can serve.
    #[arg(long, value_name = "DIR")]
    pub publish: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CheckpointCmd {
    /// Every checkpoint the ledger signed, in size order, with who signed each note
    /// (signature lines are checked by `verify --log-key`, not here: the ledger holds
    /// no verifier keys).
    List,
    /// Print a checkpoint note the ledger keeps (default: the latest), e.g. to hand to
    /// a witness.
    Show {
        /// The checkpoint's size, or `latest`.
        #[arg(default_value = "latest", value_name = "SIZE|latest")]
        which: String,
    },
    /// Merge the cosignatures of notes returned by witnesses (`consent witness cosign`)
    /// into the stored checkpoint of the same size. Only a note whose checkpoint text is
    /// the one the ledger signed is merged.
    AddCosignatures {
        /// Cosigned note files, one per witness.
        #[arg(required = true, value_name = "NOTE_FILE")]
        files: Vec<PathBuf>,
        /// Also publish the merged note in DIR.
        #[arg(long, value_name = "DIR")]
        publish: Option<PathBuf>,
    },
}

/// The keys and checkpoints `verify` checks the log against, when given.
#[derive(Debug, Args, Default)]
pub struct TrustArgs {
    /// Also check every checkpoint the ledger signed, with the log's verifier key (a
    /// vkey string or a file holding one): each must be signed by it, and the log must
    /// still hold it (same root at its size).
    #[arg(long, value_name = "VKEY")]
    pub log_key: Option<String>,
    /// A witness's verifier key (vkey string or file); repeat for several. Any
    /// cosignature by one of them must verify.
    #[arg(long = "witness-key", value_name = "VKEY", requires = "log_key")]
    pub witness_keys: Vec<String>,
    /// How many of the witnesses given must have cosigned the --checkpoint note
    /// (default: all of them). The ledger's own copies need only the log's signature:
    /// cosignatures arrive after signing.
    #[arg(long, value_name = "N", requires = "log_key")]
    pub quorum: Option<usize>,
    /// A checkpoint held outside the ledger: a note file, or a publish directory (its
    /// latest `checkpoint`). The log must hold it: this is what catches an insider who
    /// rewrote the ledger file and its own checkpoints with it.
    #[arg(long, value_name = "FILE|DIR", requires = "log_key")]
    pub checkpoint: Option<PathBuf>,
}

impl TrustArgs {
    /// Whether any checkpoint check was asked for.
    pub fn given(&self) -> bool {
        self.log_key.is_some()
    }
}
