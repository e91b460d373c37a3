#!/usr/bin/env bash
# Long runs of the reliability suite: the same tests as `make test`, with the counts
# raised. `make soak` calls this. Override any count from the environment, e.g.
#   CONSENT_SOAK_ROUNDS=1000 reliability/soak.sh
# A failing run prints its seed; rerun with CONSENT_SOAK_SEED=<seed> to repeat it.
set -euo pipefail
cd "$(dirname "$0")/.."

export CONSENT_SOAK_ROUNDS="${CONSENT_SOAK_ROUNDS:-300}"    # crash rounds (make test: 20)
export CONSENT_SOAK_WRITERS="${CONSENT_SOAK_WRITERS:-4}"    # writer processes per round (3)
export CONSENT_SOAK_TAMPER="${CONSENT_SOAK_TAMPER:-6}"      # rows per column and mutation (1)
export CONSENT_SOAK_CASES="${CONSENT_SOAK_CASES:-20000}"    # cases per bad-input property (256)
CARGO="${CARGO:-cargo}"

echo "soak: rounds=$CONSENT_SOAK_ROUNDS writers=$CONSENT_SOAK_WRITERS tamper=$CONSENT_SOAK_TAMPER cases=$CONSENT_SOAK_CASES"
start=$(date +%s)
# One test binary at a time and one test at a time: the figures print in order.
log="$(mktemp -t consent-soak.XXXXXX)"
status=0
"$CARGO" test --release -p consent-reliability -- --nocapture --test-threads=1 >"$log" 2>&1 || status=$?
grep -E '^(crash test|tamper matrix|  [a-z]|bad input|bad files|full disk|erasure|error messages|read-only|test result|test .* FAILED|thread .* panicked)' "$log" || true
echo "soak: full output in $log"
echo "soak: finished in $(( $(date +%s) - start )) s, exit status $status"
echo "soak: core bugs still open (ignored tests, expected to fail until fixed):"
"$CARGO" test --release -p consent-reliability --test core_bugs -- --ignored 2>&1 | grep -E '^test ' || true
exit "$status"
