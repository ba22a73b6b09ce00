#!/usr/bin/env bash
# cleanup.sh: stop what a test run killed by its timeout (or Ctrl-C) left
# behind, so the next run starts clean. The make targets call it before they
# start their suites. It stops only processes that are provably ours, by pid:
# their executable is one this repository built (the control-plane cache, or
# this checkout's bin/), their command line has the marks of a test run, and
# the test binary that started them is gone. A suite that is still running
# (another checkout's, or a parallel make) keeps its processes.
#
# Usage:
#   scripts/cleanup.sh envtest            etcd and kube-apiserver that envtest started
#                                         (from the cache, data under k8s_test_framework_*)
#                                         whose integration test binary is gone
#   scripts/cleanup.sh servers BIN MARK   processes of BIN whose command line holds MARK
#                                         and whose test binary is gone (e2e's servers)
#   scripts/cleanup.sh pidfile FILE EXE   the process FILE names, if it is still EXE; then
#                                         removes FILE
#
# Environment: REPLICASD_CACHE_DIR as scripts/build-controlplane.sh.
set -euo pipefail

CACHE_DIR="${REPLICASD_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/replicasd}"

log() { printf '[cleanup] %s\n' "$*" >&2; }

# exe_of PID: the process's executable (even when the file was replaced
# since it started).
exe_of() {
  local exe
  exe="$(readlink "/proc/$1/exe" 2>/dev/null)" || return 1
  echo "${exe% (deleted)}"
}

cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }

# orphaned PID: the process was started by a test binary (*.test) that is
# gone: its parent now is not a *.test binary (init, or a subreaper).
orphaned() {
  local ppid parent
  ppid="$(awk '/^PPid:/ {print $2}' "/proc/$1/status" 2>/dev/null)" || return 1
  [[ -n "${ppid}" ]] || return 1
  parent="$(exe_of "${ppid}" 2>/dev/null || true)"
  [[ "${parent}" != *.test ]]
}

# stop PID WHAT: SIGTERM, up to 10 s to exit, then SIGKILL.
stop() {
  local pid=$1 what=$2 i
  log "stopping ${what} (pid ${pid}), left behind by an earlier run: $(cmdline_of "${pid}" | cut -c1-200)"
  kill -TERM "${pid}" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "${pid}" 2>/dev/null || return 0
    sleep 0.1
  done
  log "pid ${pid} ignored SIGTERM for 10s: SIGKILL"
  kill -KILL "${pid}" 2>/dev/null || true
}

# stop_orphans EXE MARK WHAT: stop every orphaned process whose executable
# is EXE (or is under it, when EXE ends in /) and whose command line
# contains MARK.
stop_orphans() {
  local exe=$1 mark=$2 what=$3 link pid n=0 patterns
  # A prefix ending in / is a directory; otherwise the executable itself
  # (bin/replicasd, not bin/replicasd-bench), maybe replaced since it started.
  if [[ "${exe}" == */ ]]; then patterns=(-lname "${exe}*"); else patterns=(-lname "${exe}" -o -lname "${exe} (deleted)"); fi
  # One find over /proc instead of a loop of forks: fast on a loaded machine.
  while read -r link; do
    pid="${link#/proc/}"; pid="${pid%/exe}"
    [[ "${pid}" =~ ^[0-9]+$ && "${pid}" != "$$" ]] || continue
    [[ "$(cmdline_of "${pid}")" == *"${mark}"* ]] || continue
    orphaned "${pid}" || continue
    stop "${pid}" "${what} $(basename "$(exe_of "${pid}")")"
    n=$((n + 1))
  done < <(find /proc -mindepth 2 -maxdepth 2 -name exe \( "${patterns[@]}" \) 2>/dev/null)
  (( n == 0 )) || log "stopped ${n} stale ${what} process(es)"
}

case "${1:-}" in
  envtest)
    # envtest runs the cache's binaries (through the envtest-<version>
    # symlinks) with --data-dir/--cert-dir under a k8s_test_framework_* temp dir.
    stop_orphans "${CACHE_DIR}/bin/" k8s_test_framework_ envtest ;;
  servers)
    [[ $# -eq 3 ]] || { log "usage: $0 servers BIN MARK"; exit 2; }
    bin="$(cd "$(dirname "$2")" 2>/dev/null && pwd)/$(basename "$2")" || exit 0
    stop_orphans "${bin}" "$3" "test server" ;;
  pidfile)
    [[ $# -eq 3 ]] || { log "usage: $0 pidfile FILE EXE"; exit 2; }
    [[ -f "$2" ]] || exit 0
    pid="$(tr -dc '0-9' <"$2")"
    if [[ -n "${pid}" ]] && [[ "$(exe_of "${pid}" || true)" == "$(readlink -f "$3" || echo "$3")" ]]; then
      stop "${pid}" "$(basename "$3") of pid file $2"
    fi
    rm -f "$2" ;;
  *) log "usage: $0 envtest | servers BIN MARK | pidfile FILE EXE"; exit 2 ;;
esac
