#!/usr/bin/env bash
# The browser tests (`make test-browser`): headless Chromium from Debian's `chromium`
# package, installed here when missing (as root, or through sudo), then the standalone
# receipt verifier driven with real receipts, and the DPO's report of a known ledger.
# Artifacts (screenshots, the report and its printed PDF) go to target/browser/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
CARGO="${CARGO:-cargo}"

if ! command -v chromium >/dev/null 2>&1; then
    echo "== installing Debian's chromium (headless browser for the page tests)"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
            echo "test-browser: chromium is missing and this user cannot install it (apt-get install chromium as root)" >&2
            exit 1
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
chromium --version 2>/dev/null | head -n 1 || true

echo "== building the consent CLI (release)"
$CARGO build --release -q -p consent-cli
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
python3 tools/tests/receipt_verifier_browser.py "$TARGET/release/consent" "$ROOT/target/browser"
python3 tools/tests/report_browser.py "$TARGET/release/consent" "$ROOT/target/browser"
