{{/* Names and labels, as `helm create` makes them. */}}
{{- define "tether.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tether.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tether.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tether.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
tether.shardSelectorLabels: the pods of the Deployment of a labelled shard.
Their name label differs from the main Deployment's, whose selector (which
cannot change) would otherwise select them too.
*/}}
{{- define "tether.shardSelectorLabels" -}}
app.kubernetes.io/name: {{ include "tether.name" .root }}-shard
app.kubernetes.io/instance: {{ .root.Release.Name }}
tether.dev/shard: {{ .shard }}
{{- end }}

{{- define "tether.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tether.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tether.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tether.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tether.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The container port: the port of config.listen (":8080", "0.0.0.0:8080"). */}}
{{- define "tether.port" -}}
{{- $port := splitList ":" (toString .Values.config.listen) | last }}
{{- if not (regexMatch "^[0-9]+$" $port) }}
{{- fail (printf "config.listen %q: expected [host]:port" .Values.config.listen) }}
{{- end }}
{{- $port }}
{{- end }}

{{/* Where tether keeps its inventory ConfigMaps: the chart grants it that namespace. */}}
{{- define "tether.inventoryNamespace" -}}
{{- default .Release.Namespace .Values.config.inventoryNamespace }}
{{- end }}

{{/* Leader election: as set, else on with more than one replica. */}}
{{- define "tether.leaderElect" -}}
{{- if kindIs "bool" .Values.config.leaderElect }}
{{- .Values.config.leaderElect }}
{{- else }}
{{- gt (int .Values.replicaCount) 1 }}
{{- end }}
{{- end }}

{{- define "tether.leaderElectNamespace" -}}
{{- default .Release.Namespace .Values.config.leaderElectNamespace }}
{{- end }}

{{/*
tether.memoryLimit: 75% of a memory quantity, in MiB ("256Mi" -> "192Mi"):
the Go heap's soft limit, leaving a quarter for the binary, stacks and buffers.
*/}}
{{- define "tether.memoryLimit" -}}
{{- $q := toString . }}
{{- $m := regexFindAll "^([0-9]+(?:\\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$" $q 1 }}
{{- if not $m }}
{{- fail (printf "resources.limits.memory %q: expected a quantity such as 256Mi or 1Gi" $q) }}
{{- end }}
{{- $units := dict "" 1 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 }}
{{- $unit := regexReplaceAll "^[0-9.]+" $q "" }}
{{- $num := regexReplaceAll "[A-Za-z]+$" $q "" }}
{{- $mib := divf (mulf (float64 $num) (get $units $unit) 0.75) 1048576 | floor | int64 }}
{{- printf "%dMi" $mib }}
{{- end }}

{{/* Mount points of the Secrets; each is a directory, never a subPath. */}}
{{- define "tether.secretMounts" -}}
{{- $mounts := list }}
{{- if .Values.git.existingSecret }}
{{- $mounts = append $mounts (dict "name" "git" "secret" .Values.git.existingSecret "path" "/etc/tether/git") }}
{{- end }}
{{- if .Values.slack.existingSecret }}
{{- $mounts = append $mounts (dict "name" "slack" "secret" .Values.slack.existingSecret "path" "/etc/tether/slack") }}
{{- end }}
{{- if .Values.webhook.existingSecret }}
{{- $mounts = append $mounts (dict "name" "webhook" "secret" .Values.webhook.existingSecret "path" "/etc/tether/webhook") }}
{{- end }}
{{- if .Values.notifyWebhook.existingSecret }}
{{- $mounts = append $mounts (dict "name" "notify-webhook" "secret" .Values.notifyWebhook.existingSecret "path" "/etc/tether/notify-webhook") }}
{{- end }}
{{- toJson $mounts }}
{{- end }}
