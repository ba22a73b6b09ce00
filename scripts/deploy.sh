#!/usr/bin/env bash
# deploy.sh: `make deploy`. Installs or upgrades the replicasd Helm chart into
# the cluster KUBECONFIG points at, with the server certificate and client CA
# from existing Secrets.
#
#   make deploy                        # dev certificates (see below), image $IMAGE:$IMAGE_TAG
#   make deploy TLS_SECRET=my-tls CLIENT_CA_SECRET=my-ca   # Secrets you made
#   make deploy HELM_ARGS="--set replicaCount=3 -f my-values.yaml"
#   make undeploy                      # helm uninstall (Secrets and namespace stay)
#   scripts/deploy.sh --template FILE  # everything but the install: namespace, certificates and
#                                      # Secrets applied, the chart rendered (helm template) into FILE
#
# Without TLS_SECRET, it makes development certificates once, in
# certs/deploy-<namespace>/ (a CA, a server certificate naming the Service
# and localhost, client certificates admin (group sre) and viewer (group
# viewers)), and stores them in the Secrets <release>-tls and
# <release>-client-ca. For cert-manager instead, pass
# HELM_ARGS="--set certManager.enabled=true --set certManager.issuerRef.name=..."
# together with TLS_SECRET= left empty and NO_DEV_CERTS=1.
#
# Environment (make variables of the same name pass through):
#   DEPLOY_NAMESPACE   namespace (default replicasd-system; created with the
#                      restricted Pod Security Standard enforced if missing)
#   DEPLOY_RELEASE     Helm release name (default replicasd)
#   IMAGE, IMAGE_TAG   the image (as built by `make image`)
#   TLS_SECRET, CLIENT_CA_SECRET   existing Secrets to use
#   NO_DEV_CERTS=1     neither make nor pass certificate Secrets
#   DEPLOY_CERTS_DIR   where the development certificates are made (default
#                      certs/deploy-<namespace>)
#   HELM_ARGS          more arguments for helm upgrade --install
#   DEPLOY_WAIT        "true" (default) waits for the rollout, up to DEPLOY_TIMEOUT (5m)
#   KUBECTL            kubectl to use (default: on PATH, else the one
#                      scripts/build-controlplane.sh builds)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

NS="${DEPLOY_NAMESPACE:-replicasd-system}"
RELEASE="${DEPLOY_RELEASE:-replicasd}"
IMAGE="${IMAGE:-ghcr.io/replicasd/replicasd}"
IMAGE_TAG="${IMAGE_TAG:-}"
TLS_SECRET="${TLS_SECRET:-}"
CLIENT_CA_SECRET="${CLIENT_CA_SECRET:-}"
NO_DEV_CERTS="${NO_DEV_CERTS:-}"
HELM_ARGS="${HELM_ARGS:-}"
WAIT="${DEPLOY_WAIT:-true}"
TIMEOUT="${DEPLOY_TIMEOUT:-5m}"
CHART=deploy/helm/replicasd
BIN=bin/replicasd

log() { printf '>> %s\n' "$*" >&2; }
die() { printf 'deploy: %s\n' "$*" >&2; exit 1; }

HELM="$(scripts/helm.sh)"
KUBECTL="${KUBECTL:-$(command -v kubectl || true)}"
if [[ -z "${KUBECTL}" ]]; then
  KUBECTL="$(scripts/build-controlplane.sh --path kubectl)"
fi

if [[ "${1:-}" == "--uninstall" ]]; then
  "${HELM}" uninstall "${RELEASE}" --namespace "${NS}" --wait
  exit 0
fi
TEMPLATE_OUT=""
if [[ "${1:-}" == "--template" ]]; then
  TEMPLATE_OUT="${2:?--template needs an output file}"
fi

"${KUBECTL}" version >/dev/null 2>&1 ||
  die "no cluster answers (KUBECONFIG=${KUBECONFIG:-~/.kube/config}); point KUBECONFIG at one, e.g. \`make cluster-up\`"
log "deploying release ${RELEASE} into namespace ${NS} of $("${KUBECTL}" config current-context 2>/dev/null || echo "the current context")"

if ! "${KUBECTL}" get namespace "${NS}" >/dev/null 2>&1; then
  log "creating namespace ${NS} (Pod Security: restricted)"
  "${KUBECTL}" apply -f - <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: ${NS}
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: latest
    pod-security.kubernetes.io/warn: restricted
YAML
fi

# apply_secret NAME KUBECTL_CREATE_ARGS...: create or update a Secret.
apply_secret() {
  local name="$1"; shift
  "${KUBECTL}" create secret "$@" --namespace "${NS}" --dry-run=client -o yaml "${name}" |
    "${KUBECTL}" apply -f - >/dev/null
}

set_args=()
if [[ -z "${TLS_SECRET}" && -z "${NO_DEV_CERTS}" ]]; then
  # The release's full name, as the chart computes it.
  if [[ "${RELEASE}" == *replicasd* ]]; then fullname="${RELEASE}"; else fullname="${RELEASE}-replicasd"; fi
  certs="${DEPLOY_CERTS_DIR:-certs/deploy-${NS}}"
  if [[ ! -f "${certs}/server.crt" ]]; then
    log "making development certificates in ${certs}/"
    names=()
    for n in "${fullname}" "${fullname}.${NS}" "${fullname}.${NS}.svc" "${fullname}.${NS}.svc.cluster.local" localhost 127.0.0.1; do
      names+=(--server-name "${n}")
    done
    "${BIN}" certs --out "${certs}" --force "${names[@]}" --client admin:sre --client viewer:viewers >&2
  fi
  TLS_SECRET="${RELEASE}-tls"
  CLIENT_CA_SECRET="${CLIENT_CA_SECRET:-${RELEASE}-client-ca}"
  log "storing ${certs}/server.crt in Secret ${TLS_SECRET}, ${certs}/ca.crt in Secret ${CLIENT_CA_SECRET}"
  apply_secret "${TLS_SECRET}" tls --cert="${certs}/server.crt" --key="${certs}/server.key"
  apply_secret "${CLIENT_CA_SECRET}" generic --from-file=ca.crt="${certs}/ca.crt"
fi
[[ -z "${TLS_SECRET}" ]] || set_args+=(--set-string "tls.existingSecret=${TLS_SECRET}")
[[ -z "${CLIENT_CA_SECRET}" ]] || set_args+=(--set-string "clientCA.existingSecret=${CLIENT_CA_SECRET}")
set_args+=(--set-string "image.repository=${IMAGE}")
[[ -z "${IMAGE_TAG}" ]] || set_args+=(--set-string "image.tag=${IMAGE_TAG}")

if [[ -n "${TEMPLATE_OUT}" ]]; then
  # The same release, values and Secrets as the install below, rendered
  # only: scripts/e2e-external.sh runs the result with scripts/chartrun.
  log "helm template ${RELEASE} ${CHART} --namespace ${NS} ${set_args[*]} ${HELM_ARGS} > ${TEMPLATE_OUT}"
  # shellcheck disable=SC2086 # HELM_ARGS is a list of arguments
  "${HELM}" template "${RELEASE}" "${CHART}" --namespace "${NS}" "${set_args[@]}" ${HELM_ARGS} >"${TEMPLATE_OUT}"
  exit 0
fi

wait_args=()
[[ "${WAIT}" != true ]] || wait_args=(--wait --timeout "${TIMEOUT}")

log "helm upgrade --install ${RELEASE} ${CHART} --namespace ${NS} ${set_args[*]} ${wait_args[*]} ${HELM_ARGS}"
# shellcheck disable=SC2086 # HELM_ARGS is a list of arguments
"${HELM}" upgrade --install "${RELEASE}" "${CHART}" --namespace "${NS}" \
  "${set_args[@]}" ${wait_args[@]+"${wait_args[@]}"} ${HELM_ARGS}

if [[ -n "${certs:-}" ]]; then
  k=kubectl
  [[ "$(command -v kubectl || true)" == "${KUBECTL}" ]] || k="${KUBECTL}"
  cat >&2 <<TXT

Try it with the development client certificate (admin, group sre):

  ${k} -n ${NS} port-forward service/${fullname} 8443:8443 &
  curl --cacert ${certs}/ca.crt --cert ${certs}/admin.crt --key ${certs}/admin.key \\
    https://localhost:8443/api/v1/deployments
TXT
fi
