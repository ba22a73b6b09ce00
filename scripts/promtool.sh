#!/usr/bin/env bash
# promtool.sh: builds Prometheus' promtool from the Go module proxy, through
# the pinned wrapper module scripts/tools/promtool, into a cache outside the
# repository keyed by version, and prints the binary's path on stdout
# (progress on stderr):
#
#   ${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/replicasd}/bin/promtool-<version>/promtool
#
# Idempotent: an existing binary is not rebuilt. PROMTOOL=/path/to/promtool
# skips the build and uses that binary instead (for example Debian's, from
# `apt-get install prometheus`).
#
# Usage:
#   scripts/promtool.sh                 print the promtool path (building it once: several minutes)
#   scripts/promtool.sh -- ARGS...      run promtool with ARGS
set -euo pipefail

# Keep in sync with scripts/tools/promtool/go.mod (Prometheus v3.x is module
# version v0.3xx).
PROMTOOL_VERSION=v0.316.0

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MOD_DIR="${SCRIPT_DIR}/tools/promtool"
CACHE_DIR="${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/replicasd}"
OUT="${CACHE_DIR}/bin/promtool-${PROMTOOL_VERSION}/promtool"

log() { printf '[promtool] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

build() {
  command -v go >/dev/null || die "go is not on PATH"
  mkdir -p "$(dirname "${OUT}")"
  exec 9>"${CACHE_DIR}/.promtool-build.lock"
  command -v flock >/dev/null && flock 9
  [[ -x "${OUT}" ]] && return 0 # built by whoever held the lock

  local tmp="${OUT}.tmp.$$" start=${SECONDS}
  log "building promtool ${PROMTOOL_VERSION} (first time only) -> ${OUT}"
  # GOWORK=off: a go.work in the repository must not leak into the wrapper
  # module. -mod=readonly: the committed go.mod/go.sum are complete.
  if ! (cd "${MOD_DIR}" && CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
        go build -trimpath -ldflags "-s -w" -o "${tmp}" github.com/prometheus/prometheus/cmd/promtool); then
    rm -f "${tmp}"
    die "building promtool failed"
  fi
  mv -f "${tmp}" "${OUT}"
  log "built promtool in $((SECONDS - start))s"
}

promtool_bin="${PROMTOOL:-}"
if [[ -z "${promtool_bin}" ]]; then
  [[ -x "${OUT}" ]] || build
  promtool_bin="${OUT}"
fi

if [[ "${1:-}" == "--" ]]; then
  shift
  exec "${promtool_bin}" "$@"
fi
echo "${promtool_bin}"
