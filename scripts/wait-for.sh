#!/usr/bin/env bash
# wait-for.sh: retry a command until it succeeds; fail loudly, with the last
# lines of the given logs, when time runs out or the watched process exits.
# The GitHub workflow's waits use it, as the scripts do (scripts/lib/wait.sh).
#
# Usage:
#   scripts/wait-for.sh [--timeout SECONDS] [--interval SECONDS] [--pid PID]
#                       [--log FILE]... DESCRIPTION -- COMMAND [ARGS...]
#
#   --timeout   give up after this many seconds (default 60)
#   --interval  seconds between tries (default 1)
#   --pid       a process the wait is for (a server, a port-forward): when it
#               exits, stop waiting at once
#   --log       a log to show (its last 30 lines) on failure; repeatable
# Exit status: 0 once COMMAND succeeds, 1 on failure, 2 on bad usage.
set -euo pipefail

# shellcheck source=scripts/lib/wait.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib/wait.sh"

usage() {
  echo "usage: $0 [--timeout SECONDS] [--interval SECONDS] [--pid PID] [--log FILE]... DESCRIPTION -- COMMAND [ARGS...]" >&2
  exit 2
}

timeout=60 interval=1 pid="" logs="" what=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --timeout) timeout="${2:?}"; shift 2 ;;
    --interval) interval="${2:?}"; shift 2 ;;
    --pid) pid="${2:?}"; shift 2 ;;
    --log) logs="${logs:+${logs} }${2:?}"; shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) [[ -z "${what}" ]] || usage; what=$1; shift ;;
  esac
done
[[ -n "${what}" && $# -gt 0 ]] || usage
[[ "${timeout}" =~ ^[0-9]+$ ]] || usage

wait_for "${timeout}" "${interval}" "${pid}" "${what}" "${logs}" -- "$@"
