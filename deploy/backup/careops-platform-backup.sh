#!/bin/sh
# careops backs itself up (docs/platform-storage.md): a platform backup into a staging folder,
# then a restic snapshot of it. Run by careops-platform-backup.timer as the careops account.
#
# Environment (from /etc/careops/platform-backup.env, see careops-platform-backup.service):
#   CAREOPS_BACKUP_STAGING   staging folder, emptied and rewritten each run (default below)
#   RESTIC_REPOSITORY        the restic repository (local path, s3:https://…, sftp:…)
#   RESTIC_PASSWORD_FILE     its password, in a 0600 file
#   CAREOPS_RESTIC_KEEP      retention passed to restic forget (default: 7 daily, 5 weekly, 12 monthly)
# plus the usual CAREOPS_* settings of the installation (database, evidence store, key).
set -eu

STAGING="${CAREOPS_BACKUP_STAGING:-/var/lib/careops/platform-backup}"
KEEP="${CAREOPS_RESTIC_KEEP:---keep-daily 7 --keep-weekly 5 --keep-monthly 12}"
CAREOPS="${CAREOPS_BIN:-careops}"

umask 077
rm -rf -- "$STAGING"
"$CAREOPS" platform backup "$STAGING"
"$CAREOPS" platform check "$STAGING"
# "." from inside the staging folder: snapshots hold the same relative paths every day.
cd "$STAGING"
restic backup --host careops --tag platform .
# shellcheck disable=SC2086  # KEEP is a list of options
restic forget --host careops --tag platform --prune $KEEP
