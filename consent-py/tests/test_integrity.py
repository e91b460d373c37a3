"""Tamper evidence, proofs, erasure, and every storage error."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from support import NOTICE, at, register_all

import consent_ledger
from consent_ledger import (
    Actor,
    ConsentError,
    EventKind,
    Head,
    InvalidArgument,
    Ledger,
    LedgerBusy,
    LedgerCorrupt,
    LedgerReadOnly,
    NotFound,
    ProofRejected,
    SchemaTooNew,
    State,
    StorageError,
    StorageFull,
    SubjectErased,
    TamperDetected,
    VerifyReport,
)

SHARE = "wellbeing.share-external"


def test_verify_and_head(ledger: Ledger) -> None:
    ledger.give("s1", SHARE, notice=NOTICE, method="portal")
    report = ledger.verify()
    assert isinstance(report, VerifyReport) and report.ok and bool(report)
    assert report.first_bad_seq is None and report.problem is None
    head = ledger.head()
    assert report.head == head and report.size == head.size == 7
    assert len(head.root) == 64 and str(head) == f"7:{head.root}"
    assert Head.parse(str(head)) == head
    assert ledger.verify(raise_on_failure=True) == report
    ledger.withdraw("s1", SHARE)
    assert ledger.verify_against(head).ok
    assert ledger.verify_against(str(head), raise_on_failure=True).ok
    for bad in ("7", "x:" + "0" * 64, "7:abc", "7:" + "zz" * 32):
        with pytest.raises(InvalidArgument):
            Head.parse(bad)
    with pytest.raises(TypeError):
        Head.parse(7)  # type: ignore[arg-type]


def test_inclusion_and_consistency_proofs(ledger: Ledger) -> None:
    e = ledger.give("s1", SHARE, notice=NOTICE, method="portal")
    old = ledger.head()
    for i in range(5):
        ledger.withdraw(f"s{i}", SHARE)
    head = ledger.head()
    proof = ledger.prove_inclusion(e)
    assert proof.leaf_index == e.seq and proof.tree_size == head.size and proof.head == head
    proof.verify(head)
    proof.verify(str(head))
    at_old = ledger.prove_inclusion(e.id, tree_size=old.size)
    at_old.verify(old)
    with pytest.raises(ProofRejected):
        proof.verify(Head(head.size, "00" * 32))
    with pytest.raises(InvalidArgument):
        proof.verify(old)  # another size
    with pytest.raises(NotFound):
        ledger.prove_inclusion(__import__("uuid").uuid4())
    consistency, new = ledger.prove_consistency(old)
    assert new == head and consistency.old_size == old.size and consistency.new_size == head.size
    consistency.verify(old, new)
    with pytest.raises(ProofRejected):
        consistency.verify(Head(old.size, "11" * 32), new)
    with pytest.raises(LedgerCorrupt):
        ledger.prove_consistency(Head(old.size, "11" * 32))
    assert json.loads(json.dumps(proof.to_dict(json_safe=True)))["leaf_index"] == e.seq


def _tamper(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(sql)
    finally:
        conn.close()


def test_tampering_is_detected(ledger_file: Path) -> None:
    with Ledger(ledger_file) as ledger:
        grant = ledger.give("s1", SHARE, recipient="NHS", notice=NOTICE, method="portal",
                            effective_at=at("2024-10-01T09:00"))
        ledger.withdraw("s1", SHARE, recipient="NHS")
        head = ledger.head()
    _tamper(ledger_file, f"UPDATE events SET recipient = 'SFE' WHERE seq = {grant.seq}")
    with Ledger(ledger_file) as ledger:
        report = ledger.verify()
        assert not report.ok and not report
        assert report.first_bad_seq == grant.seq and report.problem
        with pytest.raises(TamperDetected) as info:
            ledger.verify(raise_on_failure=True)
        assert isinstance(info.value, LedgerCorrupt)
        assert info.value.report == report
        assert f"event {grant.seq}" in str(info.value)
        assert not ledger.verify_against(head).ok


def test_truncated_tail_is_detected(ledger_file: Path) -> None:
    with Ledger(ledger_file) as ledger:
        ledger.withdraw("s1", SHARE)
        head = ledger.head()
    _tamper(ledger_file, f"DELETE FROM events WHERE seq = {head.size - 1}")
    with Ledger(ledger_file) as ledger:
        with pytest.raises(TamperDetected):
            ledger.verify_against(head, raise_on_failure=True)


def test_erase_subject(ledger_file: Path) -> None:
    with Ledger(ledger_file) as ledger:
        ledger.give("s1", SHARE, notice=NOTICE, method="portal", source_id="f1", evidence={"name": "Ann"})
        ledger.withdraw("s1", SHARE)
        ledger.give("s2", SHARE, notice=NOTICE, method="portal")
        report = ledger.erase_subject("s1", "retention period ended", recorded_by=Actor.system("retention"))
        assert report.events_erased == 2 and report.wal_truncated
        history = ledger.history("s1")
        assert [e.kind for e in history] == [EventKind.GIVEN, EventKind.WITHDRAWN, EventKind.SUBJECT_ERASED]
        assert all(e.subject is None and e.evidence is None and e.source_id is None for e in history)
        assert all(e.erased for e in history[:2])
        assert [e.kind for e in ledger.export_subject("s1").events] == [e.kind for e in history]
        marker = history[-1]
        assert marker.kind is EventKind.SUBJECT_ERASED and marker.subject is None
        assert marker.details is not None and marker.details["reason"] == "retention period ended"
        assert ledger.status("s1", SHARE).state is State.ERASED
        assert ledger.status("s1", SHARE, at=at("2024-01-01T00:00")).state is State.ERASED
        with pytest.raises(SubjectErased):
            ledger.give("s1", SHARE, notice=NOTICE, method="portal")
        with pytest.raises(SubjectErased):
            ledger.erase_subject("s1", "again", recorded_by="staff:dpo")
        # A withdrawal is still recordable, and everything still verifies.
        assert ledger.withdraw("s1", SHARE).subject is None
        assert ledger.verify(raise_on_failure=True).ok
        assert ledger.status("s2", SHARE).permits
        with pytest.raises(InvalidArgument):
            ledger.erase_subject("s2", " ", recorded_by="staff:dpo")
        with pytest.raises(TypeError):
            ledger.erase_subject("s2", "done", recorded_by=None)  # type: ignore[arg-type]
        assert ledger.checkpoint() is True
    with sqlite3.connect(ledger_file) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE subject = 's1'").fetchone() == (0,)
    conn.close()


# ---- storage errors ----------------------------------------------------------------------


def test_not_a_ledger(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerCorrupt) as info:
        Ledger(garbage)
    assert info.value.code == 11
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t(x)")
    conn.close()
    with pytest.raises(LedgerCorrupt):
        Ledger(other)


def test_schema_too_new(ledger_file: Path) -> None:
    _tamper(ledger_file, "UPDATE meta SET value = 99 WHERE key = 'schema_version'")
    with pytest.raises(SchemaTooNew) as info:
        Ledger(ledger_file)
    assert "99" in str(info.value)


def test_read_only(ledger_file: Path) -> None:
    with Ledger(ledger_file, read_only=True) as ledger:
        assert ledger.purpose(SHARE).version == 1
        with pytest.raises(LedgerReadOnly) as info:
            ledger.withdraw("s1", SHARE)
        assert isinstance(info.value, OSError) and isinstance(info.value, StorageError)


def test_storage_full(tmp_path: Path) -> None:
    with Ledger(tmp_path / "small.db", max_pages=40) as ledger:
        register_all(ledger)
        with pytest.raises(StorageFull):
            for i in range(10_000):
                ledger.withdraw(f"student-{i:05d}", SHARE, evidence={"pad": "x" * 200})
        size = ledger.head().size
        assert ledger.verify().ok and ledger.verify().size == size
    with pytest.raises(TypeError):
        Ledger(tmp_path / "x.db", max_pages="40")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        Ledger(tmp_path / "x.db", max_pages=0)


def test_unopenable_paths_are_os_errors(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        Ledger(tmp_path / "no-such-dir" / "l.db")
    assert isinstance(info.value, OSError)
    with pytest.raises(StorageError):
        Ledger(tmp_path)  # a directory


def test_busy_writer_and_gil_release(ledger_file: Path) -> None:
    """A second handle waits for the first one's write lock with the GIL released, so
    this thread can commit the first batch meanwhile; with a short timeout it gives up."""
    holder = Ledger(ledger_file)
    impatient = Ledger(ledger_file, busy_timeout=0.05)
    patient = Ledger(ledger_file, busy_timeout=20)
    try:
        with holder.batch():
            holder.withdraw("s1", SHARE)
            with pytest.raises(LedgerBusy) as info:
                impatient.withdraw("s2", SHARE)
            assert info.value.code == 16 and isinstance(info.value, OSError)

            done: list[object] = []
            worker = threading.Thread(target=lambda: done.append(patient.withdraw("s3", SHARE)))
            worker.start()
            time.sleep(0.3)  # the worker is now blocked in SQLite's busy wait
            assert not done
        # Committing the batch needed the GIL while the worker waited for the lock.
        worker.join(timeout=20)
        assert done and patient.head().size == holder.head().size
    finally:
        for handle in (holder, impatient, patient):
            handle.close()


def test_error_codes_and_hierarchy() -> None:
    expected = {
        "InvalidArgument": (2, ValueError), "InvalidTime": (3, ValueError),
        "UnknownPurpose": (4, LookupError), "UnknownNotice": (5, LookupError),
        "UnknownRecipient": (6, ValueError), "InvalidConsent": (7, ValueError),
        "NotFound": (10, LookupError), "LedgerCorrupt": (11, ConsentError),
        "StorageFull": (15, OSError), "LedgerBusy": (16, OSError), "BatchError": (18, RuntimeError),
    }
    for name, (_, base) in expected.items():
        cls = getattr(consent_ledger, name)
        assert issubclass(cls, ConsentError) and issubclass(cls, base), name
        assert cls.__module__ == "consent_ledger"
    for name in ("SqliteTooOld", "SchemaTooNew", "Conflict", "SubjectErased", "LedgerClosed", "ProofRejected"):
        assert issubclass(getattr(consent_ledger, name), ConsentError)
    with Ledger.in_memory() as ledger:
        with pytest.raises(InvalidArgument) as info:
            ledger.history("")
        assert info.value.code == 2
