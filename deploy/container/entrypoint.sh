#!/bin/sh
# careops container entry point: `serve` (default), `worker …`, `scheduler`, or any careops
# command (`migrate`, `createsuperuser`, `check --deploy`…).
# CAREOPS_MIGRATE_ON_START=1 (single-node or demo installs only): before serving, apply the
# migrations and load the referential. With several web nodes, run `migrate` once, as a job,
# during the upgrade procedure (docs/deployment.md) instead.
set -eu
if [ "$#" -eq 0 ]; then
  set -- serve
fi
if [ "${CAREOPS_MIGRATE_ON_START:-0}" = "1" ] && [ "$1" = "serve" ]; then
  careops migrate --noinput
  careops catalogue load
fi
exec careops "$@"
