#!/usr/bin/env bash
# The C suite (`make test-c`): builds libconsent in release, then
#   - checks its SONAME is consent.h's CONSENT_SONAME, that the shared library exports
#     only consent_*, and that the static one, sealed (common.sh), defines no other
#     global symbol; compares its ABI with the snapshot (tests/abi.sh);
#   - checks that every function of consent.h has an "Errors:" line (tests/errors_doc.sh);
#   - compiles and runs examples/c/scenario.c, linked against the shared and the
#     static library;
#   - every consent-ffi/tests/*.c (-std=c99 -Wall -Wextra -Werror -pedantic), plainly
#     and under valgrind --leak-check=full (also the scenario);
#   - the header compiled and linked as C++ (tests/header_cpp.cpp, -std=c++17);
#   - `install.sh` into a scratch prefix (versioned names, links, stripped files, a
#     program with SQLite functions of its own against the installed libconsent.a, a
#     pkg-config build), and `make install PREFIX=/usr/local` in a private mount
#     namespace (tests/system_install.sh: no LD_LIBRARY_PATH needed).
# Honours CARGO, CARGO_TARGET_DIR, CC, CXX; CONSENT_NO_VALGRIND=1 skips the valgrind runs.
# With CONSENT_TEST_BACKEND=postgres (and CONSENT_TEST_PG_URL, see test_util.h) only the
# tests run, their ledgers in PostgreSQL (tools/tests/postgres.sh); the example, the
# C++ build and the install do not depend on the backend and are left to the SQLite run.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

CC="${CC:-gcc}"
CXX="${CXX:-g++}"
CFLAGS=(-std=c99 -Wall -Wextra -Werror -pedantic -pthread -I"$FFI_DIR/include" -I"$FFI_DIR/tests")
# The tests read examples/ljmu/registry.toml wherever they are run from.
TEST_DEFINES=(-DCONSENT_EXAMPLES_DIR="\"$ROOT/examples\"")
CXXFLAGS=(-std=c++17 -Wall -Wextra -Werror -I"$FFI_DIR/include")
# Deep stacks, so that the one suppression (a process-wide cache, see the file) matches
# however much the allocation was inlined.
VALGRIND=(valgrind -q --leak-check=full --error-exitcode=1 --num-callers=50 --suppressions="$FFI_DIR/tests/valgrind.supp")

echo "== building libconsent (release)"
(cd "$ROOT" && "$CARGO" build --release -p consent-ffi) || { echo "C tests: 0 passed, 1 failed (build)"; exit 1; }
BUILT="$(target_dir)/release"
OUT="$(target_dir)/c-tests${CONSENT_TEST_BACKEND:+-$CONSENT_TEST_BACKEND}"
# The library as the tests link it: the SONAME and -lconsent links to cargo's file (with
# its symbols, for valgrind's reports and suppressions), and the sealed archive.
LIB_DIR="$OUT/lib"
mkdir -p "$OUT"
link_built_library "$BUILT" "$LIB_DIR" || { echo "C tests: 0 passed, 1 failed (library links)"; exit 1; }
SHARED=(-L"$LIB_DIR" -lconsent -Wl,-rpath,"$LIB_DIR")
STATIC=("$LIB_DIR/libconsent.a" -lpthread -ldl -lm)

passed=0
failed=0
failures=()
# step NAME COMMAND...: runs one step, counting it.
step() {
    local name="$1"
    shift
    echo "== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "-- FAILED: $name"
        return 1
    fi
}
# under_valgrind NAME BINARY: the valgrind run of a step, unless disabled.
under_valgrind() {
    if [[ "${CONSENT_NO_VALGRIND:-0}" == 1 ]]; then
        echo "== $1 under valgrind: skipped (CONSENT_NO_VALGRIND=1)"
        return
    fi
    if ! command -v valgrind >/dev/null; then
        failed=$((failed + 1))
        failures+=("$1 under valgrind (valgrind not installed)")
        return
    fi
    step "$1 under valgrind" "${VALGRIND[@]}" "$2"
}

on_postgres=0
if [[ "${CONSENT_TEST_BACKEND:-}" == postgres ]]; then
    : "${CONSENT_TEST_PG_URL:?CONSENT_TEST_BACKEND=postgres needs CONSENT_TEST_PG_URL}"
    on_postgres=1
    echo "== the C tests on PostgreSQL, each ledger in a schema of its own"
fi

# The library's names and symbols, and its ABI.
# soname_matches: the SONAME build.rs gave the library is the one consent.h promises.
soname_matches() {
    local built promised
    built="$(soname_of "$BUILT/libconsent.so")"
    promised="$(header_soname)"
    echo "SONAME $built, CONSENT_SONAME \"$promised\""
    [[ -n "$built" && "$built" == "$promised" ]] ||
        { echo "they differ: set CONSENT_SONAME in consent-ffi/cbindgen.toml, then make header" >&2; return 1; }
}
# only_consent_symbols: the shared library exports only consent_*, and the sealed archive
# defines exactly those as globals (cargo's defines thousands more, SQLite's among them).
only_consent_symbols() {
    local exported sealed
    exported="$(defined_globals --dyn-syms "$BUILT/libconsent.so")"
    sealed="$(defined_globals --syms "$LIB_DIR/libconsent.a")"
    echo "cargo's libconsent.a: $(defined_globals --syms "$BUILT/libconsent.a" | grep -vc '^consent_') foreign globals ($(defined_globals --syms "$BUILT/libconsent.a" | grep -c '^sqlite3_') sqlite3_*);" \
        "sealed: $(grep -vc '^consent_' <<<"$sealed") of $(wc -l <<<"$sealed"); libconsent.so exports $(wc -l <<<"$exported"), $(grep -vc '^consent_' <<<"$exported") foreign"
    [[ "$exported" == "$sealed" ]] && ! grep -qv '^consent_' <<<"$exported" && grep -q '^consent_version$' <<<"$exported"
}
step "SONAME of libconsent.so" soname_matches
step "seal libconsent.a (only consent_* global)" seal_archive "$BUILT/libconsent.a" "$LIB_DIR/libconsent.a"
step "only consent_ globals (counted with readelf: nm here may go through an LLVM plugin)" only_consent_symbols
step "ABI snapshot (tests/abi.sh)" bash "$FFI_DIR/tests/abi.sh" check
step "every function says its errors (tests/errors_doc.sh)" bash "$FFI_DIR/tests/errors_doc.sh"

# The scenario, dynamically and statically linked.
if [[ "$on_postgres" == 1 ]]; then
    echo "== examples/c/scenario.c: skipped on PostgreSQL (its ledger is a file; the SQLite run has it)"
else
    if step "compile examples/c/scenario.c" "$CC" "${CFLAGS[@]}" "$ROOT/examples/c/scenario.c" -o "$OUT/scenario" "${SHARED[@]}"; then
        step "run scenario" "$OUT/scenario"
        under_valgrind "scenario" "$OUT/scenario"
    fi
    if step "compile scenario against libconsent.a" "$CC" "${CFLAGS[@]}" "$ROOT/examples/c/scenario.c" -o "$OUT/scenario-static" "${STATIC[@]}"; then
        step "run scenario (static)" "$OUT/scenario-static"
    fi
fi

# The C tests.
for src in "$FFI_DIR"/tests/*.c; do
    name="$(basename "$src" .c)"
    if step "compile $name.c" "$CC" "${CFLAGS[@]}" "${TEST_DEFINES[@]}" "$src" -o "$OUT/$name" "${SHARED[@]}"; then
        step "run $name" "$OUT/$name"
        under_valgrind "$name" "$OUT/$name"
    fi
done

# The header as C++.
if [[ "$on_postgres" == 1 ]]; then
    echo "== header as C++, install.sh: skipped on PostgreSQL (no ledger in them; the SQLite run has them)"
elif step "compile header_cpp.cpp (header as C++)" "$CXX" "${CXXFLAGS[@]}" "$FFI_DIR/tests/header_cpp.cpp" -o "$OUT/header_cpp" "${SHARED[@]}"; then
    step "run header_cpp" "$OUT/header_cpp"
fi

# `make install` into a scratch prefix, then programs built the way a user would.
PREFIX_DIR="$OUT/prefix"
# installed_names: the versioned file, stripped, and its two links.
installed_names() {
    local lib="$PREFIX_DIR/lib" version soname
    version="$(library_version)"
    soname="$(header_soname)"
    [[ -f "$lib/libconsent.so.$version" && ! -L "$lib/libconsent.so.$version" ]] &&
        [[ "$(readlink "$lib/$soname")" == "libconsent.so.$version" ]] &&
        [[ "$(readlink "$lib/libconsent.so")" == "libconsent.so.$version" ]] &&
        [[ "$(soname_of "$lib/libconsent.so.$version")" == "$soname" ]] &&
        ! "${READELF:-readelf}" -S "$lib/libconsent.so.$version" | grep -q '\.debug_info\|\.symtab' &&
        ! "${READELF:-readelf}" -S "$lib/libconsent.a" | grep -q '\.debug_info' &&
        ! "${READELF:-readelf}" -S "$PREFIX_DIR/bin/consent" | grep -q '\.debug_info\|\.symtab' &&
        [[ "$(defined_globals --syms "$lib/libconsent.a")" == "$(defined_globals --dyn-syms "$BUILT/libconsent.so")" ]] &&
        ls -l "$lib" "$PREFIX_DIR/bin"
}
# foreign_sqlite_static: a program with its own sqlite3_* links with the installed
# libconsent.a, and both work.
foreign_sqlite_static() {
    "$CC" "${CFLAGS[@]}" "${TEST_DEFINES[@]}" "$FFI_DIR/tests/test_foreign_sqlite.c" -o "$OUT/test_foreign_sqlite-static" \
        "$PREFIX_DIR/lib/libconsent.a" -lpthread -ldl -lm && "$OUT/test_foreign_sqlite-static"
}
pkg_config_build() {
    PKG_CONFIG_PATH="$PREFIX_DIR/lib/pkgconfig" "$CC" -std=c99 "$ROOT/examples/c/scenario.c" -o "$OUT/scenario-pkg" \
        $(PKG_CONFIG_PATH="$PREFIX_DIR/lib/pkgconfig" pkg-config --cflags --libs consent) &&
        grep -q "NEEDED.*\[$(header_soname)\]" <<<"$("${READELF:-readelf}" -d "$OUT/scenario-pkg")" &&
        LD_LIBRARY_PATH="$PREFIX_DIR/lib" "$OUT/scenario-pkg" >/dev/null
}
if [[ "$on_postgres" == 0 ]]; then
    rm -rf "$PREFIX_DIR"
    if step "install.sh into $PREFIX_DIR" bash "$FFI_DIR/tests/install.sh" "$PREFIX_DIR"; then
        step "installed names, links, stripped files" installed_names
        step "test_foreign_sqlite against the installed libconsent.a" foreign_sqlite_static
        if command -v pkg-config >/dev/null; then
            step "pkg-config build of the scenario (NEEDED $(header_soname))" pkg_config_build
        fi
    fi
    step "make install PREFIX=/usr/local in a private mount namespace" bash "$FFI_DIR/tests/system_install.sh"
fi

echo
for f in "${failures[@]+"${failures[@]}"}"; do
    echo "failed: $f"
done
echo "C tests: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
