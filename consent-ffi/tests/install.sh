#!/usr/bin/env bash
# `make install`: builds libconsent and the `consent` CLI in release, then installs under
# PREFIX, stripped:
#   PREFIX/lib/libconsent.so.X.Y.Z        the shared library (SONAME libconsent.so.0.Y
#                                          while X is 0, libconsent.so.X after)
#   PREFIX/lib/libconsent.so.0.Y -> it    the SONAME link: what programs ask the loader for
#   PREFIX/lib/libconsent.so -> it        the link `cc -lconsent` finds
#   PREFIX/lib/libconsent.a               sealed: exports only consent_* (seal_archive)
#   PREFIX/include/consent.h, PREFIX/lib/pkgconfig/consent.pc
#   PREFIX/bin/consent with its manual pages (PREFIX/share/man/man1) and bash, zsh and
#   fish completions.
# Then: cc app.c $(pkg-config --cflags --libs consent)
#   (with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig when PREFIX is not searched by default).
# When LIBDIR is one the loader searches (/usr/local/lib, /usr/lib, ...), it runs
# ldconfig, if it may (as root, without DESTDIR), so programs run without
# LD_LIBRARY_PATH.
# Usage: install.sh PREFIX   (honours DESTDIR for staged installs, LIBDIR,
#   CARGO_TARGET_DIR, and STRIP: STRIP=true installs the files with their debug info)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $# -ne 1 || -z "$1" ]]; then
    echo "usage: $0 PREFIX" >&2
    exit 2
fi
PREFIX="$1"
case "$PREFIX" in
    /*) ;;
    *) PREFIX="$(pwd)/$PREFIX" ;;
esac
LIBDIR="${LIBDIR:-$PREFIX/lib}"
INCLUDEDIR="$PREFIX/include"
BINDIR="$PREFIX/bin"
DEST="${DESTDIR:-}"
STRIP="${STRIP:-strip}"

# Always rebuilt: cargo does nothing when nothing changed, and an install never copies
# a stale build. Two builds, not one: built together, the CLI's dependencies' features
# would be unified into the library's, and the library rebuilt on every alternation
# with `make test-c` (a cdylib's file name carries no hash to keep both).
(cd "$ROOT" && "$CARGO" build --release -p consent-ffi && "$CARGO" build --release -p consent-cli)
BUILT="$(target_dir)/release"

VERSION="$(library_version)"
SONAME="$(soname_of "$BUILT/libconsent.so")"
if [[ -z "$SONAME" || "$SONAME" != "$(header_soname)" ]]; then
    echo "libconsent.so's SONAME ($SONAME) is not consent.h's CONSENT_SONAME ($(header_soname))" >&2
    exit 1
fi
FILE="libconsent.so.$VERSION"

# size FILE: its size in MB, for the report of what stripping saved.
size() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

install -d "$DEST$LIBDIR/pkgconfig" "$DEST$INCLUDEDIR"
install -m 755 "$BUILT/libconsent.so" "$DEST$LIBDIR/$FILE"
"$STRIP" --strip-unneeded "$DEST$LIBDIR/$FILE"
ln -sfn "$FILE" "$DEST$LIBDIR/$SONAME"
ln -sfn "$FILE" "$DEST$LIBDIR/libconsent.so"
seal_archive "$BUILT/libconsent.a" "$DEST$LIBDIR/libconsent.a"
# The archive keeps its symbol table (a static link needs it); only debug info goes.
"$STRIP" --strip-debug --enable-deterministic-archives "$DEST$LIBDIR/libconsent.a"
chmod 644 "$DEST$LIBDIR/libconsent.a"
install -m 644 "$FFI_DIR/include/consent.h" "$DEST$INCLUDEDIR/consent.h"
cat > "$DEST$LIBDIR/pkgconfig/consent.pc" <<PC
prefix=$PREFIX
exec_prefix=\${prefix}
libdir=$([[ "$LIBDIR" == "$PREFIX/lib" ]] && echo "\${exec_prefix}/lib" || echo "$LIBDIR")
includedir=\${prefix}/include

Name: consent
Description: C ABI of consent-ledger, an append-only, tamper-evident ledger of per-purpose consent
Version: $VERSION
Libs: -L\${libdir} -lconsent
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
chmod 644 "$DEST$LIBDIR/pkgconfig/consent.pc"
echo "installed libconsent $VERSION in $DEST$LIBDIR: $FILE (built $(size "$BUILT/libconsent.so"), installed $(size "$DEST$LIBDIR/$FILE")), $SONAME and libconsent.so -> $FILE, libconsent.a (built $(size "$BUILT/libconsent.a"), installed $(size "$DEST$LIBDIR/libconsent.a")); $DEST$INCLUDEDIR/consent.h, $DEST$LIBDIR/pkgconfig/consent.pc"

install -d "$DEST$BINDIR"
install -m 755 "$BUILT/consent" "$DEST$BINDIR/consent"
"$STRIP" --strip-unneeded "$DEST$BINDIR/consent"
echo "installed $DEST$BINDIR/consent (built $(size "$BUILT/consent"), installed $(size "$DEST$BINDIR/consent"))"
# Its manual pages and shell completions, generated from its own definitions.
MANDIR="$DEST$PREFIX/share/man/man1"
SHARE="$DEST$PREFIX/share"
"$BUILT/consent" man --dir "$MANDIR" >/dev/null
chmod 644 "$MANDIR"/consent*.1
install -d "$SHARE/bash-completion/completions" "$SHARE/zsh/site-functions" "$SHARE/fish/vendor_completions.d"
"$BUILT/consent" completions bash > "$SHARE/bash-completion/completions/consent"
"$BUILT/consent" completions zsh > "$SHARE/zsh/site-functions/_consent"
"$BUILT/consent" completions fish > "$SHARE/fish/vendor_completions.d/consent.fish"
echo "installed the manual pages in $MANDIR and completions for bash, zsh and fish in $SHARE"

# Whether the loader searches LIBDIR (ld.so.conf and its built-in directories, compared
# as files: /usr/lib may be /lib).
searched_by_loader() {
    local dir
    while read -r dir; do
        [[ "$dir" -ef "$1" ]] && return 0
    done < <(ldconfig -vNX 2>/dev/null | sed -n 's|^\(/[^:]*\):.*|\1|p')
    return 1
}
if [[ -n "$DEST" ]]; then
    echo "note: staged in DESTDIR; once the files are in $LIBDIR, run ldconfig there if the loader searches it"
elif ! command -v ldconfig >/dev/null || ! searched_by_loader "$LIBDIR"; then
    echo "note: at run time the loader must find $LIBDIR (LD_LIBRARY_PATH, -Wl,-rpath,$LIBDIR, or a file in /etc/ld.so.conf.d and ldconfig)"
elif [[ "$(id -u)" != 0 ]]; then
    echo "note: run ldconfig as root, so the loader finds $SONAME in $LIBDIR"
else
    ldconfig
    echo "ran ldconfig: the loader finds $SONAME in $LIBDIR"
fi
