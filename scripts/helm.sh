#!/usr/bin/env bash
# helm.sh: builds Helm from the Go module proxy, through the pinned wrapper
# module scripts/tools/helm, into a cache outside the repository keyed by
# version, and prints the binary's path on stdout (progress on stderr):
#
#   ${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/replicasd}/bin/helm-<version>/helm
#
# Idempotent: an existing binary is not rebuilt. HELM=/path/to/helm skips the
# build and uses that binary instead.
#
# Usage:
#   scripts/helm.sh                 print the helm path (building it once, ~1-2 min)
#   scripts/helm.sh -- ARGS...      run helm with ARGS
set -euo pipefail

# Keep in sync with scripts/tools/helm/go.mod.
HELM_VERSION=v3.22.0

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MOD_DIR="${SCRIPT_DIR}/tools/helm"
CACHE_DIR="${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/replicasd}"
OUT="${CACHE_DIR}/bin/helm-${HELM_VERSION}/helm"

log() { printf '[helm] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

build() {
  command -v go >/dev/null || die "go is not on PATH"
  mkdir -p "$(dirname "${OUT}")"
  exec 9>"${CACHE_DIR}/.helm-build.lock"
  command -v flock >/dev/null && flock 9
  [[ -x "${OUT}" ]] && return 0 # built by whoever held the lock

  # Helm's own Makefile stamps its version and the Kubernetes version that
  # `helm lint` and `helm template` assume (client-go's minor + 1.0 → 1.x).
  local kmod kmajor kminor
  kmod="$(cd "${MOD_DIR}" && GOWORK=off go list -mod=readonly -f '{{.Version}}' -m k8s.io/client-go)"
  kmod="${kmod#v}"
  kmajor=$(( ${kmod%%.*} + 1 )); kminor="${kmod#*.}"; kminor="${kminor%%.*}"
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}
    -X helm.sh/helm/v3/internal/version.gitTreeState=clean
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${kmajor}
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${kminor}
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${kmajor}
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${kminor}"
  local tmp="${OUT}.tmp.$$" start=${SECONDS}
  log "building helm ${HELM_VERSION} (first time only) -> ${OUT}"
  # GOWORK=off: a go.work in the repository must not leak into the wrapper
  # module. -mod=readonly: the committed go.mod/go.sum are complete.
  if ! (cd "${MOD_DIR}" && CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
        go build -trimpath -ldflags "${ldflags//$'\n'/ }" -o "${tmp}" helm.sh/helm/v3/cmd/helm); then
    rm -f "${tmp}"
    die "building helm failed"
  fi
  mv -f "${tmp}" "${OUT}"
  log "built helm in $((SECONDS - start))s"
}

helm_bin="${HELM:-}"
if [[ -z "${helm_bin}" ]]; then
  [[ -x "${OUT}" ]] || build
  helm_bin="${OUT}"
fi

if [[ "${1:-}" == "--" ]]; then
  shift
  exec "${helm_bin}" "$@"
fi
echo "${helm_bin}"
