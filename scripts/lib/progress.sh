# shellcheck shell=bash
# progress.sh (sourced, not run): a ticker that says, while a long build
# runs, what is still building and for how long, so that a first run (which
# builds tools for minutes) does not look hung. Used by
# scripts/build-controlplane.sh and scripts/lib/cached-tool.sh.
#
#   progress_start TAG WHAT    start it (every BUILD_PROGRESS_INTERVAL seconds, default 30)
#   progress_stop              stop it (also on exit: it installs an EXIT trap)

_PROGRESS_PID=""

# elapsed SECONDS: "2m30s".
elapsed() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

progress_start() {
  local tag=$1 what=$2 start
  start="$(date +%s)"
  progress_stop
  (
    s=""
    trap 'kill "${s}" 2>/dev/null; exit 0' TERM
    while :; do
      sleep "${BUILD_PROGRESS_INTERVAL:-30}" & s=$!
      wait "${s}"
      printf '[%s] still building %s, %s\n' "${tag}" "${what}" "$(elapsed $(($(date +%s) - start)))" >&2
    done
  ) &
  _PROGRESS_PID=$!
  trap progress_stop EXIT
}

progress_stop() {
  [[ -n "${_PROGRESS_PID}" ]] || return 0
  kill "${_PROGRESS_PID}" 2>/dev/null || true
  wait "${_PROGRESS_PID}" 2>/dev/null || true
  _PROGRESS_PID=""
}
