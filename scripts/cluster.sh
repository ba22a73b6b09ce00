#!/usr/bin/env bash
# cluster.sh: a local Kubernetes cluster for development and e2e tests, made
# by kwokctl's binary runtime from the source-built binaries of
# scripts/build-controlplane.sh (no Docker, no downloads: works offline).
# Real etcd, kube-apiserver, kube-controller-manager and kube-scheduler;
# kwok fakes the nodes and the kubelets, so Deployments roll out and pods
# reach Running (no container actually runs).
#
# Usage:
#   scripts/cluster.sh up           create/start the cluster (idempotent); last stdout line: kubeconfig path
#   scripts/cluster.sh down         delete the cluster (idempotent)
#   scripts/cluster.sh kubeconfig   print the kubeconfig path (exit 1 if the cluster is not up)
#   scripts/cluster.sh status       exit 0 if the cluster answers /readyz
#   scripts/cluster.sh pki          print the cluster's PKI directory (ca.crt, ca.key, admin.crt, admin.key)
#   scripts/cluster.sh kubectl ARGS...  run the built kubectl against the cluster
#   scripts/cluster.sh kwokctl ARGS...  run the built kwokctl with this cluster's name and workdir
#
# Environment:
#   KWOK_CLUSTER_NAME   cluster name (default: replicasd)
#   KWOK_WORKDIR        kwokctl state (default: ${cache}/kwok), where
#                       cache=${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/replicasd}
#   KWOK_NODES          number of fake nodes (default: 2)
#   KWOK_KUBE_APISERVER_PORT  fixed apiserver port (default: a free random port)
#   CLUSTER_UP_TIMEOUT  seconds to wait for readiness (default: 120)
#
# The kubeconfig (admin: user kwok-admin, group system:masters, data embedded)
# is written to ${KWOK_WORKDIR}/kubeconfig-${KWOK_CLUSTER_NAME}. Your own
# ~/.kube/config and $KUBECONFIG are never modified.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="${SCRIPT_DIR}/build-controlplane.sh"
CACHE_DIR="${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/replicasd}"

NAME="${KWOK_CLUSTER_NAME:-replicasd}"
export KWOK_WORKDIR="${KWOK_WORKDIR:-${CACHE_DIR}/kwok}"
NODES="${KWOK_NODES:-2}"
TIMEOUT="${CLUSTER_UP_TIMEOUT:-120}"
KUBECONFIG_OUT="${KWOK_WORKDIR}/kubeconfig-${NAME}"
CLUSTER_DIR="${KWOK_WORKDIR}/clusters/${NAME}"

# shellcheck source=scripts/lib/wait.sh
source "${SCRIPT_DIR}/lib/wait.sh"

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ "${NAME}" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || die "KWOK_CLUSTER_NAME must be a DNS label: ${NAME}"
[[ "${NODES}" =~ ^[0-9]+$ ]] || die "KWOK_NODES must be a number: ${NODES}"
[[ "${TIMEOUT}" =~ ^[0-9]+$ ]] || die "CLUSTER_UP_TIMEOUT must be seconds: ${TIMEOUT}"

# binaries: build whatever is missing (a no-op when cached), then resolve paths.
binaries() {
  "${BUILD}" kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl >/dev/null
  local comp _version path
  while read -r comp _version path; do
    case "${comp}" in
      kube-apiserver) KUBE_APISERVER="${path}" ;;
      kube-controller-manager) KUBE_CONTROLLER_MANAGER="${path}" ;;
      kube-scheduler) KUBE_SCHEDULER="${path}" ;;
      kubectl) KUBECTL="${path}" ;;
      etcd) ETCD="${path}" ;;
      kwok) KWOK="${path}" ;;
      kwokctl) KWOKCTL="${path}" ;;
    esac
  done < <("${BUILD}" --list)
  # kwokctl runs the first kubectl on PATH (else downloads one): make it ours.
  PATH="$(dirname "${KUBECTL}"):${PATH}"
  export PATH
  export KWOK_KUBECTL_BINARY="${KUBECTL}"
  # kwokctl picks component flags by Kubernetes version (it has no flag for it).
  export KWOK_KUBE_VERSION="${KUBE_VERSION}"
}

kwokctl_() { "${KWOKCTL}" --name="${NAME}" "$@"; }
kubectl_() { "${KUBECTL}" --kubeconfig "${KUBECONFIG_OUT}" "$@"; }

healthy() {
  [[ -s "${KUBECONFIG_OUT}" ]] && kubectl_ --request-timeout=5s get --raw=/readyz >/dev/null 2>&1
}

# wait_cluster DESCRIPTION COMMAND...: retry until it succeeds; when the
# timeout passes, fail with the last lines of the components' logs.
wait_cluster() {
  local what="$1"; shift
  wait_for "${TIMEOUT}" 1 "" "${what}" "$(compgen -G "${CLUSTER_DIR}/logs/*.log" | tr '\n' ' ')" -- "$@" ||
    die "cluster ${NAME} is not ready (logs: ${CLUSTER_DIR}/logs; or: $0 down && $0 up)"
}

ready_nodes() {
  local n
  n="$(kubectl_ get nodes -o jsonpath='{range .items[*]}{range .status.conditions[?(@.type=="Ready")]}{.status}{"\n"}{end}{end}' | grep -c '^True$' || true)"
  [[ "${n}" -ge "${NODES}" ]]
}

cmd_up() {
  binaries
  local start=${SECONDS}
  if [[ -d "${CLUSTER_DIR}" ]] && healthy; then
    log "cluster ${NAME} is already up"
  else
    log "creating cluster ${NAME} (workdir ${KWOK_WORKDIR})"
    mkdir -p "${KWOK_WORKDIR}"
    # Every component is a local binary, so nothing is downloaded. Creating an
    # existing but stopped cluster starts it again. --kubeconfig='' keeps the
    # user's kubeconfig untouched.
    kwokctl_ create cluster \
      --runtime binary \
      --kubeconfig '' \
      --kube-apiserver-binary "${KUBE_APISERVER}" \
      --kube-controller-manager-binary "${KUBE_CONTROLLER_MANAGER}" \
      --kube-scheduler-binary "${KUBE_SCHEDULER}" \
      --kwok-controller-binary "${KWOK}" \
      --etcd-binary "${ETCD}" \
      --timeout "${TIMEOUT}s" \
      --wait "${TIMEOUT}s" >&2 ||
      die "kwokctl create cluster failed; logs: ${CLUSTER_DIR}/logs (or: $0 down && $0 up)"
    local tmp="${KUBECONFIG_OUT}.tmp.$$"
    (umask 077 && kwokctl_ get kubeconfig >"${tmp}") && mv -f "${tmp}" "${KUBECONFIG_OUT}"
    wait_cluster "kube-apiserver /readyz" healthy
  fi
  # Fake nodes, so pods get scheduled and Deployments report ready replicas.
  if ! ready_nodes; then
    log "scaling to ${NODES} fake nodes"
    kwokctl_ scale node --replicas "${NODES}" >&2
    wait_cluster "${NODES} Ready nodes" ready_nodes
  fi
  # Pods are rejected until the controller-manager has made the namespace's
  # default ServiceAccount.
  wait_cluster "the default ServiceAccount" kubectl_ -n default get serviceaccount default
  log "cluster ${NAME} is ready in $((SECONDS - start))s; export KUBECONFIG=${KUBECONFIG_OUT}"
  echo "${KUBECONFIG_OUT}"
}

cmd_down() {
  # kwokctl is needed only if a cluster exists; never build just to delete.
  KWOKCTL="$("${BUILD}" --no-build --path kwokctl 2>/dev/null)" || KWOKCTL=""
  if [[ ! -d "${CLUSTER_DIR}" ]]; then
    log "cluster ${NAME} does not exist"
  elif [[ -z "${KWOKCTL}" ]]; then
    die "kwokctl is not built; run ${BUILD} kwokctl"
  else
    local start=${SECONDS}
    # kwokctl insists on a kubeconfig to remove its context from: give it
    # ours (deleted below), so the user's kubeconfig is left alone.
    kwokctl_ delete cluster --kubeconfig "${KUBECONFIG_OUT}" >&2
    log "cluster ${NAME} deleted in $((SECONDS - start))s"
  fi
  rm -f "${KUBECONFIG_OUT}"
}

KUBE_VERSION="$("${BUILD}" --list | awk '$1 == "kube-apiserver" {print $2}')"

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "${cmd}" in
  up) cmd_up ;;
  down) cmd_down ;;
  kubeconfig)
    [[ -s "${KUBECONFIG_OUT}" ]] || die "no kubeconfig at ${KUBECONFIG_OUT}; run $0 up"
    echo "${KUBECONFIG_OUT}" ;;
  status)
    KUBECTL="$("${BUILD}" --no-build --path kubectl 2>/dev/null)" || die "kubectl is not built"
    if healthy; then log "cluster ${NAME} is up"; else log "cluster ${NAME} is not up"; exit 1; fi ;;
  pki)
    [[ -d "${CLUSTER_DIR}/pki" ]] || die "no cluster ${NAME}; run $0 up"
    echo "${CLUSTER_DIR}/pki" ;;
  kubectl) binaries; kubectl_ "$@" ;;
  kwokctl) binaries; kwokctl_ "$@" ;;
  -h|--help|help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' ;;
  *) die "usage: $0 up|down|kubeconfig|status|pki|kubectl ARGS|kwokctl ARGS (see --help)" ;;
esac
