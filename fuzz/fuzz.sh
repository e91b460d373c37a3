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
# fuzz/artifacts/<target>/ and stops the script with a non-zero status.
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
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

for target in "${targets[@]}"; do
    echo "fuzz.sh: $target for ${seconds}s"
    mkdir -p "corpus/$target"
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    cargo +nightly fuzz run "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -max_len=4096 -print_final_stats=1
done
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, no crash"
