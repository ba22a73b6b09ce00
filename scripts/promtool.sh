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

# shellcheck source=scripts/lib/cached-tool.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/cached-tool.sh"

cached_tool promtool "${PROMTOOL_VERSION}" github.com/prometheus/prometheus/cmd/promtool "" "${PROMTOOL:-}" "$@"
