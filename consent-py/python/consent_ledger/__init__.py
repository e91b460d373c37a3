"""consent_ledger: an append-only, tamper-evident ledger of per-purpose consent.

>>> from datetime import datetime, timezone
>>> from consent_ledger import Ledger
>>> with Ledger.in_memory() as ledger:
...     _ = ledger.register_purpose("jmsu.marketing", "Students' union marketing", "JMSU")
...     _ = ledger.register_notice("jmsu.privacy", "2024-09", "JMSU privacy notice", text="...",
...                                controller="JMSU", purposes=["jmsu.*"])
...     _ = ledger.give("s1", "jmsu.marketing", notice=("jmsu.privacy", "2024-09"), method="portal")
...     ledger.status("s1", "jmsu.marketing").state
<State.GIVEN: 'given'>

Everything public is importable from the package root; see :class:`Ledger`.
"""

from . import _native
from .errors import (
    BatchError,
    Conflict,
    ConsentError,
    InvalidArgument,
    InvalidConsent,
    InvalidTime,
    LedgerBusy,
    LedgerClosed,
    LedgerCorrupt,
    LedgerReadOnly,
    NotALedger,
    NotFound,
    ProofRejected,
    PseudonymKeyError,
    QuorumNotMet,
    ReceiptRejected,
    SchemaTooNew,
    SignedNoteRejected,
    SqliteTooOld,
    StorageError,
    StorageFull,
    SubjectErased,
    TamperDetected,
    UnknownNotice,
    UnknownPurpose,
    UnknownRecipient,
    WitnessRefused,
)
from .trust import (
    RECEIPT_LAYOUTS,
    CheckedReceipt,
    CheckpointsReport,
    CheckpointVerdict,
    Cosignature,
    SignedCheckpoint,
    Witness,
    check_receipt,
    generate_signing_key,
    signing_key_verifier,
)
from .ledger import ActorLike, Batch, Ledger, MethodLike, NewEvent, NoticeLike, Question
from .model import (
    AcademicYear,
    Actor,
    ActorKind,
    BulkErasure,
    Consenting,
    ConsentingSubject,
    ConsistencyProof,
    CourseYear,
    ErasureOutcome,
    ErasurePreview,
    ErasureReport,
    ErasureResult,
    Event,
    EventKind,
    HashCheck,
    Head,
    InclusionProof,
    LawfulBasis,
    Method,
    Notice,
    NoticeRef,
    Purpose,
    Record,
    RegistryEntry,
    RegistryEntryKind,
    RegistryReport,
    State,
    Status,
    SubjectExport,
    Validity,
    VerifyReport,
)

__version__: str = _native.__version__
#: The newest file format this build reads and writes.
SCHEMA_VERSION: int = _native.SCHEMA_VERSION
#: The longest id (subject, purpose, recipient, source id...) the ledger accepts, in bytes.
MAX_ID_LEN: int = _native.MAX_ID_LEN

__all__ = [
    # the ledger
    "Ledger",
    "Batch",
    "NewEvent",
    "Question",
    "NoticeLike",
    "MethodLike",
    "ActorLike",
    # enums
    "State",
    "EventKind",
    "Method",
    "LawfulBasis",
    "ActorKind",
    "ErasureResult",
    "RegistryEntryKind",
    "HashCheck",
    # records
    "Record",
    "Actor",
    "AcademicYear",
    "CourseYear",
    "Validity",
    "Purpose",
    "Notice",
    "NoticeRef",
    "Event",
    "Status",
    "Consenting",
    "ConsentingSubject",
    "Head",
    "VerifyReport",
    "InclusionProof",
    "ConsistencyProof",
    "ErasureReport",
    "ErasurePreview",
    "ErasureOutcome",
    "BulkErasure",
    "RegistryReport",
    "RegistryEntry",
    "SubjectExport",
    # signed checkpoints, witnesses, receipts
    "Witness",
    "SignedCheckpoint",
    "Cosignature",
    "CheckpointVerdict",
    "CheckpointsReport",
    "CheckedReceipt",
    "generate_signing_key",
    "signing_key_verifier",
    "check_receipt",
    "RECEIPT_LAYOUTS",
    # errors
    "ConsentError",
    "InvalidArgument",
    "InvalidTime",
    "InvalidConsent",
    "UnknownPurpose",
    "UnknownNotice",
    "UnknownRecipient",
    "NotFound",
    "Conflict",
    "NotALedger",
    "PseudonymKeyError",
    "SubjectErased",
    "LedgerCorrupt",
    "TamperDetected",
    "SchemaTooNew",
    "SqliteTooOld",
    "StorageError",
    "StorageFull",
    "LedgerReadOnly",
    "LedgerBusy",
    "LedgerClosed",
    "BatchError",
    "ProofRejected",
    "SignedNoteRejected",
    "QuorumNotMet",
    "WitnessRefused",
    "ReceiptRejected",
    # constants
    "__version__",
    "SCHEMA_VERSION",
    "MAX_ID_LEN",
]
