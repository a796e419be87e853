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

{{/*
tether.protectedRules: the admission policy's resourceRules for the extra
resources in the list given (GROUP/RESOURCE or RESOURCE): tether's kinds at
their versions, then one rule per further group (sorted, any version) with
its resources sorted, leaving out what is covered already.
*/}}
{{- define "tether.protectedRules" -}}
{{- $covered := dict "apps/deployments" true "/services" true "batch/cronjobs" true "batch/jobs" true "autoscaling/horizontalpodautoscalers" true }}
{{- $extra := dict }}
{{- range . }}
{{- $group := "" }}
{{- $resource := . }}
{{- if contains "/" . }}
{{- $group = index (splitList "/" .) 0 }}
{{- $resource = index (splitList "/" .) 1 }}
{{- end }}
{{- $key := printf "%s/%s" $group $resource }}
{{- if not (hasKey $covered $key) }}
{{- $_ := set $covered $key true }}
{{- $_ := set $extra $group (append (get $extra $group | default list) $resource) }}
{{- end }}
{{- end }}
- {apiGroups: [apps], apiVersions: [v1], operations: [UPDATE, DELETE], resources: [deployments]}
- {apiGroups: [""], apiVersions: [v1], operations: [UPDATE, DELETE], resources: [services]}
- {apiGroups: [batch], apiVersions: [v1], operations: [UPDATE, DELETE], resources: [cronjobs, jobs]}
- {apiGroups: [autoscaling], apiVersions: [v2], operations: [UPDATE, DELETE], resources: [horizontalpodautoscalers]}
{{- range $group := keys $extra | sortAlpha }}
- {apiGroups: [{{ $group | toJson }}], apiVersions: ["*"], operations: [UPDATE, DELETE], resources: {{ get $extra $group | sortAlpha | toJson }}}
{{- end }}
{{- end }}

{{/* tether.celString: a CEL string literal, as reconcile/admission writes it. */}}
{{- define "tether.celString" -}}
{{- if and (regexMatch "^[\\p{L}\\p{M}\\p{N}\\p{P}\\p{S} ]*$" .) (not (contains "'" .)) (not (contains "\\" .)) -}}
'{{ . }}'
{{- else -}}
{{ quote . }}
{{- end -}}
{{- end }}

{{/* tether.celList: a CEL list of string literals. */}}
{{- define "tether.celList" -}}
{{- $items := list }}
{{- range . }}
{{- $items = append $items (include "tether.celString" .) }}
{{- end -}}
[{{ join ", " $items }}]
{{- end }}

{{/*
tether.planRules: what tether plan --cluster reads and dry-runs: the kinds
models render and the inventory's ConfigMaps (get, list; patch and create,
which it sends only with dryRun=All: a dry-run apply is authorized as a patch,
or as a create for an object that does not exist yet), and the Secret
tether-<instance>-hash-key (get). Then rbac.plan.extraRules.
*/}}
{{- define "tether.planRules" -}}
- apiGroups: ["", apps, batch, autoscaling]
  resources: [configmaps, services, deployments, jobs, cronjobs, horizontalpodautoscalers]
  verbs: [get, list, patch, create]
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
  {{- with .Values.config.instance }}
  resourceNames: [tether-{{ . }}-hash-key]
  {{- end }}
{{- with .Values.rbac.plan.extraRules }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* tether.planNamespaceRules: namespaces a change creates are dry-run too. */}}
{{- define "tether.planNamespaceRules" -}}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, patch, create]
{{- end }}
