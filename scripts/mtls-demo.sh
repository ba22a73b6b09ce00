#!/usr/bin/env bash
# mtls-demo.sh: `make mtls-demo`. Shows, with the reviewers' own tools (curl
# and openssl s_client), how replicasd refuses each kind of bad client
# certificate, without a cluster: scripts/mtlsdemo makes the certificates
# and serves a fake Kubernetes API; this script starts bin/replicasd against
# it (with a CRL) and, for each case, prints the command, what it answered,
# and what the server logged and counted.
#
# Environment: MTLS_DEMO_DIR (default bin/mtls-demo): certificates, the
# server's log. The same cases run as e2e specs (e2e/mtls_tools_test.go).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[mtls-demo] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in curl openssl; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is needed (apt-get install -y curl openssl)"
done
[ -x bin/replicasd ] || die "bin/replicasd is missing: run 'make mtls-demo', which builds it"

out=${MTLS_DEMO_DIR:-bin/mtls-demo}
rm -rf "$out"
mkdir -p "$out"
go build -o bin/mtlsdemo ./scripts/mtlsdemo

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# wait_for SECONDS DESCRIPTION LOG COMMAND...: retries COMMAND once a second;
# when time runs out, fails with the last lines of LOG.
wait_for() {
  local seconds=$1 what=$2 logfile=$3
  shift 3
  for _ in $(seq 1 "$seconds"); do
    if "$@"; then return 0; fi
    sleep 1
  done
  tail -n 30 "$logfile" >&2 || true
  die "$what did not happen in ${seconds}s"
}

bin/mtlsdemo -out "$out" >"$out/fakeapi.log" 2>&1 &
pids+=($!)
wait_for 60 "the fake Kubernetes API" "$out/fakeapi.log" test -s "$out/kubeconfig"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }
port=$(free_port)
ops=$(free_port)
c=$out/certs
server=(bin/replicasd --listen-address "127.0.0.1:$port" --ops-address "127.0.0.1:$ops"
  --tls-cert-file "$c/server.crt" --tls-private-key-file "$c/server.key"
  --client-ca-file "$c/ca.crt" --client-crl-file "$c/crl.pem"
  --kubeconfig "$out/kubeconfig" --log-level debug)
log "starting: ${server[*]}"
"${server[@]}" >"$out/replicasd.log" 2>&1 &
pids+=($!)
ready() { curl -sf "http://127.0.0.1:$ops/readyz" >/dev/null 2>&1; }
wait_for 60 "replicasd readiness" "$out/replicasd.log" ready

# show_case TITLE CERT OPENSSL_EXTRA CURL_EXTRA: CERT is a name under
# $c (or "" for none); the extras are single flags, or "".
show_case() {
  local title=$1 cert=$2 oextra=$3 cextra=$4 before answer code
  local -a ossl curlcmd
  printf '\n=== %s\n' "$title"
  before=$(wc -l <"$out/replicasd.log")
  ossl=(openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$c/ca.crt" -verify_return_error -ign_eof)
  curlcmd=(curl -sS --max-time 30 --cacert "$c/ca.crt")
  if [ -n "$cert" ]; then
    ossl+=(-cert "$c/$cert.crt" -key "$c/$cert.key")
    curlcmd+=(--cert "$c/$cert.crt" --key "$c/$cert.key")
  fi
  [ -z "$oextra" ] || ossl+=("$oextra")
  # shellcheck disable=SC2206 # the curl extra is "--tls-max 1.2": two words
  [ -z "$cextra" ] || curlcmd+=($cextra)
  curlcmd+=("https://127.0.0.1:$port/api/v1/health")

  if [ "$cert" = good ] && [ -z "$oextra" ]; then
    # A certificate the server takes: send a request, read the answer.
    printf '$ printf '\''GET /api/v1/health HTTP/1.0\\r\\n\\r\\n'\'' | %s -ign_eof\n' "${ossl[*]}"
    answer=$(printf 'GET /api/v1/health HTTP/1.0\r\n\r\n' | timeout 30 "${ossl[@]}" -ign_eof 2>&1 || true)
  else
    # Send nothing and keep the input open: in TLS 1.3 the server's
    # verdict on the certificate comes after the client's side of the
    # handshake, and a request sent meanwhile turns the close into a reset.
    printf '$ sleep 5 | %s\n' "${ossl[*]}"
    answer=$(sleep 5 | timeout 30 "${ossl[@]}" 2>&1 || true)
  fi
  printf '  answered: %s\n' "$(grep -oE '(sslv3|tlsv1|tlsv13) alert [a-z ]+|HTTP/1\.[01] [0-9]+ [A-Za-z ]+' <<<"$answer" | head -n 1)"
  printf '$ %s\n' "${curlcmd[*]}"
  answer=$("${curlcmd[@]}" 2>&1) && code=0 || code=$?
  printf '  answered: exit %s: %s\n' "$code" "$(head -c 300 <<<"$answer")"
  sleep 1 # the server logs the refusal as the connection closes
  printf '  the server logged:\n'
  tail -n "+$((before + 1))" "$out/replicasd.log" | grep -E 'TLS handshake failed|"status"' | sed 's/^/    /' | head -n 4 || true
  printf '  the server counts: %s\n' "$(curl -s "http://127.0.0.1:$ops/metrics" | grep '^replicasd_tls_handshake_errors_total' | grep -v ' 0$' | tr '\n' ' ')"
}

show_case "a good certificate (the control case)" good "" ""
show_case "no certificate" "" "" ""
show_case "a certificate from another CA" other-ca "" ""
show_case "an expired certificate" expired "" ""
show_case "a certificate not yet valid" not-yet-valid "" ""
show_case "a certificate for serverAuth only" server-auth-only "" ""
show_case "a self-signed certificate" self-signed "" ""
show_case "a certificate the CRL revokes" revoked "" ""
show_case "a client limited to TLS 1.2" good -tls1_2 "--tls-max 1.2"
printf '\nThe certificates and the server log are in %s.\n' "$out"
