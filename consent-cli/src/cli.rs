//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "A tamper-evident ledger of per-purpose consent.\n\n\
Times are RFC 3339 (2024-10-01T09:30:00Z) or dates (2024-10-01, midnight UTC).";

/// `consent`: one ledger file, many questions.
#[derive(Debug, Parser)]
#[command(name = "consent", version, about = ABOUT, after_help = crate::exit::TABLE)]
pub struct Cli {
    /// The ledger file.
    #[arg(
        long,
        short = 'l',
        env = "CONSENT_LEDGER",
        global = true,
        value_name = "PATH"
    )]
    pub ledger: Option<PathBuf>,
    /// Machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Simulated time (demos and tests). Only for a ledger that `consent init` created
    /// as a simulation (with --now given to `init`); a real ledger refuses it, since
    /// its record times come from the system clock.
    #[arg(long, env = "CONSENT_NOW", global = true, value_name = "TIME")]
    pub now: Option<String>,
    /// The ledger's pseudonym key file (default: the ledger path + `.key`). Keep it
    /// apart from the ledger: without it, nothing in the ledger files identifies an
    /// erased student.
    #[arg(long, env = "CONSENT_KEY_FILE", global = true, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty ledger file (or report on an existing one).
    Init,
    /// Register, list and show purposes.
    #[command(subcommand)]
    Purpose(PurposeCmd),
    /// Register and list privacy notices.
    #[command(subcommand)]
    Notice(NoticeCmd),
    /// Load purposes and notices from a TOML registry file.
    #[command(subcommand)]
    Registry(RegistryCmd),
    /// Record that the subject gave consent.
    Give(EventArgs),
    /// Record that the subject was asked and said no.
    Refuse(EventArgs),
    /// Record a withdrawal (never refused, never retroactive).
    Withdraw(EventArgs),
    /// Record that the controller stopped relying on a consent.
    Revoke(EventArgs),
    /// Record that a grant was never valid (retroactive).
    Invalidate(EventArgs),
    /// Record an objection (legitimate interests, public task).
    Object(EventArgs),
    /// May we use SUBJECT's data for PURPOSE? Now, at a past time, or as known then.
    Status {
        /// Data subject (student id).
        subject: String,
        /// Purpose id.
        purpose: String,
        /// Recipient asked about.
        #[arg(long)]
        recipient: Option<String>,
        /// The moment asked about (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Answer with what the ledger knew at this time (default: now).
        #[arg(long, value_name = "TIME")]
        known_at: Option<String>,
    },
    /// Every event about a subject.
    History {
        /// Data subject.
        subject: String,
    },
    /// Every subject with consent in force for PURPOSE (the students' union feed).
    ///
    /// In CSV, a cell that starts with =, +, -, @, a tab or a carriage return is
    /// written with a leading ' so that spreadsheets show it as text instead of running
    /// it as a formula (CSV injection, as OWASP advises); strip it to get the id back.
    /// JSON carries the ids unchanged.
    Consenting {
        /// Purpose id.
        purpose: String,
        /// Recipient asked about.
        #[arg(long)]
        recipient: Option<String>,
        /// The moment asked about (default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        /// Output format (`--json` also selects json).
        #[arg(long, value_enum, default_value_t = FeedFormat::Csv)]
        format: FeedFormat,
    },
    /// Events from sequence number SEQ on: a change feed.
    Changes {
        /// First sequence number to return (a head's size continues after it).
        #[arg(long, value_name = "SEQ")]
        since: u64,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// The subject-access copy: a portable JSON document of everything held.
    Export {
        /// Data subject.
        subject: String,
        /// Write to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// A consent receipt for one event, with its inclusion proof.
    Receipt {
        /// Event id (UUID).
        event_id: String,
        /// Receipt layout.
        #[arg(long, value_enum, default_value_t = ReceiptFormat::Iso27560)]
        format: ReceiptFormat,
        /// Write to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Recompute every hash; exit 1 on tampering.
    Verify {
        /// Also check that the log still extends this earlier head (SIZE:ROOT).
        #[arg(long, value_name = "HEAD")]
        against: Option<String>,
    },
    /// Print the current head (SIZE:ROOT). Keep it elsewhere.
    Head,
    /// Produce proofs about the log.
    #[command(subcommand)]
    Prove(ProveCmd),
    /// Check a receipt offline: its inclusion proof, and optionally a later head.
    CheckReceipt {
        /// The receipt (JSON) file.
        file: PathBuf,
        /// A later head (SIZE:ROOT) the receipt should still be part of.
        #[arg(long, value_name = "HEAD")]
        head: Option<String>,
        /// A consistency proof file (from `consent prove consistency`) from the
        /// receipt's head to --head.
        #[arg(long, value_name = "PROOF_FILE", requires = "head")]
        consistency: Option<PathBuf>,
    },
    /// Import consents from a CSV or JSON Lines file: idempotent, all-or-nothing.
    Import(ImportArgs),
    /// Erase a subject's personal data; the proofs stay verifiable.
    Erase {
        /// Data subject.
        subject: String,
        /// Why (e.g. "retention period ended").
        #[arg(long)]
        reason: String,
        /// Who erased: staff:ID or system:ID.
        #[arg(long, default_value = "system:consent-cli")]
        actor: String,
    },
    /// Finish erasures still pending because a reader held an old snapshot: waits for
    /// the readers, then truncates the WAL so the erased values are gone from every file.
    CompleteErasures {
        /// How long to keep trying, in seconds.
        #[arg(long, default_value_t = 30)]
        wait: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum PurposeCmd {
    /// Register a purpose (or a new version of it).
    Add(PurposeAddArgs),
    /// List the current version of every purpose.
    List,
    /// Show every version of one purpose.
    Show {
        /// Purpose id.
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct PurposeAddArgs {
    /// Stable id, e.g. jmsu.marketing.
    pub id: String,
    /// Human title.
    #[arg(long)]
    pub title: String,
    /// Data controller, e.g. LJMU.
    #[arg(long)]
    pub controller: String,
    /// Art. 6(1) basis: a..f or consent, contract, legal_obligation, vital_interests,
    /// public_task, legitimate_interests.
    #[arg(long, default_value = "a")]
    pub basis: String,
    /// Art. 9(2) letter for special-category data (grants must then be explicit).
    #[arg(long, value_name = "LETTER")]
    pub special_category: Option<char>,
    /// Default validity: none, academic-year, academic-year:MM-DD, days:N.
    #[arg(long, default_value = "none")]
    pub validity: String,
    /// How long downstream systems may take to honour a withdrawal: 24h, 30m, 2d, 86400.
    #[arg(long, default_value = "0")]
    pub effect_delay: String,
    /// How to withdraw, as told to the subject.
    #[arg(long, default_value = "")]
    pub withdrawal_method: String,
    /// Allowed recipient (repeatable).
    #[arg(long = "recipient")]
    pub recipients: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum NoticeCmd {
    /// Register a notice version with the SHA-256 of its text.
    Add {
        /// Stable id, e.g. jmsu.privacy.
        id: String,
        /// Version label.
        version: String,
        /// Title shown to the subject.
        #[arg(long)]
        title: String,
        /// The text shown; its SHA-256 is recorded.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "sha256",
            required_unless_present = "sha256"
        )]
        text_file: Option<PathBuf>,
        /// The SHA-256 of the text, as 64 hex digits.
        #[arg(long)]
        sha256: Option<String>,
        /// BCP 47 language tag.
        #[arg(long, default_value = "en-GB")]
        language: String,
        /// Where the text is published.
        #[arg(long)]
        url: Option<String>,
    },
    /// List every registered notice.
    List,
}

#[derive(Debug, Subcommand)]
pub enum RegistryCmd {
    /// Register every purpose and notice of FILE, or none if one entry fails
    /// (unchanged entries append nothing).
    Load {
        /// The registry (TOML) file.
        file: PathBuf,
        /// Folder holding the notices' `text_file`s, to check their hashes; each one
        /// must then be readable (default: next to FILE, where a missing text is
        /// reported as "text not available").
        #[arg(long, value_name = "DIR")]
        texts: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProveCmd {
    /// Prove the current log extends OLD_HEAD; prints a proof file (JSON).
    Consistency {
        /// The earlier head, SIZE:ROOT.
        old_head: String,
        /// Write to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Flags shared by every event command.
#[derive(Debug, Args, Clone, Default)]
pub struct EventArgs {
    /// Data subject (student id).
    pub subject: String,
    /// Purpose id.
    pub purpose: String,
    /// Recipient the consent names.
    #[arg(long)]
    pub recipient: Option<String>,
    /// Notice shown, as ID@VERSION.
    #[arg(long, value_name = "ID@VERSION", conflicts_with_all = ["notice_id", "notice_version"])]
    pub notice: Option<String>,
    /// Notice id (with --notice-version).
    #[arg(long, requires = "notice_version")]
    pub notice_id: Option<String>,
    /// Notice version (with --notice-id).
    #[arg(long, requires = "notice_id")]
    pub notice_version: Option<String>,
    /// Explicit consent (Art. 9(2)(a)): the subject expressly confirmed a statement.
    #[arg(long)]
    pub explicit: bool,
    /// How it was collected: portal, web_form, paper, email, feed, in_person, phone, api.
    #[arg(long)]
    pub method: Option<String>,
    /// Who recorded it: subject, staff:ID or system:ID.
    #[arg(long, default_value = "subject", value_name = "ACTOR")]
    pub recorded_by: String,
    /// When it happened (default: now); e.g. the date a paper form was signed.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// When the grant lapses (default: the purpose's validity rule).
    #[arg(long, value_name = "TIME")]
    pub expires: Option<String>,
    /// Idempotency key (form number, feed row id).
    #[arg(long)]
    pub source_id: Option<String>,
    /// Evidence, a JSON object.
    #[arg(long, value_name = "JSON")]
    pub evidence: Option<String>,
    /// For invalidate: the grant that was never valid (event id).
    #[arg(long, value_name = "EVENT_ID")]
    pub target: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file: .csv, or .jsonl / .ndjson (JSON Lines).
    pub file: PathBuf,
    /// Format, when the extension does not say.
    #[arg(long, value_enum)]
    pub format: Option<ImportFormat>,
    /// Import the valid rows and report the others (default: all or nothing).
    #[arg(long)]
    pub skip_invalid: bool,
    /// Check every row, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Rows per transaction. A file of at most this many rows is all or nothing; a
    /// longer one is committed in chunks of this size so that the write lock is never
    /// held for long (a withdrawal from the portal gets in between two chunks). If a
    /// chunk fails, the chunks before it stay committed and the report says where it
    /// stopped; rows with a `source_id` make a re-run safe (nothing is recorded twice).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FeedFormat {
    /// CSV with a header; the last line is `# head,SIZE:ROOT`. Cells that would run
    /// as spreadsheet formulas start with '.
    Csv,
    /// One JSON document with the subjects and the head.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReceiptFormat {
    /// Fields of ISO/IEC TS 27560 (consent record information structure).
    Iso27560,
    /// The Kantara Initiative Consent Receipt v1.1 layout.
    Kantara,
}
