#!/usr/bin/env bash
# Lints and renders the Helm chart (helm is a Go module: `go run`, no install) and checks what
# the rendered manifests promise: >= 2 replicas (1 refused), readiness/liveness probes, non-root,
# secrets mounted from a Secret as RESETBOT_..._FILE files, a PodDisruptionBudget, the metrics
# Service apart from the public one, the ServiceMonitor only when enabled.
# Not checked: applying to a cluster (no API server here); the ServiceMonitor CRD.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
helm() { go run "${HELM:-helm.sh/helm/v3/cmd/helm@v3.22.0}" "$@"; }
chart=deploy/helm/resetbot
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

helm lint --strict "$chart"
helm template ci "$chart" > "$out/default.yaml"
helm template ci "$chart" --set metrics.serviceMonitor.enabled=true > "$out/monitor.yaml"

fail() { echo "chart-check: $*" >&2; exit 1; }
has() { grep -qE "$2" "$1" || fail "$(basename "$1"): no match for: $2"; }
for want in '^kind: Deployment' '^  replicas: 2$' '^kind: PodDisruptionBudget' 'readinessProbe:' 'livenessProbe:' \
            'path: /readyz' 'path: /healthz' 'runAsNonRoot: true' 'readOnlyRootFilesystem: true' \
            'secretName: resetbot' 'value: /run/secrets/resetbot/keys_encryption' 'RESETBOT_KEYS__HMAC_FILE' \
            'name: ci-resetbot-metrics' 'args: \["check-config", "-offline"'; do
  has "$out/default.yaml" "$want"
done
! grep -q 'kind: ServiceMonitor' "$out/default.yaml" || fail "ServiceMonitor rendered while disabled"
has "$out/monitor.yaml" '^kind: ServiceMonitor'
if helm template ci "$chart" --set replicaCount=1 >/dev/null 2>&1; then
  fail "replicaCount=1 was accepted"
fi
echo "chart-check: lint and render ok ($(grep -c '^kind:' "$out/monitor.yaml") objects with the ServiceMonitor)"
