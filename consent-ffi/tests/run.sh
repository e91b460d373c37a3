#!/usr/bin/env bash
# The C suite (`make test-c`): builds libconsent in release, then compiles and runs
#   - examples/c/scenario.c, linked against the shared and the static library;
#   - every consent-ffi/tests/*.c (-std=c99 -Wall -Wextra -Werror -pedantic), plainly
#     and under valgrind --leak-check=full (also the scenario);
#   - the header compiled and linked as C++ (tests/header_cpp.cpp, -std=c++17).
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
LIB_DIR="$(target_dir)/release"
OUT="$(target_dir)/c-tests${CONSENT_TEST_BACKEND:+-$CONSENT_TEST_BACKEND}"
mkdir -p "$OUT"
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

# `make install` into a scratch prefix, then the scenario built the way a user would.
pkg_config_build() {
    local prefix="$OUT/prefix"
    rm -rf "$prefix"
    bash "$FFI_DIR/tests/install.sh" "$prefix" >/dev/null &&
        PKG_CONFIG_PATH="$prefix/lib/pkgconfig" "$CC" -std=c99 "$ROOT/examples/c/scenario.c" -o "$OUT/scenario-pkg" \
            $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs consent) &&
        LD_LIBRARY_PATH="$prefix/lib" "$OUT/scenario-pkg" >/dev/null
}
if [[ "$on_postgres" == 0 ]] && command -v pkg-config >/dev/null; then
    step "install.sh + pkg-config build of the scenario" pkg_config_build
fi

echo
for f in "${failures[@]+"${failures[@]}"}"; do
    echo "failed: $f"
done
echo "C tests: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
