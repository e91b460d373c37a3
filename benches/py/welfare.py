"""What student-welfare scripts do today: one mutable `consents` row per student and
purpose (and recipient), updated in place with Python's sqlite3 module.

    python3 welfare.py N FIXTURE_DIR STREAM_FILE QUERY_FILE [--build]

Builds (once, cached) the table by replaying the same event stream the ledger holds
(STREAM_FILE, written by `compare fixtures N`), then measures on a copy: open,
a status point query, "everyone who consented" for jmsu.data-sharing, a durable
single update (WAL, synchronous=FULL, one commit per update) and batched updates
(1000 per commit). Prints one JSON object.

It cannot answer "as of T" (history is overwritten) and has no integrity check.
"""

import json
import os
import shutil
import sqlite3
import statistics
import sys
import time

SCHEMA = """
CREATE TABLE consents(
    student TEXT NOT NULL, purpose TEXT NOT NULL, recipient TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL, effective_at INTEGER NOT NULL, expires_at INTEGER,
    notice TEXT, method TEXT, recorded_by TEXT, updated_at INTEGER NOT NULL,
    PRIMARY KEY(student, purpose, recipient));
CREATE INDEX consents_by_purpose ON consents(purpose, state);
"""

UPSERT = """
INSERT INTO consents(student, purpose, recipient, state, effective_at, expires_at, notice, method, recorded_by, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(student, purpose, recipient) DO UPDATE SET
    state = excluded.state, effective_at = excluded.effective_at, expires_at = excluded.expires_at,
    notice = excluded.notice, method = excluded.method, recorded_by = excluded.recorded_by,
    updated_at = excluded.updated_at
"""

VERSION = 1


def connect(path):
    conn = sqlite3.connect(path, isolation_level=None)
    mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    assert mode == "wal", mode
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def row_of(line, now_ms):
    subject, purpose, recipient, kind, eff, exp, notice, method, by = line.rstrip("\n").split("\t")
    state = {"given": "given", "withdrawn": "withdrawn", "refused": "refused"}[kind]
    return (subject, purpose, recipient, state, int(eff), int(exp) if exp else None, notice, method, by, now_ms)


def build(n, fixtures, stream):
    stem = os.path.splitext(os.path.basename(stream))[0]
    path = os.path.join(fixtures, f"welfare-{n}.v{VERSION}.{stem}.db")
    if os.path.exists(path + ".done"):
        return path
    tmp = path + ".building"
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(tmp + ext):
            os.remove(tmp + ext)
    conn = connect(tmp)
    conn.executescript(SCHEMA)
    now = int(time.time() * 1000)
    with open(stream) as f:
        batch = []
        for line in f:
            batch.append(row_of(line, now))
            if len(batch) == 50_000:
                conn.execute("BEGIN")
                conn.executemany(UPSERT, batch)
                conn.execute("COMMIT")
                batch = []
        if batch:
            conn.execute("BEGIN")
            conn.executemany(UPSERT, batch)
            conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.replace(tmp, path)
    open(path + ".done", "w").close()
    return path


def status(conn, student, purpose, recipient, now_ms):
    """The welfare script's check: the row, with expiry applied."""
    row = conn.execute(
        "SELECT state, expires_at FROM consents WHERE student = ? AND purpose = ? AND recipient IN (?, '') "
        "ORDER BY recipient DESC LIMIT 1",
        (student, purpose, recipient or ""),
    ).fetchone()
    if row is None:
        return "never_asked"
    state, expires = row
    if state == "given" and expires is not None and expires <= now_ms:
        return "expired"
    return state


def main():
    n = int(sys.argv[1])
    fixtures = sys.argv[2]
    stream, query_file = sys.argv[3], sys.argv[4]
    src = build(n, fixtures, stream)
    if sys.argv[5:] == ["--build"]:
        return
    work = os.path.join(fixtures, f"work-welfare-{n}.db")
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(work + ext):
            os.remove(work + ext)
    shutil.copyfile(src, work)
    with open(query_file) as f:
        queries = [tuple(line.rstrip("\n").split("\t")) for line in f]

    opens = []
    for _ in range(20):
        t = time.perf_counter_ns()
        c = connect(work)
        c.execute("SELECT count(*) FROM sqlite_master").fetchone()
        c.close()
        opens.append((time.perf_counter_ns() - t) / 1e3)

    conn = connect(work)
    now = int(time.time() * 1000)
    st = []
    for s, p, r in queries:
        t = time.perf_counter_ns()
        status(conn, s, p, r, now)
        st.append((time.perf_counter_ns() - t) / 1e3)

    cons = []
    population = 0
    for _ in range(5):
        t = time.perf_counter_ns()
        rows = conn.execute(
            "SELECT student FROM consents WHERE purpose = 'jmsu.data-sharing' AND recipient = '' AND state = 'given' "
            "AND (expires_at IS NULL OR expires_at > ?) ORDER BY student",
            (now,),
        ).fetchall()
        cons.append((time.perf_counter_ns() - t) / 1e6)
        population = len(rows)

    with open(stream) as f:
        lines = [line for _, line in zip(range(6_000), f)]
    durable = []
    started = time.perf_counter()
    for line in lines[:200]:
        t = time.perf_counter_ns()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(UPSERT, row_of(line, now))
        conn.execute("COMMIT")
        durable.append((time.perf_counter_ns() - t) / 1e3)
        if time.perf_counter() - started > 10:
            break
    batches = []
    for b in range(5):
        chunk = lines[200 + b * 1000 : 200 + (b + 1) * 1000]
        t = time.perf_counter_ns()
        conn.execute("BEGIN IMMEDIATE")
        for line in chunk:
            conn.execute(UPSERT, row_of(line, now))
        conn.execute("COMMIT")
        batches.append(len(chunk) / ((time.perf_counter_ns() - t) / 1e9))
    conn.close()
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(work + ext):
            os.remove(work + ext)
    print(
        json.dumps(
            {
                "impl": "welfare",
                "n": n,
                "open_us": statistics.median(opens),
                "status_us": statistics.median(st),
                "status_at_us": None,
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
