#!/usr/bin/env bash
# e2e-external.sh: `make e2e-external`. The e2e suite in external-server
# mode: the server is not started by the suite but installed the way the
# Helm chart installs it, and the suite reaches it at E2E_SERVER_URL.
#
# With E2E_SERVER_URL set (the GitHub kind job: the chart is installed in
# the cluster KUBECONFIG points at, and port-forwarded), it runs the suite
# against that server. E2E_CERTS_DIR must hold the ca.crt and ca.key the
# server's client CA was made from (make deploy's certs/deploy-<namespace>);
# a relative path is taken from the repository root.
#
# Without E2E_SERVER_URL, it does here what the kind job does, on the local
# kwok cluster, whose pods run no containers:
#   1. starts its own cluster (KWOK_CLUSTER_NAME, default replicasd-external;
#      an existing one is deleted first unless KEEP_CLUSTER=1);
#   2. scripts/deploy.sh --template: the namespace, development certificates
#      and the chart's Secrets applied for real, the chart rendered with
#      `helm template` and the same HELM_ARGS as the kind job;
#   3. scripts/chartrun: the rendered objects but the Deployment applied with
#      kubectl, and one bin/replicasd process per replica of the Deployment,
#      with the container's args, env and mounts, under a token of the
#      chart's ServiceAccount; then the suite, with E2E_SERVER_URL,
#      E2E_OPS_URL, E2E_SECONDARY_URL and E2E_SECONDARY_OPS_URL pointing at
#      the replicas;
#   4. stops the replicas and deletes the cluster (KEEP_CLUSTER=1 keeps it).
#
# Environment: E2E_SERVER_URL, E2E_OPS_URL, E2E_SECONDARY_URL,
# E2E_SECONDARY_OPS_URL, E2E_CERTS_DIR, KUBECONFIG (external server);
# KWOK_CLUSTER_NAME, KEEP_CLUSTER, E2E_HELM_ARGS (local); GINKGO_ARGS,
# E2E_TIMEOUT (default 30m), GO (both).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

GO="${GO:-go}"
TIMEOUT="${E2E_TIMEOUT:-30m}"
read -r -a ginkgo_args <<<"${GINKGO_ARGS:-}"

log() { printf '[e2e-external] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
abs() { if [[ "$1" == /* ]]; then echo "$1"; else echo "${ROOT}/$1"; fi; }

suite() {
  "${GO}" test -count=1 -timeout "${TIMEOUT}" ./e2e/... ${ginkgo_args[@]+"${ginkgo_args[@]}"}
}
# chartrun runs the suite through this script: one command line for both modes.
if [[ "${1:-}" == --suite ]]; then
  suite
  exit
fi

if [[ -n "${E2E_SERVER_URL:-}" ]]; then
  [[ -n "${E2E_CERTS_DIR:-}" ]] || die "E2E_CERTS_DIR must name the directory with the ca.crt and ca.key of the server's client CA"
  [[ -n "${KUBECONFIG:-}" ]] || die "KUBECONFIG must point at the cluster the server runs in (kind: export KUBECONFIG=\$(mktemp); kind get kubeconfig > \$KUBECONFIG)"
  E2E_CERTS_DIR="$(abs "${E2E_CERTS_DIR}")"
  export E2E_CERTS_DIR
  log "the suite against ${E2E_SERVER_URL} (certificates ${E2E_CERTS_DIR})"
  suite
  exit
fi

# chartrun's own tests (a rendered chart it misreads would pass anything).
"${GO}" test -count=1 ./scripts/chartrun

export KWOK_CLUSTER_NAME="${KWOK_CLUSTER_NAME:-replicasd-external}"
KUBECTL="$(scripts/build-controlplane.sh --path kubectl)"
export KUBECTL
work="$(mktemp -d "${TMPDIR:-/tmp}/e2e-external.XXXXXX")"
cleanup() {
  local rc=$?
  rm -rf "${work}"
  if [[ "${KEEP_CLUSTER:-}" == 1 ]]; then
    log "KEEP_CLUSTER=1: cluster ${KWOK_CLUSTER_NAME} stays up (scripts/cluster.sh down, with KWOK_CLUSTER_NAME=${KWOK_CLUSTER_NAME}, removes it)"
  else
    scripts/cluster.sh down || rc=1
  fi
  exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A cluster left by a run that was killed carries its state: start afresh.
[[ "${KEEP_CLUSTER:-}" == 1 ]] || scripts/cluster.sh down
KUBECONFIG="$(scripts/cluster.sh up | tail -n 1)"
export KUBECONFIG

E2E_CERTS_DIR="${work}/certs"
export E2E_CERTS_DIR
DEPLOY_CERTS_DIR="${E2E_CERTS_DIR}" HELM_ARGS="${E2E_HELM_ARGS:-}" \
  scripts/deploy.sh --template "${work}/chart.yaml"

# Compile first, so the replicas' tokens and the suite's clock start together.
"${GO}" build -o bin/chartrun ./scripts/chartrun
"${GO}" test -c -o "${work}/e2e.test" ./e2e
export REPLICASD_BIN="${ROOT}/bin/replicasd"

log "the suite against the chart's Deployment run as local processes"
bin/chartrun -manifest "${work}/chart.yaml" -binary bin/replicasd -kubectl "${KUBECTL}" \
  -workdir "${work}/replicas" -- "${ROOT}/scripts/e2e-external.sh" --suite
