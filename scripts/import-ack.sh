#!/usr/bin/env bash
# `npm run import`: regenerates imports/ (committed) with `cdk8s import` from the CRDs of the pinned
# ACK controller tags (ACK.md) and Argo CD's Application CRD. scripts/ack-crds.sh finds the CRDs
# (Go module proxy first); this script gathers the kinds xapi emits into one file per API group
# under .ack-crds/ (not committed) — the sources cdk8s.yaml names — and runs the import.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
crds="$(XAPI_CRDS_STRICT=1 bash scripts/ack-crds.sh | tail -n 1)" # the real CRDs, never stand-ins
rm -rf .ack-crds && mkdir -p .ack-crds
gather() { # gather OUT FILE... — one multi-document YAML per API group
  local out=".ack-crds/$1"; shift
  : > "$out"
  for f in "$@"; do
    [ -f "$crds/$f" ] || { echo "[import] $crds/$f missing" >&2; exit 1; }
    printf -- '---\n' >> "$out"; cat "$crds/$f" >> "$out"
  done
}
gather ack-ec2.yaml ec2.services.k8s.aws_securitygroups.yaml ec2.services.k8s.aws_vpcendpoints.yaml ec2.services.k8s.aws_flowlogs.yaml
gather ack-apigateway.yaml apigateway.services.k8s.aws_restapis.yaml apigateway.services.k8s.aws_resources.yaml \
  apigateway.services.k8s.aws_methods.yaml apigateway.services.k8s.aws_integrations.yaml \
  apigateway.services.k8s.aws_deployments.yaml apigateway.services.k8s.aws_stages.yaml
gather ack-iam.yaml iam.services.k8s.aws_roles.yaml
gather ack-lambda.yaml lambda.services.k8s.aws_functions.yaml
gather ack-cloudwatchlogs.yaml cloudwatchlogs.services.k8s.aws_loggroups.yaml
gather ack-cloudtrail.yaml cloudtrail.services.k8s.aws_eventdatastores.yaml
gather argocd.yaml argoproj.io_applications.yaml
rm -rf imports.tmp
# cdk8s import reads the `imports` list of cdk8s.yaml; --no-save keeps that list as written.
npx cdk8s import --language typescript --output imports.tmp --no-save >&2
rm -rf imports && mv imports.tmp imports
echo "[import] wrote $(ls imports | tr '\n' ' ')" >&2
# The stand-in CRDs (scripts/derive-crds.mjs) come from these imports: prove they match the real ones.
node scripts/derive-crds.mjs --check "$crds"
