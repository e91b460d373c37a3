"""Prints the criterion results of `cargo bench -p consent-benches` as a markdown table
(median per operation and size, plus the growth from 100 thousand to 1 million).

    python3 benches/py/criterion_table.py [target-bench/criterion]
"""

import json
import os
import sys

GROUPS = [
    ("append_durable", "durable single append", "x"),
    ("append_batch", "batched append (per event, 1000/commit)", "x1000"),
    ("status", "status now", ""),
    ("status_at", "status at a past T", ""),
    ("consenting", "consenting, jmsu.data-sharing", ""),
    ("verify", "verify (whole ledger)", ""),
    ("open", "open + close", ""),
]


def fmt_ns(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "target-bench/criterion"
    sizes = set()
    data = {}
    for group, _, _ in GROUPS:
        gdir = os.path.join(root, group)
        if not os.path.isdir(gdir):
            continue
        for dirpath, _, files in os.walk(gdir):
            if "estimates.json" in files and dirpath.endswith(os.path.join("new")):
                with open(os.path.join(dirpath, "benchmark.json")) as f:
                    bench = json.load(f)
                with open(os.path.join(dirpath, "estimates.json")) as f:
                    est = json.load(f)
                n = int(bench["value_str"])
                per_iter = est["median"]["point_estimate"]
                if group == "append_batch":
                    per_iter /= 1000
                data[(group, n)] = per_iter
                sizes.add(n)
    sizes = sorted(sizes)
    print("| operation | " + " | ".join(f"{n:,} events" for n in sizes) + " | 1M ÷ 100k |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for group, label, _ in GROUPS:
        cells = [fmt_ns(data[(group, n)]) if (group, n) in data else "—" for n in sizes]
        growth = "—"
        if (group, 100_000) in data and (group, 1_000_000) in data:
            growth = f"{data[(group, 1_000_000)] / data[(group, 100_000)]:.2f}×"
        extra = ""
        if group == "verify":
            rates = [f"{n / (data[(group, n)] / 1e9):,.0f}/s" for n in sizes if (group, n) in data]
            extra = " (" + ", ".join(rates) + ")"
        print(f"| {label}{extra} | " + " | ".join(cells) + f" | {growth} |")


if __name__ == "__main__":
    main()
