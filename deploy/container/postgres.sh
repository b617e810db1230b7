#!/bin/sh
# PostgreSQL of deploy/compose.yaml: initialise the cluster once (role and database "careops",
# password from $POSTGRES_PASSWORD_FILE), then run the server in the foreground as postgres.
set -eu
data=/var/lib/postgresql/data
mkdir -p "$data" /run/postgresql
chown postgres:postgres "$data" /run/postgresql
chmod 0700 "$data"
if [ ! -s "$data/PG_VERSION" ]; then
  su postgres -s /bin/sh -c "initdb -D $data --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8" >/dev/null
  echo "listen_addresses = '*'" >> "$data/postgresql.conf"
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$data/pg_hba.conf"
  password=$(cat "$POSTGRES_PASSWORD_FILE")
  su postgres -s /bin/sh -c "postgres --single -D $data postgres" >/dev/null <<SQL
CREATE ROLE careops LOGIN PASSWORD '$password';
CREATE DATABASE careops OWNER careops;
SQL
fi
exec su postgres -s /bin/sh -c "exec postgres -D $data"
