"""Tamper evidence, proofs, erasure, and every storage error."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from support import NOTICE, ON_POSTGRES, at, ledger_location, open_ledger, register_all

import consent_ledger
from consent_ledger import _native
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
    NotALedger,
    NotFound,
    ProofRejected,
    PseudonymKeyError,
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
    assert report.simulated is False and not ledger.is_simulated
    head = ledger.head()
    # The ledger's first event, five purposes, two notices and the grant.
    assert report.head == head and report.size == head.size == 9
    assert len(head.root) == 64 and str(head) == f"9:{head.root}"
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
    event = ledger.canonical_event(e)
    assert isinstance(event, bytes) and event == ledger.canonical_event(e.id)
    proof.verify(event, head)
    proof.verify(bytearray(event), str(head))
    at_old = ledger.prove_inclusion(e.id, tree_size=old.size)
    at_old.verify(event, old)
    with pytest.raises(ProofRejected):
        proof.verify(event, Head(head.size, "00" * 32))
    with pytest.raises(InvalidArgument):
        proof.verify(event, old)  # another size
    with pytest.raises(InvalidArgument):
        proof.verify(b"not an event", head)
    with pytest.raises(TypeError):
        proof.verify(str(e.id), head)  # type: ignore[arg-type]
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


def test_an_inclusion_proof_is_bound_to_its_event(ledger: Ledger) -> None:
    a = ledger.give("s1", SHARE, notice=NOTICE, method="portal")
    b = ledger.give("s2", SHARE, notice=NOTICE, method="portal")
    head = ledger.head()
    proof_b = ledger.prove_inclusion(b)
    proof_b.verify(ledger.canonical_event(b), head)
    # B's proof is sound, but it is not a proof that A is in the log.
    with pytest.raises(ProofRejected) as info:
        proof_b.verify(ledger.canonical_event(a), head)
    assert info.value.code == 21
    ledger.prove_inclusion(a).verify(ledger.canonical_event(a), head)
    with pytest.raises(NotFound):
        ledger.canonical_event(__import__("uuid").uuid4())


def _tamper(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(sql)
    finally:
        conn.close()


@pytest.mark.file_only("tampers with the SQLite file (consent-core/tests/postgres.rs rewrites rows on PostgreSQL)")
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


@pytest.mark.file_only("deletes a row of the SQLite file")
def test_truncated_tail_is_detected(ledger_file: Path) -> None:
    with Ledger(ledger_file) as ledger:
        ledger.withdraw("s1", SHARE)
        head = ledger.head()
    _tamper(ledger_file, f"DELETE FROM events WHERE seq = {head.size - 1}")
    with Ledger(ledger_file) as ledger:
        with pytest.raises(TamperDetected):
            ledger.verify_against(head, raise_on_failure=True)


def test_erase_subject(ledger_at: str) -> None:
    with open_ledger(ledger_at) as ledger:
        ledger.give("s1", SHARE, notice=NOTICE, method="portal", source_id="f1", evidence={"name": "Ann"})
        ledger.withdraw("s1", SHARE)
        ledger.give("s2", SHARE, notice=NOTICE, method="portal")
        report = ledger.erase_subject("s1", "retention period ended", recorded_by=Actor.system("retention"))
        assert report.events_erased == 2 and report.wal_truncated and report.complete
        history = ledger.history("s1")
        assert [e.kind for e in history] == [EventKind.GIVEN, EventKind.WITHDRAWN, EventKind.SUBJECT_ERASED]
        assert all(e.subject is None and e.evidence is None and e.source_id is None for e in history)
        assert all(e.erased for e in history[:2])
        assert [e.kind for e in ledger.export_subject("s1").events] == [e.kind for e in history]
        marker = history[-1]
        assert marker.kind is EventKind.SUBJECT_ERASED and marker.subject is None
        assert marker.details is not None and marker.details["reason"] == "retention period ended"
        assert ledger.status("s1", SHARE, "NHS").state is State.ERASED
        assert ledger.status("s1", SHARE, "NHS", at=at("2024-01-01T00:00")).state is State.ERASED
        with pytest.raises(SubjectErased):
            ledger.give("s1", SHARE, notice=NOTICE, method="portal")
        with pytest.raises(SubjectErased):
            ledger.erase_subject("s1", "again", recorded_by="staff:dpo")
        # A withdrawal is still recordable, and everything still verifies.
        assert ledger.withdraw("s1", SHARE).subject is None
        assert ledger.verify(raise_on_failure=True).ok
        assert ledger.status("s2", SHARE, "NHS").permits
        with pytest.raises(InvalidArgument):
            ledger.erase_subject("s2", " ", recorded_by="staff:dpo")
        with pytest.raises(TypeError):
            ledger.erase_subject("s2", "done", recorded_by=None)  # type: ignore[arg-type]
        assert ledger.checkpoint() is True
        assert ledger.complete_erasures() is True
    if ON_POSTGRES:
        return  # what the server's files hold: consent-core/tests/postgres.rs
    with sqlite3.connect(ledger_at) as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE subject = 's1'").fetchone() == (0,)
    conn.close()


@pytest.mark.file_only("a reader's snapshot pins SQLite's write-ahead log")
def test_an_erasure_left_pending_by_a_reader_is_completed_later(ledger_file: Path) -> None:
    """Another process's open snapshot pins the erased values in the write-ahead log:
    the report says the erasure is not complete, and complete_erasures finishes it once
    the reader is gone. (The reader is another process: SQLite's locks are per process.)"""
    reader_script = (
        "import sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('BEGIN')\n"
        "conn.execute('SELECT count(*) FROM events').fetchone()\n"
        "print('reading', flush=True)\n"
        "sys.stdin.readline()\n"
        "conn.execute('COMMIT')\n"
        "conn.close()\n"
    )
    with Ledger(ledger_file, erasure_wait=0.1) as ledger:
        ledger.give("s1", SHARE, notice=NOTICE, method="portal", evidence={"name": "Ann"})
        reader = subprocess.Popen(
            [sys.executable, "-c", reader_script, str(ledger_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        try:
            assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
            report = ledger.erase_subject("s1", "retention period ended", recorded_by="system:retention")
            assert report.events_erased == 1
            assert not report.complete and not report.wal_truncated
            assert ledger.complete_erasures(timedelta(milliseconds=50)) is False
        finally:
            reader.communicate("done\n", timeout=30)
        assert reader.returncode == 0
        assert ledger.complete_erasures(5) is True
        with pytest.raises(TypeError):
            ledger.complete_erasures("soon")  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            ledger.complete_erasures(-1)


# ---- storage errors ----------------------------------------------------------------------


@pytest.mark.file_only("files that are not ledgers")
def test_not_a_ledger(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(NotALedger) as info:
        Ledger(garbage)
    assert info.value.code == 22 and not isinstance(info.value, LedgerCorrupt)
    assert garbage.read_bytes() == b"this is not a database" * 100
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t(x)")
    conn.close()
    before = other.read_bytes()
    with pytest.raises(NotALedger):
        Ledger(other)
    assert other.read_bytes() == before
    # An empty file is a new ledger only when creating.
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(NotALedger):
        Ledger(empty, create=False)
    with pytest.raises(NotALedger):
        Ledger(empty, read_only=True)
    assert empty.read_bytes() == b""
    with Ledger(empty) as created:
        assert created.head().size == 1
    with Ledger(empty, create=False) as reopened:
        assert reopened.head().size == 1


@pytest.mark.file_only("plants a trigger in the SQLite file (consent-core/tests/postgres.rs plants one in a schema)")
def test_an_extra_trigger_is_refused(ledger_file: Path) -> None:
    _tamper(ledger_file, "CREATE TRIGGER sneaky AFTER INSERT ON events BEGIN SELECT 1; END")
    with pytest.raises(LedgerCorrupt) as info:
        Ledger(ledger_file)
    assert info.value.code == 11


# ---- the pseudonym key -------------------------------------------------------------------


@pytest.mark.file_only("the key file beside the ledger file: a schema has no beside")
def test_the_key_lives_beside_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    with Ledger(path) as ledger:
        register_all(ledger)
        ledger.give("s1", SHARE, notice=NOTICE, method="portal")
    key_file = tmp_path / "k.db.key"
    text = key_file.read_text()
    assert len(text) == 65 and text.endswith("\n") and bytes.fromhex(text.strip())
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert bytes.fromhex(text.strip()) not in path.read_bytes()
    # Elsewhere, named by key_file, or handed over as bytes.
    moved = tmp_path / "elsewhere.key"
    key_file.rename(moved)
    with pytest.raises(PseudonymKeyError) as info:
        Ledger(path)
    assert info.value.code == 23
    with Ledger(path, key_file=moved) as ledger:
        assert ledger.status("s1", SHARE, "NHS").permits
    with Ledger(path, key=bytes.fromhex(moved.read_text())) as ledger:
        assert ledger.status("s1", SHARE, "NHS").permits
    # Another key is refused.
    with pytest.raises(PseudonymKeyError):
        Ledger(path, key=bytes(32))
    # Read-only without the key: it verifies and proves, but cannot tell whether a
    # subject was erased, so the questions that need to know raise.
    with Ledger(path, read_only=True) as ledger:
        assert ledger.verify(raise_on_failure=True).ok
        grant = ledger.changes_since(ledger.head().size - 1)[0]
        ledger.prove_inclusion(grant).verify(ledger.canonical_event(grant), ledger.head())
        with pytest.raises(PseudonymKeyError):
            ledger.history("s1")
        with pytest.raises(PseudonymKeyError):
            ledger.status("s2", SHARE, "NHS")
        with pytest.raises(PseudonymKeyError):
            ledger.status("s1", SHARE, "NHS", at=at("2024-10-01T00:00"))


def test_a_key_given_as_bytes_creates_no_key_file(tmp_path: Path) -> None:
    key = bytes(range(32))
    location = ledger_location(tmp_path, "b.db")
    with Ledger(location, key=key) as ledger:
        ledger.register_purpose("p", "P", "LJMU")
        ledger.withdraw("s1", "p")
    assert not (tmp_path / "b.db.key").exists()
    with Ledger(location, key=key, create=False) as ledger:
        assert ledger.status("s1", "p").state is State.WITHDRAWN
    with pytest.raises(PseudonymKeyError):
        Ledger(location)  # the key file beside: none (and a schema has no beside)
    with pytest.raises(PseudonymKeyError):
        Ledger(location, key=bytes(32))  # another key
    with Ledger.in_memory(key=key) as memory:
        assert memory.head().size == 1


@pytest.mark.file_only("rewrites the SQLite file's schema version")
def test_schema_too_new(ledger_file: Path) -> None:
    _tamper(ledger_file, "UPDATE meta SET value = 99 WHERE key = 'schema_version'")
    with pytest.raises(SchemaTooNew) as info:
        Ledger(ledger_file)
    assert "99" in str(info.value)


def test_read_only(ledger_at: str) -> None:
    with open_ledger(ledger_at, read_only=True) as ledger:
        assert ledger.purpose(SHARE).version == 1
        with pytest.raises(LedgerReadOnly) as info:
            ledger.withdraw("s1", SHARE)
        assert isinstance(info.value, OSError) and isinstance(info.value, StorageError)


@pytest.mark.file_only("max_pages caps a SQLite file (test_backends.py: refused for PostgreSQL)")
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


@pytest.mark.file_only("paths that are no ledger file (test_backends.py: URLs that open nothing)")
def test_unopenable_paths(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as info:
        Ledger(tmp_path / "no-such-dir" / "l.db")
    assert isinstance(info.value, OSError)
    with pytest.raises(NotALedger):
        Ledger(tmp_path)  # a directory


def test_busy_writer_and_gil_release(ledger_at: str) -> None:
    """A second handle waits for the first one's write lock (SQLite's, or the
    PostgreSQL server's) with the GIL released, so this thread can commit the first
    batch meanwhile; with a short timeout it gives up."""
    holder = open_ledger(ledger_at)
    impatient = open_ledger(ledger_at, busy_timeout=0.05)
    patient = open_ledger(ledger_at, busy_timeout=20)
    try:
        with holder.batch() as batch:
            batch.withdraw("s1", SHARE)
            with pytest.raises(LedgerBusy) as info:
                impatient.withdraw("s2", SHARE)
            assert info.value.code == 16 and isinstance(info.value, OSError)

            done: list[object] = []
            worker = threading.Thread(target=lambda: done.append(patient.withdraw("s3", SHARE)))
            worker.start()
            time.sleep(0.3)  # the worker is now blocked waiting for the lock
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
        "NotALedger": (22, ConsentError), "PseudonymKeyError": (23, ConsentError),
    }
    for name, (code, base) in expected.items():
        cls = getattr(consent_ledger, name)
        assert issubclass(cls, ConsentError) and issubclass(cls, base), name
        assert cls.__module__ == "consent_ledger"
        assert _native.ERROR_CLASSES[code] == name
    for name in ("SqliteTooOld", "SchemaTooNew", "Conflict", "SubjectErased", "LedgerClosed", "ProofRejected"):
        assert issubclass(getattr(consent_ledger, name), ConsentError)
    with Ledger.in_memory() as ledger:
        with pytest.raises(InvalidArgument) as info:
            ledger.history("")
        assert info.value.code == 2


def test_every_error_kind_maps_to_a_class_of_its_own() -> None:
    """The native layer's one mapping table covers every kind of the core's table
    (``ERROR_KINDS``: the numbers of the C ABI and the kinds' names), each to a distinct
    ConsentError subclass — never the bare base class, nor the RuntimeError the native
    layer raises if a class is missing."""
    classes = _native.ERROR_CLASSES
    kinds = _native.ERROR_KINDS
    assert set(classes) == set(kinds) and set(kinds) >= set(range(2, 28))
    assert kinds[2] == "invalid_argument" and kinds[22] == "not_a_ledger"
    storage = {19, 20}  # an I/O error and any other SQLite error are both StorageError
    for code, name in classes.items():
        cls = getattr(consent_ledger.errors, name, None)
        assert isinstance(cls, type) and issubclass(cls, ConsentError), (code, name)
        assert cls is not ConsentError and cls is not RuntimeError, (code, name)
        assert name in consent_ledger.__all__, name
        assert code in storage or list(classes.values()).count(name) == 1, (code, name)
