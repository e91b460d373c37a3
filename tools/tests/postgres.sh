#!/usr/bin/env bash
# The PostgreSQL suite (`make test-postgres`), run by pg-cluster.sh against a throwaway
# server (or the one CONSENT_TEST_PG_URL names):
#   - the core suite that is not about SQLite files, on PostgreSQL: the same tests,
#     each ledger in a schema of its own (CONSENT_TEST_BACKEND=postgres);
#   - the backend's own tests (consent-core/tests/postgres.rs): roles, many writers,
#     killed clients, planted triggers, erasure and the server's files;
#   - the CLI on PostgreSQL (consent-cli/tests/postgres.rs): `--ledger postgresql://…`,
#     `consent copy` between a file and a schema, `consent grants`;
#   - the C tests (consent-ffi/tests/run.sh with CONSENT_TEST_BACKEND=postgres, without
#     valgrind): the same tests, their ledgers in schemas, the parts about files
#     skipped with the reason printed;
#   - the Python tests (pytest in $VENV, with the wheel `make test-py` installed there):
#     the same tests, `file_only` ones skipped with their reason.
# Honours CARGO, CARGO_TARGET_DIR, PROPTEST_CASES (default 24 here: each case is a
# new schema), VENV (default .venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CARGO="${CARGO:-cargo}"
: "${CONSENT_TEST_PG_URL:?pg-cluster.sh sets CONSENT_TEST_PG_URL}"
export CONSENT_TEST_BACKEND=postgres
export PROPTEST_CASES="${PROPTEST_CASES:-24}"
cd "$ROOT"

# `--workspace`, as `make test-rust` builds: the same features, so nothing is rebuilt.
SHARED=(legal_answers model rules idempotency receipts receipt_attacks checkpoints witness status_cache attacks downstream report outcomes)
args=()
for t in "${SHARED[@]}"; do args+=(--test "$t"); done
echo "== the core suite on PostgreSQL (${SHARED[*]})"
"$CARGO" test --release --workspace "${args[@]}"
echo "== the PostgreSQL backend's own tests, and the CLI on PostgreSQL (tests/postgres.rs of consent-core and consent-cli)"
"$CARGO" test --release --workspace --test postgres -- --include-ignored
echo "== the C tests on PostgreSQL"
CONSENT_NO_VALGRIND=1 CARGO="$CARGO" bash consent-ffi/tests/run.sh
echo "== the Python tests on PostgreSQL"
VENV="${VENV:-$ROOT/.venv}"
if ! "$VENV/bin/python" -c 'import consent_ledger' 2>/dev/null; then
    echo "postgres.sh: consent_ledger is not installed in $VENV: run \`make test-py\` first" >&2
    exit 1
fi
(cd consent-py && "$VENV/bin/python" -m pytest -W error -p no:cacheprovider tests)
echo "PostgreSQL tests: all passed"
