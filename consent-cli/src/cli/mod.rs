//! The command line, as clap sees it.

pub mod checkpoint;
pub mod downstream;
pub mod values;
pub mod witness;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use consent_core::{Actor, Hash, Head, LawfulBasis, Method, Validity};
use uuid::Uuid;

pub use values::TimeArg;

const ABOUT: &str = "A tamper-evident ledger of per-purpose consent.\n\n\
Times are read in the ledger's time zone (Europe/London unless set by `init --time-zone`):\n\
a date (2024-10-01) is the start of that local day, a time without offset\n\
(2024-10-01T09:30) is local, RFC 3339 with an offset (2024-10-01T09:30:00Z) is exact.\n\
Tables show local times with their offset (2025-08-01 00:30+01:00); --utc shows and\n\
reads UTC instead. JSON and the CSV feed always carry UTC RFC 3339 (2025-07-31T23:30:00.000Z).";

/// What a time option reads, appended to the help of every one of them.
macro_rules! local_time {
    () => {
        " TIME is RFC 3339 with an offset (2024-10-01T09:30:00Z), or local to the ledger: \
`--at 2024-10-01` means the start of 1 October 2024 in the ledger's time zone, \
Europe/London unless set at init (`init --time-zone`); 2024-10-01T09:30 (no offset) \
is 09:30 there. With --utc, dates and times without offset are UTC."
    };
}

/// `consent`: one ledger, many questions.
#[derive(Debug, Parser)]
#[command(name = "consent", version, about = ABOUT, after_help = crate::exit::TABLE)]
pub struct Cli {
    /// The ledger: a file, or a PostgreSQL URL (postgresql://USER@HOST/DB?schema=NAME;
    /// host=/socket/dir for a Unix socket), which then needs --key-file. A password in
    /// the URL is never printed (docs/POSTGRES.md).
    #[arg(
        long,
        short = 'l',
        env = "CONSENT_LEDGER",
        global = true,
        value_name = "PATH|URL"
    )]
    pub ledger: Option<PathBuf>,
    /// Machine-readable JSON on stdout instead of tables. Times in JSON are always UTC,
    /// RFC 3339 with milliseconds (2025-07-31T23:00:00.000Z): stable for scripts,
    /// whatever the ledger's time zone or --utc.
    #[arg(long, global = true)]
    pub json: bool,
    /// Show times in UTC (2025-07-31 23:00Z) instead of the ledger's local time with
    /// its offset (2025-08-01 00:00+01:00), and read dates and times given without an
    /// offset as UTC.
    #[arg(long, global = true)]
    pub utc: bool,
    #[arg(long, env = "CONSENT_NOW", global = true, value_name = "TIME", value_parser = values::time,
          help = concat!("Simulated time (demos and tests). Only for a ledger that `consent init` \
created as a simulation (with --now given to `init`); a real ledger refuses it, since its \
record times come from the system clock.", local_time!()))]
    pub now: Option<TimeArg>,
    /// The ledger's pseudonym key file (default for a ledger file: its path + `.key`;
    /// required for a PostgreSQL ledger, the same file on every host). Keep it apart
    /// from the ledger: without it, nothing in the ledger identifies an erased student.
    #[arg(long, env = "CONSENT_KEY_FILE", global = true, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// How durable each commit is: `full` syncs every commit to disk, so an event the
    /// CLI reported survives a power cut; `normal` syncs at checkpoints only (faster
    /// long imports; survives the process crashing, not the machine). On PostgreSQL,
    /// `normal` is `synchronous_commit = off`.
    #[arg(long, env = "CONSENT_SYNCHRONOUS", global = true, value_enum,
          default_value_t = SynchronousArg::Full)]
    pub synchronous: SynchronousArg,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new, empty ledger file (or report on an existing one).
    Init {
        /// The institution's time zone (an IANA name such as Europe/London, Europe/Dublin,
        /// UTC), fixed at creation and hashed into the ledger: the academic year ends at
        /// midnight there, and times are read and shown in it. Default Europe/London.
        /// Given for an existing ledger, it must be the ledger's own.
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
    },
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
    Give(GiveArgs),
    /// Record that the subject was asked and said no.
    Refuse(ToldArgs),
    /// Record that the subject was shown a notice about the purpose, with no answer
    /// yet (the notice must cover the purpose).
    ServeNotice(ToldArgs),
    /// Record a withdrawal (never refused, never retroactive).
    Withdraw(ToldArgs),
    /// Record that the controller stopped relying on a consent.
    Revoke(EventCommon),
    /// Record that a grant was never valid (retroactive).
    Invalidate(InvalidateArgs),
    /// Record an objection (Art. 21: legitimate interests, public task). A `withdraw`
    /// for a purpose that does not rest on consent is recorded as one too.
    Object(ToldArgs),
    /// Record that a person decided the controller's compelling legitimate grounds
    /// override the subject's objection (Art. 21(1)): processing may go on.
    ///
    /// Only for a purpose that does not rest on consent, only while an objection is in
    /// force (for that recipient), and only by staff: pass --recorded-by staff:ID.
    OverruleObjection(EventCommon),
    /// May we use SUBJECT's data for PURPOSE? Now, at a past time, or as known then.
    ///
    /// A purpose that lists recipients (jmsu.data-sharing: JMSU) must be asked about
    /// one, with --recipient exactly as the purpose spells it; without it, or with
    /// another, the answer is an error (exit 3) naming the valid ones.
    ///
    /// With --check the exit code answers too: 0 when processing is permitted (consent
    /// in force, or a purpose not based on consent and not objected to), 11 when it is
    /// not (any other state: refused, withdrawn, expired, needs_renewal, objected...).
    /// Errors keep their own codes (2, 3, ...), so `if consent status --check ...` never
    /// takes an error for a yes.
    ///
    /// With --from-file FILE (`-` reads stdin), every question of FILE is answered now,
    /// all from one snapshot of the ledger (an event recorded meanwhile is in every
    /// answer or in none). FILE is CSV with a header row naming the columns `subject`,
    /// `purpose` and, optionally, `recipient` (an empty cell: none); one answer is
    /// printed per question, in the file's order: a table, CSV (--format csv; times in
    /// UTC) or JSON (--json). The first invalid question (an unknown purpose, a missing
    /// or unlisted recipient) fails the command with its line named and its own exit
    /// code, and nothing is printed. With --check, exit 0 only if every answer permits
    /// processing, 11 if any does not (every answer is still printed).
    Status {
        /// Data subject (student id).
        #[arg(required_unless_present = "from_file", conflicts_with = "from_file")]
        subject: Option<String>,
        /// Purpose id.
        #[arg(required_unless_present = "from_file", conflicts_with = "from_file")]
        purpose: Option<String>,
        /// Recipient asked about (required when the purpose lists recipients).
        #[arg(long, conflicts_with = "from_file")]
        recipient: Option<String>,
        #[arg(long, value_name = "TIME", value_parser = values::time, conflicts_with = "from_file",
              help = concat!("The moment asked about (default: now).", local_time!()))]
        at: Option<TimeArg>,
        #[arg(long, visible_alias = "as-known-at", value_name = "TIME", value_parser = values::time, conflicts_with = "from_file",
              help = concat!("Answer with what the ledger knew at this time (default: now).", local_time!()))]
        known_at: Option<TimeArg>,
        /// Exit 0 only if processing is permitted, 11 if it is not (see above); the
        /// answer is still printed. With --from-file: 0 only if every answer permits.
        #[arg(long)]
        check: bool,
        /// Answer every question of FILE (CSV: subject,purpose[,recipient]; `-` for
        /// stdin) from one snapshot (see above).
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
        /// With --from-file: how to print the answers (`--json` also selects json).
        // (`conflicts_with`, not `requires`: clap waives a requirement that conflicts
        // with an argument given, here SUBJECT.)
        #[arg(long, value_enum, default_value_t = AnswersFormat::Table, conflicts_with = "subject")]
        format: AnswersFormat,
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
    ///
    /// A purpose that lists recipients must be asked with one (`consenting
    /// jmsu.data-sharing --recipient JMSU`): a purpose-wide grant counts for each of them,
    /// a withdrawal for one recipient removes only that one.
    ///
    /// Times in the CSV and JSON are UTC, RFC 3339. The CSV is a header and one row
    /// per subject, nothing else, so spreadsheets and pandas.read_csv read it as it is;
    /// what answered (the head, the moment, the counts) goes to stderr, or with
    /// --head-file to a file of its own.
    Consenting {
        /// Purpose id.
        purpose: String,
        /// Recipient asked about (required when the purpose lists recipients).
        #[arg(long)]
        recipient: Option<String>,
        #[arg(long, value_name = "TIME", value_parser = values::time,
              help = concat!("The moment asked about (default: now).", local_time!()))]
        at: Option<TimeArg>,
        #[arg(long, visible_alias = "as-known-at", value_name = "TIME", value_parser = values::time,
              help = concat!("Answer with what the ledger knew at this time (default: now): \
the feed as it could have been extracted then.", local_time!()))]
        known_at: Option<TimeArg>,
        /// Output format (`--json` also selects json).
        #[arg(long, value_enum, default_value_t = FeedFormat::Csv)]
        format: FeedFormat,
        /// With CSV: write what answered (purpose, recipient, at, as_known_at, subjects,
        /// head) to FILE, a one-row CSV, instead of a line on stderr.
        #[arg(long, value_name = "FILE")]
        head_file: Option<PathBuf>,
    },
    /// Downstream systems (the students' union feed, an NHS liaison): register, retire,
    /// list and show the purposes and recipient each one's feed may show.
    #[command(subcommand)]
    Downstream(downstream::DownstreamCmd),
    /// A downstream's feed: only the events of its purposes (and recipient), and for
    /// an erasure only the seqs of its events to delete. Continues after its last
    /// `consent ack --up-to` unless --since is given; --follow waits for new events.
    Feed(downstream::FeedArgs),
    /// Record that a downstream acted on its feed up to a seq, or on one event.
    /// Refused (nothing written) for an unknown downstream (exit 3), a seq beyond the
    /// log or an event its feed never showed (exit 2).
    Ack(downstream::AckArgs),
    /// Withdrawals, revocations and objections past their effect deadline without
    /// their downstream's acknowledgement; then those pending. For monitoring: exit 12
    /// when something is overdue, 0 when nothing is.
    Overdue {
        #[arg(long, value_name = "TIME", value_parser = values::time,
              help = concat!("As known at this time (default: now).", local_time!()))]
        at: Option<TimeArg>,
        /// Also list every deadline acknowledged (in time or late).
        #[arg(long)]
        all: bool,
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
    /// The subject-access copy: everything held about SUBJECT, as a portable JSON
    /// document (default) or as an HTML page to hand to the student.
    ///
    /// The file is written owner-only (0600): it holds personal data.
    #[command(visible_alias = "export-subject")]
    Export {
        /// Data subject.
        subject: String,
        /// json: the machine-readable copy (UTC times); html: the subject's copy in
        /// plain words (purposes, notices, every event, current statuses) with local times.
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Write to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// A consent receipt for one event (format v2): the event, its purpose definition,
    /// the notice shown and the ledger's configuration, each proved in a signed
    /// checkpoint, so anyone with the log's verifier key can check it without the
    /// ledger (`check-receipt`).
    Receipt {
        /// Event id (UUID).
        #[arg(value_parser = values::event_id)]
        event_id: Uuid,
        /// Receipt layout.
        #[arg(long, value_enum, default_value_t = ReceiptFormat::Iso27560)]
        format: ReceiptFormat,
        /// The signed checkpoint (a signed note, ideally cosigned by witnesses) the
        /// receipt proves the event in: a note file, or `latest`, the latest the
        /// ledger signed (`consent checkpoint`) with the cosignatures merged into it.
        /// Its root must be this ledger's at its size.
        #[arg(
            long,
            value_name = "FILE|latest",
            required_unless_present = "sign_with",
            conflicts_with = "sign_with"
        )]
        checkpoint: Option<PathBuf>,
        /// Testing: sign the current head now with this log private key file.
        #[arg(long, value_name = "KEYFILE", hide = true)]
        sign_with: Option<PathBuf>,
        /// Write to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Recompute every hash; exit 1 on tampering. With --log-key, also check the
    /// checkpoints the ledger signed and (--checkpoint) one held elsewhere, naming the
    /// first that the log no longer holds.
    Verify {
        /// Also check that the log still extends this earlier head (SIZE:ROOT).
        #[arg(long, value_name = "HEAD", value_parser = values::head)]
        against: Option<Head>,
        #[command(flatten)]
        trust: checkpoint::TrustArgs,
    },
    /// Signed checkpoints: sign the current head with the log key (no subcommand),
    /// list and show those kept, merge the witnesses' cosignatures.
    Checkpoint(checkpoint::CheckpointArgs),
    /// A witness of a log (the DPO's office, the students' union): cosign its
    /// checkpoints, refuse forks and rollbacks.
    #[command(subcommand)]
    Witness(witness::WitnessCmd),
    /// Print the current head (SIZE:ROOT). Keep it elsewhere.
    Head,
    /// Produce proofs about the log.
    #[command(subcommand)]
    Prove(ProveCmd),
    /// Signing keys: the ledger's (signs checkpoints) and a witness's (cosigns them).
    #[command(subcommand)]
    Key(KeyCmd),
    /// Check a receipt offline with nothing but the verifier keys: the checkpoint's
    /// signatures, every proof, and every readable field; says what is proved and what
    /// is not. Optionally also a later head.
    CheckReceipt {
        /// The receipt (JSON) file.
        file: PathBuf,
        /// The log's verifier key (a vkey string, or a file holding one), from a
        /// source you trust: the controller's published key.
        #[arg(long, value_name = "VKEY")]
        log_key: String,
        /// A witness's verifier key (vkey string or file); repeat for several.
        #[arg(long = "witness-key", value_name = "VKEY")]
        witness_keys: Vec<String>,
        /// How many of the witnesses given must have cosigned (default: all of them).
        #[arg(long, value_name = "N")]
        quorum: Option<usize>,
        /// A later head (SIZE:ROOT) the receipt should still be part of.
        #[arg(long, value_name = "HEAD", value_parser = values::head)]
        head: Option<Head>,
        /// A consistency proof file (from `consent prove consistency`) from the
        /// receipt's head to --head.
        #[arg(long, value_name = "PROOF_FILE", requires = "head")]
        consistency: Option<PathBuf>,
    },
    /// Import consents from a CSV or JSON Lines file: idempotent, all-or-nothing.
    ///
    /// CSV has a header row naming its columns; JSON Lines has one object a line with
    /// the same keys. The columns (only subject, purpose and kind are required; an
    /// empty cell is an absent value; a column not listed is refused at the header):
    ///
    ///   source_id       idempotency key: a row already on record is not recorded again
    ///   subject         data subject (student id)
    ///   purpose         purpose id
    ///   kind            given, refused, withdrawn, revoked, invalidated, objected,
    ///                   objection_overruled or notice_served
    ///   recipient       a recipient the purpose lists (empty: the whole purpose)
    ///   notice          the notice shown, ID@VERSION (or notice_id and notice_version)
    ///   explicit        true/false (yes/no, 1/0): explicit consent, Art. 9(2)(a)
    ///   method          portal, web_form, paper, email, feed, in_person, phone, api
    ///   recorded_by     subject (default), staff:ID or system:ID
    ///   effective_at    when it happened (default: now)
    ///   expires_at      when a grant lapses (default: the purpose's validity rule)
    ///   validity_from   the start a grant's validity is counted from
    ///   evidence        a JSON object
    ///   target          for invalidated: the grant's event id
    ///
    /// Times are read as the command line reads them: RFC 3339 with an offset, or a
    /// date or time local to the ledger's time zone.
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
    /// Erase a subject's personal data; the proofs stay verifiable.
    ///
    /// An id the ledger holds no event about is refused (exit 3): it is most likely a
    /// typo, and an erased id cannot consent again until it is readmitted. --force
    /// records the erasure anyway. --dry-run shows what would be blanked and writes
    /// nothing.
    ///
    /// With --from-file, every id of the file (one a line; blank lines and lines
    /// starting with # are skipped) is erased in its own transaction, and each id is
    /// reported: erased, unknown (not erased), already_erased or failed, then a summary.
    /// Exit 5 when some id was unknown or failed (the others are erased). --report
    /// writes the report as JSON, owner-only (0600): it names the ids.
    Erase {
        /// Data subject.
        #[arg(required_unless_present = "from_file", conflicts_with = "from_file")]
        subject: Option<String>,
        /// Erase every id listed in FILE (a retention run).
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
        /// Why (e.g. "retention period ended").
        #[arg(long)]
        reason: String,
        /// Who erased: staff:ID or system:ID (`--actor` and `--by` are older spellings).
        #[arg(
            long = "recorded-by",
            visible_aliases = ["actor", "by"],
            value_name = "ACTOR",
            default_value = "system:consent-cli",
            value_parser = values::actor
        )]
        actor: Actor,
        /// Record the erasure even for an id with no events.
        #[arg(long)]
        force: bool,
        /// Show what would be erased; write nothing to the ledger.
        #[arg(long)]
        dry_run: bool,
        /// With --from-file: also write the per-id report (JSON) to FILE (0600).
        // (`conflicts_with`, not `requires`: clap waives a requirement that conflicts
        // with an argument given, here SUBJECT.)
        #[arg(long, value_name = "FILE", conflicts_with = "subject")]
        report: Option<PathBuf>,
    },
    /// A returning student: let an erased id consent again.
    ///
    /// Records a `subject_readmitted` event (the reason and the erasure it ends, no
    /// personal field). The old events stay blanked; history shows both. Exit 2 if the
    /// id is not erased.
    Readmit {
        /// The erased data subject (student id).
        subject: String,
        /// Why (e.g. "re-enrolled for 2031/32").
        #[arg(long)]
        reason: String,
        /// Who decided: staff:ID (or system:ID, the enrolment system); `--by` and
        /// `--actor` are older spellings.
        #[arg(long = "recorded-by", visible_aliases = ["by", "actor"], value_name = "ACTOR",
              value_parser = values::actor)]
        by: Actor,
    },
    /// Finish erasures still pending because a reader held an old snapshot: waits for
    /// the readers, then truncates the WAL so the erased values are gone from every file.
    /// On PostgreSQL: vacuums the tables that held them (only their owner may), waiting
    /// while an older snapshot keeps old row versions alive.
    CompleteErasures {
        /// How long to keep trying, in seconds.
        #[arg(long, default_value_t = 30)]
        wait: u64,
        /// PostgreSQL: then rewrite the tables into new files (VACUUM FULL), so not even
        /// free space in their pages holds an erased value; locks every reader and
        /// writer out while it runs (docs/POSTGRES.md "Erasure").
        #[arg(long)]
        rewrite: bool,
    },
    /// The data-protection officer's report over a period: consent state per purpose
    /// over time, grants and withdrawals, special-category consents, erasures,
    /// downstream deadlines, and the ledger's verification with its latest signed
    /// checkpoint.
    ///
    /// --html FILE writes one self-contained page (inline CSS and SVG charts, no
    /// script, nothing fetched; readable printed), in the ledger's local time. --json
    /// prints the same figures as JSON (UTC times) on stdout, or into FILE. With
    /// neither, a summary. Each state count is what `consent status --at` answers at the
    /// last millisecond of each period, as known now. Exit 1 when verify finds
    /// tampering (the page and the figures say so too).
    Report(ReportArgs),
    /// Copy a ledger, as stored, into a new file or an empty PostgreSQL schema: FROM
    /// and TO are each a file or a postgresql:// URL. The copy's head is computed from
    /// its rows and must equal the source's; it is printed with the rows copied.
    ///
    /// The pseudonym key is neither needed nor copied: open the copy with the
    /// source's key file (--key-file). A copy of a PostgreSQL ledger into a file is
    /// what the independent checker of docs/FORMAT.md §8 reads. TO must hold no
    /// ledger yet (exit 4 otherwise).
    Copy {
        /// The ledger to copy (a file or a URL); read in one snapshot, never written.
        from: PathBuf,
        /// Where to copy it: a new (or empty) file, or a URL naming an empty schema.
        to: PathBuf,
    },
    /// Print a completion script for SHELL, generated from these definitions:
    /// `consent completions bash > /usr/share/bash-completion/completions/consent`
    /// (zsh: a file `_consent` on $fpath; fish: ~/.config/fish/completions/consent.fish).
    /// `make install` installs them.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page consent(1) (roff: `consent man | man -l -`), or with --dir
    /// write it and a page per command (consent-give.1, ...). `make install` installs
    /// them under PREFIX/share/man/man1.
    Man {
        /// Write every page into DIR instead.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print the SQL that grants a database role access to a PostgreSQL ledger (read,
    /// append or erase: docs/POSTGRES.md "Roles"); with --apply, run it.
    ///
    /// The schema is the one --ledger's URL names (its schema= parameter, default
    /// `consent`), or --schema. --apply runs the grants in one transaction on --ledger's
    /// database, connected as the URL's user, who must own the ledger's tables; the
    /// role must exist (CREATE ROLE ... LOGIN).
    Grants {
        /// The ledger's schema (default: the one --ledger's URL names).
        #[arg(long, value_name = "NAME")]
        schema: Option<String>,
        /// The database role to grant access to.
        #[arg(long)]
        role: String,
        /// What the role may do.
        #[arg(long, value_enum)]
        access: AccessArg,
        /// Run the grants on --ledger's database instead of only printing them.
        #[arg(long)]
        apply: bool,
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
    #[arg(long, default_value = "a", value_parser = values::lawful_basis)]
    pub basis: LawfulBasis,
    /// Art. 9(2) letter for special-category data (grants must then be explicit).
    #[arg(long, value_name = "LETTER")]
    pub special_category: Option<char>,
    /// Default validity: none, academic-year (to 31 July), academic-year:MM-DD,
    /// course-year (a year from the grant's --validity-from, e.g. a course start),
    /// days:N. Years end at midnight in the ledger's time zone.
    #[arg(long, default_value = "none", value_parser = values::validity)]
    pub validity: Validity,
    /// How long downstream systems may take to honour a withdrawal: 24h, 30m, 2d, 86400.
    #[arg(long, default_value = "0", value_name = "DURATION", value_parser = values::duration_secs)]
    pub effect_delay: u64,
    /// How to withdraw, as told to the subject.
    #[arg(long, default_value = "")]
    pub withdrawal_method: String,
    /// Allowed recipient (repeatable), spelt as events and questions must spell it.
    #[arg(long = "recipient")]
    pub recipients: Vec<String>,
    /// Declare this version a material change the other fields do not show: grants
    /// given under earlier versions stop permitting (needs_renewal) until renewed. A new
    /// lawful basis, controller, special category or recipient is material anyway.
    #[arg(long)]
    pub renew_consent: bool,
}

// Parsed once per run: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
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
        /// Whose notice it is, e.g. JMSU.
        #[arg(long)]
        controller: String,
        /// A purpose the notice covers (repeatable): an id, or a prefix ending in .*
        /// (jmsu.project.*). A grant may only name a notice that covers its purpose.
        #[arg(long = "purpose", value_name = "PURPOSE", required = true)]
        purposes: Vec<String>,
        /// The text shown; its SHA-256 is recorded.
        #[arg(
            long,
            value_name = "FILE",
            conflicts_with = "sha256",
            required_unless_present = "sha256"
        )]
        text_file: Option<PathBuf>,
        /// The SHA-256 of the text, as 64 hex digits.
        #[arg(long, value_parser = values::sha256)]
        sha256: Option<Hash>,
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
pub enum KeyCmd {
    /// Make a new key: writes the private key to FILE (a new file, owner-only; keep it
    /// away from the ledger) and prints the verifier key to publish.
    Generate {
        /// The key's name. For the ledger's key it is the log's origin, the name every
        /// checkpoint carries, e.g. `ljmu.ac.uk/consent`.
        #[arg(long)]
        name: String,
        /// A witness's cosigning key instead of a ledger's signing key.
        #[arg(long)]
        witness: bool,
        /// Where to write the private key.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: PathBuf,
    },
    /// Print the verifier key of a private key file.
    Show {
        /// The private key file.
        file: PathBuf,
        /// The file holds a witness's key.
        #[arg(long)]
        witness: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProveCmd {
    /// Prove the current log extends OLD_HEAD; prints a proof file (JSON).
    Consistency {
        /// The earlier head, SIZE:ROOT.
        #[arg(value_parser = values::head)]
        old_head: Head,
        /// Write to FILE instead of stdout.
        #[arg(long, short = 'o', value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// What every event command takes: who, about what, and the record's own fields.
#[derive(Debug, Args, Clone)]
pub struct EventCommon {
    /// Data subject (student id).
    pub subject: String,
    /// Purpose id.
    pub purpose: String,
    /// Recipient the event names, as the purpose lists it (none: the whole purpose,
    /// every recipient).
    #[arg(long)]
    pub recipient: Option<String>,
    /// Who recorded it: subject, staff:ID or system:ID.
    #[arg(long, default_value = "subject", value_name = "ACTOR", value_parser = values::actor)]
    pub recorded_by: Actor,
    #[arg(long, value_name = "TIME", value_parser = values::time,
          help = concat!("When it happened (default: now); e.g. the date a paper form was signed.", local_time!()))]
    pub at: Option<TimeArg>,
    /// Idempotency key (form number, feed row id).
    #[arg(long)]
    pub source_id: Option<String>,
    /// Evidence, a JSON object.
    #[arg(long, value_name = "JSON", value_parser = values::evidence)]
    pub evidence: Option<serde_json::Value>,
}

/// What the subject was told and how it was collected.
#[derive(Debug, Args, Clone, Default)]
pub struct Told {
    /// Notice shown, as ID@VERSION.
    #[arg(long, value_name = "ID@VERSION", conflicts_with_all = ["notice_id", "notice_version"],
          value_parser = values::notice)]
    pub notice: Option<(String, String)>,
    /// Notice id (with --notice-version).
    #[arg(long, requires = "notice_version")]
    pub notice_id: Option<String>,
    /// Notice version (with --notice-id).
    #[arg(long, requires = "notice_id")]
    pub notice_version: Option<String>,
    /// How it was collected: portal, web_form, paper, email, feed, in_person, phone, api.
    #[arg(long, value_parser = values::method)]
    pub method: Option<Method>,
}

/// `consent give`: a grant.
#[derive(Debug, Args, Clone)]
pub struct GiveArgs {
    #[command(flatten)]
    pub common: EventCommon,
    #[command(flatten)]
    pub told: Told,
    /// Explicit consent (Art. 9(2)(a)): the subject expressly confirmed a statement.
    #[arg(long)]
    pub explicit: bool,
    #[arg(long, value_name = "TIME", value_parser = values::time,
          help = concat!("When the grant lapses (default: the purpose's validity rule).", local_time!()))]
    pub expires: Option<TimeArg>,
    #[arg(long, value_name = "TIME", value_parser = values::time,
          help = concat!("The start the grant's validity is counted from, when not the time it \
was given, e.g. a course rep's course start (--validity-from 2025-01-13 with a course-year purpose \
lapses at the start of 13 January 2026).", local_time!()))]
    pub validity_from: Option<TimeArg>,
}

/// `refuse`, `withdraw`, `object`: an answer or a stop, with what the subject was told
/// and how it reached us.
#[derive(Debug, Args, Clone)]
pub struct ToldArgs {
    #[command(flatten)]
    pub common: EventCommon,
    #[command(flatten)]
    pub told: Told,
}

/// `consent invalidate`: a grant that was never valid.
#[derive(Debug, Args, Clone)]
pub struct InvalidateArgs {
    #[command(flatten)]
    pub common: EventCommon,
    /// The grant that was never valid (event id; default: the grant in force before
    /// this invalidation).
    #[arg(long, value_name = "EVENT_ID", value_parser = values::event_id)]
    pub target: Option<Uuid>,
}

/// Everything an event command may set, whichever command set it.
#[derive(Debug, Clone)]
pub struct EventArgs {
    pub common: EventCommon,
    pub told: Told,
    pub explicit: bool,
    pub expires: Option<TimeArg>,
    pub validity_from: Option<TimeArg>,
    pub target: Option<Uuid>,
}

impl EventArgs {
    /// Only the fields every event command has.
    fn about(common: EventCommon) -> Self {
        EventArgs {
            common,
            told: Told::default(),
            explicit: false,
            expires: None,
            validity_from: None,
            target: None,
        }
    }
}

impl From<GiveArgs> for EventArgs {
    fn from(a: GiveArgs) -> Self {
        EventArgs {
            common: a.common,
            told: a.told,
            explicit: a.explicit,
            expires: a.expires,
            validity_from: a.validity_from,
            target: None,
        }
    }
}

impl From<ToldArgs> for EventArgs {
    fn from(a: ToldArgs) -> Self {
        EventArgs {
            told: a.told,
            ..EventArgs::about(a.common)
        }
    }
}

impl From<InvalidateArgs> for EventArgs {
    fn from(a: InvalidateArgs) -> Self {
        EventArgs {
            target: a.target,
            ..EventArgs::about(a.common)
        }
    }
}

impl From<EventCommon> for EventArgs {
    fn from(common: EventCommon) -> Self {
        EventArgs::about(common)
    }
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

/// `consent report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the report as one self-contained HTML page to FILE (0600).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    #[arg(long, value_name = "TIME", value_parser = values::time,
          help = concat!("The first instant covered (default: the start of the month of the first event).", local_time!()))]
    pub from: Option<TimeArg>,
    #[arg(long, value_name = "TIME", value_parser = values::time,
          help = concat!("The end of the range, not included (default: now, included): `--from 2024-08-01 --to 2025-08-01` is one academic year.", local_time!()))]
    pub to: Option<TimeArg>,
    /// With --json: write the figures to FILE instead of stdout (`-`: stdout).
    #[arg(value_name = "FILE")]
    pub json_file: Option<PathBuf>,
}

/// `--synchronous`: the words of [`consent_core::Synchronous`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SynchronousArg {
    /// Sync every commit to disk (the default).
    Full,
    /// Sync at checkpoints only.
    Normal,
}

impl From<SynchronousArg> for consent_core::Synchronous {
    fn from(s: SynchronousArg) -> Self {
        match s {
            SynchronousArg::Full => consent_core::Synchronous::Full,
            SynchronousArg::Normal => consent_core::Synchronous::Normal,
        }
    }
}

/// What `consent grants` lets a role do (docs/POSTGRES.md "Roles").
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AccessArg {
    /// Read everything: status, history, proofs, verify.
    Read,
    /// Read, and append events; never update, delete or truncate one.
    Append,
    /// Append, and erase and readmit subjects (the narrow erasure path).
    Erase,
}

impl From<AccessArg> for consent_core::Access {
    fn from(a: AccessArg) -> Self {
        match a {
            AccessArg::Read => consent_core::Access::Read,
            AccessArg::Append => consent_core::Access::Append,
            AccessArg::Erase => consent_core::Access::Erase,
        }
    }
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
    /// CSV: a header, then a row per subject (the head on stderr or in --head-file).
    /// Cells that would run as spreadsheet formulas start with '.
    Csv,
    /// One JSON document with the subjects and the head.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnswersFormat {
    /// A table for people, times local (or UTC with --utc).
    Table,
    /// CSV with a header, one row per question; times in UTC, RFC 3339. Cells that
    /// would run as spreadsheet formulas start with '.
    Csv,
    /// A JSON array, one status per question (with its `subject` and `permits`).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// The portable JSON document (times in UTC).
    Json,
    /// A self-contained HTML page for the subject, in plain words, local times.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReceiptFormat {
    /// Fields of ISO/IEC TS 27560 (consent record information structure).
    Iso27560,
    /// The Kantara Initiative Consent Receipt v1.1 layout.
    Kantara,
}
