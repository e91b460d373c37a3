"""Values the ledger hands back: enums and frozen records.

Every record is frozen, with a short ``repr`` (fields that are ``None`` or empty are
left out) and :meth:`Record.to_dict` for JSON or pandas. Times are timezone-aware
:class:`~datetime.datetime` objects in UTC with millisecond precision (what the ledger
stores); ids of events are :class:`uuid.UUID`.

:class:`Status` and :class:`Event` — what every check and every append returns — are
native classes (``consent_ledger._native``) holding the ledger's own value and building
each field when it is read; the other records are frozen dataclasses. All of them are
:class:`Record` instances (``isinstance(status, Record)``).
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import sys
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import (
    TYPE_CHECKING, Any, Dict, Generic, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Tuple, TypeVar, Union,
)
from uuid import UUID

from . import _native
from ._time import EPOCH, from_text, to_text
from .errors import InvalidArgument

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "AcademicYear",
    "Actor",
    "ActorKind",
    "Appended",
    "BulkErasure",
    "ConsentingSubject",
    "Consenting",
    "ConsistencyProof",
    "CourseYear",
    "ErasureOutcome",
    "ErasurePreview",
    "ErasureReport",
    "ErasureResult",
    "Event",
    "EventKind",
    "HashCheck",
    "Head",
    "InclusionProof",
    "LawfulBasis",
    "Method",
    "Notice",
    "NoticeRef",
    "Purpose",
    "Record",
    "Registered",
    "RegistryEntry",
    "RegistryEntryKind",
    "RegistryReport",
    "State",
    "Status",
    "SubjectExport",
    "Validity",
    "VerifyReport",
]


# ---- enums -------------------------------------------------------------------------


class _TextEnum(str, enum.Enum):
    """A string-valued enum whose ``str()`` is its value (like 3.11's ``StrEnum``)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def _coerce(cls, value: object, what: str) -> Self:
        """``value`` as a member: a member, or its text. Wrong types are a TypeError."""
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise TypeError(f"{what} must be a {cls.__name__} or str, not {type(value).__name__}")
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(repr(m.value) for m in cls)
            raise InvalidArgument(f"unknown {what} {value!r} (one of: {choices})") from None


class State(_TextEnum):
    """The state of consent for a subject and purpose at a moment."""

    GIVEN = "given"
    """Consent is in force."""
    REFUSED = "refused"
    """The subject was asked and said no."""
    WITHDRAWN = "withdrawn"
    """The subject withdrew (from that moment on; earlier use stays lawful)."""
    REVOKED = "revoked"
    """The controller stopped relying on the consent."""
    INVALIDATED = "invalidated"
    """The grant was never valid (retroactive)."""
    EXPIRED = "expired"
    """The grant lapsed (e.g. at the end of the academic year)."""
    OBJECTED = "objected"
    """The subject objected (legitimate interests / public task)."""
    NEVER_ASKED = "never_asked"
    """No decision on record."""
    NOT_CONSENT_BASED = "not_consent_based"
    """The purpose does not rest on consent; see the lawful basis. Also the state after
    an objection was overruled (the status's event is then the overruling)."""
    NEEDS_RENEWAL = "needs_renewal"
    """The grant was given under an earlier version of the purpose, which has since
    changed materially (see :attr:`Purpose.material_change`): ask the subject again.
    :attr:`Status.granted_under_version` is the version the grant was given under."""
    ERASED = "erased"
    """The subject's records were erased; the ledger can no longer answer for them."""


class EventKind(_TextEnum):
    """What an event records."""

    LEDGER_CONFIGURED = "ledger_configured"
    """The ledger's first event (seq 0): its format, clock and pseudonym key id."""
    PURPOSE_DEFINED = "purpose_defined"
    NOTICE_DEFINED = "notice_defined"
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    INVALIDATED = "invalidated"
    OBJECTED = "objected"
    """An objection (Art. 21); a withdrawal for a purpose not based on consent is recorded as one."""
    OBJECTION_OVERRULED = "objection_overruled"
    """A member of staff decided the controller's compelling legitimate grounds override
    the objection (Art. 21(1)): processing may go on."""
    NOTICE_SERVED = "notice_served"
    SUBJECT_ERASED = "subject_erased"
    SUBJECT_READMITTED = "subject_readmitted"
    """An erased subject returned (a student enrolling again): the id may consent again."""
    DOWNSTREAM_REGISTERED = "downstream_registered"
    """A downstream system was registered (or a new version of it, or retired)."""
    DOWNSTREAM_ACKNOWLEDGED = "downstream_acknowledged"
    """A downstream system acknowledged acting on its feed (up to a seq, or one event)."""


class Method(_TextEnum):
    """How an event reached the ledger."""

    PORTAL = "portal"
    WEB_FORM = "web_form"
    PAPER = "paper"
    EMAIL = "email"
    FEED = "feed"
    IN_PERSON = "in_person"
    PHONE = "phone"
    API = "api"


class ActorKind(_TextEnum):
    """Who recorded an event."""

    SUBJECT = "subject"
    STAFF = "staff"
    SYSTEM = "system"


_LETTERS = {"a": "consent", "b": "contract", "c": "legal_obligation", "d": "vital_interests",
            "e": "public_task", "f": "legitimate_interests"}


class LawfulBasis(_TextEnum):
    """The lawful basis of Art. 6(1) UK GDPR. Also accepts its letter: ``LawfulBasis("f")``."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"

    @classmethod
    def _missing_(cls, value: object) -> Optional[LawfulBasis]:
        if isinstance(value, str) and value.strip().lower() in _LETTERS:
            return cls(_LETTERS[value.strip().lower()])
        return None

    @property
    def letter(self) -> str:
        """The letter of Art. 6(1): ``"a"`` for consent and so on."""
        return next(k for k, v in _LETTERS.items() if v == self.value)


# ---- records -----------------------------------------------------------------------


def _plain(value: Any, json_safe: bool) -> Any:
    if isinstance(value, Record):
        return value.to_dict(json_safe=json_safe)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return to_text(value) if json_safe else value
    if isinstance(value, timedelta):
        return value.total_seconds() if json_safe else value
    if isinstance(value, UUID):
        return str(value) if json_safe else value
    if isinstance(value, Mapping):
        return {k: _plain(v, json_safe) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, json_safe) for v in value]
    return value


def _short(value: Any) -> str:
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if isinstance(value, datetime):
        return to_text(value)
    if isinstance(value, UUID):
        return f"UUID('{value}')"
    if isinstance(value, Mapping):
        return repr(dict(value))
    return repr(value)


def _record_dict(record: Any, names: Iterable[str], json_safe: bool) -> Dict[str, Any]:
    """``Record.to_dict`` of a record with these fields (the native records' too)."""
    return {name: _plain(getattr(record, name), json_safe) for name in names}


def _record_repr(record: Any, names: Iterable[str]) -> str:
    """``repr`` of a record with these fields: those that are ``None`` or empty left out."""
    parts = []
    for name in names:
        value = getattr(record, name)
        if value is None or (isinstance(value, (tuple, Mapping)) and not value):
            continue
        parts.append(f"{name}={_short(value)}")
    return f"{type(record).__name__}({', '.join(parts)})"


@dataclasses.dataclass(frozen=True, repr=False)
class Record(metaclass=abc.ABCMeta):
    """Base of every result record: frozen, with a compact ``repr`` and :meth:`to_dict`.

    The native records (:class:`Status`, :class:`Event`) are registered as virtual
    subclasses: ``isinstance(ledger.status(...), Record)`` holds.
    """

    def to_dict(self, *, json_safe: bool = False) -> Dict[str, Any]:
        """The record as a plain ``dict`` (nested records become dicts, enums their text).

        With ``json_safe=True`` times become RFC 3339 strings (``...Z``), UUIDs strings and
        durations seconds, so ``json.dumps(record.to_dict(json_safe=True))`` works.
        Without it times stay ``datetime`` objects, which pandas turns into UTC columns.

        Raises:
            nothing: it only reads the record.
        """
        return _record_dict(self, (f.name for f in dataclasses.fields(self)), json_safe)

    def __repr__(self) -> str:
        return _record_repr(self, (f.name for f in dataclasses.fields(self)))

    # Mappings inside records (evidence, details) are read-only proxies, which pickle
    # cannot copy: records travel between processes as plain dicts and are re-wrapped.
    def __getstate__(self) -> Dict[str, Any]:
        return {
            f.name: dict(v) if isinstance(v := getattr(self, f.name), MappingProxyType) else v
            for f in dataclasses.fields(self)
        }

    def __setstate__(self, state: Dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, MappingProxyType(value) if isinstance(value, dict) else value)


@dataclasses.dataclass(frozen=True, repr=False)
class Actor(Record):
    """Who recorded an event: the subject, a member of staff or a system.

    Written ``subject``, ``staff:<id>`` or ``system:<id>``; anywhere an actor is expected
    that text is accepted too.
    """

    kind: ActorKind
    id: Optional[str] = None

    @classmethod
    def subject(cls) -> Actor:
        """The subject themselves.

        Raises:
            nothing: the subject needs no id.
        """
        return cls(ActorKind.SUBJECT)

    @classmethod
    def staff(cls, id: str) -> Actor:
        """A member of staff acting on the subject's behalf.

        Raises:
            nothing: the id is checked where the actor is used (:class:`InvalidArgument`).
        """
        return cls(ActorKind.STAFF, id)

    @classmethod
    def system(cls, id: str) -> Actor:
        """A system (a feed, an integration) acting on the subject's behalf.

        Raises:
            nothing: the id is checked where the actor is used (:class:`InvalidArgument`).
        """
        return cls(ActorKind.SYSTEM, id)

    @classmethod
    def parse(cls, text: str) -> Actor:
        """From ``subject``, ``staff:<id>`` or ``system:<id>``.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: not ``subject``, ``staff:<id>`` or ``system:<id>``.
        """
        if not isinstance(text, str):
            raise TypeError(f"an actor is written subject, staff:<id> or system:<id>, not {type(text).__name__}")
        kind, sep, id = text.partition(":")
        return cls(ActorKind._coerce(kind, "actor kind"), id if sep else None)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.id}" if self.id is not None else self.kind.value


@dataclasses.dataclass(frozen=True, repr=False)
class NoticeRef(Record):
    """The notice an event names: id, version and the SHA-256 (hex) of the text shown."""

    id: str
    version: str
    sha256: str


@dataclasses.dataclass(frozen=True, repr=False)
class AcademicYear(Record):
    """Validity until the end of the academic year: the first ``end_month``/``end_day``
    (inclusive) on or after the grant's start, ending at local midnight in the ledger's
    time zone (:attr:`Ledger.time_zone`, by default Europe/London: 31 July ends at
    23:00 UTC in summer). The notices' year ends on 31 July."""

    end_month: int = 7
    end_day: int = 31


@dataclasses.dataclass(frozen=True, repr=False)
class CourseYear(Record):
    """Validity for one year from the grant's start — its ``validity_from`` (a course
    rep's course start), else its effective time — ending at the local midnight that
    begins the anniversary of that date, in the ledger's time zone."""


#: How long a grant lasts when the event does not say: ``None`` (until withdrawn),
#: a whole number of days as a :class:`~datetime.timedelta`, an :class:`AcademicYear`
#: or a :class:`CourseYear`.
Validity = Union[None, timedelta, AcademicYear, CourseYear]


@dataclasses.dataclass(frozen=True, repr=False)
class Purpose(Record):
    """A registered purpose at one version."""

    id: str
    title: str
    controller: str
    lawful_basis: LawfulBasis
    special_category: Optional[str]
    validity: Validity
    effect_delay: timedelta
    withdrawal_method: str
    recipients: Tuple[str, ...]
    renew_consent: bool
    """The owner declared this version a material change the other fields do not show."""
    version: int
    seq: int
    registered_at: datetime
    material_change: Tuple[str, ...]
    """Why this version is a material change from the one before — among
    ``"lawful_basis"``, ``"controller"``, ``"special_category"``, ``"recipients"`` and
    ``"declared"`` — so that grants given earlier need renewal; empty when it is not."""

    @property
    def is_material_change(self) -> bool:
        """Whether grants given under earlier versions no longer permit (needs renewal)."""
        return bool(self.material_change)

    @property
    def requires_explicit(self) -> bool:
        """Whether grants must be explicit (Art. 9(2)(a) special-category data)."""
        return self.special_category is not None and self.lawful_basis is LawfulBasis.CONSENT


@dataclasses.dataclass(frozen=True, repr=False)
class Notice(Record):
    """A registered privacy notice at one version."""

    id: str
    version: str
    title: str
    sha256: str
    language: str
    url: Optional[str]
    controller: str
    """Whose notice it is (empty for a notice registered before notices named one)."""
    purposes: Tuple[str, ...]
    """The purposes it covers: ids, or prefixes ending in ``.*`` (``"jmsu.project.*"``).
    Empty for a notice registered before notices named them: it covers every purpose."""
    seq: int
    registered_at: datetime

    def covers(self, purpose: str) -> bool:
        """Whether a grant for ``purpose`` may name this notice.

        Raises:
            nothing: it only reads the record.
        """
        return not self.purposes or any(
            purpose.startswith(p[:-1]) if p.endswith(".*") else p == purpose for p in self.purposes
        )

    @property
    def ref(self) -> NoticeRef:
        """This notice as an event names it."""
        return NoticeRef(self.id, self.version, self.sha256)


Event = _native.Event
"""An event as stored in the ledger (native; see ``_native.pyi`` for its fields).
Personal fields are ``None`` once erased. ``hash(event) == hash(event.id)``."""

Status = _native.Status
"""The answer to "may we use this subject's data for this purpose at ``at``, as the
ledger knew it at ``as_known_at``?" (native; see ``_native.pyi`` for its fields).
:attr:`Status.permits` says whether processing may go ahead."""

Record.register(Event)
Record.register(Status)


class Appended(NamedTuple):
    """What :meth:`Ledger.append_outcome` (and :meth:`Batch.append_outcome`,
    :meth:`Ledger.append_many_outcome`) did (``Appended { event, new }`` in Rust):
    ``event, new = ledger.append_outcome(...)``."""

    #: The event: the one just recorded, or the one already on record.
    event: Event
    #: Whether this call recorded it; ``False``: the same event was already on record
    #: under its source id (a retried import row, a resent message) and nothing was written.
    new: bool


_Value = TypeVar("_Value")

if TYPE_CHECKING or sys.version_info >= (3, 11):

    class Registered(NamedTuple, Generic[_Value]):
        """What a registration did (``Registered { value, new }`` in Rust):
        ``purpose, new = ledger.register_purpose_outcome(...)``, the same for
        :meth:`Ledger.register_notice_outcome` and
        :meth:`Ledger.register_downstream_outcome`, and on a :class:`Batch`.
        Decided inside the registration's transaction, so a concurrent writer cannot
        make it wrong, as comparing :meth:`Ledger.head` before and after could."""

        #: What is on record: the :class:`Purpose`, :class:`Notice` or
        #: :class:`Downstream` version just registered, or the unchanged one already current.
        value: _Value
        #: Whether this call appended it; ``False``: the same definition was already
        #: current (before a batch, or earlier in it) and nothing was written.
        new: bool

else:  # pragma: no cover - before 3.11 a NamedTuple cannot also be Generic: the same tuple, untyped

    class Registered(NamedTuple):
        """What a registration did: ``Registered(value, new)`` (typed on 3.11 and later)."""

        value: Any
        new: bool

_EVENT_REPR_FIELDS = ("seq", "kind", "subject", "purpose", "recipient", "explicit", "method", "recorded_by",
                      "effective_at", "recorded_at", "expires_at", "effect_deadline", "erased")


def _event_repr(event: Event) -> str:
    """``repr`` of an :class:`Event`: the fields that say what happened, ``None`` and
    false flags left out."""
    parts = [f"id={_short(event.id)}"]
    for name in _EVENT_REPR_FIELDS:
        value = getattr(event, name)
        if value is None or (value is False and name in ("explicit", "erased")):
            continue
        if name == "recorded_by":
            value = str(value)
        parts.append(f"{name}={_short(value)}")
    return f"Event({', '.join(parts)})"


@dataclasses.dataclass(frozen=True, repr=False)
class Head(Record):
    """A state of the log: its size and Merkle root (hex). ``str(head)`` is ``SIZE:ROOTHEX``;
    keep it elsewhere and pass it to :meth:`Ledger.verify_against` later."""

    size: int
    root: str

    @classmethod
    def parse(cls, text: str) -> Head:
        """From ``SIZE:ROOTHEX``.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: not ``SIZE:ROOTHEX``.
        """
        if not isinstance(text, str):
            raise TypeError(f"a head is written SIZE:ROOTHEX, not {type(text).__name__}")
        size, sep, root = text.strip().partition(":")
        if not sep or not size.isdigit() or len(root) != 64:
            raise InvalidArgument("a head is written SIZE:ROOTHEX (64 hex digits)")
        try:
            bytes.fromhex(root)
        except ValueError:
            raise InvalidArgument("a head's root must be 64 hex digits") from None
        return cls(int(size), root.lower())

    def __str__(self) -> str:
        return f"{self.size}:{self.root}"


@dataclasses.dataclass(frozen=True, repr=False)
class ConsentingSubject(Record):
    """One subject with consent in force, in a :class:`Consenting` answer."""

    subject: str
    event_id: UUID
    since: datetime
    until: Optional[datetime]


@dataclasses.dataclass(frozen=True, repr=False)
class Consenting(Record):
    """Every subject with consent in force for a purpose at a moment, with the head that
    answered. Iterating yields :class:`ConsentingSubject` records; ``"s1" in answer`` asks
    about one subject."""

    purpose: str
    recipient: Optional[str]
    at: datetime
    as_known_at: datetime
    """The answer is as the ledger knew it at this moment (a past extract reproduced)."""
    subjects: Tuple[ConsentingSubject, ...]
    head: Head

    def __iter__(self) -> Iterator[ConsentingSubject]:
        return iter(self.subjects)

    def __len__(self) -> int:
        return len(self.subjects)

    def __contains__(self, subject: object) -> bool:
        return any(s.subject == subject for s in self.subjects)

    @property
    def subject_ids(self) -> Tuple[str, ...]:
        """The subjects' ids, in order."""
        return tuple(s.subject for s in self.subjects)


@dataclasses.dataclass(frozen=True, repr=False)
class VerifyReport(Record):
    """Result of :meth:`Ledger.verify`; true when every hash matched. ``simulated``
    says the ledger was created as a simulation (a simulated clock): its record times
    are not the system's, so it is no evidence of when anything was recorded."""

    ok: bool
    size: int
    first_bad_seq: Optional[int]
    problem: Optional[str]
    head: Optional[Head]
    simulated: bool

    def __bool__(self) -> bool:
        return self.ok


@dataclasses.dataclass(frozen=True, repr=False)
class InclusionProof(Record):
    """Proof that event ``leaf_index`` is in the tree of ``tree_size`` events."""

    leaf_index: int
    tree_size: int
    leaf_hash: str
    path: Tuple[str, ...]
    root: str

    @property
    def head(self) -> Head:
        """The head the proof was made against. Check the proof against a head you kept
        yourself (or obtained independently): checking it against its own is circular."""
        return Head(self.tree_size, self.root)

    def verify(self, event: bytes, head: Union[Head, str]) -> None:
        """Checks that ``event`` — the event's canonical bytes, from
        :meth:`Ledger.canonical_event` — is in the log of the head (of the same size).
        The proof is bound to its event: the leaf hash is recomputed from the bytes and
        the leaf index must be the event's sequence number.

        Raises :class:`ProofRejected` when the bytes are not the proof's event or the
        proof does not lead to the head's root, and :class:`InvalidArgument` for a head
        of another size (or bytes that are not a canonical event).

        Raises:
            TypeError: an argument of the wrong type.
            ProofRejected: the bytes are not the proof's event, or the proof does not lead
                to the head's root.
            InvalidArgument: a head of another size, or bytes that are not a canonical
                event.
        """
        if not isinstance(event, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"event must be the event's canonical bytes (Ledger.canonical_event), not {type(event).__name__}"
            )
        _native.verify_inclusion(_proof_json(self), bytes(event), str(_head(head)))


@dataclasses.dataclass(frozen=True, repr=False)
class ConsistencyProof(Record):
    """Proof that the log of ``old_size`` events is a prefix of the log of ``new_size``."""

    old_size: int
    new_size: int
    path: Tuple[str, ...]

    def verify(self, old: Union[Head, str], new: Union[Head, str]) -> None:
        """Checks the proof between two heads; raises :class:`ProofRejected` if it fails.

        Raises:
            TypeError: an argument of the wrong type.
            ProofRejected: the proof does not lead from ``old`` to ``new``.
            InvalidArgument: a malformed head.
        """
        _native.verify_consistency(_proof_json(self), str(_head(old)), str(_head(new)))


@dataclasses.dataclass(frozen=True, repr=False)
class ErasureReport(Record):
    """What :meth:`Ledger.erase_subject` did. The erasure is :attr:`complete` once the
    write-ahead log was truncated (the erased values are then gone from every file);
    otherwise finish it with :meth:`Ledger.complete_erasures`."""

    event_id: UUID
    seq: int
    events_erased: int
    wal_truncated: bool

    @property
    def complete(self) -> bool:
        """Whether the erasure is complete (the write-ahead log was truncated)."""
        return self.wal_truncated


@dataclasses.dataclass(frozen=True, repr=False)
class ErasurePreview(Record):
    """What :meth:`Ledger.erase_subject` would blank (:meth:`Ledger.erasure_preview`, a
    dry run that writes nothing)."""

    already_erased: bool
    events: Tuple[Event, ...]

    def __len__(self) -> int:
        return len(self.events)


class ErasureResult(_TextEnum):
    """What a bulk erasure did with one id (:attr:`ErasureOutcome.result`)."""

    ERASED = "erased"
    """Erased now."""
    UNKNOWN = "unknown"
    """No event names the id: nothing recorded (``force=True`` records it anyway)."""
    ALREADY_ERASED = "already_erased"
    """Erased before: nothing recorded."""
    FAILED = "failed"
    """Refused (a malformed id, say): nothing recorded; see :attr:`ErasureOutcome.error`."""


@dataclasses.dataclass(frozen=True, repr=False)
class ErasureOutcome(Record):
    """One id of a :class:`BulkErasure`."""

    subject: str
    result: ErasureResult
    seq: Optional[int] = None
    """The ``subject_erased`` event's sequence number (when erased)."""
    events_erased: Optional[int] = None
    """How many events were blanked (when erased)."""
    error: Optional[str] = None
    """Why it failed (when failed)."""


@dataclasses.dataclass(frozen=True, repr=False)
class BulkErasure(Record):
    """What :meth:`Ledger.erase_subjects` did: one outcome per id, in the order given.
    :attr:`complete` says whether the write-ahead log was truncated afterwards."""

    outcomes: Tuple[ErasureOutcome, ...]
    wal_truncated: bool

    @property
    def complete(self) -> bool:
        """Whether the erasures are complete (the write-ahead log was truncated)."""
        return self.wal_truncated

    def __iter__(self) -> Iterator[ErasureOutcome]:
        return iter(self.outcomes)

    def __len__(self) -> int:
        return len(self.outcomes)

    def subjects(self, result: Union[ErasureResult, str]) -> Tuple[str, ...]:
        """The ids with this result, in order: ``report.subjects("unknown")``.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: not an :class:`ErasureResult` or its text.
        """
        wanted = ErasureResult._coerce(result, "erasure result")
        return tuple(o.subject for o in self.outcomes if o.result is wanted)


class RegistryEntryKind(_TextEnum):
    """What a :class:`RegistryEntry` registered."""

    NOTICE = "notice"
    PURPOSE = "purpose"
    DOWNSTREAM = "downstream"


class HashCheck(_TextEnum):
    """How a registry notice's SHA-256 was established when the file was read."""

    CHECKED = "checked"
    """Computed from the text file and equal to the registry's ``sha256``."""
    COMPUTED = "computed"
    """Computed from the text file; the registry gave no ``sha256``."""
    UNCHECKED = "unchecked"
    """Taken from the registry's ``sha256``: the text was not there to check it."""


@dataclasses.dataclass(frozen=True, repr=False)
class RegistryEntry(Record):
    """One notice or purpose of a :class:`RegistryReport`."""

    kind: RegistryEntryKind
    id: str
    notice_version: Optional[str]
    """For a notice: its version label."""
    sha256: Optional[str]
    """For a notice: the SHA-256 (hex) of its text."""
    hash: Optional[HashCheck]
    """For a notice: how its hash was established."""
    purpose_version: Optional[int]
    """For a purpose: the version the ledger now holds (a new one when it changed)."""
    new: bool
    """Whether this load registered it (false: the ledger already held exactly this)."""
    seq: int
    """The sequence number of the event that registered it."""


@dataclasses.dataclass(frozen=True, repr=False)
class RegistryReport(Record):
    """What :meth:`Ledger.load_registry` did: one entry per notice, then one per purpose,
    in file order."""

    entries: Tuple[RegistryEntry, ...]

    @property
    def recorded(self) -> int:
        """How many entries this load registered (0 when the ledger held them all)."""
        return sum(1 for e in self.entries if e.new)

    def __iter__(self) -> Iterator[RegistryEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


@dataclasses.dataclass(frozen=True, repr=False)
class Downstream(Record):
    """One version of a registered downstream system (:meth:`Ledger.register_downstream`):
    the purposes and recipient its feed may show."""

    id: str
    name: str
    controller: str
    purposes: Tuple[str, ...]
    recipient: Optional[str]
    """Its feed shows only purpose-wide events and those naming this recipient."""
    retired: bool
    """A retired version shows no new grant, only the end of the grants it showed."""
    version: int
    seq: int
    """The event that registered this version."""
    registered_at: datetime
    recorded_by: Actor
    first_seq: int
    """The seq of its first registration: deadlines are tracked from there."""


@dataclasses.dataclass(frozen=True, repr=False)
class Acknowledgement(Record):
    """A downstream's acknowledgement (:meth:`Ledger.acknowledge`): it acted on every event
    of its feed up to :attr:`up_to`, or on the one event :attr:`target`."""

    downstream: str
    seq: int
    id: UUID
    up_to: Optional[int]
    target: Optional[UUID]
    recorded_at: datetime
    recorded_by: Actor


@dataclasses.dataclass(frozen=True, repr=False)
class FeedItem(Record):
    """One item of a downstream's feed: what it needs to act, nothing more. On an
    erasure item (``kind`` ``subject_erased``), :attr:`erased_seqs` lists the events of
    this feed that were erased: delete what you hold from them (the subject is not named).
    :attr:`effect_deadline` is the legal one (event time + the purpose's delay);
    :attr:`act_by` is when this downstream must have acted (the same delay after the
    ledger learnt of an event entered late): schedule by it."""

    seq: int
    id: UUID
    kind: EventKind
    subject: Optional[str]
    purpose: Optional[str]
    recipient: Optional[str]
    effective_at: datetime
    recorded_at: datetime
    expires_at: Optional[datetime]
    effect_deadline: Optional[datetime]
    act_by: Optional[datetime]
    erased: bool
    erased_seqs: Tuple[int, ...]


@dataclasses.dataclass(frozen=True, repr=False)
class FeedPage(Record):
    """A page of a downstream's feed (:meth:`Ledger.feed`); continue with ``since=next``."""

    downstream: str
    since: int
    next: int
    size: int
    items: Tuple[FeedItem, ...]

    def __iter__(self) -> Iterator[FeedItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


class DeadlineState(_TextEnum):
    """Where a downstream's deadline stands (:attr:`Deadline.state`)."""

    PENDING = "pending"
    OVERDUE = "overdue"
    ACKNOWLEDGED = "acknowledged"
    ACKNOWLEDGED_LATE = "acknowledged_late"


@dataclasses.dataclass(frozen=True, repr=False)
class Deadline(Record):
    """A withdrawal, revocation or objection in a downstream's feed, and whether the
    downstream acted on it by its effect deadline (:meth:`Ledger.deadlines`)."""

    downstream: str
    seq: int
    event_id: UUID
    kind: EventKind
    purpose: str
    recipient: Optional[str]
    deadline: datetime
    state: DeadlineState
    acknowledged_seq: Optional[int]
    acknowledged_at: Optional[datetime]
    late_by: Optional[timedelta]
    """Overdue: by how long now; acknowledged late: by how long then."""


@dataclasses.dataclass(frozen=True, repr=False)
class SubjectExport(Record):
    """A subject-access copy: everything the ledger holds about one subject.
    ``to_dict(json_safe=True)`` is the portable JSON document."""

    format: str
    subject: str
    exported_at: datetime
    events: Tuple[Event, ...]
    purposes: Tuple[Purpose, ...]
    notices: Tuple[Notice, ...]
    statuses: Tuple[Status, ...]
    head: Head


# ---- decoding the core's JSON --------------------------------------------------------


def _head(value: Union[Head, str]) -> Head:
    if isinstance(value, Head):
        return value
    return Head.parse(value)


def _proof_json(proof: Record) -> str:
    import json

    return json.dumps(proof.to_dict(json_safe=True))


def head_from(d: Mapping[str, Any]) -> Head:
    return Head(d["size"], d["root"])


def validity_from(d: Mapping[str, Any]) -> Validity:
    kind = d.get("kind", "none")
    if kind == "days":
        return timedelta(days=d["days"])
    if kind == "academic_year":
        return AcademicYear(d.get("end_month", 7), d.get("end_day", 31))
    if kind == "course_year":
        return CourseYear()
    return None


_VALIDITY_CHOICES = "None, a timedelta, 'academic_year', AcademicYear, 'course_year' or CourseYear"


def validity_to(value: Any) -> Dict[str, Any]:
    """The core's JSON form of a validity rule (see :data:`Validity`)."""
    if value is None:
        return {"kind": "none"}
    if isinstance(value, str):
        if value == "academic_year":
            value = AcademicYear()
        elif value == "course_year":
            value = CourseYear()
        else:
            raise InvalidArgument(f"unknown validity {value!r} ({_VALIDITY_CHOICES})")
    if isinstance(value, AcademicYear):
        return {"kind": "academic_year", "end_month": value.end_month, "end_day": value.end_day}
    if isinstance(value, CourseYear):
        return {"kind": "course_year"}
    if isinstance(value, timedelta):
        if value <= timedelta(0) or value % timedelta(days=1):
            raise InvalidArgument("a validity given as a timedelta must be a positive whole number of days")
        return {"kind": "days", "days": value.days}
    raise TypeError(f"validity must be {_VALIDITY_CHOICES}, not {type(value).__name__}")


def purpose_from(d: Mapping[str, Any]) -> Purpose:
    return Purpose(
        id=d["id"],
        title=d["title"],
        controller=d["controller"],
        lawful_basis=LawfulBasis(d["lawful_basis"]),
        special_category=d.get("special_category"),
        validity=validity_from(d.get("validity") or {}),
        effect_delay=timedelta(seconds=d.get("effect_delay_secs", 0)),
        withdrawal_method=d.get("withdrawal_method", ""),
        recipients=tuple(d.get("recipients", ())),
        version=d["version"],
        seq=d["seq"],
        registered_at=from_text(d["registered_at"]),
        renew_consent=d.get("renew_consent", False),
        material_change=tuple(d.get("material_change", ())),
    )


def notice_from(d: Mapping[str, Any]) -> Notice:
    return Notice(
        id=d["id"],
        version=d["version"],
        title=d["title"],
        sha256=d["sha256"],
        language=d.get("language", "en-GB"),
        url=d.get("url"),
        seq=d["seq"],
        registered_at=from_text(d["registered_at"]),
        controller=d.get("controller", ""),
        purposes=tuple(d.get("purposes", ())),
    )


_STATE_BY_TEXT: Dict[str, State] = {s.value: s for s in State}
_BASIS_BY_LETTER: Dict[str, LawfulBasis] = {b.letter: b for b in LawfulBasis}
_KIND_BY_TEXT: Dict[str, EventKind] = {k.value: k for k in EventKind}
_METHOD_BY_TEXT: Dict[str, Method] = {m.value: m for m in Method}
"""The enums' members by text, for the native records (see consent-py/src/records.rs)."""


ConsentingTuple = Tuple[
    str, Optional[str], Tuple[int, int], List[Tuple[str, bytes, int, Optional[int]]], Tuple[int, str]
]
"""The native layer's plain-value feed answer (see consent-py/src/lib.rs)."""


def consenting_from_tuple(t: ConsentingTuple) -> Consenting:
    """A :class:`Consenting` from the native layer's tuple: the feed can list a whole
    year's students, so each costs one tuple, not a JSON object."""
    purpose, recipient, (at, known), subjects, (size, root) = t
    epoch, ms = EPOCH, timedelta(milliseconds=1)
    return Consenting(
        purpose=purpose,
        recipient=recipient,
        at=epoch + at * ms,
        as_known_at=epoch + known * ms,
        subjects=tuple(
            ConsentingSubject(subject, UUID(bytes=event_id), epoch + since * ms, None if until is None else epoch + until * ms)
            for subject, event_id, since, until in subjects
        ),
        head=Head(size, root),
    )


def verify_report_from(d: Mapping[str, Any]) -> VerifyReport:
    head = d.get("head")
    return VerifyReport(d["ok"], d["size"], d.get("first_bad_seq"), d.get("problem"),
                        None if head is None else head_from(head), d.get("simulated", False))


def inclusion_proof_from(d: Mapping[str, Any]) -> InclusionProof:
    return InclusionProof(d["leaf_index"], d["tree_size"], d["leaf_hash"], tuple(d["path"]), d["root"])


def consistency_proof_from(d: Mapping[str, Any]) -> ConsistencyProof:
    return ConsistencyProof(d["old_size"], d["new_size"], tuple(d["path"]))


def erasure_report_from(d: Mapping[str, Any]) -> ErasureReport:
    return ErasureReport(UUID(d["event_id"]), d["seq"], d["events_erased"], d["wal_truncated"])


def erasure_preview_from(t: Tuple[bool, List[Event]]) -> ErasurePreview:
    already_erased, events = t
    return ErasurePreview(already_erased, tuple(events))


def bulk_erasure_from(d: Mapping[str, Any]) -> BulkErasure:
    return BulkErasure(
        outcomes=tuple(
            ErasureOutcome(
                subject=o["subject"],
                result=ErasureResult(o["outcome"]),
                seq=o.get("seq"),
                events_erased=o.get("events_erased"),
                error=o.get("error"),
            )
            for o in d["outcomes"]
        ),
        wal_truncated=d["wal_truncated"],
    )


def registry_report_from(d: Mapping[str, Any]) -> RegistryReport:
    return RegistryReport(
        tuple(
            RegistryEntry(
                kind=RegistryEntryKind(e["kind"]),
                id=e["id"],
                notice_version=e.get("notice_version"),
                sha256=e.get("sha256"),
                hash=None if e.get("hash") is None else HashCheck(e["hash"]),
                purpose_version=e.get("purpose_version"),
                new=e["new"],
                seq=e["seq"],
            )
            for e in d["entries"]
        )
    )


def subject_export_from(t: Tuple[str, List[Event], List[Status]]) -> SubjectExport:
    """From the native ``(json, events, statuses)``: the JSON holds the rest."""
    import json

    text, events, statuses = t
    d = json.loads(text)
    return SubjectExport(
        format=d["format"],
        subject=d["subject"],
        exported_at=from_text(d["exported_at"]),
        events=tuple(events),
        purposes=tuple(purpose_from(p) for p in d["purposes"]),
        notices=tuple(notice_from(n) for n in d["notices"]),
        statuses=tuple(statuses),
        head=head_from(d["head"]),
    )




def _opt_time(v: Optional[str]) -> Optional[datetime]:
    return None if v is None else from_text(v)


def downstream_from(d: Mapping[str, Any]) -> Downstream:
    df = d["def"]
    return Downstream(
        id=df["id"],
        name=df["name"],
        controller=df["controller"],
        purposes=tuple(df["purposes"]),
        recipient=df.get("recipient"),
        retired=df.get("retired", False),
        version=d["version"],
        seq=d["seq"],
        registered_at=from_text(d["registered_at"]),
        recorded_by=Actor.parse(d["recorded_by"]),
        first_seq=d["first_seq"],
    )


def acknowledgement_from(d: Mapping[str, Any]) -> Acknowledgement:
    return Acknowledgement(
        downstream=d["downstream"],
        seq=d["seq"],
        id=UUID(d["id"]),
        up_to=d.get("up_to"),
        target=None if d.get("target") is None else UUID(d["target"]),
        recorded_at=from_text(d["recorded_at"]),
        recorded_by=Actor.parse(d["recorded_by"]),
    )


def feed_page_from(d: Mapping[str, Any]) -> FeedPage:
    return FeedPage(
        downstream=d["downstream"],
        since=d["since"],
        next=d["next"],
        size=d["size"],
        items=tuple(
            FeedItem(
                seq=i["seq"],
                id=UUID(i["id"]),
                kind=EventKind(i["kind"]),
                subject=i.get("subject"),
                purpose=i.get("purpose"),
                recipient=i.get("recipient"),
                effective_at=from_text(i["effective_at"]),
                recorded_at=from_text(i["recorded_at"]),
                expires_at=_opt_time(i.get("expires_at")),
                effect_deadline=_opt_time(i.get("effect_deadline")),
                act_by=_opt_time(i.get("act_by")),
                erased=i["erased"],
                erased_seqs=tuple(i["erased_seqs"]),
            )
            for i in d["items"]
        ),
    )


def deadline_from(d: Mapping[str, Any]) -> Deadline:
    late = d.get("late_by_secs")
    return Deadline(
        downstream=d["downstream"],
        seq=d["seq"],
        event_id=UUID(d["event_id"]),
        kind=EventKind(d["kind"]),
        purpose=d["purpose"],
        recipient=d.get("recipient"),
        deadline=from_text(d["deadline"]),
        state=DeadlineState(d["state"]),
        acknowledged_seq=d.get("acknowledged_seq"),
        acknowledged_at=_opt_time(d.get("acknowledged_at")),
        late_by=None if late is None else timedelta(seconds=late),
    )
