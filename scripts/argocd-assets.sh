#!/usr/bin/env bash
# Provides the `argocd` binary (TESTING.md tier 3b) and makes sure redis-server is installed.
# Prints the folder that holds `argocd` as the last line of stdout; progress goes to stderr.
#
# Order of precedence:
#   1. XAPI_ARGOCD_DIR (a folder holding `argocd`, Argo CD's git-verify-wrapper.sh and its CRDs under crds/)
#   2. the cache folder (XAPI_ARGOCD_CACHE, default ~/.cache/xapi/argocd/<version>)
#   3. a build from Go modules into that cache (minutes, once per machine)
#
# argo-cd's go.mod replaces its nested gitops-engine module with ./gitops-engine, which the module
# proxy does not serve; the tarball of that folder comes from ../shared/argocd-src (XAPI_SHARED_DIR
# overrides where ../shared is).
set -euo pipefail

ARGOCD_VERSION="${XAPI_ARGOCD_VERSION:-v3.5.1}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHARED_DIR="${XAPI_SHARED_DIR:-$REPO_ROOT/../shared}"
CACHE_ROOT="${XAPI_ARGOCD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xapi/argocd}"
OUT="$CACHE_ROOT/$ARGOCD_VERSION"

log() { printf '[argocd-assets] %s\n' "$*" >&2; }

ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then return; fi
  if [ "$(id -u)" != 0 ]; then
    log "redis-server is missing; install Debian's redis-server package (needs root)"
    exit 1
  fi
  local t0
  t0=$(date +%s)
  log "installing redis-server with apt-get"
  # The package's own service is not wanted (the harness starts redis on a loopback port itself):
  # a policy-rc.d that refuses keeps the package scripts from starting it, when none exists yet.
  local policy=/usr/sbin/policy-rc.d own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=1
  fi
  apt-get update >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server >&2 || {
    [ -z "$own_policy" ] || rm -f "$policy"; exit 1; }
  [ -z "$own_policy" ] || rm -f "$policy"
  log "redis-server installed in $(( $(date +%s) - t0 ))s"
}

build_argocd() {
  local work="$OUT/.build" tarball="$SHARED_DIR/argocd-src/gitops-engine-${ARGOCD_VERSION}.tar.gz"
  if [ ! -f "$tarball" ]; then
    log "missing $tarball (argo-cd's nested gitops-engine module; set XAPI_SHARED_DIR)"
    exit 1
  fi
  if ! command -v go >/dev/null 2>&1; then
    log "go is not on PATH; install Go 1.26+ or set XAPI_ARGOCD_DIR"
    exit 1
  fi
  mkdir -p "$work"
  if [ ! -f "$work/gitops-engine/go.mod" ]; then
    rm -rf "$work/gitops-engine" "$work/gitops-engine.tmp"
    mkdir -p "$work/gitops-engine.tmp"
    tar -xzf "$tarball" -C "$work/gitops-engine.tmp" --strip-components=1
    mv "$work/gitops-engine.tmp" "$work/gitops-engine"
  fi
  if [ ! -f "$work/go.sum" ]; then
    log "resolving github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION"
    local gomod
    gomod=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" \
      | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    {
      echo "module xapi.dev/argocd-build"
      grep -E '^(go|godebug|toolchain) ' "$gomod"
      echo "require github.com/argoproj/argo-cd/v3 $ARGOCD_VERSION"
      # upstream's replace lines (block and single-line forms), except local paths
      awk '/^replace \($/ {inblock=1; next}
           inblock && /^\)/ {inblock=0; next}
           inblock && /=>/ && $0 !~ /=> \.\// {sub(/^[ \t]+/, ""); print "replace " $0}
           /^replace [^(]/ && /=>/ && $0 !~ /=> \.\// {print}' "$gomod"
      echo "replace github.com/argoproj/argo-cd/gitops-engine => ./gitops-engine"
    } > "$work/go.mod.tmp"
    mv "$work/go.mod.tmp" "$work/go.mod"
    printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/argoproj/argo-cd/v3/cmd"\n' > "$work/tools.go"
    (cd "$work" && go mod tidy >&2)
  fi
  # The application controller serves metrics on 0.0.0.0 with no flag to change it; servers here
  # listen on loopback only. Go refuses build overlays of module-cache files, so the build uses a
  # patched copy of the argo-cd module (in this cache folder only) that binds 127.0.0.1.
  if [ ! -f "$work/argo-cd/go.mod" ]; then
    local src
    src=$(cd "$work" && go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
    rm -rf "$work/argo-cd.tmp"
    mkdir -p "$work/argo-cd.tmp"
    (cd "$src" && tar --exclude=./docs -cf - .) | tar -xf - -C "$work/argo-cd.tmp"
    chmod -R u+w "$work/argo-cd.tmp"
    local ctrl="$work/argo-cd.tmp/controller/appcontroller.go"
    grep -q '"0.0.0.0:%d", metricsPort' "$ctrl" || { log "$ctrl: metrics address line not found"; exit 1; }
    sed -i 's/"0\.0\.0\.0:%d", metricsPort/"127.0.0.1:%d", metricsPort/' "$ctrl"
    mv "$work/argo-cd.tmp" "$work/argo-cd"
  fi
  (cd "$work" && go mod edit -replace=github.com/argoproj/argo-cd/v3=./argo-cd)
  log "building argocd $ARGOCD_VERSION (a cold build takes 6+ minutes on 2 cores)"
  local ldflags="-s -w -X github.com/argoproj/argo-cd/v3/common.version=${ARGOCD_VERSION#v}"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$OUT/argocd.tmp" github.com/argoproj/argo-cd/v3/cmd)
  # Argo CD's own CRDs (AppProject among them), for the harness to install
  mkdir -p "$OUT/crds.tmp"
  cp "$work"/argo-cd/manifests/crds/*-crd.yaml "$OUT/crds.tmp/"
  rm -rf "$OUT/crds"; mv "$OUT/crds.tmp" "$OUT/crds"
  mv "$OUT/argocd.tmp" "$OUT/argocd"
}

# Argo CD's image puts this script on the repo server's PATH; the repo server runs it for every
# manifest generation (GPG or not), and fails the generation without it.
copy_support() {
  cp "$OUT/.build/argo-cd/hack/git-verify-wrapper.sh" "$OUT/git-verify-wrapper.sh.tmp"
  chmod +x "$OUT/git-verify-wrapper.sh.tmp"
  mv "$OUT/git-verify-wrapper.sh.tmp" "$OUT/git-verify-wrapper.sh"
}

ensure_redis

if [ -n "${XAPI_ARGOCD_DIR:-}" ]; then
  if [ ! -x "$XAPI_ARGOCD_DIR/argocd" ] || [ ! -d "$XAPI_ARGOCD_DIR/crds" ] || [ ! -x "$XAPI_ARGOCD_DIR/git-verify-wrapper.sh" ]; then
    log "XAPI_ARGOCD_DIR=$XAPI_ARGOCD_DIR lacks an argocd binary, git-verify-wrapper.sh or a crds/ folder"; exit 1
  fi
  echo "$XAPI_ARGOCD_DIR"
  exit 0
fi

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock 9   # two concurrent callers build once
start=$(date +%s)
[ -x "$OUT/argocd" ] && [ -d "$OUT/crds" ] || build_argocd
[ -x "$OUT/git-verify-wrapper.sh" ] || copy_support
if [ $(( $(date +%s) - start )) -gt 2 ]; then log "built argocd in $(( $(date +%s) - start ))s into $OUT"; fi
echo "$OUT"
