# shellcheck shell=bash
# cached-tool.sh: the part scripts/helm.sh and scripts/promtool.sh share
# (sourced, not run). Each builds one tool from the Go module proxy, through
# its pinned wrapper module scripts/tools/<name>/, into a cache outside the
# repository keyed by version:
#
#   ${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/replicasd}/bin/<name>-<version>/<name>
#
# An existing binary is not rebuilt, and a lock keeps two builds of the same
# tool from racing.

# cached_tool NAME VERSION PACKAGE LDFLAGS_FUNC OVERRIDE [-- ARGS...]
#   Prints the path of NAME's binary (building it first if needed), or with
#   "-- ARGS..." runs it. LDFLAGS_FUNC, when not empty, is a function that
#   prints the linker flags (called only to build, from the wrapper module's
#   directory); otherwise "-s -w". OVERRIDE, when not empty, is a binary to
#   use instead (the HELM or PROMTOOL environment variable).
cached_tool() {
  local name=$1 version=$2 pkg=$3 ldflags_func=$4 override=$5
  shift 5
  local lib_dir mod_dir cache_dir out bin
  lib_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  mod_dir="${lib_dir}/../tools/${name}"
  cache_dir="${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/replicasd}"
  out="${cache_dir}/bin/${name}-${version}/${name}"

  bin="${override}"
  if [[ -z "${bin}" ]]; then
    [[ -x "${out}" ]] || _cached_tool_build "${name}" "${version}" "${pkg}" "${ldflags_func}" "${mod_dir}" "${cache_dir}" "${out}"
    bin="${out}"
  fi
  if [[ "${1:-}" == "--" ]]; then
    shift
    exec "${bin}" "$@"
  fi
  echo "${bin}"
}

# shellcheck source=scripts/lib/progress.sh
source "$(dirname "${BASH_SOURCE[0]}")/progress.sh"

_cached_tool_log() { printf '[%s] %s\n' "$1" "$2" >&2; }

_cached_tool_build() {
  local name=$1 version=$2 pkg=$3 ldflags_func=$4 mod_dir=$5 cache_dir=$6 out=$7
  if ! command -v go >/dev/null; then
    _cached_tool_log "${name}" "error: go is not on PATH"
    exit 1
  fi
  mkdir -p "$(dirname "${out}")"
  exec 9>"${cache_dir}/.${name}-build.lock"
  command -v flock >/dev/null && flock 9
  [[ -x "${out}" ]] && return 0 # built by whoever held the lock

  local ldflags="-s -w"
  if [[ -n "${ldflags_func}" ]]; then
    ldflags="$(cd "${mod_dir}" && "${ldflags_func}")"
  fi
  local tmp="${out}.tmp.$$" start=${SECONDS} rc=0
  _cached_tool_log "${name}" "building ${name} ${version} (first time only; progress every ${BUILD_PROGRESS_INTERVAL:-30}s) -> ${out}"
  progress_start "${name}" "${name} ${version}"
  # GOWORK=off: a go.work in the repository must not leak into the wrapper
  # module. -mod=readonly: the committed go.mod/go.sum are complete.
  (cd "${mod_dir}" && CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath -ldflags "${ldflags//$'\n'/ }" -o "${tmp}" "${pkg}") || rc=$?
  progress_stop
  if [[ "${rc}" != 0 ]]; then
    rm -f "${tmp}"
    _cached_tool_log "${name}" "error: building ${name} failed"
    exit 1
  fi
  mv -f "${tmp}" "${out}"
  _cached_tool_log "${name}" "built ${name} in $((SECONDS - start))s"
}
