"""Two SQLite libraries in one process: a process that holds a Ledger and also opens the
ledger file with Python's `sqlite3` module (as a checker script does) while two other
processes append. SQLite's POSIX record locks are per process and are dropped when *any*
descriptor of the file closes, so the `sqlite3` connection's close takes away the
bundled SQLite's locks. No event the library acknowledged may be lost (FORMAT.md §10.3).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from support import NOTICE

from consent_ledger import Ledger

SHARE = "wellbeing.share-external"
ROUNDS = 300
ROUND_SECONDS = 15.0  # the main loop stops after this long even if ROUNDS are not done

CHILD = textwrap.dedent(
    """
    import os, sys, time
    from consent_ledger import Ledger

    path, name, acks, stop = sys.argv[1:5]
    deadline = time.monotonic() + 60  # a lost parent must not leave a writer behind
    with Ledger(path) as ledger, open(acks, "w", encoding="utf-8") as out:
        i = 0
        while not os.path.exists(stop) and i < 5000 and time.monotonic() < deadline:
            subject = f"{name}-{i}"
            event = ledger.give(subject, "wellbeing.share-external", notice=("ljmu.wellbeing", "2024-09"),
                                method="feed", recorded_by=f"system:{name}")
            # Only after the append returned: the event is acknowledged.
            out.write(f"{event.id} {subject}\\n")
            out.flush()
            i += 1
    """
)

# What another process sees: every event of the file, and verify. Run while the
# test's own Ledger is still open, so an event that only that Ledger can see counts
# as lost.
READER = textwrap.dedent(
    """
    import json, sys
    from consent_ledger import Ledger

    with Ledger(sys.argv[1], create=False) as ledger:
        events = [(str(e.id), e.subject) for e in ledger.iter_changes(0)]
        report = ledger.verify()
        print(json.dumps({"size": ledger.head().size, "events": events, "ok": report.ok,
                          "problem": report.problem}))
    """
)


def _check_with_sqlite3(path: Path, read_only: bool) -> int:
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


def test_a_sqlite3_checker_in_a_writing_process_loses_no_event(ledger_file: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    stop = tmp_path / "stop"
    child_script = tmp_path / "child.py"
    child_script.write_text(CHILD)
    reader_script = tmp_path / "reader.py"
    reader_script.write_text(READER)
    names = ("sis", "portal")
    ack_files = {name: tmp_path / f"{name}.acks" for name in names}

    acked: dict[str, str] = {}  # event id -> subject, every acknowledged append
    checker_counts: list[tuple[int, int]] = []  # (events P had acknowledged before, count seen)
    with Ledger(ledger_file) as ledger:
        registry = ledger.head().size
        children = [
            subprocess.Popen([sys.executable, "-W", "error", str(child_script), str(ledger_file), name,
                              str(ack_files[name]), str(stop)])
            for name in names
        ]
        try:
            rounds = 0
            while rounds < ROUNDS and time.monotonic() - started < ROUND_SECONDS:
                subject = f"p-{rounds}"
                event = ledger.give(subject, SHARE, notice=NOTICE, method="portal", recorded_by="system:p")
                acked[str(event.id)] = subject
                count = _check_with_sqlite3(ledger_file, read_only=rounds % 3 == 2)
                checker_counts.append((registry + rounds + 1, count))
                rounds += 1
        finally:
            stop.touch()
            for child in children:
                try:
                    child.wait(timeout=90)
                except subprocess.TimeoutExpired:  # pragma: no cover - reported below
                    child.kill()
                    child.wait()
        assert [child.returncode for child in children] == [0, 0]
        per_child = {}
        for name in names:
            lines = ack_files[name].read_text(encoding="utf-8").splitlines()
            per_child[name] = len(lines)
            for line in lines:
                event_id, subject = line.split(" ")
                assert event_id not in acked
                acked[event_id] = subject
        assert rounds >= 50, f"only {rounds} rounds in {ROUND_SECONDS}s"
        assert all(n > 0 for n in per_child.values()), per_child

        # Another process, while this Ledger is still open, must see every acknowledged
        # event exactly once and nothing else.
        seen = subprocess.run(
            [sys.executable, "-W", "error", str(reader_script), str(ledger_file)],
            capture_output=True, text=True, timeout=120,
        )
        assert seen.returncode == 0, seen.stderr
        other = json.loads(seen.stdout)
        other_events = {event_id: subject for event_id, subject in other["events"][registry:]}
        missing = sorted(set(acked) - set(other_events), key=lambda i: acked[i])
        assert missing == [], (
            f"{len(missing)} of {len(acked)} acknowledged events are not in the ledger another process "
            f"reads (P: {rounds}, children: {per_child}), e.g. {[acked[i] for i in missing[:10]]}"
        )
        assert len(other["events"]) == other["size"] == registry + len(acked)
        assert other_events == acked
        assert other["ok"], other["problem"]

        # A checker opened after P's append returned sees P's event.
        assert [(before, count) for before, count in checker_counts if count < before] == []

    # And the file itself, reopened once every writer is gone.
    with Ledger(ledger_file, create=False) as ledger:
        assert ledger.head().size == registry + len(acked)
        events = ledger.changes_since(registry, limit=len(acked) + 10)
        assert len(events) == len(acked)
        assert {str(e.id): e.subject for e in events} == acked
        for event_id, subject in list(acked.items())[:: max(1, len(acked) // 200)]:
            assert [str(e.id) for e in ledger.history(subject)] == [event_id]
        assert ledger.verify(raise_on_failure=True).ok

    lock = Path(f"{ledger_file}-lock")
    assert lock.is_file()
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600
    print(f"{rounds} rounds, children {per_child}, {len(acked)} events, {time.monotonic() - started:.1f}s")
