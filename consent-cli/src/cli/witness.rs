//! The arguments of `consent witness`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum WitnessCmd {
    /// Cosign a log's checkpoint if it extends the last one this witness cosigned for
    /// that log; refuse a fork or a rollback, loudly, with an evidence file.
    ///
    /// Without --checkpoint, the checkpoint is the ledger's latest (--ledger or
    /// CONSENT_LEDGER), and the ledger proves its consistency with the witness's last
    /// one. With --checkpoint, the note comes from a file and a larger one needs
    /// --proof (from the log's keeper: `consent prove consistency SIZE:ROOT`, the head
    /// `witness show` prints).
    ///
    /// Prints the cosigned note (give it to `consent checkpoint add-cosignatures`).
    /// A refusal exits 1 (fork, rollback, a proof that does not verify), 7 (a proof is
    /// needed) or 2 (a log this witness does not watch).
    Cosign(CosignArgs),
    /// The last checkpoint this witness cosigned for each log, and its evidence files.
    Show {
        /// The witness's state directory.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// The witness's private key file: the state is read only if its own
        /// cosignatures verify.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct CosignArgs {
    /// The witness's state directory (created owner-only when missing): the last
    /// checkpoint cosigned per log, and the evidence of refusals.
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
    /// The witness's private key file (`consent key generate --witness`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// The verifier key of a log this witness watches (vkey string or file; its name
    /// is the log's origin); repeat for several logs.
    #[arg(long = "log-key", value_name = "VKEY", required = true)]
    pub log_keys: Vec<String>,
    /// The checkpoint note to cosign, from a file (default: the ledger's latest).
    #[arg(long, value_name = "NOTE_FILE")]
    pub checkpoint: Option<PathBuf>,
    /// With --checkpoint: a consistency proof file (`consent prove consistency`) from
    /// the last checkpoint this witness cosigned to the new one.
    #[arg(long, value_name = "PROOF_FILE", requires = "checkpoint")]
    pub proof: Option<PathBuf>,
    /// Write the cosigned note to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}
