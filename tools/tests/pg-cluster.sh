#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (groundwork of the PostgreSQL backend,
# issue 14): `pg-cluster.sh run -- COMMAND...` installs Debian's server packages when
# missing, runs `initdb` in a temporary folder as an unprivileged user, starts the
# server listening on a Unix socket only (no TCP port), runs COMMAND with PGHOST,
# PGPORT, PGUSER, PGDATABASE and CONSENT_TEST_PG_URL set, then stops the server and
# removes the folder — also when COMMAND fails or the script is interrupted.
#
# To use an existing server instead, set CONSENT_TEST_PG_URL (a postgresql:// URL):
# nothing is installed or started, COMMAND runs with it as given.
#
# PG_CLUSTER_OPTIONS adds server options to the throwaway cluster's start (e.g.
# "-c shared_preload_libraries=pg_stat_statements", which the benchmarks use to count
# statements); it has no effect on an existing server.
set -euo pipefail

usage() { echo "usage: $0 run -- COMMAND [ARGS...]" >&2; exit 2; }
[ "${1:-}" = run ] || usage
shift
[ "${1:-}" = -- ] && shift
[ $# -gt 0 ] || usage

if [ -n "${CONSENT_TEST_PG_URL:-}" ]; then
    exec "$@"
fi

bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    return 1
}

if ! BIN="$(bindir)"; then
    echo "== installing Debian's postgresql (server for the PostgreSQL tests)" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "pg-cluster: PostgreSQL is missing and this user cannot install it" >&2; exit 1; }
        SUDO="sudo -n"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # The server binaries only: no cluster is created or started by the package here.
    $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    BIN="$(bindir)" || { echo "pg-cluster: no initdb after installing postgresql" >&2; exit 1; }
fi

# PostgreSQL refuses to run as root: as root, the cluster belongs to `nobody`.
AS=()
if [ "$(id -u)" = 0 ]; then
    AS=(runuser -u nobody --)
fi
DIR="$(mktemp -d "${TMPDIR:-/tmp}/consent-pg.XXXXXX")"
chmod 755 "$DIR"
[ ${#AS[@]} -gt 0 ] && chown nobody "$DIR"

stop() {
    "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap stop EXIT
trap 'exit 130' INT TERM

"${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U consent --auth=trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
mkdir -p "$DIR/socket" && [ ${#AS[@]} -gt 0 ] && chown nobody "$DIR/socket"
PORT=5432
if ! "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses='' -k $DIR/socket -p $PORT -c fsync=on ${PG_CLUSTER_OPTIONS:-}" start >/dev/null; then
    cat "$DIR/server.log" >&2
    exit 1
fi
export PGHOST="$DIR/socket" PGPORT="$PORT" PGUSER=consent PGDATABASE=postgres
export CONSENT_TEST_PG_URL="postgresql://consent@/postgres?host=$DIR/socket&port=$PORT"
echo "== throwaway PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on $PGHOST (no TCP)" >&2
"$@"
