#!/usr/bin/env bash
# mmdebstrap --extract-hook of scripts/image.sh: runs on the host once the packages of the
# dependency closure of nodejs are extracted into the root filesystem "$1" (nothing is installed:
# no maintainer script runs, so no shell is needed in the image).
#  - base-files (/etc/os-release, the merged-/usr symlinks, the folder layout) and ca-certificates
#    (the Mozilla CA bundle that Debian's node reads) are extracted WITHOUT their dependencies:
#    base-files pre-depends on awk and ca-certificates depends on openssl + debconf + perl only
#    for their maintainer scripts, which never run here.
#  - /var/lib/dpkg/status records every package extracted, so `dpkg-query --admindir` and image
#    scanners see what the image holds.
set -euo pipefail
root="$1"
: "${MMDEBSTRAP_APT_CONFIG:?run by mmdebstrap only}"

extra="$(mktemp -d)"
trap 'rm -rf "$extra"' EXIT
(cd "$extra" && APT_CONFIG="$MMDEBSTRAP_APT_CONFIG" apt-get download -q base-files ca-certificates >&2)

debs=()
for f in ${MMDEBSTRAP_ESSENTIAL:-}; do debs+=("$root$f"); done
for f in "$extra"/*.deb; do
  dpkg-deb --extract "$f" "$root"
  debs+=("$f")
done

# The CA bundle update-ca-certificates would write: every certificate Debian ships, sorted.
mkdir -p "$root/etc/ssl/certs"
find "$root/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | xargs cat > "$root/etc/ssl/certs/ca-certificates.crt"
rm -rf "$root/usr/share/ca-certificates" "$root/usr/sbin/update-ca-certificates" "$root/etc/ca-certificates" "$root/etc/ca-certificates.conf"

# dpkg status: each package's control fields plus the Status line, sorted by package name.
mkdir -p "$root/var/lib/dpkg"
for f in "${debs[@]}"; do
  dpkg-deb --field "$f" | awk 'NR == 1 { print; print "Status: install ok installed"; next } { print }'
  echo
done | awk -v RS= -v ORS='\n\n' '{ print }' > "$root/var/lib/dpkg/status.unsorted"
# sort the stanzas by their first line (Package: NAME)
awk -v RS= '{ gsub(/\n/, "\001"); print }' "$root/var/lib/dpkg/status.unsorted" | LC_ALL=C sort | awk '{ gsub(/\001/, "\n"); print; print "" }' > "$root/var/lib/dpkg/status"
rm "$root/var/lib/dpkg/status.unsorted"
