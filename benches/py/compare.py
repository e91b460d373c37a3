"""Driver of the comparison harness (`make bench-compare`, via benches/compare.sh).

For each ledger size it runs `compare run N`: consent-ledger from Rust and its baseline
(the storage limit of each operation) interleaved in one process, several rounds,
medians. Then the C ABI, the Python binding and the welfare script, each in its own
process, on the same fixture and the same questions; then `compare growth A B` (status
and batched append at two sizes, interleaved in one process). It describes the machine
as read from the system during the run, and ends with the issue-12 targets: each
figure, its limit (the baseline), and whether it is met. Unless disabled
(CONSENT_BENCH_PG=0, passed as --pg-why), it then runs the PostgreSQL harness
(`compare_pg`, under tools/tests/pg-cluster.sh) and adds its section with the issue-14
targets (pg_report.py).

Every "speed" ratio is higher-is-better: rate / baseline rate, or baseline time / time.
"""

import argparse
import json
import os
import platform
import selectors
import shutil
import subprocess
import sys
import time

import pg_report
from report_format import num

TARGET_SIZE = 1_000_000


# ---- running a measurement ----------------------------------------------------------


def run_rss(cmd, env=None, echo=True):
    """Runs cmd; returns (its last JSON line or None, stderr tail, its ru_maxrss in KiB).
    Its stderr is passed through (progress lines) when echo is set."""
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
                if echo and key.fd == er:
                    sys.stderr.write(chunk.decode(errors="replace"))
                    sys.stderr.flush()
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


def remove_db(path):
    for ext in ("", "-wal", "-shm", "-lock", ".key"):
        if os.path.exists(path + ext):
            os.remove(path + ext)


def copy_ledger(src, dst):
    remove_db(dst)
    shutil.copyfile(src, dst)
    # The pseudonym key lives beside a ledger, never in it: the copy needs its own.
    if os.path.exists(src + ".key"):
        shutil.copy2(src + ".key", dst + ".key")


def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    s = sorted(values)
    return {"median": s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2,
            "min": s[0], "max": s[-1], "rounds": values}


def status_pairs(args, here, n, fx, rounds):
    """Python and Rust status on the pristine fixture, one process per side and round,
    taking turns (which goes first alternates): the ratio of each round's pair."""
    res = {"rust": [], "python": [], "ratio": [], "rust_many": [], "python_many": [], "ratio_many": [], "why": None}
    for r in range(rounds):
        steps = [
            ("rust", [args.compare_bin, "status", str(n), str(r)]),
            ("python", [args.py, os.path.join(here, "ledger_py.py"), "status-round", str(n), fx["queries"], fx["ledger"], str(r), str(rounds)]),
        ]
        if r % 2:
            steps.reverse()
        got = {}
        for side, cmd in steps:
            data, err, _ = run_rss(cmd, echo=False)
            if data is None:
                res["why"] = f"{side} status round {r} failed: " + (err.strip().splitlines() or ["no output"])[-1]
                return res
            got[side] = data
        rs, ps = got["rust"]["status_us"], got["python"]["status_us"]
        res["rust"].append(rs)
        res["python"].append(ps)
        res["ratio"].append(ps / rs)
        if got["python"].get("status_many_us") is not None:
            rm, pm = got["rust"]["status_many_us"], got["python"]["status_many_us"]
            res["rust_many"].append(rm)
            res["python_many"].append(pm)
            res["ratio_many"].append(pm / rm)
        else:
            res["why_many"] = got["python"].get("status_many_why")
    for k in ("rust", "python", "ratio", "rust_many", "python_many", "ratio_many"):
        res[k] = summary(res[k])
    return res


# ---- the machine, read from the system ----------------------------------------------


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def command(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def mount_of(path):
    """(mount point, device, fstype, options) of the filesystem holding path."""
    path = os.path.realpath(path)
    best = None
    for line in read("/proc/self/mounts").splitlines():
        dev, mnt, fstype, opts = line.split()[:4]
        mnt = mnt.replace("\\040", " ")
        if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and (best is None or len(mnt) >= len(best[0])):
            best = (mnt, dev, fstype, opts)
    return best


def machine(bench_dir, rustc, venv_py):
    cpuinfo = read("/proc/cpuinfo")
    models = [ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")]
    flags = next((ln for ln in cpuinfo.splitlines() if ln.startswith("flags")), "")
    mem_kib = next((int(ln.split()[1]) for ln in read("/proc/meminfo").splitlines() if ln.startswith("MemTotal:")), 0)
    m = {
        "cpu_model": models[0] if models else platform.processor() or "unknown",
        "cpus_online": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "hypervisor": " hypervisor" in flags or None,
        "sha_ni": " sha_ni" in flags,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": f"{platform.system()} {platform.release()} {platform.machine()}",
        "os": next(
            (ln.split("=", 1)[1].strip('"') for ln in read("/etc/os-release").splitlines() if ln.startswith("PRETTY_NAME=")),
            "",
        ),
        "rustc": command([rustc, "-V"]) or "unknown",
        "python_welfare": f"{platform.python_implementation()} {platform.python_version()}, sqlite3 module on SQLite "
        + __import__("sqlite3").sqlite_version,
        "python_binding": command([venv_py, "-c", "import sys,platform; print(platform.python_implementation(), platform.python_version())"]) if venv_py else "",
        "virtualization": command(["systemd-detect-virt"]) or read("/sys/class/dmi/id/product_name").strip(),
        "git": command(["git", "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(command(["git", "status", "--porcelain", "--untracked-files=no"])),
    }
    mnt = mount_of(bench_dir)
    if mnt:
        m["bench_dir"] = os.path.realpath(bench_dir)
        m["filesystem"] = f"{mnt[2]} on {mnt[1]} (mounted at {mnt[0]}, {mnt[3]})"
        dev = os.path.basename(os.path.realpath(mnt[1])) if mnt[1].startswith("/dev/") else ""
        base = dev.rstrip("0123456789") if dev and not dev.startswith("nvme") else dev.split("p")[0] if dev else ""
        rot = read(f"/sys/block/{base}/queue/rotational").strip() if base else ""
        if rot:
            m["disk"] = f"/dev/{base}: the kernel reports it " + ("rotational" if rot == "1" else "not rotational") + (
                ", " + read(f"/sys/block/{base}/device/model").strip() if read(f"/sys/block/{base}/device/model").strip() else ""
            )
    return m


def machine_lines(m, sqlite_version, knobs, loads):
    out = [
        f"- CPU: {m['cpu_model']}; {m['cpus_online']} logical CPUs online, {m['cpus_usable']} usable by this process"
        + ("; CPU flag `hypervisor` set" if m.get("hypervisor") else "")
        + (f"; systemd-detect-virt: {m['virtualization']}" if m.get("virtualization") else "")
        + ("; SHA extensions: yes" if m.get("sha_ni") else "; SHA extensions: no"),
        f"- RAM: {m['ram_gib']} GiB; kernel: {m['kernel']}" + (f"; {m['os']}" if m.get("os") else ""),
        f"- bench directory: {m.get('bench_dir', '?')}, {m.get('filesystem', 'filesystem unknown')}"
        + (f"; {m['disk']}" if m.get("disk") else ""),
        f"- {m['rustc']}; SQLite {sqlite_version} (the rusqlite bundled with the workspace, used by the ledger and the baseline)",
        f"- welfare script: {m['python_welfare']}" + (f"; binding: {m['python_binding']}" if m.get("python_binding") else ""),
        f"- built from {m['git'] or '?'}" + (" with uncommitted changes" if m.get("git_dirty") else ""),
    ]
    if loads:
        out.append("- load average (1 min) at the start of each step: " + ", ".join(f"{k} {v:.2f}" for k, v in loads))
    if knobs:
        out.append(
            f"- rounds: {knobs['rounds']} (verify: {knobs['verify_rounds']}); per round and side: "
            f"{knobs['questions_per_round']:,} status questions (status_many: {knobs['status_many_chunk']} a call), "
            f"{knobs['batches_per_round']} batches of {knobs['batch']:,}, {knobs['durable_per_round']} durable appends "
            f"(in turns of {knobs['durable_block']}), 3 consenting calls"
        )
    return out


# ---- formatting -----------------------------------------------------------------------


def spread(s, kind):
    if not s:
        return "—"
    return f"{num(s['median'], kind)} ({num(s['min'], kind)}–{num(s['max'], kind)})"


def speed(v, base, kind):
    if v is None or base is None or base == 0 or v == 0:
        return None
    return v / base if kind == "rate" else base / v


def x(r):
    return "—" if r is None else f"{r:.2f}×"


def fig(run, metric, side):
    return run.get("figures", {}).get(metric, {}).get(side)


def med(run, metric, side):
    s = fig(run, metric, side)
    return s["median"] if s else None


# ---- main -----------------------------------------------------------------------------


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
    ap.add_argument("--rustc", default="rustc")
    ap.add_argument("--out", required=True)
    ap.add_argument("--pg-bin", default="", help="compare_pg; empty: the PostgreSQL part is skipped (--pg-why says why)")
    ap.add_argument("--pg-cluster", default="", help="tools/tests/pg-cluster.sh")
    ap.add_argument("--pg-sizes", default="10000,100000")
    ap.add_argument("--pg-why", default="")
    args = ap.parse_args()
    t_start = time.time()
    here = os.path.dirname(os.path.abspath(__file__))
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    rounds = int(os.environ.get("CONSENT_BENCH_ROUNDS", "5") or 5)
    mach = machine(args.fixtures, args.rustc, args.py)
    loads = []
    runs, others, fixtures, pairs = {}, {}, {}, {}
    notes = []

    def load(step):
        loads.append((step, os.getloadavg()[0]))

    for n in sizes:
        print(f"== {n:,} events: fixtures", file=sys.stderr, flush=True)
        load(f"fixtures {n:,}")
        # Progress (stderr) passes through; stdout is the fixtures' paths.
        out = subprocess.run([args.compare_bin, "fixtures", str(n)], check=True, stdout=subprocess.PIPE, text=True)
        fx = json.loads(out.stdout.strip().splitlines()[-1])
        fixtures[n] = fx
        subprocess.run(
            [args.welfare_py, os.path.join(here, "welfare.py"), str(n), args.fixtures, fx["stream"], fx["queries"], "--build"],
            check=True,
        )

        print(f"== {n:,} events: ledger and baseline, interleaved", file=sys.stderr, flush=True)
        load(f"run {n:,}")
        data, err, maxrss = run_rss([args.compare_bin, "run", str(n)])
        if data is None:
            sys.exit(f"compare run {n} failed:\n{err}")
        data["peak_rss_mib"] = maxrss / 1024
        runs[n] = data

        if args.py:
            print(f"== {n:,} events: Python and Rust status, paired by round", file=sys.stderr, flush=True)
            load(f"pairs {n:,}")
            pairs[n] = status_pairs(args, here, n, fx, rounds)

        for impl in ("c", "python", "welfare"):
            print(f"== {n:,} events: {impl}", file=sys.stderr, flush=True)
            load(f"{impl} {n:,}")
            copy = None
            if impl == "welfare":
                cmd = [args.welfare_py, os.path.join(here, "welfare.py"), str(n), args.fixtures, fx["stream"], fx["queries"]]
            else:
                binary = args.c_bin if impl == "c" else args.py
                if not binary:
                    others[(n, impl)] = {"available": False, "why": args.c_why if impl == "c" else args.py_why}
                    continue
                copy = os.path.join(args.fixtures, f"work-{impl}-{n}.db")
                copy_ledger(fx["ledger"], copy)
                tail = [str(n), fx["queries"], fx["stream"], copy, str(rounds)]
                cmd = [binary, *tail] if impl == "c" else [binary, os.path.join(here, "ledger_py.py"), *tail]
            data, err, maxrss = run_rss(cmd, echo=False)
            if copy:
                remove_db(copy)
            if data is None:
                lines = err.strip().splitlines()
                others[(n, impl)] = {"available": False, "why": "failed: " + (lines[-1] if lines else "no output")}
                continue
            if data.get("available") is False:
                others[(n, impl)] = data
                continue
            data["peak_rss_mib"] = maxrss / 1024
            if data.get("append_durable_us"):
                data["append_durable_eps"] = 1e6 / data["append_durable_us"]
            others[(n, impl)] = data
            print("   " + json.dumps(data), file=sys.stderr, flush=True)

    growth = None
    if len(sizes) >= 2:
        a, b = (100_000, 1_000_000) if {100_000, 1_000_000} <= set(sizes) else tuple(sorted(sizes)[-2:])
        if b > 1_000_000 and {100_000, 1_000_000} <= set(sizes):
            a, b = 100_000, 1_000_000
        print(f"== growth {a:,} -> {b:,}, interleaved", file=sys.stderr, flush=True)
        load(f"growth {a:,}→{b:,}")
        growth, err, _ = run_rss([args.compare_bin, "growth", str(a), str(b)])
        if growth is None:
            notes.append(f"growth {a:,} → {b:,} failed: {err.strip().splitlines()[-1] if err.strip() else ''}")
    pg_results, pg_serial, pg_why = {}, None, args.pg_why or None
    if args.pg_bin:
        pg_sizes = sorted({int(s.replace("_", "")) for s in args.pg_sizes.split(",") if s.strip()})
        print(f"== PostgreSQL: {', '.join(f'{n:,}' for n in pg_sizes)} events (compare_pg under pg-cluster.sh)",
              file=sys.stderr, flush=True)
        load("postgres")
        pg_results, pg_serial, pg_why = pg_report.run(args.pg_bin, args.pg_cluster, pg_sizes)
    load("end")
    elapsed = time.time() - t_start

    # ---- the report ------------------------------------------------------------------
    any_run = next(iter(runs.values()))
    knobs = any_run.get("knobs", {})
    L = []
    L.append(f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(t_start))}, {elapsed / 60:.1f} min "
             f"(sizes {', '.join(f'{n:,}' for n in sizes)}).")
    L.append("")
    L.append("Machine, as read from the system during this run:")
    L.append("")
    L.extend(machine_lines(mach, any_run.get("sqlite_version", "?"), knobs, loads))
    L.append("")
    L.append(
        "Ledger and baseline ran interleaved in one process (`compare run N`): in every round each "
        "measurement ran on both sides in turn, the side going first alternating. A figure is the median of "
        "the rounds (min–max of the rounds in brackets). Speed is relative to the baseline: higher is better, "
        "1.00× = as fast. The C, Python and welfare columns ran afterwards, each in its own process, on the same "
        "fixture and questions, so they are not paired with the Rust column (Python and Rust status are paired "
        "below each table). Reads ran on the pristine fixtures, appends on copies of them."
    )
    baselines = [
        ("append_batch_eps", "batched append, 1000/commit (events/s)", "rate", "plain rusqlite insert, same row width, rows built in the loop"),
        ("append_durable_total", "durable single append, total time incl. checkpoints (events/s)", "rate", "plain durable commit (WAL, synchronous=FULL)"),
        ("status_us", "status now, first ask (µs/call)", "time", "plain indexed point query"),
        ("status_repeat_us", "status now, asked again (µs/call)", "time", "the same point query again"),
        ("status_many_us", f"status_many, {knobs.get('status_many_chunk', 100)} a call (µs per lookup)", "time", "the point queries in one read transaction"),
        ("status_at_us", "status at a past T (µs/call)", "time", "—"),
        ("consenting_ms", "consenting, jmsu.data-sharing (ms)", "time", "raw covering scan of a current-state table"),
        ("consenting_ms_per_100k", "consenting per 100k subjects (ms)", "time", "the same scan"),
        ("verify_eps", "verify (events/s)", "rate", "SHA-256 of the same canonical bytes, in memory"),
        ("open_us", "open (µs)", "time", "plain open + schema read"),
    ]
    for n in sizes:
        run = runs[n]
        dur = run.get("durable", {})
        L.append("")
        L.append(f"### {n:,} events")
        L.append("")
        L.append("| metric | baseline | baseline figure | consent-ledger, Rust | speed vs baseline | C ABI | Python | welfare script (2) |")
        L.append("|---|---|---|---|---|---|---|---|")
        for key, label, kind, what in baselines:
            if key == "append_durable_total":
                b, l = dur.get("baseline") or {}, dur.get("ledger") or {}
                bs, ls = fig(run, "append_durable_eps", "baseline"), fig(run, "append_durable_eps", "ledger")
                bcell = f"{num(b.get('eps'), 'rate')} (rounds {num(bs['min'], 'rate')}–{num(bs['max'], 'rate')})" if bs else "—"
                lcell = f"{num(l.get('eps'), 'rate')} (rounds {num(ls['min'], 'rate')}–{num(ls['max'], 'rate')})" if ls else "—"
                sp = speed(l.get("eps"), b.get("eps"), "rate")
                okey = "append_durable_eps"
            else:
                bs, ls = fig(run, key, "baseline"), fig(run, key, "ledger")
                bcell, lcell = spread(bs, kind), spread(ls, kind)
                sp = speed(ls["median"] if ls else None, bs["median"] if bs else None, kind)
                okey = key
            cells = []
            for impl in ("c", "python", "welfare"):
                o = others.get((n, impl), {})
                v = o.get(okey) if o.get("available", True) is not False else None
                cells.append(num(v, kind))
            L.append(f"| {label} | {what} | {bcell} | {lcell} | {x(sp)} | " + " | ".join(cells) + " |")
        bpe = run.get("bytes_per_event", {})
        L.append(f"| bytes per event (file + WAL after checkpoint) | plain table | {num(bpe.get('baseline'))} | "
                 f"{num(bpe.get('ledger'))} | {x(speed(bpe.get('ledger'), bpe.get('baseline'), 'time'))} | | | |")
        L.append("")
        cs = run.get("consenting_subjects", {})
        wf = others.get((n, "welfare"), {})
        L.append(f"- consenting returned {cs.get('ledger', 0):,} subjects (ledger), {cs.get('baseline', 0):,} (raw scan)"
                 + (f", {wf['consenting_subjects']:,} (welfare table)" if wf.get("consenting_subjects") is not None else "") + ".")
        for side in ("baseline", "ledger"):
            d = dur.get(side) or {}
            if d:
                ck = d.get("checkpoints")
                L.append(f"- durable, {side}: {d['events']:,} commits in {d['seconds']:.1f} s, "
                         f"{'unknown' if ck is None else ck} WAL checkpoints; commit median {d['commit_us_median'] / 1000:.2f} ms, "
                         f"p99 {d['commit_us_p99'] / 1000:.2f} ms, max {d['commit_us_max'] / 1000:.1f} ms"
                         + (" — **no checkpoint: too short to include its cost**" if ck == 0 else ""))
        after = run.get("after_run", {})
        if after:
            ap_ = after.get("appended", {})
            ab = after.get("bytes_per_event", {})
            L.append(f"- after the run's appends ({ap_.get('ledger', 0):,} events each side, then a checkpoint): "
                     f"{num(ab.get('ledger'))} B/event (ledger), {num(ab.get('baseline'))} (plain)")
        ss = run.get("sha_sample", {})
        if ss:
            L.append(f"- the SHA-256 baseline hashes {ss['events']:,} events' canonical bytes ({ss['mean_bytes']:.0f} B on average)")
        py = others.get((n, "python"), {})
        if py.get("available", True) is not False and py.get("status_many_why"):
            L.append(f"- Python status_many: {py['status_many_why']}")
        pr = pairs.get(n)
        if pr and pr.get("ratio"):
            line = (f"- Python vs Rust status, paired by round (each side its own process on the pristine fixture, "
                    f"taking turns): Python {spread(pr['python'], 'time')} µs, Rust {spread(pr['rust'], 'time')} µs, "
                    f"ratio {spread(pr['ratio'], 'time')}×")
            if pr.get("ratio_many"):
                line += (f"; status_many per lookup: Python {spread(pr['python_many'], 'time')} µs, "
                         f"Rust {spread(pr['rust_many'], 'time')} µs, ratio {spread(pr['ratio_many'], 'time')}×")
            elif pr.get("why_many"):
                line += f"; status_many from Python: {pr['why_many']}"
            L.append(line)
        elif pr and pr.get("why"):
            L.append(f"- Python vs Rust status, paired: {pr['why']}")
        L.append(f"- the interleaved process took {run.get('seconds', 0):.0f} s, peak RSS {run['peak_rss_mib']:.0f} MiB (both sides)")
        for impl, label in (("c", "C ABI"), ("python", "Python"), ("welfare", "welfare script")):
            o = others.get((n, impl), {})
            if o.get("available") is False:
                notes.append(f"{label}: not available ({o.get('why', '')})")
    if growth:
        a, b = growth["from"], growth["to"]
        L.append("")
        L.append(f"### Growth {a:,} → {b:,} events (`compare growth`, both sizes interleaved in one process)")
        L.append("")
        L.append(f"| figure | ledger at {a:,} | ledger at {b:,} | ledger ratio | plain at {a:,} | plain at {b:,} | plain ratio |")
        L.append("|---|---|---|---|---|---|---|")
        for label, m in (("status now (µs)", "status"), ("batched append (µs per event)", "append")):
            k1 = f"status_us_{a}" if m == "status" else f"append_us_per_event_{a}"
            k2 = f"status_us_{b}" if m == "status" else f"append_us_per_event_{b}"
            gl, gb = fig(growth, f"{m}_ratio", "ledger"), fig(growth, f"{m}_ratio", "baseline")
            L.append(f"| {label} | {spread(fig(growth, k1, 'ledger'), 'time')} | {spread(fig(growth, k2, 'ledger'), 'time')} | "
                     f"{spread(gl, 'time')}× | {spread(fig(growth, k1, 'baseline'), 'time')} | "
                     f"{spread(fig(growth, k2, 'baseline'), 'time')} | {spread(gb, 'time')}× |")

    # ---- the targets -----------------------------------------------------------------
    at = TARGET_SIZE if TARGET_SIZE in runs else max(runs)
    run = runs[at]
    dur = run.get("durable", {})
    py = others.get((at, "python"), {})
    rows = []

    def target(name, value, limit_text, ok, figure_text, where=f"{at:,}"):
        verdict = "not measured" if value is None else ("met" if ok else "**MISSED**")
        rows.append((name, figure_text if value is not None else "—", limit_text, where, verdict))

    lb, bb = med(run, "append_batch_eps", "ledger"), med(run, "append_batch_eps", "baseline")
    r = speed(lb, bb, "rate")
    target("batched append ≥ 0.5× plain insert", r, f"plain insert {num(bb, 'rate')} events/s", r is not None and r >= 0.5,
           f"{x(r)} ({num(lb, 'rate')} events/s)")
    le, be = (dur.get("ledger") or {}).get("eps"), (dur.get("baseline") or {}).get("eps")
    r = speed(le, be, "rate")
    ck = f"{(dur.get('ledger') or {}).get('checkpoints')} / {(dur.get('baseline') or {}).get('checkpoints')} checkpoints"
    target("durable single append ≥ 0.8×, total time incl. checkpoints", r,
           f"plain durable commit {num(be, 'rate')} events/s", r is not None and r >= 0.8, f"{x(r)} ({num(le, 'rate')} events/s; {ck})")
    ls, bs = med(run, "status_us", "ledger"), med(run, "status_us", "baseline")
    target("status now ≤ 2 µs (first ask)", ls, f"plain point query {num(bs)} µs", ls is not None and ls <= 2.0, f"{num(ls)} µs")
    lr, br = med(run, "status_repeat_us", "ledger"), med(run, "status_repeat_us", "baseline")
    target("status now ≤ 2 µs (asked again: in-process cache)", lr, f"plain point query again {num(br)} µs",
           lr is not None and lr <= 2.0, f"{num(lr)} µs")
    pr = pairs.get(at) or {}
    if pr.get("ratio"):
        r = pr["ratio"]["median"]
        target("Python status ≤ 2× Rust (paired rounds)", r, f"Rust status {num(pr['rust']['median'])} µs in the same rounds",
               r <= 2.0, f"{r:.2f}× ({num(pr['python']['median'])} µs)")
    else:
        target("Python status ≤ 2× Rust", None, py.get("why") or pr.get("why") or "Python not available", False, "")
    lv, bv = med(run, "verify_eps", "ledger"), med(run, "verify_eps", "baseline")
    target("verify ≥ 1M events/s", lv, f"SHA-256 of the canonical bytes {num(bv, 'rate')} events/s",
           lv is not None and lv >= 1e6, f"{num(lv, 'rate')} events/s")
    lc, bc = med(run, "consenting_ms_per_100k", "ledger"), med(run, "consenting_ms_per_100k", "baseline")
    target("consenting ≤ 50 ms per 100k subjects", lc, f"raw scan {num(bc)} ms per 100k", lc is not None and lc <= 50,
           f"{num(lc)} ms per 100k ({num(med(run, 'consenting_ms', 'ledger'))} ms for {run.get('consenting_subjects', {}).get('ledger', 0):,})")
    if growth:
        a, b = growth["from"], growth["to"]
        where = f"{a:,} → {b:,}"
        for label, m in (("growth of status ≤ 1.3×", "status"), ("growth of append ≤ 1.3×", "append")):
            gl, gb = med(growth, f"{m}_ratio", "ledger"), med(growth, f"{m}_ratio", "baseline")
            target(label, gl, f"plain {num(gb)}×", gl is not None and gl <= 1.3, f"{num(gl)}×", where)
    else:
        target("growth 100k → 1M ≤ 1.3× (status, append)", None, "—", False, "", "needs two sizes")
    lbpe, bbpe = run.get("bytes_per_event", {}).get("ledger"), run.get("bytes_per_event", {}).get("baseline")
    target("bytes per event ≤ 300", lbpe, f"plain table {num(bbpe)} B/event", lbpe is not None and lbpe <= 300, f"{num(lbpe)} B/event")
    L.append("")
    L.append("### Targets (issue 12)")
    L.append("")
    if at != TARGET_SIZE:
        L.append(f"The targets are set at 1,000,000 events; this run's largest size is {at:,}, so they are checked there.")
        L.append("")
    L.append("| target | figure | limit (baseline, same run) | at | |")
    L.append("|---|---|---|---|---|")
    for row in rows:
        L.append("| " + " | ".join(row) + " |")
    missed = sum(1 for r_ in rows if r_[4] == "**MISSED**")
    L.append("")
    L.append(f"{len(rows) - missed - sum(1 for r_ in rows if r_[4] == 'not measured')} met, {missed} missed"
             + (f", {sum(1 for r_ in rows if r_[4] == 'not measured')} not measured" if any(r_[4] == 'not measured' for r_ in rows) else "") + ".")
    if notes:
        L.append("")
        L.extend(f"- {n_}" for n_ in dict.fromkeys(notes))

    def describe(path):
        mnt = mount_of(path)
        return f"{mnt[2]} on {mnt[1]} (mounted at {mnt[0]})" if mnt else path

    pg_lines, pg_rows = pg_report.section(pg_results, pg_why, describe, pg_serial)
    L.extend(pg_lines)
    text = "\n".join(L)
    print(text)
    with open(args.out, "w") as f:
        f.write(text + "\n")
    with open(os.path.splitext(args.out)[0] + ".jsonl", "w") as f:
        f.write(json.dumps({"kind": "machine", **mach, "loads": loads, "seconds": elapsed}) + "\n")
        for n, r_ in runs.items():
            f.write(json.dumps({"kind": "run", "n": n, **r_}) + "\n")
        for (n, impl), r_ in others.items():
            f.write(json.dumps({"kind": "process", "n": n, "impl": impl, **r_}) + "\n")
        for n, pr in pairs.items():
            f.write(json.dumps({"kind": "python_rust_pairs", "n": n, **pr}) + "\n")
        if growth:
            f.write(json.dumps({"kind": "growth", **growth}) + "\n")
        for n, r_ in pg_results.items():
            f.write(json.dumps({"kind": "pg_run", **r_}) + "\n")
        if pg_serial:
            f.write(json.dumps(pg_serial) + "\n")
        for issue, rows_ in ((12, rows), (14, pg_rows)):
            for row in rows_:
                f.write(json.dumps({"kind": "target", "issue": issue, "target": row[0], "figure": row[1], "limit": row[2],
                                    "at": row[3], "verdict": row[4].strip("*")}) + "\n")


if __name__ == "__main__":
    main()
