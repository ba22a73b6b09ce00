#!/usr/bin/env bash
# build-controlplane.sh: builds the Kubernetes control plane (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl), etcd and kwok/kwokctl
# from the Go module proxy, through the pinned wrapper modules under
# scripts/tools/, into a cache outside the repository keyed by version:
#
#   ${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/replicasd}/bin/<component>-<version>/<component>
#
# It also maintains an envtest assets directory (KUBEBUILDER_ASSETS) holding
# etcd, kube-apiserver and kubectl:
#
#   ${cache}/envtest-<kube version>/
#
# Idempotent: a binary that already exists is not rebuilt (use --force).
#
# Usage:
#   scripts/build-controlplane.sh [COMPONENT...]      build (default: all); last stdout line: bin dir
#   scripts/build-controlplane.sh --print-dir         build all if needed; print only the bin dir
#   scripts/build-controlplane.sh --envtest-dir       build etcd, kube-apiserver, kubectl if needed;
#                                                     print only the KUBEBUILDER_ASSETS dir
#   scripts/build-controlplane.sh --path COMPONENT    build COMPONENT if needed; print its binary path
#   scripts/build-controlplane.sh --list              print "component version path" for every component
#   --no-build   with the print options: print without building (exit 1 if missing)
#   --force      rebuild even if the binary exists
#
# Components: kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl
#
# Progress goes to stderr; stdout carries only the requested path(s).
set -euo pipefail

KUBE_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLS_DIR="${SCRIPT_DIR}/tools"
CACHE_DIR="${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/replicasd}"
BIN_DIR="${CACHE_DIR}/bin"
ENVTEST_DIR="${CACHE_DIR}/envtest-${KUBE_VERSION#v}"

# What README.md says a clean-cache build of every component takes.
FRESH_BUILD_HINT="30 minutes"

ALL_COMPONENTS=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl)
ENVTEST_COMPONENTS=(etcd kube-apiserver kubectl)

# shellcheck source=scripts/lib/progress.sh
source "${SCRIPT_DIR}/lib/progress.sh"

log() { printf '[build-controlplane] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# component_version COMPONENT
component_version() {
  case "$1" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl) echo "${KUBE_VERSION}" ;;
    etcd) echo "${ETCD_VERSION}" ;;
    kwok|kwokctl) echo "${KWOK_VERSION}" ;;
    *) return 1 ;;
  esac
}

# component_path COMPONENT: where its binary lives in the cache.
component_path() {
  local v
  v="$(component_version "$1")" || die "unknown component: $1 (known: ${ALL_COMPONENTS[*]})"
  echo "${BIN_DIR}/$1-${v}/$1"
}

# module_time DIR MODULE: the module's publication time, used as buildDate so
# builds are reproducible.
module_time() {
  (cd "$1" && go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' "$2" 2>/dev/null) || true
}

# build COMPONENT: go build it from its wrapper module into the cache.
build() {
  local comp="$1" out moddir pkg ldflags=(-s -w)
  out="$(component_path "${comp}")"
  case "${comp}" in
    kube-apiserver|kube-controller-manager|kube-scheduler|kubectl)
      moddir="${TOOLS_DIR}/kube"
      pkg="k8s.io/kubernetes/cmd/${comp}"
      local v="${KUBE_VERSION}" major minor date
      major="${v#v}"; major="${major%%.*}"
      minor="${v#v*.}"; minor="${minor%%.*}"
      date="$(module_time "${moddir}" k8s.io/kubernetes)"
      local p
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=(-X "${p}.gitVersion=${v}" -X "${p}.gitMajor=${major}" -X "${p}.gitMinor=${minor}"
                  -X "${p}.gitTreeState=clean")
        [[ -n "${date}" ]] && ldflags+=(-X "${p}.buildDate=${date}")
      done
      ;;
    etcd)
      moddir="${TOOLS_DIR}/etcd"
      pkg="go.etcd.io/etcd/server/v3"
      ldflags+=(-X "go.etcd.io/etcd/api/v3/version.GitSHA=${ETCD_VERSION}-go-module")
      ;;
    kwok|kwokctl)
      moddir="${TOOLS_DIR}/kwok"
      pkg="sigs.k8s.io/kwok/cmd/${comp}"
      # KubeVersion makes kwokctl default to the Kubernetes version we build,
      # so it picks matching flags for the components.
      ldflags+=(-X "sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION}"
                -X "sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION}")
      ;;
  esac

  mkdir -p "$(dirname "${out}")"
  local tmp="${out}.tmp.$$" start rc=0
  start="$(date +%s)"
  log "${STEP:-} building ${comp} $(component_version "${comp}") (${pkg}) -> ${out}"
  progress_start build-controlplane "${comp}"
  # GOWORK=off: a go.work in the repository must not leak into the wrapper
  # module. -mod=readonly: the committed go.mod/go.sum are complete; fail
  # rather than silently edit them.
  (cd "${moddir}" && CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath -ldflags "${ldflags[*]}" -o "${tmp}" "${pkg}") || rc=$?
  progress_stop
  if [[ "${rc}" != 0 ]]; then
    rm -f "${tmp}"
    die "building ${comp} failed"
  fi
  mv -f "${tmp}" "${out}"
  log "built ${comp} in $(elapsed $(($(date +%s) - start)))"
}

# ensure COMPONENT...: build the missing ones, saying first what and how
# long a first build takes.
ensure() {
  local comp missing=() i=0 start
  for comp in "$@"; do
    if [[ "${FORCE}" == 1 || ! -x "$(component_path "${comp}")" ]]; then
      [[ "${NO_BUILD}" == 1 ]] && die "$(component_path "${comp}") is missing (run without --no-build)"
      missing+=("${comp}")
    fi
  done
  [[ ${#missing[@]} -gt 0 ]] || return 0
  start="$(date +%s)"
  log "building ${#missing[@]} components (${missing[*]}) from the Go module proxy into ${BIN_DIR}:" \
    "once per version; the whole control plane takes about ${FRESH_BUILD_HINT} on a fresh 2-core machine (progress every ${BUILD_PROGRESS_INTERVAL:-30}s)"
  for comp in "${missing[@]}"; do
    i=$((i + 1))
    STEP="[${i}/${#missing[@]}]" build "${comp}"
  done
  log "built ${missing[*]} in $(elapsed $(($(date +%s) - start)))"
}

# link_envtest: (re)create the KUBEBUILDER_ASSETS directory when its binaries exist.
link_envtest() {
  local comp
  for comp in "${ENVTEST_COMPONENTS[@]}"; do
    [[ -x "$(component_path "${comp}")" ]] || return 0
  done
  mkdir -p "${ENVTEST_DIR}"
  for comp in "${ENVTEST_COMPONENTS[@]}"; do
    ln -sfn "$(component_path "${comp}")" "${ENVTEST_DIR}/${comp}"
  done
}

MODE=build FORCE=0 NO_BUILD=0 PATH_OF=""
COMPONENTS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --print-dir) MODE=print-dir ;;
    --envtest-dir) MODE=envtest-dir ;;
    --path) MODE=path; PATH_OF="${2:?--path needs a component}"; shift ;;
    --list) MODE=list ;;
    --force) FORCE=1 ;;
    --no-build) NO_BUILD=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) component_version "$1" >/dev/null || die "unknown component: $1 (known: ${ALL_COMPONENTS[*]})"
       COMPONENTS+=("$1") ;;
  esac
  shift
done

command -v go >/dev/null || die "go is not on PATH"

case "${MODE}" in
  list)
    for c in "${ALL_COMPONENTS[@]}"; do echo "${c} $(component_version "${c}") $(component_path "${c}")"; done
    exit 0 ;;
  envtest-dir) COMPONENTS=("${ENVTEST_COMPONENTS[@]}") ;;
  path) component_version "${PATH_OF}" >/dev/null || die "unknown component: ${PATH_OF}"
        COMPONENTS=("${PATH_OF}") ;;
esac
[[ ${#COMPONENTS[@]} -gt 0 ]] || COMPONENTS=("${ALL_COMPONENTS[@]}")

mkdir -p "${CACHE_DIR}"
# One build at a time per cache (e.g. `make integration` and `make e2e` in parallel).
if [[ "${NO_BUILD}" == 0 ]] && command -v flock >/dev/null; then
  exec 9>"${CACHE_DIR}/.build.lock"
  if ! flock -n 9; then
    log "waiting for another build-controlplane.sh to finish"
    flock 9
  fi
fi

ensure "${COMPONENTS[@]}"
[[ "${NO_BUILD}" == 1 ]] || link_envtest

case "${MODE}" in
  build|print-dir) echo "${BIN_DIR}" ;;
  envtest-dir) [[ -d "${ENVTEST_DIR}" ]] || die "${ENVTEST_DIR} missing"; echo "${ENVTEST_DIR}" ;;
  path) component_path "${PATH_OF}" ;;
esac
