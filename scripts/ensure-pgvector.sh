#!/usr/bin/env bash
# Builds and installs pgvector from Debian's source package when the local
# PostgreSQL cannot `CREATE EXTENSION vector`. Uses a private apt config so the
# system's sources are never touched. Idempotent: exits at once when available.
set -euo pipefail
PGURL="${PGVECTOR_CHECK_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
if psql "$PGURL" -tAc "select 1 from pg_available_extensions where name='vector'" 2>/dev/null | grep -q 1; then
  echo "ensure-pgvector: vector extension already available" >&2
  exit 0
fi
PGMAJOR="$(psql "$PGURL" -tAc 'show server_version_num' | cut -c1-2)"
echo "ensure-pgvector: building pgvector for PostgreSQL $PGMAJOR from Debian source" >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/apt/lists/partial" "$work/apt/sources.list.d" "$work/apt/cache/archives/partial"
echo "deb-src http://deb.debian.org/debian trixie main" > "$work/apt/sources.list"
APTOPTS=(-o "Dir::Etc::sourcelist=$work/apt/sources.list" -o "Dir::Etc::sourceparts=$work/apt/sources.list.d"
  -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o "APT::Get::List-Cleanup=0")
apt-get "${APTOPTS[@]}" update -qq
(cd "$work" && apt-get "${APTOPTS[@]}" source --download-only pgvector -qq && dpkg-source -x pgvector_*.dsc src >/dev/null)
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-server-dev-$PGMAJOR" make gcc >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-server-dev-$PGMAJOR" make gcc >/dev/null
fi
make -C "$work/src" -s PG_CONFIG="/usr/lib/postgresql/$PGMAJOR/bin/pg_config" >/dev/null
make -C "$work/src" -s PG_CONFIG="/usr/lib/postgresql/$PGMAJOR/bin/pg_config" install >/dev/null
echo "ensure-pgvector: installed $(psql "$PGURL" -tAc "select default_version from pg_available_extensions where name='vector'")" >&2
