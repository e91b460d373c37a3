#!/usr/bin/env bash
# The ABI snapshot of libconsent (consent.h, "Growing the ABI"): the SONAME, the
# prototype of every function (parameter types, not names), the value of every constant
# and enumerator of consent.h, and the size, alignment and field offsets of every public
# struct, as a C compiler lays them out; the functions must be the ones the shared
# library exports. `tests/abi/libconsent.abi` holds the snapshot of the ABI as
# released; `check` fails when the library differs from it, and says whether the
# change breaks programs built against the snapshot (then the SONAME must change first)
# or only adds to it.
#   abi.sh write   rewrite the snapshot (`make abi-snapshot`)
#   abi.sh check   compare with the snapshot (tests/run.sh)
# Honours CARGO, CARGO_TARGET_DIR and CC; expects libconsent built (run.sh builds it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mode="$(write_or_check "${1:-}")"

header="$FFI_DIR/include/consent.h"
snapshot="$FFI_DIR/tests/abi/libconsent.abi"
library="$(target_dir)/release/libconsent.so"
# The structs the library allocates and the caller only reads through a pointer: these
# may grow at the end within a SONAME. Every other struct is the caller's to allocate
# (or an array element, whose size the caller's indexing bakes in) and never changes.
GROWABLE=" consent_feed_page consent_history_page "
[[ -f "$library" ]] || { echo "$library not built (cargo build --release -p consent-ffi)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A C program that prints the layout, written from the header's own declarations, so a
# new struct, field or constant is in the snapshot without anyone listing it.
awk '
    /^typedef struct consent_[a-z_]* \{$/ { name = $3; print "  printf(\"struct %s size %zu align %zu\\n\", \"" name "\", sizeof(" name "), _Alignof(" name "));"; in_struct = 1; next }
    in_struct && /^\}/ { in_struct = 0; next }
    in_struct && /;$/ && !/^ *\/\// {
        line = $0
        if (match(line, /\(\*[a-z_0-9]+\)/)) { field = substr(line, RSTART + 2, RLENGTH - 3) }
        else { sub(/\[.*\]/, "", line); sub(/;$/, "", line); n = split(line, words, /[ *]+/); field = words[n] }
        print "  printf(\"field %s.%s offset %zu size %zu\\n\", \"" name "\", \"" field "\", offsetof(" name ", " field "), sizeof(((" name " *)0)->" field "));"
        next
    }
    /^#define CONSENT_[A-Z0-9_]+ / && $2 != "CONSENT_H" && $2 != "CONSENT_SONAME" && $2 !~ /^CONSENT_VERSION_/ { print "  value(\"constant\", \"" $2 "\", (" $2 ") < 0, (long long)(" $2 "));"; next }
    /^  CONSENT_[A-Z0-9_]+ = / { v = $1; print "  value(\"enum\", \"" v "\", (" v ") < 0, (long long)(" v "));"; next }
' "$header" >"$work/body.c"
cat >"$work/layout.c" <<C
#include <stddef.h>
#include <stdio.h>
#include "consent.h"
static void value(const char *what, const char *name, int negative, long long v) {
    if (negative) printf("%s %s %lld\n", what, name, v);
    else printf("%s %s %llu\n", what, name, (unsigned long long)v);
}
int main(void) {
$(cat "$work/body.c")
  return 0;
}
C
"${CC:-cc}" -std=c11 -w -I"$FFI_DIR/include" "$work/layout.c" -o "$work/layout"

# Every function of consent.h, one line each, without its parameter names:
# "function NAME RETURN(TYPE, TYPE, ...)".
awk '
    /^[a-z].*consent_[a-z_0-9]+\(/ { buf = ""; collecting = 1 }
    collecting {
        buf = buf " " $0
        if ($0 !~ /\);$/) next
        collecting = 0
        gsub(/[ \t]+/, " ", buf); sub(/^ /, "", buf)
        open = index(buf, "(")
        head = substr(buf, 1, open - 1); params = substr(buf, open + 1); sub(/\);$/, "", params)
        match(head, /consent_[a-z_0-9]+$/); name = substr(head, RSTART); ret = substr(head, 1, RSTART - 1); sub(/ $/, "", ret)
        n = split(params, p, ","); out = ""
        for (i = 1; i <= n; i++) {
            t = p[i]; sub(/^ /, "", t); sub(/ $/, "", t)
            if (t != "void") { sub(/[A-Za-z_][A-Za-z_0-9]*$/, "", t); sub(/ $/, "", t) }
            out = out (i > 1 ? ", " : "") t
        }
        print "function " name " " ret "(" out ")"
    }
' "$header" | sort >"$work/functions"
if ! diff <(cut -d' ' -f2 "$work/functions") <(defined_globals --dyn-syms "$library") >"$work/unexported"; then
    echo "consent.h declares (<) or libconsent.so exports (>) other functions than the other:" >&2
    cat "$work/unexported" >&2
    exit 1
fi

{
    echo "# The ABI of libconsent as released: written by consent-ffi/tests/abi.sh (make abi-snapshot),"
    echo "# checked by make test-c. Rules: consent.h, \"Growing the ABI\"."
    echo "soname $(soname_of "$library")"
    cat "$work/functions"
    "$work/layout" | grep -v '^struct\|^field' | sort
    # Structs by name (each with its fields in order), so that the snapshot does not
    # depend on the order cbindgen writes the header in.
    "$work/layout" | grep '^struct\|^field' | awk '$1 == "struct" { s = $2 } { print s "\t" $0 }' |
        sort -s -t$'\t' -k1,1 | cut -f2-
} >"$work/now"

if [[ "$mode" == write ]]; then
    mkdir -p "$(dirname "$snapshot")"
    cp "$work/now" "$snapshot"
    echo "wrote $snapshot ($(grep -c '^function' "$snapshot") functions, $(grep -c '^struct' "$snapshot") structs)"
    exit 0
fi

[[ -f "$snapshot" ]] || { echo "no ABI snapshot $snapshot: make abi-snapshot" >&2; exit 1; }
if diff -u "$snapshot" "$work/now"; then
    echo "the ABI is the snapshot's ($(soname_of "$library"))"
    exit 0
fi
# What the differences mean for a program built against the snapshot.
awk -v growable="$GROWABLE" '
    FNR == 1 { file++ }
    /^#/ { next }
    file == 1 { old[$0] = 1; if ($1 == "struct") old_size[$2] = $4; if ($1 == "soname") old_soname = $2; next }
    { new[$0] = 1; if ($1 == "struct") new_size[$2] = $4; if ($1 == "soname") new_soname = $2 }
    END {
        if (old_soname != new_soname) {
            print "the SONAME is now " new_soname " (was " old_soname "): record its ABI with `make abi-snapshot`"
            exit
        }
        for (line in old) if (!(line in new)) {
            split(line, w, " ")
            if (w[1] == "struct" && index(growable, " " w[2] " ") && (w[2] in new_size) && new_size[w[2]] + 0 >= w[4] + 0) continue
            breaks[++n] = "removed or changed: " line
        }
        for (line in new) if (!(line in old)) {
            split(line, w, " ")
            if (w[1] == "field") {
                split(w[2], sf, ".")
                if ((sf[1] in old_size) && !(index(growable, " " sf[1] " ") && w[4] + 0 >= old_size[sf[1]] + 0))
                    breaks[++n] = "a field added inside " sf[1] ", which callers allocate, embed or index: " line
            }
        }
        if (n > 0) {
            for (i = 1; i <= n; i++) print "incompatible: " breaks[i]
            print "programs built against " old_soname " would break: bump the version (the minor while it is 0.x), so build.rs names a new SONAME, set CONSENT_SONAME in cbindgen.toml, `make header`, then `make abi-snapshot`. (While no release has shipped " old_soname ", no program was built against it: then `make abi-snapshot` alone records the change.)"
        } else {
            print "compatible additions only: record them with `make abi-snapshot`"
        }
    }
' "$snapshot" "$work/now" >&2
exit 1
