{{/* mall.toml's parts (files/parts.yaml, generated): the chart's only source of parts,
ports and probes. */}}
{{- define "mall.description" -}}
{{ .Files.Get "files/parts.yaml" }}
{{- end }}

{{- define "mall.labels" -}}
app.kubernetes.io/part-of: mall
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end }}

{{/* The pod-level security of every workload: non-root, the runtime's seccomp profile, no
service account token. Argument: the uid. */}}
{{- define "mall.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: {{ . }}
  runAsGroup: {{ . }}
  fsGroup: {{ . }}
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{/* The container-level security: read-only root, no privilege, no capability. */}}
{{- define "mall.containerSecurity" -}}
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  privileged: false
  capabilities:
    drop: ["ALL"]
  seccompProfile:
    type: RuntimeDefault
{{- end }}

{{/* A part's image: <repository>/<binary>:<version>. Argument: dict root binary version. */}}
{{- define "mall.image" -}}
{{ .root.Values.image.repository }}/{{ .binary }}:{{ .version | default .root.Values.image.tag }}
{{- end }}
