"""Writes the CSV of "What the legal rules of issue 11 cost" (BENCHMARKS.md) to stdout:
20 000 students x 5 `jmsu.marketing` events, half of them consenting at the end.

    python3 benches/py/marketing_rows.py [STUDENTS] > rows.csv
"""
import csv
import sys

students = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
w = csv.writer(sys.stdout)
w.writerow(["source_id", "subject", "purpose", "kind", "notice", "method", "effective_at"])
n = 0
for s in range(students):
    ends_given = s % 2 == 1
    kinds = ["given", "withdrawn", "given", "withdrawn", "given"] if ends_given else \
        ["given", "withdrawn", "given", "given", "withdrawn"]
    for i, kind in enumerate(kinds):
        n += 1
        notice = "jmsu.privacy@1" if kind == "given" else ""
        w.writerow([f"r{n}", f"77{s:05d}", "jmsu.marketing", kind, notice, "portal",
                    f"2024-10-{1 + i:02d}T10:00:00Z"])
