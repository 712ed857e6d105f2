{{- define "resetbot.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "resetbot.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "resetbot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "resetbot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "resetbot.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "resetbot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "resetbot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "resetbot.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "resetbot.config" -}}
{{- if .Values.config -}}
{{- .Values.config -}}
{{- else -}}
{{- .Files.Get "files/resetbot.yaml" -}}
{{- end -}}
{{- end -}}

{{/* Secrets reach resetbot as files: RESETBOT_<path>_FILE=/run/secrets/resetbot/<key>. */}}
{{- define "resetbot.env" -}}
{{- range $name, $key := .Values.secret.files }}
- name: {{ $name }}
  value: /run/secrets/resetbot/{{ $key }}
{{- end }}
{{- with .Values.env }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "resetbot.mounts" -}}
- {name: config, mountPath: /etc/resetbot, readOnly: true}
- {name: secrets, mountPath: /run/secrets/resetbot, readOnly: true}
- {name: tmp, mountPath: /tmp}
{{- end -}}

{{- define "resetbot.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities: {drop: [ALL]}
{{- end -}}
