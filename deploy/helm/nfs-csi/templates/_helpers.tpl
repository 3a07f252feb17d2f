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

{{/* A pod template's labels: its selector's two, then the component's podLabels, which may not replace them. */}}
{{- define "nfs-csi.podLabels" -}}
{{- $extra := .podLabels | default dict -}}
{{- range $key := list "app.kubernetes.io/name" "app.kubernetes.io/component" }}
{{- if hasKey $extra $key }}
{{- fail (printf "%s.podLabels may not set %s: the workload's selector uses it" $.component $key) }}
{{- end }}
{{- end -}}
app.kubernetes.io/name: nfs-csi
app.kubernetes.io/component: {{ .component }}
{{- with $extra }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The scheduling fields of a pod, from a component's values; each is left out when empty. */}}
{{- define "nfs-csi.scheduling" -}}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The driver's -v: driver.logVerbosity when set (0 included), else logVerbosity. */}}
{{- define "nfs-csi.driverVerbosity" -}}
{{- if kindIs "invalid" .Values.driver.logVerbosity }}{{ .Values.logVerbosity }}{{ else }}{{ .Values.driver.logVerbosity }}{{ end }}
{{- end }}

{{/*
The Secrets the controller may read, as JSON: namespace -> secret names, where an empty list is every Secret of the
namespace. rbac.secrets, plus the secrets that this chart's StorageClasses (provisioner-secret for csi-provisioner,
controller-expand-secret for csi-resizer) and VolumeSnapshotClass (snapshotter-secret) name. A name or namespace that is a template (${...}) cannot be granted by
name: it fails unless rbac.allSecrets, or an rbac.secrets entry without names for that namespace, covers it.
*/}}
{{- define "nfs-csi.secretGrants" -}}
{{- $grants := dict -}}
{{- range .Values.rbac.secrets -}}
{{- $names := .names | default list -}}
{{- if and (hasKey $grants .namespace) (not (empty (get $grants .namespace))) (not (empty $names)) -}}
{{- $_ := set $grants .namespace (concat (get $grants .namespace) $names | uniq) -}}
{{- else if hasKey $grants .namespace -}}
{{- $_ := set $grants .namespace list -}}
{{- else -}}
{{- $_ := set $grants .namespace $names -}}
{{- end -}}
{{- end -}}
{{- $refs := list -}}
{{- range $class := .Values.storageClasses -}}
{{- range $key := list "csi.storage.k8s.io/provisioner-secret" "csi.storage.k8s.io/controller-expand-secret" -}}
{{- $refs = append $refs (dict "what" (printf "StorageClass %s" $class.name) "params" $class.parameters "key" $key) -}}
{{- end -}}
{{- end -}}
{{- if .Values.volumeSnapshotClass.create -}}
{{- $refs = append $refs (dict "what" (printf "VolumeSnapshotClass %s" .Values.volumeSnapshotClass.name) "params" (.Values.volumeSnapshotClass.parameters | default dict) "key" "csi.storage.k8s.io/snapshotter-secret") -}}
{{- end -}}
{{- range $refs -}}
{{- $name := get .params (printf "%s-name" .key) -}}
{{- $ns := get .params (printf "%s-namespace" .key) -}}
{{- if or $name $ns -}}
{{- if not (and $name $ns) -}}
{{- fail (printf "%s: %s-name and %s-namespace go together" .what .key .key) -}}
{{- end -}}
{{- if $.Values.rbac.allSecrets -}}
{{- else if contains "${" $ns -}}
{{- fail (printf "%s: the secret namespace %s is a template; only rbac.allSecrets=true lets the controller read it" .what $ns) -}}
{{- else if contains "${" $name -}}
{{- if not (and (hasKey $grants $ns) (empty (get $grants $ns))) -}}
{{- fail (printf "%s: the secret name %s is a template; list namespace %s in rbac.secrets without names, or set rbac.allSecrets=true" .what $name $ns) -}}
{{- end -}}
{{- else if not (hasKey $grants $ns) -}}
{{- $_ := set $grants $ns (list $name) -}}
{{- else if not (empty (get $grants $ns)) -}}
{{- $_ := set $grants $ns (append (get $grants $ns) $name | uniq) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $grants -}}
{{- end }}

{{/*
A component's extraArgs, refused when they name a flag that the chart sets from a value: the driver takes each of
those once, and a second one would make it exit at start with "should be specified only once".
*/}}
{{- define "nfs-csi.extraArgs" -}}
{{- $managed := dict "--endpoint" "" "--nodeid" "" "--drivername" "driverName" "--v" "driver.logVerbosity" "-v" "driver.logVerbosity" "--mount-timeout" "driver.mountTimeout" "--stats-timeout" "driver.statsTimeout" "--working-mount-dir" "controller.workingMountDir" "--default-ondelete-policy" "controller.defaultOnDeletePolicy" "--logging-format" "logFormat" "--inline-allowed-shares" "node.inlineAllowedShares" -}}
{{- range .args }}
{{- $flag := regexReplaceAll "=.*$" . "" }}
{{- if hasKey $managed $flag }}
{{- fail (printf "%s.extraArgs: %s is set by the chart%s" $.component $flag (ternary "" (printf "; use the value %s" (get $managed $flag)) (eq (get $managed $flag) ""))) }}
{{- end }}
{{- end }}
{{- range .args }}
- {{ . | quote }}
{{- end }}
{{- end }}


{{- /* "true" when csi-provisioner and csi-resizer run with VolumeAttributesClass on: features.volumeAttributesClass,
on a cluster that serves storage.k8s.io/v1 VolumeAttributesClasses (Kubernetes 1.34 and later); "false" otherwise,
as csi-provisioner v6 needs below 1.34. */ -}}
{{- define "nfs-csi.volumeAttributesClass" -}}
{{- if and .Values.features.volumeAttributesClass (semverCompare ">=1.34.0-0" .Capabilities.KubeVersion.Version) -}}
true
{{- else -}}
false
{{- end -}}
{{- end }}
