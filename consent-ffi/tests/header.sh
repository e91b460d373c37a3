#!/usr/bin/env bash
# Regenerates consent-ffi/include/consent.h with the pinned cbindgen.
#   header.sh write   rewrite the checked-in header
#   header.sh check   regenerate into a temp file; exit 1 if it differs from the checked-in one
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode="$(write_or_check "${1:-}")"

cbindgen="$(ensure_cbindgen)"
header="$FFI_DIR/include/consent.h"
generate() {
    (cd "$ROOT" && "$cbindgen" --quiet --config "$FFI_DIR/cbindgen.toml" --crate consent-ffi --output "$1" "$FFI_DIR")
}

if [[ "$mode" == write ]]; then
    mkdir -p "$(dirname "$header")"
    generate "$header"
    echo "wrote $header"
else
    tmp="$(mktemp)"
    trap 'rm -f "$tmp"' EXIT
    generate "$tmp"
    if ! diff -u "$header" "$tmp"; then
        echo "consent.h is out of date: run \`make header\` and commit the result" >&2
        exit 1
    fi
    echo "consent.h is up to date"
fi
