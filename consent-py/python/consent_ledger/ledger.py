"""The :class:`Ledger`: record consent decisions and ask what was in force when."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Type, Union
from uuid import UUID

from . import _native
from ._native import Batch as _NativeBatch
from ._time import to_millis
from .errors import InvalidArgument, LedgerClosed, TamperDetected
from .model import (
    AcademicYear,
    Actor,
    Consenting,
    ConsistencyProof,
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
    Status,
    SubjectExport,
    VerifyReport,
    _head,
    consenting_from_tuple,
    consistency_proof_from,
    erasure_report_from,
    event_from,
    head_from,
    inclusion_proof_from,
    notice_from,
    purpose_from,
    status_from_tuple,
    subject_export_from,
    validity_to,
    verify_report_from,
)

__all__ = ["Batch", "Ledger", "NoticeLike", "MethodLike", "ActorLike"]

#: A notice as events name it: ``(id, version)``, a registered :class:`Notice` or a :class:`NoticeRef`.
NoticeLike = Union[Tuple[str, str], Notice, NoticeRef]
#: A collection method: a :class:`Method` or its text (``"portal"``).
MethodLike = Union[Method, str]
#: Who recorded an event: an :class:`Actor` or its text (``"subject"``, ``"staff:ab12"``).
ActorLike = Union[Actor, str]
#: A filesystem path.
StrPath = Union[str, "os.PathLike[str]"]


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


def _opt_str(value: Optional[str], what: str) -> Optional[str]:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a str or None, not {type(value).__name__}")
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
        validity: Union[None, timedelta, str, AcademicYear] = None,
        effect_delay: timedelta = timedelta(0),
        withdrawal_method: str = "",
        recipients: Iterable[str] = (),
    ) -> Purpose:
        """Registers a purpose, or a new version of it (an unchanged definition appends
        nothing and returns the current version).

        ``lawful_basis``: a :class:`LawfulBasis`, its name or its Art. 6(1) letter.
        ``special_category``: the Art. 9(2) condition letter (``"a"``..``"j"``) when the
        purpose involves special-category data; grants must then be explicit.
        ``validity``: how long a grant lasts by default: ``None`` (until withdrawn), a
        whole number of days as a timedelta, ``"academic_year"`` (to 31 July) or an
        :class:`AcademicYear`. ``effect_delay``: how long downstream systems may take to
        honour a withdrawal (whole seconds). ``recipients``: the recipients a grant may
        name (empty: any).
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
        if special_category is not None:
            definition["special_category"] = special_category.lower()
        return purpose_from(json.loads(self._native.register_purpose(json.dumps(definition))))

    def register_notice(
        self,
        id: str,
        version: str,
        title: str,
        *,
        text: Optional[str] = None,
        sha256: Union[str, bytes, None] = None,
        language: str = "en-GB",
        url: Optional[str] = None,
    ) -> Notice:
        """Registers a privacy notice at a version, identified by the SHA-256 of the text
        shown: give the ``text`` (hashed as UTF-8) or its ``sha256`` (hex or 32 bytes).
        Registering the same id and version again with another hash raises :class:`Conflict`.
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
        definition: Dict[str, Any] = {
            "id": _str(id, "id"),
            "version": _str(version, "version"),
            "title": _str(title, "title"),
            "language": _str(language, "language"),
            "sha256": digest,
        }
        if _opt_str(url, "url") is not None:
            definition["url"] = url
        return notice_from(json.loads(self._native.register_notice(json.dumps(definition))))

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
        JSON-serialisable mapping kept with the event (erased with the subject).
        """
        kind = EventKind._coerce(kind, "event kind")
        if not isinstance(explicit, bool):
            raise TypeError(f"explicit must be a bool, not {type(explicit).__name__}")
        if evidence is not None and not isinstance(evidence, Mapping):
            raise TypeError(f"evidence must be a mapping (a JSON object), not {type(evidence).__name__}")
        evidence_text = None if evidence is None else json.dumps(dict(evidence), allow_nan=False)
        text = self._native.append(
            kind.value,
            _str(subject, "subject"),
            _str(purpose, "purpose"),
            recipient=_opt_str(recipient, "recipient"),
            notice=_notice_key(notice),
            explicit=explicit,
            method=None if method is None else Method._coerce(method, "method").value,
            recorded_by=_actor_text(recorded_by),
            effective_at=to_millis(effective_at, "effective_at"),
            expires_at=to_millis(expires_at, "expires_at"),
            source_id=_opt_str(source_id, "source_id"),
            evidence=evidence_text,
            target=_target_text(target),
        )
        return event_from(json.loads(text))

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
        source_id: Optional[str] = None,
        evidence: Optional[Mapping[str, Any]] = None,
    ) -> Event:
        """Records consent given, naming the ``notice`` shown and how it was collected.

        A special-category purpose needs ``explicit=True`` (the subject expressly
        confirmed a statement), or :class:`InvalidConsent` is raised. ``expires_at``
        overrides the purpose's validity rule.
        """
        return self.append(
            EventKind.GIVEN, subject, purpose, recipient=recipient, notice=notice, explicit=explicit,
            method=method, recorded_by=recorded_by, effective_at=effective_at, expires_at=expires_at,
            source_id=source_id, evidence=evidence,
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
        """Records that the subject was asked and said no."""
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
        The event's ``effect_deadline`` says when downstream systems must have acted."""
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
        """Records that the controller stopped relying on the consent (not retroactive)."""
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
        the purpose (and recipient)."""
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
        """Records that a notice was shown to the subject (no decision)."""
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
        public task; like a withdrawal, it is never refused."""
        return self.append(
            EventKind.OBJECTED, subject, purpose, recipient=recipient, method=method,
            recorded_by=recorded_by, effective_at=effective_at, source_id=source_id, evidence=evidence,
        )


class Ledger(_Recorder):
    """A consent ledger: an append-only, tamper-evident log of per-purpose consent.

    ``Ledger(path)`` opens (or creates) a ledger file; :meth:`in_memory` makes a
    throwaway one. Use it as a context manager to close it on exit::

        with Ledger("consent.db") as ledger:
            ledger.give("s1", "jmsu.marketing", notice=("jmsu.privacy", "2024-09"), method="portal")

    One ``Ledger`` may be shared by many threads: each call is atomic, and the GIL is
    released while the ledger works, so other threads keep running. While a
    :meth:`batch` is open, the other threads' calls wait for it to end (at most
    ``busy_timeout``, then :class:`LedgerBusy`); they never join it. Many processes may
    open the same file; their appends are serialised by a lock file beside the ledger
    and SQLite's write lock (a writer waits up to ``busy_timeout`` before
    :class:`LedgerBusy` is raised).

    Identifiers (subject, purpose, recipient, source id, notice id and version, actor
    ids) must be in Unicode NFC, without leading or trailing white space or control
    characters: anything else raises :class:`InvalidArgument`, for questions as well
    as appends. Normalise ids (``unicodedata.normalize("NFC", s.strip())``) where they
    come in, so "José" typed on two keyboards is one subject.

    Times are timezone-aware :class:`~datetime.datetime` objects; a naive one raises
    :class:`InvalidTime` (a :class:`ValueError`). The ledger keeps milliseconds.
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
        durable: bool = True,
        max_pages: Optional[int] = None,
        key_file: Optional[StrPath] = None,
        key: Optional[bytes] = None,
        erasure_wait: Union[timedelta, float] = 2.0,
    ) -> None:
        """Opens the ledger file at ``path``. With ``create=True`` (the default) a new
        ledger is created when the path does not exist or is an empty file; tools that
        only read or check a ledger should pass ``create=False``, so a mistyped path
        raises :class:`NotFound` (an empty file :class:`NotALedger`) instead of
        answering from a fresh, empty ledger. ``read_only=True`` never creates.

        The pseudonym key (the secret that turns subject ids into pseudonyms) never
        lives in the ledger file. By default it is the file ``<path>.key`` beside the
        ledger, created (0600) with a new ledger; ``key_file`` names another file,
        ``key`` hands over its 32 bytes. Opening a ledger without its key, or with
        another key, raises :class:`PseudonymKeyError`; a ledger opened read-only
        without its key still verifies and proves, but questions about subjects raise
        :class:`PseudonymKeyError`.

        ``busy_timeout`` (a timedelta or seconds) is how long a write waits for another
        writer's lock. ``durable=False`` syncs to disk at checkpoints only: a commit then
        survives a crash of the process but not a power cut. ``max_pages`` caps the file
        at that many database pages: an append beyond it raises :class:`StorageFull`
        and writes nothing (a quota, and a way to test for a full disk).
        ``erasure_wait`` is how long :meth:`erase_subject` keeps trying to truncate the
        write-ahead log while another connection holds an old snapshot.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, not {type(path).__name__}")
        fspath = os.fspath(path)
        if not isinstance(fspath, str):
            raise TypeError("path must be a text path, not bytes")
        busy_ms = _millis(busy_timeout, "busy_timeout")
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
            fspath, read_only=read_only, create=create, busy_timeout_ms=busy_ms, durable=durable,
            max_pages=max_pages, key_file=key_path, key=_key_bytes(key), erasure_wait_ms=erasure_ms,
        )
        self._path = fspath
        self._closed = False

    @classmethod
    def in_memory(cls, *, key: Optional[bytes] = None) -> Ledger:
        """A ledger that lives in memory only (for tests and dry runs), with a random
        pseudonym key unless ``key`` (32 bytes) is given."""
        self = cls.__new__(cls)
        self._native = _native.Ledger.in_memory(key=_key_bytes(key))
        self._path = None
        self._closed = False
        return self

    # ---- lifecycle -------------------------------------------------------------------

    @property
    def path(self) -> Optional[str]:
        """The ledger file (``None`` in memory)."""
        return self._path

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def is_simulated(self) -> bool:
        """Whether the ledger was created as a simulation: its record times come from a
        simulated clock, not the system's (recorded in its first, hashed event, and
        reported by :meth:`verify`)."""
        return self._native.is_simulated()

    def close(self) -> None:
        """Closes the ledger; an open batch is rolled back. Later calls raise
        :class:`LedgerClosed`. Closing twice is fine."""
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
        where = "in memory" if self._path is None else repr(self._path)
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
        """
        return Batch(self, self._native.batch())

    # ---- registry --------------------------------------------------------------------

    def purpose(self, id: str) -> Purpose:
        """The current version of a purpose (:class:`UnknownPurpose` if none)."""
        return purpose_from(json.loads(self._native.purpose(_str(id, "id"))))

    def purposes(self) -> List[Purpose]:
        """Every version of every purpose, by id then version."""
        return [purpose_from(p) for p in json.loads(self._native.purposes())]

    def notices(self) -> List[Notice]:
        """Every registered notice, by id then version."""
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
        withdrawal does not change it. :class:`UnknownPurpose` if the purpose is not registered.
        """
        return status_from_tuple(
            self._native.status(
                _str(subject, "subject"),
                _str(purpose, "purpose"),
                _opt_str(recipient, "recipient"),
                to_millis(at, "at"),
                to_millis(as_known_at, "as_known_at"),
            )
        )

    def event(self, id: Union[UUID, Event]) -> Event:
        """The event with this id (:class:`NotFound` if none)."""
        return event_from(json.loads(self._native.event(_event_id(id))))

    def history(self, subject: str) -> List[Event]:
        """Every event about a subject, in order (blanked once the subject is erased)."""
        return [event_from(e) for e in json.loads(self._native.history(_str(subject, "subject")))]

    def consenting(
        self, purpose: str, recipient: Optional[str] = None, at: Optional[datetime] = None
    ) -> Consenting:
        """Every subject with consent in force for ``purpose`` (and ``recipient``) at
        ``at`` (default now), with the head that answered."""
        return consenting_from_tuple(
            self._native.consenting(_str(purpose, "purpose"), _opt_str(recipient, "recipient"), to_millis(at, "at"))
        )

    def changes_since(self, since: Union[int, Head] = 0, limit: int = 1000) -> List[Event]:
        """Events with ``seq >= since`` (a sequence number or a :class:`Head`: events
        after it), at most ``limit``. Continue from the last event's ``seq + 1``."""
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
        return [event_from(e) for e in json.loads(self._native.changes_since(since, limit))]

    def iter_changes(self, since: Union[int, Head] = 0, page: int = 1000) -> Iterator[Event]:
        """Every event from ``since`` on, fetched ``page`` at a time."""
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
        ``export.to_dict(json_safe=True)`` is the portable document."""
        return subject_export_from(json.loads(self._native.export_subject(_str(subject, "subject"))))

    # ---- integrity -------------------------------------------------------------------

    def head(self) -> Head:
        """The current head (size and Merkle root); keep ``str(head)`` elsewhere to
        detect a rewritten log later with :meth:`verify_against`."""
        return Head.parse(self._native.head())

    def verify(self, raise_on_failure: bool = False) -> VerifyReport:
        """Recomputes every hash from the stored rows. Returns the report (true when
        intact); with ``raise_on_failure=True`` a failure raises :class:`TamperDetected`."""
        return self._checked(verify_report_from(json.loads(self._native.verify())), raise_on_failure)

    def verify_against(self, head: Union[Head, str], raise_on_failure: bool = False) -> VerifyReport:
        """:meth:`verify`, and checks that the log still extends ``head``: catches a
        truncated tail or a rewritten history."""
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
        """
        return inclusion_proof_from(json.loads(self._native.prove_inclusion(_event_id(event), tree_size)))

    def canonical_event(self, event: Union[UUID, Event]) -> bytes:
        """The canonical bytes of an event (docs/FORMAT.md §3.3): what its leaf hash
        covers. :meth:`InclusionProof.verify` checks a proof against them, so a proof is
        bound to its event; keep them with a receipt."""
        return self._native.canonical_event(_event_id(event))


    def prove_consistency(
        self, old: Union[Head, str], new_size: Optional[int] = None
    ) -> Tuple[ConsistencyProof, Head]:
        """Proof that the log at ``old`` is a prefix of the log now (or at ``new_size``),
        with the new head. :class:`LedgerCorrupt` if the log no longer extends ``old``."""
        proof, head = json.loads(self._native.prove_consistency(str(_head(old)), new_size))
        return consistency_proof_from(proof), head_from(head)

    # ---- retention -------------------------------------------------------------------

    def erase_subject(self, subject: str, reason: str, *, recorded_by: ActorLike) -> ErasureReport:
        """Erases a subject at the end of retention: blanks their id, source ids and
        evidence in every event (the hashes still verify), and refuses later grants.
        Withdrawals and objections can still be recorded. :class:`SubjectErased` if done
        already.

        The erased values are gone from every file once the write-ahead log is
        truncated: the report's ``complete`` says whether that happened within
        ``erasure_wait``; if not, call :meth:`complete_erasures` later."""
        text = self._native.erase_subject(_str(subject, "subject"), _str(reason, "reason"), _actor_text(recorded_by))
        return erasure_report_from(json.loads(text))

    def checkpoint(self) -> bool:
        """Folds the write-ahead log into the file and truncates it; false if another
        connection kept a read open (try again later)."""
        return self._native.checkpoint()


    def complete_erasures(self, wait: Union[timedelta, float] = 2.0) -> bool:
        """Finishes pending erasures: truncates the write-ahead log, which may still hold
        erased values when :meth:`erase_subject` reported ``complete=False`` (another
        connection kept an old snapshot open). Keeps trying for up to ``wait`` (a
        timedelta or seconds); returns whether every erasure is now complete. Safe to
        call at any time."""
        return self._native.complete_erasures(_millis(wait, "wait"))



class Batch(_Recorder):
    """An open batch of appends, from :meth:`Ledger.batch`: all or nothing.

    It offers the ledger's ways of recording (:meth:`append`, :meth:`give`,
    :meth:`withdraw`..., :meth:`register_purpose`, :meth:`register_notice`) and
    :meth:`head`; the events it returns are final once :meth:`commit` succeeds. As a
    context manager it commits on a normal exit and rolls back on an exception. A batch
    dropped without being ended is rolled back. An append that raises inside the batch
    leaves the batch's earlier appends in place (catch it and carry on, or roll back).
    """

    _native: _native.Batch
    _ledger: Ledger

    def __init__(self, ledger: Ledger, native: _NativeBatch) -> None:
        """Use :meth:`Ledger.batch`."""
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
        """The head including the batch's appends so far."""
        return Head.parse(self._native.head())

    def commit(self) -> None:
        """Commits every append of the batch. If the commit fails nothing of the batch
        lands; the batch is over either way. :class:`BatchError` if it had ended."""
        self._native.commit()

    def rollback(self) -> None:
        """Discards every append of the batch. :class:`BatchError` if it had ended."""
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
