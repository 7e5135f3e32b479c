#!/usr/bin/env bash
# `npm run bench:image`: figures for the operator image (docs/image.md), not a test.
#   - cold build (empty image cache; Debian packages and npm tarballs still come from their
#     registries/caches) and warm build (same inputs: the cache answers)
#   - reproducibility: a second cold build of the same checkout must give the same digest; when
#     not, the files whose tar entries differ are listed
#   - size against a node:20-bookworm-slim base (~200 MB unpacked: an estimate, that image cannot
#     be pulled here)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

build() { # $1 = cache folder; prints "seconds folder"
  local t0 t1 dir
  t0=$(date +%s.%N)
  dir="$(XAPI_IMAGE_CACHE="$1" bash scripts/image.sh 2>"$1.log" | tail -n 1)" || { cat "$1.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v d="$dir" 'BEGIN { printf "%.1f %s\n", b - a, d }'
}
digest() { sed -n 's/^DIGEST=//p' "$1/image.env"; }

read -r cold1 dir1 < <(build "$work/c1")
cp "$work/c1.log" "$work/cold.log"
read -r warm dir1w < <(build "$work/c1")
read -r cold2 dir2 < <(build "$work/c2")
grep -h "^\[image\] phase" "$work/cold.log" | sed 's/^/  cold build: /'

# shellcheck disable=SC1091
. "$dir1/image.env"
d1="$(digest "$dir1")"; d2="$(digest "$dir2")"
echo "operator image $NAME, nodejs $NODE_VERSION (Debian $SUITE), $(wc -l < "$dir1/packages.txt") Debian packages"
echo "build: cold ${cold1} s, warm ${warm} s (cache hit: $([ "$dir1" = "$dir1w" ] && echo yes || echo no)), second cold ${cold2} s"
awk -v u="$SIZE_UNCOMPRESSED" -v c="$SIZE_COMPRESSED" 'BEGIN {
  printf "size: %.1f MB unpacked (%.1f MiB), %.1f MB compressed; %.2f x a node:20-bookworm-slim base (~200 MB, estimate)\n", u / 1e6, u / 1048576, c / 1e6, u / 200e6 }'
if [ "$d1" = "$d2" ]; then
  echo "reproducible: yes, two cold builds gave $d1"
else
  echo "reproducible: NO, $d1 vs $d2; differing layer entries:"
  for d in "$dir1" "$dir2"; do
    for l in "$d"/oci/blobs/sha256/*; do
      if gzip -t "$l" 2>/dev/null; then tar -tvzf "$l" --full-time; fi
    done | sort > "$d.entries"
  done
  diff "$dir1.entries" "$dir2.entries" | head -n 40 || true
fi
