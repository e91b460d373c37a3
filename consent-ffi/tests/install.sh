#!/usr/bin/env bash
# `make install`: builds libconsent in release and installs under PREFIX
#   PREFIX/lib/libconsent.so, PREFIX/lib/libconsent.a, PREFIX/include/consent.h,
#   PREFIX/lib/pkgconfig/consent.pc and, when built, PREFIX/bin/consent (the CLI) with
#   its manual pages (PREFIX/share/man/man1) and bash, zsh and fish completions.
# Then: cc app.c $(pkg-config --cflags --libs consent)
#   (with PKG_CONFIG_PATH=PREFIX/lib/pkgconfig when PREFIX is not searched by default).
# Usage: install.sh PREFIX   (honours DESTDIR for staged installs, LIBDIR, CARGO_TARGET_DIR)
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

(cd "$ROOT" && "$CARGO" build --release -p consent-ffi)
BUILT="$(target_dir)/release"

header="$FFI_DIR/include/consent.h"
version_part() { sed -n "s/^#define CONSENT_VERSION_$1 \([0-9]*\)$/\1/p" "$header"; }
VERSION="$(version_part MAJOR).$(version_part MINOR).$(version_part PATCH)"

install -d "$DEST$LIBDIR/pkgconfig" "$DEST$INCLUDEDIR"
install -m 755 "$BUILT/libconsent.so" "$DEST$LIBDIR/libconsent.so"
install -m 644 "$BUILT/libconsent.a" "$DEST$LIBDIR/libconsent.a"
install -m 644 "$header" "$DEST$INCLUDEDIR/consent.h"
cat > "$DEST$LIBDIR/pkgconfig/consent.pc" <<PC
prefix=$PREFIX
exec_prefix=\${prefix}
libdir=$([[ "$LIBDIR" == "$PREFIX/lib" ]] && echo "\${exec_prefix}/lib" || echo "$LIBDIR")
includedir=\${prefix}/include

Name: consent
Description: C ABI of consent-ledger, an append-only, tamper-evident ledger of per-purpose consent
URL: https://example.invalid/consent-ledger
Version: $VERSION
Libs: -L\${libdir} -lconsent
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
chmod 644 "$DEST$LIBDIR/pkgconfig/consent.pc"
echo "installed libconsent $VERSION: $DEST$LIBDIR/libconsent.{so,a}, $DEST$INCLUDEDIR/consent.h, $DEST$LIBDIR/pkgconfig/consent.pc"

if [[ -x "$BUILT/consent" ]]; then
    install -d "$DEST$BINDIR"
    install -m 755 "$BUILT/consent" "$DEST$BINDIR/consent"
    echo "installed $DEST$BINDIR/consent"
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
else
    echo "no $BUILT/consent (build it with: cargo build --release -p consent-cli); CLI not installed"
fi
case "$LIBDIR" in
    /usr/lib* | /lib*) ;;
    *) echo "note: at run time the loader must find $LIBDIR (ldconfig, LD_LIBRARY_PATH or -Wl,-rpath,$LIBDIR)" ;;
esac
