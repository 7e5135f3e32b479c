#!/usr/bin/env bash
# `npm run image`: the operator image, built from Debian packages only (no base image, no Docker).
#
#   mmdebstrap --variant=extract  nodejs and its dependency closure from Debian (nothing installed,
#                                 so no shell or coreutils are needed or shipped)
#   npm ci --omit=dev + tsc       production node_modules and dist/ of this checkout, bundled by
#   + esbuild                     esbuild into one file (scripts/image-bundle.mjs)
#   umoci                         two layers (Debian runtime, /app) + config, into an OCI layout
#   skopeo                        the same image as a docker-archive tarball (`docker load`)
#
# Output (cached by a hash of every input under XAPI_IMAGE_CACHE, default ~/.cache/xapi/image):
#   KEY/oci/            OCI image layout, tag = package.json version
#   KEY/xapi-image.tar  docker-archive, tagged XAPI_IMAGE_NAME (default ghcr.io/xapi-dev/xapi:VERSION)
#   KEY/image.env       DIGEST, NAME, TAG, sizes; KEY/packages.txt the Debian packages inside,
#   KEY/npm-packages.txt the npm packages in the bundle
# `--out DIR` also copies them to DIR. The last line of stdout is the cache folder; progress and
# phase timings go to stderr. Options: --rebuild (ignore the cache), --out DIR.
# Variables: XAPI_IMAGE_SUITE (default trixie: bookworm's nodejs 18 is below engines >=20.10),
# XAPI_IMAGE_MIRROR / XAPI_IMAGE_SECURITY_MIRROR (default: the Debian URIs configured for apt on
# this machine), XAPI_IMAGE_NAME, XAPI_IMAGE_CACHE, SOURCE_DATE_EPOCH (default: the time of the last
# commit that touched an input).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

log() { printf '[image] %s\n' "$*" >&2; }
die() { printf '[image] error: %s\n' "$*" >&2; exit 1; }
T0=$(date +%s.%N)
PHASE_START=$T0
phase() { # prints how long the previous phase took, then starts the next
  local now; now=$(date +%s.%N)
  [ -n "${PHASE_NAME:-}" ] && log "$(awk -v n="$PHASE_NAME" -v a="$PHASE_START" -v b="$now" 'BEGIN { printf "phase %-9s %6.1f s", n, b - a }')"
  PHASE_NAME="${1:-}"; PHASE_START=$now
}

REBUILD=0
OUT_COPY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rebuild) REBUILD=1 ;;
    --out) OUT_COPY="${2:?--out needs a folder}"; shift ;;
    --out=*) OUT_COPY="${1#--out=}" ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done

VERSION="$(node -p 'require("./package.json").version')"
TAG="$VERSION"
NAME="${XAPI_IMAGE_NAME:-ghcr.io/xapi-dev/xapi:$VERSION}"
SUITE="${XAPI_IMAGE_SUITE:-trixie}"
CACHE_ROOT="${XAPI_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xapi/image}"
UID_GID=65532
# Files whose content goes into the image (the cache key hashes all of them).
INPUTS=(package.json package-lock.json tsconfig.json bin src imports scripts/image.sh scripts/image-extract-hook.sh scripts/image-bundle.mjs)

# --- the Debian mirror this machine's apt uses (deb822 .sources or one-line sources.list)
configured_uri() { # $1 = last path element of the URI: debian | debian-security
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }'
  } | sed 's:/*$::' | grep -E "/$1\$" | head -n 1 || true
}
MIRROR="${XAPI_IMAGE_MIRROR:-$(configured_uri debian)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY="${XAPI_IMAGE_SECURITY_MIRROR:-$(configured_uri debian-security)}"
SECURITY="${SECURITY:-${MIRROR%/debian}/debian-security}"
SOURCES=("deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" "deb $SECURITY $SUITE-security main")

phase tools
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v umoci >/dev/null || need+=(umoci)
command -v skopeo >/dev/null || need+=(skopeo)
# crun runs the image without Docker (the image test, and docs/image.md for local runs)
command -v crun >/dev/null || need+=(crun)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} from Debian (apt-get)"
  [ "$(id -u)" = 0 ] || die "${need[*]} missing and not root: install them (apt-get install ${need[*]}) and run again"
  export DEBIAN_FRONTEND=noninteractive
  # other apt users on the machine hold the dpkg lock for a while: wait for it instead of failing
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2 || die "apt-get update failed: Debian's package archive is needed for ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}" >&2 \
    || die "apt-get install ${need[*]} failed (see above)"
fi
{ [ -x node_modules/.bin/tsc ] && [ -x node_modules/.bin/esbuild ]; } || die "node_modules/.bin/tsc or esbuild missing: run npm ci first"
[ "$(id -u)" = 0 ] || die "must run as root: the root filesystem holds root-owned files and mmdebstrap extracts as root"

phase key
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git log -1 --format=%ct -- "${INPUTS[@]}" 2>/dev/null || true)"
  SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"
fi
export SOURCE_DATE_EPOCH
CREATED="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)"
KEY="$({
  printf '%s\n' "suite=$SUITE" "name=$NAME" "epoch=$SOURCE_DATE_EPOCH" "${SOURCES[@]}"
  find "${INPUTS[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
} | sha256sum | cut -c1-16)"
OUT="$CACHE_ROOT/$KEY"

report() {
  # shellcheck disable=SC1091
  . "$OUT/image.env"
  log "image     $NAME"
  log "digest    $DIGEST (OCI manifest, $OUT/oci:$TAG)"
  log "size      $(awk "BEGIN { printf \"%.1f\", $SIZE_UNCOMPRESSED / 1048576 }") MiB unpacked, $(awk "BEGIN { printf \"%.1f\", $SIZE_COMPRESSED / 1048576 }") MiB compressed (layers + config)"
  log "archive   $OUT/xapi-image.tar ($(awk "BEGIN { printf \"%.1f\", $ARCHIVE_BYTES / 1048576 }") MiB, docker-archive)"
  log "packages  $(wc -l < "$OUT/packages.txt") Debian packages: $(cut -d' ' -f1 "$OUT/packages.txt" | tr '\n' ' ')"
  log "npm       $(wc -l < "$OUT/npm-packages.txt") npm packages bundled into /app/dist/src/cli/main.js (list: $OUT/npm-packages.txt, /app/licenses/packages.txt)"
  if [ -n "$OUT_COPY" ]; then
    rm -rf "$OUT_COPY" && mkdir -p "$OUT_COPY"
    cp -a "$OUT/oci" "$OUT/xapi-image.tar" "$OUT/image.env" "$OUT/packages.txt" "$OUT/npm-packages.txt" "$OUT_COPY/"
    log "copied to $OUT_COPY (oci/, xapi-image.tar)"
  fi
  phase
  log "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "total %.1f s", b - a }')"
  echo "$OUT"
}

mkdir -p "$CACHE_ROOT"
# One build at a time per cache (a test run and `npm run image` may start together).
exec 9>"$CACHE_ROOT/.lock"
flock 9
if [ "$REBUILD" = 0 ] && [ -f "$OUT/image.env" ]; then
  log "cached: $OUT (inputs unchanged)"
  report
  exit 0
fi

WORK="$(mktemp -d "$CACHE_ROOT/.build-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"
APP="$WORK/app"

phase rootfs
log "mmdebstrap $SUITE from $MIRROR (+ $SUITE-updates, $SUITE-security): nodejs and its dependencies, extracted only"
mmdebstrap --quiet --variant=extract --mode=root --include=nodejs --format=directory \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --extract-hook="bash '$ROOT/scripts/image-extract-hook.sh' \"\$1\"" \
  "$SUITE" "$ROOTFS" "${SOURCES[@]}" >&2 \
  || die "mmdebstrap failed: it needs the Debian archive ($MIRROR, suite $SUITE) reachable"
NODE_VERSION="$(chroot "$ROOTFS" /usr/bin/node -p 'process.versions.node')"
node -e '
  const [maj, min] = process.argv[1].split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 10)) { console.error(`[image] error: Debian ${process.argv[2]} has nodejs ${process.argv[1]}, below engines >=20.10; set XAPI_IMAGE_SUITE`); process.exit(1); }
' "$NODE_VERSION" "$SUITE"
log "nodejs $NODE_VERSION from Debian $SUITE (engines: node >=20.10)"

phase trim
# Not needed at run time: documentation (each package's copyright file stays), locales, glibc's
# iconv modules (node never uses iconv), debugger helpers, package-manager state and the build's
# device nodes (the container runtime provides /dev). Like dpkg's path-exclude, the packages stay
# listed in /var/lib/dpkg/status.
find "$ROOTFS/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
find "$ROOTFS/usr/share/doc" -mindepth 1 -depth -type d -empty -delete 2>/dev/null || true
rm -rf "$ROOTFS"/usr/share/{man,info,locale,lintian,bash-completion,gdb,gcc} \
  "$ROOTFS"/usr/lib/x86_64-linux-gnu/gconv \
  "$ROOTFS"/etc/apt "$ROOTFS"/etc/dpkg "$ROOTFS"/var/cache/* "$ROOTFS"/var/lib/apt "$ROOTFS"/var/log/* \
  "$ROOTFS"/dev/* "$ROOTFS"/tmp/* "$ROOTFS"/etc/{hostname,resolv.conf,fstab,machine-id}
# Libraries nothing in the image loads: glibc's debugging, profiling and legacy NSS/NIS ones,
# libmvec (vector maths for OpenMP code), ICU's I/O and tool libraries, OpenSSL's engines and
# legacy provider (node loads it only with --openssl-legacy-provider).
lib="$ROOTFS/usr/lib/x86_64-linux-gnu"
rm -rf "$lib"/{libmvec.so.1,libBrokenLocale.so.1,libc_malloc_debug.so.0,libmemusage.so,libpcprofile.so,libthread_db.so.1,libnsl.so.1,libnss_compat.so.2,libnss_hesiod.so.2} \
  "$lib"/libicu{io,test,tu}.so.* "$lib"/engines-3 "$lib"/ossl-modules
# Debian's node reads a few files of /usr/share/nodejs as built-in modules (the paths its build
# recorded as NODE_SHARED_BUILTIN_*_PATH: undici for fetch, cjs-module-lexer, acorn, acorn-walk,
# minimatch). Everything else there (corepack, type declarations, whole packages) is for
# require() of Debian's node modules, which the bundled app never does.
builtins="$(grep -aohE 'NODE_SHARED_BUILTIN_[A-Z_]+_PATH=/usr/share/nodejs/[^"]+' "$lib"/libnode.so.* | sed 's/^[^=]*=//' | LC_ALL=C sort -u)"
[ -n "$builtins" ] || die "libnode names no NODE_SHARED_BUILTIN_*_PATH: cannot tell which files of /usr/share/nodejs node needs"
keep="$WORK/node-builtins"
for f in $builtins; do
  [ -f "$ROOTFS$f" ] || die "node's built-in $f is missing from the root filesystem"
  mkdir -p "$keep$(dirname "$f")" && cp -a "$ROOTFS$f" "$keep$f"
done
rm -rf "$ROOTFS/usr/share/nodejs" "$ROOTFS/usr/bin/corepack"
cp -a "$keep/usr/share/nodejs" "$ROOTFS/usr/share/"
# The user the Deployment runs as (65532, "nonroot") besides root; no login shell exists.
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:%s:%s:nonroot:/nonexistent:/usr/sbin/nologin\n' $UID_GID $UID_GID > "$ROOTFS/etc/passwd"
printf 'root:x:0:\nnonroot:x:%s:\n' $UID_GID > "$ROOTFS/etc/group"
shells="$(cd "$ROOTFS" && for s in bin/sh bin/bash bin/dash bin/ash bin/busybox bin/zsh usr/bin/sh usr/bin/bash usr/bin/dash usr/bin/busybox; do [ -e "$s" ] || [ -L "$s" ] && echo "/$s"; done || true)"
[ -z "$shells" ] || die "a shell got into the image: $shells"

phase app
# tsc output of this checkout over the production node_modules from package-lock.json, bundled
# into one file (scripts/image-bundle.mjs): the image holds /app/package.json (the version the CLI
# prints), bin/xapi.js, dist/src/cli/main.js (the bundle) and licenses/ (each bundled npm
# package's licence files, and packages.txt: the npm packages inside).
BUILD="$WORK/build"
mkdir -p "$BUILD" "$APP"
cp package.json package-lock.json "$BUILD/"
(cd "$BUILD" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2) || die "npm ci --omit=dev failed"
cat > "$WORK/tsconfig.json" <<EOF
{
  "extends": "$ROOT/tsconfig.json",
  "compilerOptions": { "rootDir": "$ROOT", "outDir": "$BUILD/dist", "sourceMap": false, "incremental": false, "typeRoots": ["$ROOT/node_modules/@types"] },
  "include": ["$ROOT/src/**/*.ts", "$ROOT/imports/**/*.ts"],
  "exclude": []
}
EOF
node_modules/.bin/tsc -p "$WORK/tsconfig.json" || die "tsc failed"
node scripts/image-bundle.mjs "$BUILD" "$APP" || die "bundling dist/ and node_modules failed (esbuild, above)"
cp package.json "$APP/"
cp -r bin "$APP/bin"

phase normalize
# Reproducible trees: root-owned, no group/other write, every mtime SOURCE_DATE_EPOCH.
for d in "$ROOTFS" "$APP"; do
  chown -R -h 0:0 "$d"
  chmod -R go-w "$d"
  find "$d" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
done
chmod 1777 "$ROOTFS/tmp"
touch -h -d "@$SOURCE_DATE_EPOCH" "$ROOTFS/tmp"

phase pack
OCI="$WORK/oci"
umoci init --layout "$OCI"
umoci new --image "$OCI:$TAG"
hist=(--history.created "$CREATED" --history.author xapi)
umoci insert --image "$OCI:$TAG" "${hist[@]}" --history.created_by "mmdebstrap $SUITE nodejs" "$ROOTFS" /
umoci insert --image "$OCI:$TAG" "${hist[@]}" --history.created_by "xapi $VERSION: dist, node_modules, bin" "$APP" /app
umoci config --image "$OCI:$TAG" "${hist[@]}" --history.created_by "xapi operator config" \
  --created "$CREATED" --author xapi --os linux --architecture amd64 \
  --config.user "$UID_GID:$UID_GID" --config.workingdir /app \
  --config.entrypoint /usr/bin/node --config.entrypoint /app/bin/xapi.js --config.cmd operator \
  --config.env NODE_ENV=production --config.env PATH=/usr/bin \
  --config.exposedports 8080/tcp --config.exposedports 8081/tcp \
  --config.label "org.opencontainers.image.title=xapi" --config.label "org.opencontainers.image.version=$VERSION" \
  --config.label "org.opencontainers.image.created=$CREATED" --config.label "dev.xapi.nodejs=$NODE_VERSION (Debian $SUITE)"
umoci gc --layout "$OCI"

phase archive
skopeo copy --quiet --insecure-policy "oci:$OCI:$TAG" "docker-archive:$WORK/xapi-image.tar:$NAME" >&2

phase summary
json() { node -e 'const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(new Function("o", "return " + process.argv[2])(o))' "$@"; }
DIGEST="sha256:$(sha256sum "$OCI/blobs/sha256/$(json "$OCI/index.json" 'o.manifests[0].digest.slice(7)')" | cut -d' ' -f1)"
manifest="$OCI/blobs/sha256/${DIGEST#sha256:}"
SIZE_COMPRESSED="$(json "$manifest" 'o.config.size + o.layers.reduce((n, l) => n + l.size, 0)')"
SIZE_UNCOMPRESSED=0
for l in $(json "$manifest" 'o.layers.map((l) => l.digest.slice(7)).join(" ")'); do
  SIZE_UNCOMPRESSED=$((SIZE_UNCOMPRESSED + $(gzip -dc "$OCI/blobs/sha256/$l" | wc -c)))
done
ARCHIVE_BYTES="$(stat -c %s "$WORK/xapi-image.tar")"
[ "$(json "$OCI/index.json" 'o.manifests[0].digest')" = "$DIGEST" ] || die "index.json names another manifest than $DIGEST"
# The runtime starts inside its own tree and finds its built-in modules (fetch loads undici's).
chroot "$ROOTFS" /usr/bin/node -e 'fetch("http://127.0.0.1:9/").catch(() => {}); new Intl.DateTimeFormat("en", { timeZone: "UTC" }).format(0)' \
  || die "node does not run in the trimmed root filesystem"
cp "$APP/licenses/packages.txt" "$WORK/npm-packages.txt"
dpkg-query --admindir="$ROOTFS/var/lib/dpkg" -W -f '${Package} ${Version}\n' > "$WORK/packages.txt"
cat > "$WORK/image.env" <<EOF
NAME=$NAME
TAG=$TAG
DIGEST=$DIGEST
SIZE_UNCOMPRESSED=$SIZE_UNCOMPRESSED
SIZE_COMPRESSED=$SIZE_COMPRESSED
ARCHIVE_BYTES=$ARCHIVE_BYTES
NODE_VERSION=$NODE_VERSION
SUITE=$SUITE
SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH
EOF
rm -rf "$OUT" && mkdir -p "$OUT"
mv "$OCI" "$WORK/xapi-image.tar" "$WORK/packages.txt" "$WORK/npm-packages.txt" "$OUT/"
mv "$WORK/image.env" "$OUT/image.env" # last: its presence marks a complete cache entry
# Each entry is ~150 MB (OCI layout + docker-archive): keep the three newest.
find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -type d ! -name '.build-*' -printf '%T@ %p\n' | sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -rf
report
