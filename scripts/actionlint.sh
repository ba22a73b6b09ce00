#!/usr/bin/env bash
# actionlint.sh: lints the GitHub workflows (.github/workflows) with
# actionlint, which checks every `run:` script with shellcheck. actionlint is
# built from the Go module proxy, through the pinned wrapper module
# scripts/tools/actionlint, into a cache outside the repository keyed by
# version (scripts/lib/cached-tool.sh):
#
#   ${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/replicasd}/bin/actionlint-<version>/actionlint
#
# The shellcheck binary is Debian's package: installed with apt-get when it is missing
# (as root, or through sudo). Without shellcheck, actionlint would skip the
# `run:` scripts silently, so this refuses to run without it.
#
# Usage:
#   scripts/actionlint.sh              lint .github/workflows
#   scripts/actionlint.sh --path       print the actionlint path (building it once, ~1 min)
#   scripts/actionlint.sh FILE...      lint these workflow files
#
# Environment: ACTIONLINT=/path/to/actionlint skips the build;
# SHELLCHECK=/path/to/shellcheck uses that shellcheck.
set -euo pipefail

# Keep in sync with scripts/tools/actionlint/go.mod.
ACTIONLINT_VERSION=v1.7.12

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/cached-tool.sh
source "${ROOT}/scripts/lib/cached-tool.sh"
# shellcheck source=scripts/lib/shellcheck.sh
source "${ROOT}/scripts/lib/shellcheck.sh"

actionlint_ldflags() {
  echo "-s -w -X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION}"
}

bin="$(cached_tool actionlint "${ACTIONLINT_VERSION}" github.com/rhysd/actionlint/cmd/actionlint actionlint_ldflags "${ACTIONLINT:-}")"
if [[ "${1:-}" == "--path" ]]; then
  echo "${bin}"
  exit 0
fi

shellcheck_bin="$(ensure_shellcheck)"
cd "${ROOT}"
echo "actionlint ${ACTIONLINT_VERSION} (shellcheck $("${shellcheck_bin}" --version | sed -n 's/^version: //p')) on ${*:-.github/workflows}" >&2
exec "${bin}" -shellcheck "${shellcheck_bin}" "$@"
