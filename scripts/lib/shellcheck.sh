# shellcheck shell=bash
# ensure_shellcheck (sourced from this file, not run) prints where the
# ShellCheck binary is, installing Debian's package first when it is
# missing. CI runs as root; elsewhere sudo is used. SHELLCHECK=/path
# overrides it.

ensure_shellcheck() {
  if [[ -n "${SHELLCHECK:-}" ]]; then
    echo "${SHELLCHECK}"
    return 0
  fi
  if ! command -v shellcheck >/dev/null; then
    local sudo=()
    [[ "$(id -u)" -eq 0 ]] || sudo=(sudo)
    printf '[shellcheck] not installed: apt-get update && apt-get install -y shellcheck\n' >&2
    if ! { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y --no-install-recommends shellcheck >&2; }; then
      printf '[shellcheck] error: could not install it; run apt-get install shellcheck, or set SHELLCHECK\n' >&2
      return 1
    fi
  fi
  command -v shellcheck
}
