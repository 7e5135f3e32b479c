#!/usr/bin/env bash
# Provides kube-apiserver, etcd and kubectl for the tests (TESTING.md tier 2).
# Prints the folder that holds them as the last line of stdout; progress goes to stderr.
#
# Order of precedence:
#   1. KUBEBUILDER_ASSETS (a folder with all three binaries), per-binary TEST_ASSET_* overrides
#   2. the cache folder (XAPI_ASSETS_CACHE, default ~/.cache/xapi/envtest/<versions>)
#   3. a build from Go modules into that cache (minutes, once per machine)
set -euo pipefail

K8S_VERSION="${XAPI_K8S_VERSION:-v1.36.3}"   # Go 1.26 toolchain <-> Kubernetes 1.36
ETCD_VERSION="${XAPI_ETCD_VERSION:-v3.6.8}"  # the etcd that Kubernetes 1.36.3 pins
CACHE_ROOT="${XAPI_ASSETS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xapi/envtest}"
OUT="$CACHE_ROOT/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"

log() { printf '[envtest-assets] %s\n' "$*" >&2; }

have_all() { [ -x "$1/kube-apiserver" ] && [ -x "$1/etcd" ] && [ -x "$1/kubectl" ]; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if ! have_all "$KUBEBUILDER_ASSETS"; then
    log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks one of kube-apiserver, etcd, kubectl"
    exit 1
  fi
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  log "go is not on PATH; install Go 1.26+ or set KUBEBUILDER_ASSETS"
  exit 1
fi

build_k8s() { # $1 = cmd name (kube-apiserver | kubectl)
  local name="$1" work="$OUT/.build-k8s"
  mkdir -p "$work"
  if [ ! -f "$work/go.mod" ]; then
    log "resolving k8s.io/kubernetes@$K8S_VERSION"
    local gomod
    gomod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    local minor="${K8S_VERSION#v1.}"  # 36.3 -> staging modules are v0.36.3
    {
      echo "module xapi.dev/envtest-k8s"
      grep -E '^(go|godebug) ' "$gomod"
      echo "require k8s.io/kubernetes $K8S_VERSION"
      # every staging module k8s.io/kubernetes replaces with a local path gets its published version
      grep -E '=> \./staging/' "$gomod" | awk -v v="v0.$minor" '{print "replace " $1 " => " $1 " " v}'
    } > "$work/go.mod.tmp"
    mv "$work/go.mod.tmp" "$work/go.mod"
    printf 'package tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-apiserver"\n\t_ "k8s.io/kubernetes/cmd/kubectl"\n)\n' > "$work/tools.go"
    (cd "$work" && go mod tidy >&2)
  fi
  log "building $name $K8S_VERSION (a cold build takes 10-15 minutes on 2 cores)"
  local ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${K8S_VERSION#v1.}"
  ldflags="${ldflags%.*}"  # gitMinor is the minor number only
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$OUT/$name.tmp" "k8s.io/kubernetes/cmd/$name")
  mv "$OUT/$name.tmp" "$OUT/$name"
}

build_etcd() {
  local work="$OUT/.build-etcd"
  mkdir -p "$work"
  if [ ! -f "$work/go.mod" ]; then
    printf 'module xapi.dev/envtest-etcd\n\ngo 1.26.0\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$ETCD_VERSION" > "$work/go.mod"
    printf 'package tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' > "$work/tools.go"
    (cd "$work" && go mod tidy >&2)
  fi
  log "building etcd $ETCD_VERSION"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3)
  mv "$OUT/etcd.tmp" "$OUT/etcd"
}

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9   # two concurrent callers build once
start=$(date +%s)
[ -x "$OUT/etcd" ] || build_etcd
[ -x "$OUT/kube-apiserver" ] || build_k8s kube-apiserver
[ -x "$OUT/kubectl" ] || build_k8s kubectl
if [ $(( $(date +%s) - start )) -gt 2 ]; then log "built in $(( $(date +%s) - start ))s into $OUT"; fi

# per-binary overrides win over the cache, as envtest does
dir="$OUT"
if [ -n "${TEST_ASSET_KUBE_APISERVER:-}${TEST_ASSET_ETCD:-}${TEST_ASSET_KUBECTL:-}" ]; then
  dir="$CACHE_ROOT/override-$$"
  mkdir -p "$dir"
  ln -sf "${TEST_ASSET_KUBE_APISERVER:-$OUT/kube-apiserver}" "$dir/kube-apiserver"
  ln -sf "${TEST_ASSET_ETCD:-$OUT/etcd}" "$dir/etcd"
  ln -sf "${TEST_ASSET_KUBECTL:-$OUT/kubectl}" "$dir/kubectl"
fi
echo "$dir"
