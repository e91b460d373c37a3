"""Signed checkpoints, witnesses and receipts (docs/FORMAT.md §11 and §12).

A ledger signs its head as a C2SP checkpoint with the log's key
(:meth:`Ledger.sign_checkpoint`); witnesses — the DPO's office, the students' union —
cosign it only if it extends the last one they cosigned (:class:`Witness`); a receipt
(:meth:`Ledger.receipt`) is checked anywhere with nothing but the verifier keys
(:func:`check_receipt`)::

    log_key = generate_signing_key("log.key", "ljmu.ac.uk/consent")
    dpo_key = generate_signing_key("dpo.key", "dpo.ljmu.ac.uk/witness", witness=True)
    signed = ledger.sign_checkpoint("log.key")
    dpo = Witness("dpo-state", "dpo.key", [log_key])
    ledger.add_cosignatures(dpo.cosign(signed.note))
    receipt = ledger.receipt(event.id)
    check_receipt(receipt, log_key, [dpo_key], quorum=1)

Keys are passed as verifier-key strings (``<name>+<key id>+<base64>``); private keys
live in their own files (0600), never in a ledger.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import datetime
from types import MappingProxyType
from typing import Any, Iterable, List, Mapping, Optional, Tuple, Union
from uuid import UUID

from . import _native
from ._time import from_millis
from .errors import InvalidArgument
from .model import ConsistencyProof, EventKind, Head, Record, _proof_json

__all__ = [
    "SignedCheckpoint",
    "Cosignature",
    "CheckpointVerdict",
    "CheckpointsReport",
    "CheckedReceipt",
    "Witness",
    "generate_signing_key",
    "signing_key_verifier",
    "check_receipt",
    "RECEIPT_LAYOUTS",
]

StrPath = Union[str, "os.PathLike[str]"]

#: The readable layouts a receipt can carry.
RECEIPT_LAYOUTS: Tuple[str, ...] = ("iso27560", "kantara")


def _keys(keys: Iterable[str], what: str) -> List[str]:
    if isinstance(keys, str):
        raise TypeError(f"{what} must be a sequence of verifier-key strings, not one string")
    out = list(keys)
    for k in out:
        if not isinstance(k, str):
            raise TypeError(f"{what} must hold verifier-key strings, not {type(k).__name__}")
    return out


def _text(value: str, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    return value


def _quorum(quorum: int) -> int:
    if isinstance(quorum, bool) or not isinstance(quorum, int):
        raise TypeError(f"quorum must be an int, not {type(quorum).__name__}")
    if quorum < 0:
        raise InvalidArgument(f"quorum must not be negative, not {quorum}")
    return quorum


def _head(d: Mapping[str, Any]) -> Head:
    return Head(d["size"], d["root"])


@dataclasses.dataclass(frozen=True, repr=False)
class SignedCheckpoint(Record):
    """A checkpoint the ledger signed and keeps: ``note`` is the signed note (the
    checkpoint text, the log's signature and the cosignatures merged since);
    ``origin`` the log key's name; ``head`` the size and root it states.
    ``str(checkpoint)`` is the note."""

    origin: str
    head: Head
    note: str

    def __str__(self) -> str:
        return self.note


@dataclasses.dataclass(frozen=True, repr=False)
class Cosignature(Record):
    """A witness's cosignature that verified under a key given: the witness (key name),
    its key id (8 hex digits) and the time it states."""

    name: str
    key_id: str
    timestamp: Optional[datetime]


@dataclasses.dataclass(frozen=True, repr=False)
class CheckpointVerdict(Record):
    """What :meth:`Ledger.check_checkpoint` found for an authentic checkpoint; true when
    the ledger holds it. Otherwise ``finding`` is ``"truncated"`` (fewer events than the
    checkpoint) or ``"rewritten"`` (another root at its size), and ``problem`` says so."""

    holds: bool
    origin: str
    head: Head
    cosignatures: Tuple[Cosignature, ...]
    ledger_size: int
    finding: Optional[str]
    problem: Optional[str]

    def __bool__(self) -> bool:
        return self.holds


@dataclasses.dataclass(frozen=True, repr=False)
class CheckpointsReport(Record):
    """What :meth:`Ledger.verify_checkpoints` found; true when every stored checkpoint
    holds. Otherwise ``first_bad_size`` names the smallest that does not, ``problem``
    why, and ``last_good_size`` the largest below it that holds."""

    ok: bool
    ledger_size: int
    checked: int
    first_bad_size: Optional[int]
    problem: Optional[str]
    last_good_size: Optional[int]

    def __bool__(self) -> bool:
        return self.ok


@dataclasses.dataclass(frozen=True, repr=False)
class CheckedReceipt(Record):
    """What :func:`check_receipt` proved: the event (id, kind, seq, purpose and version)
    is in the log whose key signed the checkpoint (``origin``, ``head``), vouched for by
    ``cosignatures``; ``readable`` is the layout's fields, rebuilt from proved bytes
    alone; ``proved`` says it in plain words and ``not_proved`` what a receipt cannot
    prove. ``subject_checked`` is false once the subject was erased (the receipt then
    names nobody); ``simulated`` that the ledger ran on a simulated clock."""

    origin: str
    head: Head
    cosignatures: Tuple[Cosignature, ...]
    event_id: UUID
    kind: EventKind
    seq: int
    purpose: str
    purpose_version: int
    subject_checked: bool
    simulated: bool
    layout: str
    readable: Mapping[str, Any]
    not_proved: Tuple[str, ...]
    proved: Tuple[str, ...]


def _cosignatures(items: Iterable[Mapping[str, Any]]) -> Tuple[Cosignature, ...]:
    return tuple(
        Cosignature(c["name"], c["key_id"], None if c["timestamp"] is None else from_millis(c["timestamp"] * 1000))
        for c in items
    )


def signed_checkpoint_from(d: Mapping[str, Any]) -> SignedCheckpoint:
    return SignedCheckpoint(d["origin"], _head(d["head"]), d["note"])


def verdict_from(d: Mapping[str, Any]) -> CheckpointVerdict:
    return CheckpointVerdict(
        d["holds"], d["origin"], _head(d["head"]), _cosignatures(d["cosignatures"]),
        d["ledger_size"], d["finding"], d["problem"],
    )


def checkpoints_report_from(d: Mapping[str, Any]) -> CheckpointsReport:
    return CheckpointsReport(
        d["ok"], d["ledger_size"], d["checked"], d.get("first_bad_size"), d.get("problem"), d.get("last_good_size"),
    )


def _checked_receipt_from(d: Mapping[str, Any]) -> CheckedReceipt:
    readable = d["readable"]
    return CheckedReceipt(
        d["origin"], _head(d["head"]), _cosignatures(d["cosignatures"]), UUID(d["event_id"]), EventKind(d["kind"]),
        d["seq"], d["purpose"], d["purpose_version"], d["subject_checked"], d["simulated"], d["layout"],
        MappingProxyType(readable) if isinstance(readable, dict) else readable,
        tuple(d["not_proved"]), tuple(d["proved"]),
    )


def generate_signing_key(path: StrPath, name: str, witness: bool = False) -> str:
    """Generates a signing key named ``name`` — the log's (its name is the log's origin,
    e.g. ``"ljmu.ac.uk/consent"``) or, with ``witness=True``, a witness's — writes its
    private key to a new file at ``path`` (0600; an existing file is never replaced:
    :class:`PseudonymKeyError`) and returns the verifier key to publish.

    Raises:
        TypeError: an argument of the wrong type.
        InvalidArgument: a malformed name.
        PseudonymKeyError: ``path`` exists already, or the key file cannot be written.
    """
    return _native.generate_signing_key(os.fspath(path), _text(name, "name"), bool(witness))


def signing_key_verifier(path: StrPath, witness: bool = False) -> str:
    """The verifier key of the private key file at ``path`` (refused when others can
    read the file, or when it holds a key of the other role).

    Raises:
        TypeError: an argument of the wrong type.
        PseudonymKeyError: the file is missing, readable by others, or holds a key of the
            other role.
    """
    return _native.signing_key_verifier(os.fspath(path), bool(witness))


def check_receipt(
    receipt: str, log_key: str, witness_keys: Iterable[str] = (), quorum: Optional[int] = None
) -> CheckedReceipt:
    """Checks a receipt's JSON with the log's verifier key and the witnesses' keys,
    requiring ``quorum`` cosignatures by distinct witnesses among them (default: all
    of them). No ledger needed. Raises :class:`ReceiptRejected`, naming the first check
    that failed, when it does not check out (a forged or re-rooted checkpoint, a proof
    that does not lead to the root, a changed readable field, too few cosignatures), and
    :class:`InvalidArgument` for text that is not JSON or a malformed key.

    Raises:
        TypeError: an argument of the wrong type.
        ReceiptRejected: the receipt does not check out (names the first check that
            failed).
        InvalidArgument: text that is not JSON, a malformed key or quorum.
    """
    keys = _keys(witness_keys, "witness_keys")
    q = len(keys) if quorum is None else _quorum(quorum)
    text = _native.check_receipt(_text(receipt, "receipt"), _text(log_key, "log_key"), keys, q)
    return _checked_receipt_from(json.loads(text))


class Witness:
    """A witness (the DPO's office, the students' union): keeps, in ``state_dir``, the
    last checkpoint it cosigned for each log, and cosigns a new one only if it extends
    it. ``key_path`` is its key file (``generate_signing_key(..., witness=True)``);
    ``logs`` the logs it watches: ``{origin: log_verifier_key}``, or just the log keys
    (each log's origin is its key's name).

    A fork, a rollback or a missing or bad proof raises :class:`WitnessRefused`, whose
    ``kind`` says which (``"fork"``, ``"rollback"``, ``"proof-required"``,
    ``"inconsistent"``, ``"unknown-log"``) and ``evidence`` names the file holding
    both checkpoints. Safe to share between threads; two processes on one state
    directory cannot both move a log's state.
    """

    _native: _native.Witness

    def __init__(self, state_dir: StrPath, key_path: StrPath, logs: Union[Mapping[str, str], Iterable[str]]) -> None:
        """Opens (or starts) the witness's state in ``state_dir``.

        Raises:
            TypeError: an argument of the wrong type (``logs`` a single string).
            InvalidArgument: a malformed log key.
            PseudonymKeyError: an unusable witness key file.
            StorageError: the state directory cannot be used.
        """
        if isinstance(logs, str):
            raise TypeError("logs must be {origin: verifier key} or a sequence of verifier keys, not one string")
        pairs: List[Tuple[str, str]]
        if isinstance(logs, Mapping):
            pairs = [(_text(o, "origin"), _text(k, "log key")) for o, k in logs.items()]
        else:
            pairs = [(k.split("+", 1)[0], k) for k in _keys(logs, "logs")]
        self._native = _native.Witness(os.fspath(state_dir), os.fspath(key_path), pairs)

    @property
    def verifier_key(self) -> str:
        """The witness's verifier key, for readers counting its cosignatures."""
        return self._native.verifier_key()

    def latest(self, origin: str) -> Optional[Head]:
        """The last checkpoint cosigned for ``origin`` (what the log proves consistency
        from, with :meth:`Ledger.prove_consistency`), ``None`` before the first.

        Raises:
            TypeError: an argument of the wrong type.
            StorageError: the state directory cannot be read.
        """
        head = self._native.latest(_text(origin, "origin"))
        return None if head is None else Head.parse(head)

    def cosign(self, note: Union[str, SignedCheckpoint], proof: Optional[ConsistencyProof] = None) -> str:
        """Cosigns ``note`` (a checkpoint signed by a log this witness watches) and
        returns it with the witness's cosignature line added (give it to
        :meth:`Ledger.add_cosignatures`). ``proof`` proves that the log grew from the
        last checkpoint cosigned (:meth:`latest`): needed when its size grew. The
        first checkpoint of a log is taken on trust.

        Raises:
            TypeError: an argument of the wrong type.
            SignedNoteRejected: the note is not signed by a log the witness watches.
            WitnessRefused: a fork, a rollback, a missing or bad proof (``kind`` says
                which).
            StorageError: the state directory cannot be written.
        """
        text = note.note if isinstance(note, SignedCheckpoint) else _text(note, "note")
        if proof is not None and not isinstance(proof, ConsistencyProof):
            raise TypeError(f"proof must be a ConsistencyProof, not {type(proof).__name__}")
        return self._native.cosign(text, None if proof is None else _proof_json(proof))

    def __repr__(self) -> str:
        return f"Witness({self.verifier_key.split('+', 1)[0]!r})"
