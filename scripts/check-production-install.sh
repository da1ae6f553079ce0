#!/usr/bin/env bash
# The Docker image's path, without Docker: copy what the Dockerfile copies into a
# clean folder, install with `npm ci --omit=dev --omit=optional` (the image's
# default), then run --help, migrate, a worker with `ingest --wait`, and a search.
# Also checks that choosing the left-out `local` embedder is one clear line.
# Needs Node >= 22.18 on PATH and the Postgres/Redis that .ci/run starts.
# Usage: bash scripts/check-production-install.sh
set -euo pipefail
# Every command runs under `timeout`: a command that hangs must fail CI, not stall it.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
tag="prodcheck_$$"
admin_url="${TEST_ADMIN_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
export DATABASE_URL="${admin_url%/*}/$tag"
export SLUICE_QUEUE_PREFIX="$tag" SLUICE_COLLECTION=prodcheck SLUICE_LOG_LEVEL=warn
worker_pid=""

cleanup() {
  [ -n "$worker_pid" ] && kill "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $tag WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$REDIS_URL" --scan --pattern "$tag:*" | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "check-production-install: FAILED: $*" >&2
  exit 1
}

cd "$root"
cp package.json package-lock.json .npmrc "$work/"
cp -r bin src migrations "$work/"
cd "$work"
echo "check-production-install: npm ci --omit=dev --omit=optional in $work" >&2
ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --omit=optional --no-audit --no-fund --loglevel=error
[ ! -e node_modules/vitest ] || fail "dev dependencies were installed"
[ ! -e node_modules/@huggingface/transformers ] || fail "the optional local embedder was installed"

timeout 60 node bin/sluice.js --help | grep -q 'Usage: sluice' || fail "--help"
psql -q "$admin_url" -c "CREATE DATABASE $tag" >/dev/null
timeout 60 node bin/sluice.js migrate || fail "migrate"

node bin/sluice.js worker &
worker_pid=$!
timeout 300 node bin/sluice.js ingest "$root/test/fixtures/md/docling-wiki.md" "$root/test/fixtures/txt/deb-dedication-9.0.txt" --wait --timeout 180 ||
  fail "ingest --wait with a worker"
out="$(timeout 60 node bin/sluice.js search "International Business Machines" -k 3)" || fail "search"
echo "$out" | grep -q 'docling-wiki.md' || fail "search found nothing from the ingested file: $out"

set +e
# (ingest, not search: search embeds queries as the collection was built, whatever is configured)
msg="$(SLUICE_EMBEDDER=local timeout 60 node bin/sluice.js ingest "$root/test/fixtures/txt/deb-dedication-9.0.txt" --collection local_check 2>&1)"
code=$?
set -e
[ "$code" = 2 ] || fail "SLUICE_EMBEDDER=local without the optional package exited $code, not 2: $msg"
echo "$msg" | grep -q 'npm install @huggingface/transformers' || fail "no install hint for local: $msg"
[ "$(echo "$msg" | wc -l)" = 1 ] || fail "more than one line for a missing optional provider: $msg"
echo "check-production-install: ok (--help, migrate, worker + ingest --wait, search, missing optional provider)" >&2
