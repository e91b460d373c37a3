//! `Status` and `Event`: the records every check and every append hands back, as
//! native frozen classes.
//!
//! Each holds the core's value and builds a field's Python object only when the field
//! is read: a `status` call costs one small allocation, not a UUID, four datetimes and
//! two enum lookups nobody may look at. The Python types are those of the package
//! (`datetime` in UTC, `uuid.UUID`, the enums and small records of
//! `consent_ledger.model`), found once per process ([`Helpers`]). `repr` and `to_dict`
//! are the package's own (`model._record_repr`, `model._record_dict`), so these
//! records print and convert like every other record.
//!
//! Immutable: assigning an attribute raises `dataclasses.FrozenInstanceError`, as it
//! did when the records were frozen dataclasses. Pickling goes through the core's JSON
//! encoding of the value (`__reduce__`).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use consent_core::Timestamp;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple};

/// The Python objects the records' fields are built with, imported once.
struct Helpers {
    /// `consent_ledger._time.from_millis`.
    from_millis: Py<PyAny>,
    /// `uuid.UUID`.
    uuid: Py<PyAny>,
    /// `types.MappingProxyType`.
    mapping_proxy: Py<PyAny>,
    /// `consent_ledger.model.NoticeRef`.
    notice_ref: Py<PyAny>,
    /// `consent_ledger.model.Actor.parse`.
    actor_parse: Py<PyAny>,
    /// Text -> member dictionaries of the enums (`model._STATE_BY_TEXT`...).
    states: Py<PyAny>,
    bases: Py<PyAny>,
    kinds: Py<PyAny>,
    methods: Py<PyAny>,
    /// `model._record_repr(record, fields)` and `model._record_dict(record, fields, json_safe)`.
    record_repr: Py<PyAny>,
    record_dict: Py<PyAny>,
    /// `model._event_repr(event)`.
    event_repr: Py<PyAny>,
    /// `dataclasses.FrozenInstanceError`.
    frozen_error: Py<PyAny>,
}

static HELPERS: PyOnceLock<Helpers> = PyOnceLock::new();

fn helpers(py: Python<'_>) -> PyResult<&Helpers> {
    HELPERS.get_or_try_init(py, || {
        let model = py.import("consent_ledger.model")?;
        let get = |name: &str| model.getattr(name).map(Bound::unbind);
        Ok(Helpers {
            from_millis: py
                .import("consent_ledger._time")?
                .getattr("from_millis")?
                .unbind(),
            uuid: py.import("uuid")?.getattr("UUID")?.unbind(),
            mapping_proxy: py.import("types")?.getattr("MappingProxyType")?.unbind(),
            notice_ref: get("NoticeRef")?,
            actor_parse: model.getattr("Actor")?.getattr("parse")?.unbind(),
            states: get("_STATE_BY_TEXT")?,
            bases: get("_BASIS_BY_LETTER")?,
            kinds: get("_KIND_BY_TEXT")?,
            methods: get("_METHOD_BY_TEXT")?,
            record_repr: get("_record_repr")?,
            record_dict: get("_record_dict")?,
            event_repr: get("_event_repr")?,
            frozen_error: py
                .import("dataclasses")?
                .getattr("FrozenInstanceError")?
                .unbind(),
        })
    })
}

fn time<'py>(py: Python<'py>, t: Timestamp) -> PyResult<Bound<'py, PyAny>> {
    helpers(py)?.from_millis.bind(py).call1((t.as_millis(),))
}

fn opt_time<'py>(py: Python<'py>, t: Option<Timestamp>) -> PyResult<Option<Bound<'py, PyAny>>> {
    t.map(|t| time(py, t)).transpose()
}

fn uuid<'py>(py: Python<'py>, id: &uuid::Uuid) -> PyResult<Bound<'py, PyAny>> {
    let kwargs = PyDict::new(py);
    kwargs.set_item("bytes", pyo3::types::PyBytes::new(py, id.as_bytes()))?;
    helpers(py)?.uuid.bind(py).call((), Some(&kwargs))
}

fn opt_uuid<'py>(py: Python<'py>, id: Option<&uuid::Uuid>) -> PyResult<Option<Bound<'py, PyAny>>> {
    id.map(|id| uuid(py, id)).transpose()
}

/// The member of a text-keyed enum dictionary.
fn member<'py>(py: Python<'py>, table: &Py<PyAny>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    table.bind(py).get_item(key)
}

fn notice<'py>(
    py: Python<'py>,
    n: Option<&consent_core::NoticeRef>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    n.map(|n| {
        let hex: String = n.sha256.iter().map(|b| format!("{b:02x}")).collect();
        helpers(py)?
            .notice_ref
            .bind(py)
            .call1((n.id.as_str(), n.version.as_str(), hex))
    })
    .transpose()
}

/// A JSON value as plain Python data (dicts, lists, str, int, float, bool, None).
fn json_value<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, item) in map {
                dict.set_item(k, json_value(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// A JSON object as a read-only mapping (a fresh copy each time it is read).
fn frozen_map<'py>(
    py: Python<'py>,
    v: Option<&serde_json::Value>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    v.map(|v| {
        helpers(py)?
            .mapping_proxy
            .bind(py)
            .call1((json_value(py, v)?,))
    })
    .transpose()
}

fn fields<'py>(py: Python<'py>, names: &[&str]) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, names)
}

fn frozen(py: Python<'_>, name: &str) -> PyErr {
    match helpers(py).and_then(|h| {
        h.frozen_error
            .bind(py)
            .call1((format!("cannot assign to field '{name}'"),))
    }) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    }
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> PyResult<T> {
    serde_json::from_str(text).map_err(|e| PyValueError::new_err(format!("not a {what}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

const STATUS_FIELDS: &[&str] = &[
    "purpose",
    "purpose_version",
    "granted_under_version",
    "recipient",
    "state",
    "lawful_basis",
    "event_id",
    "event_seq",
    "since",
    "until",
    "notice",
    "effect_deadline",
    "at",
    "as_known_at",
];

/// The answer to "may we use this subject's data for this purpose at `at`, as the
/// ledger knew it at `as_known_at`?". Frozen; fields are built when read.
#[pyclass(module = "consent_ledger", name = "Status", frozen)]
pub(crate) struct NativeStatus(pub(crate) consent_core::Status);

#[pymethods]
impl NativeStatus {
    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
        fields(py, STATUS_FIELDS)
    }

    /// The purpose asked about.
    #[getter]
    fn purpose(&self) -> &str {
        &self.0.purpose
    }

    /// The version of the purpose in force at `at` (as known at `as_known_at`).
    #[getter]
    fn purpose_version(&self) -> u32 {
        self.0.purpose_version
    }

    /// The purpose version the deciding grant was given under (`None` when the deciding
    /// event is not a grant); older than `purpose_version` after a change, and then
    /// `state` is `State.NEEDS_RENEWAL` if the change was material.
    #[getter]
    fn granted_under_version(&self) -> Option<u32> {
        self.0.granted_under_version
    }

    /// The recipient asked about.
    #[getter]
    fn recipient(&self) -> Option<&str> {
        self.0.recipient.as_deref()
    }

    /// The state (a `State`).
    #[getter]
    fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        member(py, &helpers(py)?.states, self.0.state.as_str())
    }

    /// The purpose's lawful basis (a `LawfulBasis`).
    #[getter]
    fn lawful_basis<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let letter = self.0.lawful_basis.letter().to_string();
        member(py, &helpers(py)?.bases, &letter)
    }

    /// The id of the deciding event (a `uuid.UUID`).
    #[getter]
    fn event_id<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_uuid(py, self.0.event_id.as_ref())
    }

    /// The deciding event's sequence number.
    #[getter]
    fn event_seq(&self) -> Option<u64> {
        self.0.event_seq
    }

    /// Since when this state holds.
    #[getter]
    fn since<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_time(py, self.0.since)
    }

    /// Until when (a grant's expiry).
    #[getter]
    fn until<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_time(py, self.0.until)
    }

    /// The notice the deciding event names (a `NoticeRef`).
    #[getter]
    fn notice<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        notice(py, self.0.notice.as_ref())
    }

    /// For a withdrawal: when downstream systems must have acted.
    #[getter]
    fn effect_deadline<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_time(py, self.0.effect_deadline)
    }

    /// The moment asked about.
    #[getter]
    fn at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.0.at)
    }

    /// The knowledge time asked about.
    #[getter]
    fn as_known_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.0.as_known_at)
    }

    /// Whether processing may go ahead on this answer: consent in force, or a purpose
    /// that does not rest on consent and was not objected to (or whose objection was
    /// overruled). A grant that needs renewal does not permit.
    #[getter]
    fn permits(&self) -> bool {
        self.0.permits()
    }

    /// The record as a plain `dict` (see `Record.to_dict`).
    ///
    /// Raises:
    ///     nothing: it only reads the record.
    #[pyo3(signature = (*, json_safe = false))]
    fn to_dict<'py>(slf: &Bound<'py, Self>, json_safe: bool) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        helpers(py)?
            .record_dict
            .bind(py)
            .call1((slf, fields(py, STATUS_FIELDS)?, json_safe))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let py = slf.py();
        helpers(py)?
            .record_repr
            .bind(py)
            .call1((slf, fields(py, STATUS_FIELDS)?))?
            .extract()
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.0 == other.0
    }

    fn __hash__(&self) -> u64 {
        let s = &self.0;
        let ms = |t: Option<Timestamp>| t.map(Timestamp::as_millis);
        let mut h = DefaultHasher::new();
        (
            &s.purpose,
            s.purpose_version,
            s.granted_under_version,
            &s.recipient,
        )
            .hash(&mut h);
        (s.state, s.lawful_basis, s.event_id, s.event_seq, &s.notice).hash(&mut h);
        (ms(s.since), ms(s.until), ms(s.effect_deadline)).hash(&mut h);
        (s.at.as_millis(), s.as_known_at.as_millis()).hash(&mut h);
        h.finish()
    }

    fn __setattr__(&self, py: Python<'_>, name: &str, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(frozen(py, name))
    }

    fn __delattr__(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        Err(frozen(py, name))
    }

    fn __copy__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __deepcopy__<'py>(slf: PyRef<'py, Self>, _memo: &Bound<'py, PyAny>) -> PyRef<'py, Self> {
        slf
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let rebuild = py
            .import("consent_ledger._native")?
            .getattr("_status_from_json")?;
        Ok((rebuild, (to_json(&self.0)?,)))
    }
}

/// Rebuilds a pickled `Status` from the core's JSON encoding.
#[pyfunction]
pub(crate) fn _status_from_json(text: &str) -> PyResult<NativeStatus> {
    Ok(NativeStatus(from_json(text, "status")?))
}

const EVENT_FIELDS: &[&str] = &[
    "id",
    "seq",
    "kind",
    "subject",
    "purpose",
    "purpose_version",
    "recipient",
    "notice",
    "explicit",
    "method",
    "recorded_by",
    "effective_at",
    "recorded_at",
    "expires_at",
    "effect_deadline",
    "source_id",
    "evidence",
    "target",
    "details",
    "erased",
];

/// An event as stored in the ledger. Personal fields are `None` once erased. Frozen;
/// fields are built when read.
#[pyclass(module = "consent_ledger", name = "Event", frozen)]
pub(crate) struct NativeEvent(pub(crate) consent_core::Event);

#[pymethods]
impl NativeEvent {
    #[classattr]
    fn __match_args__(py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
        fields(py, EVENT_FIELDS)
    }

    /// The event's id (a `uuid.UUID`, UUIDv7).
    #[getter]
    fn id<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        uuid(py, &self.0.id)
    }

    /// Position in the log, from 0; also the Merkle leaf index.
    #[getter]
    fn seq(&self) -> u64 {
        self.0.seq
    }

    /// What happened (an `EventKind`).
    #[getter]
    fn kind<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        member(py, &helpers(py)?.kinds, self.0.kind.as_str())
    }

    /// The subject; `None` for registry events and once erased.
    #[getter]
    fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }

    /// The purpose id.
    #[getter]
    fn purpose(&self) -> Option<&str> {
        self.0.purpose.as_deref()
    }

    /// The version of the purpose in force when the event was appended.
    #[getter]
    fn purpose_version(&self) -> Option<u32> {
        self.0.purpose_version
    }

    /// The recipient named.
    #[getter]
    fn recipient(&self) -> Option<&str> {
        self.0.recipient.as_deref()
    }

    /// The notice shown (a `NoticeRef`).
    #[getter]
    fn notice<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        notice(py, self.0.notice.as_ref())
    }

    /// Whether the consent was explicit (Art. 9(2)(a)).
    #[getter]
    fn explicit(&self) -> bool {
        self.0.explicit
    }

    /// How it was collected (a `Method`).
    #[getter]
    fn method<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0
            .method
            .map(|m| member(py, &helpers(py)?.methods, m.as_str()))
            .transpose()
    }

    /// Who recorded it (an `Actor`).
    #[getter]
    fn recorded_by<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        helpers(py)?
            .actor_parse
            .bind(py)
            .call1((self.0.recorded_by.to_string(),))
    }

    /// When it happened (event time).
    #[getter]
    fn effective_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.0.effective_at)
    }

    /// When the ledger learnt it (record time).
    #[getter]
    fn recorded_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        time(py, self.0.recorded_at)
    }

    /// When a grant lapses.
    #[getter]
    fn expires_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_time(py, self.0.expires_at)
    }

    /// For withdrawals: when downstream systems must have acted.
    #[getter]
    fn effect_deadline<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_time(py, self.0.effect_deadline)
    }

    /// The idempotency key; `None` once erased.
    #[getter]
    fn source_id(&self) -> Option<&str> {
        self.0.source_id.as_deref()
    }

    /// The evidence, a read-only mapping; `None` once erased.
    #[getter]
    fn evidence<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        frozen_map(py, self.0.evidence.as_ref())
    }

    /// For `invalidated`: the grant concerned (a `uuid.UUID`).
    #[getter]
    fn target<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        opt_uuid(py, self.0.target.as_ref())
    }

    /// Non-personal details, a read-only mapping: the definition for registry events,
    /// the reason for erasure.
    #[getter]
    fn details<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        frozen_map(py, self.0.details.as_ref())
    }

    /// Whether the personal fields have been erased.
    #[getter]
    fn erased(&self) -> bool {
        self.0.erased
    }

    /// The record as a plain `dict` (see `Record.to_dict`).
    ///
    /// Raises:
    ///     nothing: it only reads the record.
    #[pyo3(signature = (*, json_safe = false))]
    fn to_dict<'py>(slf: &Bound<'py, Self>, json_safe: bool) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        helpers(py)?
            .record_dict
            .bind(py)
            .call1((slf, fields(py, EVENT_FIELDS)?, json_safe))
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        helpers(slf.py())?
            .event_repr
            .bind(slf.py())
            .call1((slf,))?
            .extract()
    }

    fn __eq__(&self, other: &Self) -> bool {
        self.0 == other.0
    }

    /// The hash of the event's id, as before (`hash(event) == hash(event.id)`).
    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        uuid(py, &self.0.id)?.hash()
    }

    fn __setattr__(&self, py: Python<'_>, name: &str, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(frozen(py, name))
    }

    fn __delattr__(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        Err(frozen(py, name))
    }

    fn __copy__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __deepcopy__<'py>(slf: PyRef<'py, Self>, _memo: &Bound<'py, PyAny>) -> PyRef<'py, Self> {
        slf
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let rebuild = py
            .import("consent_ledger._native")?
            .getattr("_event_from_json")?;
        Ok((rebuild, (to_json(&self.0)?,)))
    }
}

/// Rebuilds a pickled `Event` from the core's JSON encoding.
#[pyfunction]
pub(crate) fn _event_from_json(text: &str) -> PyResult<NativeEvent> {
    Ok(NativeEvent(from_json(text, "event")?))
}

/// A list of events as `Event` objects.
pub(crate) fn events(list: Vec<consent_core::Event>) -> Vec<NativeEvent> {
    list.into_iter().map(NativeEvent).collect()
}
