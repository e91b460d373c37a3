"""The :class:`Ledger`: record consent decisions and ask what was in force when."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import os
import warnings
from datetime import date, datetime, time, timedelta
from types import TracebackType
from typing import Any, Dict, Iterable, Iterator, List, Literal, Mapping, Optional, Tuple, Type, Union
from uuid import UUID

from . import _native
from ._native import Batch as _NativeBatch
from ._time import to_millis
from .errors import InvalidArgument, InvalidTime, LedgerClosed, TamperDetected
from .trust import (
    RECEIPT_LAYOUTS,
    CheckpointsReport,
    CheckpointVerdict,
    SignedCheckpoint,
    _keys,
    _quorum,
    checkpoints_report_from,
    signed_checkpoint_from,
    verdict_from,
)
from .model import (
    AcademicYear,
    Acknowledgement,
    Actor,
    Appended,
    BulkErasure,
    Deadline,
    DeadlineState,
    Downstream,
    FeedPage,
    Consenting,
    ConsistencyProof,
    CourseYear,
    ErasurePreview,
    ErasureReport,
    Event,
    EventKind,
    Head,
    InclusionProof,
    LawfulBasis,
    Method,
    Notice,
    NoticeRef,
    Purpose,
    Registered,
    RegistryReport,
    Status,
    SubjectExport,
    VerifyReport,
    _head,
    acknowledgement_from,
    bulk_erasure_from,
    deadline_from,
    downstream_from,
    feed_page_from,
    consenting_from_tuple,
    consistency_proof_from,
    erasure_preview_from,
    erasure_report_from,
    head_from,
    inclusion_proof_from,
    notice_from,
    purpose_from,
    registry_report_from,
    subject_export_from,
    validity_to,
    verify_report_from,
)

__all__ = ["Batch", "Ledger", "NewEvent", "NoticeLike", "MethodLike", "ActorLike", "Question", "Synchronous"]

#: A notice as events name it: ``(id, version)``, a registered :class:`Notice` or a :class:`NoticeRef`.
NoticeLike = Union[Tuple[str, str], Notice, NoticeRef]
#: A collection method: a :class:`Method` or its text (``"portal"``).
MethodLike = Union[Method, str]
#: Who recorded an event: an :class:`Actor` or its text (``"subject"``, ``"staff:ab12"``).
ActorLike = Union[Actor, str]
#: A filesystem path.
StrPath = Union[str, "os.PathLike[str]"]
#: How durable a commit is (``LedgerOptions::synchronous`` in Rust, ``consent_options.synchronous``
#: in C): ``"full"`` syncs every commit to disk, ``"normal"`` only at checkpoints.
Synchronous = Literal["full", "normal"]
#: A question for :meth:`Ledger.status_many`: ``(subject, purpose)`` or ``(subject, purpose, recipient)``.
Question = Union[Tuple[str, str], Tuple[str, str, Optional[str]]]


@dataclasses.dataclass(frozen=True)
class NewEvent:
    """An event to record with :meth:`Ledger.append_many` or
    :meth:`Ledger.append_outcome`: the arguments of
    :meth:`Ledger.append`, with the same defaults and the same checks. From a row of
    keyword arguments: ``NewEvent(**row)``."""

    kind: Union[EventKind, str]
    subject: str
    purpose: str
    recipient: Optional[str] = None
    notice: Optional[NoticeLike] = None
    explicit: bool = False
    method: Optional[MethodLike] = None
    recorded_by: ActorLike = "subject"
    effective_at: Optional[datetime] = None
    expires_at: Optional[datetime] = None
    validity_from: Optional[datetime] = None
    source_id: Optional[str] = None
    evidence: Optional[Mapping[str, Any]] = None
    target: Union[UUID, Event, None] = None


def _plain_event(
    kind: Union[EventKind, str],
    subject: str,
    purpose: str,
    recipient: Optional[str],
    notice: Optional[NoticeLike],
    explicit: bool,
    method: Optional[MethodLike],
    recorded_by: ActorLike,
    effective_at: Optional[datetime],
    expires_at: Optional[datetime],
    validity_from: Optional[datetime],
    source_id: Optional[str],
    evidence: Optional[Mapping[str, Any]],
    target: Union[UUID, Event, None],
) -> Dict[str, Any]:
    """The native layer's arguments for one event (of :meth:`_Recorder.append` or a
    :class:`NewEvent`), checked (TypeError, InvalidArgument, InvalidTime) before
    anything is written."""
    if not isinstance(explicit, bool):
        raise TypeError(f"explicit must be a bool, not {type(explicit).__name__}")
    return {
        "kind": EventKind._coerce(kind, "event kind").value,
        "subject": _str(subject, "subject"),
        "purpose": _str(purpose, "purpose"),
        "recipient": _opt_str(recipient, "recipient"),
        "notice": _notice_key(notice),
        "explicit": explicit,
        "method": None if method is None else Method._coerce(method, "method").value,
        "recorded_by": _actor_text(recorded_by),
        "effective_at": to_millis(effective_at, "effective_at"),
        "expires_at": to_millis(expires_at, "expires_at"),
        "validity_from": to_millis(validity_from, "validity_from"),
        "source_id": _opt_str(source_id, "source_id"),
        "evidence": _evidence_text(evidence),
        "target": _target_text(target),
    }


def _plain_new_event(e: NewEvent) -> Dict[str, Any]:
    """The native layer's arguments for a :class:`NewEvent`, checked."""
    return _plain_event(
        e.kind, e.subject, e.purpose, e.recipient, e.notice, e.explicit, e.method, e.recorded_by,
        e.effective_at, e.expires_at, e.validity_from, e.source_id, e.evidence, e.target,
    )


def _plain_events(events: Iterable[NewEvent]) -> List[Dict[str, Any]]:
    """Every event of an ``append_many`` call, checked; a bad one raises its error with
    its index (``events[3]: ...``), and nothing is written."""
    if isinstance(events, (str, bytes, Mapping)) or isinstance(events, NewEvent):
        raise TypeError(f"events must be an iterable of NewEvent, not {type(events).__name__}")
    plain = []
    for i, e in enumerate(events):
        if not isinstance(e, NewEvent):
            hint = ": NewEvent(**row)" if isinstance(e, Mapping) else ""
            raise TypeError(f"events[{i}] must be a NewEvent, not {type(e).__name__}{hint}")
        try:
            plain.append(_plain_new_event(e))
        except (TypeError, ValueError) as error:
            raise type(error)(f"events[{i}]: {error}") from error
    return plain


def _notice_key(notice: Optional[NoticeLike]) -> Optional[Tuple[str, str]]:
    if notice is None:
        return None
    if isinstance(notice, (Notice, NoticeRef)):
        return (notice.id, notice.version)
    if isinstance(notice, tuple) and len(notice) == 2 and all(isinstance(x, str) for x in notice):
        return (notice[0], notice[1])
    raise TypeError("notice must be (id, version), a Notice or a NoticeRef")


def _actor_text(actor: ActorLike) -> str:
    if isinstance(actor, Actor):
        return str(actor)
    if isinstance(actor, str):
        return actor
    raise TypeError(f"recorded_by must be an Actor or str, not {type(actor).__name__}")


def _synchronous(synchronous: Optional[Synchronous], durable: Optional[bool]) -> str:
    """The durability to open with, from ``synchronous=`` or the deprecated ``durable=``
    (one release: a :class:`DeprecationWarning` pointing at the caller's call)."""
    if durable is None:
        name = "full" if synchronous is None else synchronous
        if not isinstance(name, str):
            raise TypeError(f"synchronous must be \"full\" or \"normal\", not {type(name).__name__}")
        if name not in ("full", "normal"):
            raise InvalidArgument(f"synchronous must be \"full\" or \"normal\", not {name!r}")
        return name
    if synchronous is not None:
        raise TypeError("give synchronous= (\"full\" or \"normal\") or the deprecated durable=, not both")
    warnings.warn(
        "durable= is deprecated (it goes in the next release): use synchronous=\"full\" "
        "(durable=True) or synchronous=\"normal\" (durable=False)",
        DeprecationWarning,
        stacklevel=3,
    )
    return "full" if _bool(durable, "durable") else "normal"


def _opt_str(value: Optional[str], what: str) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a str or None, not {type(value).__name__}")
    return value


def _path(value: StrPath, what: str) -> str:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{what} must be a str or os.PathLike, not {type(value).__name__}")
    text = os.fspath(value)
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a text path, not bytes")
    return text


def _is_postgres_url(location: str) -> bool:
    """Whether ``location`` names a ledger in PostgreSQL rather than a file."""
    return location.startswith(("postgresql://", "postgres://"))


def _redacted(location: str) -> str:
    """``location`` without the password of a PostgreSQL URL, in its user part or a
    ``password=`` parameter (for ``repr``)."""
    if not _is_postgres_url(location):
        return location
    scheme, _, rest = location.partition("://")
    rest, question, query = rest.partition("?")
    userinfo, at, host = rest.partition("@")
    user, colon, _password = userinfo.partition(":")
    if at and colon:
        rest = f"{user}:***@{host}"
    params = ["password=***" if p.startswith("password=") else p for p in query.split("&")]
    return f"{scheme}://{rest}{question}{'&'.join(params)}"


def _bool(value: bool, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what} must be a bool, not {type(value).__name__}")
    return value


def _str(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _target_text(target: Union[UUID, Event, None]) -> Optional[str]:
    if target is None:
        return None
    if isinstance(target, Event):
        return str(target.id)
    if isinstance(target, UUID):
        return str(target)
    raise TypeError(f"target must be a uuid.UUID or an Event, not {type(target).__name__}")


def _event_id(event: Union[UUID, Event]) -> str:
    text = _target_text(event)
    if text is None:
        raise TypeError("event must be a uuid.UUID or an Event, not None")
    return text


def _seconds(value: Union[timedelta, float], what: str) -> float:
    """A duration given as a timedelta or seconds, checked."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise TypeError(f"{what} must be a timedelta or seconds, not {type(value).__name__}")
    if not seconds >= 0:  # also refuses NaN
        raise InvalidArgument(f"{what} must not be negative")
    return seconds


def _millis(value: Union[timedelta, float], what: str) -> int:
    return int(_seconds(value, what) * 1000)


#: serde_json's nesting limit: deeper evidence is refused (and a cycle never recurses for ever).
_MAX_EVIDENCE_DEPTH = 128


def _json_plain(value: Any, path: str, depth: int = 0) -> Any:
    """``value`` as plain JSON data (dicts, lists, str, int, float, bool, None), or
    :class:`InvalidArgument` naming where in the evidence the first value JSON cannot
    hold sits, and what to give instead. Nothing is converted behind the caller's back:
    a datetime is refused, not turned into text in some format and zone of our choosing."""
    if depth > _MAX_EVIDENCE_DEPTH:
        raise InvalidArgument(f"{path}: evidence is nested more than {_MAX_EVIDENCE_DEPTH} levels deep")
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**64:
            raise InvalidArgument(
                f"{path} = {value} is too large for the ledger to keep exactly; give it as text: str(value)"
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"{path} is {value!r}, which JSON cannot hold; give it as text, or leave it out")
        return value
    if isinstance(value, Mapping):
        plain: Dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidArgument(
                    f"{path} has the key {key!r} ({type(key).__name__}): JSON object keys are text; use str keys"
                )
            plain[key] = _json_plain(item, f"{path}[{key!r}]", depth + 1)
        return plain
    if isinstance(value, (list, tuple)):
        return [_json_plain(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, (datetime, date, time)):
        kind = type(value).__name__
        if isinstance(value, (datetime, time)) and value.utcoffset() is None:
            # Refused like a naive time anywhere else (InvalidTime): which zone was it?
            raise InvalidTime(
                f"{path} is a naive {kind}, which JSON cannot hold and which is ambiguous: give it as "
                f"ISO 8601 text with its offset, .isoformat() of an aware {kind} "
                f"(e.g. {kind}(..., tzinfo=timezone.utc))"
            )
        raise InvalidArgument(
            f"{path} is a {kind}, which JSON cannot hold: give it as ISO 8601 text, {path}.isoformat()"
        )
    what = type(value).__name__
    if isinstance(value, (set, frozenset)):
        hint = "give a list"
    elif isinstance(value, (bytes, bytearray, memoryview)):
        hint = "give text, e.g. bytes.hex()"
    else:
        hint = "give text, a number, a bool, None, a list or a dict"
    raise InvalidArgument(f"{path} is a {what}, which is not a JSON value: {hint}")


def _evidence_text(evidence: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The evidence as JSON text for the ledger (see :func:`_json_plain`)."""
    if evidence is None:
        return None
    if not isinstance(evidence, Mapping):
        raise TypeError(f"evidence must be a mapping (a JSON object), not {type(evidence).__name__}")
    return json.dumps(_json_plain(evidence, "evidence"), allow_nan=False)


def _key_bytes(key: Optional[bytes]) -> Optional[bytes]:
    if key is None:
        return None
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise TypeError(f"key must be 32 bytes, not {type(key).__name__}")
    key = bytes(key)
    if len(key) != 32:
        raise InvalidArgument(f"a pseudonym key is 32 bytes, not {len(key)}")
    return key


class _Recorder:
    """What a :class:`Ledger` and a :class:`Batch` share: registering purposes and
    notices, and recording decisions. Each call goes to ``_native``: straight to the
    ledger, or into the batch."""

    _native: Union[_native.Ledger, _native.Batch]

    # ---- registry --------------------------------------------------------------------

    def register_purpose(
        self,
        id: str,
        title: str,
        controller: str,
        *,
        lawful_basis: Union[LawfulBasis, str] = LawfulBasis.CONSENT,
        special_category: Optional[str] = None,
        validity: Union[None, timedelta, str, AcademicYear, CourseYear] = None,
        effect_delay: timedelta = timedelta(0),
        withdrawal_method: str = "",
        recipients: Iterable[str] = (),
        renew_consent: bool = False,
    ) -> Purpose:
        """Registers a purpose, or a new version of it (an unchanged definition appends
        nothing and returns the current version).

        ``lawful_basis``: a :class:`LawfulBasis`, its name or its Art. 6(1) letter.
        ``special_category``: the Art. 9(2) condition letter (``"a"``..``"j"``) when the
        purpose involves special-category data; grants must then be explicit.
        ``validity``: how long a grant lasts by default: ``None`` (until withdrawn), a
        whole number of days as a timedelta, ``"academic_year"`` (to 31 July) or an
        :class:`AcademicYear` (ending at midnight in the ledger's time zone),
        ``"course_year"`` or a :class:`CourseYear` (one year from the grant's
        ``validity_from``). ``effect_delay``: how long downstream systems may take to
        honour a withdrawal (whole seconds). ``recipients``: the registry ids of the
        recipients the purpose shares with, compared exactly; events and questions may
        name only these, and a purpose that lists recipients must be asked about one of
        them (empty: no event or question may name a recipient).

        A new version is a *material change* when its lawful basis or controller
        differs, it becomes special-category (or changes the Art. 9(2) letter), it adds
        a recipient, or ``renew_consent=True`` declares one the fields do not show:
        grants given before then stop permitting (:attr:`State.NEEDS_RENEWAL`) until the
        subject consents again. :attr:`Purpose.material_change` says why.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a malformed definition (an id, a letter, a validity, a delay).
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.register_purpose_outcome(
            id, title, controller, lawful_basis=lawful_basis, special_category=special_category, validity=validity,
            effect_delay=effect_delay, withdrawal_method=withdrawal_method, recipients=recipients,
            renew_consent=renew_consent,
        ).value

    def register_purpose_outcome(
        self,
        id: str,
        title: str,
        controller: str,
        *,
        lawful_basis: Union[LawfulBasis, str] = LawfulBasis.CONSENT,
        special_category: Optional[str] = None,
        validity: Union[None, timedelta, str, AcademicYear, CourseYear] = None,
        effect_delay: timedelta = timedelta(0),
        withdrawal_method: str = "",
        recipients: Iterable[str] = (),
        renew_consent: bool = False,
    ) -> Registered[Purpose]:
        """Registers a purpose as :meth:`register_purpose` does, and says whether a new
        version was appended: returns ``Registered(purpose, new)``, ``new`` false when
        the unchanged definition was already current (in a :class:`Batch`: before the
        batch, or earlier in it) and nothing was written::

            purpose, new = ledger.register_purpose_outcome("jmsu.events", "JMSU events", "JMSU")

        Raises:
            TypeError, InvalidArgument: as :meth:`register_purpose`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        basis = LawfulBasis._coerce(lawful_basis, "lawful basis")
        if special_category is not None and (not isinstance(special_category, str) or len(special_category) != 1):
            if not isinstance(special_category, str):
                raise TypeError("special_category must be an Art. 9(2) letter (str) or None")
            raise InvalidArgument("special_category must be one Art. 9(2) letter, a..j")
        if not isinstance(effect_delay, timedelta):
            raise TypeError(f"effect_delay must be a timedelta, not {type(effect_delay).__name__}")
        if effect_delay < timedelta(0) or effect_delay % timedelta(seconds=1):
            raise InvalidArgument("effect_delay must be a non-negative whole number of seconds")
        if isinstance(recipients, str):
            raise TypeError("recipients must be an iterable of str, not a single str")
        recipient_list = [_str(r, "recipient") for r in recipients]
        if not isinstance(renew_consent, bool):
            raise TypeError(f"renew_consent must be a bool, not {type(renew_consent).__name__}")
        definition: Dict[str, Any] = {
            "id": _str(id, "id"),
            "title": _str(title, "title"),
            "controller": _str(controller, "controller"),
            "lawful_basis": basis.value,
            "validity": validity_to(validity),
            "effect_delay_secs": int(effect_delay.total_seconds()),
            "withdrawal_method": _str(withdrawal_method, "withdrawal_method"),
            "recipients": recipient_list,
        }
        if renew_consent:
            definition["renew_consent"] = True
        if special_category is not None:
            definition["special_category"] = special_category.lower()
        text, new = self._native.register_purpose_outcome(json.dumps(definition))
        return Registered(purpose_from(json.loads(text)), new)

    def register_notice(
        self,
        id: str,
        version: str,
        title: str,
        *,
        controller: str,
        purposes: Iterable[str],
        text: Optional[str] = None,
        sha256: Union[str, bytes, None] = None,
        language: str = "en-GB",
        url: Optional[str] = None,
    ) -> Notice:
        """Registers a privacy notice at a version, identified by the SHA-256 of the text
        shown: give the ``text`` (hashed as UTF-8) or its ``sha256`` (hex or 32 bytes).
        Registering the same id and version again with other content raises :class:`Conflict`.

        ``controller`` says whose notice it is and ``purposes`` which purposes it
        describes: purpose ids, or prefixes ending in ``.*`` (``"jmsu.project.*"``). Both
        are required (an empty one raises :class:`InvalidArgument`): a grant, refusal or
        notice served naming a notice that does not cover its purpose raises
        :class:`InvalidConsent`.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a malformed definition (an empty ``controller`` or
                ``purposes``, a bad hash).
            Conflict: the id and version are registered with other content.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.register_notice_outcome(
            id, version, title, controller=controller, purposes=purposes, text=text, sha256=sha256,
            language=language, url=url,
        ).value

    def register_notice_outcome(
        self,
        id: str,
        version: str,
        title: str,
        *,
        controller: str,
        purposes: Iterable[str],
        text: Optional[str] = None,
        sha256: Union[str, bytes, None] = None,
        language: str = "en-GB",
        url: Optional[str] = None,
    ) -> Registered[Notice]:
        """Registers a notice as :meth:`register_notice` does, and says whether it was
        appended: returns ``Registered(notice, new)``, ``new`` false when the same id,
        version and content were already registered (in a :class:`Batch`: before the
        batch, or earlier in it) and nothing was written.

        Raises:
            TypeError, InvalidArgument, Conflict: as :meth:`register_notice`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        if (text is None) == (sha256 is None):
            raise TypeError("register_notice() needs exactly one of text= or sha256=")
        if text is not None:
            digest = hashlib.sha256(_str(text, "text").encode("utf-8")).hexdigest()
        elif isinstance(sha256, bytes):
            if len(sha256) != 32:
                raise InvalidArgument("sha256 as bytes must be 32 bytes long")
            digest = sha256.hex()
        elif isinstance(sha256, str):
            digest = sha256.strip().lower()
        else:
            raise TypeError(f"sha256 must be a hex str or bytes, not {type(sha256).__name__}")
        if isinstance(purposes, str):
            raise TypeError("purposes must be an iterable of str, not a single str")
        definition: Dict[str, Any] = {
            "id": _str(id, "id"),
            "version": _str(version, "version"),
            "title": _str(title, "title"),
            "language": _str(language, "language"),
            "sha256": digest,
            "controller": _str(controller, "controller"),
            "purposes": [_str(p, "purpose") for p in purposes],
        }
        if _opt_str(url, "url") is not None:
            definition["url"] = url
        notice_text, new = self._native.register_notice_outcome(json.dumps(definition))
        return Registered(notice_from(json.loads(notice_text)), new)

    def register_downstream(
        self,
        id: str,
        *,
        name: str,
        controller: str,
        purposes: Iterable[str],
        recipient: Optional[str] = None,
        recorded_by: ActorLike,
    ) -> Downstream:
        """Registers a downstream system (the students' union feed, an NHS liaison), or a
        new version of it: the purposes, and the recipient, its feed may show. The same
        definition again appends nothing. :class:`UnknownPurpose`,
        :class:`UnknownRecipient` for what the registry lacks.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            UnknownPurpose, UnknownRecipient: a purpose or recipient the registry lacks.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.register_downstream_outcome(
            id, name=name, controller=controller, purposes=purposes, recipient=recipient, recorded_by=recorded_by,
        ).value

    def register_downstream_outcome(
        self,
        id: str,
        *,
        name: str,
        controller: str,
        purposes: Iterable[str],
        recipient: Optional[str] = None,
        recorded_by: ActorLike,
    ) -> Registered[Downstream]:
        """Registers a downstream system as :meth:`register_downstream` does, and says
        whether a new version was appended: returns ``Registered(downstream, new)``,
        ``new`` false when the same definition was already current (in a
        :class:`Batch`: before the batch, or earlier in it) and nothing was written.

        Raises:
            TypeError, InvalidArgument, UnknownPurpose, UnknownRecipient: as
                :meth:`register_downstream`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        if isinstance(purposes, str):
            raise TypeError("purposes must be an iterable of str, not a single str")
        definition = {
            "id": _str(id, "id"),
            "name": _str(name, "name"),
            "controller": _str(controller, "controller"),
            "purposes": [_str(p, "purpose") for p in purposes],
            "recipient": _opt_str(recipient, "recipient"),
        }
        text, new = self._native.register_downstream_outcome(json.dumps(definition), _actor_text(recorded_by))
        return Registered(downstream_from(json.loads(text)), new)

    # ---- recording decisions ---------------------------------------------------------

    def append(
        self,
        kind: Union[EventKind, str],
        subject: str,
        purpose: str,
        *,
        recipient: Optional[str] = None,
        notice: Optional[NoticeLike] = None,
        explicit: bool = False,
        method: Optional[MethodLike] = None,
        recorded_by: ActorLike = "subject",
        effective_at: Optional[datetime] = None,
        expires_at: Optional[datetime] = None,
        validity_from: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
        target: Union[UUID, Event, None] = None,
    ) -> Event:
        """Appends an event of any subject kind; :meth:`give`, :meth:`withdraw` and the
        other verbs are the usual way in. Returns the stored :class:`Event`.

        ``effective_at`` is when it happened (default: now) — a paper form signed on
        1 October and typed in on 5 October is effective on 1 October. ``source_id`` is
        your idempotency key: appending the same event again returns the stored one, and
        different content under the same key raises :class:`Conflict`. ``evidence`` is a
        mapping of JSON values (str keys; text, numbers, bools, ``None``, lists, dicts)
        kept with the event and erased with the subject; anything else — a ``datetime``
        say (give ``value.isoformat()``) — raises :class:`InvalidArgument` naming where
        it is (a naive datetime :class:`InvalidTime`, as everywhere). ``effective_at``
        may not be more than 366 days after the time of recording (:class:`InvalidTime`).

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument, InvalidTime: a malformed value (an id, a kind, a method, the
                evidence) or time.
            UnknownPurpose, UnknownNotice, UnknownRecipient: a purpose, notice or recipient
                the registry lacks (the error lists the valid recipients).
            InvalidConsent: the rules refuse it (a notice that does not cover the purpose,
                a special-category grant that is not explicit...).
            SubjectErased: a grant for an erased subject.
            Conflict: other content already on record under the same ``source_id``.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        plain = _plain_event(kind, subject, purpose, recipient, notice, explicit, method, recorded_by,
                             effective_at, expires_at, validity_from, source_id, evidence, target)
        return self._native.append(**plain)

    def append_many(self, events: Iterable[NewEvent]) -> List[Event]:
        """Appends every event, in order, each as :meth:`append` would; returns the
        stored events. Every event is checked (types, times, evidence) before anything is
        written: a bad one raises its error naming its index (``events[3]: ...``).

        On a :class:`Ledger` it is all or nothing, one transaction: if any event is
        refused (an unknown purpose, say), none lands and the head is unchanged. In a
        :class:`Batch` the events join the batch, stopping at the first that is refused
        (the earlier ones stay in the batch, which lands or not as a whole: a ``with``
        block that lets the error through rolls it back).

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self._native.append_many(_plain_events(events))

    def append_outcome(self, event: NewEvent) -> Appended:
        """Appends ``event`` as :meth:`append` would, and says whether it is new:
        returns ``Appended(event, new)``, ``new`` false when the same event was already
        on record under its ``source_id`` (in a :class:`Batch`: before the batch, or
        earlier in it) and nothing was written (a retried import row). Decided inside the append's transaction, so a concurrent writer cannot
        make it wrong, as comparing :meth:`head` before and after could::

            stored, new = ledger.append_outcome(NewEvent("given", "s1", purpose, ...))

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        if not isinstance(event, NewEvent):
            hint = ": NewEvent(**row)" if isinstance(event, Mapping) else ""
            raise TypeError(f"event must be a NewEvent, not {type(event).__name__}{hint}")
        stored, new = self._native.append_outcome(_plain_new_event(event))
        return Appended(stored, new)

    def give(
        self,
        subject: str,
        purpose: str,
        *,
        notice: NoticeLike,
        method: MethodLike,
        recipient: Optional[str] = None,
        explicit: bool = False,
        recorded_by: ActorLike = "subject",
        effective_at: Optional[datetime] = None,
        expires_at: Optional[datetime] = None,
        validity_from: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records consent given, naming the ``notice`` shown and how it was collected.

        The notice must cover the purpose, and a ``recipient`` must be one the purpose
        lists (:class:`UnknownRecipient` otherwise, naming the valid ids); without one
        the grant covers every listed recipient. A special-category purpose needs
        ``explicit=True`` (the subject expressly confirmed a statement), or
        :class:`InvalidConsent` is raised. ``expires_at`` overrides the purpose's
        validity rule; ``validity_from`` is the start the rule counts from instead of
        ``effective_at`` (a course rep elected in October for a course year that began
        in September). A grant whose rule would run past the year 9999 is refused.

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.append(
            EventKind.GIVEN, subject, purpose, recipient=recipient, notice=notice, explicit=explicit,
            method=method, recorded_by=recorded_by, effective_at=effective_at, expires_at=expires_at,
            validity_from=validity_from, source_id=source_id, evidence=evidence,
        )

    def refuse(
        self,
        subject: str,
        purpose: str,
        *,
        method: MethodLike,
        notice: Optional[NoticeLike] = None,
        recipient: Optional[str] = None,
        recorded_by: ActorLike = "subject",
        effective_at: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records that the subject was asked and said no.

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.append(
            EventKind.REFUSED, subject, purpose, recipient=recipient, notice=notice, method=method,
            recorded_by=recorded_by, effective_at=effective_at, source_id=source_id, evidence=evidence,
        )

    def withdraw(
        self,
        subject: str,
        purpose: str,
        *,
        recipient: Optional[str] = None,
        method: Optional[MethodLike] = None,
        recorded_by: ActorLike = "subject",
        effective_at: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records a withdrawal. It is never refused (even with no grant on record, or
        after erasure) and never retroactive: use before ``effective_at`` stays lawful.
        The event's ``effect_deadline`` says when downstream systems must have acted.

        Without a ``recipient`` it ends consent for every recipient. One naming a
        recipient the purpose does not list is recorded for every recipient too (the
        returned event's ``recipient`` is ``None``; its ``details`` keep the text as
        written). For a purpose not based on consent it is recorded as an objection
        (kind :attr:`EventKind.OBJECTED`).

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, Conflict: as
                :meth:`append` (the rules never refuse it).
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.append(
            EventKind.WITHDRAWN, subject, purpose, recipient=recipient, method=method,
            recorded_by=recorded_by, effective_at=effective_at, source_id=source_id, evidence=evidence,
        )

    def revoke(
        self,
        subject: str,
        purpose: str,
        *,
        recipient: Optional[str] = None,
        method: Optional[MethodLike] = None,
        recorded_by: ActorLike = "subject",
        effective_at: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records that the controller stopped relying on the consent (not retroactive).

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.append(
            EventKind.REVOKED, subject, purpose, recipient=recipient, method=method,
            recorded_by=recorded_by, effective_at=effective_at, source_id=source_id, evidence=evidence,
        )

    def invalidate(
        self,
        subject: str,
        purpose: str,
        *,
        target: Union[UUID, Event, None] = None,
        recipient: Optional[str] = None,
        method: Optional[MethodLike] = None,
        recorded_by: ActorLike = "subject",
        effective_at: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records that a grant was never valid (retroactive): ``target`` names the grant
        (an :class:`Event` or its id); without it, every earlier grant of the subject for
        the purpose (and recipient).

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.append(
            EventKind.INVALIDATED, subject, purpose, recipient=recipient, method=method,
            recorded_by=recorded_by, effective_at=effective_at, source_id=source_id, evidence=evidence,
            target=target,
        )

    def serve_notice(
        self,
        subject: str,
        purpose: str,
        *,
        notice: NoticeLike,
        method: Optional[MethodLike] = None,
        recipient: Optional[str] = None,
        recorded_by: ActorLike = "subject",
        effective_at: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records that a notice was shown to the subject (no decision).

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.append(
            EventKind.NOTICE_SERVED, subject, purpose, recipient=recipient, notice=notice, method=method,
            recorded_by=recorded_by, effective_at=effective_at, source_id=source_id, evidence=evidence,
        )

    # Last, so the name does not shadow the builtin in the rest of the class body.
    def object(
        self,
        subject: str,
        purpose: str,
        *,
        recipient: Optional[str] = None,
        method: Optional[MethodLike] = None,
        recorded_by: ActorLike = "subject",
        effective_at: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records an objection (Art. 21) to processing under legitimate interests or a
        public task; like a withdrawal, it is never refused.

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, Conflict: as
                :meth:`append` (the rules never refuse it).
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.append(
            EventKind.OBJECTED, subject, purpose, recipient=recipient, method=method,
            recorded_by=recorded_by, effective_at=effective_at, source_id=source_id, evidence=evidence,
        )

    def overrule_objection(
        self,
        subject: str,
        purpose: str,
        *,
        recorded_by: ActorLike,
        recipient: Optional[str] = None,
        method: Optional[MethodLike] = None,
        effective_at: Optional[datetime] = None,
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records that a member of staff (``recorded_by="staff:<id>"``) decided the
        controller's compelling legitimate grounds override the subject's objection
        (Art. 21(1)): processing may go on (:attr:`State.NOT_CONSENT_BASED`, with this
        event). Only for a purpose not based on consent, with an objection in force;
        otherwise :class:`InvalidArgument` or :class:`InvalidConsent`. Keep the reasons
        in ``evidence``.

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self.append(
            EventKind.OBJECTION_OVERRULED, subject, purpose, recipient=recipient, method=method,
            recorded_by=recorded_by, effective_at=effective_at, source_id=source_id, evidence=evidence,
        )


class Ledger(_Recorder):
    """A consent ledger: an append-only, tamper-evident log of per-purpose consent.

    ``Ledger(path)`` opens (or creates) a ledger file, ``Ledger("postgresql://…",
    key_file=…)`` a ledger in a PostgreSQL schema shared by many hosts
    (docs/POSTGRES.md); :meth:`in_memory` makes a throwaway one. Use it as a context
    manager to close it on exit::

        with Ledger("consent.db") as ledger:
            ledger.give("s1", "jmsu.marketing", notice=("jmsu.privacy", "2024-09"), method="portal")

    One ``Ledger`` may be shared by many threads: each call is atomic, and the GIL is
    released while the ledger works, so other threads keep running. While a
    :meth:`batch` is open, the other threads' calls wait for it to end (at most
    ``busy_timeout``, then :class:`LedgerBusy`); they never join it. Many processes may
    open the same file; their appends are serialised by a lock file beside the ledger
    and SQLite's write lock (a writer waits up to ``busy_timeout`` before
    :class:`LedgerBusy` is raised). Any number of ``Ledger`` objects, processes and
    hosts may open the same PostgreSQL ledger, each on a connection of its own; the
    server serialises their appends.

    Identifiers (subject, purpose, recipient, source id, notice id and version, actor
    ids) must be in Unicode NFC, without leading or trailing white space or control
    characters: anything else raises :class:`InvalidArgument`, for questions as well
    as appends. Normalise ids (``unicodedata.normalize("NFC", s.strip())``) where they
    come in, so "José" typed on two keyboards is one subject.

    Times are timezone-aware :class:`~datetime.datetime` objects; a naive one raises
    :class:`InvalidTime` (a :class:`ValueError`), wherever it is given — evidence
    included. The ledger keeps milliseconds. Calendar rules (the end of an academic
    year) are counted in the ledger's :attr:`time_zone`.

    Every method says what it raises in its ``Raises:`` section; these, any call may:

    - :class:`LedgerClosed`: after :meth:`close`.
    - :class:`BatchError`: a call on the ``Ledger`` from the thread that has a
      :meth:`batch` open (make it through the batch); a call on a :class:`Batch` that
      has ended.
    - :class:`StorageError`: the storage failed (an unreadable file, a lost PostgreSQL
      connection).

    and these, any write (an append, a registration, an erasure, a checkpoint signed):

    - :class:`LedgerBusy`: another writer held the lock longer than ``busy_timeout``.
    - :class:`StorageFull`: the disk, or ``max_pages``, is full; nothing is written.
    - :class:`LedgerReadOnly`: the ledger was opened ``read_only`` (or, on PostgreSQL,
      by a role that may not write).
    """

    _native: _native.Ledger
    _path: Optional[str]
    _closed: bool

    def __init__(
        self,
        path: StrPath,
        *,
        read_only: bool = False,
        create: bool = True,
        busy_timeout: Union[timedelta, float] = 30.0,
        synchronous: Optional[Synchronous] = None,
        max_pages: Optional[int] = None,
        key_file: Optional[StrPath] = None,
        key: Optional[bytes] = None,
        erasure_wait: Union[timedelta, float] = 2.0,
        time_zone: Optional[str] = None,
        durable: Optional[bool] = None,
    ) -> None:
        """Opens the ledger file at ``path``. With ``create=True`` (the default) a new
        ledger is created when the path does not exist or is an empty file; tools that
        only read or check a ledger should pass ``create=False``, so a mistyped path
        raises :class:`NotFound` (an empty file :class:`NotALedger`) instead of
        answering from a fresh, empty ledger. ``read_only=True`` never creates.

        ``path`` may instead be a PostgreSQL URL,
        ``postgresql://user@host/db?schema=NAME`` (libpq's form, ``host=/socket/dir``
        for a Unix socket; ``schema`` defaults to ``consent`` and is lower-case
        letters, digits and ``_``, else :class:`InvalidArgument`): the ledger then
        lives in that schema, and an empty schema is what a missing file is above. Its
        pseudonym key must be given as ``key_file`` or ``key`` (nothing lies beside a
        database: :class:`PseudonymKeyError`); ``max_pages`` does not apply
        (:class:`InvalidArgument`). A server that cannot be reached raises
        :class:`StorageError` within ``busy_timeout`` (at most 30 s).

        The pseudonym key (the secret that turns subject ids into pseudonyms) never
        lives in the ledger file. By default it is the file ``<path>.key`` beside the
        ledger, created (0600) with a new ledger; ``key_file`` names another file,
        ``key`` hands over its 32 bytes. Opening a ledger without its key, or with
        another key, raises :class:`PseudonymKeyError`; a ledger opened read-only
        without its key still verifies and proves, but questions about subjects raise
        :class:`PseudonymKeyError`.

        ``busy_timeout`` (a timedelta or seconds) is how long a write waits for another
        writer's lock. ``synchronous`` is how durable a commit is: ``"full"`` (the
        default) syncs every commit to disk; ``"normal"`` syncs at checkpoints only: a
        commit then survives a crash of the process but not a power cut (in PostgreSQL,
        ``synchronous_commit = off``: a client's crash, not the server's). The older
        ``durable=True``/``False`` still works for this release, with a
        :class:`DeprecationWarning`; giving both is a :class:`TypeError`.
        ``max_pages`` caps the file at that many database pages: an append beyond it
        raises :class:`StorageFull` and writes nothing (a quota, and a way to test for
        a full disk).
        ``erasure_wait`` is how long :meth:`erase_subject` keeps trying to truncate the
        write-ahead log while another connection holds an old snapshot.

        ``time_zone`` (an IANA name) is the institution's, fixed when the ledger is
        created (default ``"Europe/London"``): academic years end at midnight there.
        Opening an existing ledger with another zone raises :class:`InvalidArgument`;
        ``None`` takes the ledger's own.

        Raises:
            TypeError: an argument of the wrong type. Also ``synchronous=`` and
                ``durable=`` together.
            InvalidArgument: a malformed option (``synchronous``, ``max_pages``, a key's
                length, a PostgreSQL schema name, another ``time_zone`` than the ledger's).
            NotFound, NotALedger: with ``create=False`` no ledger at ``path``; something
                else than a ledger there.
            PseudonymKeyError: the pseudonym key is missing, unreadable or another
                ledger's.
            SchemaTooNew, SqliteTooOld: a ledger of a newer format; an SQLite too old to
                open it.
            LedgerCorrupt: the file is damaged beyond opening.
            LedgerBusy: another writer held the lock longer than ``busy_timeout``.
            StorageError: the file cannot be read or created; the PostgreSQL server cannot
                be reached.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
        fspath = os.fspath(path)
        if not isinstance(fspath, str):
            raise TypeError("path must be a text path, not bytes")
        busy_ms = _millis(busy_timeout, "busy_timeout")
        sync = _synchronous(synchronous, durable)
        erasure_ms = _millis(erasure_wait, "erasure_wait")
        if max_pages is not None and (not isinstance(max_pages, int) or isinstance(max_pages, bool)):
            raise TypeError(f"max_pages must be an int or None, not {type(max_pages).__name__}")
        if max_pages is not None and max_pages <= 0:
            raise InvalidArgument("max_pages must be positive")
        key_path: Optional[str] = None
        if key_file is not None:
            if key is not None:
                raise TypeError("give the pseudonym key as key_file= or key=, not both")
            if not isinstance(key_file, (str, os.PathLike)):
                raise TypeError(f"key_file must be a str or os.PathLike, not {type(key_file).__name__}")
            key_path = os.fspath(key_file)
            if not isinstance(key_path, str):
                raise TypeError("key_file must be a text path, not bytes")
        self._native = _native.Ledger.open(
            fspath, read_only=read_only, create=create, busy_timeout_ms=busy_ms, synchronous=sync,
            max_pages=max_pages, key_file=key_path, key=_key_bytes(key), erasure_wait_ms=erasure_ms,
            time_zone=_opt_str(time_zone, "time_zone"),
        )
        self._path = fspath
        self._closed = False

    @classmethod
    def in_memory(
        cls,
        *,
        key: Optional[bytes] = None,
        time_zone: Optional[str] = None,
        simulated_now: Optional[datetime] = None,
    ) -> Ledger:
        """A ledger that lives in memory only (for tests and dry runs), with a random
        pseudonym key unless ``key`` (32 bytes) is given, in ``time_zone`` (an IANA
        name, default ``"Europe/London"``).

        With ``simulated_now`` the ledger is a *simulation*: its clock — record times,
        and "now" in every question — reads that moment until
        :meth:`set_simulated_now` moves it (say, to 00:45 BST on 1 August to see an
        academic year end). A simulation says so in its first, hashed event,
        :attr:`is_simulated` and :meth:`verify`: it is no evidence of when anything was
        recorded.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a key that is not 32 bytes, an unknown time zone.
            InvalidTime: a naive or out-of-range time.
        """
        self = cls.__new__(cls)
        self._native = _native.Ledger.in_memory(
            key=_key_bytes(key),
            time_zone=_opt_str(time_zone, "time_zone"),
            simulated_now=to_millis(simulated_now, "simulated_now"),
        )
        self._path = None
        self._closed = False
        return self

    # ---- lifecycle -------------------------------------------------------------------

    @property
    def path(self) -> Optional[str]:
        """The ledger file, or the PostgreSQL URL, as given (``None`` in memory)."""
        return self._path

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def time_zone(self) -> str:
        """The institution's time zone (IANA name) the ledger committed to when it was
        created: academic years end at midnight there."""
        return self._native.time_zone()

    @property
    def is_simulated(self) -> bool:
        """Whether the ledger was created as a simulation: its record times come from a
        simulated clock, not the system's (recorded in its first, hashed event, and
        reported by :meth:`verify`)."""
        return self._native.is_simulated()

    def set_simulated_now(self, now: datetime) -> None:
        """Moves a simulation's clock (see :meth:`in_memory`) to ``now``, an aware
        datetime; it may go back. :class:`InvalidArgument` on a real ledger, whose
        record times come from the system clock.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidTime: a naive or out-of-range time.
            InvalidArgument: the ledger is not a simulation.
        """
        if not isinstance(now, datetime):
            raise TypeError(f"now must be a timezone-aware datetime, not {type(now).__name__}")
        millis = to_millis(now, "now")
        assert millis is not None
        self._native.set_simulated_now(millis)

    def close(self) -> None:
        """Closes the ledger; an open batch is rolled back. Later calls raise
        :class:`LedgerClosed`. Closing twice is fine.

        Raises:
            StorageError: the storage failed while rolling back an open batch.
        """
        self._native.close()
        self._closed = True

    def __enter__(self) -> Ledger:
        if self._closed:
            raise LedgerClosed("ledger is closed")
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "in memory" if self._path is None else repr(_redacted(self._path))
        return f"<Ledger {where}{' (closed)' if self._closed else ''}>"

    def batch(self) -> Batch:
        """Opens a batch: all or nothing. Every append made *through the batch* lands
        together when it commits, or none does::

            with ledger.batch() as batch:
                for row in rows:
                    batch.give(...)

        In a ``with`` block the batch commits when the block ends and rolls back if it
        raises; :meth:`Batch.commit` and :meth:`Batch.rollback` end it explicitly.

        The batch belongs to its caller. While it is open it holds the write lock
        (other processes wait), and calls on this ``Ledger`` from other threads wait
        for it to end — they never join it, so a rollback only undoes the batch's own
        appends. A call on the ``Ledger`` itself from the thread that opened the batch
        would wait for ever, so it raises :class:`BatchError` instead: make it through
        the batch, or end the batch first. Batches do not nest.

        Raises:
            BatchError: this thread already has a batch open (batches do not nest).
            LedgerClosed: the ledger is closed.
            LedgerBusy: another writer held the lock longer than ``busy_timeout``.
            StorageError: the storage failed.
        """
        return Batch(self, self._native.batch())

    # ---- recording decisions ---------------------------------------------------------

    def append_many_outcome(self, events: Iterable[NewEvent]) -> List[Appended]:
        """:meth:`append_many`, saying of each event whether it is new: returns
        ``[Appended(event, new), ...]`` in order, ``new`` false for an event already on
        record under its ``source_id`` (a retried import: every one false, nothing
        written). All or nothing, in one transaction, as :meth:`append_many`.

        Raises:
            TypeError, InvalidArgument, InvalidTime, UnknownPurpose, UnknownNotice,
                UnknownRecipient, InvalidConsent, SubjectErased, Conflict: as
                :meth:`append`.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return [Appended(event, new) for event, new in self._native.append_many_outcome(_plain_events(events))]

    # ---- registry --------------------------------------------------------------------

    def load_registry(self, path: StrPath, texts: Optional[StrPath] = None) -> RegistryReport:
        """Loads the institution's registry file (TOML: ``[[notice]]`` and ``[[purpose]]``
        tables, as ``examples/ljmu/registry.toml``): every notice, then every purpose, in
        one batch — all of them or, on the first error, none. Entries the ledger already
        holds unchanged append nothing, so loading it again is harmless; a changed
        purpose gets a new version.

        A notice's ``text_file`` is read from the folder ``texts`` when given (every
        text must then be there) or else from the registry's own folder (where a missing
        text leaves the stated ``sha256`` unchecked: see :attr:`RegistryEntry.hash`). A
        text that does not hash to the stated ``sha256`` raises :class:`Conflict`; a
        malformed file or entry :class:`InvalidArgument`, naming the entry; an
        unreadable one :class:`StorageError`.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a malformed file or entry (named).
            Conflict: a notice text that does not hash to its ``sha256``, or a notice
                registered with other content.
            StorageError: a file that cannot be read; and the storage's failures.
            LedgerClosed, BatchError: as any call (see :class:`Ledger`).
            LedgerBusy: another writer held the lock longer than ``busy_timeout``.
            StorageFull, LedgerReadOnly: as any write (see :class:`Ledger`).
        """
        return registry_report_from(
            json.loads(self._native.load_registry(_path(path, "path"), None if texts is None else _path(texts, "texts")))
        )

    def purpose(self, id: str, version: Optional[int] = None) -> Purpose:
        """A purpose: its current version, or the ``version`` a status or an event
        names (their ``purpose_version``).

        Raises:
            TypeError: an argument of the wrong type.
            UnknownPurpose: an id never registered.
            NotFound: a version the purpose does not have.
            InvalidArgument: a negative version.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        if version is not None:
            if not isinstance(version, int) or isinstance(version, bool):
                raise TypeError(f"version must be an int or None, not {type(version).__name__}")
            if version < 0:
                raise InvalidArgument("a purpose version must not be negative")
            # Past the largest u64 nothing exists either; the native layer says so.
            version = min(version, 2**64 - 1)
        return purpose_from(json.loads(self._native.purpose(_str(id, "id"), version)))

    def purpose_versions(self, id: str) -> List[Purpose]:
        """Every version of one purpose, oldest first.

        Raises:
            TypeError: an argument of the wrong type.
            UnknownPurpose: an id never registered.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return [purpose_from(p) for p in json.loads(self._native.purpose_versions(_str(id, "id")))]

    def notice(self, id: str, version: str) -> Notice:
        """One notice by id and version (as an event or a status names it).

        Raises:
            TypeError: an argument of the wrong type.
            UnknownNotice: that id and version are not registered.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return notice_from(json.loads(self._native.notice(_str(id, "id"), _str(version, "version"))))

    def purposes(self) -> List[Purpose]:
        """Every version of every purpose, by id then version.

        Raises:
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return [purpose_from(p) for p in json.loads(self._native.purposes())]

    def notices(self) -> List[Notice]:
        """Every registered notice, by id then version.

        Raises:
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return [notice_from(n) for n in json.loads(self._native.notices())]

    # ---- questions -------------------------------------------------------------------

    def status(
        self,
        subject: str,
        purpose: str,
        recipient: Optional[str] = None,
        at: Optional[datetime] = None,
        as_known_at: Optional[datetime] = None,
    ) -> Status:
        """The consent state of ``subject`` for ``purpose`` (and ``recipient``) at ``at``
        (default now), as the ledger knew it at ``as_known_at`` (default now).

        ``status(..., at=T).permits`` answers "was this use at T lawful?"; a later
        withdrawal does not change it. :class:`UnknownPurpose` if the purpose is not
        registered. For a purpose that lists recipients, ``recipient`` is required and
        must be one of them, spelt exactly: otherwise :class:`UnknownRecipient`, whose
        message (and ``listed``) gives the valid ids — an answer without the recipient
        could hide a withdrawal that named it.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            InvalidTime: a naive or out-of-range time.
            UnknownPurpose: the purpose is not registered.
            UnknownRecipient: a recipient the purpose does not list (or none it needs).
            PseudonymKeyError: opened read-only without the pseudonym key.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._native.status(
            _str(subject, "subject"),
            _str(purpose, "purpose"),
            _opt_str(recipient, "recipient"),
            to_millis(at, "at"),
            to_millis(as_known_at, "as_known_at"),
        )

    def status_many(self, questions: Iterable[Question]) -> List[Status]:
        """The status of each question — ``(subject, purpose)`` or ``(subject, purpose,
        recipient)`` — now, in order, all from one snapshot of the ledger: cheaper than
        as many :meth:`status` calls, and consistent (no append lands in between).

        Each question is checked as :meth:`status` checks its arguments; the first
        invalid one fails the whole call with its own error (:class:`UnknownPurpose`,
        :class:`UnknownRecipient`, :class:`InvalidArgument`...). A question that is not
        a tuple (or list) of two or three, or whose subject or purpose is not a str (or
        recipient not a str or ``None``), raises :class:`TypeError` naming its index.

        Raises:
            TypeError: an argument of the wrong type. Names the question's index.
            InvalidArgument: a malformed id (empty, not NFC, too long...).
            UnknownPurpose, UnknownRecipient: as :meth:`status`, for the first question
                that has it.
            PseudonymKeyError: opened read-only without the pseudonym key.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._native.status_many(questions)

    def event(self, id: Union[UUID, Event]) -> Event:
        """The event with this id (:class:`NotFound` if none).

        Raises:
            TypeError: an argument of the wrong type.
            NotFound: no event has that id.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._native.event(_event_id(id))

    def history(self, subject: str) -> List[Event]:
        """Every event about a subject, in order (blanked once the subject is erased).

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            PseudonymKeyError: opened read-only without the pseudonym key.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._native.history(_str(subject, "subject"))

    def consenting(
        self,
        purpose: str,
        recipient: Optional[str] = None,
        at: Optional[datetime] = None,
        as_known_at: Optional[datetime] = None,
    ) -> Consenting:
        """Every subject with consent in force for ``purpose`` (and ``recipient``) at
        ``at`` (default now), as the ledger knew it at ``as_known_at`` (default now),
        with the head that answered: a past extract can be reproduced as it was sent.

        A purpose that lists recipients must be asked about one of them
        (:class:`UnknownRecipient` otherwise): the answer for ``"JMSU"`` leaves out a
        student who withdrew naming JMSU, an answer for no recipient could not.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            InvalidTime: a naive or out-of-range time.
            UnknownPurpose: the purpose is not registered.
            UnknownRecipient: a recipient the purpose does not list (or none it needs).
            PseudonymKeyError: opened read-only without the pseudonym key.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return consenting_from_tuple(
            self._native.consenting(
                _str(purpose, "purpose"),
                _opt_str(recipient, "recipient"),
                to_millis(at, "at"),
                to_millis(as_known_at, "as_known_at"),
            )
        )

    def changes_since(self, since: Union[int, Head] = 0, limit: int = 1000) -> List[Event]:
        """Events with ``seq >= since`` (a sequence number or a :class:`Head`: events
        after it), at most ``limit``. Continue from the last event's ``seq + 1``.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a negative ``since`` or ``limit``.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        if isinstance(since, Head):
            since = since.size
        if not isinstance(since, int) or isinstance(since, bool):
            raise TypeError(f"since must be an int or a Head, not {type(since).__name__}")
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise TypeError(f"limit must be an int, not {type(limit).__name__}")
        if since < 0 or limit < 0:
            raise InvalidArgument("since and limit must not be negative")
        # Past the largest sequence number there is nothing: no need to overflow.
        since, limit = min(since, 2**63 - 1), min(limit, 2**63 - 1)
        return self._native.changes_since(since, limit)

    # ---- downstream systems (docs/FORMAT.md §13) --------------------------------

    def retire_downstream(self, id: str, recorded_by: ActorLike) -> Downstream:
        """Retires a downstream: its feed shows no new grant from now on, only the
        withdrawals and erasures of the grants it showed (it still holds their data).

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            NotFound: no downstream has that id.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        text = self._native.retire_downstream(_str(id, "id"), _actor_text(recorded_by))
        return downstream_from(json.loads(text))

    def downstreams(self) -> List[Downstream]:
        """Every registered downstream (its current version), by id.

        Raises:
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return [downstream_from(d) for d in json.loads(self._native.downstreams())]

    def downstream(self, id: str) -> Downstream:
        """The current version of one downstream; :class:`NotFound` if not registered.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            NotFound: no downstream has that id.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self.downstream_versions(id)[-1]

    def downstream_versions(self, id: str) -> List[Downstream]:
        """Every version of one downstream, in order.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            NotFound: no downstream has that id.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return [downstream_from(d) for d in json.loads(self._native.downstream_versions(_str(id, "id")))]

    def acknowledgements(self, downstream: str) -> List[Acknowledgement]:
        """Every acknowledgement by one downstream, in log order.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            NotFound: no downstream has that id.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        text = self._native.acknowledgements(_str(downstream, "downstream"))
        return [acknowledgement_from(a) for a in json.loads(text)]

    def acknowledge(
        self,
        downstream: str,
        *,
        up_to: Optional[int] = None,
        event: Union[UUID, Event, None] = None,
        recorded_by: ActorLike,
    ) -> Acknowledgement:
        """Records that a downstream acted on every event of its feed up to seq
        ``up_to`` (its feed then continues after it), or on one ``event``. Refused,
        with nothing written: an unknown downstream or event (:class:`NotFound`), an
        ``up_to`` beyond the log or an event its feed never showed
        (:class:`InvalidArgument`).

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: not exactly one of ``up_to`` and ``event``; an ``up_to``
                beyond the log; an event the feed never showed.
            NotFound: an unknown downstream or event.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        if (up_to is None) == (event is None):
            raise InvalidArgument("give exactly one of up_to and event")
        if up_to is not None and (not isinstance(up_to, int) or isinstance(up_to, bool)):
            raise TypeError(f"up_to must be an int, not {type(up_to).__name__}")
        if up_to is not None and up_to < 0:
            raise InvalidArgument("up_to must not be negative")
        text = self._native.acknowledge(
            _str(downstream, "downstream"),
            _actor_text(recorded_by),
            up_to=None if up_to is None else min(up_to, 2**64 - 1),
            event=None if event is None else _event_id(event),
        )
        return acknowledgement_from(json.loads(text))

    def feed(
        self,
        downstream: str,
        since: Optional[int] = None,
        limit: int = 1000,
        *,
        wait: Union[timedelta, float] = 0,
    ) -> FeedPage:
        """A page of a downstream's feed: only the events of its purposes (and
        recipient), and for an erasure only the seqs of its events to delete. By default
        it continues after the downstream's highest acknowledged ``up_to``. With
        ``wait`` (seconds or a timedelta) and nothing new yet, waits up to that long for
        an item (the page may still be empty). Continue with ``since=page.next``.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a negative ``since``, ``limit`` or ``wait``; a ``limit`` of 0.
            NotFound: no downstream has that id.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        for value, what in ((since, "since"), (limit, "limit")):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise TypeError(f"{what} must be an int, not {type(value).__name__}")
            if value is not None and value < 0:
                raise InvalidArgument(f"{what} must not be negative")
        wait_ms = int(_seconds(wait, "wait") * 1000)
        text = self._native.feed(
            _str(downstream, "downstream"),
            None if since is None else min(since, 2**64 - 1),
            min(limit, 2**63 - 1),
            wait_ms,
        )
        return feed_page_from(json.loads(text))

    def deadlines(self, at: Optional[datetime] = None) -> List[Deadline]:
        """Every withdrawal, revocation or objection in a downstream's feed (appended
        after its first registration), with where it stands, as known at ``at``
        (default now).

        Raises:
            InvalidTime: a naive or out-of-range time.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        text = self._native.deadlines(to_millis(at, "at"))
        return [deadline_from(d) for d in json.loads(text)]

    def overdue(self, at: Optional[datetime] = None) -> List[Deadline]:
        """The deadlines passed without the downstream's acknowledgement.

        Raises:
            InvalidTime: a naive or out-of-range time.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return [d for d in self.deadlines(at) if d.state is DeadlineState.OVERDUE]

    def pending(self, at: Optional[datetime] = None) -> List[Deadline]:
        """The deadlines not passed yet and not acknowledged.

        Raises:
            InvalidTime: a naive or out-of-range time.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return [d for d in self.deadlines(at) if d.state is DeadlineState.PENDING]

    def report(
        self, start: Optional[datetime] = None, end: Optional[datetime] = None
    ) -> Dict[str, Any]:
        """The data-protection officer's figures for ``[start, end)`` (default: from the
        month of the first event to now), as ``consent report --json`` prints them: the
        state of each consent purpose per period, grants and withdrawals per month,
        special-category consents, downstream deadlines, erasures, and the verification
        (with the latest signed checkpoint). Instants are UTC milliseconds, as in
        every JSON of the ledger.

        Raises:
            InvalidTime: a naive or out-of-range time.
            InvalidArgument: a period that ends before it starts.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        text = self._native.report(to_millis(start, "start"), to_millis(end, "end"))
        figures: Dict[str, Any] = json.loads(text)
        return figures

    def iter_changes(self, since: Union[int, Head] = 0, page: int = 1000) -> Iterator[Event]:
        """Every event from ``since`` on, fetched ``page`` at a time.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a negative ``since`` or ``page``.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        start = since.size if isinstance(since, Head) else since
        while True:
            events = self.changes_since(start, page)
            yield from events
            if len(events) < page or not events:
                return
            start = events[-1].seq + 1

    def export_subject(self, subject: str) -> SubjectExport:
        """The subject-access copy: every event about the subject, the purposes and
        notices they refer to, the current statuses and the head.
        ``export.to_dict(json_safe=True)`` is the portable document.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            PseudonymKeyError: opened read-only without the pseudonym key.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return subject_export_from(self._native.export_subject(_str(subject, "subject")))

    def export_subject_html(self, subject: str) -> str:
        """The subject-access copy as a self-contained HTML page a student can read:
        the purposes (with titles and controllers) and notices (title, version,
        SHA-256, controller), every event in plain words with times in the ledger's
        :attr:`time_zone`, the current statuses and the head. Everything from the
        ledger is escaped; the page loads nothing from elsewhere.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            PseudonymKeyError: opened read-only without the pseudonym key.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._native.export_subject_html(_str(subject, "subject"))

    # ---- integrity -------------------------------------------------------------------

    def head(self) -> Head:
        """The current head (size and Merkle root); keep ``str(head)`` elsewhere to
        detect a rewritten log later with :meth:`verify_against`.

        Raises:
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return Head.parse(self._native.head())

    def copy_to(
        self,
        dest: StrPath,
        *,
        busy_timeout: Union[timedelta, float] = 30.0,
        synchronous: Optional[Synchronous] = None,
        durable: Optional[bool] = None,
    ) -> Head:
        """Copies the ledger, as stored, into a new ledger at ``dest``: a file path or a
        PostgreSQL URL (see :class:`Ledger`). A file's ledger moves into PostgreSQL, and
        a PostgreSQL ledger into a file that the independent checker of
        docs/FORMAT.md reads. Every row is copied from one snapshot; the copy rebuilds
        its tree and is kept only if its head equals this ledger's, which is returned.
        ``busy_timeout`` and ``synchronous`` (or the deprecated ``durable``) open the
        destination as in :class:`Ledger`.
        No key is copied or needed: the copy's pseudonym key is this ledger's.

        Raises :class:`Conflict` when ``dest`` already holds a ledger and
        :class:`NotALedger` when it holds something else (a file of another kind, a
        schema with other tables), leaving either as it was; :class:`LedgerCorrupt`
        when the copy's head differs (nothing is left in a PostgreSQL destination).

        Raises:
            TypeError: an argument of the wrong type. Also ``synchronous=`` and
                ``durable=`` together.
            InvalidArgument: an unknown ``synchronous``, a malformed PostgreSQL schema
                name.
            Conflict, NotALedger: ``dest`` already holds a ledger; it holds something else.
            LedgerCorrupt: the copy's head differs from this ledger's.
            LedgerBusy: another writer held the lock longer than ``busy_timeout``.
            StorageError: ``dest`` cannot be written or reached; and the storage's
                failures.
            LedgerClosed, BatchError: the ledger is closed; this thread has a batch open.
        """
        head = self._native.copy_to(
            _path(dest, "dest"), busy_timeout_ms=_millis(busy_timeout, "busy_timeout"),
            synchronous=_synchronous(synchronous, durable),
        )
        return Head.parse(head)

    def verify(self, raise_on_failure: bool = False) -> VerifyReport:
        """Recomputes every hash from the stored rows. Returns the report (true when
        intact); with ``raise_on_failure=True`` a failure raises :class:`TamperDetected`.

        Raises:
            TamperDetected: with ``raise_on_failure=True``, when the report is not ok.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._checked(verify_report_from(json.loads(self._native.verify())), raise_on_failure)

    def verify_against(self, head: Union[Head, str], raise_on_failure: bool = False) -> VerifyReport:
        """:meth:`verify`, and checks that the log still extends ``head``: catches a
        truncated tail or a rewritten history.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a malformed head.
            TamperDetected: with ``raise_on_failure=True``, when the report is not ok.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        report = verify_report_from(json.loads(self._native.verify_against(str(_head(head)))))
        return self._checked(report, raise_on_failure)

    @staticmethod
    def _checked(report: VerifyReport, raise_on_failure: bool) -> VerifyReport:
        if raise_on_failure and not report.ok:
            where = "" if report.first_bad_seq is None else f" at event {report.first_bad_seq}"
            raise TamperDetected(f"ledger verification failed{where}: {report.problem}", report)
        return report

    def prove_inclusion(self, event: Union[UUID, Event], tree_size: Optional[int] = None) -> InclusionProof:
        """Proof that ``event`` is in the log of ``tree_size`` events (default: now);
        check it with :meth:`InclusionProof.verify`, with the event's
        :meth:`canonical_event` bytes, against a head of that size::

            proof.verify(ledger.canonical_event(event), head)

        Raises:
            TypeError: an argument of the wrong type.
            NotFound: no event has that id.
            InvalidArgument: a ``tree_size`` beyond the log or before the event.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return inclusion_proof_from(json.loads(self._native.prove_inclusion(_event_id(event), tree_size)))

    def canonical_event(self, event: Union[UUID, Event]) -> bytes:
        """The canonical bytes of an event (docs/FORMAT.md §3.3): what its leaf hash
        covers. :meth:`InclusionProof.verify` checks a proof against them, so a proof is
        bound to its event; keep them with a receipt.

        Raises:
            TypeError: an argument of the wrong type.
            NotFound: no event has that id.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._native.canonical_event(_event_id(event))


    def prove_consistency(
        self, old: Union[Head, str], new_size: Optional[int] = None
    ) -> Tuple[ConsistencyProof, Head]:
        """Proof that the log at ``old`` is a prefix of the log now (or at ``new_size``),
        with the new head. :class:`LedgerCorrupt` if the log no longer extends ``old``.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a malformed head, or a size beyond the log.
            LedgerCorrupt: the log no longer extends ``old``.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        proof, head = json.loads(self._native.prove_consistency(str(_head(old)), new_size))
        return consistency_proof_from(proof), head_from(head)

    # ---- signed checkpoints and receipts ---------------------------------------------

    def sign_checkpoint(self, key_path: StrPath) -> SignedCheckpoint:
        """Signs the current head as a checkpoint with the log key in the file
        ``key_path`` (from :func:`generate_signing_key`; the origin is its name), keeps
        it, and returns it. Signing again at the same size merges into the stored note.
        Refused: an unusable key file (:class:`PseudonymKeyError`), a size signed under
        another origin (:class:`Conflict`), a log that no longer extends the largest
        checkpoint it signed (:class:`LedgerCorrupt`).

        Raises:
            TypeError: an argument of the wrong type.
            PseudonymKeyError: an unusable key file.
            Conflict: that size signed under another origin.
            LedgerCorrupt: the log no longer extends the largest checkpoint signed.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return signed_checkpoint_from(json.loads(self._native.sign_checkpoint(_path(key_path, "key_path"))))

    def add_cosignatures(self, note: str) -> SignedCheckpoint:
        """Merges the cosignature lines of ``note`` (as :meth:`Witness.cosign` returned
        it) into the stored checkpoint of the same size, and returns it. Only a note
        whose checkpoint text is the one signed is merged (:class:`Conflict`;
        :class:`NotFound` when no checkpoint of that size was signed).

        Raises:
            TypeError: an argument of the wrong type.
            SignedNoteRejected: a note that is not a signed checkpoint.
            Conflict: the note's checkpoint text is not the one signed.
            NotFound: no checkpoint of that size was signed.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return signed_checkpoint_from(json.loads(self._native.add_cosignatures(_str(note, "note"))))

    def checkpoints(self) -> Tuple[SignedCheckpoint, ...]:
        """Every checkpoint the ledger keeps, in size order.

        Raises:
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return tuple(signed_checkpoint_from(d) for d in json.loads(self._native.checkpoints()))

    def latest_checkpoint(self) -> Optional[SignedCheckpoint]:
        """The checkpoint of the largest size the ledger keeps, ``None`` before the first.

        Raises:
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        text = self._native.latest_checkpoint()
        return None if text is None else signed_checkpoint_from(json.loads(text))

    def check_checkpoint(
        self, note: Union[str, SignedCheckpoint], log_key: str, witness_keys: Iterable[str] = (), quorum: int = 0
    ) -> CheckpointVerdict:
        """Checks a signed checkpoint note (from anywhere: this ledger, a publish
        directory, a receipt, a witness) against the ledger. The note must be signed by
        ``log_key`` (a verifier-key string; the origin is its name), with valid
        cosignatures by at least ``quorum`` distinct witnesses among ``witness_keys``:
        else :class:`SignedNoteRejected` or :class:`QuorumNotMet`. An authentic note
        gives a verdict: the ledger holds it, or was truncated or rewritten before its
        size (the verdict is then false).

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a malformed key or quorum.
            SignedNoteRejected: the note is not signed by ``log_key``.
            QuorumNotMet: fewer than ``quorum`` valid cosignatures.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        text = note.note if isinstance(note, SignedCheckpoint) else _str(note, "note")
        keys = _keys(witness_keys, "witness_keys")
        return verdict_from(json.loads(self._native.check_checkpoint(text, _str(log_key, "log_key"), keys, _quorum(quorum))))

    def verify_checkpoints(
        self, log_key: str, witness_keys: Iterable[str] = (), quorum: int = 0
    ) -> CheckpointsReport:
        """Checks every checkpoint the ledger keeps, in size order, as
        :meth:`check_checkpoint` does (``quorum=0``: the log's signature alone), and
        names the first (smallest size) that does not hold, and why.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a malformed key or quorum.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        keys = _keys(witness_keys, "witness_keys")
        report = self._native.verify_checkpoints(_str(log_key, "log_key"), keys, _quorum(quorum))
        return checkpoints_report_from(json.loads(report))

    def receipt(
        self,
        event: Union[UUID, Event],
        checkpoint: Union[str, SignedCheckpoint] = "latest",
        layout: str = "iso27560",
    ) -> str:
        """The receipt of ``event`` (a consent decision) as its JSON document
        (docs/FORMAT.md §12), proved against ``checkpoint``: ``"latest"`` (the latest
        checkpoint the ledger keeps; :class:`NotFound` when none), or a signed note —
        ideally cosigned, since a receipt is only as good as the signatures its checker
        can verify. ``layout`` is ``"iso27560"`` or ``"kantara"``. Check it anywhere
        with :func:`check_receipt`.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: an unknown ``layout``, a malformed note.
            NotFound: no such event, or ``"latest"`` and no checkpoint kept.
            SignedNoteRejected: a note that is not a signed checkpoint of this log.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        if isinstance(checkpoint, SignedCheckpoint):
            note: Optional[str] = checkpoint.note
        else:
            note = None if _str(checkpoint, "checkpoint") == "latest" else checkpoint
        if layout not in RECEIPT_LAYOUTS:
            raise InvalidArgument(f"layout must be one of {', '.join(RECEIPT_LAYOUTS)}, not {layout!r}")
        return self._native.receipt(_event_id(event), note, layout)

    # ---- retention -------------------------------------------------------------------

    def erase_subject(
        self, subject: str, reason: str, recorded_by: ActorLike, *, force: bool = False
    ) -> ErasureReport:
        """Erases a subject at the end of retention: blanks their id, source ids and
        evidence in every event (the hashes still verify), and refuses later grants
        (until :meth:`readmit_subject`). Withdrawals and objections can still be
        recorded. :class:`SubjectErased` if done already.

        An id no event names raises :class:`NotFound` (most likely a mistyped id);
        ``force=True`` records the erasure anyway. :meth:`erasure_preview` shows what
        would be blanked without writing anything.

        The erased values are gone from every file once the write-ahead log is
        truncated: the report's ``complete`` says whether that happened within
        ``erasure_wait``; if not, call :meth:`complete_erasures` later.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a malformed id, an empty reason, an actor that is not staff or
                a system.
            NotFound: no event names the subject (``force=True`` erases anyway).
            SubjectErased: the subject is erased already.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        text = self._native.erase_subject(
            _str(subject, "subject"), _str(reason, "reason"), _actor_text(recorded_by), force=_bool(force, "force")
        )
        return erasure_report_from(json.loads(text))

    def erasure_preview(self, subject: str) -> ErasurePreview:
        """What :meth:`erase_subject` would blank — the events naming the subject, and
        whether it is erased already — without writing anything.

        Raises:
            TypeError, InvalidArgument: an argument of the wrong type; a malformed id.
            PseudonymKeyError: opened read-only without the pseudonym key.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return erasure_preview_from(self._native.erasure_preview(_str(subject, "subject")))

    def erase_subjects(
        self, subjects: Iterable[str], reason: str, recorded_by: ActorLike, *, force: bool = False
    ) -> BulkErasure:
        """Erases many subjects (a retention run), each in its own transaction, and
        reports every id in order: erased, unknown (no event names it; recorded only
        with ``force=True``), already erased, or failed (a malformed id). Then one
        truncation of the write-ahead log (:attr:`BulkErasure.complete`). A failure of
        the ledger itself stops the run: raised if nothing was erased yet, otherwise
        reported as the last outcome.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: an empty reason, an actor that is not staff or a system.
            StorageError, LedgerBusy, StorageFull, LedgerReadOnly: a failure of the ledger
                before the first erasure (later ones are reported as the last outcome).
            LedgerClosed, BatchError: the ledger is closed; this thread has a batch open.
        """
        if isinstance(subjects, str):
            raise TypeError("subjects must be an iterable of str, not a single str")
        ids = [_str(s, "subject") for s in subjects]
        text = self._native.erase_subjects(
            ids, _str(reason, "reason"), _actor_text(recorded_by), force=_bool(force, "force")
        )
        return bulk_erasure_from(json.loads(text))

    def readmit_subject(self, subject: str, reason: str, recorded_by: ActorLike) -> Event:
        """A returning student: lets an erased id consent again. Records a
        ``subject_readmitted`` event (recorded by staff or a system; no personal field)
        and returns it. The old events stay blanked; :meth:`history` shows both, and the
        id can be erased again. :class:`InvalidArgument` if the subject is not erased.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: the subject is not erased; a malformed id, reason or actor.
            LedgerClosed, BatchError, LedgerBusy, StorageFull, LedgerReadOnly,
                StorageError: as any write (see :class:`Ledger`).
        """
        return self._native.readmit_subject(_str(subject, "subject"), _str(reason, "reason"), _actor_text(recorded_by))

    def checkpoint(self) -> bool:
        """Folds the write-ahead log into the file and truncates it; false if another
        connection kept a read open (try again later).

        Raises:
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._native.checkpoint()


    def complete_erasures(self, wait: Union[timedelta, float] = 2.0) -> bool:
        """Finishes pending erasures: truncates the write-ahead log, which may still hold
        erased values when :meth:`erase_subject` reported ``complete=False`` (another
        connection kept an old snapshot open). Keeps trying for up to ``wait`` (a
        timedelta or seconds); returns whether every erasure is now complete. Safe to
        call at any time.

        Raises:
            TypeError: an argument of the wrong type.
            InvalidArgument: a negative ``wait``.
            LedgerReadOnly: on PostgreSQL, a role that does not own the tables.
            LedgerClosed, BatchError, StorageError: as any call (see :class:`Ledger`).
        """
        return self._native.complete_erasures(_millis(wait, "wait"))



class Batch(_Recorder):
    """An open batch of appends, from :meth:`Ledger.batch`: all or nothing.

    It offers the ledger's ways of recording (:meth:`append`, :meth:`give`,
    :meth:`withdraw`..., :meth:`register_purpose`, :meth:`register_notice`,
    :meth:`register_downstream`, and the ``_outcome`` forms that say whether each was
    new — counting what the batch itself appended, so a repeat inside the batch is not
    new) and :meth:`head`; the events it returns are final once :meth:`commit` succeeds. As a
    context manager it commits on a normal exit and rolls back on an exception. A batch
    dropped without being ended is rolled back. An append that raises inside the batch
    leaves the batch's earlier appends in place (catch it and carry on, or roll back).
    """

    _native: _native.Batch
    _ledger: Ledger

    def __init__(self, ledger: Ledger, native: _NativeBatch) -> None:
        """Use :meth:`Ledger.batch`.

        Raises:
            nothing: use :meth:`Ledger.batch`.
        """
        self._ledger = ledger
        self._native = native

    @property
    def ledger(self) -> Ledger:
        """The ledger the batch writes to."""
        return self._ledger

    @property
    def ended(self) -> bool:
        """Whether the batch was committed or rolled back (a closed ledger also ends it:
        later calls raise :class:`LedgerClosed`)."""
        return self._native.ended()

    def head(self) -> Head:
        """The head including the batch's appends so far.

        Raises:
            BatchError: the batch has ended.
            LedgerClosed: the ledger is closed.
            StorageError: the storage failed.
        """
        return Head.parse(self._native.head())

    def commit(self) -> None:
        """Commits every append of the batch. If the commit fails nothing of the batch
        lands; the batch is over either way. :class:`BatchError` if it had ended.

        Raises:
            BatchError: the batch had ended.
            LedgerClosed: the ledger is closed.
            StorageFull, StorageError: the commit failed (nothing of the batch lands).
        """
        self._native.commit()

    def rollback(self) -> None:
        """Discards every append of the batch. :class:`BatchError` if it had ended.

        Raises:
            BatchError: the batch had ended.
            LedgerClosed: the ledger is closed.
            StorageError: the storage failed.
        """
        self._native.rollback()

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self.ended:
            return
        if exc_type is None:
            self.commit()
        else:
            # The caller's exception is the one to see; a failed rollback (a closed
            # ledger) has nothing to add.
            with contextlib.suppress(Exception):
                self.rollback()

    def __repr__(self) -> str:
        return f"<Batch of {self._ledger!r}{' (ended)' if self.ended else ''}>"
