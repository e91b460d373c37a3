"""How long `Ledger.status` takes from Python, against the binding's floor.

    python consent-py/tests/perf_status.py [EVENTS] [LEDGER]

Builds (once) a ledger of EVENTS events (default 100,000) at LEDGER (default
/tmp/consent-perf-<EVENTS>.db) with its questions beside it (`.questions.tsv`, one
`subject<TAB>purpose<TAB>recipient` a line, for a Rust loop to ask the same), then
times, over several interleaved rounds (medians, µs per call):

- `status`: `Ledger.status(s, p, r)`, what a caller pays;
- `native`: the extension's `_native.Ledger.status` alone (no argument checks);
- `status_many`: `Ledger.status_many` of all the questions, per question (when the
  installed package has it).

Not collected by pytest (no `test_` prefix): a measuring tool, run by hand.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from typing import Callable, List, Optional, Tuple

from consent_ledger import Ledger

NOTICE = ("perf.notice", "1")
PURPOSES = ("perf.marketing", "perf.research", "perf.alumni")
SHARED = "perf.share"
RECIPIENTS = ("nhs", "sfe", "landlord")

Question = Tuple[str, str, Optional[str]]


def build(path: str, events: int) -> None:
    subjects = max(events // 4, 1)
    rng = random.Random(12)
    with Ledger(path, synchronous="normal") as ledger:
        for p in PURPOSES:
            ledger.register_purpose(p, p, "Perf")
        ledger.register_purpose(SHARED, SHARED, "Perf", recipients=RECIPIENTS)
        ledger.register_notice(*NOTICE, "Perf notice", text="perf", controller="Perf", purposes=["perf.*"])
        done = ledger.head().size
        while done < events:
            with ledger.batch() as batch:
                for _ in range(min(5000, events - done)):
                    subject = f"s{rng.randrange(subjects)}"
                    purpose = rng.choice(PURPOSES + (SHARED,))
                    recipient = rng.choice(RECIPIENTS) if purpose == SHARED else None
                    if rng.random() < 0.8:
                        batch.give(subject, purpose, recipient=recipient, notice=NOTICE, method="portal")
                    else:
                        batch.withdraw(subject, purpose, recipient=recipient)
                    done += 1


def questions(events: int, k: int) -> List[Question]:
    rng = random.Random(34)
    subjects = max(events // 4, 1)
    out: List[Question] = []
    for _ in range(k):
        # One in ten about a subject the ledger never heard of.
        subject = f"s{rng.randrange(subjects * 10 // 9)}"
        purpose = rng.choice(PURPOSES + (SHARED,))
        out.append((subject, purpose, rng.choice(RECIPIENTS) if purpose == SHARED else None))
    return out


def per_call(f: Callable[[], object], calls: int) -> float:
    t = time.perf_counter_ns()
    f()
    return (time.perf_counter_ns() - t) / 1e3 / calls


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    path = sys.argv[2] if len(sys.argv) > 2 else f"/tmp/consent-perf-{events}.db"
    if not os.path.exists(path):
        t = time.monotonic()
        build(path, events)
        print(f"built {path} ({events} events) in {time.monotonic() - t:.1f}s", file=sys.stderr)
    qs = questions(events, 10_000)
    with open(path + ".questions.tsv", "w") as f:
        f.writelines(f"{s}\t{p}\t{r or ''}\n" for s, p, r in qs)

    with Ledger(path, create=False) as ledger:
        native = ledger._native
        has_many = hasattr(ledger, "status_many")

        def python_loop() -> None:
            for s, p, r in qs:
                ledger.status(s, p, r)

        def native_loop() -> None:
            for s, p, r in qs:
                native.status(s, p, r)

        def many() -> None:
            ledger.status_many(qs)  # type: ignore[attr-defined]

        results: dict[str, list[float]] = {"status": [], "native": [], "status_many": []}
        python_loop()  # warm the caches
        for _ in range(7):
            results["status"].append(per_call(python_loop, len(qs)))
            results["native"].append(per_call(native_loop, len(qs)))
            if has_many:
                results["status_many"].append(per_call(many, len(qs)))
        print(f"ledger: {ledger.head().size} events; {len(qs)} questions x 7 rounds, median µs per question")
        for name, values in results.items():
            if values:
                print(f"  {name:12} {statistics.median(values):7.2f}  (min {min(values):.2f})")


if __name__ == "__main__":
    main()
