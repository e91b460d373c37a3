"""Many threads through one Ledger, two Ledgers on one ledger (two connections) written
by threads at once, batches owned by their thread, and two processes writing one
ledger: a file, or a PostgreSQL schema (support.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from support import NOTICE, TEST_KEY, is_postgres, ledger_location, open_ledger

from consent_ledger import BatchError, EventKind, Ledger, LedgerBusy, State

SHARE = "wellbeing.share-external"


def _threads_append(handles: list[Ledger], threads: int, per_thread: int) -> None:
    """`threads` threads, thread n on handles[n % len(handles)], each giving and
    sometimes withdrawing its own subjects' consent at once; afterwards every handle
    sees all of it, each event at its own seq, and the log verifies."""
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    size = handles[0].head().size

    def work(n: int) -> None:
        ledger = handles[n % len(handles)]
        try:
            start.wait()
            for i in range(per_thread):
                subject = f"t{n}-s{i}"
                ledger.give(subject, SHARE, notice=NOTICE, method="feed", recorded_by=f"system:t{n}")
                if i % 5 == 0:
                    ledger.withdraw(subject, SHARE)
                assert ledger.status(subject, SHARE, "NHS").state in (State.GIVEN, State.WITHDRAWN)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    withdrawals = threads * ((per_thread + 4) // 5)
    for ledger in handles:
        assert ledger.head().size == size + threads * per_thread + withdrawals
        events = ledger.changes_since(size, limit=10_000)
        assert [e.seq for e in events] == list(range(size, size + len(events)))
        assert len({e.id for e in events}) == len(events)
        assert len(ledger.consenting(SHARE, "NHS")) == threads * per_thread - withdrawals
        assert ledger.verify(raise_on_failure=True).ok
        assert ledger.head() == handles[0].head()


def test_eight_threads_share_one_ledger(ledger_at: str) -> None:
    with open_ledger(ledger_at) as ledger:
        _threads_append([ledger], threads=8, per_thread=25)


def test_two_ledgers_on_one_ledger_append_at_once(ledger_at: str) -> None:
    """Two Ledger objects on the same ledger hold two connections (to one file, or to
    one PostgreSQL schema); four threads on each append at once, and nothing is lost."""
    with open_ledger(ledger_at) as first, open_ledger(ledger_at) as second:
        _threads_append([first, second], threads=8, per_thread=15)


def test_a_batch_belongs_to_its_thread(ledger_at: str) -> None:
    """Thread A opens a batch and appends; thread B's withdrawal on the same Ledger
    waits for the batch instead of joining it, so A's rollback cannot undo it."""
    with open_ledger(ledger_at) as ledger:
        ledger.give("s1", SHARE, notice=NOTICE, method="portal")
        size = ledger.head().size
        appended = threading.Event()
        roll_back = threading.Event()
        withdrawn: list[object] = []
        errors: list[BaseException] = []

        def thread_a() -> None:
            try:
                batch = ledger.batch()
                batch.give("s2", SHARE, notice=NOTICE, method="feed")
                # The owner cannot call the ledger directly while its batch is open.
                with pytest.raises(BatchError):
                    ledger.append("withdrawn", "s3", SHARE)
                appended.set()
                roll_back.wait(timeout=20)
                batch.rollback()
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)
                appended.set()

        def thread_b() -> None:
            try:
                appended.wait(timeout=20)
                withdrawn.append(ledger.withdraw("s1", SHARE, method="email"))
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        a = threading.Thread(target=thread_a)
        b = threading.Thread(target=thread_b)
        a.start()
        b.start()
        assert appended.wait(timeout=20)
        time.sleep(0.3)  # B is now waiting for A's batch, with the GIL released
        assert not withdrawn and b.is_alive()
        roll_back.set()
        a.join(timeout=20)
        b.join(timeout=20)
        assert errors == []
        assert len(withdrawn) == 1
        # A's append is gone; B's withdrawal stands.
        assert ledger.history("s2") == []
        assert [e.kind for e in ledger.history("s1")] == [EventKind.GIVEN, EventKind.WITHDRAWN]
        assert ledger.status("s1", SHARE, "NHS").state is State.WITHDRAWN
        assert ledger.head().size == size + 1
        assert ledger.verify(raise_on_failure=True).ok


def test_another_threads_batch_open_too_long_is_busy(tmp_path: Path) -> None:
    with open_ledger(ledger_location(tmp_path, "busy.db"), busy_timeout=0.2) as ledger:
        ledger.register_purpose("p", "P", "LJMU")
        with ledger.batch() as batch:
            batch.withdraw("s1", "p")
            outcome: list[BaseException] = []

            def impatient() -> None:
                try:
                    ledger.withdraw("s2", "p")
                except BaseException as e:
                    outcome.append(e)

            worker = threading.Thread(target=impatient)
            worker.start()
            worker.join(timeout=20)
            assert len(outcome) == 1 and isinstance(outcome[0], LedgerBusy)
        assert [e.subject for e in ledger.changes_since(2)] == ["s1"]


def test_a_batch_may_be_ended_by_another_thread(ledger: Ledger) -> None:
    size = ledger.head().size
    batch = ledger.batch()
    batch.withdraw("s1", SHARE)
    committer = threading.Thread(target=batch.commit)
    committer.start()
    committer.join(timeout=20)
    assert batch.ended and ledger.head().size == size + 1


WRITER = textwrap.dedent(
    """
    import sys
    from consent_ledger import Ledger

    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    key = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else None
    with Ledger(path, key=key) as ledger:
        for i in range(count):
            ledger.give(f"{name}-{i}", "wellbeing.share-external", notice=("ljmu.wellbeing", "2024-09"),
                        method="feed", recorded_by=f"system:{name}", source_id=f"{name}-{i}")
    """
)


def test_two_processes_write_one_ledger(ledger_at: str, tmp_path: Path) -> None:
    count = 60
    with open_ledger(ledger_at) as ledger:
        size = ledger.head().size
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    key = [TEST_KEY.hex()] if is_postgres(ledger_at) else []
    procs = [
        subprocess.Popen([sys.executable, "-W", "error", str(script), ledger_at, name, str(count), *key])
        for name in ("sis", "portal")
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    with open_ledger(ledger_at) as ledger:
        assert ledger.head().size == size + 2 * count
        events = ledger.changes_since(size, limit=10_000)
        for name in ("sis", "portal"):
            mine = [e for e in events if e.source_id is not None and e.source_id.startswith(name + "-")]
            assert sorted(e.source_id or "" for e in mine) == sorted(f"{name}-{i}" for i in range(count))
        assert len(ledger.consenting(SHARE, "landlord")) == 2 * count
        assert ledger.verify(raise_on_failure=True).ok
