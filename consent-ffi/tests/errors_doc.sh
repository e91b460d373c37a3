#!/usr/bin/env bash
# Every function of consent.h says which errors it returns: its doc comment has an
# "Errors:" line (the common ones are in the header's rules, "Rules of the ABI").
# Run by tests/run.sh; exits 1 and names each function whose doc lacks the line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

awk '
    /^\/\// { doc = doc "\n" $0; next }
    /^[a-z].*consent_[a-z_0-9]+\(/ {
        match($0, /consent_[a-z_0-9]+\(/); name = substr($0, RSTART, RLENGTH - 1)
        n++
        if (doc !~ /\n\/\/ Errors: /) { print "no \"Errors:\" line in the doc of " name; bad++ }
    }
    !/^\/\// { doc = "" }
    END {
        if (n == 0) { print "no function found in consent.h"; exit 1 }
        if (bad) { print bad " of " n " functions say nothing of their errors"; exit 1 }
        print "every one of the " n " functions of consent.h says which errors it returns"
    }
' "$FFI_DIR/include/consent.h"
