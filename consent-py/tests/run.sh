#!/usr/bin/env bash
# Python suite for consent-py, run by `make test-py` (which creates $VENV with
# consent-py/requirements-dev.txt first). Steps:
#   1. build the wheel that is published (tests/wheel.sh: abi3, manylinux_2_17 through
#      zig, stripped), check what an index and a packager would (tests/check_wheel.py:
#      the tag `auditwheel show` agrees with, licence files in .dist-info, no debug
#      info) and install it into $VENV: the rest of the suite tests that wheel;
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
mkdir -p "${CARGO_TARGET_DIR:-$root/target}"
CARGO_TARGET_DIR="$(cd "${CARGO_TARGET_DIR:-$root/target}" && pwd)"
export CARGO_TARGET_DIR
# The workspace's release profile keeps line tables (debug = 1); the test wheel does not
# need them, and a build without is markedly faster on a small machine.
export CARGO_PROFILE_RELEASE_DEBUG="${CARGO_PROFILE_RELEASE_DEBUG:-0}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

if [[ ! -x "$py" ]]; then
    echo "run.sh: no venv at $VENV (run \`make test-py\`)" >&2
    exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

started=$SECONDS
step() { printf '\n== [%3ds] %s\n' "$((SECONDS - started))" "$*"; }

# A fresh venv without system site-packages for the install check. Its interpreter also
# builds the published wheel, and it lives at a fixed path: pyo3's build script keys on
# the interpreter path, so both builds (and later runs) share one cargo cache.
step "fresh venv for the install check"
fresh_venv="$CARGO_TARGET_DIR/consent-py-fresh-venv"
"${PYTHON:-python3}" -m venv --clear --without-pip "$fresh_venv"
fresh="$fresh_venv/bin/python"

step "the published wheel (tests/wheel.sh: maturin --zig, manylinux_2_17), checked"
bash "$here/wheel.sh" "$work/wheels" "$fresh"
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$work"/wheels/consent_ledger-*.whl

# A source install as a user without zig makes it: linked by the system's cc (cargo's
# host folder; the published wheel's build is in the zig target's folder), tagged
# `linux_*` (maturin's PEP 517 backend turns the manylinux audit off): fine for a local
# install, refused by an index, which gets what `make wheel` builds.
# With the workspace's own release profile (line tables kept), so that it reuses what
# `make test-rust` built in the same folder instead of building every dependency again.
step "pip install ./consent-py into the fresh venv (PEP 517, maturin from PyPI)"
env -u CARGO_PROFILE_RELEASE_DEBUG "$VENV/bin/pip" --python "$fresh" install --quiet "$crate"
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

step "mypy --strict (package sources and examples)"
(cd "$crate/python" && "$py" -m mypy --strict --no-incremental --cache-dir "$work/mypy-cache" \
    consent_ledger "$root"/examples/python/*.py)

step "pytest"
set +e
(cd "$crate" && "$py" -m pytest -W error -p no:cacheprovider tests "$@")
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
echo "consent-py: all Python checks passed in $((SECONDS - started))s"
