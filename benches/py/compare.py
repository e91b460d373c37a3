"""Driver of the comparison harness: runs every measurement in its own process, reads
each one's peak memory with wait4, and prints one table per ledger size.

Called by benches/compare.sh; see that file for the knobs. Every ratio is a speed
ratio, higher is better: for a rate it is rate / baseline rate, for a time it is
baseline time / time. So "0.50×" means half as fast as the baseline.
"""

import argparse
import json
import os
import selectors
import shutil
import subprocess
import sys

IMPLS = [
    ("plain", "(1) plain rusqlite rows"),
    ("welfare", "(2) Python sqlite3 mutable table"),
    ("rust", "consent-ledger, Rust"),
    ("c", "consent-ledger, C ABI"),
    ("python", "consent-ledger, Python"),
]

# (key, label, kind): kind "time" (lower is better) or "rate" (higher is better).
METRICS = [
    ("append_durable_eps", "durable single append (events/s)", "rate"),
    ("append_batch_eps", "batched append, 1000/commit (events/s)", "rate"),
    ("status_us", "status now, median (µs)", "time"),
    ("status_at_us", "status at a past T, median (µs)", "time"),
    ("consenting_ms", "consenting, jmsu.data-sharing (ms)", "time"),
    ("verify_eps", "verify (events/s)", "rate"),
    ("open_us", "open, median (µs)", "time"),
    ("peak_rss_mib", "peak RSS of the process (MiB)", "time"),
]


def run_rss(cmd, env=None):
    """Runs cmd; returns (its JSON line or None, stderr tail, its own ru_maxrss in KiB via wait4)."""
    r, w = os.pipe()
    er, ew = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(ew, 2)
        os.close(r)
        os.close(er)
        try:
            os.execvpe(cmd[0], cmd, env or os.environ)
        finally:
            os._exit(127)
    os.close(w)
    os.close(ew)
    out_chunks, err_chunks = [], []
    sel = selectors.DefaultSelector()
    sel.register(r, selectors.EVENT_READ, out_chunks)
    sel.register(er, selectors.EVENT_READ, err_chunks)
    open_fds = 2
    while open_fds:
        for key, _ in sel.select():
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
            else:
                key.data.append(chunk)
    _, status, rusage = os.wait4(pid, 0)
    out = b"".join(out_chunks).decode(errors="replace")
    err = b"".join(err_chunks).decode(errors="replace")
    data = None
    for line in out.splitlines()[::-1]:
        if line.strip().startswith("{"):
            data = json.loads(line)
            break
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        return None, err[-800:], rusage.ru_maxrss
    return data, err[-800:], rusage.ru_maxrss


def fmt(v, kind):
    if v is None:
        return "—"
    if kind == "rate":
        return f"{v:,.0f}" if v >= 100 else f"{v:,.1f}"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def ratio(v, base, kind):
    if v is None or base is None or base == 0 or v == 0:
        return "—"
    r = v / base if kind == "rate" else base / v
    return f"{r:.2f}×"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--compare-bin", required=True)
    ap.add_argument("--c-bin", default="")
    ap.add_argument("--c-why", default="")
    ap.add_argument("--py", default="")
    ap.add_argument("--py-why", default="")
    ap.add_argument("--welfare-py", default=sys.executable)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    results = {}
    notes = []
    load_before = os.getloadavg()
    for n in sizes:
        print(f"== {n} events: fixtures", file=sys.stderr, flush=True)
        subprocess.run([args.compare_bin, "fixtures", str(n)], check=True)
        subprocess.run([args.welfare_py, os.path.join(here, "welfare.py"), str(n), args.fixtures, "--build"], check=True)
        ledger_fixture = os.path.join(args.fixtures, f"ledger-{n}.v1.db")
        for impl, _ in IMPLS:
            print(f"== {n} events: {impl}", file=sys.stderr, flush=True)
            copy = None
            if impl == "plain":
                cmd = [args.compare_bin, "plain", str(n)]
            elif impl == "rust":
                cmd = [args.compare_bin, "ledger", str(n)]
            elif impl == "welfare":
                cmd = [args.welfare_py, os.path.join(here, "welfare.py"), str(n), args.fixtures]
            else:
                binary = args.c_bin if impl == "c" else args.py
                if not binary:
                    results[(n, impl)] = {"available": False, "why": args.c_why if impl == "c" else args.py_why}
                    continue
                copy = os.path.join(args.fixtures, f"work-{impl}-{n}.db")
                shutil.copyfile(ledger_fixture, copy)
                # The pseudonym key lives beside a ledger, never in it: the copy needs its own.
                if os.path.exists(ledger_fixture + ".key"):
                    shutil.copy2(ledger_fixture + ".key", copy + ".key")
                if impl == "c":
                    cmd = [binary, str(n), args.fixtures, copy]
                else:
                    cmd = [binary, os.path.join(here, "ledger_py.py"), str(n), args.fixtures, copy]
            data, err, maxrss = run_rss(cmd)
            if copy:
                for ext in ("", "-wal", "-shm", "-lock", ".key"):
                    if os.path.exists(copy + ext):
                        os.remove(copy + ext)
            if data is None:
                results[(n, impl)] = {"available": False, "why": "failed: " + err.strip().splitlines()[-1] if err.strip() else "failed"}
                continue
            if data.get("available") is False:
                results[(n, impl)] = data
                continue
            data["peak_rss_mib"] = maxrss / 1024.0
            if data.get("append_durable_us"):
                data["append_durable_eps"] = 1e6 / data["append_durable_us"]
            results[(n, impl)] = data
            print("   " + json.dumps(data), file=sys.stderr, flush=True)
    load_after = os.getloadavg()

    lines = []
    lines.append(f"Load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}; "
                 f"after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} "
                 f"({os.cpu_count()} CPUs).")
    lines.append("")
    lines.append("Ratios are speed relative to (1) and to (2): higher is better, 1.00× = as fast.")
    for n in sizes:
        lines.append("")
        lines.append(f"### {n:,} events")
        lines.append("")
        avail = [(i, label) for i, label in IMPLS if results.get((n, i), {}).get("available", True) is not False]
        header = "| metric | " + " | ".join(label for _, label in avail) + " |"
        lines.append(header)
        lines.append("|---|" + "---|" * len(avail))
        for key, label, kind in METRICS:
            cells = []
            base1 = results.get((n, "plain"), {}).get(key)
            base2 = results.get((n, "welfare"), {}).get(key)
            for impl, _ in avail:
                v = results[(n, impl)].get(key)
                cell = fmt(v, kind)
                if impl not in ("plain", "welfare") and v is not None and key != "peak_rss_mib":
                    r1, r2 = ratio(v, base1, kind), ratio(v, base2, kind)
                    if (r1, r2) != ("—", "—"):
                        cell += f" ({r1} / {r2})"
                elif impl == "welfare" and v is not None and key != "peak_rss_mib":
                    cell += f" ({ratio(v, base1, kind)})"
                cells.append(cell)
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        pop = results.get((n, "rust"), {}).get("consenting_subjects")
        if pop is not None:
            lines.append("")
            lines.append(f"consenting returned {pop:,} subjects (Rust); the welfare table "
                         f"{results.get((n, 'welfare'), {}).get('consenting_subjects', '—'):,}.")
        for impl, label in IMPLS:
            r = results.get((n, impl), {})
            if r.get("available") is False:
                notes.append(f"{label} at {n:,}: not available ({r.get('why', '')})")
    if notes:
        lines.append("")
        lines.extend(f"- {x}" for x in dict.fromkeys(notes))
    text = "\n".join(lines)
    print(text)
    with open(args.out, "w") as f:
        f.write(text + "\n")
    with open(os.path.splitext(args.out)[0] + ".jsonl", "w") as f:
        for (n, impl), r in results.items():
            f.write(json.dumps({"n": n, "impl": impl, **r}) + "\n")


if __name__ == "__main__":
    main()
