#!/usr/bin/env bash
# helm-render.sh: renders the replicasd chart for the default values and for
# each variant in deploy/helm/replicasd/ci/<variant>-values.yaml, one file per
# variant, for checks on the result (`make helm-lint`) and for
# `kubectl apply --dry-run=server` against a real API server (e2e).
#
# Usage:
#   scripts/helm-render.sh [options] OUTDIR [-- HELM_TEMPLATE_ARGS...]
#   scripts/helm-render.sh --list
# Options:
#   --namespace NS   release namespace (default: replicasd-system)
#   --release NAME   release name (default: replicasd)
#
# Writes OUTDIR/<variant>.yaml (variant "default" for values.yaml alone) and
# OUTDIR/index.tsv, one line per variant, tab-separated:
#   variant  file  api-groups  namespaces
# api-groups: the non-built-in API groups the manifests use (for example
#   cert-manager.io,monitoring.coreos.com; "-" for none): a server-side dry
#   run needs their CRDs installed, or must skip the variant.
# namespaces: the namespaces the manifests put objects in besides the
#   release namespace ("-" for none); they must exist for a dry run.
#
# Helm comes from scripts/helm.sh (built once from the Go module proxy), or
# from $HELM when set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="${ROOT}/deploy/helm/replicasd"
NAMESPACE=replicasd-system
RELEASE=replicasd

die() { printf 'helm-render: %s\n' "$*" >&2; exit 1; }

# variants: "default", then each ci/<variant>-values.yaml in order.
variants() {
  echo default
  local f
  for f in "${CHART}"/ci/*-values.yaml; do
    [[ -e "${f}" ]] || continue
    f="${f##*/}"
    echo "${f%-values.yaml}"
  done
}

OUT=""
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --list) variants; exit 0 ;;
    --namespace) NAMESPACE="${2:?--namespace needs a value}"; shift ;;
    --release) RELEASE="${2:?--release needs a value}"; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    -*) die "unknown option: $1 (see --help)" ;;
    *) [[ -z "${OUT}" ]] || die "one OUTDIR only"; OUT="$1" ;;
  esac
  shift
done
[[ -n "${OUT}" ]] || die "usage: scripts/helm-render.sh [--namespace NS] [--release NAME] OUTDIR [-- HELM_ARGS...]"

HELM_BIN="$("${ROOT}/scripts/helm.sh")"
mkdir -p "${OUT}"
: > "${OUT}/index.tsv"

for v in $(variants); do
  args=()
  [[ "${v}" == default ]] || args=(-f "${CHART}/ci/${v}-values.yaml")
  file="${OUT}/${v}.yaml"
  if ! "${HELM_BIN}" template "${RELEASE}" "${CHART}" --namespace "${NAMESPACE}" \
        ${args[@]+"${args[@]}"} ${EXTRA[@]+"${EXTRA[@]}"} > "${file}.tmp"; then
    rm -f "${file}.tmp"
    die "rendering variant ${v} failed"
  fi
  mv -f "${file}.tmp" "${file}"
  # API groups with a dot that are not Kubernetes' own (*.k8s.io).
  groups="$(awk '/^apiVersion: [^\/]+\.[^\/]+\/[^\/]+$/ { split($2, p, "/"); if (p[1] !~ /(^|\.)k8s\.io$/) print p[1] }' "${file}" \
            | sort -u | paste -sd, -)"
  namespaces="$(awk -v ns="${NAMESPACE}" '/^  namespace: / && $2 != ns { print $2 }' "${file}" \
                | sort -u | paste -sd, -)"
  printf '%s\t%s\t%s\t%s\n' "${v}" "${file}" "${groups:--}" "${namespaces:--}" >> "${OUT}/index.tsv"
done
cat "${OUT}/index.tsv"
