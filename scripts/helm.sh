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

# shellcheck source=scripts/lib/cached-tool.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/cached-tool.sh"

# helm_ldflags stamps what Helm's own Makefile does: its version, and the
# Kubernetes version that `helm lint` and `helm template` assume (client-go's
# minor + 1.0 -> 1.x). Run in the wrapper module's directory.
helm_ldflags() {
  local kmod kmajor kminor
  kmod="$(GOWORK=off go list -mod=readonly -f '{{.Version}}' -m k8s.io/client-go)"
  kmod="${kmod#v}"
  kmajor=$(( ${kmod%%.*} + 1 )); kminor="${kmod#*.}"; kminor="${kminor%%.*}"
  echo "-s -w -X helm.sh/helm/v3/internal/version.version=${HELM_VERSION}
    -X helm.sh/helm/v3/internal/version.gitTreeState=clean
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${kmajor}
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${kminor}
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${kmajor}
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${kminor}"
}

cached_tool helm "${HELM_VERSION}" helm.sh/helm/v3/cmd/helm helm_ldflags "${HELM:-}" "$@"
