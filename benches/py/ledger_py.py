"""consent-ledger from Python (the consent_ledger package), the same questions as the
Rust harness asks.

    python ledger_py.py N FIXTURE_DIR LEDGER_COPY

LEDGER_COPY is a copy of the ledger fixture of N events (the harness makes it and
removes it). Prints one JSON object, or {"available": false, ...} when the package
cannot be imported.
"""

import json
import statistics
import sys
import time
from datetime import datetime, timezone

try:
    import consent_ledger
except Exception as e:  # noqa: BLE001 - any import failure means "not available"
    print(json.dumps({"impl": "python", "available": False, "why": f"import consent_ledger: {e}"}))
    sys.exit(0)

EXPLICIT = ("mobility.", "wellbeing.special-category")


def append_args(line):
    subject, purpose, recipient, kind, _eff, _exp, notice, method, by = line.rstrip("\n").split("\t")
    kw = {"recipient": recipient or None, "recorded_by": by}
    if kind != "withdrawn":
        kw["method"] = method
    if kind == "given":
        kw["notice"] = (notice, "2024-09")
        kw["explicit"] = purpose.startswith(EXPLICIT)
    return kind, subject, purpose, kw


def main():
    n = int(sys.argv[1])
    fixtures = sys.argv[2]
    path = sys.argv[3]
    with open(f"{fixtures}/queries-{n}-10000.v1.tsv") as f:
        queries = [tuple(line.rstrip("\n").split("\t")) for line in f]

    opens = []
    for _ in range(20):
        t = time.perf_counter_ns()
        consent_ledger.Ledger(path, create=False).close()
        opens.append((time.perf_counter_ns() - t) / 1e3)

    ledger = consent_ledger.Ledger(path, create=False)
    st = []
    for s, p, r in queries:
        t = time.perf_counter_ns()
        ledger.status(s, p, r or None)
        st.append((time.perf_counter_ns() - t) / 1e3)
    at = datetime(2023, 1, 1, tzinfo=timezone.utc)
    st_at = []
    for s, p, r in queries:
        t = time.perf_counter_ns()
        ledger.status(s, p, r or None, at=at)
        st_at.append((time.perf_counter_ns() - t) / 1e3)
    cons = []
    population = 0
    for _ in range(5):
        t = time.perf_counter_ns()
        c = ledger.consenting("jmsu.data-sharing")
        cons.append((time.perf_counter_ns() - t) / 1e6)
        population = len(c.subjects)

    with open(f"{fixtures}/stream-{n}.v1.tsv") as f:
        lines = [line for _, line in zip(range(6_000), f)]
    durable = []
    started = time.perf_counter()
    for line in lines[:200]:
        kind, subject, purpose, kw = append_args(line)
        t = time.perf_counter_ns()
        ledger.append(kind, subject, purpose, **kw)
        durable.append((time.perf_counter_ns() - t) / 1e3)
        if time.perf_counter() - started > 10:
            break
    batches = []
    for b in range(5):
        rows = [append_args(line) for line in lines[200 + b * 1000 : 200 + (b + 1) * 1000]]
        t = time.perf_counter_ns()
        with ledger.batch() as batch:
            for kind, subject, purpose, kw in rows:
                batch.append(kind, subject, purpose, **kw)
        batches.append(len(rows) / ((time.perf_counter_ns() - t) / 1e9))
    ledger.close()
    print(
        json.dumps(
            {
                "impl": "python",
                "n": n,
                "open_us": statistics.median(opens),
                "status_us": statistics.median(st),
                "status_at_us": statistics.median(st_at),
                "consenting_ms": statistics.median(cons),
                "consenting_subjects": population,
                "verify_eps": None,
                "append_durable_us": statistics.median(durable),
                "append_durable_n": len(durable),
                "append_batch_eps": statistics.median(batches),
            }
        )
    )


if __name__ == "__main__":
    main()
