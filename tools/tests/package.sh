#!/usr/bin/env bash
# `cargo package` for every crate meant for crates.io (every workspace member without
# `publish = false`), failing on any warning: metadata crates.io wants, a licence or
# readme file not shipped, a dependency without a version. Run by `make lint`.
#
# --no-verify: verifying would compile each crate and every dependency again, from the
# .crate files and in the dev profile (minutes, and the release builds of `make test`
# are no help). What it would catch is a file a crate reads from outside its folder
# (`include_str!("../../...")`): none does, and `make test-rust` builds the same sources.
# Crates that depend on each other are packaged together, against a local registry
# cargo makes of the others' .crate files (as cargo 1.95 does), so no crate needs to be
# on crates.io first.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CARGO="${CARGO:-cargo}"
PYTHON="${PYTHON:-python3}"

mapfile -t publishable < <("$CARGO" metadata --no-deps --format-version 1 | "$PYTHON" -c '
import json, sys
meta = json.load(sys.stdin)
members = set(meta["workspace_members"])
for package in meta["packages"]:
    if package["id"] in members and package["publish"] != []:
        print(package["name"])')
if [[ ${#publishable[@]} -eq 0 ]]; then
    echo "package.sh: no publishable crate found" >&2
    exit 1
fi

args=()
for name in "${publishable[@]}"; do args+=(-p "$name"); done
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$CARGO" package --no-verify --allow-dirty "${args[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    echo "cargo package failed" >&2
    exit 1
fi
if grep -qi '^warning' "$log"; then
    cat "$log" >&2
    echo "cargo package warned (above): crates.io would show or refuse it" >&2
    exit 1
fi
echo "cargo package: ${publishable[*]} packaged without a warning"
