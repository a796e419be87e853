{{/*
tether.config: .Values.config with the values the chart derives filled in
where the user left them unset: the Secrets' files, the inventory namespace,
the Go heap limit and leader election.
*/}}
{{- define "tether.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- $derived := dict "inventoryNamespace" (include "tether.inventoryNamespace" .) }}
{{- with .Values.git }}
{{- if .existingSecret }}
{{- range $key, $flag := dict "passwordKey" "gitPasswordFile" "sshKeyKey" "gitSshKeyFile" "sshPassphraseKey" "gitSshPassphraseFile" "knownHostsKey" "gitKnownHostsFile" "caKey" "gitCaFile" "trustedKeysKey" "trustedKeysFile" }}
{{- with get $.Values.git $key }}
{{- $_ := set $derived $flag (printf "/etc/tether/git/%s" .) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.slack.existingSecret }}
{{- $_ := set $derived "slackWebhookUrlFile" (printf "/etc/tether/slack/%s" .Values.slack.key) }}
{{- end }}
{{- if .Values.webhook.existingSecret }}
{{- $_ := set $derived "webhookSecretFile" (printf "/etc/tether/webhook/%s" .Values.webhook.key) }}
{{- end }}
{{- if .Values.notifyWebhook.existingSecret }}
{{- $_ := set $derived "webhookUrlFile" (printf "/etc/tether/notify-webhook/%s" .Values.notifyWebhook.key) }}
{{- end }}
{{- with (.Values.resources.limits | default dict).memory }}
{{- $_ := set $derived "memoryLimit" (include "tether.memoryLimit" .) }}
{{- end }}
{{- if eq (include "tether.leaderElect" .) "true" }}
{{- $_ := set $derived "leaderElect" true }}
{{- end }}
{{- range $flag, $value := $derived }}
{{- $set := get $cfg $flag }}
{{- if or (kindIs "invalid" $set) (eq (toString $set) "") }}
{{- $_ := set $cfg $flag $value }}
{{- end }}
{{- end }}
{{- toJson $cfg }}
{{- end }}

{{/*
tether.args: one --flag=value per config key that is set, in key order, then
extraArgs. A key's flag is its kebab-case form: defaultNamespace -> --default-namespace.
*/}}
{{- define "tether.args" -}}
{{- $cfg := include "tether.config" . | fromJson }}
{{- $args := list "run" }}
{{- range $key := keys $cfg | sortAlpha }}
{{- $value := get $cfg $key }}
{{- if kindIs "slice" $value }}
{{- $value = join "," $value }}
{{- end }}
{{- if not (or (kindIs "invalid" $value) (eq (toString $value) "")) }}
{{- $args = append $args (printf "--%s=%v" (kebabcase $key) $value) }}
{{- end }}
{{- end }}
{{- concat $args .Values.extraArgs | toJson }}
{{- end }}
