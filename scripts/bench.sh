#!/usr/bin/env bash
# bench.sh: the side-by-side benchmark of docs/benchmarks.md. It sets up
# everything itself, offline: its own kwok cluster (scripts/cluster.sh, under
# its own name and apiserver port, so it never touches the dev or e2e
# cluster), a release build of replicasd (make build), development
# certificates, the benchmark tool (bench/, with vegeta from the Go module
# proxy), then seeds the Deployments and measures replicasd, kube-apiserver
# and the baseline side by side.
#
# Usage:
#   scripts/bench.sh            full run: LIST at 1k and 10k, 3 runs per row; writes
#                               bench/results.json, docs/benchmarks.png and the table
#                               in docs/benchmarks.md (~15-25 minutes), and CPU profiles
#                               of replicasd under the GET load in bench/tmp/profiles/
#   scripts/bench.sh quick      1k Deployments, 1 short run per row (< 2 minutes once
#                               the cluster is up and seeded); writes bench/tmp/quick/
#   scripts/bench.sh down       delete the benchmark cluster
#
# The cluster is deleted after the run, unless KEEP_CLUSTER=1: then it stays
# up, so the next run skips creating and seeding it, and
# `scripts/bench.sh down` (make bench-down) deletes it.
#
# Environment:
#   BENCH_CLUSTER_NAME      kwok cluster name (default: replicasd-bench)
#   BENCH_APISERVER_PORT    its kube-apiserver port (default: 36443)
#   KEEP_CLUSTER=1          keep the cluster up after the run (and reuse it)
#   BENCH_ARGS              extra flags for `replicasd-bench run` (see its -h),
#                           e.g. BENCH_ARGS="--runs 5 --duration 10s"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

export KWOK_CLUSTER_NAME="${BENCH_CLUSTER_NAME:-replicasd-bench}"
export KWOK_KUBE_APISERVER_PORT="${BENCH_APISERVER_PORT:-36443}"
WORK="bench/tmp/work"
MODE="${1:-full}"

log() { printf '[bench] %s\n' "$*" >&2; }

case "${MODE}" in
  full|quick) ;;
  down) exec scripts/cluster.sh down ;;
  *) log "usage: $0 [full|quick|down]"; exit 2 ;;
esac

log "cluster ${KWOK_CLUSTER_NAME} (kube-apiserver port ${KWOK_KUBE_APISERVER_PORT})"
teardown() {
  local rc=$?
  if [[ "${KEEP_CLUSTER:-}" == 1 ]]; then
    log "KEEP_CLUSTER=1: cluster ${KWOK_CLUSTER_NAME} stays up for the next run (make bench-down deletes it)"
  else
    scripts/cluster.sh down || rc=1
  fi
  exit "${rc}"
}
trap teardown EXIT
trap 'exit 130' INT TERM
KUBECONFIG_PATH="$(scripts/cluster.sh up | tail -n 1)"
PKI="$(scripts/cluster.sh pki)"
PIDS="$(dirname "${PKI}")/pids"

log "release build of replicasd"
make --no-print-directory build >&2

log "certificates"
mkdir -p "${WORK}"
bin/replicasd certs --out "${WORK}/certs" --force --client bench >/dev/null

log "benchmark tool"
# -mod=mod: bench/ is its own module requiring the server through a
# replace, so a dependency the server gained since bench/go.sum was last
# tidied is resolved here (from the module proxy) instead of failing.
(cd bench && CGO_ENABLED=0 go build -mod=mod -trimpath -o ../bin/replicasd-bench ./cmd/replicasd-bench)

versions="$(scripts/build-controlplane.sh --list | awk '$1 == "etcd" || $1 == "kwok" {printf "%s%s=%s", sep, $1, $2; sep=","}')"

args=(
  --kubeconfig "${KUBECONFIG_PATH}"
  --pki-dir "${PKI}"
  --apiserver-pid-file "${PIDS}/kube-apiserver.pid"
  --etcd-pid-file "${PIDS}/etcd.pid"
  --replicasd bin/replicasd
  --certs "${WORK}/certs"
  --work-dir "${WORK}"
  --versions "${versions}"
)
if [[ "${MODE}" == quick ]]; then
  mkdir -p bench/tmp/quick
  args+=(
    --quick
    --sizes 1000 --heap-sizes 1000
    --runs 1 --warmup 500ms --duration 2s --idle 3s
    --propagation-changes 50 --start-runs 1
    --out-json bench/tmp/quick/results.json
    --out-md bench/tmp/quick/benchmarks.md
    --chart bench/tmp/quick/benchmarks.png
  )
else
  # shellcheck disable=SC2054 # the commas separate the values of one flag
  args+=(
    --sizes 1000,10000 --heap-sizes 1000,10000,50000
    --runs 3 --warmup 2s --duration 5s
    --out-json bench/results.json
    --chart docs/benchmarks.png
    --docs docs/benchmarks.md
    --profile-dir bench/tmp/profiles
  )
fi
# shellcheck disable=SC2206 # BENCH_ARGS is a list of flags on purpose
extra=(${BENCH_ARGS:-})
start=${SECONDS}
bin/replicasd-bench run "${args[@]}" "${extra[@]}"
log "done in $((SECONDS - start))s"
