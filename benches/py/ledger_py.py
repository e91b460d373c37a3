"""consent-ledger from Python (the consent_ledger package), the same questions as the
Rust harness asks.

    python ledger_py.py N QUERY_FILE STREAM_FILE LEDGER_COPY ROUNDS
    python ledger_py.py status-round N QUERY_FILE LEDGER ROUND ROUNDS

LEDGER_COPY is a copy of the ledger fixture of N events (the harness makes it and
removes it). Status questions are asked in ROUNDS rounds, each its own share of
QUERY_FILE (as the Rust harness splits them); a figure is the median of the rounds'
medians, with their min and max. `status_many` is measured when the binding has it
(100 questions a call, per lookup). Prints one JSON object, or {"available": false,
...} when the package cannot be imported.

`status-round` asks only round ROUND's questions (status, then status_many) and
touches nothing else: the Python half of the Python-vs-Rust pairs, which the driver runs
in turns with `compare status N ROUND` on the same fixture.
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
MANY = 100


def append_args(line):
    subject, purpose, recipient, kind, _eff, _exp, notice, method, by = line.rstrip("\n").split("\t")
    kw = {"recipient": recipient or None, "recorded_by": by}
    if kind != "withdrawn":
        kw["method"] = method
    if kind == "given":
        kw["notice"] = (notice, "2024-09")
        kw["explicit"] = purpose.startswith(EXPLICIT)
    return kind, subject, purpose, kw


def rounds_of(values):
    """Median of the rounds, their min and max, and the rounds."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": values}


def round_questions(queries, r, rounds):
    """Round r's share of the questions, as the Rust harness splits them."""
    per = len(queries) // max(1, min(rounds, len(queries)))
    start = (r * per) % max(1, len(queries))
    return [(s, p, rc or None) for s, p, rc in queries[start : start + per]]


def status_round():
    n, query_file, path = int(sys.argv[2]), sys.argv[3], sys.argv[4]
    r, rounds = int(sys.argv[5]), max(1, int(sys.argv[6]))
    with open(query_file) as f:
        queries = [tuple(line.rstrip("\n").split("\t")) for line in f]
    rq = round_questions(queries, r % rounds, rounds)
    ledger = consent_ledger.Ledger(path, create=False)
    st = []
    for s, p, rc in rq:
        t = time.perf_counter_ns()
        ledger.status(s, p, rc)
        st.append((time.perf_counter_ns() - t) / 1e3)
    out = {"impl": "python", "n": n, "round": r, "questions": len(rq), "status_us": statistics.median(st)}
    if hasattr(ledger, "status_many"):
        per_lookup = []
        try:
            for i in range(0, len(rq), MANY):
                chunk = rq[i : i + MANY]
                t = time.perf_counter_ns()
                ledger.status_many(chunk)
                per_lookup.append((time.perf_counter_ns() - t) / 1e3 / len(chunk))
            out["status_many_us"] = statistics.median(per_lookup)
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            out["status_many_why"] = f"status_many failed: {type(e).__name__}: {e}"
    else:
        out["status_many_why"] = "not available (the binding has no Ledger.status_many)"
    ledger.close()
    print(json.dumps(out))


def main():
    if sys.argv[1] == "status-round":
        return status_round()
    n = int(sys.argv[1])
    query_file, stream_file, path = sys.argv[2], sys.argv[3], sys.argv[4]
    rounds = max(1, int(sys.argv[5]))
    with open(query_file) as f:
        queries = [tuple(line.rstrip("\n").split("\t")) for line in f]
    rounds = min(rounds, len(queries))
    per = len(queries) // rounds
    out = {"impl": "python", "n": n, "rounds": rounds}

    opens = []
    for _ in range(20):
        t = time.perf_counter_ns()
        consent_ledger.Ledger(path, create=False).close()
        opens.append((time.perf_counter_ns() - t) / 1e3)
    out["open_us"] = statistics.median(opens)

    ledger = consent_ledger.Ledger(path, create=False)
    has_many = hasattr(ledger, "status_many")
    st_rounds, many_rounds = [], []
    many_error = None
    for r in range(rounds):
        rq = round_questions(queries, r, rounds)
        st = []
        for s, p, rc in rq:
            t = time.perf_counter_ns()
            ledger.status(s, p, rc)
            st.append((time.perf_counter_ns() - t) / 1e3)
        st_rounds.append(statistics.median(st))
        if has_many and many_error is None:
            per_lookup = []
            try:
                for i in range(0, len(rq), MANY):
                    chunk = rq[i : i + MANY]
                    t = time.perf_counter_ns()
                    answers = ledger.status_many(chunk)
                    per_lookup.append((time.perf_counter_ns() - t) / 1e3 / len(chunk))
                    if len(answers) != len(chunk):
                        raise RuntimeError(f"status_many returned {len(answers)} answers for {len(chunk)}")
                many_rounds.append(statistics.median(per_lookup))
            except Exception as e:  # noqa: BLE001 - reported, not fatal
                many_error = f"status_many failed: {type(e).__name__}: {e}"
    out["status"] = rounds_of(st_rounds)
    out["status_us"] = out["status"]["median"]
    if many_rounds and many_error is None:
        out["status_many"] = rounds_of(many_rounds)
        out["status_many_us"] = out["status_many"]["median"]
    else:
        out["status_many_us"] = None
        out["status_many_why"] = many_error or "not available (the binding has no Ledger.status_many)"

    at = datetime(2023, 1, 1, tzinfo=timezone.utc)
    st_at = []
    for s, p, r in queries[:per]:
        t = time.perf_counter_ns()
        ledger.status(s, p, r or None, at=at)
        st_at.append((time.perf_counter_ns() - t) / 1e3)
    out["status_at_us"] = statistics.median(st_at)
    cons = []
    population = 0
    for _ in range(5):
        t = time.perf_counter_ns()
        c = ledger.consenting("jmsu.data-sharing")
        cons.append((time.perf_counter_ns() - t) / 1e6)
        population = len(c.subjects)
    out["consenting_ms"] = statistics.median(cons)
    out["consenting_subjects"] = population

    with open(stream_file) as f:
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
    out["append_durable_us"] = statistics.median(durable)
    out["append_durable_n"] = len(durable)
    batches = []
    for b in range(5):
        t = time.perf_counter_ns()
        with ledger.batch() as batch:
            for line in lines[200 + b * 1000 : 200 + (b + 1) * 1000]:
                kind, subject, purpose, kw = append_args(line)
                batch.append(kind, subject, purpose, **kw)
        batches.append(1000 / ((time.perf_counter_ns() - t) / 1e9))
    out["append_batch_eps"] = statistics.median(batches)
    out["verify_eps"] = None
    ledger.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
