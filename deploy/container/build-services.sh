#!/bin/sh
# Build localhost/careops-services:bookworm (PostgreSQL, Redis, moto S3) for deploy/compose.yaml,
# FROM the base image of build.sh (run that first). Its apt-get step needs Debian's archive.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
deploy=$(dirname "$here")
base=${CAREOPS_BASE_IMAGE:-localhost/careops-base:bookworm}
python=${PYTHON:-python3}
# shellcheck disable=SC2086
podman() { command podman ${PODMAN_OPTS:-} "$@"; }
rm -rf "$deploy/build/services-wheels"
"$python" -m pip wheel --quiet --disable-pip-version-check --wheel-dir "$deploy/build/services-wheels" "moto[server]==5.2.5"
podman build --isolation chroot --network host --build-arg "BASE=$base" \
  -f "$here/Containerfile.services" -t localhost/careops-services:bookworm "$deploy"
