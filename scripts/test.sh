#!/usr/bin/env bash
# README's test command (`npm test`): type-check, then every jest project (unit + integration
# against real kube-apiservers), then the staleness check of manifests/. Ends with the plain
# closing line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

phase_start=$(date +%s)
phase() { echo "== phase: $1 took $(( $(date +%s) - phase_start ))s"; phase_start=$(date +%s); }

KUBEBUILDER_ASSETS="$(bash scripts/envtest-assets.sh | tail -n 1)"
phase "envtest binaries (kube-apiserver, etcd, kubectl)"
XAPI_CRDS_DIR="$(bash scripts/ack-crds.sh | tail -n 1)"
phase "ACK and Argo CD CRDs"
# Argo CD (application controller + repo server) and redis-server for test/integration/argocd
XAPI_ARGOCD_DIR="$(bash scripts/argocd-assets.sh | tail -n 1)"
phase "Argo CD binary and redis-server"
export KUBEBUILDER_ASSETS XAPI_CRDS_DIR XAPI_ARGOCD_DIR

echo "== operator image (scripts/image.sh: cached by content under ~/.cache/xapi/image; phase timings below)"
if XAPI_IMAGE_DIR="$(bash scripts/image.sh | tail -n 1)"; then
  export XAPI_IMAGE_DIR
else
  echo "operator image build failed (above); test/integration/image tries once more and fails"
  unset XAPI_IMAGE_DIR
fi
phase "operator image"

echo "== typecheck and build (dist/ is what bin/xapi.js runs; CLI tests spawn it)"
npx tsc -p tsconfig.json
phase "typecheck and build"

echo "== jest"
report="$(mktemp)"
set +e
node --experimental-vm-modules node_modules/jest/bin/jest.js --maxWorkers=2 --json --outputFile="$report" "$@"
rc=$?
set -e
phase "jest"
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' "$report" || echo "0 passed, 1 failed"
rm -f "$report"
exit "$rc"
