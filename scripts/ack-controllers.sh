#!/usr/bin/env bash
# Provides the ACK controller binaries the end-to-end tests run (TESTING.md tier 3), built from the
# sources in ../shared/ack-src at the tags the charts were written against (ACK.md).
# Usage: scripts/ack-controllers.sh [NAME...]   (default: ec2 apigateway iam lambda)
# Prints, as the last line of stdout, a folder holding NAME-controller for every NAME asked for;
# progress and build times go to stderr.
#
# Order of precedence, per controller:
#   1. XAPI_ACK_<NAME>_CONTROLLER (e.g. XAPI_ACK_EC2_CONTROLLER=/opt/ack/ec2): a prebuilt binary
#   2. XAPI_ACK_BIN_DIR: a folder of prebuilt NAME-controller binaries
#   3. the cache, XAPI_ACK_CACHE (default ~/.cache/xapi/ack), one folder per NAME-TAG
#   4. a build from ../shared/ack-src/NAME-controller-TAG.tar.gz into that cache (3-6 minutes
#      each on 2 cores, cold; the Go build cache is shared with the other builds)
# The sources folder is XAPI_ACK_SRC_DIR, default "$(repo root)/../shared/ack-src".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
declare -A TAGS=([ec2]=v1.20.0 [apigateway]=v1.8.1 [iam]=v1.8.1 [lambda]=v1.14.1 [cloudwatchlogs]=v1.4.1 [cloudtrail]=v1.3.2)
SRC_DIR="${XAPI_ACK_SRC_DIR:-$repo/../shared/ack-src}"
CACHE_ROOT="${XAPI_ACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xapi/ack}"
log() { printf '[ack-controllers] %s\n' "$*" >&2; }

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(ec2 apigateway iam lambda)
for n in "${names[@]}"; do
  [ -n "${TAGS[$n]:-}" ] || { log "unknown controller '$n' (known: ${!TAGS[*]})"; exit 1; }
done

# Unpacks $1 (a tarball holding one top folder) into $2.
unpack() { rm -rf "$2"; mkdir -p "$2"; tar -xzf "$1" -C "$2" --strip-components=1; }

# The proxy refuses some aws-controllers-k8s module versions (403). A controller that requires one
# of those (only for its API types, to resolve references) gets, in order: that controller's source
# from ack-src (a local replace), or the newest version of it that another controller in ack-src
# requires and the proxy serves. Either substitution is named in the log.
replace_refused() { # $1 = unpacked module folder, $2 = its build folder
  local dir="$1" work="$2" mod ver
  while read -r mod ver; do
    if (cd "$dir" && go mod download "$mod@$ver" >/dev/null 2>&1); then continue; fi
    local short="${mod#github.com/aws-controllers-k8s/}" tarball alt=""
    tarball=$(ls "$SRC_DIR/$short"-v*.tar.gz 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$tarball" ]; then
      unpack "$tarball" "$work/deps/$short"
      log "$mod@$ver is not served by the proxy: using $(basename "$tarball") from $SRC_DIR"
      (cd "$dir" && go mod edit -replace "$mod=$work/deps/$short")
      continue
    fi
    for v in $(for t in "$SRC_DIR"/*.tar.gz; do tar -xzOf "$t" --wildcards '*/go.mod' 2>/dev/null; done |
               sed -n "s#^[[:space:]]*$mod \(v[^ ]*\).*#\1#p" | sort -Vru); do
      if (cd "$dir" && go mod download "$mod@$v" >/dev/null 2>&1); then alt="$v"; break; fi
    done
    if [ -z "$alt" ]; then
      log "$mod@$ver: the Go module proxy refused it, $SRC_DIR has no $short-*.tar.gz and no other"
      log "version required in $SRC_DIR is served"; return 1
    fi
    log "$mod@$ver is not served by the proxy: using $alt (required by another controller in ack-src)"
    (cd "$dir" && go mod edit -replace "$mod=$mod@$alt")
  done < <(sed -n 's#^[[:space:]]*\(github.com/aws-controllers-k8s/[a-z0-9-]*-controller\) \(v[^ ]*\).*#\1 \2#p' "$dir/go.mod")
}

build() { # $1 = name; leaves $CACHE_ROOT/NAME-TAG/controller
  local name="$1" tag="${TAGS[$1]}" out="$CACHE_ROOT/$1-${TAGS[$1]}"
  mkdir -p "$out"
  exec 9>"$out/.lock"
  flock 9   # concurrent callers (npm test, xapi dev up) build once
  if [ -x "$out/controller" ]; then exec 9>&-; return 0; fi
  local tarball="$SRC_DIR/$name-controller-$tag.tar.gz"
  if [ ! -f "$tarball" ]; then
    log "missing sources: $tarball"
    log "the ACK controllers are built from ../shared/ack-src (beside the clone); set XAPI_ACK_SRC_DIR,"
    log "XAPI_ACK_BIN_DIR or XAPI_ACK_${name^^}_CONTROLLER to use other sources or prebuilt binaries"
    exit 1
  fi
  command -v go >/dev/null 2>&1 || { log "go is not on PATH; install Go 1.25+ or set XAPI_ACK_BIN_DIR"; exit 1; }
  local start; start=$(date +%s)
  log "building $name-controller $tag (3-6 minutes on 2 cores when the Go caches are cold)"
  local work="$out/.build"
  unpack "$tarball" "$work/src"
  replace_refused "$work/src" "$work"
  local pkg="github.com/aws-controllers-k8s/$name-controller/pkg/version"
  (cd "$work/src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
     -ldflags "-s -w -X $pkg.GitVersion=$tag -X $pkg.GitCommit=source-tarball" \
     -o "$out/controller.tmp" ./cmd/controller) >&2
  mv "$out/controller.tmp" "$out/controller"
  rm -rf "$work"
  log "built $name-controller $tag in $(( $(date +%s) - start ))s into $out"
  exec 9>&-
}

mkdir -p "$CACHE_ROOT"
total=$(date +%s)
key=""
declare -A BIN
for n in "${names[@]}"; do
  var="XAPI_ACK_${n^^}_CONTROLLER"
  if [ -n "${!var:-}" ]; then
    [ -x "${!var}" ] || { log "$var=${!var} is not an executable file"; exit 1; }
    BIN[$n]="${!var}"
  elif [ -n "${XAPI_ACK_BIN_DIR:-}" ]; then
    [ -x "$XAPI_ACK_BIN_DIR/$n-controller" ] || { log "XAPI_ACK_BIN_DIR=$XAPI_ACK_BIN_DIR lacks $n-controller"; exit 1; }
    BIN[$n]="$XAPI_ACK_BIN_DIR/$n-controller"
  else
    build "$n"
    BIN[$n]="$CACHE_ROOT/$n-${TAGS[$n]}/controller"
  fi
  key="$key$n=${BIN[$n]};"
done
elapsed=$(( $(date +%s) - total ))
[ "$elapsed" -le 2 ] || log "controllers ready in ${elapsed}s"

# One folder of NAME-controller links: what the tests and `xapi dev up --aws` read.
dir="$CACHE_ROOT/bin-$(printf '%s' "$key" | sha256sum | cut -c1-12)"
mkdir -p "$dir"
for n in "${names[@]}"; do ln -sfn "${BIN[$n]}" "$dir/$n-controller"; done
echo "$dir"
