#!/bin/bash
# Warta's editorial database, next to Airflow's metadata DB in the same PostgreSQL.
# The postgres image runs this once, when its data volume is new (mounted into
# /docker-entrypoint-initdb.d by docker-compose.yaml): it creates the login role `warta`
# with the password from WARTA_DB_PASSWORD and the database `warta` owned by it.
# `warta db upgrade` (airflow-init) then creates the tables.
#
# Changing WARTA_DB_PASSWORD later does not re-run this; see README "Rotate credentials":
#   docker compose exec postgres psql -U airflow -d airflow \
#     -c "ALTER ROLE warta PASSWORD 'new-password'"
set -euo pipefail

if [ -z "${WARTA_DB_PASSWORD:-}" ]; then
  echo "create-warta-db.sh: WARTA_DB_PASSWORD is not set" >&2
  exit 1
fi

# The password goes in as a psql variable (:'name' quotes it), never spliced into SQL text.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v warta_password="$WARTA_DB_PASSWORD" <<'EOSQL'
CREATE ROLE warta LOGIN PASSWORD :'warta_password';
CREATE DATABASE warta OWNER warta ENCODING 'UTF8';
REVOKE ALL ON DATABASE warta FROM PUBLIC;
EOSQL
