#!/bin/sh
# Prepares Temporal's Postgres databases, then (once the server answers) its namespace. One script for
# docker-compose.yml (in temporalio/admin-tools, whose shell is busybox sh: POSIX only here) and the cluster
# test (tools built from Temporal's Go module). Idempotent: run it at every start.
#   setup.sh schema      create both databases if missing, set up or update their schemas
#   setup.sh namespace   register the namespace if missing
set -eu

SQL_TOOL=${SQL_TOOL:-temporal-sql-tool}
TEMPORAL_CLI=${TEMPORAL_CLI:-temporal}
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
NAMESPACE=${NAMESPACE:-default}
RETENTION=${NAMESPACE_RETENTION:-72h}

sql() { # $1: database; the rest: the tool's command and its options
  db=$1
  shift
  "$SQL_TOOL" --plugin postgres12 --ep "${POSTGRES_SEEDS:-postgresql}" -p "${DB_PORT:-5432}" \
    -u "${POSTGRES_USER:-temporal}" --pw "${POSTGRES_PWD:-temporal}" --db "$db" "$@"
}

case "${1:-}" in
  schema)
    for pair in "${TEMPORAL_DB:-temporal}:temporal" "${VISIBILITY_DB:-temporal_visibility}:visibility"; do
      db=${pair%%:*}
      dir=${pair##*:}
      sql "$db" create-database >/dev/null 2>&1 || true # exists already (or unreachable: the next step says so)
      sql "$db" setup-schema -v 0.0
      sql "$db" update-schema -d "$SCHEMA_DIR/$dir/versioned"
    done
    ;;
  namespace)
    address=${TEMPORAL_ADDRESS:-temporal:7233}
    tries=0
    until "$TEMPORAL_CLI" operator cluster health --address "$address" >/dev/null 2>&1; do
      tries=$((tries + 1))
      [ "$tries" -lt 60 ] || { echo "Temporal at $address did not become healthy" >&2; exit 1; }
      sleep 1
    done
    "$TEMPORAL_CLI" operator namespace describe --address "$address" --namespace "$NAMESPACE" >/dev/null 2>&1 ||
      "$TEMPORAL_CLI" operator namespace create --address "$address" --namespace "$NAMESPACE" --retention "$RETENTION"
    ;;
  *)
    echo "usage: $0 schema|namespace" >&2
    exit 2
    ;;
esac
