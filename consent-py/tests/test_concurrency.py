"""Many threads through one Ledger, and two processes writing one file."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from support import NOTICE

from consent_ledger import Ledger, State

SHARE = "wellbeing.share-external"


def test_eight_threads_share_one_ledger(ledger_file: Path) -> None:
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    with Ledger(ledger_file) as ledger:
        size = ledger.head().size

        def work(n: int) -> None:
            try:
                start.wait()
                for i in range(per_thread):
                    subject = f"t{n}-s{i}"
                    ledger.give(subject, SHARE, notice=NOTICE, method="feed", recorded_by=f"system:t{n}")
                    if i % 5 == 0:
                        ledger.withdraw(subject, SHARE)
                    assert ledger.status(subject, SHARE).state in (State.GIVEN, State.WITHDRAWN)
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert errors == []
        withdrawals = threads * ((per_thread + 4) // 5)
        assert ledger.head().size == size + threads * per_thread + withdrawals
        events = ledger.changes_since(size, limit=10_000)
        assert [e.seq for e in events] == list(range(size, size + len(events)))
        assert len({e.id for e in events}) == len(events)
        assert len(ledger.consenting(SHARE)) == threads * per_thread - withdrawals
        assert ledger.verify(raise_on_failure=True).ok


WRITER = textwrap.dedent(
    """
    import sys
    from consent_ledger import Ledger

    path, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with Ledger(path) as ledger:
        for i in range(count):
            ledger.give(f"{name}-{i}", "wellbeing.share-external", notice=("ljmu.wellbeing", "2024-09"),
                        method="feed", recorded_by=f"system:{name}", source_id=f"{name}-{i}")
    """
)


def test_two_processes_write_one_file(ledger_file: Path, tmp_path: Path) -> None:
    count = 60
    with Ledger(ledger_file) as ledger:
        size = ledger.head().size
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [
        subprocess.Popen([sys.executable, "-W", "error", str(script), str(ledger_file), name, str(count)])
        for name in ("sis", "portal")
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    with Ledger(ledger_file) as ledger:
        assert ledger.head().size == size + 2 * count
        events = ledger.changes_since(size, limit=10_000)
        for name in ("sis", "portal"):
            mine = [e for e in events if e.source_id is not None and e.source_id.startswith(name + "-")]
            assert sorted(e.source_id or "" for e in mine) == sorted(f"{name}-{i}" for i in range(count))
        assert len(ledger.consenting(SHARE)) == 2 * count
        assert ledger.verify(raise_on_failure=True).ok
