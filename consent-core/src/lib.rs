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
//! - A withdrawal is never refused and never retroactive; an invalidation is retroactive.
//!   Under legitimate interests or public task a "stop" is an objection (Art. 21).
//! - A material change of purpose makes earlier grants need renewal.
//! - Every event has an event time and a record time; [`Ledger::status_at`] and
//!   [`Ledger::consenting`] answer "at T, as known at K".
//! - Expiry is computed when asked, never by a job, in the institution's time zone.
//! - [`Ledger::erase_subject`] blanks personal fields and leaves every hash verifiable;
//!   [`Ledger::readmit_subject`] lets a returning student consent again.
//!
//! ## Threads and processes
//! [`Ledger`] is `Send + Sync`; share it with an `Arc`. Many processes may open one
//! file: appends are serialised by SQLite's write lock.
//!
//! The file format is specified in `docs/FORMAT.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod calendar;
pub mod canonical;
mod chain;
mod current;
mod error;
mod event;
mod key;
mod ledger;
mod lockfile;
pub mod merkle;
mod notice;
mod purpose;
mod query;
mod registry;
mod store;
pub mod subject_copy;
mod timestamp;
mod verify;

pub use calendar::{Calendar, DEFAULT_TIME_ZONE};
pub use chain::{ConsistencyProof, Head, InclusionProof, VerifyReport};
pub use error::{Error, ErrorKind, Result};
pub use event::{Actor, ActorKind, Event, EventKind, Method, NewEvent, MAX_ID_LEN};
pub use key::{default_key_path, KeySource};
pub use ledger::{
    Batch, BatchToken, BulkErasure, ChunkedError, ErasureOptions, ErasureOutcome, ErasurePreview,
    ErasureReport, ErasureResult, Ledger, SubjectExport, CHUNK_PAUSE,
};
pub use lockfile::lock_path;
pub use merkle::{Hash, ProofError};
pub use notice::{Notice, NoticeDef, NoticeRef};
pub use purpose::{LawfulBasis, Purpose, PurposeDef, Validity};
pub use query::{Consenting, ConsentingSubject, State, Status};
pub use registry::{HashCheck, Registry, RegistryEntry, RegistryEntryKind, RegistryReport};
pub use store::{LedgerOptions, Synchronous, MIN_SQLITE_VERSION, SCHEMA_VERSION};
pub use timestamp::Timestamp;

/// `Ledger` is shared between threads by the C and Python layers: keep it so.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Ledger>();
};
