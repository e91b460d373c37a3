//! `consent_ledger._native`: the Rust half of the Python package.
//!
//! This layer is deliberately plain: it takes primitive arguments (strings, integer
//! milliseconds since the epoch). The hot answers — statuses and events — come back as
//! native frozen records (`records.rs`: `Status`, `Event`) that build their Python
//! fields only when read; the rest (registry, proofs, reports) as the core's own JSON
//! encoding, which the pure-Python layer (`python/consent_ledger/`) turns into frozen
//! dataclasses. One place (`ERROR_CLASSES`) holds the error mapping.
//!
//! Every call that touches storage runs with the Python thread detached (the GIL
//! released), so other Python threads keep running while SQLite (or PostgreSQL) waits
//! for a lock, the disk or the network, or while another thread's batch is open. The
//! core [`Ledger`] is `Send + Sync`; the native ledger holds it in an `Arc` so that a
//! batch handle (`NativeBatch`) can keep it alive on its own.

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use consent_core::{
    Actor, Appended, BatchToken, ConsistencyProof, DownstreamDef, ErasureOptions, Error, ErrorKind,
    EventKind, Head, InclusionProof, KeySource, Ledger, LedgerOptions, Method, NewEvent, NoticeDef,
    PurposeDef, Registered, Registry, ReportRange, Synchronous, Timestamp,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde::Serialize;

mod records;
mod signing;

use records::{events, NativeEvent, NativeStatus};

/// The Python package module holding the exception classes.
const ERRORS_MODULE: &str = "consent_ledger.errors";

/// Every core error kind with its exception class in `consent_ledger/errors.py`: the
/// one place where `ErrorKind` meets the Python hierarchy. Exported to Python as
/// `ERROR_CLASSES` (code -> class name), beside the core's own table `ERROR_KINDS`
/// (code -> name), so the tests can check that every kind has a class of its own; the
/// module refuses to load when a kind of the core has none.
const ERROR_CLASSES: &[(ErrorKind, &str)] = &[
    (ErrorKind::InvalidArgument, "InvalidArgument"),
    (ErrorKind::InvalidTime, "InvalidTime"),
    (ErrorKind::UnknownPurpose, "UnknownPurpose"),
    (ErrorKind::UnknownNotice, "UnknownNotice"),
    (ErrorKind::UnknownRecipient, "UnknownRecipient"),
    (ErrorKind::InvalidConsent, "InvalidConsent"),
    (ErrorKind::SubjectErased, "SubjectErased"),
    (ErrorKind::Conflict, "Conflict"),
    (ErrorKind::NotFound, "NotFound"),
    (ErrorKind::Corrupt, "LedgerCorrupt"),
    (ErrorKind::SchemaTooNew, "SchemaTooNew"),
    (ErrorKind::SqliteTooOld, "SqliteTooOld"),
    (ErrorKind::ReadOnly, "LedgerReadOnly"),
    (ErrorKind::Full, "StorageFull"),
    (ErrorKind::Busy, "LedgerBusy"),
    (ErrorKind::Closed, "LedgerClosed"),
    (ErrorKind::Batch, "BatchError"),
    (ErrorKind::Io, "StorageError"),
    (ErrorKind::Storage, "StorageError"),
    (ErrorKind::ProofRejected, "ProofRejected"),
    (ErrorKind::NotALedger, "NotALedger"),
    (ErrorKind::Key, "PseudonymKeyError"),
    (ErrorKind::Note, "SignedNoteRejected"),
    (ErrorKind::QuorumNotMet, "QuorumNotMet"),
    (ErrorKind::WitnessRefused, "WitnessRefused"),
    (ErrorKind::ReceiptRejected, "ReceiptRejected"),
];

/// Maps a core error to its Python exception (see [`ERROR_CLASSES`]); the instance
/// carries the kind's stable number as `code`.
fn to_py_err(py: Python<'_>, e: &Error) -> PyErr {
    let kind = e.kind();
    // `ErrorKind` is non-exhaustive: a kind added later is still a ConsentError.
    let name = ERROR_CLASSES
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("ConsentError", |(_, name)| *name);
    let message = e.to_string();
    let built = py
        .import(ERRORS_MODULE)
        .and_then(|m| m.getattr(name))
        .and_then(|cls| cls.call1((message.clone(),)))
        .and_then(|exc| {
            exc.setattr("code", kind as i32)?;
            if let Error::UnknownRecipient {
                purpose,
                recipient,
                listed,
            } = e
            {
                // What a caller needs to correct the call: the purpose, the spelling
                // refused (None: no recipient given) and the valid ids.
                exc.setattr("purpose", purpose)?;
                exc.setattr("recipient", recipient.as_deref())?;
                exc.setattr("listed", pyo3::types::PyTuple::new(py, listed)?)?;
            }
            if let Error::WitnessRefused(refusal) = e {
                // What the witness refused and where it kept the evidence.
                exc.setattr("kind", refusal.kind.name())?;
                exc.setattr(
                    "evidence",
                    refusal
                        .evidence
                        .as_ref()
                        .map(|p| p.to_string_lossy().into_owned()),
                )?;
            }
            Ok(exc)
        });
    match built {
        Ok(exc) => PyErr::from_value(exc),
        Err(_) => PyRuntimeError::new_err(message),
    }
}

/// Runs `f` with the thread detached from the interpreter and maps its error.
fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> consent_core::Result<T> + Send,
) -> PyResult<T> {
    py.detach(f).map_err(|e| to_py_err(py, &e))
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

fn to_json<T: Serialize>(value: &T) -> consent_core::Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Storage(format!("cannot encode result: {e}")))
}

/// A feed answer as plain values (one Python tuple per subject costs far less than
/// JSON): purpose, recipient, (at, as known at), [(subject, event id bytes, since,
/// until)], (head size, head root hex); times in milliseconds.
type ConsentingTuple = (
    String,
    Option<String>,
    (i64, i64),
    Vec<(String, Vec<u8>, i64, Option<i64>)>,
    (u64, String),
);

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn ts(ms: Option<i64>) -> consent_core::Result<Option<Timestamp>> {
    ms.map(Timestamp::from_millis).transpose()
}

fn parse_uuid(text: &str) -> consent_core::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(text).map_err(|_| invalid("not a UUID"))
}

fn parse_head(text: &str) -> consent_core::Result<Head> {
    Head::from_str(text)
}

/// The pseudonym key source from the open call's arguments: a key file, the key's
/// 32 bytes, or (neither) the default `<path>.key`.
fn key_source(key_file: Option<PathBuf>, key: Option<&[u8]>) -> consent_core::Result<KeySource> {
    match (key_file, key) {
        (Some(_), Some(_)) => Err(invalid(
            "give the pseudonym key as key_file or key, not both",
        )),
        (Some(file), None) => Ok(KeySource::File(file)),
        (None, Some(bytes)) => {
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
                invalid(format!("a pseudonym key is 32 bytes, not {}", bytes.len()))
            })?;
            Ok(KeySource::Bytes(bytes))
        }
        (None, None) => Ok(KeySource::Beside),
    }
}

/// The durability named as on every surface (`docs/NAMES.md`): `"full"` (every commit
/// synced) or `"normal"` (synced at checkpoints).
fn synchronous(name: &str) -> consent_core::Result<Synchronous> {
    match name {
        "full" => Ok(Synchronous::Full),
        "normal" => Ok(Synchronous::Normal),
        other => Err(invalid(format!(
            "synchronous must be \"full\" or \"normal\", not {other:?}"
        ))),
    }
}

/// The default options with a writer's wait for the lock and its durability, as `open`
/// and `copy_to` take them.
fn writer_options(
    busy_timeout_ms: u64,
    synchronous_name: &str,
) -> consent_core::Result<LedgerOptions> {
    Ok(LedgerOptions {
        synchronous: synchronous(synchronous_name)?,
        busy_timeout: Duration::from_millis(busy_timeout_ms),
        ..LedgerOptions::default()
    })
}

/// The event of an `append` call, from its plain arguments (shared by the ledger and
/// the batch).
#[allow(clippy::too_many_arguments)]
fn new_event(
    kind: &str,
    subject: String,
    purpose: String,
    recipient: Option<String>,
    notice: Option<(String, String)>,
    explicit: bool,
    method: Option<&str>,
    recorded_by: Option<&str>,
    effective_at: Option<i64>,
    expires_at: Option<i64>,
    validity_from: Option<i64>,
    source_id: Option<String>,
    evidence: Option<&str>,
    target: Option<&str>,
) -> consent_core::Result<NewEvent> {
    let mut event = NewEvent::new(EventKind::from_str(kind)?, subject, purpose);
    event.recipient = recipient;
    event.notice = notice;
    event.explicit = explicit;
    event.method = method.map(Method::from_str).transpose()?;
    if let Some(actor) = recorded_by {
        event.recorded_by = Actor::from_str(actor)?;
    }
    event.effective_at = ts(effective_at)?;
    event.expires_at = ts(expires_at)?;
    event.validity_from = ts(validity_from)?;
    event.source_id = source_id;
    event.evidence = evidence
        .map(|text| serde_json::from_str(text).map_err(|e| invalid(format!("evidence: {e}"))))
        .transpose()?;
    event.target = target.map(parse_uuid).transpose()?;
    Ok(event)
}

/// One event of an `append_many` or `append_outcome` call: a dict with every argument
/// of `append`.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct PlainEvent {
    kind: String,
    subject: String,
    purpose: String,
    recipient: Option<String>,
    notice: Option<(String, String)>,
    explicit: bool,
    method: Option<String>,
    recorded_by: Option<String>,
    effective_at: Option<i64>,
    expires_at: Option<i64>,
    validity_from: Option<i64>,
    source_id: Option<String>,
    evidence: Option<String>,
    target: Option<String>,
}

impl PlainEvent {
    fn into_new_event(self) -> consent_core::Result<NewEvent> {
        new_event(
            &self.kind,
            self.subject,
            self.purpose,
            self.recipient,
            self.notice,
            self.explicit,
            self.method.as_deref(),
            self.recorded_by.as_deref(),
            self.effective_at,
            self.expires_at,
            self.validity_from,
            self.source_id,
            self.evidence.as_deref(),
            self.target.as_deref(),
        )
    }
}

/// The events of an `append_many` call; the first malformed one fails the call
/// before anything is written.
fn new_events(events: Vec<PlainEvent>) -> consent_core::Result<Vec<NewEvent>> {
    events.into_iter().map(PlainEvent::into_new_event).collect()
}

/// The questions of a `status_many` call: any iterable of `(subject, purpose)` or
/// `(subject, purpose, recipient)` tuples (or lists), the recipient a str or None.
/// Anything else is a TypeError naming the question (by index) and what was wrong.
fn questions_from(questions: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String, Option<String>)>> {
    use pyo3::exceptions::PyTypeError;
    use pyo3::types::{PyList, PyString, PyTuple};
    if questions.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "questions must be an iterable of (subject, purpose[, recipient]) tuples, not a str",
        ));
    }
    let text = |i: usize, what: &str, item: &Bound<'_, PyAny>| -> PyResult<String> {
        item.cast::<PyString>()
            .map_err(|_| {
                let type_name = item
                    .get_type()
                    .name()
                    .map_or_else(|_| "?".to_string(), |n| n.to_string());
                PyTypeError::new_err(format!(
                    "question {i}: {what} must be a str, not {type_name}"
                ))
            })?
            .to_cow()
            .map(std::borrow::Cow::into_owned)
    };
    let mut out = Vec::new();
    for (i, question) in questions.try_iter()?.enumerate() {
        let question = question?;
        let parts: Vec<Bound<'_, PyAny>> = if let Ok(t) = question.cast::<PyTuple>() {
            t.iter().collect()
        } else if let Ok(l) = question.cast::<PyList>() {
            l.iter().collect()
        } else {
            let type_name = question.get_type().name()?.to_string();
            return Err(PyTypeError::new_err(format!(
                "question {i} must be a (subject, purpose) or (subject, purpose, recipient) tuple, not {type_name}"
            )));
        };
        if !(2..=3).contains(&parts.len()) {
            return Err(PyTypeError::new_err(format!(
                "question {i} must be a (subject, purpose) or (subject, purpose, recipient) tuple, not a tuple of {}",
                parts.len()
            )));
        }
        let recipient = match parts.get(2) {
            Some(r) if !r.is_none() => Some(text(i, "recipient", r)?),
            _ => None,
        };
        out.push((
            text(i, "subject", &parts[0])?,
            text(i, "purpose", &parts[1])?,
            recipient,
        ));
    }
    Ok(out)
}

fn purpose_def(definition: &str) -> consent_core::Result<PurposeDef> {
    serde_json::from_str(definition).map_err(|e| invalid(format!("purpose definition: {e}")))
}

fn notice_def(definition: &str) -> consent_core::Result<NoticeDef> {
    serde_json::from_str(definition).map_err(|e| invalid(format!("notice definition: {e}")))
}

/// A downstream definition; registering never retires (that is `retire_downstream`).
fn downstream_def(definition: &str) -> consent_core::Result<DownstreamDef> {
    let mut def: DownstreamDef = serde_json::from_str(definition)
        .map_err(|e| invalid(format!("not a downstream definition: {e}")))?;
    def.retired = false;
    Ok(def)
}

/// A registration's outcome as Python's `Registered(value, new)` takes it: the value
/// as JSON, and whether this call appended it.
fn registered<T: Serialize>(outcome: Registered<T>) -> consent_core::Result<(String, bool)> {
    Ok((to_json(&outcome.value)?, outcome.new))
}

/// An append's outcome as Python's `Appended(event, new)` takes it.
fn appended(outcome: Appended) -> (NativeEvent, bool) {
    (NativeEvent(outcome.event), outcome.new)
}

/// A consent ledger on one SQLite file, in a PostgreSQL schema, or in memory. Use
/// `consent_ledger.Ledger`.
#[pyclass(module = "consent_ledger._native", name = "Ledger", frozen)]
struct NativeLedger {
    inner: Arc<Ledger>,
    /// A simulation's clock (milliseconds), set from Python; `None` on a real ledger.
    clock: Option<Arc<AtomicI64>>,
}

#[pymethods]
impl NativeLedger {
    /// Opens (or creates) the ledger file at `path`, or the ledger in PostgreSQL that
    /// `path` names as a `postgresql://` URL.
    #[staticmethod]
    #[pyo3(signature = (
        path, *, read_only = false, create = true, busy_timeout_ms = 30000, synchronous = "full", max_pages = None,
        key_file = None, key = None, erasure_wait_ms = 2000, time_zone = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn open(
        py: Python<'_>,
        path: PathBuf,
        read_only: bool,
        create: bool,
        busy_timeout_ms: u64,
        synchronous: &str,
        max_pages: Option<u64>,
        key_file: Option<PathBuf>,
        key: Option<&[u8]>,
        erasure_wait_ms: u64,
        time_zone: Option<String>,
    ) -> PyResult<Self> {
        let inner = detached(py, move || {
            let options = LedgerOptions {
                read_only,
                create,
                max_pages,
                pseudonym_key: key_source(key_file, key)?,
                erasure_wait: Duration::from_millis(erasure_wait_ms),
                time_zone,
                ..writer_options(busy_timeout_ms, synchronous)?
            };
            Ledger::open_with(path, options)
        })?;
        Ok(NativeLedger {
            inner: Arc::new(inner),
            clock: None,
        })
    }

    /// A ledger that lives in memory only (with a random pseudonym key unless `key`).
    /// With `simulated_now` it is a simulation whose clock reads that time until
    /// `set_simulated_now` moves it (it says so in its first event and in `verify`).
    #[staticmethod]
    #[pyo3(signature = (*, key = None, time_zone = None, simulated_now = None))]
    fn in_memory(
        py: Python<'_>,
        key: Option<&[u8]>,
        time_zone: Option<String>,
        simulated_now: Option<i64>,
    ) -> PyResult<Self> {
        let clock = simulated_now
            .map(|ms| Timestamp::from_millis(ms).map(|t| Arc::new(AtomicI64::new(t.as_millis()))))
            .transpose()
            .map_err(|e| to_py_err(py, &e))?;
        let reading = clock.clone();
        let inner = detached(py, move || {
            let options = LedgerOptions {
                pseudonym_key: key_source(None, key)?,
                time_zone,
                clock: reading.map(|c| {
                    // Only checked values are stored, so the fallback is never taken.
                    Arc::new(move || {
                        Timestamp::from_millis(c.load(Ordering::SeqCst)).unwrap_or(Timestamp::MIN)
                    }) as Arc<dyn Fn() -> Timestamp + Send + Sync>
                }),
                ..LedgerOptions::default()
            };
            Ledger::in_memory_with(options)
        })?;
        Ok(NativeLedger {
            inner: Arc::new(inner),
            clock,
        })
    }

    /// Moves a simulation's clock (milliseconds since the epoch).
    fn set_simulated_now(&self, py: Python<'_>, now: i64) -> PyResult<()> {
        let result = match &self.clock {
            None => Err(invalid(
                "only a simulated ledger's clock can be set: a real ledger's record times come from the system clock",
            )),
            Some(clock) => Timestamp::from_millis(now).map(|t| clock.store(t.as_millis(), Ordering::SeqCst)),
        };
        result.map_err(|e| to_py_err(py, &e))
    }

    /// Closes the ledger; an open batch is rolled back. Closing twice is fine.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        detached(py, || self.inner.close())
    }

    /// Whether the ledger was created as a simulation (a simulated clock).
    fn is_simulated(&self, py: Python<'_>) -> PyResult<bool> {
        detached(py, || self.inner.is_simulated())
    }

    /// The ledger's time zone (IANA name), fixed when it was created.
    fn time_zone(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || self.inner.time_zone())
    }

    /// Opens a batch owned by the caller. Waits while another caller's batch is open.
    fn batch(&self, py: Python<'_>) -> PyResult<NativeBatch> {
        let token = detached(py, || self.inner.begin_batch())?;
        Ok(NativeBatch {
            ledger: Arc::clone(&self.inner),
            token: Mutex::new(Some(token)),
        })
    }

    /// Registers a purpose from its JSON definition (`Ledger::register_purpose_outcome`);
    /// returns `(purpose as JSON, new)`, `new` false when the unchanged definition was
    /// already current and nothing was written.
    fn register_purpose_outcome(
        &self,
        py: Python<'_>,
        definition: &str,
    ) -> PyResult<(String, bool)> {
        detached(py, || {
            registered(
                self.inner
                    .register_purpose_outcome(purpose_def(definition)?)?,
            )
        })
    }

    /// Registers a notice from its JSON definition (`Ledger::register_notice_outcome`);
    /// returns `(notice as JSON, new)`.
    fn register_notice_outcome(
        &self,
        py: Python<'_>,
        definition: &str,
    ) -> PyResult<(String, bool)> {
        detached(py, || {
            registered(
                self.inner
                    .register_notice_outcome(notice_def(definition)?)?,
            )
        })
    }

    /// Reads the registry file at `path` (notice texts from the folder `texts`, or
    /// beside the file) and registers every entry in one batch, all or nothing;
    /// returns the report as JSON.
    #[pyo3(signature = (path, texts = None))]
    fn load_registry(
        &self,
        py: Python<'_>,
        path: PathBuf,
        texts: Option<PathBuf>,
    ) -> PyResult<String> {
        detached(py, || {
            let registry = Registry::from_file(&path, texts.as_deref())?;
            to_json(&self.inner.load_registry(&registry)?)
        })
    }

    /// A purpose as JSON: its current version, or the one `version` names.
    #[pyo3(signature = (id, version = None))]
    fn purpose(&self, py: Python<'_>, id: &str, version: Option<u64>) -> PyResult<String> {
        detached(py, || match version {
            None => to_json(&self.inner.purpose(id)?),
            Some(v) => match u32::try_from(v) {
                Ok(v) => to_json(&self.inner.purpose_version(id, v)?),
                // No purpose has that many versions; an unknown id still says so first.
                Err(_) => {
                    self.inner.purpose_versions(id)?;
                    Err(Error::NotFound(format!(
                        "purpose `{id}` has no version {v}"
                    )))
                }
            },
        })
    }

    /// Every version of one purpose, oldest first, as a JSON list.
    fn purpose_versions(&self, py: Python<'_>, id: &str) -> PyResult<String> {
        detached(py, || to_json(&self.inner.purpose_versions(id)?))
    }

    /// One notice by id and version, as JSON.
    fn notice(&self, py: Python<'_>, id: &str, version: &str) -> PyResult<String> {
        detached(py, || to_json(&self.inner.notice(id, version)?))
    }

    /// Every version of every purpose, as a JSON list.
    fn purposes(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || to_json(&self.inner.purposes()?))
    }

    /// Every registered notice, as a JSON list.
    fn notices(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || to_json(&self.inner.notices()?))
    }

    /// Appends a subject event; times are milliseconds since the epoch. Returns the
    /// stored event.
    #[pyo3(signature = (
        kind, subject, purpose, *, recipient = None, notice = None, explicit = false, method = None,
        recorded_by = None, effective_at = None, expires_at = None, validity_from = None, source_id = None,
        evidence = None, target = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn append(
        &self,
        py: Python<'_>,
        kind: &str,
        subject: String,
        purpose: String,
        recipient: Option<String>,
        notice: Option<(String, String)>,
        explicit: bool,
        method: Option<&str>,
        recorded_by: Option<&str>,
        effective_at: Option<i64>,
        expires_at: Option<i64>,
        validity_from: Option<i64>,
        source_id: Option<String>,
        evidence: Option<&str>,
        target: Option<&str>,
    ) -> PyResult<NativeEvent> {
        detached(py, || {
            let event = new_event(
                kind,
                subject,
                purpose,
                recipient,
                notice,
                explicit,
                method,
                recorded_by,
                effective_at,
                expires_at,
                validity_from,
                source_id,
                evidence,
                target,
            )?;
            self.inner.append(event).map(NativeEvent)
        })
    }

    /// `append`, saying whether the event is new (`Ledger::append_outcome`): the event
    /// a dict of `append`'s arguments (every key present, as for `append_many`); returns
    /// `(event, new)`, `new` false when the same event was already on record under its
    /// source id and nothing was written.
    fn append_outcome(&self, py: Python<'_>, event: PlainEvent) -> PyResult<(NativeEvent, bool)> {
        detached(py, || {
            Ok(appended(
                self.inner.append_outcome(event.into_new_event()?)?,
            ))
        })
    }

    /// Appends every event or none, in one transaction: each a dict of `append`'s
    /// arguments (every key present). Returns the stored events, in order.
    fn append_many(&self, py: Python<'_>, events: Vec<PlainEvent>) -> PyResult<Vec<NativeEvent>> {
        detached(py, || {
            let events = new_events(events)?;
            self.inner.append_many(events).map(records::events)
        })
    }

    /// `append_many`, saying of each event whether it is new
    /// (`Ledger::append_many_outcome`): `[(event, new)]`, in order.
    fn append_many_outcome(
        &self,
        py: Python<'_>,
        events: Vec<PlainEvent>,
    ) -> PyResult<Vec<(NativeEvent, bool)>> {
        detached(py, || {
            let events = new_events(events)?;
            let outcomes = self.inner.append_many_outcome(events)?;
            Ok(outcomes.into_iter().map(appended).collect())
        })
    }

    /// The event with this id (a UUID string).
    fn event(&self, py: Python<'_>, id: &str) -> PyResult<NativeEvent> {
        detached(py, || self.inner.event(parse_uuid(id)?).map(NativeEvent))
    }

    /// The canonical bytes of the event with this id (a UUID string): what its leaf
    /// hash covers, and what `verify_inclusion` checks a proof against.
    fn canonical_event(&self, py: Python<'_>, id: &str) -> PyResult<Vec<u8>> {
        detached(py, || self.inner.canonical_event(parse_uuid(id)?))
    }

    /// Status of `subject` for `purpose` (and `recipient`). Without `at` and
    /// `as_known_at`: now, from the materialized state. Otherwise at `at` (default now)
    /// as known at `as_known_at` (default now).
    #[pyo3(signature = (subject, purpose, recipient = None, at = None, as_known_at = None))]
    fn status(
        &self,
        py: Python<'_>,
        subject: &str,
        purpose: &str,
        recipient: Option<&str>,
        at: Option<i64>,
        as_known_at: Option<i64>,
    ) -> PyResult<NativeStatus> {
        detached(py, || {
            let status = match (ts(at)?, ts(as_known_at)?) {
                (None, None) => self.inner.status(subject, purpose, recipient)?,
                (at, known) => {
                    let at = match at {
                        Some(at) => at,
                        None => self.inner.now()?,
                    };
                    self.inner
                        .status_at(subject, purpose, recipient, at, known)?
                }
            };
            Ok(NativeStatus(status))
        })
    }

    /// The status of every question `(subject, purpose, recipient)`, now, from one
    /// snapshot. The first invalid question fails the call with its own error.
    fn status_many(
        &self,
        py: Python<'_>,
        questions: &Bound<'_, PyAny>,
    ) -> PyResult<Vec<NativeStatus>> {
        let questions = questions_from(questions)?;
        detached(py, || {
            let asked: Vec<(&str, &str, Option<&str>)> = questions
                .iter()
                .map(|(s, p, r)| (s.as_str(), p.as_str(), r.as_deref()))
                .collect();
            let answers = self.inner.status_many(&asked)?;
            Ok(answers.into_iter().map(NativeStatus).collect())
        })
    }

    /// Every event about a subject.
    fn history(&self, py: Python<'_>, subject: &str) -> PyResult<Vec<NativeEvent>> {
        detached(py, || self.inner.history(subject).map(events))
    }

    /// Subjects with consent in force for a purpose (and recipient) at `at` (default
    /// now) as known at `as_known_at` (default now).
    #[pyo3(signature = (purpose, recipient = None, at = None, as_known_at = None))]
    fn consenting(
        &self,
        py: Python<'_>,
        purpose: &str,
        recipient: Option<&str>,
        at: Option<i64>,
        as_known_at: Option<i64>,
    ) -> PyResult<ConsentingTuple> {
        detached(py, || {
            let c = self
                .inner
                .consenting(purpose, recipient, ts(at)?, ts(as_known_at)?)?;
            let subjects = c
                .subjects
                .into_iter()
                .map(|s| {
                    (
                        s.subject,
                        s.event_id.as_bytes().to_vec(),
                        s.since.as_millis(),
                        s.until.map(Timestamp::as_millis),
                    )
                })
                .collect();
            Ok((
                c.purpose,
                c.recipient,
                (c.at.as_millis(), c.as_known_at.as_millis()),
                subjects,
                (c.head.size, hex_lower(&c.head.root)),
            ))
        })
    }

    /// Events with `seq >= since`, at most `limit`.
    fn changes_since(
        &self,
        py: Python<'_>,
        since: u64,
        limit: usize,
    ) -> PyResult<Vec<NativeEvent>> {
        detached(py, || self.inner.changes_since(since, limit).map(events))
    }

    /// The subject-access copy: `(json, events, statuses)`, the JSON holding the rest
    /// (format, subject, exported_at, purposes, notices, head).
    fn export_subject(
        &self,
        py: Python<'_>,
        subject: &str,
    ) -> PyResult<(String, Vec<NativeEvent>, Vec<NativeStatus>)> {
        detached(py, || {
            let mut export = self.inner.export_subject(subject)?;
            let found = std::mem::take(&mut export.events);
            let statuses = std::mem::take(&mut export.statuses);
            Ok((
                to_json(&export)?,
                events(found),
                statuses.into_iter().map(NativeStatus).collect(),
            ))
        })
    }

    /// The subject-access copy as a self-contained HTML page.
    fn export_subject_html(&self, py: Python<'_>, subject: &str) -> PyResult<String> {
        detached(py, || self.inner.export_subject_html(subject))
    }

    /// The current head, written `SIZE:ROOTHEX`.
    fn head(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || Ok(self.inner.head()?.to_string()))
    }

    /// Copies the ledger, as stored, into a new ledger at `dest` (a file path or a
    /// PostgreSQL URL); returns the copy's head, the same as the source's.
    #[pyo3(signature = (dest, *, busy_timeout_ms = 30000, synchronous = "full"))]
    fn copy_to(
        &self,
        py: Python<'_>,
        dest: PathBuf,
        busy_timeout_ms: u64,
        synchronous: &str,
    ) -> PyResult<String> {
        detached(py, || {
            let options = writer_options(busy_timeout_ms, synchronous)?;
            Ok(self.inner.copy_to(&dest, &options)?.head.to_string())
        })
    }

    /// Recomputes every hash; returns the report as JSON.
    fn verify(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || to_json(&self.inner.verify()?))
    }

    /// `verify`, and checks that the log still extends `head` (`SIZE:ROOTHEX`).
    fn verify_against(&self, py: Python<'_>, head: &str) -> PyResult<String> {
        detached(py, || {
            to_json(&self.inner.verify_against(&parse_head(head)?)?)
        })
    }

    /// Inclusion proof of an event (a UUID string), as JSON.
    #[pyo3(signature = (event, tree_size = None))]
    fn prove_inclusion(
        &self,
        py: Python<'_>,
        event: &str,
        tree_size: Option<u64>,
    ) -> PyResult<String> {
        detached(py, || {
            to_json(&self.inner.prove_inclusion(parse_uuid(event)?, tree_size)?)
        })
    }

    /// Consistency proof from `old` (`SIZE:ROOTHEX`), as JSON `[proof, new_head]`.
    #[pyo3(signature = (old, new_size = None))]
    fn prove_consistency(
        &self,
        py: Python<'_>,
        old: &str,
        new_size: Option<u64>,
    ) -> PyResult<String> {
        detached(py, || {
            to_json(&self.inner.prove_consistency(&parse_head(old)?, new_size)?)
        })
    }

    /// Registers a downstream system from its JSON definition
    /// (`Ledger::register_downstream_outcome`); returns `(version as JSON, new)`.
    fn register_downstream_outcome(
        &self,
        py: Python<'_>,
        definition: &str,
        recorded_by: &str,
    ) -> PyResult<(String, bool)> {
        detached(py, || {
            let def = downstream_def(definition)?;
            registered(
                self.inner
                    .register_downstream_outcome(def, Actor::from_str(recorded_by)?)?,
            )
        })
    }

    /// Retires a downstream; returns the new version as JSON.
    fn retire_downstream(&self, py: Python<'_>, id: &str, recorded_by: &str) -> PyResult<String> {
        detached(py, || {
            to_json(
                &self
                    .inner
                    .retire_downstream(id, Actor::from_str(recorded_by)?)?,
            )
        })
    }

    /// Every registered downstream (current versions), as a JSON list.
    fn downstreams(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || to_json(&self.inner.downstreams()?))
    }

    /// Every version of one downstream, as a JSON list.
    fn downstream_versions(&self, py: Python<'_>, id: &str) -> PyResult<String> {
        detached(py, || to_json(&self.inner.downstream_versions(id)?))
    }

    /// Every acknowledgement of one downstream, as a JSON list.
    fn acknowledgements(&self, py: Python<'_>, id: &str) -> PyResult<String> {
        detached(py, || to_json(&self.inner.acknowledgements(id)?))
    }

    /// Records an acknowledgement (`up_to` a seq, or one `event` id); returns it as JSON.
    #[pyo3(signature = (downstream, recorded_by, *, up_to = None, event = None))]
    fn acknowledge(
        &self,
        py: Python<'_>,
        downstream: &str,
        recorded_by: &str,
        up_to: Option<u64>,
        event: Option<&str>,
    ) -> PyResult<String> {
        detached(py, || {
            let what = match (up_to, event) {
                (Some(n), None) => consent_core::Ack::UpTo(n),
                (None, Some(id)) => consent_core::Ack::Event(parse_uuid(id)?),
                _ => return Err(invalid("give exactly one of up_to and event")),
            };
            to_json(
                &self
                    .inner
                    .acknowledge(downstream, what, Actor::from_str(recorded_by)?)?,
            )
        })
    }

    /// A page of a downstream's feed as JSON; `wait_ms` > 0 waits for an item.
    #[pyo3(signature = (downstream, since = None, limit = 1000, wait_ms = 0))]
    fn feed(
        &self,
        py: Python<'_>,
        downstream: &str,
        since: Option<u64>,
        limit: usize,
        wait_ms: u64,
    ) -> PyResult<String> {
        detached(py, || {
            let page = if wait_ms == 0 {
                self.inner.feed(downstream, since, limit)?
            } else {
                self.inner
                    .feed_wait(downstream, since, limit, Duration::from_millis(wait_ms))?
            };
            to_json(&page)
        })
    }

    /// Every deadline of every downstream's feed as known at `at`, as JSON.
    #[pyo3(signature = (at = None))]
    fn deadlines(&self, py: Python<'_>, at: Option<i64>) -> PyResult<String> {
        detached(py, || to_json(&self.inner.deadlines(ts(at)?)?))
    }

    /// The data-protection officer's report (`Ledger::report`) for `[from, to)` in
    /// milliseconds (None: the defaults), as JSON.
    #[pyo3(signature = (from_ms=None, to_ms=None))]
    fn report(&self, py: Python<'_>, from_ms: Option<i64>, to_ms: Option<i64>) -> PyResult<String> {
        detached(py, || {
            let range = ReportRange {
                from: ts(from_ms)?,
                to: ts(to_ms)?,
            };
            to_json(&self.inner.report(range)?)
        })
    }

    /// Erases a subject's personal fields; returns the report as JSON. An id with no
    /// events is refused (NotFound) unless `force`.
    #[pyo3(signature = (subject, reason, recorded_by, *, force = false))]
    fn erase_subject(
        &self,
        py: Python<'_>,
        subject: &str,
        reason: &str,
        recorded_by: &str,
        force: bool,
    ) -> PyResult<String> {
        detached(py, || {
            let actor = Actor::from_str(recorded_by)?;
            let options = ErasureOptions { force };
            to_json(
                &self
                    .inner
                    .erase_subject_with(subject, reason, actor, options)?,
            )
        })
    }

    /// What erasing a subject would blank (a dry run): `(already_erased, events)`.
    fn erasure_preview(&self, py: Python<'_>, subject: &str) -> PyResult<(bool, Vec<NativeEvent>)> {
        detached(py, || {
            let preview = self.inner.erasure_preview(subject)?;
            Ok((preview.already_erased, events(preview.events)))
        })
    }

    /// Erases many subjects, each in its own transaction; returns the report as JSON.
    #[pyo3(signature = (subjects, reason, recorded_by, *, force = false))]
    fn erase_subjects(
        &self,
        py: Python<'_>,
        subjects: Vec<String>,
        reason: &str,
        recorded_by: &str,
        force: bool,
    ) -> PyResult<String> {
        detached(py, || {
            let actor = Actor::from_str(recorded_by)?;
            let options = ErasureOptions { force };
            to_json(
                &self
                    .inner
                    .erase_subjects(&subjects, reason, actor, options)?,
            )
        })
    }

    /// Readmits an erased subject (a returning student); returns the event.
    fn readmit_subject(
        &self,
        py: Python<'_>,
        subject: &str,
        reason: &str,
        recorded_by: &str,
    ) -> PyResult<NativeEvent> {
        detached(py, || {
            let actor = Actor::from_str(recorded_by)?;
            self.inner
                .readmit_subject(subject, reason, actor)
                .map(NativeEvent)
        })
    }

    /// Finishes pending erasures (truncates the WAL), trying for up to `wait_ms`;
    /// returns whether they are complete.
    fn complete_erasures(&self, py: Python<'_>, wait_ms: u64) -> PyResult<bool> {
        detached(py, || {
            self.inner.complete_erasures(Duration::from_millis(wait_ms))
        })
    }

    /// Checkpoints and truncates the WAL; returns whether it completed.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<bool> {
        detached(py, || self.inner.checkpoint())
    }

    /// Signs the current head with the log key in the file `key_path` and keeps it;
    /// returns the signed checkpoint as JSON.
    fn sign_checkpoint(&self, py: Python<'_>, key_path: PathBuf) -> PyResult<String> {
        detached(py, || signing::sign_checkpoint(&self.inner, key_path))
    }

    /// Merges a witness's cosignatures into the stored checkpoint; returns it as JSON.
    fn add_cosignatures(&self, py: Python<'_>, note: &str) -> PyResult<String> {
        detached(py, || signing::add_cosignatures(&self.inner, note))
    }

    /// Every stored checkpoint, in size order, as JSON.
    fn checkpoints(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || signing::checkpoints(&self.inner))
    }

    /// The stored checkpoint of the largest size as JSON, or None.
    fn latest_checkpoint(&self, py: Python<'_>) -> PyResult<Option<String>> {
        detached(py, || signing::latest_checkpoint(&self.inner))
    }

    /// Checks a signed checkpoint note against the ledger; returns the verdict as JSON.
    fn check_checkpoint(
        &self,
        py: Python<'_>,
        note: &str,
        log_key: &str,
        witness_keys: Vec<String>,
        quorum: usize,
    ) -> PyResult<String> {
        detached(py, || {
            signing::check_checkpoint(&self.inner, note, log_key, &witness_keys, quorum)
        })
    }

    /// Checks every stored checkpoint; returns the report as JSON.
    fn verify_checkpoints(
        &self,
        py: Python<'_>,
        log_key: &str,
        witness_keys: Vec<String>,
        quorum: usize,
    ) -> PyResult<String> {
        detached(py, || {
            signing::verify_checkpoints(&self.inner, log_key, &witness_keys, quorum)
        })
    }

    /// The receipt of an event (a UUID string) against `note` (None: the latest stored
    /// checkpoint), in `layout`; returns the receipt's JSON document.
    fn receipt(
        &self,
        py: Python<'_>,
        event: &str,
        note: Option<&str>,
        layout: &str,
    ) -> PyResult<String> {
        detached(py, || signing::receipt(&self.inner, event, note, layout))
    }
}

/// A batch owned by its caller: appends made through it land together on `commit`,
/// or not at all. Use `consent_ledger.Batch` (from `Ledger.batch()`).
///
/// Holds the ledger (so it outlives the `Ledger` object if need be) and the core's
/// batch token, which `commit` and `rollback` spend. Dropped while still open, it
/// rolls back, so a forgotten batch never keeps the ledger locked.
#[pyclass(module = "consent_ledger._native", name = "Batch", frozen)]
struct NativeBatch {
    ledger: Arc<Ledger>,
    token: Mutex<Option<BatchToken>>,
}

impl NativeBatch {
    fn slot(&self) -> MutexGuard<'_, Option<BatchToken>> {
        // The token stays valid whatever a panicking holder was doing: the core
        // checks it on every use.
        self.token.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the live token (the batch's calls run one at a time).
    fn with_token<T>(
        &self,
        f: impl FnOnce(&BatchToken) -> consent_core::Result<T>,
    ) -> consent_core::Result<T> {
        let slot = self.slot();
        let token = slot.as_ref().ok_or_else(ended)?;
        f(token)
    }

    /// Takes the token out: the batch is over whatever the outcome.
    fn take(&self) -> consent_core::Result<BatchToken> {
        self.slot().take().ok_or_else(ended)
    }
}

fn ended() -> Error {
    Error::Batch("the batch has already been committed or rolled back".into())
}

#[pymethods]
impl NativeBatch {
    /// Whether `commit` or `rollback` has been called.
    fn ended(&self) -> bool {
        self.slot().is_none()
    }

    /// Registers a purpose in the batch; returns `(purpose as JSON, new)`, `new` false
    /// when the definition was already current (before the batch, or earlier in it).
    fn register_purpose_outcome(
        &self,
        py: Python<'_>,
        definition: &str,
    ) -> PyResult<(String, bool)> {
        detached(py, || {
            let def = purpose_def(definition)?;
            self.with_token(|t| registered(self.ledger.register_purpose_outcome_in(t, def)?))
        })
    }

    /// Registers a notice in the batch; returns `(notice as JSON, new)`.
    fn register_notice_outcome(
        &self,
        py: Python<'_>,
        definition: &str,
    ) -> PyResult<(String, bool)> {
        detached(py, || {
            let def = notice_def(definition)?;
            self.with_token(|t| registered(self.ledger.register_notice_outcome_in(t, def)?))
        })
    }

    /// Registers a downstream system in the batch; returns `(version as JSON, new)`.
    fn register_downstream_outcome(
        &self,
        py: Python<'_>,
        definition: &str,
        recorded_by: &str,
    ) -> PyResult<(String, bool)> {
        detached(py, || {
            let def = downstream_def(definition)?;
            let by = Actor::from_str(recorded_by)?;
            self.with_token(|t| registered(self.ledger.register_downstream_outcome_in(t, def, by)?))
        })
    }

    /// Appends a subject event in the batch (arguments as `Ledger.append`); returns the
    /// event.
    #[pyo3(signature = (
        kind, subject, purpose, *, recipient = None, notice = None, explicit = false, method = None,
        recorded_by = None, effective_at = None, expires_at = None, validity_from = None, source_id = None,
        evidence = None, target = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn append(
        &self,
        py: Python<'_>,
        kind: &str,
        subject: String,
        purpose: String,
        recipient: Option<String>,
        notice: Option<(String, String)>,
        explicit: bool,
        method: Option<&str>,
        recorded_by: Option<&str>,
        effective_at: Option<i64>,
        expires_at: Option<i64>,
        validity_from: Option<i64>,
        source_id: Option<String>,
        evidence: Option<&str>,
        target: Option<&str>,
    ) -> PyResult<NativeEvent> {
        detached(py, || {
            let event = new_event(
                kind,
                subject,
                purpose,
                recipient,
                notice,
                explicit,
                method,
                recorded_by,
                effective_at,
                expires_at,
                validity_from,
                source_id,
                evidence,
                target,
            )?;
            self.with_token(|t| self.ledger.append_in(t, event).map(NativeEvent))
        })
    }

    /// `append` in the batch, saying whether the event is new (the event a dict, as for
    /// `Ledger.append_outcome`): `(event, new)`, `new` false when the same event was
    /// already on record under its source id, before the batch or earlier in it.
    fn append_outcome(&self, py: Python<'_>, event: PlainEvent) -> PyResult<(NativeEvent, bool)> {
        detached(py, || {
            let event = event.into_new_event()?;
            self.with_token(|t| self.ledger.append_outcome_in(t, event).map(appended))
        })
    }

    /// Appends events in the batch (each as for `Ledger.append_many`), in order, stopping
    /// at the first that fails (the earlier ones stay in the batch).
    fn append_many(&self, py: Python<'_>, events: Vec<PlainEvent>) -> PyResult<Vec<NativeEvent>> {
        detached(py, || {
            let events = new_events(events)?;
            self.with_token(|t| {
                events
                    .into_iter()
                    .map(|e| self.ledger.append_in(t, e).map(NativeEvent))
                    .collect()
            })
        })
    }

    /// The head including the batch's appends, written `SIZE:ROOTHEX`.
    fn head(&self, py: Python<'_>) -> PyResult<String> {
        detached(py, || {
            self.with_token(|t| Ok(self.ledger.head_in(t)?.to_string()))
        })
    }

    /// Commits the batch. A failed commit lands nothing; the batch is over either way.
    fn commit(&self, py: Python<'_>) -> PyResult<()> {
        detached(py, || {
            let token = self.take()?;
            self.ledger.commit_batch(token)
        })
    }

    /// Discards the batch.
    fn rollback(&self, py: Python<'_>) -> PyResult<()> {
        detached(py, || {
            let token = self.take()?;
            self.ledger.rollback_batch(token)
        })
    }
}

impl Drop for NativeBatch {
    fn drop(&mut self) {
        let token = self
            .token
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(token) = token {
            // Quick: the batch's owner never waits for its own turn.
            let _ = self.ledger.rollback_batch(token);
        }
    }
}

/// Checks an inclusion proof (JSON) of `event` (its canonical bytes, from
/// `Ledger.canonical_event`) against a head (`SIZE:ROOTHEX`).
#[pyfunction]
fn verify_inclusion(py: Python<'_>, proof: &str, event: &[u8], head: &str) -> PyResult<()> {
    detached(py, || {
        let proof: InclusionProof =
            serde_json::from_str(proof).map_err(|e| invalid(format!("proof: {e}")))?;
        proof.verify(event, &parse_head(head)?)
    })
}

/// Checks a consistency proof (JSON) between two heads (`SIZE:ROOTHEX`).
#[pyfunction]
fn verify_consistency(py: Python<'_>, proof: &str, old: &str, new: &str) -> PyResult<()> {
    detached(py, || {
        let proof: ConsistencyProof =
            serde_json::from_str(proof).map_err(|e| invalid(format!("proof: {e}")))?;
        proof.verify(&parse_head(old)?, &parse_head(new)?)
    })
}

/// The Rust half of `consent_ledger`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("SCHEMA_VERSION", consent_core::SCHEMA_VERSION)?;
    m.add("MAX_ID_LEN", consent_core::MAX_ID_LEN)?;
    let classes: std::collections::BTreeMap<i32, &str> = ERROR_CLASSES
        .iter()
        .map(|(kind, name)| (*kind as i32, *name))
        .collect();
    // The core's one table of kinds: a kind without a class here would surface as the
    // bare base class; refuse to load instead (the tests load it first).
    if let Some(kind) = ErrorKind::ALL
        .iter()
        .find(|k| !classes.contains_key(&(**k as i32)))
    {
        return Err(pyo3::exceptions::PyImportError::new_err(format!(
            "consent_ledger._native: no exception class for the core's error kind `{}`",
            kind.name()
        )));
    }
    let kinds: std::collections::BTreeMap<i32, &str> = ErrorKind::ALL
        .iter()
        .map(|k| (*k as i32, k.name()))
        .collect();
    m.add("ERROR_KINDS", kinds)?;
    m.add("ERROR_CLASSES", classes)?;
    m.add_class::<NativeLedger>()?;
    m.add_class::<NativeBatch>()?;
    m.add_class::<NativeStatus>()?;
    m.add_class::<NativeEvent>()?;
    m.add_function(wrap_pyfunction!(records::_status_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(records::_event_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(verify_inclusion, m)?)?;
    m.add_function(wrap_pyfunction!(verify_consistency, m)?)?;
    m.add_class::<signing::NativeWitness>()?;
    m.add_function(wrap_pyfunction!(signing::generate_signing_key, m)?)?;
    m.add_function(wrap_pyfunction!(signing::signing_key_verifier, m)?)?;
    m.add_function(wrap_pyfunction!(signing::check_receipt, m)?)?;
    Ok(())
}
