#!/usr/bin/env bash
# Comparison harness (`make bench-compare`). For each ledger size:
#   - `compare run N`: consent-ledger from Rust and, beside each operation, its storage
#     limit (plain rusqlite rows of the same width, a plain point query, a raw scan,
#     SHA-256 of the same canonical bytes), interleaved in ONE process, in rounds
#     (medians, min-max); durable appends by total time including the WAL checkpoints
#     (counted on both sides); bytes per event of both files;
#   - the same questions through the C ABI (libconsent + consent.h) and from Python
#     (consent_ledger in the venv), each in its own process; both print "not available"
#     when they cannot be built or imported;
#   - (2) what welfare scripts do today: Python sqlite3, one mutable row per student
#     and purpose, updated in place.
# Then `compare growth A B` (100k -> 1M when both are measured) interleaves the two
# sizes in one process. The machine is described as read from the system during the
# run. The report ends with the issue-12 targets, met or MISSED. Then, unless
# CONSENT_BENCH_PG=0, `compare_pg run N...` under tools/tests/pg-cluster.sh (a throwaway
# PostgreSQL cluster, or the server in CONSENT_TEST_PG_URL): the PostgreSQL ledger vs
# plain PostgreSQL inserts and point queries vs the SQLite ledger, interleaved in one
# process, with 1, 2, 4 and 8 concurrent writers, and the issue-14 targets; last, how
# to serialise appenders (`compare_pg serial`: an advisory lock vs SERIALIZABLE with
# retries, on a model of one append's statements). The report is also written to
# target-bench/compare-results.md (+ .jsonl).
#
# Knobs (environment):
#   CONSENT_BENCH_SIZES   comma-separated ledger sizes (default 10000,100000,1000000)
#   CONSENT_BENCH_10M=1   add 10 million (building that fixture takes a long time)
#   CONSENT_BENCH_ROUNDS  rounds of every measurement (default 5)
#   CONSENT_BENCH_DURABLE durable single appends per side per round (default 400)
#   CONSENT_BENCH_BATCHES batches of 1000 per side per round (default 2)
#   CONSENT_BENCH_VERIFY_ROUNDS rounds of verify (default 3)
#   CARGO_TARGET_DIR      default <repo>/target-bench
#   CONSENT_BENCH_DIR     fixture cache (default <repo>/target-bench/fixtures, shared with cargo bench)
#   VENV                  venv with consent_ledger (default <repo>/.venv)
#   CONSENT_BENCH_PG      0 skips the PostgreSQL part (default on)
#   CONSENT_BENCH_PG_SIZES  its sizes (default 10000,100000)
#   CONSENT_BENCH_PG_WINDOW_MS  how long each writer count runs per side (or strategy) and round (default 2000)
#   CONSENT_BENCH_PG_WRITERS    the writer counts (default 1,2,4,8)
#   CONSENT_BENCH_PG_SERIAL     0 skips the serialisation strategies (default on)
#   CONSENT_BENCH_PG_SERIAL_BASE  appends each strategy's log starts with (default 10000)
#   CONSENT_BENCH_PG_SERIAL_TURN_MS  the strategies take turns of this long within a window (default 250)
#   CONSENT_TEST_PG_URL   an existing server (superuser) instead of a throwaway cluster; its
#                         statements are counted only if it loads pg_stat_statements
#   PG_CLUSTER_OPTIONS    server options of the throwaway cluster (default: load
#                         pg_stat_statements, to count statements per operation)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-bench}"
export CONSENT_BENCH_DIR="${CONSENT_BENCH_DIR:-$ROOT/target-bench/fixtures}"
mkdir -p "$CONSENT_BENCH_DIR"
SIZES="${CONSENT_BENCH_SIZES:-10000,100000,1000000}"
if [[ "${CONSENT_BENCH_10M:-}" == 1 ]]; then SIZES="$SIZES,10000000"; fi
VENV="${VENV:-$ROOT/.venv}"
CARGO="${CARGO:-cargo}"
PYTHON="${PYTHON:-python3}"

echo "== building the Rust harness (release)" >&2
$CARGO build --release -p consent-benches --bin compare --bin compare_pg >&2

PG_ARGS=(--pg-why "CONSENT_BENCH_PG=0")
if [[ "${CONSENT_BENCH_PG:-1}" != 0 ]]; then
    export PG_CLUSTER_OPTIONS="${PG_CLUSTER_OPTIONS--c shared_preload_libraries=pg_stat_statements}"
    PG_ARGS=(--pg-bin "$CARGO_TARGET_DIR/release/compare_pg" --pg-cluster "$ROOT/tools/tests/pg-cluster.sh"
        --pg-sizes "${CONSENT_BENCH_PG_SIZES:-10000,100000}")
fi

# The C ABI: libconsent.so from consent-ffi, a small C program against consent.h.
C_BIN="" C_WHY=""
HEADER="$ROOT/consent-ffi/include/consent.h"
if [[ ! -f "$HEADER" ]]; then
    C_WHY="consent-ffi/include/consent.h not found"
elif ! $CARGO build --release -p consent-ffi >&2; then
    C_WHY="cargo build -p consent-ffi failed"
elif [[ ! -f "$CARGO_TARGET_DIR/release/libconsent.so" ]]; then
    C_WHY="libconsent.so not built"
else
    STATUS_FN=consent_status STATUS_AT_FN=consent_status_at
    if grep -q 'consent_status_get(' "$HEADER"; then STATUS_FN=consent_status_get; fi
    if grep -q 'consent_status_get_at(' "$HEADER"; then STATUS_AT_FN=consent_status_get_at; fi
    if grep -q 'consent_get_status(' "$HEADER"; then STATUS_FN=consent_get_status; fi
    if grep -q 'consent_get_status_at(' "$HEADER"; then STATUS_AT_FN=consent_get_status_at; fi
    C_BIN="$CARGO_TARGET_DIR/bench_consent"
    # The library under its SONAME, which the program asks the loader for.
    C_LIB="$CARGO_TARGET_DIR/bench-lib"
    (source "$ROOT/consent-ffi/tests/common.sh" && link_built_library "$CARGO_TARGET_DIR/release" "$C_LIB")
    if ! ${CC:-cc} -O2 -std=c11 -Wall -Wextra -DSTATUS_FN="$STATUS_FN" -DSTATUS_AT_FN="$STATUS_AT_FN" \
        -I "$ROOT/consent-ffi/include" benches/c/bench_consent.c -o "$C_BIN" \
        -L "$C_LIB" -lconsent -Wl,-rpath,"$C_LIB" >&2; then
        C_BIN="" C_WHY="benches/c/bench_consent.c does not compile against the current consent.h"
    fi
fi

# Python: the venv's interpreter, if it can import consent_ledger.
PY_BIN="" PY_WHY=""
if [[ ! -x "$VENV/bin/python" ]]; then
    PY_WHY="no venv at $VENV (make develop)"
elif ! "$VENV/bin/python" -c 'import consent_ledger' 2>/dev/null; then
    PY_WHY="consent_ledger does not import in $VENV (make develop)"
else
    PY_BIN="$VENV/bin/python"
fi

exec "$PYTHON" benches/py/compare.py \
    --sizes "$SIZES" \
    --fixtures "$CONSENT_BENCH_DIR" \
    --compare-bin "$CARGO_TARGET_DIR/release/compare" \
    --c-bin "$C_BIN" --c-why "$C_WHY" \
    --py "$PY_BIN" --py-why "$PY_WHY" \
    --welfare-py "$PYTHON" \
    --rustc "${RUSTC:-rustc}" \
    --out "$CARGO_TARGET_DIR/compare-results.md" \
    "${PG_ARGS[@]}"
