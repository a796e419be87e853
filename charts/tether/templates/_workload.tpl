{{/*
tether.workload: the pod spec of a tether daemon in a Deployment, or in a
StatefulSet of hashed shards. Its argument is a dict: root (the chart's
context), kind, name, selector (labels, YAML), args (added to tether.args),
env (list) and replicas.
*/}}
{{- define "tether.workload" -}}
{{- $root := .root }}
{{- with .root }}
{{- $port := include "tether.port" . }}
{{- $leader := eq (include "tether.leaderElect" .) "true" }}
{{- $mounts := include "tether.secretMounts" . | fromJsonArray }}
{{- $cfg := include "tether.config" . | fromJson }}
apiVersion: apps/v1
kind: {{ $.kind }}
metadata:
  name: {{ $.name }}
  namespace: {{ .Release.Namespace }}
  labels:
    {{- include "tether.labels" . | nindent 4 }}
spec:
  replicas: {{ $.replicas }}
  {{- if eq $.kind "StatefulSet" }}
  serviceName: {{ include "tether.fullname" . }}
  # Each pod is a shard of its own: none waits for another.
  podManagementPolicy: Parallel
  {{- else if not $leader }}
  # Without leader election two daemons must never overlap.
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- $.selector | nindent 6 }}
  template:
    metadata:
      labels:
        {{- $.selector | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ include "tether.serviceAccountName" . }}
      automountServiceAccountToken: true
      enableServiceLinks: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- toYaml .Values.podSecurityContext | nindent 8 }}
      containers:
        - name: tether
          image: {{ include "tether.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args:
            {{- range concat (include "tether.args" . | fromJsonArray) $.args }}
            - {{ . | quote }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ $port }}
              protocol: TCP
          env:
            # --advertise-address and the Lease's namespace default to these.
            - name: POD_IP
              valueFrom:
                fieldRef:
                  fieldPath: status.podIP
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            {{- with concat $.env (.Values.extraEnv | default list) }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          livenessProbe:
            {{- toYaml .Values.livenessProbe | nindent 12 }}
          readinessProbe:
            {{- toYaml .Values.readinessProbe | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.securityContext | nindent 12 }}
          volumeMounts:
            - name: work
              mountPath: {{ $cfg.workDir | default "/var/lib/tether" }}
            {{- range $mounts }}
            - name: {{ .name }}
              mountPath: {{ .path }}
              readOnly: true
            {{- end }}
            {{- with .Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        # The working clone: nothing in it needs to survive a restart.
        - name: work
          emptyDir: {}
        {{- range $mounts }}
        - name: {{ .name }}
          secret:
            secretName: {{ .secret }}
            defaultMode: 0440
        {{- end }}
        {{- with .Values.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end }}
{{- end }}
