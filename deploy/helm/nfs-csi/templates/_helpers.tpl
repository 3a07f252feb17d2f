{{/* Labels of every top-level object: the kustomize base's, plus Helm's own two. */}}
{{- define "nfs-csi.labels" -}}
app.kubernetes.io/name: nfs-csi
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* An image reference from {repository, tag}: always by tag. */}}
{{- define "nfs-csi.image" -}}
{{ .repository }}:{{ .tag }}
{{- end }}

{{/* The sidecars' shared hardening: they run no privileged code and write nothing outside their volumes. */}}
{{- define "nfs-csi.sidecarSecurityContext" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
{{- end }}

{{/* The driver's plugin directory on the node, which holds its socket. */}}
{{- define "nfs-csi.pluginDir" -}}
{{ .Values.kubeletDir }}/plugins/{{ .Values.driverName }}
{{- end }}
