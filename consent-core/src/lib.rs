//! # consent-core
//!
//! An embeddable, append-only, tamper-evident ledger of per-purpose consent.
//!
//! ```
//! use consent_core::{Ledger, PurposeDef, NoticeDef, NewEvent, Method, State, Validity};
//!
//! let ledger = Ledger::in_memory()?;
//! let mut marketing = PurposeDef::new("jmsu.marketing", "Students' union marketing", "JMSU");
//! marketing.validity = Validity::ACADEMIC_YEAR;
//! ledger.register_purpose(marketing)?;
//! ledger.register_notice(
//!     NoticeDef::from_text("jmsu.privacy", "2024-09", "JMSU privacy notice", "...")
//!         .covering("JMSU", ["jmsu.*"]),
//! )?;
//!
//! ledger.append(
//!     NewEvent::give("student-1", "jmsu.marketing")
//!         .notice("jmsu.privacy", "2024-09")
//!         .method(Method::Portal),
//! )?;
//! assert_eq!(ledger.status("student-1", "jmsu.marketing", None)?.state, State::Given);
//!
//! ledger.append(NewEvent::withdraw("student-1", "jmsu.marketing"))?;
//! assert_eq!(ledger.status("student-1", "jmsu.marketing", None)?.state, State::Withdrawn);
//! assert!(ledger.verify()?.ok);
//! # Ok::<(), consent_core::Error>(())
//! ```
//!
//! ## The rules (docs/RULES.md)
//! - Consent is per purpose (and, for sharing, per recipient: registry ids, spelt
//!   exactly; a purpose that lists recipients is asked about one of them).
//! - A grant for a special-category purpose must be explicit; every grant names a
//!   notice that covers its purpose, and how it was collected.
//! - A withdrawal is never refused ([`EventKind::is_withdrawal`]) and never retroactive;
//!   an invalidation is retroactive. Under legitimate interests or public task a "stop"
//!   is an objection (Art. 21). Which kinds decide a state under which basis:
//!   [`EventKind::decides_under`].
//! - A material change of purpose makes earlier grants need renewal.
//! - Every event has an event time and a record time; [`Ledger::status_at`] and
//!   [`Ledger::consenting`] answer "at T, as known at K".
//! - Expiry is computed when asked, never by a job, in the institution's time zone.
//! - [`Ledger::erase_subject`] blanks personal fields and leaves every hash verifiable;
//!   afterwards only the kinds that end consent are accepted about the subject
//!   ([`EventKind::accepted_after_erasure`]) until [`Ledger::readmit_subject`] lets a
//!   returning student consent again.
//!
//! ## Errors
//! Every fallible call returns one [`Error`](enum@Error). Read it in three parts:
//! - **kind**: [`Error::kind`] gives its [`ErrorKind`], a stable number and name (one
//!   of [`ErrorKind::ALL`]): the C result code, the Python exception class and the
//!   CLI's exit code are each that kind. Decide what to do from the kind, never from
//!   the message.
//! - **message**: its `Display`, written for a person (a log, a support ticket). It
//!   never contains a subject id, since logs outlive an erasure; it may name a
//!   purpose, notice, recipient or file.
//! - **index**: the core error carries none. A call over many items stops at the first
//!   one that fails, with that item's error: [`Ledger::status_many`] and
//!   [`Ledger::append_many`] leave nothing to undo; [`Ledger::append_chunked`] says in
//!   [`ChunkedError::committed`] what landed before. The C layer adds the failing
//!   element's index (`consent_last_error_index`); Python prefixes the message with
//!   it (`events[3]: ...`).
//!
//! Each function's `# Errors` section lists what is particular to it. What many share
//! is written once, here, and referred to by these names:
//! - **the ledger's errors**, which every call on an open [`Ledger`] can return:
//!   [`Closed`](ErrorKind::Closed) after [`Ledger::close`];
//!   [`Busy`](ErrorKind::Busy) when another caller's batch, another process's write or
//!   (on PostgreSQL) a lock or serialization conflict outlasted the busy timeout;
//!   [`Batch`](ErrorKind::Batch) when the thread that holds an open batch calls the
//!   ledger instead of the batch, or calls through a batch that has ended;
//!   [`Storage`](ErrorKind::Storage) for any other failure of the database (a lost
//!   connection, the ledger's WAL deleted under the process);
//!   [`Corrupt`](ErrorKind::Corrupt) when what was read is structurally damaged.
//! - **the write errors**, which every call that records something can return as
//!   well: [`ReadOnly`](ErrorKind::ReadOnly) (opened read-only, a read-only file, a
//!   PostgreSQL role without the right); [`Full`](ErrorKind::Full) (the
//!   disk, the `max_pages` cap or the database's quota; nothing was written); inside a
//!   batch, [`Batch`](ErrorKind::Batch) once the batch was aborted by an earlier
//!   failure (roll it back).
//! - **the subject errors**, of every call that takes a subject id (a question, an
//!   append, an erasure, an export): [`Key`](ErrorKind::Key) when the ledger was
//!   opened read-only without its pseudonym key (an erased subject could not be
//!   recognised, so it fails closed).
//! - **the id errors**, of every id a call takes (subject, purpose, recipient, notice,
//!   source id, downstream): [`InvalidArgument`](ErrorKind::InvalidArgument) when it
//!   is empty, longer than [`MAX_ID_LEN`], holds a control character, begins or ends
//!   with white space, or is not in Unicode NFC. Ids are compared exactly, so another
//!   spelling is refused rather than answered "never asked".
//!
//! ## Threads and processes
//! [`Ledger`] is `Send + Sync`; share it with an `Arc`. Many processes may open one
//! file: appends are serialised by SQLite's write lock.
//!
//! The file format is specified in `docs/FORMAT.md`.
//!
//! ## The workspace, for a newcomer
//! | where | what |
//! |---|---|
//! | `consent-core` (this crate) | the model, the rules, storage (SQLite, PostgreSQL), integrity: every answer |
//! | `consent-note` | C2SP signed notes, checkpoints and cosignatures (Ed25519), no ledger inside |
//! | `consent-ffi` | the C ABI (`libconsent`, `include/consent.h` by cbindgen; its rules at the top of the header) |
//! | `consent-py` | the Python package `consent_ledger` (pyo3 + maturin) |
//! | `consent-cli` | the `consent` command for data-protection staff: audit, export, verify, report |
//! | `examples/` | the seeds' scenario (`make demo`), the C and Python examples |
//! | `reliability/` | attacks, crashes, faults and the independent checker run against the library |
//! | `benches/` | criterion and the comparison harnesses (`BENCHMARKS.md`) |
//! | `fuzz/` | cargo-fuzz targets (nightly) |
//! | `tools/` | `verify_ledger.py` (checks a file without this library), the receipt verifier page, test scripts |
//! | `docs/` | `FORMAT.md` (the file format: the contract), `RULES.md` (the legal rules and their tests), `POSTGRES.md`, `NAMES.md` (one word per concept on every surface) |
//!
//! Every error a call returns is one of [`ErrorKind::ALL`]; the C codes, the Python
//! exception classes and the CLI's exit codes are each checked against that one list.
//!
//! ## Where things are
//! | file | holds |
//! |---|---|
//! | `ledger.rs` | [`Ledger`]: open, close, and running each call in its transaction |
//! | `batch.rs` | [`Batch`], [`Ledger::append_many`], [`Ledger::append_chunked`] |
//! | `setup.rs` | creating and migrating a ledger, its configuration event and key |
//! | `registry.rs` | registering purposes and notices; the cache of their definitions |
//! | `append.rs` | [`Ledger::append`]: load what the rules need, decide, write |
//! | `rules.rs` | the rules of an append and the read-time rules, pure (no storage) |
//! | `answers.rs` | [`Ledger::status`], `status_many`, `status_at`, `history`, `consenting`, `changes_since` |
//! | `status_cache.rs` | the in-process cache of "status now" answers, kept coherent by `store/changes.rs` |
//! | `query.rs` | [`Status`] and the pure state machine: deciding from events |
//! | `materialize.rs` | the pure fold that keeps the materialized current state |
//! | `export.rs`, `subject_copy/` | the subject-access copy, as data and as a web page |
//! | `erase.rs` | erasure, readmission, WAL truncation |
//! | `report.rs` | [`Ledger::report`]: the DPO's figures over a period (states over time, activity, erasures, verification) |
//! | `proofs.rs` | [`Head`], inclusion and consistency proofs |
//! | `checkpoint/` | signed checkpoints: [`Ledger::sign_checkpoint`], cosignatures merged, [`Ledger::check_checkpoint`], [`Ledger::verify_checkpoints`] |
//! | `witness/` | [`Witness`]: cosigns a log's checkpoints, refuses forks and rollbacks |
//! | `publish.rs` | [`publish_checkpoint`]: the plain directory a web server serves |
//! | `atomic_file.rs` | replacing a file atomically and durably (witness state, publishing); secret files (keys) |
//! | `signing_key.rs` | [`generate_signing_key_file`], [`read_signing_key_file`]: signing keys in 0600 files |
//! | `receipt/` | [`Ledger::receipt`] and [`receipt::check`]: receipts checked with only the verifier keys |
//! | `verify/` | [`Ledger::verify`]: the log, the tree and the derived tables, read through the store |
//! | `copy.rs` | [`Ledger::copy_to`]: a ledger as stored into a new file or PostgreSQL schema, same head |
//! | `store/` | the only code holding a database connection (SQLite or PostgreSQL) or SQL; its own map in `store/mod.rs` |
//! | `event.rs` | [`Event`], [`NewEvent`], [`EventKind`] and its named predicates |
//! | `purpose.rs`, `notice.rs`, `calendar.rs`, `timestamp.rs` | the registry's types, time |
//! | `canonical.rs`, `merkle/` | the hashed encoding of an event, the Merkle tree and proofs |
//! | `key.rs`, `lockfile.rs`, `options.rs`, `error.rs` | pseudonym key, writer lock, options, errors |
//! | `registry_file.rs` | [`Registry`]: the TOML registry file |
//! | `downstream.rs` | downstream systems: [`Ledger::register_downstream`], [`Ledger::feed`], [`Ledger::acknowledge`], [`Ledger::deadlines`] |

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

mod answers;
mod append;
mod atomic_file;
mod batch;
mod calendar;
pub mod canonical;
mod checkpoint;
mod copy;
mod downstream;
mod erase;
mod error;
mod event;
mod export;
mod key;
mod ledger;
mod lockfile;
mod materialize;
pub mod merkle;
mod notice;
mod options;
mod proofs;
mod publish;
mod purpose;
mod query;
pub mod receipt;
mod registry;
mod registry_file;
mod report;
mod rules;
mod setup;
mod signing_key;
mod status_cache;
mod store;
pub mod subject_copy;
mod timestamp;
mod verify;
mod witness;

pub use append::Appended;
pub use batch::{Batch, BatchToken, ChunkedError, CHUNK_PAUSE};
pub use calendar::{Calendar, DEFAULT_TIME_ZONE};
pub use checkpoint::{CheckpointFinding, CheckpointVerdict, CheckpointsReport, SignedHead};
/// The signed-note crate: keys, notes and checkpoints, re-exported so that one
/// dependency is enough.
pub use consent_note;
pub use copy::CopyReport;
pub use downstream::{
    feed_cursor, Ack, Acknowledgement, Deadline, DeadlineState, Downstream, DownstreamDef, Feed,
    FeedItem,
};
pub use erase::{
    BulkErasure, ErasureOptions, ErasureOutcome, ErasurePreview, ErasureReport, ErasureResult,
};
pub use error::{Error, ErrorKind, Result};
pub use event::{Actor, ActorKind, Event, EventKind, Method, NewEvent, MAX_ID_LEN};
pub use export::SubjectExport;
pub use key::{default_key_path, KeySource};
pub use ledger::Ledger;
pub use lockfile::lock_path;
pub use merkle::{Hash, ProofError};
pub use notice::{Notice, NoticeDef, NoticeRef};
pub use options::{LedgerOptions, Synchronous};
pub use proofs::{ConsistencyProof, Head, InclusionProof};
pub use publish::{publish_checkpoint, read_published, read_published_size, Published};
pub use purpose::{LawfulBasis, Purpose, PurposeDef, Validity};
pub use query::{Consenting, ConsentingSubject, State, Status};
pub use registry::Registered;
pub use registry_file::{HashCheck, Registry, RegistryEntry, RegistryEntryKind, RegistryReport};
pub use report::{
    Activity, CheckpointSummary, DownstreamDeadline, Period, PurposeStates, Report, ReportRange,
    ReportStage, SpecialCategory, StateCounts, Step,
};
pub use signing_key::{
    generate_signing_key_file, parse_verifier_key, read_signing_key_file, KeyRole,
};
pub use store::postgres::{
    apply_grants, grants_sql, is_postgres_url, redact_url, url_schema, Access, DEFAULT_SCHEMA,
};
pub use store::{MIN_SQLITE_VERSION, SCHEMA_VERSION};
pub use timestamp::Timestamp;
pub use verify::VerifyReport;
pub use witness::{Cosigned, Refusal, RefusalKind, Witness};

/// `Ledger` is shared between threads by the C and Python layers: keep it so.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Ledger>();
};
