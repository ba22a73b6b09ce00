# shellcheck shell=bash
# wait.sh (sourced, not run): wait_for, the one wait loop of the scripts and
# the GitHub workflow (through scripts/wait-for.sh). It never carries on
# silently: when time runs out, or the process it watches exits, it says so
# and prints the last lines of the logs that tell why, then returns 1.

# wait_for TIMEOUT INTERVAL PID DESCRIPTION LOGS -- COMMAND...
#   Runs COMMAND (output discarded) every INTERVAL seconds until it succeeds
#   (return 0), for at most TIMEOUT seconds. PID, when not empty, is a process
#   the wait is for: its exit ends the wait at once. LOGS is a
#   space-separated list of files whose last WAIT_LOG_LINES (default 30)
#   lines are printed to stderr on failure.
wait_for() {
  local timeout=$1 interval=$2 pid=$3 what=$4 logs=$5
  shift 5
  [[ "${1:-}" == "--" ]] && shift
  local deadline=$((SECONDS + timeout)) why=""
  until "$@" >/dev/null 2>&1; do
    if [[ -n "${pid}" ]] && ! kill -0 "${pid}" 2>/dev/null; then
      why="process ${pid} exited while waiting for ${what}"
    elif (( SECONDS >= deadline )); then
      why="timed out after ${timeout}s waiting for ${what}"
    fi
    if [[ -n "${why}" ]]; then
      printf 'error: %s (last tried: %s)\n' "${why}" "$*" >&2
      _wait_show_logs "${logs}"
      return 1
    fi
    sleep "${interval}"
  done
}

_wait_show_logs() {
  local log
  for log in $1; do
    if [[ -s "${log}" ]]; then
      printf -- '--- last %s lines of %s ---\n' "${WAIT_LOG_LINES:-30}" "${log}" >&2
      tail -n "${WAIT_LOG_LINES:-30}" "${log}" >&2
    else
      printf -- '--- %s is empty or missing ---\n' "${log}" >&2
    fi
  done
}
