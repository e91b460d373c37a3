#!/usr/bin/env bash
# The wheel of consent-py that is published, built by `make wheel` and by tests/run.sh
# (which then tests it), and checked by tests/check_wheel.py:
#   - abi3, one wheel for CPython 3.9 and later;
#   - manylinux_2_17 (glibc 2.17 on: RHEL 7 and later, every Debian and Ubuntu in
#     support): linked through zig (`ziglang` from PyPI, in requirements-dev.txt) against
#     that glibc's symbols, whatever this machine's glibc is. A plain `maturin build`
#     links against this machine's and gets its tag (manylinux_2_34 on Debian 12), which
#     pip refuses on RHEL 8 or Ubuntu 20.04;
#   - stripped, with the licence files and project URLs (consent-py/pyproject.toml).
# Usage: wheel.sh OUT_DIR [PYTHON]   (PYTHON: the interpreter pyo3 configures against)
# Respects CARGO_TARGET_DIR (default: target/ of the workspace); zig's output goes to its
# x86_64-unknown-linux-gnu/ folder.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
crate="$(dirname "$here")"
root="$(dirname "$crate")"
VENV="${VENV:-$root/.venv}"
args=(--zig --compatibility manylinux_2_17)

if [[ $# -lt 1 || ! -x "$VENV/bin/maturin" ]]; then
    echo "usage: wheel.sh OUT_DIR [PYTHON], with maturin and ziglang in \$VENV ($VENV): make wheel" >&2
    exit 2
fi
out="$1"
interpreter="${2:-$VENV/bin/python}"
# The release profile keeps line tables (debug = 1) that stripping throws away; building
# without them is markedly faster on a small machine.
export CARGO_PROFILE_RELEASE_DEBUG="${CARGO_PROFILE_RELEASE_DEBUG:-0}"

mkdir -p "$out"
rm -f "$out"/consent_ledger-*.whl
# maturin runs zig as `python3 -m ziglang` with the python3 found on PATH: the venv's.
PATH="$VENV/bin:$PATH" "$VENV/bin/maturin" build --release --quiet "${args[@]}" \
    -m "$crate/Cargo.toml" -i "$interpreter" -o "$out"
"$VENV/bin/python" "$here/check_wheel.py" "$out"/consent_ledger-*.whl
