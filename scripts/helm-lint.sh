#!/usr/bin/env bash
# helm-lint.sh: `make helm-lint`. Lints the replicasd chart and checks what it
# renders, for the default values and for every variant under
# deploy/helm/replicasd/ci/:
#   1. `helm lint --strict` with each variant's values;
#   2. `helm template` of each variant (scripts/helm-render.sh), then the
#      exact set of objects each one must produce, and the settings that
#      make it what it claims (security context, RBAC rules, flags, mounts);
#   3. values that must be refused, with the message that says why;
#   4. the chart's RBAC rules equal deploy/rbac/, and its alerting rules equal
#      deploy/monitoring/prometheus-rules.yaml when that file exists.
# Every failure is listed; the exit status is 1 when there is any.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CHART="${ROOT}/deploy/helm/replicasd"
NS=replicasd-system
REL=replicasd
NAME=replicasd # the release's full name: release "replicasd" of chart "replicasd"
HELM_BIN="$("${ROOT}/scripts/helm.sh")"
WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT

failures=0
fail() { printf 'FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }
pass() { printf 'ok    %s\n' "$*"; }

# objects FILE: "Kind namespace name" of every rendered object, sorted.
objects() {
  awk '
    function flush() { if (kind != "") print kind, (ns == "" ? "-" : ns), name; kind = ""; ns = ""; name = ""; inmeta = 0 }
    /^---/ { flush(); next }
    /^kind: / { kind = $2; next }
    /^metadata:/ { inmeta = 1; next }
    /^[^ #]/ { inmeta = 0 }
    inmeta && /^  name: / { name = $2 }
    inmeta && /^  namespace: / { ns = $2 }
    END { flush() }
  ' "$1" | sort
}

# doc FILE KIND NAME: the first rendered object KIND named NAME.
doc() {
  awk -v kind="$2" -v name="$3" '
    function flush() { if (k == kind && n == name && !done) { printf "%s", buf; done = 1 } buf = ""; k = ""; n = "" }
    /^---/ { flush(); next }
    { buf = buf $0 "\n" }
    /^kind: / { k = $2 }
    /^  name: / && n == "" { n = $2 }
    END { flush() }
  ' "$1"
}

# rules TEXT: the rules: block of an RBAC object, whitespace-normalized.
rules() { awk '/^rules:/ { on = 1; next } on && /^[^ ]/ { on = 0 } on { gsub(/^[ ]+/, ""); print }'; }

# expect_objects VARIANT EXPECTED...: the variant renders exactly these.
expect_objects() {
  local v="$1"; shift
  local want got
  want="$(printf '%s\n' "$@" | sort)"
  got="$(objects "${WORK}/${v}.yaml")"
  if [[ "${want}" == "${got}" ]]; then
    pass "${v}: renders exactly $# objects"
  else
    fail "${v}: rendered objects differ from the expected ones (- expected, + rendered):"
    diff <(echo "${want}") <(echo "${got}") | grep '^[<>]' | sed 's/^</  -/; s/^>/  +/' >&2 || true
  fi
}

# expect_in VARIANT KIND NAME LINE...: object KIND/NAME has each LINE (fixed
# string, leading spaces ignored).
expect_in() {
  local v="$1" kind="$2" name="$3"; shift 3
  local text line missing=0
  text="$(doc "${WORK}/${v}.yaml" "${kind}" "${name}" | sed 's/^ *//')"
  if [[ -z "${text}" ]]; then
    fail "${v}: no ${kind} ${name}"
    return
  fi
  for line in "$@"; do
    if ! grep -qxF -- "${line}" <<<"${text}"; then
      fail "${v}: ${kind} ${name} lacks \"${line}\""
      missing=1
    fi
  done
  [[ "${missing}" == 1 ]] || pass "${v}: ${kind} ${name} has $# expected settings"
}

# expect_not_in VARIANT KIND NAME LINE...: object KIND/NAME has no LINE.
expect_not_in() {
  local v="$1" kind="$2" name="$3"; shift 3
  local text line
  text="$(doc "${WORK}/${v}.yaml" "${kind}" "${name}" | sed 's/^ *//')"
  for line in "$@"; do
    if grep -qxF -- "${line}" <<<"${text}"; then
      fail "${v}: ${kind} ${name} has \"${line}\""
    else
      pass "${v}: ${kind} ${name} has no \"${line}\""
    fi
  done
}

# expect_refused NAME MESSAGE HELM_ARGS...: rendering with HELM_ARGS fails
# and says MESSAGE.
expect_refused() {
  local what="$1" msg="$2"; shift 2
  local out
  if out="$("${HELM_BIN}" template "${REL}" "${CHART}" --namespace "${NS}" "$@" 2>&1)"; then
    fail "refuses ${what}: rendering succeeded"
  elif ! grep -qF -- "${msg}" <<<"${out}"; then
    fail "refuses ${what}: the error does not say \"${msg}\": ${out}"
  else
    pass "refuses ${what}"
  fi
}

# 1. helm lint, every variant.
mapfile -t VARIANTS < <("${ROOT}/scripts/helm-render.sh" --list)
for v in "${VARIANTS[@]}"; do
  args=()
  [[ "${v}" == default ]] || args=(-f "${CHART}/ci/${v}-values.yaml")
  if out="$("${HELM_BIN}" lint --strict "${CHART}" --namespace "${NS}" ${args[@]+"${args[@]}"} 2>&1)"; then
    pass "helm lint --strict (${v})"
  else
    fail "helm lint --strict (${v}):"; echo "${out}" >&2
  fi
done

# 2. helm template, every variant, and what each must render.
"${ROOT}/scripts/helm-render.sh" --namespace "${NS}" --release "${REL}" "${WORK}" >/dev/null

for v in "${VARIANTS[@]}"; do
  case "${v}" in
    default|audit-file|cert-manager|cert-manager-issuer|existing-secrets|namespaced|networkpolicy|policy|policy-existing|prometheusrule|servicemonitor) ;;
    *) fail "variant ${v}: ci/${v}-values.yaml has no expectations in scripts/helm-lint.sh" ;;
  esac
done

CORE=("ServiceAccount ${NS} ${NAME}" "Service ${NS} ${NAME}" "Deployment ${NS} ${NAME}"
      "PodDisruptionBudget ${NS} ${NAME}")
CLUSTER_RBAC=("ClusterRole - ${NS}-${NAME}" "ClusterRoleBinding - ${NS}-${NAME}")

expect_objects default "${CORE[@]}" "${CLUSTER_RBAC[@]}"
expect_objects existing-secrets "${CORE[@]}" "${CLUSTER_RBAC[@]}"
expect_objects namespaced "${CORE[@]}" \
  "Role replicasd-e2e-a ${NS}-${NAME}" "RoleBinding replicasd-e2e-a ${NS}-${NAME}" \
  "Role replicasd-e2e-b ${NS}-${NAME}" "RoleBinding replicasd-e2e-b ${NS}-${NAME}"
expect_objects cert-manager "${CORE[@]}" "${CLUSTER_RBAC[@]}" \
  "Issuer ${NS} ${NAME}-selfsigned" "Certificate ${NS} ${NAME}-ca" "Issuer ${NS} ${NAME}-ca" \
  "Certificate ${NS} ${NAME}" "Certificate ${NS} ${NAME}-client-admin" "Certificate ${NS} ${NAME}-client-viewer"
expect_objects cert-manager-issuer "${CORE[@]}" "${CLUSTER_RBAC[@]}" "Certificate ${NS} ${NAME}"
expect_objects policy "${CORE[@]}" "${CLUSTER_RBAC[@]}" "ConfigMap ${NS} ${NAME}-policy"
expect_objects policy-existing "${CORE[@]}" "${CLUSTER_RBAC[@]}"
expect_objects servicemonitor "${CORE[@]}" "${CLUSTER_RBAC[@]}" "ServiceMonitor ${NS} ${NAME}"
expect_objects prometheusrule "${CORE[@]}" "${CLUSTER_RBAC[@]}" "PrometheusRule ${NS} ${NAME}"
expect_objects networkpolicy "${CORE[@]}" "${CLUSTER_RBAC[@]}" "NetworkPolicy ${NS} ${NAME}"

# The Deployment: restricted Pod Security, its own token only, probes on the
# ops port, graceful termination, the certificate files.
expect_in default Deployment "${NAME}" \
  "replicas: 2" \
  "runAsNonRoot: true" "runAsUser: 65532" "type: RuntimeDefault" \
  "allowPrivilegeEscalation: false" "readOnlyRootFilesystem: true" "- ALL" \
  "automountServiceAccountToken: false" \
  "mountPath: /var/run/secrets/kubernetes.io/serviceaccount" "- serviceAccountToken:" \
  "path: /livez" "path: /readyz" "startupProbe:" "livenessProbe:" "readinessProbe:" "port: ops" \
  "terminationGracePeriodSeconds: 30" "seconds: 5" "- --shutdown-timeout=15s" \
  "- --tls-cert-file=/etc/replicasd/tls/tls.crt" "- --tls-private-key-file=/etc/replicasd/tls/tls.key" \
  "- --client-ca-file=/etc/replicasd/client-ca/ca.crt" \
  "secretName: ${NAME}-tls" "secretName: ${NAME}-client-ca" \
  "topologySpreadConstraints:" "memory: 256Mi" \
  "image: \"ghcr.io/replicasd/replicasd:$(awk '/^appVersion:/ { gsub(/"/, "", $2); print $2 }' "${CHART}/Chart.yaml")\""
expect_not_in default Deployment "${NAME}" "- --authorization-policy-file=/etc/replicasd/policy/policy.yaml"
expect_in default ServiceAccount "${NAME}" "automountServiceAccountToken: false"
expect_in default Service "${NAME}" "port: 8443" "port: 9090" "targetPort: api" "targetPort: ops"
expect_in default PodDisruptionBudget "${NAME}" "maxUnavailable: 1"
expect_in default ClusterRoleBinding "${NS}-${NAME}" "name: ${NAME}" "namespace: ${NS}"
expect_in existing-secrets Deployment "${NAME}" \
  "replicas: 3" "secretName: my-server-tls" "secretName: my-client-ca" \
  "image: \"registry.example.com/replicasd@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"" \
  "- \"--read-your-writes-timeout=10s\"" "- name: TZ"
expect_in existing-secrets Deployment "${NAME}" "- --client-crl-file=/etc/replicasd/crl/crl.pem" "secretName: my-client-crl"
expect_not_in default Deployment "${NAME}" "- --client-crl-file=/etc/replicasd/crl/crl.pem"
expect_objects audit-file "${CORE[@]}" "${CLUSTER_RBAC[@]}"
expect_in audit-file Deployment "${NAME}" \
  "- --client-crl-file=/etc/replicasd/crl/ca.crl" "name: replicasd-crl" \
  "- \"--audit-log-path=/var/log/replicasd/audit.log\"" "- mountPath: /var/log/replicasd" "sizeLimit: 256Mi"
expect_in existing-secrets Service "${NAME}" "type: NodePort" "nodePort: 30443" "nodePort: 30090"
expect_in namespaced Deployment "${NAME}" \
  "- --namespace=replicasd-e2e-a" "- --namespace=replicasd-e2e-b" "- --default-namespace=replicasd-e2e-a"
expect_not_in default Deployment "${NAME}" "- --namespace=replicasd-e2e-a"
expect_in cert-manager Deployment "${NAME}" "- --client-ca-file=/etc/replicasd/tls/ca.crt" "secretName: ${NAME}-tls"
expect_not_in cert-manager Deployment "${NAME}" "secretName: ${NAME}-client-ca"
expect_in cert-manager Certificate "${NAME}" \
  "secretName: ${NAME}-tls" "- ${NAME}.${NS}.svc" "- ${NAME}.${NS}.svc.cluster.local" "- \"localhost\"" \
  "- server auth" "name: ${NAME}-ca"
expect_in cert-manager Certificate "${NAME}-client-admin" \
  "commonName: \"admin\"" "- sre" "- client auth" "name: ${NAME}-ca" "secretName: ${NAME}-client-admin"
expect_in cert-manager Certificate "${NAME}-ca" "isCA: true" "name: ${NAME}-selfsigned"
expect_in cert-manager-issuer Certificate "${NAME}" "name: company-ca" "kind: ClusterIssuer"
expect_in cert-manager-issuer Deployment "${NAME}" \
  "- --client-ca-file=/etc/replicasd/client-ca/bundle.pem" "secretName: company-client-ca" "secretName: ${NAME}-tls"
expect_in policy Deployment "${NAME}" "- --authorization-policy-file=/etc/replicasd/policy/policy.yaml" "name: ${NAME}-policy"
expect_in policy ConfigMap "${NAME}-policy" "policy.yaml: |" "rules:" "- ci-bot" "maxReplicas: 10"
expect_in policy-existing Deployment "${NAME}" \
  "- --authorization-policy-file=/etc/replicasd/policy/rules.yaml" "name: replicasd-policy"
expect_in servicemonitor ServiceMonitor "${NAME}" "- port: ops" "path: /metrics" "release: kube-prometheus-stack"
expect_in prometheusrule PrometheusRule "${NAME}" "groups:" "release: kube-prometheus-stack" "- alert: ReplicasdDown"
expect_in networkpolicy NetworkPolicy "${NAME}" "- Ingress" "- port: api" "- port: ops" \
  "kubernetes.io/metadata.name: monitoring" "replicasd-client: \"true\""

# 3. Values the chart must refuse.
expect_refused "a grace period shorter than the drain" "must exceed preStopSleepSeconds + server.shutdownTimeoutSeconds" \
  --set terminationGracePeriodSeconds=20
expect_refused "a startup probe shorter than the cache sync timeout" "not more than server.cacheSyncTimeoutSeconds" \
  --set server.cacheSyncTimeoutSeconds=120
expect_refused "both an existing Secret and cert-manager" "set either tls.existingSecret or certManager.enabled" \
  --set certManager.enabled=true --set certManager.issuerRef.name=x --set tls.existingSecret=y
expect_refused "cert-manager without an issuer" "certManager.enabled needs certManager.issuerRef.name" \
  --set certManager.enabled=true
expect_refused "client certificates without cert-manager" "certManager.clientCertificates needs certManager.enabled" \
  --set 'certManager.clientCertificates[0].name=a'
expect_refused "a default namespace that is not watched" 'server.defaultNamespace "c" is not one of watchNamespaces' \
  --set 'watchNamespaces={a,b}' --set server.defaultNamespace=c
expect_refused "a namespace that is not a DNS label" "does not match pattern" --set 'watchNamespaces={Not_A_Label}'
expect_refused "a namespace listed twice" "items at 0 and 1 are equal" --set 'watchNamespaces={a,a}'
expect_refused "a CRL from both a Secret and a ConfigMap" "set either clientCRL.existingSecret or clientCRL.existingConfigMap" \
  --set clientCRL.existingSecret=a --set clientCRL.existingConfigMap=b
expect_refused "an unknown value" "additional properties 'replicas' not allowed" --set replicas=3
expect_refused "an unknown log level" "value must be one of" --set server.logLevel=verbose
expect_refused "both a policy ConfigMap and rules" "set either authorizationPolicy.existingConfigMap or authorizationPolicy.rules" \
  --set authorizationPolicy.enabled=true --set authorizationPolicy.existingConfigMap=x \
  --set 'authorizationPolicy.rules[0].groups[0]=sre' --set 'authorizationPolicy.rules[0].verbs[0]=get' \
  --set 'authorizationPolicy.rules[0].namespaces[0]=*'

# 4. One source of truth for the RBAC rules and the alerting rules.
chart_rules="$(doc "${WORK}/default.yaml" ClusterRole "${NS}-${NAME}" | rules)"
for f in "${ROOT}/deploy/rbac/clusterrole.yaml" "${ROOT}/deploy/rbac/namespaced/role.yaml"; do
  plain="$(awk '/^---/ { exit } { print }' "${f}" | rules)"
  if [[ -n "${chart_rules}" && "${chart_rules}" == "${plain}" ]]; then
    pass "chart RBAC rules equal ${f#"${ROOT}"/}"
  else
    fail "chart RBAC rules differ from ${f#"${ROOT}"/}:"; diff <(echo "${chart_rules}") <(echo "${plain}") >&2 || true
  fi
done
ns_rules="$(doc "${WORK}/namespaced.yaml" Role "${NS}-${NAME}" | rules)"
if [[ "${ns_rules}" == "${chart_rules}" ]]; then
  pass "namespaced Roles carry the ClusterRole's rules"
else
  fail "namespaced Roles' rules differ from the ClusterRole's"
fi

monitoring="${ROOT}/deploy/monitoring/prometheus-rules.yaml"
if [[ -f "${monitoring}" ]]; then
  if cmp -s "${monitoring}" "${CHART}/files/prometheus-rules.yaml"; then
    pass "chart alerting rules equal deploy/monitoring/prometheus-rules.yaml"
  else
    fail "deploy/helm/replicasd/files/prometheus-rules.yaml differs from deploy/monitoring/prometheus-rules.yaml; run make helm-sync-rules"
  fi
else
  pass "deploy/monitoring/prometheus-rules.yaml does not exist yet: the chart keeps its provisional rules"
fi

if [[ "${failures}" -gt 0 ]]; then
  printf '\nhelm-lint: %d check(s) failed\n' "${failures}" >&2
  exit 1
fi
printf '\nhelm-lint: every check passed (%d variants)\n' "${#VARIANTS[@]}"
