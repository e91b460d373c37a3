# Stubs for the Rust extension `consent_ledger._native` (consent-py/src/lib.rs).
# Checked by `python -m mypy.stubtest consent_ledger._native`. This layer takes plain
# values (milliseconds since the epoch, strings) and returns the core's JSON (or, for
# the hot `status` call, a tuple of plain values); use the typed API of
# `consent_ledger.Ledger` instead.

import os
from typing import final

__all__ = [
    "__version__",
    "SCHEMA_VERSION",
    "MAX_ID_LEN",
    "ERROR_CLASSES",
    "Ledger",
    "Batch",
    "verify_inclusion",
    "verify_consistency",
]

__version__: str
SCHEMA_VERSION: int
MAX_ID_LEN: int
#: Every core error kind's stable number -> the name of its class in consent_ledger.errors.
ERROR_CLASSES: dict[int, str]

@final
class Ledger:
    """A consent ledger on one SQLite file, or in memory. Use `consent_ledger.Ledger`."""

    @staticmethod
    def open(
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        create: bool = True,
        busy_timeout_ms: int = 30000,
        durable: bool = True,
        max_pages: int | None = None,
        key_file: str | os.PathLike[str] | None = None,
        key: bytes | None = None,
        erasure_wait_ms: int = 2000,
        time_zone: str | None = None,
    ) -> Ledger: ...
    @staticmethod
    def in_memory(
        *, key: bytes | None = None, time_zone: str | None = None, simulated_now: int | None = None
    ) -> Ledger: ...
    def set_simulated_now(self, now: int) -> None: ...
    def close(self) -> None: ...
    def is_simulated(self) -> bool: ...
    def time_zone(self) -> str: ...
    def batch(self) -> Batch: ...
    def register_purpose(self, definition: str) -> str: ...
    def register_notice(self, definition: str) -> str: ...
    def load_registry(self, path: str | os.PathLike[str], texts: str | os.PathLike[str] | None = None) -> str: ...
    def purpose(self, id: str) -> str: ...
    def purposes(self) -> str: ...
    def notices(self) -> str: ...
    def append(
        self,
        kind: str,
        subject: str,
        purpose: str,
        *,
        recipient: str | None = None,
        notice: tuple[str, str] | None = None,
        explicit: bool = False,
        method: str | None = None,
        recorded_by: str | None = None,
        effective_at: int | None = None,
        expires_at: int | None = None,
        validity_from: int | None = None,
        source_id: str | None = None,
        evidence: str | None = None,
        target: str | None = None,
    ) -> str: ...
    def event(self, id: str) -> str: ...
    def canonical_event(self, id: str) -> bytes: ...
    def status(
        self,
        subject: str,
        purpose: str,
        recipient: str | None = None,
        at: int | None = None,
        as_known_at: int | None = None,
    ) -> tuple[
        str,
        tuple[int, int | None],
        str | None,
        str,
        str,
        bytes | None,
        int | None,
        int | None,
        int | None,
        tuple[str, str, str] | None,
        int | None,
        tuple[int, int],
    ]: ...
    def history(self, subject: str) -> str: ...
    def consenting(
        self,
        purpose: str,
        recipient: str | None = None,
        at: int | None = None,
        as_known_at: int | None = None,
    ) -> tuple[
        str, str | None, tuple[int, int], list[tuple[str, bytes, int, int | None]], tuple[int, str]
    ]: ...
    def changes_since(self, since: int, limit: int) -> str: ...
    def export_subject(self, subject: str) -> str: ...
    def export_subject_html(self, subject: str) -> str: ...
    def head(self) -> str: ...
    def verify(self) -> str: ...
    def verify_against(self, head: str) -> str: ...
    def prove_inclusion(self, event: str, tree_size: int | None = None) -> str: ...
    def prove_consistency(self, old: str, new_size: int | None = None) -> str: ...
    def erase_subject(self, subject: str, reason: str, recorded_by: str, *, force: bool = False) -> str: ...
    def erasure_preview(self, subject: str) -> str: ...
    def erase_subjects(self, subjects: list[str], reason: str, recorded_by: str, *, force: bool = False) -> str: ...
    def readmit_subject(self, subject: str, reason: str, recorded_by: str) -> str: ...
    def complete_erasures(self, wait_ms: int) -> bool: ...
    def checkpoint(self) -> bool: ...

@final
class Batch:
    """A batch owned by its caller: appends made through it land together on `commit`,
    or not at all. Use `consent_ledger.Batch` (from `Ledger.batch()`)."""

    def ended(self) -> bool: ...
    def register_purpose(self, definition: str) -> str: ...
    def register_notice(self, definition: str) -> str: ...
    def append(
        self,
        kind: str,
        subject: str,
        purpose: str,
        *,
        recipient: str | None = None,
        notice: tuple[str, str] | None = None,
        explicit: bool = False,
        method: str | None = None,
        recorded_by: str | None = None,
        effective_at: int | None = None,
        expires_at: int | None = None,
        validity_from: int | None = None,
        source_id: str | None = None,
        evidence: str | None = None,
        target: str | None = None,
    ) -> str: ...
    def head(self) -> str: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...

def verify_inclusion(proof: str, event: bytes, head: str) -> None: ...
def verify_consistency(proof: str, old: str, new: str) -> None: ...
