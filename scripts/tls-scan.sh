#!/usr/bin/env bash
# `make tls-scan`: start replicasd with development certificates and scan
# its mTLS port with testssl.sh, once with the default configuration (TLS 1.3
# only) and once with --tls-min-version=VersionTLS12. Fails on any finding
# rated MEDIUM or higher, on any protocol below the configured minimum, or on
# any weak cipher (scripts/tlsscan judges testssl's JSON).
#
# No cluster is needed: the server's kubeconfig points at a port where
# nothing listens, and a long --cache-sync-timeout keeps it serving TLS (its
# reads answer 503) while the scan runs; the scan only needs handshakes.
#
# Environment: TLS_SCAN_PORT (default 18443), TLS_SCAN_OPS_PORT (19090),
# TLS_SCAN_OUT (default bin/tls-scan: JSON, logs and the summary).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=bin/replicasd
PORT=${TLS_SCAN_PORT:-18443}
OPS_PORT=${TLS_SCAN_OPS_PORT:-19090}
OUT=${TLS_SCAN_OUT:-bin/tls-scan}
GO=${GO:-go}
# shellcheck source=scripts/lib/wait.sh
source scripts/lib/wait.sh

testssl=$(command -v testssl || command -v testssl.sh || true)
if [ -z "$testssl" ]; then
  echo ">> testssl.sh is not installed: installing the Debian package" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get install -y testssl.sh >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y testssl.sh >&2; }
  testssl=$(command -v testssl || command -v testssl.sh)
fi

rm -rf "$OUT"
mkdir -p "$OUT"
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

"$BIN" certs --out "$work/certs" --client tls-scanner:scanners >/dev/null
cat >"$work/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: unreachable
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
contexts:
- name: unreachable
  context: {cluster: unreachable, user: nobody}
users:
- name: nobody
  user: {token: unused}
current-context: unreachable
KUBECONFIG
# testssl.sh 3.2+ presents a client certificate with --mtls (one PEM file
# holding certificate and key); 3.0 cannot, and skips only the HTTP checks.
cat "$work/certs/tls-scanner.crt" "$work/certs/tls-scanner.key" >"$work/client.pem"
mtls=()
if "$testssl" --help 2>&1 | grep -q -- '--mtls'; then
  mtls=(--mtls "$work/client.pem")
fi
version=$("$testssl" --version 2>&1 | sed -n 's/.*testssl[^0-9]*\([0-9][0-9.]*\).*/\1/p' | head -n 1)

scan() { # scan NAME MIN_VERSION
  local name=$1 min=$2
  echo ">> starting replicasd (--tls-min-version=$min) on 127.0.0.1:$PORT" >&2
  "$BIN" --listen-address "127.0.0.1:$PORT" --ops-address "127.0.0.1:$OPS_PORT" \
    --tls-cert-file "$work/certs/server.crt" --tls-private-key-file "$work/certs/server.key" \
    --client-ca-file "$work/certs/ca.crt" --tls-min-version "$min" \
    --kubeconfig "$work/kubeconfig" --cache-sync-timeout 1h \
    --audit-log-path "$OUT/$name-audit.log" --log-format text \
    >"$OUT/$name-server.log" 2>&1 &
  server_pid=$!
  local curl=(curl -sS -o /dev/null --max-time 2 --cacert "$work/certs/ca.crt"
    --cert "$work/certs/tls-scanner.crt" --key "$work/certs/tls-scanner.key")
  # Any HTTP answer (503 until the cache syncs, which it never does here)
  # means TLS is served.
  wait_for 30 0.2 "$server_pid" "replicasd to serve TLS on :$PORT" "$OUT/$name-server.log" -- \
    "${curl[@]}" "https://localhost:$PORT/api/v1/health" || exit 1
  echo ">> testssl.sh $version against https://localhost:$PORT${mtls[*]:+, with a client certificate}" >&2
  # --add-ca: clients trust the server through the development CA, as
  # they would through the operator's.
  "$testssl" --quiet --color 0 --warnings off --ip 127.0.0.1 "${mtls[@]}" \
    --add-ca "$work/certs/ca.crt" \
    --jsonfile "$OUT/$name.json" "https://localhost:$PORT" >"$OUT/$name.txt" 2>&1 || true
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

scan tls13 VersionTLS13
scan tls12 VersionTLS12

"$GO" run ./scripts/tlsscan -testssl-version "$version" -mtls="${#mtls[@]}" \
  "$OUT/tls13.json:VersionTLS13" "$OUT/tls12.json:VersionTLS12" | tee "$OUT/summary.md"
