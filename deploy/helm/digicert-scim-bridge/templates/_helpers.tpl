{{/* Names and labels. */}}
{{- define "dcsb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dcsb.fullname" -}}
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

{{- define "dcsb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "dcsb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The bridge pods. */}}
{{- define "dcsb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dcsb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: scim-server
{{- end -}}

{{- define "dcsb.postgresqlSelectorLabels" -}}
app.kubernetes.io/name: {{ include "dcsb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: postgresql
{{- end -}}

{{- define "dcsb.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "dcsb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "dcsb.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "dcsb.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "dcsb.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "dcsb.postgresqlName" -}}
{{- printf "%s-postgresql" (include "dcsb.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dcsb.redisName" -}}
{{- printf "%s-redis" (include "dcsb.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "dcsb.roleMappingConfigMap" -}}
{{- if .Values.roleMapping.existingConfigMap -}}
{{- .Values.roleMapping.existingConfigMap -}}
{{- else if .Values.roleMapping.content -}}
{{- printf "%s-role-mapping" (include "dcsb.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* "true" when the bridge serves HTTPS itself. */}}
{{- define "dcsb.scheme" -}}
{{- if .Values.tls.existingSecret -}}HTTPS{{- else -}}HTTP{{- end -}}
{{- end -}}

{{/*
The secret variables the bridge reads (src/config/file-secrets.ts), and which of them the chart's own Secret holds:
those with a `value` and no `existingSecret`.
*/}}
{{- define "dcsb.chartSecretHasData" -}}
{{- range $name, $s := .Values.secretEnv -}}
{{- if and $s.value (not $s.existingSecret) -}}yes{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The non-secret environment, as a YAML map: the first-class values, then `env` on top. Empty values are left out
(the bridge reads an empty variable as unset anyway).
*/}}
{{- define "dcsb.env" -}}
{{- $v := .Values -}}
{{- $publicBaseUrl := $v.publicBaseUrl -}}
{{- if and (not $publicBaseUrl) $v.ingress.enabled $v.ingress.hosts -}}
{{- $publicBaseUrl = printf "https://%s" (index $v.ingress.hosts 0).host -}}
{{- end -}}
{{- $env := dict
  "PORT" (toString $v.containerPort)
  "HOST" "0.0.0.0"
  "PUBLIC_BASE_URL" $publicBaseUrl
  "DIGICERT_PLATFORM" (toString $v.digicert.platform)
  "DIGICERT_BASE_URL" (toString $v.digicert.baseUrl)
  "DIGICERT_CERTCENTRAL_CONTAINER_ID" (toString $v.digicert.certcentralContainerId)
  "DIGICERT_ONE_ACCOUNT_ID" (toString $v.digicert.oneAccountId)
  "DIGICERT_DEFAULT_ROLE" (toString $v.digicert.defaultRole)
  "DIGICERT_RATE_LIMIT" (toString $v.digicert.rateLimit)
  "BRIDGE_REPLICAS" (toString $v.replicaCount)
  "LOG_LEVEL" (toString $v.logLevel)
  "TRUST_PROXY" (toString $v.trustProxy)
  "RECONCILE_INTERVAL" (toString $v.reconcileInterval)
  "DRY_RUN" (ternary "true" "" (eq (toString $v.dryRun) "true"))
-}}
{{- if include "dcsb.roleMappingConfigMap" . -}}
{{- $_ := set $env "ROLE_MAPPING_FILE" (printf "%s/%s" (trimSuffix "/" $v.roleMapping.mountPath) $v.roleMapping.key) -}}
{{- end -}}
{{- if $v.tls.existingSecret -}}
{{- $_ := set $env "TLS_CERT_FILE" (printf "%s/tls.crt" (trimSuffix "/" $v.tls.mountPath)) -}}
{{- $_ := set $env "TLS_KEY_FILE" (printf "%s/tls.key" (trimSuffix "/" $v.tls.mountPath)) -}}
{{- end -}}
{{- range $name, $value := $v.env -}}
{{- if hasKey $v.secretEnv $name -}}
{{- fail (printf "env.%s is a secret: set it under secretEnv.%s (value or existingSecret)" $name $name) -}}
{{- end -}}
{{- if hasSuffix "_FILE" $name -}}
{{- if hasKey $v.secretEnv (trimSuffix "_FILE" $name) -}}
{{- fail (printf "env.%s: use secretEnv.%s.existingSecret instead (the chart passes secrets from Secrets)" $name (trimSuffix "_FILE" $name)) -}}
{{- end -}}
{{- end -}}
{{- if and (eq $name "BRIDGE_REPLICAS") (ne (toString $value) (toString $v.replicaCount)) -}}
{{- fail (printf "env.BRIDGE_REPLICAS (%v) must equal replicaCount (%v): leave it out, the chart sets it" $value $v.replicaCount) -}}
{{- end -}}
{{- $_ := set $env $name (toString $value) -}}
{{- end -}}
{{- range $name, $value := $env -}}
{{- if ne $value "" }}
{{ $name }}: {{ $value | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Settings that cannot work together stop the rendering with a message naming the values. */}}
{{- define "dcsb.validate" -}}
{{- $v := .Values -}}
{{- $db := $v.secretEnv.DATABASE_URL -}}
{{- $dbGiven := or $db.value $db.existingSecret -}}
{{- if and $v.sqlite.enabled $v.postgresql.enabled -}}
{{- fail "sqlite.enabled and postgresql.enabled: choose one store" -}}
{{- end -}}
{{- if and $dbGiven (or $v.sqlite.enabled $v.postgresql.enabled) -}}
{{- fail "secretEnv.DATABASE_URL is set: turn postgresql.enabled and sqlite.enabled off (the chart would set DATABASE_URL too)" -}}
{{- end -}}
{{- if and $v.sqlite.enabled (gt (int $v.replicaCount) 1) -}}
{{- fail "sqlite.enabled needs replicaCount: 1 (SQLite is a file for one process); use PostgreSQL for more replicas" -}}
{{- end -}}
{{- if and (not $dbGiven) (not $v.sqlite.enabled) (not $v.postgresql.enabled) (not $v.secrets.existingSecret) -}}
{{- fail "no store: set secretEnv.DATABASE_URL (postgres://…), or secrets.existingSecret with a DATABASE_URL key, or postgresql.enabled, or sqlite.enabled with replicaCount: 1" -}}
{{- end -}}
{{- if and $v.redis.enabled (or $v.secretEnv.REDIS_URL.value $v.secretEnv.REDIS_URL.existingSecret) -}}
{{- fail "secretEnv.REDIS_URL is set: turn redis.enabled off (the chart would set REDIS_URL too)" -}}
{{- end -}}
{{- if and $v.roleMapping.content $v.roleMapping.existingConfigMap -}}
{{- fail "roleMapping.content and roleMapping.existingConfigMap: choose one" -}}
{{- end -}}
{{- if lt (int $v.replicaCount) 1 -}}
{{- fail "replicaCount must be at least 1" -}}
{{- end -}}
{{- if gt (int $v.replicaCount) 100 -}}
{{- fail "replicaCount must be at most 100 (BRIDGE_REPLICAS allows 1-100)" -}}
{{- end -}}
{{- end -}}
