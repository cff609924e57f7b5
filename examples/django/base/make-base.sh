#!/usr/bin/env bash
# Makes a stand-in for debian:bookworm-slim, for machines that cannot pull
# from Docker Hub: a minimal Debian bookworm made with debootstrap, turned
# into an OCI image layout by forge. Prints the layout's directory.
#
#   make-base.sh [DIR]     (default: $XDG_CACHE_HOME/forge/examples/bookworm-slim)
#
# The layout is cached: a second run reuses it. Pass it to the example as
#   --var base_layout=DIR      or      FORGE_VAR_base_layout=DIR
# Needs root (debootstrap) and forge (set FORGE to its path if it is not on
# PATH). On a machine that can pull debian:bookworm-slim none of this is
# needed.
set -euo pipefail

out=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/forge/examples/bookworm-slim}
forge=${FORGE:-forge}

if [ -f "$out/index.json" ]; then
  echo "$out"
  exit 0
fi

if ! command -v debootstrap >/dev/null; then
  echo "make-base.sh: debootstrap is missing (apt-get install debootstrap)" >&2
  exit 1
fi

# The mirror this machine's apt uses, which builds will reach too.
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "make-base.sh: debootstrap bookworm from $mirror (about a minute)" >&2
debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -20 "$work/debootstrap.log" >&2
  exit 1
}
rm -rf "$work/rootfs/dev/"* "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin

cat >"$work/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
CMD ["bash"]
DOCKERFILE
cat >"$work/forge.hcl" <<'HCL'
image "bookworm_slim" {
  tags = ["debian:bookworm-slim"]
}
HCL

mkdir -p "$(dirname "$out")"
"$forge" build -f "$work/forge.hcl" --progress plain --manifest "$work/manifest.json" \
  --output "type=oci,dest=$out.tmp,tar=false" >&2
mv "$out.tmp" "$out"
echo "$out"
