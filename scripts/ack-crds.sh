#!/usr/bin/env bash
# Provides the ACK CRDs of the pinned controller tags (ACK.md), and Argo CD's Application and
# ApplicationSet CRDs, as YAML files in one folder, printed as the last line of stdout. The CRDs are not committed: they are read, in order, from
#   1. ACK_CRDS_DIR, when set (a folder holding the *.yaml files)
#   2. the cache, XAPI_ACK_CRDS_CACHE (default ~/.cache/xapi/ack-crds/<tags>)
#   3. ../shared/ack-crds beside the clone, when the project ships them there
#   4. the Go module proxy (`go mod download`; each module has helm/crds/)
#   5. the controller's source tarball in XAPI_ACK_SRC_DIR (default ../shared/ack-src), config/crd/bases/
#   6. local git snapshots of the controllers' repositories under XAPI_ACK_SOURCE_ROOT
#      (folders named aws-controllers-k8s+<name>-controller/repo), read at the tag
#   7. otherwise, unless XAPI_CRDS_STRICT=1: stand-ins rebuilt from the committed imports/ by
#      scripts/derive-crds.mjs (same spec fields and types; no enums, CEL rules or status schema),
#      announced loudly. `npm run import` checks them against the real CRDs field for field.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
CONTROLLERS=(ec2:v1.20.0 apigateway:v1.8.1 iam:v1.8.1 lambda:v1.14.1 cloudwatchlogs:v1.4.1 cloudtrail:v1.3.2)
# ../shared/ack-crds holds the first four controllers' CRDs only; the audit controllers' (cloudwatchlogs,
# cloudtrail) are read from their source tarballs, layered over a folder that lacks them.
SRC_DIR="${XAPI_ACK_SRC_DIR:-$here/../../shared/ack-src}"
ARGOCD_TAG=v3.5.1
tags=$(printf '%s\n' "${CONTROLLERS[@]}" "argocd:$ARGOCD_TAG" | tr ':\n' '-_' | sed 's/_$//')
CACHE="${XAPI_ACK_CRDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xapi/ack-crds/$tags}"
log() { printf '[ack-crds] %s\n' "$*" >&2; }

base_complete() { # the ec2, apigateway, iam and lambda controllers and Argo CD contributed their CRDs
  [ -f "$1/ec2.services.k8s.aws_vpcendpoints.yaml" ] && [ -f "$1/apigateway.services.k8s.aws_restapis.yaml" ] &&
  [ -f "$1/iam.services.k8s.aws_roles.yaml" ] && [ -f "$1/lambda.services.k8s.aws_functions.yaml" ] &&
  [ -f "$1/argoproj.io_applications.yaml" ]
}
audit_complete() { # the cloudwatchlogs and cloudtrail controllers too
  [ -f "$1/cloudwatchlogs.services.k8s.aws_loggroups.yaml" ] && [ -f "$1/cloudtrail.services.k8s.aws_eventdatastores.yaml" ]
}
complete() { base_complete "$1" && audit_complete "$1"; }

# from_tarball NAME TAG OUT: the CRDs in NAME-controller-TAG.tar.gz's config/crd/bases/ into OUT.
from_tarball() {
  local tarball="$SRC_DIR/$1-controller-$2.tar.gz"
  [ -f "$tarball" ] || return 1
  tar -xzf "$tarball" -C "$3" --wildcards --no-anchored --strip-components=4 '*/config/crd/bases/*.yaml' 2>/dev/null || return 1
}

# with_audit DIR: DIR when complete; else DIR's CRDs plus the audit controllers' from their
# tarballs, in a cache folder (the result is printed).
with_audit() {
  if audit_complete "$1"; then (cd "$1" && pwd); return 0; fi
  local merged="$CACHE-merged-$(printf '%s' "$(cd "$1" && pwd)" | sha256sum | cut -c1-12)"
  if complete "$merged"; then echo "$merged"; return 0; fi
  local t="$merged.tmp.$$"
  rm -rf "$t"; mkdir -p "$t"; cp "$1"/*.yaml "$t/"
  for c in cloudwatchlogs:v1.4.1 cloudtrail:v1.3.2; do
    from_tarball "${c%%:*}" "${c##*:}" "$t" || { rm -rf "$t"; log "$1 lacks the ${c%%:*} CRDs and $SRC_DIR has no ${c%%:*}-controller-${c##*:}.tar.gz"; return 1; }
    log "${c%%:*}-controller ${c##*:}: CRDs from $SRC_DIR"
  done
  complete "$t" || { rm -rf "$t"; log "the merged CRD folder is still incomplete"; return 1; }
  rm -rf "$merged"; mv "$t" "$merged"; echo "$merged"
}

if [ -n "${ACK_CRDS_DIR:-}" ]; then
  base_complete "$ACK_CRDS_DIR" || { log "ACK_CRDS_DIR=$ACK_CRDS_DIR lacks the ec2/apigateway/iam/lambda CRDs"; exit 1; }
  with_audit "$ACK_CRDS_DIR"; exit $?
fi
if complete "$CACHE"; then echo "$CACHE"; exit 0; fi
if base_complete "$here/../../shared/ack-crds"; then with_audit "$here/../../shared/ack-crds"; exit $?; fi

tmp="$CACHE.tmp.$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
missing=""
for c in "${CONTROLLERS[@]}"; do
  name="${c%%:*}"; tag="${c##*:}"; module="github.com/aws-controllers-k8s/$name-controller"
  got=""
  if command -v go >/dev/null 2>&1; then
    dir=$(cd "$tmp" && go mod download -json "$module@$tag" 2>/dev/null | sed -n 's/.*"Dir": "\(.*\)".*/\1/p' || true)
    if [ -n "$dir" ] && [ -d "$dir/helm/crds" ]; then cp "$dir"/helm/crds/*.yaml "$tmp/"; got="module proxy"; fi
  fi
  if [ -z "$got" ] && from_tarball "$name" "$tag" "$tmp"; then got="$SRC_DIR"; fi
  if [ -z "$got" ]; then
    src="${XAPI_ACK_SOURCE_ROOT:-}/aws-controllers-k8s+$name-controller/repo"
    if [ -n "${XAPI_ACK_SOURCE_ROOT:-}" ] && git -C "$src" rev-parse -q --verify "$tag^{commit}" >/dev/null 2>&1; then
      for f in $(git -C "$src" ls-tree --name-only "$tag" helm/crds/); do
        git -C "$src" show "$tag:$f" > "$tmp/$(basename "$f")"
      done
      got="snapshot $src"
    fi
  fi
  if [ -z "$got" ]; then
    log "cannot get the CRDs of $module@$tag: the Go module proxy did not serve it and no snapshot was"
    log "found (set XAPI_ACK_SOURCE_ROOT, ACK_CRDS_DIR, or put the CRDs in ../shared/ack-crds)"
    missing="$missing $name"
    continue
  fi
  log "$name-controller $tag: CRDs from $got"
done
if [ -n "$missing" ]; then
  [ "${XAPI_CRDS_STRICT:-0}" != 1 ] || { log "XAPI_CRDS_STRICT=1: no stand-ins"; exit 1; }
  command -v node >/dev/null 2>&1 && [ -d "$here/../node_modules/yaml" ] || { log "stand-ins need node and npm ci"; exit 1; }
  rm -f "$tmp"/*.yaml
  node "$here/derive-crds.mjs" "$tmp"
  imports_hash=$(cat "$here"/../imports/*.k8s.aws.ts | sha256sum | cut -c1-12)
  CACHE="$(dirname "$CACHE")/standin-$imports_hash-argocd-$ARGOCD_TAG"
  log "################################################################################"
  log "WARNING: the real ACK CRDs of${missing} are out of reach; using STAND-INS rebuilt from"
  log "imports/ (spec fields, types and required fields as imported; no enums, CEL rules or"
  log "status schema). Tests validate against these. Real CRDs: see README, 'Where the ACK"
  log "CRDs come from'."
  log "################################################################################"
fi
# Argo CD's CRDs, only so that the generated Applications can be validated by a real API server
argo_dir=$(cd "$tmp" && go mod download -json "github.com/argoproj/argo-cd/v3@$ARGOCD_TAG" 2>/dev/null | sed -n 's/.*"Dir": "\(.*\)".*/\1/p' || true)
argo_src="${XAPI_ACK_SOURCE_ROOT:-}/argoproj+argo-cd/repo"
for kind in application applicationset; do
  if [ -n "$argo_dir" ] && [ -f "$argo_dir/manifests/crds/$kind-crd.yaml" ]; then
    cp "$argo_dir/manifests/crds/$kind-crd.yaml" "$tmp/argoproj.io_${kind}s.yaml"
  elif [ -n "${XAPI_ACK_SOURCE_ROOT:-}" ] && git -C "$argo_src" rev-parse -q --verify "$ARGOCD_TAG^{commit}" >/dev/null 2>&1; then
    git -C "$argo_src" show "$ARGOCD_TAG:manifests/crds/$kind-crd.yaml" > "$tmp/argoproj.io_${kind}s.yaml"
  else
    log "cannot get Argo CD's $kind CRD at $ARGOCD_TAG"; exit 1
  fi
done
log "argo-cd $ARGOCD_TAG: Application and ApplicationSet CRDs"
rm -rf "$CACHE"; mkdir -p "$(dirname "$CACHE")"; mv "$tmp" "$CACHE"; trap - EXIT
echo "$CACHE"
