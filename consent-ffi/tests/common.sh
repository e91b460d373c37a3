# Shared by header.sh, run.sh and install.sh: paths and the pinned cbindgen.
# shellcheck shell=bash
FFI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$FFI_DIR/.." && pwd)"
CARGO="${CARGO:-cargo}"
CBINDGEN_VERSION="0.29.4"
# Project-local tool root (gitignored): a fresh machine installs cbindgen here once.
TOOLS_ROOT="${CONSENT_TOOLS_ROOT:-$FFI_DIR/.tools}"

# Prints the path of cbindgen $CBINDGEN_VERSION, installing it first if needed.
ensure_cbindgen() {
    local bin="$TOOLS_ROOT/bin/cbindgen"
    if [[ -x "$bin" ]] && [[ "$("$bin" --version 2>/dev/null)" == "cbindgen $CBINDGEN_VERSION" ]]; then
        echo "$bin"
        return
    fi
    echo "installing cbindgen $CBINDGEN_VERSION into $TOOLS_ROOT" >&2
    "$CARGO" install cbindgen --version "$CBINDGEN_VERSION" --locked --root "$TOOLS_ROOT" >&2
    echo "$bin"
}

# The target directory cargo builds into (respects CARGO_TARGET_DIR).
target_dir() {
    local dir="${CARGO_TARGET_DIR:-$ROOT/target}"
    case "$dir" in
        /*) echo "$dir" ;;
        *) echo "$ROOT/$dir" ;;
    esac
}
