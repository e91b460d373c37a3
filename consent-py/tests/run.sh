#!/usr/bin/env bash
# Python suite for consent-py, run by `make test-py` (which creates $VENV with
# consent-py/requirements-dev.txt first). Steps:
#   1. build the abi3 wheel (release) with maturin and install it into $VENV;
#   2. check that `pip install ./consent-py` works in a fresh, isolated venv and imports;
#   3. python -m mypy.stubtest consent_ledger._native, and mypy --strict on the package
#      and the examples;
#   4. pytest (strict: warnings are errors);
#   5. every examples/python/*.py script.
# Respects CARGO_TARGET_DIR (default: target/ of the workspace).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(dirname "$here")"
root="$(dirname "$crate")"
VENV="${VENV:-$root/.venv}"
py="$VENV/bin/python"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [[ ! -x "$py" ]]; then
    echo "run.sh: no venv at $VENV (run \`make test-py\`)" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

# A fresh venv without system site-packages: its interpreter also builds the wheel for
# $VENV, so both builds share one cargo cache (pyo3's build script keys on PYO3_PYTHON).
step "fresh venv for the install check"
"${PYTHON:-python3}" -m venv "$work/fresh"
fresh="$work/fresh/bin/python"

step "maturin build --release (abi3 wheel)"
"$VENV/bin/maturin" build --release --quiet -m "$crate/Cargo.toml" -i "$fresh" -o "$work/wheels"
wheel="$(ls "$work"/wheels/consent_ledger-*.whl)"
case "$wheel" in
    *abi3*) ;;
    *) echo "run.sh: $wheel is not an abi3 wheel" >&2; exit 1 ;;
esac
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$wheel"

step "pip install ./consent-py into the fresh venv (PEP 517, maturin from PyPI)"
"$fresh" -m pip install --quiet "$crate"
(cd "$work" && "$fresh" -c '
import consent_ledger as cl
with cl.Ledger.in_memory() as ledger:
    assert ledger.verify().ok
print("fresh venv: consent_ledger", cl.__version__, "imports from", cl.__file__)
')

# Run the checks from outside the source tree, so the installed wheel is imported.
cd "$work"

step "mypy.stubtest consent_ledger._native"
"$py" -m mypy.stubtest consent_ledger._native

step "mypy --strict (package and examples)"
site="$("$py" -c 'import consent_ledger, os; print(os.path.dirname(consent_ledger.__file__))')"
"$py" -m mypy --strict --no-incremental --python-version 3.9 "$site" "$root"/examples/python/*.py

step "pytest"
set +e
"$py" -m pytest -c "$crate/pyproject.toml" --rootdir "$crate" -W error -p no:cacheprovider "$here" "$@"
rc=$?
set -e
if [[ $rc -eq 5 ]]; then
    echo "run.sh: pytest collected no tests" >&2
    exit 1
elif [[ $rc -ne 0 ]]; then
    exit "$rc"
fi

step "examples/python"
for example in "$root"/examples/python/*.py; do
    echo "-- $example"
    (cd "$work" && "$py" -W error "$example")
done

echo
echo "consent-py: all Python checks passed"
