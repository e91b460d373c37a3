#!/usr/bin/env bash
# Long runs of the reliability suite: the same tests as `make test`, with the counts
# raised. `make soak` calls this. Override any count from the environment, e.g.
#   CONSENT_SOAK_ROUNDS=1000 reliability/soak.sh
# A failing run prints its seed; rerun with CONSENT_SOAK_SEED=<seed> to repeat it.
#
# The exit status is non-zero when cargo fails, when any test fails, and when a test
# file of reliability/tests ran no test (a run that checked nothing is no pass).
set -euo pipefail
cd "$(dirname "$0")/.."

export CONSENT_SOAK_ROUNDS="${CONSENT_SOAK_ROUNDS:-300}"    # crash rounds (make test: 20)
export CONSENT_SOAK_WRITERS="${CONSENT_SOAK_WRITERS:-4}"    # writer processes per round (3)
export CONSENT_SOAK_TAMPER="${CONSENT_SOAK_TAMPER:-6}"      # rows per column and mutation (1)
export CONSENT_SOAK_CASES="${CONSENT_SOAK_CASES:-20000}"    # cases per bad-input property (256)
CARGO="${CARGO:-cargo}"

# Reads cargo test output on stdin; prints one line per test binary:
# `NAME PASSED FAILED`, NAME as cargo names it (tests/crash.rs, src/lib.rs, doc-tests).
summaries() {
    awk '
        /^ *Running unittests / { bin = $3; next }
        /^ *Running /           { bin = $2; next }
        /^ *Doc-tests /         { bin = "doc-tests"; next }
        /^test result: / {
            passed = failed = 0
            for (i = 1; i < NF; i++) {
                if ($(i + 1) ~ /^passed/) passed = $i
                if ($(i + 1) ~ /^failed/) failed = $i
            }
            print bin, passed, failed
        }'
}

echo "soak: rounds=$CONSENT_SOAK_ROUNDS writers=$CONSENT_SOAK_WRITERS tamper=$CONSENT_SOAK_TAMPER cases=$CONSENT_SOAK_CASES"
start=$(date +%s)
# One test binary at a time and one test at a time: the figures print in order.
log="$(mktemp -t consent-soak.XXXXXX)"
status=0
"$CARGO" test --release -p consent-reliability -- --nocapture --test-threads=1 >"$log" 2>&1 || status=$?
# The figures (display only: finding none is not an error in itself, see below); the
# tamper cases not made are listed in the full output.
grep -E '^(crash test|tamper matrix|  [a-z]|bad input|bad files|full disk|erasure|error messages|read-only|test result|test .* FAILED|thread .* panicked)' "$log" |
    grep -v '^  not made: ' || true
echo "soak: full output in $log"
echo "soak: finished in $(( $(date +%s) - start )) s, cargo exit status $status"

# Every test file must have run and passed at least one test; a zero exit status
# alone does not say that (a filter, or a file dropped from the build, runs nothing).
results="$(summaries <"$log")"
passed=0
failed=0
while read -r _ p f; do
    [ -n "$p" ] || continue
    passed=$((passed + p))
    failed=$((failed + f))
done <<<"$results"
problems=()
for file in reliability/tests/*.rs; do
    name="tests/$(basename "$file")"
    p="$(awk -v n="$name" '$1 == n { print $2; found = 1 } END { if (!found) print "" }' <<<"$results")"
    if [ -z "$p" ]; then
        problems+=("$name did not run")
    elif [ "$p" -eq 0 ]; then
        problems+=("$name ran no test")
    fi
done
[ "$passed" -gt 0 ] || problems+=("no test passed")
[ "$failed" -eq 0 ] || problems+=("$failed tests failed")
[ "$status" -eq 0 ] || problems+=("cargo test exited with status $status")
echo "soak: $passed tests passed, $failed failed, in $(grep -c . <<<"$results" || true) test binaries"

# Open core bugs are ignored tests, expected to fail until fixed: their failures are
# listed, not counted. The binary must still build and run.
echo "soak: core bugs still open (ignored tests in tests/core_bugs.rs, expected to fail until fixed):"
ignored_log="$(mktemp -t consent-soak-bugs.XXXXXX)"
"$CARGO" test --release -p consent-reliability --test core_bugs -- --ignored >"$ignored_log" 2>&1 || true
if ! grep -q '^test result: ' "$ignored_log"; then
    problems+=("the core-bug tests did not run (see $ignored_log)")
elif grep -qE '^test .* \.\.\. ' "$ignored_log"; then
    grep -E '^test .* \.\.\. ' "$ignored_log" | sed 's/ \.\.\. ok$/ ... ok (fixed? remove its #[ignore])/'
else
    echo "  none"
fi

if [ "${#problems[@]}" -gt 0 ]; then
    printf 'soak: FAILED: %s\n' "${problems[@]}"
    exit 1
fi
echo "soak: ok"
