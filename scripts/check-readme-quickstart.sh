#!/usr/bin/env bash
# The README's Quickstart, checked: clones this repository's HEAD into a temporary
# folder and runs the first command exactly as the README shows it between the
# `<!-- quickstart:run -->` markers (then the search between `quickstart:search`),
# read from the clone's own README so the check and the README cannot drift. The
# second command (`quickstart:test`, `npm test`) is what .ci/run runs anyway; this
# only checks that the README still says so.
#
# The environment is taken as it is: in CI DATABASE_URL and REDIS_URL are unset, so
# the run must use the embedded database and the Postgres queue (checked on `run`'s
# first line); with them set it runs against those servers (the database must be
# migrated). HOME is a temporary folder (npm's cache is kept), SLUICE_HOME is unset
# so the README's default (./.sluice in the clone) applies.
# Needs Node >= 22.18 on PATH and git. Usage: bash scripts/check-readme-quickstart.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() {
  echo "check-readme-quickstart: FAILED: $*" >&2
  exit 1
}

# The lines of a fenced block between <!-- quickstart:NAME --> and <!-- /quickstart:NAME -->.
block() {
  awk -v start="<!-- quickstart:$1 -->" -v end="<!-- /quickstart:$1 -->" '
    $0 == start { inside = 1; next }
    $0 == end { inside = 0 }
    inside && !/^```/ { print }
  ' "$2"
}

git clone --quiet "$root" "$work/sluice"
cd "$work/sluice"
readme="$work/sluice/README.md"
run_cmd="$(block run "$readme")"
search_cmd="$(block search "$readme")"
test_cmd="$(block test "$readme")"
[ "$(printf '%s\n' "$run_cmd" | wc -l)" = 1 ] && [ -n "$run_cmd" ] || fail "no one-line quickstart:run command in README.md"
[ -n "$search_cmd" ] || fail "no quickstart:search command in README.md"
[ "$test_cmd" = "npm test" ] || fail "README's second command is '$test_cmd', not 'npm test' (.ci/run runs npm test)"

export npm_config_cache="${npm_config_cache:-$HOME/.npm}"
export HOME="$work/home"
mkdir -p "$HOME"
unset SLUICE_HOME
export ONNXRUNTIME_NODE_INSTALL=skip
echo "check-readme-quickstart: in $work/sluice: $run_cmd" >&2
set +e
timeout 900 bash -c "$run_cmd" >"$work/run.out" 2>"$work/run.err"
code=$?
set -e
[ "$code" = 0 ] || fail "'$run_cmd' exited $code: $(tail -20 "$work/run.err")"
modes="$(grep -m1 '^database: ' "$work/run.err" || true)"
[ -n "$modes" ] || fail "run printed no modes line: $(head -5 "$work/run.err")"
if [ -z "${DATABASE_URL:-}" ]; then
  [[ "$modes" == "database: embedded ("* ]] || fail "DATABASE_URL unset, but: $modes"
fi
if [ -z "${REDIS_URL:-}" ]; then
  [[ "$modes" == *"queue: postgres ("* ]] || fail "REDIS_URL unset, but: $modes"
fi
docs="$(find examples -type f ! -name '.*' | wc -l)"
grep -q "^this run: $docs done" "$work/run.err" ||
  fail "not all $docs files of examples/ ended done: $(grep '^this run' "$work/run.err")"

out="$(timeout 120 bash -c "$search_cmd")" || fail "'$search_cmd' failed"
echo "$out" | head -2 | grep -q 'examples/word-processor-history.pdf' ||
  fail "'$search_cmd' did not find examples/word-processor-history.pdf first: $out"
echo "check-readme-quickstart: ok ($modes; $docs documents done; the search finds the typewriter's inventor)" >&2
