{{/* Names, labels and computed values shared by the templates. */}}

{{- define "replicasd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release's full name: the prefix of every object it creates. */}}
{{- define "replicasd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "replicasd.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "replicasd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "replicasd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of every object, without app.kubernetes.io/component. */}}
{{- define "replicasd.commonLabels" -}}
helm.sh/chart: {{ include "replicasd.chart" . }}
{{ include "replicasd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: replicasd
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Labels of the objects that make up the server. */}}
{{- define "replicasd.labels" -}}
{{ include "replicasd.commonLabels" . }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "replicasd.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "replicasd.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Name of the RBAC objects. Cluster-wide ones carry the release namespace, so
two releases of the same name in different namespaces (for example shards,
or staging next to production) do not collide.
*/}}
{{- define "replicasd.rbacName" -}}
{{- printf "%s-%s" .Release.Namespace (include "replicasd.fullname" .) -}}
{{- end -}}

{{- define "replicasd.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the server certificate (tls.crt, tls.key). */}}
{{- define "replicasd.tlsSecretName" -}}
{{- if .Values.certManager.enabled -}}
{{- printf "%s-tls" (include "replicasd.fullname" .) -}}
{{- else -}}
{{- default (printf "%s-tls" (include "replicasd.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}
{{- end -}}

{{/*
The Secret holding the client CA bundle, or "" when the bundle is the ca.crt
of the cert-manager server certificate's Secret (mounted with the server
certificate).
*/}}
{{- define "replicasd.clientCASecretName" -}}
{{- if .Values.clientCA.existingSecret -}}
{{- .Values.clientCA.existingSecret -}}
{{- else if not .Values.certManager.enabled -}}
{{- printf "%s-client-ca" (include "replicasd.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The issuer cert-manager issues from (chart-made CA when selfSignedCA). */}}
{{- define "replicasd.issuerRef" -}}
{{- if .Values.certManager.selfSignedCA.enabled -}}
name: {{ include "replicasd.fullname" . }}-ca
kind: Issuer
group: cert-manager.io
{{- else -}}
name: {{ .Values.certManager.issuerRef.name }}
kind: {{ .Values.certManager.issuerRef.kind }}
group: {{ .Values.certManager.issuerRef.group }}
{{- end -}}
{{- end -}}

{{/* The authorization policy ConfigMap, "" when there is none. */}}
{{- define "replicasd.policyConfigMapName" -}}
{{- if .Values.authorizationPolicy.enabled -}}
{{- default (printf "%s-policy" (include "replicasd.fullname" .)) .Values.authorizationPolicy.existingConfigMap -}}
{{- end -}}
{{- end -}}

{{/*
Exactly what the server calls: the informer lists and watches Deployments,
the scaler gets and updates their scale subresource (patch for clients that
patch it). deploy/rbac/ holds the same rules as plain manifests, and
`make helm-lint` checks that both agree.
*/}}
{{- define "replicasd.rbacRules" -}}
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["apps"]
  resources: ["deployments/scale"]
  verbs: ["get", "update", "patch"]
{{- end -}}
