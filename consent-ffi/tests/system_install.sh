#!/usr/bin/env bash
# `make install PREFIX=/usr/local` for real, without changing the machine: in a private
# mount namespace (unshare --mount, as root), /usr/local, /etc and /var/cache/ldconfig
# are overlays whose changes go to a tmpfs that vanishes with the namespace. There the
# install runs ldconfig (a standard prefix, as root); the scenario is then built with
# plain `pkg-config consent` and run with no LD_LIBRARY_PATH and no rpath, and must name
# the SONAME as NEEDED and load it from /usr/local/lib. Run by tests/run.sh.
# Skipped, saying why, where a mount namespace cannot be had (not root, a container
# without CAP_SYS_ADMIN, no overlayfs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ "${1:-}" != --inside ]]; then
    if [[ "$(id -u)" != 0 ]] || ! unshare --mount --propagation private true 2>/dev/null; then
        echo "skipped: needs root and unshare --mount (a private mount namespace)"
        exit 0
    fi
    exec unshare --mount --propagation private bash "${BASH_SOURCE[0]}" --inside
fi

# Inside the namespace: nothing mounted here is seen outside it.
scratch="$(mktemp -d)"
mount -t tmpfs consent-test "$scratch"
# overlay DIR: writes under DIR go to the tmpfs.
overlay() {
    local name="${1//\//_}"
    mkdir -p "$scratch/$name/upper" "$scratch/$name/work"
    mount -t overlay overlay -o "lowerdir=$1,upperdir=$scratch/$name/upper,workdir=$scratch/$name/work" "$1"
}
if ! overlay /usr/local || ! overlay /etc || { [[ -d /var/cache/ldconfig ]] && ! overlay /var/cache/ldconfig; }; then
    echo "skipped: no overlay mounts here (overlayfs)"
    exit 0
fi
# Whatever an earlier install left, this test sees only its own.
rm -f /usr/local/lib/libconsent.* /usr/local/lib/pkgconfig/consent.pc /usr/local/include/consent.h

make --no-print-directory -C "$ROOT" install PREFIX=/usr/local | grep -v '^\(installed the manual\|    Finished\)'

soname="$(header_soname)"
bin="$scratch/scenario"
# A build as its README says, and a run with nothing telling the loader where to look.
cc -std=c99 "$ROOT/examples/c/scenario.c" -o "$bin" $(pkg-config --cflags --libs consent)
"${READELF:-readelf}" -d "$bin" | grep "NEEDED.*\[$soname\]"
if "${READELF:-readelf}" -d "$bin" | grep -q 'RPATH\|RUNPATH'; then
    echo "the program carries an rpath: the test proves nothing" >&2
    exit 1
fi
# Read whole before matching: `grep -q` would stop reading at its match, and under
# pipefail the writer's SIGPIPE would fail the line now and then.
resolved="$(env -u LD_LIBRARY_PATH ldd "$bin")"
grep "$soname" <<<"$resolved"
grep -q "$soname => /usr/local/lib/$soname" <<<"$resolved"
(cd "$scratch" && env -u LD_LIBRARY_PATH "$bin" > "$scratch/scenario.out") || { tail -20 "$scratch/scenario.out"; exit 1; }
echo "the scenario runs against /usr/local/lib/$soname with no LD_LIBRARY_PATH"
env -u LD_LIBRARY_PATH /usr/local/bin/consent --version
