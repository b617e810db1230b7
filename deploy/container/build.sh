#!/bin/sh
# Build careops' image without any image registry:
#   1. a Debian bookworm root file system by mmdebstrap from Debian's archive, imported by
#      podman as $CAREOPS_BASE_IMAGE (done once; delete the image to rebuild it);
#   2. wheels of careops and its pinned dependencies, built here with pip;
#   3. `podman build` of deploy/Containerfile with chroot isolation (it works where an OCI
#      runtime cannot, e.g. in a sandbox; it cannot isolate the network, hence --network host,
#      but the build installs from the wheels only: pip --no-index).
# Environment: CAREOPS_IMAGE (localhost/careops:latest), CAREOPS_BASE_IMAGE
# (localhost/careops-base:bookworm), DEBIAN_MIRROR, PYTHON (python3 with pip), PODMAN_OPTS
# (e.g. "--storage-driver vfs --cgroup-manager cgroupfs" inside a container or sandbox).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
deploy=$(dirname "$here")
root=$(dirname "$deploy")
image=${CAREOPS_IMAGE:-localhost/careops:latest}
base=${CAREOPS_BASE_IMAGE:-localhost/careops-base:bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
python=${PYTHON:-python3}
# shellcheck disable=SC2086  # PODMAN_OPTS is a list of options
podman() { command podman ${PODMAN_OPTS:-} "$@"; }

mkdir -p "$deploy/build"
if ! podman image exists "$base"; then
  packages=$(sed -e 's/#.*//' "$here/base-packages.txt" | tr -s ' \n' ',' | sed -e 's/^,//' -e 's/,$//')
  mmdebstrap --variant=minbase --include="$packages" bookworm "$deploy/build/base.tar" "$mirror"
  podman import "$deploy/build/base.tar" "$base"
  rm -f "$deploy/build/base.tar"
fi
rm -rf "$deploy/build/wheels"
"$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$deploy/build/wheels" "$root"
rm -rf "$root/build"  # setuptools' scratch folder of the careops wheel
# Debian bookworm's Python is 3.11.2: redis then also needs async-timeout (its marker is
# python_full_version < "3.11.3"), which a newer build Python does not resolve.
"$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$deploy/build/wheels" \
  "async-timeout>=4.0.3"
podman build --isolation chroot --network host --format docker --layers=false \
  --build-arg "BASE=$base" \
  -f "$deploy/Containerfile" -t "$image" "$deploy"
echo "careops image: $image"
