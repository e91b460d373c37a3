#!/usr/bin/env bash
# Runs every cargo-fuzz target for FUZZ_SECONDS seconds each (default 60).
#
#   fuzz/fuzz.sh                       # all targets, 60 s each
#   FUZZ_SECONDS=600 fuzz/fuzz.sh      # longer
#   fuzz/fuzz.sh import_rows parsers   # some targets only
#
# Needs the nightly toolchain (`rustup toolchain install nightly`) and installs
# cargo-fuzz into .tools/ at the repository root when it is missing. The corpus grows
# in fuzz/corpus/<target> (seeded from fuzz/seeds/<target>); a crash is written to
# fuzz/artifacts/<target>/ and stops the script with a non-zero status, as does a
# failed or empty listing of the targets: "no crash" is said only of targets that ran.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
seconds="${FUZZ_SECONDS:-60}"
export PATH="$root/.tools/bin:$PATH"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz into $root/.tools"
    cargo install cargo-fuzz --locked --root "$root/.tools"
fi

cd "$here"
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    # An assignment, not a process substitution, so that a failing listing stops the
    # script instead of leaving zero targets to "run".
    if ! listing="$(cargo +nightly fuzz list)"; then
        echo "fuzz.sh: listing the targets failed (cargo +nightly fuzz list)" >&2
        exit 1
    fi
    targets=()
    while IFS= read -r target; do
        if [ -n "$target" ]; then targets+=("$target"); fi
    done <<<"$listing"
    if [ "${#targets[@]}" -eq 0 ]; then
        echo "fuzz.sh: cargo fuzz list named no targets" >&2
        exit 1
    fi
    # The listing must name every file of fuzz_targets/, and nothing else.
    declared="$(printf '%s\n' "${targets[@]}" | sort)"
    files="$(cd fuzz_targets && for f in *.rs; do echo "${f%.rs}"; done | sort)"
    if [ "$declared" != "$files" ]; then
        echo "fuzz.sh: cargo fuzz list gives [${declared//$'\n'/ }]," \
            "fuzz_targets/ holds [${files//$'\n'/ }]" >&2
        exit 1
    fi
fi

ran=0
for target in "${targets[@]}"; do
    echo "fuzz.sh: $target for ${seconds}s"
    mkdir -p "corpus/$target"
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    if ! cargo +nightly fuzz run "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -max_len=4096 -print_final_stats=1; then
        echo "fuzz.sh: $target failed after $ran of ${#targets[@]} targets" \
            "(a crash, if any, is in fuzz/artifacts/$target/)" >&2
        exit 1
    fi
    ran=$((ran + 1))
done
if [ "$ran" -ne "${#targets[@]}" ]; then
    echo "fuzz.sh: $ran of ${#targets[@]} targets ran" >&2
    exit 1
fi
echo "fuzz.sh: $ran targets run (${targets[*]}), ${seconds}s each, no crash"
