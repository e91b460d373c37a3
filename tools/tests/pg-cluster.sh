#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (groundwork of the PostgreSQL backend,
# issue 14): `pg-cluster.sh run -- COMMAND...` installs Debian's server packages when
# missing, runs `initdb` in a temporary folder as an unprivileged user, starts the
# server listening on a Unix socket and, TLS only, on 127.0.0.1 (a throwaway CA made
# with openssl), runs COMMAND with PGHOST, PGPORT, PGUSER, PGDATABASE,
# CONSENT_TEST_PG_URL (the socket), CONSENT_TEST_PG_TLS_URL and CONSENT_TEST_PG_TLS_CA set, then stops the server and
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

if ! BIN="$(bindir)" || ! command -v openssl >/dev/null 2>&1; then
    echo "== installing Debian's postgresql and openssl (server and TLS certificates for the PostgreSQL tests)" >&2
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "pg-cluster: PostgreSQL is missing and this user cannot install it" >&2; exit 1; }
        SUDO="sudo -n"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    # The server binaries only: no cluster is created or started by the package here.
    $SUDO apt-get install -y -qq --no-install-recommends postgresql openssl >/dev/null
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

# TLS for the TLS tests: a throwaway CA and a server certificate for localhost and
# 127.0.0.1; TCP on 127.0.0.1 only, and there only with TLS (pg_hba: hostssl; plain
# TCP rejected). The Unix socket stays the main way in.
TLS="$DIR/tls"
mkdir -p "$TLS"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=consent-ledger test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.crt" >/dev/null 2>&1
openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$TLS/server.key" -out "$TLS/server.csr" >/dev/null 2>&1
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n' >"$TLS/ext"
openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
    -days 2 -extfile "$TLS/ext" -out "$TLS/server.crt" >/dev/null 2>&1
chmod 600 "$TLS/server.key"
[ ${#AS[@]} -gt 0 ] && chown nobody "$TLS/server.key" "$TLS/server.crt"
cat >"$DIR/data/pg_hba.conf" <<HBA
local   all all                 trust
hostssl all all 127.0.0.1/32    trust
host    all all 127.0.0.1/32    reject
HBA
# A free port (the socket's name carries it too), so clusters of concurrent runs
# never meet on 127.0.0.1.
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
if ! "${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -k $DIR/socket -p $PORT -c fsync=on -c ssl=on -c ssl_cert_file=$TLS/server.crt -c ssl_key_file=$TLS/server.key ${PG_CLUSTER_OPTIONS:-}" start >/dev/null; then
    cat "$DIR/server.log" >&2
    exit 1
fi
export PGHOST="$DIR/socket" PGPORT="$PORT" PGUSER=consent PGDATABASE=postgres
export CONSENT_TEST_PG_URL="postgresql://consent@/postgres?host=$DIR/socket&port=$PORT"
# The same server over TLS, its CA given; and the CA file alone for tests that vary it.
export CONSENT_TEST_PG_TLS_URL="postgresql://consent@localhost:$PORT/postgres?sslmode=verify-full&sslrootcert=$TLS/ca.crt"
export CONSENT_TEST_PG_TLS_CA="$TLS/ca.crt"
echo "== throwaway PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on $PGHOST and TLS-only on 127.0.0.1:$PORT" >&2
"$@"
