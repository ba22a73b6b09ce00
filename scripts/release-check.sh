#!/usr/bin/env bash
# release-check.sh DIST_DIR VERSION: checks what `make release` built. Every
# binary must be static (CGO_ENABLED=0), built with -trimpath for the OS and
# architecture its name says, with VERSION stamped in; SHA256SUMS must match;
# the binaries this machine can run must print VERSION with --version
# (replicasd) or `version` (replicactl).
set -euo pipefail

dist="${1:?usage: release-check.sh DIST_DIR VERSION}"
version="${2:?usage: release-check.sh DIST_DIR VERSION}"
host="$(go env GOOS)-$(go env GOARCH)"
failures=0
fail() { printf 'release-check: FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }

(cd "${dist}" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the files"

count=0
for bin in "${dist}"/*-"${version}"-*-*; do
  [[ -f "${bin}" ]] || continue
  count=$((count + 1))
  name="${bin##*/}"
  cmd="${name%%-"${version}"-*}"
  platform="${name##*-"${version}"-}" # os-arch
  os="${platform%-*}"; arch="${platform#*-}"
  info="$(go version -m "${bin}")" || { fail "${name}: not a Go binary"; continue; }
  grep -qE "^[[:space:]]+build[[:space:]]+CGO_ENABLED=0$" <<<"${info}" || fail "${name}: not built with CGO_ENABLED=0"
  grep -qE "^[[:space:]]+build[[:space:]]+-trimpath=true$" <<<"${info}" || fail "${name}: not built with -trimpath"
  grep -qE "^[[:space:]]+build[[:space:]]+GOOS=${os}$" <<<"${info}" || fail "${name}: not built for GOOS=${os}"
  grep -qE "^[[:space:]]+build[[:space:]]+GOARCH=${arch}$" <<<"${info}" || fail "${name}: not built for GOARCH=${arch}"
  # -trimpath keeps -ldflags out of the build info, so look for the stamped
  # string itself (the host's binaries are also run below).
  LC_ALL=C grep -qaF -- "${version}" "${bin}" || fail "${name}: version ${version} not stamped by -ldflags"
  if [[ "${platform}" == "${host}" ]]; then
    case "${cmd}" in
      replicasd) out="$("${bin}" --version)" ;;
      replicactl) out="$("${bin}" version)" ;;
      *) out="" ;;
    esac
    if grep -qF "${version}" <<<"${out}"; then
      echo "${name}: ${out}"
    else
      fail "${name}: its version output does not name ${version}: ${out}"
    fi
  fi
done
[[ "${count}" -gt 0 ]] || fail "no binaries for version ${version} in ${dist}"
[[ "${failures}" -eq 0 ]] || exit 1
echo "release-check: ${count} static binaries in ${dist}, checksums in ${dist}/SHA256SUMS"
