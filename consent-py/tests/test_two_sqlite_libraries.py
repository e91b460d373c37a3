"""Two SQLite libraries in one process: a process that holds a Ledger and also opens the
ledger file with Python's `sqlite3` module (as a checker script does) while two other
processes append. SQLite's POSIX record locks are per process and are all dropped when
*any* descriptor of the file closes, so each close of a `sqlite3` connection takes the
bundled SQLite's locks away; the writer lock file (`<ledger>-lock`, an `flock`) is what
keeps writers apart then (FORMAT.md §10.3). No acknowledged event may be lost.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from support import NOTICE

from consent_ledger import Ledger, StorageError

pytestmark = pytest.mark.file_only("two SQLite libraries in one process share one file's locks")

SHARE = "wellbeing.share-external"
ROUNDS = 300
ROUND_SECONDS = 12.0  # the main loop also stops after this long

# A writer process: appends until told to stop, and writes each event's id to its file
# only after the append returned (an acknowledged event).
CHILD = textwrap.dedent(
    """
    import os, sys, time
    from consent_ledger import Ledger

    path, name, acks, stop = sys.argv[1:5]
    deadline = time.monotonic() + 180  # never outlive a lost parent for long
    with Ledger(path) as ledger, open(acks, "w", encoding="utf-8") as out:
        i = 0
        while not os.path.exists(stop) and time.monotonic() < deadline:
            subject = f"{name}-{i}"
            event = ledger.give(subject, "wellbeing.share-external", notice=("ljmu.wellbeing", "2024-09"),
                                method="feed", recorded_by=f"system:{name}")
            out.write(f"{event.id} {subject}\\n")
            out.flush()
            i += 1
    """
)

# What another process sees of the file: every event and the verify result.
READER = textwrap.dedent(
    """
    import json, sys
    from consent_ledger import Ledger

    with Ledger(sys.argv[1], create=False) as ledger:
        report = ledger.verify()
        print(json.dumps({"size": ledger.head().size, "ok": report.ok, "problem": report.problem,
                          "events": [[str(e.id), e.subject] for e in ledger.iter_changes(0)]}))
    """
)


def check_with_sqlite3(path: Path, read_only: bool) -> int:
    """What a careless checker does: open the ledger with the standard library, count,
    close (the close is what drops the bundled SQLite's POSIX locks)."""
    if read_only:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    else:
        conn = sqlite3.connect(path)
    try:
        (count,) = conn.execute("SELECT count(*) FROM events").fetchone()
    finally:
        conn.close()
    return int(count)


def read_from_another_process(path: Path, script: Path) -> dict[str, object]:
    seen = subprocess.run(
        [sys.executable, "-W", "error", str(script), str(path)], capture_output=True, text=True, timeout=120
    )
    assert seen.returncode == 0, seen.stderr
    result: dict[str, object] = json.loads(seen.stdout)
    return result


def test_a_sqlite3_checker_in_a_writing_process_loses_no_event(ledger_file: Path, tmp_path: Path) -> None:
    """The test process appends and runs a `sqlite3` check after every append, and a
    thread of it runs checks all the time (so connections close in the middle of its
    appends too), while two other processes append. Every acknowledged event must be
    in the file exactly once, and the file must verify."""
    started = time.monotonic()
    stop = tmp_path / "stop"
    child_script = tmp_path / "child.py"
    child_script.write_text(CHILD)
    reader_script = tmp_path / "reader.py"
    reader_script.write_text(READER)
    names = ("sis", "portal")
    ack_files = {name: tmp_path / f"{name}.acks" for name in names}

    acked: dict[str, str] = {}  # event id -> subject, every acknowledged append
    low_counts: list[tuple[int, int]] = []  # (events known acknowledged, count a checker saw)
    background: list[int] = []
    errors: list[BaseException] = []
    with Ledger(ledger_file) as ledger:
        registry = ledger.head().size
        children = [
            subprocess.Popen([sys.executable, "-W", "error", str(child_script), str(ledger_file), name,
                              str(ack_files[name]), str(stop)])
            for name in names
        ]
        main_done = threading.Event()

        def checker() -> None:
            try:
                while not main_done.is_set():
                    background.append(check_with_sqlite3(ledger_file, read_only=len(background) % 2 == 1))
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        rounds = 0
        try:
            # The checks start once both writers have the file open and have appended.
            # (While this process is the file's only user, a `sqlite3` close also
            # checkpoints and deletes the WAL under the open Ledger: see the test below.)
            while not all(f.exists() and f.stat().st_size > 0 for f in ack_files.values()):
                assert all(child.poll() is None for child in children), "a writer exited early"
                assert time.monotonic() - started < 60, "the writers did not start"
                time.sleep(0.01)
            thread = threading.Thread(target=checker)
            thread.start()
            try:
                loop_start = time.monotonic()
                while rounds < ROUNDS and time.monotonic() - loop_start < ROUND_SECONDS:
                    subject = f"p-{rounds}"
                    event = ledger.give(subject, SHARE, notice=NOTICE, method="portal", recorded_by="system:p")
                    acked[str(event.id)] = subject
                    rounds += 1
                    count = check_with_sqlite3(ledger_file, read_only=rounds % 3 == 0)
                    if count < registry + rounds:
                        low_counts.append((registry + rounds, count))
                # The writers had the file open all along.
                assert [child.poll() for child in children] == [None, None]
            finally:
                main_done.set()
                thread.join(timeout=60)
        finally:
            stop.touch()
            for child in children:
                try:
                    child.wait(timeout=90)
                except subprocess.TimeoutExpired:  # pragma: no cover - reported below
                    child.kill()
                    child.wait()
        assert errors == []
        assert [child.returncode for child in children] == [0, 0]
        per_child: dict[str, int] = {}
        for name in names:
            lines = ack_files[name].read_text(encoding="utf-8").splitlines()
            per_child[name] = len(lines)
            for line in lines:
                event_id, subject = line.split(" ")
                assert event_id not in acked
                acked[event_id] = subject
        assert rounds >= 50 and len(background) >= 50, (rounds, len(background))
        # A check opened after this process's append returned saw that event.
        assert low_counts == []

        # Another process, while this Ledger is still open, sees every acknowledged
        # event exactly once and nothing else.
        other = read_from_another_process(ledger_file, reader_script)
        events = other["events"]
        assert isinstance(events, list)
        appended = {event_id: subject for event_id, subject in events[registry:]}
        missing = [subject for event_id, subject in acked.items() if event_id not in appended]
        assert missing == [], (
            f"{len(missing)} of {len(acked)} acknowledged events are missing "
            f"(this process: {rounds}, writers: {per_child}), e.g. {missing[:10]}"
        )
        assert other["ok"], other["problem"]
        assert len(events) == other["size"] == registry + len(acked)
        assert appended == acked

    # And the file reopened here once every writer is gone.
    with Ledger(ledger_file, create=False) as ledger:
        assert ledger.head().size == registry + len(acked)
        stored = ledger.changes_since(registry, limit=len(acked) + 10)
        assert {str(e.id): e.subject for e in stored} == acked and len(stored) == len(acked)
        for event_id, subject in list(acked.items())[:: max(1, len(acked) // 200)]:
            assert [str(e.id) for e in ledger.history(subject)] == [event_id]
        assert ledger.verify(raise_on_failure=True).ok

    lock = Path(f"{ledger_file}-lock")
    assert lock.is_file()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600
    print(f"{rounds} rounds, {len(background)} background checks, writers {per_child}, "
          f"{len(acked)} events in {time.monotonic() - started:.1f}s")


OTHER_WRITER = textwrap.dedent(
    """
    import sys
    from consent_ledger import Ledger

    with Ledger(sys.argv[1]) as ledger:
        event = ledger.give(sys.argv[2], "wellbeing.share-external", notice=("ljmu.wellbeing", "2024-09"),
                            method="feed", recorded_by="system:other")
        print(event.id)
    """
)


def test_a_sqlite3_checker_that_deletes_the_wal_under_the_ledger_is_noticed(
    ledger_file: Path, tmp_path: Path
) -> None:
    """When the Ledger's process is the file's only user, closing a sqlite3 connection
    checkpoints and deletes the WAL and -shm under the open Ledger (SQLite's "last
    connection" test cannot see locks of its own process). Writes would then go to a
    deleted file and be lost: the ledger notices, fails every call until it is reopened,
    and loses no acknowledged event."""
    script = tmp_path / "other.py"
    script.write_text(OTHER_WRITER)
    acked: dict[str, str] = {}
    ledger = Ledger(ledger_file)
    registry = ledger.head().size
    acked[str(ledger.give("p-1", SHARE, notice=NOTICE, method="portal").id)] = "p-1"
    check_with_sqlite3(ledger_file, read_only=False)
    assert not Path(f"{ledger_file}-wal").exists(), "the standard library deleted the WAL"
    with pytest.raises(StorageError, match="WAL was deleted"):
        ledger.give("p-2", SHARE, notice=NOTICE, method="portal")
    with pytest.raises(StorageError, match="WAL was deleted"):
        ledger.status("p-1", SHARE)
    ledger.close()
    other = subprocess.run(
        [sys.executable, "-W", "error", str(script), str(ledger_file), "other-1"],
        capture_output=True, text=True, timeout=120,
    )
    assert other.returncode == 0, other.stderr
    acked[other.stdout.strip()] = "other-1"
    with Ledger(ledger_file, create=False) as ledger:
        acked[str(ledger.give("p-3", SHARE, notice=NOTICE, method="portal").id)] = "p-3"
    with Ledger(ledger_file, create=False) as ledger:
        assert ledger.verify(raise_on_failure=True).ok
        stored = {str(e.id): e.subject for e in ledger.changes_since(registry)}
        assert stored == acked
