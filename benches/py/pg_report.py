"""The PostgreSQL part of the comparison harness (issue 14), for compare.py.

`run` starts `compare_pg run N...` under tools/tests/pg-cluster.sh (a throwaway cluster,
or the server named by CONSENT_TEST_PG_URL) and collects one JSON object per size, and
the one of its last part, how to serialise appenders ("kind": "pg_serial": an advisory
lock vs SERIALIZABLE with retries, on a model of one append's statements); `section`
renders them as the report's "PostgreSQL" section, ending with the issue-14 targets,
each met or MISSED.

Every ratio is a speed (higher is better): the ledger's rate over plain PostgreSQL's,
or plain's time over the ledger's; the harness pairs the sides round by round, and a
ratio here is the median of its rounds' ratios (min–max of the rounds in brackets).

Run alone, it renders the section again from saved output: `python3 pg_report.py FILE`,
FILE being the harness's stdout (one JSON line per size) or compare-results.jsonl.
"""

import json
import subprocess
import sys

from report_format import num

PG, PLAIN, LITE = "pg_ledger", "pg_plain", "sqlite_ledger"
TARGETS = (
    ("append_batch_eps", 0.5, "batched append ≥ 0.5× plain PostgreSQL inserts"),
    ("append_durable_eps", 0.8, "durable single append ≥ 0.8× plain INSERT commits"),
)


def parse(lines):
    """The harness's JSON lines: ({n: result}, the serialisation result or None)."""
    results, serial = {}, None
    for line in lines:
        if line.strip().startswith("{"):
            d = json.loads(line)
            kind = d.get("kind", "pg_run")
            if kind == "pg_serial":
                serial = d
            elif kind == "pg_run":
                results[d["n"]] = d
    return results, serial


def run(pg_bin, cluster, sizes):
    """Runs the harness once for all sizes; returns ({n: result}, serial-or-None, why-or-None)."""
    cmd = ["bash", cluster, "run", "--", pg_bin, "run", *[str(n) for n in sizes]]
    # Progress (stderr) passes through; stdout carries one JSON line per size, then the
    # serialisation's.
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    results, serial = parse(p.stdout.splitlines())
    why = None if p.returncode == 0 else f"`compare_pg` exited {p.returncode} (its stderr is above the report)"
    return results, serial, why


# ---- formatting ----------------------------------------------------------------------


def summ(d, *path):
    for p in path:
        d = (d or {}).get(p)
    return d


def cell(s, kind):
    if not s:
        return "—"
    if s["min"] == s["max"]:
        return num(s["median"], kind)
    return f"{num(s['median'], kind)} ({num(s['min'], kind)}–{num(s['max'], kind)})"


def verdict(ok, value):
    if value is None:
        return "not measured"
    return "met" if ok else "**MISSED**"


# ---- the section -----------------------------------------------------------------------


def section(results, why, describe_path=None, serial=None):
    """The report's lines and the target rows (target, figure, limit, at, verdict)."""
    L = ["", "### PostgreSQL (issue 14)", ""]
    rows = []
    if not results:
        L.append(f"Not measured: {why or 'no result'}.")
        L.extend(serial_lines(serial))
        return L, rows
    first = results[min(results)]
    server = first.get("server", {})
    st = server.get("settings", {})
    k = first.get("knobs", {})
    L.append(
        "`compare_pg run N` (benches/src/bin/compare_pg.rs), one process per run: the fixture copied into a fresh "
        "schema with `Ledger::copy_to`; plain PostgreSQL rows of the same width as the SQLite baseline's (one index "
        "on (subject, purpose)) in a schema of their own; the SQLite ledger on its fixture (reads) and a work copy "
        "(appends). Reads ran first, on the pristine data, then appends, then concurrent writers; in every round "
        "each measurement ran on every side in turn, the side going first rotating."
    )
    L.append("")
    L.append(f"- server: {server.get('version', '?').split(' on ')[0]}"
             + (f", data directory on {describe_path(st['data_directory'])}" if describe_path and st.get("data_directory") else "")
             + "; " + ", ".join(f"`{n}={st[n]}`" for n in ("synchronous_commit", "fsync", "wal_sync_method", "shared_buffers", "commit_delay") if n in st))
    if k:
        L.append(
            f"- rounds: {k['rounds']}; per round and side: {k['questions_per_round']:,} status questions, "
            f"{k['consenting_calls']} consenting calls, {k['batches_per_round']} batches of {k['batch']:,}, "
            f"{k['durable_per_round']} durable appends (in turns of {k['durable_block']}), and "
            f"{', '.join(str(w) for w in k['writers'])} concurrent writers for {k['window_ms'] / 1000:g} s each"
        )
    for n in sorted(results):
        L.extend(size_table(results[n]))
    L.extend(serial_lines(serial))
    # Targets, at the largest size measured.
    at = max(results)
    r = results[at]
    for metric, limit, label in TARGETS:
        ratio = summ(r, "ratios", metric, "pg_ledger_vs_pg_plain")
        v = ratio["median"] if ratio else None
        led, pl = summ(r, "figures", metric, PG), summ(r, "figures", metric, PLAIN)
        rows.append((label, f"{num(v, 'x')} ({num(led and led['median'], 'rate')} events/s)" if v is not None else "—",
                     f"plain PostgreSQL {num(pl and pl['median'], 'rate')} events/s", f"{at:,}",
                     verdict(v is not None and v >= limit, v)))
    w = k.get("writers") or [1, 8]
    scale = summ(r, "ratios", f"writers_{max(w)}_over_{min(w)}", PG)
    v = scale["median"] if scale else None
    plain_scale = summ(r, "ratios", f"writers_{max(w)}_over_{min(w)}", PLAIN)
    rows.append((f"throughput with {max(w)} writers ≥ that of {min(w)}",
                 f"{num(v, 'x')} ({num(summ(r, 'figures', f'writers_{max(w)}_eps', PG, 'median'), 'rate')} vs "
                 f"{num(summ(r, 'figures', f'writers_{min(w)}_eps', PG, 'median'), 'rate')} events/s)" if v is not None else "—",
                 f"plain PostgreSQL {num(plain_scale and plain_scale['median'], 'x')}", f"{at:,}",
                 verdict(v is not None and v >= 1.0, v)))
    L += ["", "#### Targets (issue 14)", "", "| target | figure (median of paired rounds) | limit (baseline, same run) | at | |",
          "|---|---|---|---|---|"]
    L += ["| " + " | ".join(row) + " |" for row in rows]
    missed = sum(1 for row in rows if row[4] == "**MISSED**")
    L += ["", f"{len(rows) - missed} met, {missed} missed."]
    if why:
        L += ["", f"- {why}"]
    return L, rows


def size_table(r):
    n = r["n"]
    f, ra = r.get("figures", {}), r.get("ratios", {})
    L = ["", f"#### PostgreSQL, {n:,} events", "",
         "| metric | plain PostgreSQL | PostgreSQL ledger | ledger vs plain | SQLite ledger | PostgreSQL vs SQLite ledger |",
         "|---|---|---|---|---|---|"]
    metrics = [
        ("append_batch_eps", "batched append, 1000/commit (events/s)", "rate"),
        ("append_durable_eps", "durable single append (events/s)", "rate"),
        ("status_us", "status now (µs/call; plain: point query)", "time"),
        ("consenting_ms", "consenting, jmsu.data-sharing (ms; plain: feed scan)", "time"),
    ]
    for m, label, kind in metrics:
        L.append(f"| {label} | {cell(summ(f, m, PLAIN), kind)} | {cell(summ(f, m, PG), kind)} | "
                 f"{cell(summ(ra, m, 'pg_ledger_vs_pg_plain'), 'x')} | {cell(summ(f, m, LITE), kind)} | "
                 f"{cell(summ(ra, m, 'pg_ledger_vs_sqlite_ledger'), 'x')} |")
    writers = r.get("knobs", {}).get("writers", [])
    for w in writers:
        m = f"writers_{w}_eps"
        lat_p, lat_l = summ(f, f"writers_{w}_latency_ms", PLAIN), summ(f, f"writers_{w}_latency_ms", PG)
        L.append(f"| {w} concurrent writer{'s' if w > 1 else ''}, single appends (events/s; median latency) | "
                 f"{cell(summ(f, m, PLAIN), 'rate')}; {num(lat_p and lat_p['median'])} ms | "
                 f"{cell(summ(f, m, PG), 'rate')}; {num(lat_l and lat_l['median'])} ms | "
                 f"{cell(summ(ra, m, 'pg_ledger_vs_pg_plain'), 'x')} | — | — |")
    if writers:
        m = f"writers_{max(writers)}_over_{min(writers)}"
        L.append(f"| {max(writers)} writers over {min(writers)} | {cell(summ(ra, m, PLAIN), 'x')} | "
                 f"{cell(summ(ra, m, PG), 'x')} | | — | — |")
    b = r.get("bytes_per_event", {})
    L.append(f"| bytes per event (relations with indexes, after load and VACUUM) | {num(b.get(PLAIN))} | {num(b.get(PG))} | "
             f"{num(b[PLAIN] / b[PG] if b.get(PG) and b.get(PLAIN) else None, 'x')} | | |")
    L.append("")
    s = r.get("setup", {})
    L.append(f"- setup: `copy_to` of the {s.get('head_size', 0):,}-event fixture into PostgreSQL {s.get('copy_seconds', 0):.1f} s; "
             f"plain rows loaded in {s.get('plain_load_seconds', 0):.1f} s; VACUUM (ANALYZE) of both schemas"
             + (" and CHECKPOINT" if s.get("checkpoint") else "") + f" {s.get('vacuum_analyze_checkpoint_seconds', 0):.1f} s")
    cs = r.get("consenting_subjects", {})
    L.append(f"- consenting returned {cs.get(PG, 0):,} subjects (PostgreSQL ledger), {cs.get(LITE, 0):,} (SQLite ledger), "
             f"{cs.get(PLAIN, 0):,} (feed scan)")
    d = r.get("durable", {})
    L.append("- durable commits, median / p99 / max (ms): " + "; ".join(
        f"{label} {d[side]['commit_us_median'] / 1000:.2f} / {d[side]['commit_us_p99'] / 1000:.2f} / {d[side]['commit_us_max'] / 1000:.1f}"
        for side, label in ((PLAIN, "plain"), (PG, "PostgreSQL ledger"), (LITE, "SQLite ledger")) if side in d))
    a = r.get("appended", {})
    if a:
        bw = a.get("by_writers", {})
        L.append(f"- every acknowledged append was found stored afterwards (checked by the harness): "
                 f"{bw.get(PG, 0):,} by the ledger's writers, {bw.get(PLAIN, 0):,} by plain writers")
    L.append(f"- the process took {r.get('seconds', 0):.0f} s, peak RSS {r.get('peak_rss_kib', 0) / 1024:.0f} MiB")
    L.extend(statements_lines(r.get("statements", {})))
    return L


def statements_lines(st):
    if not st:
        return []
    if not st.get("available"):
        return [f"- statements per operation: not counted ({st.get('why', 'pg_stat_statements not available')})"]
    L = ["", "Where the time goes (`pg_stat_statements` reset around each probe, after the rounds; CPU and run-queue "
         "times from `/proc/PID/schedstat` of this thread and of the server processes serving the connections; "
         "per operation):", "",
         "| operation | statements (round trips) | server execution (ms) | server CPU (ms) | server waiting for a CPU (ms) | client CPU (ms) | client waiting for a CPU (ms) | wall (ms) |",
         "|---|---|---|---|---|---|---|---|"]
    names = (("pg_ledger_durable", "ledger, durable append"), ("pg_plain_durable", "plain, durable INSERT"),
             ("pg_ledger_batched_event", "ledger, one event of a batch"), ("pg_plain_batched_event", "plain, one row of a batch"),
             ("pg_ledger_status", "ledger, status"), ("pg_ledger_consenting", "ledger, consenting"))
    for key, label in names:
        p = st.get(key)
        if not p:
            continue
        L.append(f"| {label} | {p['statements_per_op']:.1f} | {num(p['server_exec_ms_per_op'])} | {num(p.get('server_cpu_ms_per_op'))} | "
                 f"{num(p.get('server_runqueue_ms_per_op'))} | {num(p.get('client_cpu_ms_per_op'))} | "
                 f"{num(p.get('client_runqueue_ms_per_op'))} | {num(p['wall_ms_per_op'])} |")
    p = st.get("pg_ledger_durable")
    if p and p.get("top"):
        L += ["", "The statements of one durable ledger append (calls per append, server execution ms per append):", ""]
        L += [f"- {t['per_op']:.2f} × `{t['query']}` ({t['exec_ms_per_op']:.3f} ms)" for t in p["top"]]
    return L


STRATEGY_NAMES = (
    ("advisory_lock", "advisory lock, READ COMMITTED (the ledger's)"),
    ("serializable", "SERIALIZABLE, `max(seq) + 1`"),
    ("serializable_counter", "SERIALIZABLE, single-row counter"),
)
SHORT = {"advisory_lock": "the lock", "serializable": "SERIALIZABLE", "serializable_counter": "the counter"}
SERIAL_RATIOS = {"serializable": "serializable_vs_lock", "serializable_counter": "serializable_counter_vs_lock"}


def serial_lines(r):
    """The subsection "Serialising appenders: advisory lock vs SERIALIZABLE"."""
    if not r:
        return []
    k, f, ra = r.get("knobs", {}), r.get("figures", {}), r.get("ratios", {})
    st = r.get("statements", {})
    shape = ""
    if st.get("available"):
        shape = " (" + ", ".join(f"{st[s]['statements_per_op']:.0f} with {'the lock' if s == 'advisory_lock' else 'SERIALIZABLE'}"
                                 for s in ("advisory_lock", "serializable") if s in st) + ", counted by `pg_stat_statements`)"
    L = ["", "#### Serialising appenders: advisory lock vs SERIALIZABLE", "",
         "`compare_pg serial` (the last part of `compare_pg run`): a model of one durable append's database work written "
         "with the `postgres` crate, in the statement shape the ledger sends" + shape + ": read `max(seq)`, the registry's "
         "growth, the last record time, the erasure marker, the `current` row and a sibling tree hash; insert the event "
         "row (the plain rows' columns, `seq` the primary key) at `max + 1`, two tree rows keyed by (level, idx) from seq, "
         "upsert the `current` row; commit each, `synchronous_commit=on`. SERIALIZABLE appends are rolled back and retried "
         "on 40001, 23505 and 40P01 until they commit; the counter variant takes seq from an `UPDATE … RETURNING` of one "
         f"row instead of `max(seq)`. Each strategy has its own schema, starting from the same {k.get('base', 0):,} "
         f"appends; {k.get('rounds', '?')} rounds; in each round each writer count runs each strategy for "
         f"{k.get('window_ms', 0) / 1000:g} s, in turns of {k.get('turn_ms', 0):,} ms with the other strategies (the first "
         "rotating), so that all see the disk in the same state, a connection per writer. A figure is the median of the rounds (min–max); "
         "latency is a committed append's, retries included (median and p99 of each round's appends, then the median "
         "of the rounds); a ratio is the median of the rounds' ratios of appends/s (higher: faster than the lock); server "
         "CPU is the time the server processes of the strategy's connections spent on a CPU (`/proc/PID/schedstat`) over "
         "its committed appends.",
         "",
         "| writers | strategy | committed appends/s | vs the lock | latency median / p99 (ms) | retries per committed append | server CPU per committed append (ms) |",
         "|---|---|---|---|---|---|---|"]
    for w in k.get("writers", []):
        for s, label in STRATEGY_NAMES:
            eps = summ(f, f"writers_{w}_eps", s)
            if not eps:
                continue
            ratio = cell(summ(ra, f"writers_{w}_eps", SERIAL_RATIOS[s]), "x") if s in SERIAL_RATIOS else "—"
            lat, p99 = summ(f, f"writers_{w}_latency_ms", s, "median"), summ(f, f"writers_{w}_p99_ms", s, "median")
            retries = summ(f, f"writers_{w}_retries_per_append", s)
            cpu = summ(f, f"writers_{w}_server_cpu_ms_per_append", s)
            L.append(f"| {w} | {label} | {cell(eps, 'rate')} | {ratio} | {num(lat)} / {num(p99)} | {cell(retries, 'time')} | "
                     f"{cell(cpu, 'time')} |")
    L.append("")
    ws = k.get("writers") or []
    if len(ws) > 1:
        m = f"writers_{max(ws)}_over_{min(ws)}"
        L.append(f"- {max(ws)} writers over {min(ws)} (appends/s, per-round ratios; issue 14 asks ≥ 1): " + "; ".join(
            f"{SHORT[s]} {cell(summ(ra, m, s), 'x')}" for s, _ in STRATEGY_NAMES if summ(ra, m, s)))
    rb = r.get("retries_by_code", {})
    committed = r.get("committed", {})
    L.append("- retries over the whole run, by SQLSTATE: " + "; ".join(
        f"{SHORT[s]} " + (", ".join(f"{n:,} × {code}" for code, n in rb.get(s, {}).items() if n) or "none")
        + f" for {committed.get(s, 0):,} appends" for s, _ in STRATEGY_NAMES if s in committed))
    worst = [(s, max((summ(f, f"writers_{w}_max_retries", s, "max") or 0) for w in k.get("writers", [])),
              max((summ(f, f"writers_{w}_max_ms", s, "max") or 0) for w in k.get("writers", [])))
             for s, _ in STRATEGY_NAMES if s in committed]
    L.append("- the worst single append: " + "; ".join(f"{SHORT[s]} {int(n)} retries, {num(ms)} ms" for s, n, ms in worst))
    checks = r.get("check", {})
    if checks:
        ok = all(c.get("ok") for c in checks.values())
        L.append(("- every log held exactly the seqs 0..n−1, no gap and no duplicate, n the base plus every "
                  "acknowledged append, two tree rows each (checked by the harness): "
                  if ok else "- **the check of the logs FAILED**: ")
                 + "; ".join(f"{SHORT.get(s, s)} {c.get('rows', 0):,}" for s, c in checks.items()))
    if st.get("available"):
        L.append("- one append on one connection (probe of 50): " + "; ".join(
            f"{SHORT[s]} {st[s]['statements_per_op']:.1f} statements, server execution {num(st[s]['server_exec_ms_per_op'])} ms, "
            f"wall {num(st[s]['wall_ms_per_op'])} ms" for s, _ in STRATEGY_NAMES if s in st))
    elif st:
        L.append(f"- statements per append: not counted ({st.get('why', 'pg_stat_statements not available')})")
    L.append(f"- this part took {r.get('seconds', 0):.0f} s (setup {r.get('setup_seconds', 0):.1f} s)")
    return L


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        res, ser = parse(fh)
    lines, _ = section(res, None, serial=ser)
    print("\n".join(lines))
