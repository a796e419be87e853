{{/*
tether.rules: what tether does with the kinds models render (render/): it
server-side applies them (patch, and create for an apply that creates one),
watches them (list, watch), reads back a drifted or deleted one (get) and
prunes them (delete). Then rbac.extraRules, for what bundles apply.
*/}}
{{- define "tether.rules" -}}
- apiGroups: [batch]
  resources: [jobs]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [batch]
  resources: [cronjobs]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [services]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, patch, delete]
{{- with .Values.rbac.extraRules }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
tether.previewRules: with config.previewRefs, each preview's namespaces and
their ResourceQuotas, created, kept and deleted like any object tether
applies (namespaces also listed by label, to find previews after a restart).
*/}}
{{- define "tether.previewRules" -}}
{{- if .Values.config.previewRefs -}}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch, create, patch, delete]
- apiGroups: [""]
  resources: [resourcequotas]
  verbs: [get, list, watch, create, patch, delete]
{{- end }}
{{- end }}

{{/* tether.eventRules: Kubernetes Events on the objects tether manages and on its records. */}}
{{- define "tether.eventRules" -}}
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end }}

{{/*
tether.watchRules: list and watch of every kind in tether.rules, for scope
namespaces: tether's watches span all namespaces.
*/}}
{{- define "tether.watchRules" -}}
{{- range include "tether.rules" . | fromYamlArray }}
- apiGroups: {{ .apiGroups | toJson }}
  resources: {{ .resources | toJson }}
  verbs: [list, watch]
{{- end }}
{{- end }}
