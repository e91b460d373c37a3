# Shared by header.sh, run.sh and install.sh: paths and the pinned cbindgen.
# shellcheck shell=bash
FFI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$FFI_DIR/.." && pwd)"
CARGO="${CARGO:-cargo}"
CBINDGEN_VERSION="0.29.4"
# Project-local tool root (gitignored): a fresh machine installs cbindgen here once.
TOOLS_ROOT="${CONSENT_TOOLS_ROOT:-$FFI_DIR/.tools}"

# The mode of a script that writes a checked-in file or checks it: prints "write" or
# "check", or exits 2 with the script's usage.
write_or_check() {
    case "$1" in
        write | check) echo "$1" ;;
        *) echo "usage: $0 write|check" >&2; exit 2 ;;
    esac
}

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

# The version of the library, from the header's CONSENT_VERSION_* (errors.rs's test ties
# them to the crate's version).
library_version() {
    local header="$FFI_DIR/include/consent.h" part version=""
    for part in MAJOR MINOR PATCH; do
        version+="${version:+.}$(sed -n "s/^#define CONSENT_VERSION_$part \([0-9]*\)$/\1/p" "$header")"
    done
    echo "$version"
}

# The SONAME the header promises (CONSENT_SONAME).
header_soname() {
    sed -n 's/^#define CONSENT_SONAME "\(.*\)"$/\1/p' "$FFI_DIR/include/consent.h"
}

# The SONAME a shared library carries (build.rs sets libconsent's).
soname_of() {
    "${READELF:-readelf}" -d "$1" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p'
}

# link_built_library BUILT DIR: DIR/libconsent.so (the name -lconsent finds) and
# DIR/<SONAME> (the name the loader looks for), both pointing at BUILT/libconsent.so,
# for programs built in the tree with -L DIR -Wl,-rpath,DIR.
link_built_library() {
    local built="$1" dir="$2" soname
    soname="$(soname_of "$built/libconsent.so")"
    [[ -n "$soname" ]] || { echo "$built/libconsent.so has no SONAME" >&2; return 1; }
    mkdir -p "$dir"
    ln -sfn "$built/libconsent.so" "$dir/$soname"
    ln -sfn "$soname" "$dir/libconsent.so"
}

# seal_archive IN OUT: writes OUT, a static library whose only global symbols are the
# consent_ ones of IN. Cargo's libconsent.a holds every crate it is made of, SQLite
# included, each object with its globals: a program that also links the system SQLite
# (or any crate's C symbols) would fail to link, or bind one library's calls to the
# other's code. Linked into one relocatable object first, so the calls between its parts
# are resolved, everything but consent_* can be made local. The .llvmbc sections
# (rustc's embedded bitcode) go too: no C toolchain uses them, and an LLVM linker plugin
# that reads them (binutils' nm and ld with LLVMgold) aborts on a newer LLVM's.
seal_archive() {
    local in="$1" out="$2" work keep
    work="$(mktemp -d)"
    keep="$work/keep"
    "${LD:-ld}" -r --whole-archive "$in" -o "$work/whole.o" &&
        "${READELF:-readelf}" -sW "$work/whole.o" |
        awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" && $8 ~ /^consent_/ { print $8 }' |
            sort -u >"$keep" &&
        [[ -s "$keep" ]] &&
        "${OBJCOPY:-objcopy}" --keep-global-symbols="$keep" \
            --remove-section=.llvmbc --remove-section=.llvmcmd "$work/whole.o" "$work/consent.o" &&
        rm -f "$out" &&
        "${AR:-ar}" rcsD "$out" "$work/consent.o"
    local status=$?
    rm -rf "$work"
    return "$status"
}

# defined_globals TABLE FILE: the global symbols FILE defines in TABLE (--syms for an
# object or an archive, --dyn-syms for what a shared library exports), one a line.
defined_globals() {
    "${READELF:-readelf}" -W "$1" "$2" |
        awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" && $8 != "" { print $8 }' | sort -u
}
