{{/*
Checks across values that values.schema.json cannot express. Every problem
is reported at once, as the server itself does with its flags.
*/}}
{{- define "replicasd.validate" -}}
{{- $v := .Values -}}
{{- $errs := list -}}
{{- $drain := add $v.preStopSleepSeconds $v.server.shutdownTimeoutSeconds -}}
{{- if le (int $v.terminationGracePeriodSeconds) (int $drain) -}}
{{- $errs = append $errs (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + server.shutdownTimeoutSeconds (%d), or the kubelet kills requests still draining" (int $v.terminationGracePeriodSeconds) (int $drain)) -}}
{{- end -}}
{{- $startup := mul $v.probes.startup.periodSeconds $v.probes.startup.failureThreshold -}}
{{- if le (int $startup) (int $v.server.cacheSyncTimeoutSeconds) -}}
{{- $errs = append $errs (printf "probes.startup allows %ds (periodSeconds x failureThreshold), not more than server.cacheSyncTimeoutSeconds (%d): a slow first sync would restart the pod" (int $startup) (int $v.server.cacheSyncTimeoutSeconds)) -}}
{{- end -}}
{{- if eq (int $v.ports.api) (int $v.ports.ops) -}}
{{- $errs = append $errs (printf "ports.api and ports.ops must differ (both %d)" (int $v.ports.api)) -}}
{{- end -}}
{{- if ne (len $v.watchNamespaces) (len (uniq $v.watchNamespaces)) -}}
{{- $errs = append $errs (printf "watchNamespaces lists a namespace twice: %v" $v.watchNamespaces) -}}
{{- end -}}
{{- if and $v.watchNamespaces $v.server.defaultNamespace (not (has $v.server.defaultNamespace $v.watchNamespaces)) -}}
{{- $errs = append $errs (printf "server.defaultNamespace %q is not one of watchNamespaces %v" $v.server.defaultNamespace $v.watchNamespaces) -}}
{{- end -}}
{{- if $v.certManager.enabled -}}
{{- if $v.tls.existingSecret -}}
{{- $errs = append $errs "set either tls.existingSecret or certManager.enabled, not both: cert-manager writes the server certificate's Secret itself" -}}
{{- end -}}
{{- if and (not $v.certManager.selfSignedCA.enabled) (not $v.certManager.issuerRef.name) -}}
{{- $errs = append $errs "certManager.enabled needs certManager.issuerRef.name (or certManager.selfSignedCA.enabled)" -}}
{{- end -}}
{{- else -}}
{{- if $v.certManager.selfSignedCA.enabled -}}
{{- $errs = append $errs "certManager.selfSignedCA.enabled needs certManager.enabled" -}}
{{- end -}}
{{- if $v.certManager.clientCertificates -}}
{{- $errs = append $errs "certManager.clientCertificates needs certManager.enabled" -}}
{{- end -}}
{{- end -}}
{{- $clientNames := list -}}
{{- range $v.certManager.clientCertificates -}}
{{- $clientNames = append $clientNames .name -}}
{{- end -}}
{{- if ne (len $clientNames) (len (uniq $clientNames)) -}}
{{- $errs = append $errs (printf "certManager.clientCertificates names a certificate twice: %v" $clientNames) -}}
{{- end -}}
{{- if and $v.clientCRL.existingSecret $v.clientCRL.existingConfigMap -}}
{{- $errs = append $errs "set either clientCRL.existingSecret or clientCRL.existingConfigMap, not both" -}}
{{- end -}}
{{- if and $v.authorizationPolicy.existingConfigMap $v.authorizationPolicy.rules -}}
{{- $errs = append $errs "set either authorizationPolicy.existingConfigMap or authorizationPolicy.rules, not both" -}}
{{- end -}}
{{- if $errs -}}
{{- fail (printf "\ninvalid values (%d problems):\n  - %s" (len $errs) (join "\n  - " $errs)) -}}
{{- end -}}
{{- end -}}
