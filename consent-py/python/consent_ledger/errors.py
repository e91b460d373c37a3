"""The exception hierarchy of :mod:`consent_ledger`.

Every error the ledger raises is a :class:`ConsentError`. Where a built-in exception
means the same thing, the class also derives from it, so generic code keeps working:
a malformed argument is a :class:`ValueError`, an unknown purpose a
:class:`LookupError`, a storage failure an :class:`OSError`.

The Rust extension maps the core's error kinds (its one table,
``consent_ledger._native.ERROR_KINDS``: number -> name) to these classes in one table
(``consent-py/src/lib.rs``, ``ERROR_CLASSES``, also importable as
``consent_ledger._native.ERROR_CLASSES``), and refuses to load if a kind has no class;
each instance carries that kind's stable number as :attr:`ConsentError.code` (the same
numbers as the C ABI).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Tuple

if TYPE_CHECKING:
    from .model import VerifyReport

__all__ = [
    "BatchError",
    "Conflict",
    "ConsentError",
    "InvalidArgument",
    "InvalidConsent",
    "InvalidTime",
    "LedgerBusy",
    "LedgerClosed",
    "LedgerCorrupt",
    "LedgerReadOnly",
    "NotALedger",
    "NotFound",
    "ProofRejected",
    "PseudonymKeyError",
    "QuorumNotMet",
    "ReceiptRejected",
    "SchemaTooNew",
    "SignedNoteRejected",
    "SqliteTooOld",
    "StorageError",
    "StorageFull",
    "SubjectErased",
    "TamperDetected",
    "WitnessRefused",
    "UnknownNotice",
    "UnknownPurpose",
    "UnknownRecipient",
]


class ConsentError(Exception):
    """Base class of every error raised by the ledger."""

    #: The core's stable error number (as in the C ABI); ``None`` when raised by Python code.
    code: Optional[int] = None


class InvalidArgument(ConsentError, ValueError):
    """An argument is malformed: an empty id, bad JSON, an unknown enum value..."""


class InvalidTime(InvalidArgument):
    """A time is naive, malformed or outside the years 1..9999, or an expiry precedes its start."""


class UnknownPurpose(ConsentError, LookupError):
    """The purpose id is not registered in this ledger."""


class UnknownNotice(ConsentError, LookupError):
    """The notice id and version are not registered in this ledger."""


class NotFound(ConsentError, LookupError):
    """No event (or ledger file) with that key; or, for an erasure, no event naming the
    subject (``force=True`` erases anyway)."""


class InvalidConsent(ConsentError, ValueError):
    """The event breaks a consent rule: a special-category grant that is not explicit,
    a grant without a notice or method, a grant for a purpose not based on consent."""


class UnknownRecipient(InvalidConsent):
    """The recipient is not one the purpose lists (registry ids, compared exactly: ``NHS``
    is not ``nhs``), or a question about a purpose that lists recipients named none.
    The message lists the valid ids; so do the attributes."""

    #: The purpose asked about (``None`` when raised by Python code).
    purpose: Optional[str] = None
    #: The recipient refused; ``None`` when the question named none.
    recipient: Optional[str] = None
    #: The recipients the purpose lists: the valid spellings.
    listed: Tuple[str, ...] = ()


class SubjectErased(ConsentError):
    """The subject has been erased; only withdrawals, revocations and objections can be
    recorded (until :meth:`Ledger.readmit_subject`)."""


class Conflict(ConsentError):
    """A source id or registry key was reused with different content."""


class LedgerCorrupt(ConsentError):
    """The ledger's contents are structurally damaged, or its schema differs from the
    library's (e.g. an extra trigger)."""


class NotALedger(ConsentError):
    """The file is not a consent ledger: an empty file opened with ``create=False``, a
    file that is not SQLite, or another application's SQLite file. Refused before a
    byte of it is changed."""


class PseudonymKeyError(ConsentError):
    """The pseudonym key is missing, unreadable, malformed, or not the key this ledger
    was created with; or the ledger was opened read-only without its key and was asked
    about a subject."""


class SignedNoteRejected(ConsentError):
    """A signed note, checkpoint or key string was refused: malformed, not signed by
    the key given, a signature that does not verify, a key of the wrong type."""


class QuorumNotMet(ConsentError):
    """A checkpoint carries fewer cosignatures by distinct trusted witnesses than the
    quorum asked for: the ledger signed it, but not enough witnesses vouch for it."""


class WitnessRefused(ConsentError):
    """A witness refused to cosign a checkpoint: a fork, a rollback, no valid
    consistency proof, or an unknown log. The message names both checkpoints and the
    evidence file the witness wrote."""

    #: Why: ``"fork"``, ``"rollback"``, ``"proof-required"``, ``"inconsistent"`` or
    #: ``"unknown-log"`` (``None`` when raised by Python code).
    kind: Optional[str] = None
    #: The evidence file the witness wrote (fork, rollback, inconsistent proof), if any.
    evidence: Optional[str] = None


class ReceiptRejected(ConsentError):
    """A receipt did not check out; the message names the check that failed."""


class TamperDetected(LedgerCorrupt):
    """``verify(raise_on_failure=True)`` found a hash that does not match.

    The full :class:`~consent_ledger.VerifyReport` is in :attr:`report`.
    """

    def __init__(self, message: str, report: Optional[VerifyReport] = None) -> None:
        super().__init__(message)
        self.report = report


class SchemaTooNew(ConsentError):
    """The file was written by a newer version of this library."""


class SqliteTooOld(ConsentError):
    """The linked SQLite is older than the minimum this library accepts."""


class StorageError(ConsentError, OSError):
    """Storage failed: an I/O error or another SQLite error."""


class LedgerReadOnly(StorageError):
    """The ledger (or its folder) is read-only."""


class StorageFull(StorageError):
    """The disk is full; nothing was written."""


class LedgerBusy(StorageError):
    """Another writer held the lock longer than the busy timeout."""


class LedgerClosed(ConsentError):
    """The ledger has been closed."""


class BatchError(ConsentError, RuntimeError):
    """A batch was used after it ended, or the thread that holds an open batch called
    the ledger directly (make the call through the batch, or end the batch first; this
    also refuses a second, nested batch)."""


class ProofRejected(ConsentError):
    """A Merkle proof did not lead to the head it was checked against."""


for _cls in [ConsentError, *(globals()[_n] for _n in __all__ if _n != "ConsentError")]:
    # Show `consent_ledger.UnknownPurpose` in tracebacks, where users import it from.
    _cls.__module__ = "consent_ledger"
del _cls
